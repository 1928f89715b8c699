//! Proxy cache configurations in the database.

use async_trait::async_trait;
use quay_core::account::NamespaceId;
use quay_core::audit::AuditEntry;
use quay_core::ports::ProxyCacheStore;
use quay_core::proxy::ProxyCache;
use sea_orm::FromQueryResult;

use super::{SqlMetadata, audit};
use crate::error::OrStorage;

#[derive(FromQueryResult)]
struct ProxyCacheRow {
    upstream_registry: String,
    expiration_s: Option<i64>,
    insecure: bool,
}

#[async_trait]
impl ProxyCacheStore for SqlMetadata {
    async fn proxy_cache(&self, namespace: NamespaceId) -> quay_core::Result<Option<ProxyCache>> {
        let row = ProxyCacheRow::find_by_statement(self.statement(
            "SELECT upstream_registry, expiration_s, insecure FROM proxy_cache_config
             WHERE namespace_id = $1",
            [namespace.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        Ok(row.map(|row| ProxyCache {
            upstream_registry: row.upstream_registry,
            expiration_s: row
                .expiration_s
                .and_then(|seconds| u64::try_from(seconds).ok()),
            insecure: row.insecure,
        }))
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
