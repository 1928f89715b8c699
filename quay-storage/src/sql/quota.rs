//! Quotas and their limits in the database, and the sizes they are held to (kept by
//! [`super::sizes`]).

use std::collections::HashMap;

use async_trait::async_trait;
use quay_core::Error;
use quay_core::account::{NamespaceId, NamespaceKind};
use quay_core::audit::AuditEntry;
use quay_core::events::{Event, QuotaUsage, Site};
use quay_core::names::Namespace;
use quay_core::ports::{QuotaStore, RegistrySize, Repository, RepositoryId};
use quay_core::quota::{
    BackfillStatus, LimitKind, NamespaceQuota, NamespaceSize, QuotaLimit, Reached, SizeDifference,
};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::notifications::Notice;
use super::outbox::EventSource;
use super::sizes::OwnerSize;
use super::{SqlMetadata, audit, signed, unsigned};
use crate::error::{OrStorage, StorageError};

#[derive(FromQueryResult)]
struct QuotaRow {
    id: i64,
    limit_bytes: i64,
    limit_id: Option<i64>,
    kind: Option<String>,
    threshold_percent: Option<i32>,
}

#[derive(FromQueryResult)]
struct SizeRow {
    size_bytes: i64,
    backfill_start_ms: Option<i64>,
    backfill_complete: bool,
}

#[derive(FromQueryResult)]
struct NamespaceName {
    id: i64,
    name: String,
}

#[derive(FromQueryResult)]
struct NamespaceRow {
    name: String,
    kind: String,
}

impl SqlMetadata {
    pub(super) async fn quota_of(
        &self,
        conn: &impl ConnectionTrait,
        namespace: NamespaceId,
    ) -> quay_core::Result<Option<NamespaceQuota>> {
        let rows = QuotaRow::find_by_statement(self.statement(
            "SELECT q.id AS id, q.limit_bytes AS limit_bytes, l.id AS limit_id, l.kind AS kind,
                    l.threshold_percent AS threshold_percent
             FROM quota q LEFT JOIN quota_limit l ON l.quota_id = q.id
             WHERE q.namespace_id = $1 ORDER BY l.id",
            [namespace.into()],
        ))
        .all(conn)
        .await
        .or_storage()?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let mut quota = NamespaceQuota {
            id: first.id,
            namespace,
            limit_bytes: unsigned(first.limit_bytes, "quota")?,
            limits: Vec::new(),
        };
        for row in &rows {
            if let (Some(id), Some(kind), Some(percent)) =
                (row.limit_id, &row.kind, row.threshold_percent)
            {
                let corrupt = || StorageError::CorruptMetadata(format!("quota limit {id}"));
                let kind = LimitKind::parse(kind).map_err(|_| corrupt())?;
                let limit = QuotaLimit::new(kind, i64::from(percent)).map_err(|_| corrupt())?;
                quota.limits.push((id, limit));
            }
        }
        Ok(Some(quota))
    }
}

#[async_trait]
impl QuotaStore for SqlMetadata {
    async fn namespace_quota(
        &self,
        namespace: NamespaceId,
    ) -> quay_core::Result<Option<NamespaceQuota>> {
        self.quota_of(&self.db, namespace).await
    }

    async fn namespace_size(&self, namespace: NamespaceId) -> quay_core::Result<NamespaceSize> {
        let row = SizeRow::find_by_statement(self.statement(
            "SELECT size_bytes, backfill_start_ms, backfill_complete FROM quota_namespace_size
             WHERE namespace_id = $1",
            [namespace.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        Ok(match row {
            Some(row) if row.backfill_complete => NamespaceSize {
                bytes: unsigned(row.size_bytes, "namespace size")?,
                backfill: BackfillStatus::Complete,
            },
            Some(row) if row.backfill_start_ms.is_some() => NamespaceSize {
                bytes: 0,
                backfill: BackfillStatus::Running,
            },
            _ => NamespaceSize {
                bytes: 0,
                backfill: BackfillStatus::Waiting,
            },
        })
    }

    async fn repository_sizes(
        &self,
        repositories: &[RepositoryId],
    ) -> quay_core::Result<HashMap<RepositoryId, u64>> {
        if repositories.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = OwnerSize::find_by_statement(self.statement(
            &format!(
                "SELECT r.id AS id, COALESCE(q.size_bytes, 0) AS bytes
                 FROM repository r
                 JOIN quota_namespace_size s ON s.namespace_id = r.namespace_id
                                            AND s.backfill_complete
                 LEFT JOIN quota_repository_size q ON q.repository_id = r.id
                 WHERE r.id IN ({})",
                super::placeholders(1, repositories.len())
            ),
            repositories.iter().map(|id| Value::from(*id)),
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| Ok((row.id, unsigned(row.bytes, "repository size")?)))
            .collect()
    }

    async fn upload_usage(
        &self,
        repository: &Repository,
    ) -> quay_core::Result<Option<(u64, Option<NamespaceQuota>)>> {
        let row = OwnerSize::find_by_statement(self.statement(
            "SELECT s.namespace_id AS id,
                    CAST(s.size_bytes + (SELECT COALESCE(SUM(u.size), 0) FROM blob_upload u
                                         WHERE u.repository_id = $2) AS BIGINT) AS bytes
             FROM quota_namespace_size s WHERE s.namespace_id = $1 AND s.backfill_complete",
            [repository.namespace.into(), repository.id.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        let Some(row) = row else { return Ok(None) };
        let quota = self.quota_of(&self.db, repository.namespace).await?;
        Ok(Some((unsigned(row.bytes, "namespace size")?, quota)))
    }

    async fn create_quota(
        &self,
        namespace: NamespaceId,
        limit_bytes: u64,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        let inserted = self
            .execute(
                &txn,
                "INSERT INTO quota (namespace_id, limit_bytes) VALUES ($1, $2)
                 ON CONFLICT (namespace_id) DO NOTHING",
                [namespace.into(), signed(limit_bytes).into()],
            )
            .await?;
        if inserted == 0 {
            return Err(Error::AlreadyExists("the namespace has a quota".into()));
        }
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }

    async fn change_quota(
        &self,
        quota: i64,
        limit_bytes: u64,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        self.change_with_audit(
            "UPDATE quota SET limit_bytes = $2 WHERE id = $1",
            [quota.into(), signed(limit_bytes).into()],
            audit,
        )
        .await
    }

    async fn delete_quota(&self, quota: i64, audit: AuditEntry) -> quay_core::Result<()> {
        self.change_with_audit("DELETE FROM quota WHERE id = $1", [quota.into()], audit)
            .await
    }

    async fn create_quota_limit(
        &self,
        quota: i64,
        limit: QuotaLimit,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        self.change_with_audit(
            "INSERT INTO quota_limit (quota_id, kind, threshold_percent) VALUES ($1, $2, $3)",
            [
                quota.into(),
                limit.kind.as_str().into(),
                i32::from(limit.threshold_percent).into(),
            ],
            audit,
        )
        .await
    }

    async fn change_quota_limit(
        &self,
        limit: i64,
        to: QuotaLimit,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        self.change_with_audit(
            "UPDATE quota_limit SET kind = $2, threshold_percent = $3 WHERE id = $1",
            [
                limit.into(),
                to.kind.as_str().into(),
                i32::from(to.threshold_percent).into(),
            ],
            audit,
        )
        .await
    }

    async fn delete_quota_limit(&self, limit: i64, audit: AuditEntry) -> quay_core::Result<()> {
        self.change_with_audit(
            "DELETE FROM quota_limit WHERE id = $1",
            [limit.into()],
            audit,
        )
        .await
    }

    async fn record_quota_reached(
        &self,
        namespace: NamespaceId,
        reached: Reached,
        audit: AuditEntry,
        site: &Site,
        now_ms: i64,
    ) -> quay_core::Result<()> {
        let rejecting = reached.limit.kind == LimitKind::Reject;
        let txn = self.write_transaction().await.or_storage()?;
        let row = NamespaceRow::find_by_statement(self.statement(
            "SELECT id, name, kind FROM namespace WHERE id = $1",
            [namespace.into()],
        ))
        .one(&txn)
        .await
        .or_storage()?;
        let corrupt = || StorageError::CorruptMetadata(format!("namespace {namespace}"));
        let row = row.ok_or_else(corrupt)?;
        let usage = QuotaUsage {
            namespace: Namespace::parse(&row.name).map_err(|_| corrupt())?,
            namespace_kind: if row.kind == "org" {
                NamespaceKind::Organization
            } else {
                NamespaceKind::User
            },
            threshold_percent: u32::from(reached.limit.threshold_percent),
            usage_bytes: reached.size,
            limit_bytes: reached.limit_bytes,
        };
        let event = Event::quota(site, &usage, rejecting);
        let notice = Notice {
            kind: event.kind.name(),
            namespace,
            lookup: &format!(
                "{}:{namespace}:{}",
                event.kind.name(),
                reached.limit.threshold_percent
            ),
            metadata: &event.data.to_string(),
        };
        let admins = self.namespace_admins(&txn, namespace).await?;
        let crossed = self.tell(&txn, &admins, &notice, now_ms).await? > 0;
        if crossed {
            self.emit(&txn, EventSource::Namespace(namespace), &event, now_ms)
                .await?;
        }
        if crossed || rejecting {
            audit::record(&txn, [audit]).await?;
        }
        txn.commit().await.or_storage()
    }

    async fn backfill_sizes(&self, limit: u32, now_ms: i64) -> quay_core::Result<u32> {
        if !self.quota.management {
            return Ok(0);
        }
        let waiting = self
            .ids(
                &self.db,
                "SELECT n.id AS id FROM namespace n
                 LEFT JOIN quota_namespace_size s ON s.namespace_id = n.id
                 WHERE s.namespace_id IS NULL OR NOT s.backfill_complete
                 ORDER BY n.id LIMIT $1",
                [i64::from(limit).into()],
            )
            .await?;
        let mut computed = 0;
        for namespace in &waiting {
            // Seen as running by the API while it is computed.
            self.execute(
                &self.db,
                "INSERT INTO quota_namespace_size
                     (namespace_id, size_bytes, backfill_start_ms, backfill_complete)
                 VALUES ($1, 0, $2, $3)
                 ON CONFLICT (namespace_id) DO UPDATE SET backfill_start_ms = excluded.backfill_start_ms
                 WHERE NOT quota_namespace_size.backfill_complete",
                [(*namespace).into(), now_ms.into(), false.into()],
            )
            .await?;
            let txn = self.lock_namespace(*namespace).await?;
            // Every node runs the backfill: another may have computed this size while this
            // one waited for the lock.
            let known = !self
                .ids(
                    &txn,
                    "SELECT namespace_id AS id FROM quota_namespace_size
                     WHERE namespace_id = $1 AND backfill_complete",
                    [(*namespace).into()],
                )
                .await?
                .is_empty();
            if !known {
                let (total, repositories) = self.recompute(&txn, *namespace).await?;
                self.store_sizes(&txn, *namespace, total, &repositories)
                    .await?;
                computed += 1;
            }
            txn.commit().await.or_storage()?;
        }
        Ok(computed)
    }

    async fn verify_sizes(&self, repair: bool) -> quay_core::Result<Vec<SizeDifference>> {
        let namespaces = NamespaceName::find_by_statement(self.statement(
            "SELECT n.id AS id, n.name AS name FROM namespace n
             JOIN quota_namespace_size s ON s.namespace_id = n.id AND s.backfill_complete
             ORDER BY n.name",
            [],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        let mut differences = Vec::new();
        for namespace in namespaces {
            // Under the namespace's lock, so that no push moves the sizes in between.
            let txn = self.lock_namespace(namespace.id).await?;
            let (total, repositories) = self.recompute(&txn, namespace.id).await?;
            let stored_total = self.namespace_size_in(&txn, namespace.id).await?;
            let stored = OwnerSize::find_by_statement(self.statement(
                "SELECT q.repository_id AS id, q.size_bytes AS bytes FROM quota_repository_size q
                 JOIN repository r ON r.id = q.repository_id WHERE r.namespace_id = $1",
                [namespace.id.into()],
            ))
            .all(&txn)
            .await
            .or_storage()?;
            let stored: HashMap<i64, i64> =
                stored.into_iter().map(|row| (row.id, row.bytes)).collect();
            let before = differences.len();
            if stored_total != Some(total) {
                differences.push(SizeDifference {
                    owner: namespace.name.clone(),
                    stored: stored_total,
                    actual: total,
                });
            }
            let names = self.repository_names(&txn, namespace.id).await?;
            for (repository, actual) in &repositories {
                let stored = stored.get(repository).copied().unwrap_or(0);
                if stored != signed(*actual) {
                    differences.push(SizeDifference {
                        owner: format!(
                            "{}/{}",
                            namespace.name,
                            names.get(repository).map_or("?", String::as_str)
                        ),
                        stored: u64::try_from(stored).ok(),
                        actual: *actual,
                    });
                }
            }
            if repair && differences.len() > before {
                self.store_sizes(&txn, namespace.id, total, &repositories)
                    .await?;
                txn.commit().await.or_storage()?;
            }
        }
        Ok(differences)
    }

    async fn registry_size(&self) -> quay_core::Result<RegistrySize> {
        let row = OwnerSize::find_by_statement(self.statement(
            "SELECT computed_ms AS id, size_bytes AS bytes FROM quota_registry_size WHERE id = 1",
            [],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        Ok(match row {
            Some(row) => RegistrySize {
                bytes: unsigned(row.bytes, "registry size")?,
                computed_ms: Some(row.id),
            },
            None => RegistrySize::default(),
        })
    }

    async fn compute_registry_size(&self, now_ms: i64) -> quay_core::Result<RegistrySize> {
        let txn = self.write_transaction().await.or_storage()?;
        self.execute(
            &txn,
            "INSERT INTO quota_registry_size (id, size_bytes, computed_ms)
             SELECT 1, CAST(COALESCE(SUM(size), 0) AS BIGINT), $1 FROM blob
             WHERE id IN (SELECT blob_id FROM manifest_blob)
             ON CONFLICT (id) DO UPDATE
             SET size_bytes = excluded.size_bytes, computed_ms = excluded.computed_ms",
            [now_ms.into()],
        )
        .await?;
        txn.commit().await.or_storage()?;
        self.registry_size().await
    }
}

impl SqlMetadata {
    /// Runs one change with its usage log entry.
    async fn change_with_audit(
        &self,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        self.execute(&txn, sql, values).await?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }

    async fn namespace_size_in(
        &self,
        conn: &impl ConnectionTrait,
        namespace: NamespaceId,
    ) -> quay_core::Result<Option<u64>> {
        let row = OwnerSize::find_by_statement(self.statement(
            "SELECT namespace_id AS id, size_bytes AS bytes FROM quota_namespace_size
             WHERE namespace_id = $1",
            [namespace.into()],
        ))
        .one(conn)
        .await
        .or_storage()?;
        Ok(row.and_then(|row| u64::try_from(row.bytes).ok()))
    }

    async fn repository_names(
        &self,
        conn: &impl ConnectionTrait,
        namespace: NamespaceId,
    ) -> quay_core::Result<HashMap<RepositoryId, String>> {
        let rows = NamespaceName::find_by_statement(self.statement(
            "SELECT id, name FROM repository WHERE namespace_id = $1",
            [namespace.into()],
        ))
        .all(conn)
        .await
        .or_storage()?;
        Ok(rows.into_iter().map(|row| (row.id, row.name)).collect())
    }
}
