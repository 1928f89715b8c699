//! Sizes, quotas and notifications in the database.
//!
//! Sizes change in the transaction that adds or removes a manifest (or deletes a
//! repository), by [`quay_core::quota::size_change`] of how its blobs are used elsewhere.
//! Whether another manifest of the namespace has a blob is only a stable question while no
//! other change of the namespace runs, so every change of sizes first locks the namespace:
//! on PostgreSQL its row (`FOR NO KEY UPDATE`, which leaves inserts referencing it free), on
//! SQLite the single writer. Lock order is repository, then namespace, everywhere. Each
//! blob reference carries its namespace, so "elsewhere in the namespace" is one probe of
//! `manifest_blob (namespace_id, blob_id)` per blob, however widely the blob is shared.
//!
//! A namespace's size is known when its `quota_namespace_size` row says the backfill is
//! complete; until then changes leave it alone and the backfill computes it, under the
//! same lock, from the manifests.

use std::collections::HashMap;

use async_trait::async_trait;
use quay_core::Error;
use quay_core::account::{AccountId, NamespaceId};
use quay_core::audit::AuditEntry;
use quay_core::ports::{
    Notification, NotificationStore, QuotaStore, RegistrySize, Repository, RepositoryId,
};
use quay_core::quota::{
    BackfillStatus, BlobUse, LimitKind, NamespaceQuota, NamespaceSize, QuotaLimit, Reached,
    SizeChange, SizeDifference, size_change,
};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Value};

use super::{SqlMetadata, audit, signed, unsigned};
use crate::error::{OrStorage, StorageError};

#[derive(FromQueryResult)]
struct LockedSize {
    namespace_id: i64,
    size_bytes: Option<i64>,
    backfill_complete: Option<bool>,
}

#[derive(FromQueryResult)]
struct UseRow {
    size: i64,
    in_repository: bool,
    in_namespace: bool,
}

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
struct OwnerSize {
    id: i64,
    bytes: i64,
}

#[derive(FromQueryResult)]
struct NamespaceName {
    id: i64,
    name: String,
}

#[derive(FromQueryResult)]
struct NotificationRow {
    uuid: String,
    kind: String,
    organization: Option<String>,
    metadata: String,
    created_ms: i64,
    dismissed: bool,
}

/// Which blobs a change concerns and what counts as "elsewhere": the SQL selecting the
/// blob ids, and the conditions on another `manifest_blob` row `o` for the repository and
/// for the namespace. `$1` is the manifest or repository, `$2` the repository, `$3` the
/// namespace.
struct Scope {
    blobs: &'static str,
    other_in_repository: &'static str,
    other_in_namespace: &'static str,
}

/// A manifest being added or removed.
const MANIFEST: Scope = Scope {
    blobs: "SELECT blob_id FROM manifest_blob WHERE manifest_id = $1",
    other_in_repository: "o.repository_id = $2 AND o.manifest_id <> $1",
    other_in_namespace: "o.namespace_id = $3 AND o.manifest_id <> $1",
};

/// A repository being deleted (`$1` and `$2` are both the repository): nothing of it
/// remains.
const REPOSITORY: Scope = Scope {
    blobs: "SELECT DISTINCT blob_id FROM manifest_blob WHERE repository_id = $1",
    other_in_repository: "o.repository_id = $2 AND o.repository_id <> $1",
    other_in_namespace: "o.namespace_id = $3 AND o.repository_id <> $1",
};

impl SqlMetadata {
    /// Gives a new namespace its size: nothing, and known.
    pub(super) async fn start_namespace_size(
        &self,
        conn: &impl ConnectionTrait,
        namespace: NamespaceId,
    ) -> quay_core::Result<()> {
        if !self.quota.management {
            return Ok(());
        }
        self.execute(
            conn,
            "INSERT INTO quota_namespace_size (namespace_id, size_bytes, backfill_complete)
             VALUES ($1, 0, $2)",
            [namespace.into(), true.into()],
        )
        .await?;
        Ok(())
    }

    /// Forgets every size, so that the backfill computes them afresh once sizes are kept
    /// again: changes made while they are not kept would make them wrong.
    pub(super) async fn forget_sizes(&self) -> Result<(), StorageError> {
        let txn = self.write_transaction().await?;
        txn.execute_unprepared("DELETE FROM quota_repository_size")
            .await?;
        txn.execute_unprepared("DELETE FROM quota_namespace_size")
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Locks the namespace of `repository` for a change of sizes; its id and size, the size
    /// `None` while not known. `None` when sizes are not kept.
    async fn lock_namespace_of(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
    ) -> quay_core::Result<Option<(NamespaceId, Option<u64>)>> {
        if !self.quota.management {
            return Ok(None);
        }
        let lock = match self.backend() {
            DbBackend::Postgres => " FOR NO KEY UPDATE OF n",
            _ => "",
        };
        let row = LockedSize::find_by_statement(self.statement(
            &format!(
                "SELECT n.id AS namespace_id, s.size_bytes AS size_bytes,
                        s.backfill_complete AS backfill_complete
                 FROM repository p JOIN namespace n ON n.id = p.namespace_id
                 LEFT JOIN quota_namespace_size s ON s.namespace_id = n.id
                 WHERE p.id = $1{lock}"
            ),
            [repository.into()],
        ))
        .one(conn)
        .await
        .or_storage()?;
        let Some(row) = row else { return Ok(None) };
        let size = match (row.size_bytes, row.backfill_complete) {
            (Some(bytes), Some(true)) => Some(unsigned(bytes, "namespace size")?),
            _ => None,
        };
        Ok(Some((row.namespace_id, size)))
    }

    /// How the blobs of `scope` are used elsewhere.
    async fn blob_uses(
        &self,
        conn: &impl ConnectionTrait,
        scope: &Scope,
        owner: i64,
        repository: RepositoryId,
        namespace: NamespaceId,
    ) -> quay_core::Result<Vec<BlobUse>> {
        let rows = UseRow::find_by_statement(self.statement(
            &format!(
                // Scalar subqueries with LIMIT 1 rather than EXISTS: PostgreSQL may turn an
                // EXISTS into a hash of every reference of the repository or namespace,
                // where one index probe per blob is what is wanted.
                "SELECT b.size AS size,
                    (SELECT 1 FROM manifest_blob o
                     WHERE o.blob_id = b.id AND {in_repository} LIMIT 1) IS NOT NULL
                      AS in_repository,
                    (SELECT 1 FROM manifest_blob o
                     WHERE o.blob_id = b.id AND {in_namespace} LIMIT 1) IS NOT NULL
                      AS in_namespace
                 FROM blob b WHERE b.id IN ({blobs})",
                in_repository = scope.other_in_repository,
                in_namespace = scope.other_in_namespace,
                blobs = scope.blobs,
            ),
            [owner.into(), repository.into(), namespace.into()],
        ))
        .all(conn)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| {
                Ok(BlobUse {
                    size: unsigned(row.size, "blob size")?,
                    elsewhere_in_repository: row.in_repository,
                    elsewhere_in_namespace: row.in_namespace,
                })
            })
            .collect()
    }

    /// Adds (`sign` 1) or subtracts (`sign` -1) a change.
    async fn apply_size_change(
        &self,
        conn: &impl ConnectionTrait,
        namespace: NamespaceId,
        repository: RepositoryId,
        change: SizeChange,
        sign: i64,
    ) -> quay_core::Result<()> {
        if change.namespace != 0 {
            self.execute(
                conn,
                "UPDATE quota_namespace_size SET size_bytes = size_bytes + $2
                 WHERE namespace_id = $1",
                [namespace.into(), (sign * signed(change.namespace)).into()],
            )
            .await?;
        }
        if change.repository != 0 {
            self.execute(
                conn,
                "INSERT INTO quota_repository_size (repository_id, size_bytes) VALUES ($1, $2)
                 ON CONFLICT (repository_id) DO UPDATE
                 SET size_bytes = quota_repository_size.size_bytes + excluded.size_bytes",
                [repository.into(), (sign * signed(change.repository)).into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Counts a manifest pushed into the repository (`inserted`: just now; else it was
    /// there already and adds nothing). Where quotas are enforced, a push that leaves the
    /// namespace at a Reject limit is refused (the caller's transaction then rolls back);
    /// a Warning limit it leaves the namespace at is returned.
    pub(super) async fn count_pushed_manifest(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
        manifest_id: i64,
        inserted: bool,
    ) -> quay_core::Result<Option<Reached>> {
        let Some((namespace, Some(size))) = self.lock_namespace_of(conn, repository).await? else {
            return Ok(None);
        };
        let change = if inserted {
            let uses = self
                .blob_uses(conn, &MANIFEST, manifest_id, repository, namespace)
                .await?;
            size_change(uses)
        } else {
            SizeChange::default()
        };
        self.apply_size_change(conn, namespace, repository, change, 1)
            .await?;
        if !self.quota.enforced() {
            return Ok(None);
        }
        let quota = self.quota_of(conn, namespace).await?;
        match self.quota.judge(quota.as_ref(), size + change.namespace) {
            Some(reached) if reached.limit.kind == LimitKind::Reject => {
                Err(Error::QuotaExceeded(reached))
            }
            warning => Ok(warning),
        }
    }

    /// Uncounts a manifest about to be removed from the repository.
    pub(super) async fn uncount_manifest(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
        manifest_id: i64,
    ) -> quay_core::Result<()> {
        self.uncount(conn, &MANIFEST, manifest_id, repository).await
    }

    /// Uncounts a repository about to be deleted.
    pub(super) async fn uncount_repository(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
    ) -> quay_core::Result<()> {
        self.uncount(conn, &REPOSITORY, repository, repository)
            .await
    }

    async fn uncount(
        &self,
        conn: &impl ConnectionTrait,
        scope: &Scope,
        owner: i64,
        repository: RepositoryId,
    ) -> quay_core::Result<()> {
        let Some((namespace, Some(_))) = self.lock_namespace_of(conn, repository).await? else {
            return Ok(());
        };
        let uses = self
            .blob_uses(conn, scope, owner, repository, namespace)
            .await?;
        self.apply_size_change(conn, namespace, repository, size_change(uses), -1)
            .await
    }

    async fn quota_of(
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

    /// The sizes of the namespace and of each of its repositories, from the manifests.
    async fn recompute(
        &self,
        conn: &impl ConnectionTrait,
        namespace: NamespaceId,
    ) -> quay_core::Result<(u64, Vec<(RepositoryId, u64)>)> {
        let total = OwnerSize::find_by_statement(self.statement(
            "SELECT CAST($1 AS BIGINT) AS id, CAST(COALESCE(SUM(b.size), 0) AS BIGINT) AS bytes
             FROM blob b
             WHERE b.id IN (SELECT blob_id FROM manifest_blob WHERE namespace_id = $1)",
            [namespace.into()],
        ))
        .one(conn)
        .await
        .or_storage()?
        .map_or(0, |row| row.bytes);
        let repositories = OwnerSize::find_by_statement(self.statement(
            "SELECT r.id AS id,
                    CAST(COALESCE((SELECT SUM(b.size) FROM blob b
                                   WHERE b.id IN (SELECT blob_id FROM manifest_blob
                                                  WHERE repository_id = r.id)), 0) AS BIGINT)
                      AS bytes
             FROM repository r WHERE r.namespace_id = $1 ORDER BY r.id",
            [namespace.into()],
        ))
        .all(conn)
        .await
        .or_storage()?;
        let repositories = repositories
            .into_iter()
            .map(|row| Ok((row.id, unsigned(row.bytes, "repository size")?)))
            .collect::<Result<_, StorageError>>()?;
        Ok((unsigned(total, "namespace size")?, repositories))
    }

    /// Stores recomputed sizes as the namespace's known ones.
    async fn store_sizes(
        &self,
        conn: &impl ConnectionTrait,
        namespace: NamespaceId,
        total: u64,
        repositories: &[(RepositoryId, u64)],
    ) -> quay_core::Result<()> {
        self.execute(
            conn,
            "DELETE FROM quota_repository_size
             WHERE repository_id IN (SELECT id FROM repository WHERE namespace_id = $1)",
            [namespace.into()],
        )
        .await?;
        for (repository, bytes) in repositories.iter().filter(|(_, bytes)| *bytes > 0) {
            self.execute(
                conn,
                "INSERT INTO quota_repository_size (repository_id, size_bytes) VALUES ($1, $2)",
                [(*repository).into(), signed(*bytes).into()],
            )
            .await?;
        }
        self.execute(
            conn,
            "INSERT INTO quota_namespace_size (namespace_id, size_bytes, backfill_complete)
             VALUES ($1, $2, $3)
             ON CONFLICT (namespace_id) DO UPDATE
             SET size_bytes = excluded.size_bytes, backfill_complete = excluded.backfill_complete",
            [namespace.into(), signed(total).into(), true.into()],
        )
        .await?;
        Ok(())
    }

    /// A write transaction holding the namespace.
    async fn lock_namespace(
        &self,
        namespace: NamespaceId,
    ) -> quay_core::Result<sea_orm::DatabaseTransaction> {
        let txn = self.write_transaction().await.or_storage()?;
        if self.backend() == DbBackend::Postgres {
            self.execute(
                &txn,
                "SELECT id FROM namespace WHERE id = $1 FOR NO KEY UPDATE",
                [namespace.into()],
            )
            .await?;
        }
        Ok(txn)
    }

    /// Who is told of a namespace's quota: the user, or the organization's admin teams.
    async fn quota_recipients(
        &self,
        conn: &impl ConnectionTrait,
        namespace: NamespaceId,
    ) -> quay_core::Result<Vec<AccountId>> {
        self.ids(
            conn,
            "SELECT a.id AS id FROM account a WHERE a.namespace_id = $1 AND a.kind = 'user'
             UNION
             SELECT tm.account_id AS id FROM team_member tm JOIN team t ON t.id = tm.team_id
             WHERE t.namespace_id = $1 AND t.role = 'admin'",
            [namespace.into()],
        )
        .await
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
        now_ms: i64,
    ) -> quay_core::Result<()> {
        let kind = match reached.limit.kind {
            LimitKind::Warning => "quota_warning",
            LimitKind::Reject => "quota_error",
        };
        let lookup = format!("{kind}:{namespace}:{}", reached.limit.threshold_percent);
        let txn = self.write_transaction().await.or_storage()?;
        let name = NamespaceName::find_by_statement(self.statement(
            "SELECT id, name FROM namespace WHERE id = $1",
            [namespace.into()],
        ))
        .one(&txn)
        .await
        .or_storage()?
        .ok_or_else(|| StorageError::CorruptMetadata(format!("namespace {namespace}")))?;
        let metadata = serde_json::json!({
            "namespace": name.name,
            "threshold_percent": reached.limit.threshold_percent,
            "usage_bytes": reached.size,
            "limit_bytes": reached.limit_bytes,
        })
        .to_string();
        let mut told = 0;
        for account in self.quota_recipients(&txn, name.id).await? {
            told += self
                .execute(
                    &txn,
                    "INSERT INTO notification
                         (uuid, account_id, kind, namespace_id, lookup, metadata, created_ms, dismissed)
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8
                     WHERE NOT EXISTS (SELECT 1 FROM notification
                                       WHERE account_id = $2 AND lookup = $5 AND NOT dismissed)",
                    [
                        uuid::Uuid::new_v4().to_string().into(),
                        account.into(),
                        kind.into(),
                        namespace.into(),
                        lookup.clone().into(),
                        metadata.clone().into(),
                        now_ms.into(),
                        false.into(),
                    ],
                )
                .await?;
        }
        if told > 0 || reached.limit.kind == LimitKind::Reject {
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

#[async_trait]
impl NotificationStore for SqlMetadata {
    async fn notifications(&self, account: AccountId) -> quay_core::Result<Vec<Notification>> {
        let rows = NotificationRow::find_by_statement(self.statement(
            "SELECT n.uuid AS uuid, n.kind AS kind,
                    CASE WHEN ns.kind = 'org' THEN ns.name END AS organization,
                    n.metadata AS metadata, n.created_ms AS created_ms, n.dismissed AS dismissed
             FROM notification n LEFT JOIN namespace ns ON ns.id = n.namespace_id
             WHERE n.account_id = $1 ORDER BY n.id DESC",
            [account.into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| {
                Ok(Notification {
                    metadata: serde_json::from_str(&row.metadata).map_err(|_| {
                        StorageError::CorruptMetadata(format!("notification {}", row.uuid))
                    })?,
                    uuid: row.uuid,
                    kind: row.kind,
                    organization: row.organization,
                    created_ms: row.created_ms,
                    dismissed: row.dismissed,
                })
            })
            .collect()
    }

    async fn dismiss_notification(
        &self,
        account: AccountId,
        uuid: &str,
        dismissed: bool,
    ) -> quay_core::Result<bool> {
        let changed = self
            .execute(
                &self.db,
                "UPDATE notification SET dismissed = $3 WHERE account_id = $1 AND uuid = $2",
                [account.into(), uuid.into(), dismissed.into()],
            )
            .await?;
        Ok(changed > 0)
    }
}
