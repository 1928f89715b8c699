//! Sizes in the database: kept in the transactions that change them, recomputed by the
//! backfill and the verification.
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

use quay_core::Error;
use quay_core::account::NamespaceId;
use quay_core::ports::RepositoryId;
use quay_core::quota::{BlobUse, LimitKind, Reached, SizeChange, size_change};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult};

use super::{SqlMetadata, signed, unsigned};
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
pub(super) struct OwnerSize {
    pub(super) id: i64,
    pub(super) bytes: i64,
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

    /// The sizes of the namespace and of each of its repositories, from the manifests.
    pub(super) async fn recompute(
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
    pub(super) async fn store_sizes(
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
    pub(super) async fn lock_namespace(
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
}
