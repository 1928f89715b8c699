//! Proxy cache configurations in the database.

use async_trait::async_trait;
use quay_core::account::NamespaceId;
use quay_core::audit::AuditEntry;
use quay_core::names::{Namespace, TagName};
use quay_core::ports::ProxyCacheStore;
use quay_core::ports::{Repository, RepositoryId};
use quay_core::proxy::ProxyCache;
use sea_orm::FromQueryResult;

use super::repository_row::stored_state;
use super::{SqlMetadata, audit, stored_path};
use crate::error::{OrStorage, StorageError};

#[derive(FromQueryResult)]
struct ProxyCacheRow {
    namespace_id: i64,
    upstream_registry: String,
    expiration_s: Option<i64>,
    insecure: bool,
}

impl ProxyCacheRow {
    fn into_cache(self) -> ProxyCache {
        ProxyCache {
            upstream_registry: self.upstream_registry,
            expiration_s: self
                .expiration_s
                .and_then(|seconds| u64::try_from(seconds).ok()),
            insecure: self.insecure,
        }
    }
}

#[derive(FromQueryResult)]
struct TagOfRepository {
    repository_id: i64,
    namespace_id: i64,
    namespace_name: String,
    repository_name: String,
    repository_state: String,
    name: String,
}

#[derive(FromQueryResult)]
struct CredentialsRow {
    credentials: Option<String>,
}

#[async_trait]
impl ProxyCacheStore for SqlMetadata {
    async fn proxy_cache(&self, namespace: NamespaceId) -> quay_core::Result<Option<ProxyCache>> {
        let row = ProxyCacheRow::find_by_statement(self.statement(
            "SELECT namespace_id, upstream_registry, expiration_s, insecure
             FROM proxy_cache_config WHERE namespace_id = $1",
            [namespace.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        Ok(row.map(ProxyCacheRow::into_cache))
    }

    async fn proxy_cache_named(
        &self,
        name: &Namespace,
    ) -> quay_core::Result<Option<(NamespaceId, ProxyCache)>> {
        let row = ProxyCacheRow::find_by_statement(self.statement(
            "SELECT c.namespace_id, c.upstream_registry, c.expiration_s, c.insecure
             FROM proxy_cache_config c JOIN namespace n ON n.id = c.namespace_id
             WHERE n.name = $1",
            [name.as_str().into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        Ok(row.map(|row| (row.namespace_id, row.into_cache())))
    }

    async fn least_recently_pulled_tag(
        &self,
        namespace: NamespaceId,
        keep: Option<(RepositoryId, &TagName)>,
        pulled_before_ms: i64,
        now_ms: i64,
    ) -> quay_core::Result<Option<(Repository, TagName)>> {
        let row = TagOfRepository::find_by_statement(self.statement(
            "SELECT t.repository_id AS repository_id, n.id AS namespace_id,
                    n.name AS namespace_name, r.name AS repository_name, r.state AS repository_state,
                    t.name AS name
             FROM tag t
             JOIN repository r ON r.id = t.repository_id
             JOIN namespace n ON n.id = r.namespace_id
             LEFT JOIN proxy_tag_pull p ON p.repository_id = t.repository_id AND p.name = t.name
             WHERE r.namespace_id = $1 AND t.hidden = $2 AND t.immutable = $2
               AND t.lifetime_start_ms <= $3 AND t.lifetime_end_ms > $3
               AND COALESCE(p.pulled_ms, t.lifetime_start_ms) < $4
               AND NOT (t.repository_id = $5 AND t.name = $6)
             ORDER BY COALESCE(p.pulled_ms, t.lifetime_start_ms), t.id
             LIMIT 1",
            [
                namespace.into(),
                false.into(),
                now_ms.into(),
                pulled_before_ms.into(),
                // Nothing of that id: nothing left out.
                keep.map_or(0, |(repository, _)| repository).into(),
                keep.map_or("", |(_, tag)| tag.as_str()).into(),
            ],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        row.map(|row| {
            let tag = TagName::parse(&row.name)
                .map_err(|_| StorageError::CorruptMetadata(format!("tag name {:?}", row.name)))?;
            let repository = Repository {
                id: row.repository_id,
                namespace: row.namespace_id,
                path: stored_path(&row.namespace_name, &row.repository_name)?,
                state: stored_state(row.repository_id, &row.repository_state)?,
            };
            Ok((repository, tag))
        })
        .transpose()
    }

    async fn sealed_upstream_credentials(
        &self,
        namespace: NamespaceId,
    ) -> quay_core::Result<Option<String>> {
        let row = CredentialsRow::find_by_statement(self.statement(
            "SELECT credentials FROM proxy_cache_config WHERE namespace_id = $1",
            [namespace.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        Ok(row.and_then(|row| row.credentials))
    }

    async fn add_proxy_cache(
        &self,
        namespace: NamespaceId,
        cache: &ProxyCache,
        sealed_credentials: Option<&str>,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        let txn = self.write_transaction().await.or_storage()?;
        let added = self
            .execute(
                &txn,
                "INSERT INTO proxy_cache_config
                     (namespace_id, upstream_registry, credentials, expiration_s, insecure)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (namespace_id) DO NOTHING",
                [
                    namespace.into(),
                    cache.upstream_registry.as_str().into(),
                    sealed_credentials.into(),
                    cache
                        .expiration_s
                        .and_then(|seconds| i64::try_from(seconds).ok())
                        .into(),
                    cache.insecure.into(),
                ],
            )
            .await?
            == 1;
        if added {
            audit::record(&txn, [audit]).await?;
        }
        txn.commit().await.or_storage()?;
        Ok(added)
    }

    async fn delete_proxy_cache(
        &self,
        namespace: NamespaceId,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        let txn = self.write_transaction().await.or_storage()?;
        let deleted = self
            .execute(
                &txn,
                "DELETE FROM proxy_cache_config WHERE namespace_id = $1",
                [namespace.into()],
            )
            .await?
            > 0;
        if deleted {
            audit::record(&txn, [audit]).await?;
        }
        txn.commit().await.or_storage()?;
        Ok(deleted)
    }
}
