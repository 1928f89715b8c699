//! Where blobs are stored and which wait to be copied: the records behind geo-replication.
//! [`DistributedStorage`](crate::DistributedStorage) explains the protocol.

use quay_core::Digest;
use sea_orm::{DbBackend, FromQueryResult};

use super::SqlMetadata;
use crate::error::{OrStorage, StorageError};

#[derive(FromQueryResult)]
struct Claimed {
    digest: String,
    attempts: i32,
}

/// A blob a replicator took from the queue.
#[derive(Debug)]
pub(crate) struct QueuedBlob {
    pub(crate) digest: Digest,
    /// Earlier attempts that failed.
    pub(crate) attempts: u32,
}

/// A blob's row, named by digest (the index `blob.digest` finds it).
const BLOB_ID: &str = "(SELECT id FROM blob WHERE digest = $1)";

impl SqlMetadata {
    /// Records that `location` holds blob `digest` and, with `queue_at_ms`, queues the blob
    /// for replication from then on. Whether the blob has its row: a blob the collector
    /// deleted has none, and bytes stored for it are garbage.
    pub(crate) async fn record_placement(
        &self,
        digest: &Digest,
        location: &str,
        queue_at_ms: Option<i64>,
    ) -> quay_core::Result<bool> {
        let txn = self.write_transaction().await.or_storage()?;
        // A placement already recorded is rewritten as it is, so that the count of rows
        // says whether the blob has its row, recorded now or before.
        let exists = self
            .execute(
                &txn,
                "INSERT INTO blob_placement (blob_id, location)
                 SELECT id, $2 FROM blob WHERE digest = $1
                 ON CONFLICT (blob_id, location) DO UPDATE SET location = excluded.location",
                [digest.as_str().into(), location.into()],
            )
            .await?
            == 1;
        if exists && let Some(available_ms) = queue_at_ms {
            self.execute(
                &txn,
                "INSERT INTO blob_replication (blob_id, digest, available_ms)
                 SELECT id, digest, $2 FROM blob WHERE digest = $1
                 ON CONFLICT (blob_id) DO NOTHING",
                [digest.as_str().into(), available_ms.into()],
            )
            .await?;
        }
        txn.commit().await.or_storage()?;
        Ok(exists)
    }

    /// Takes up to `limit` queued blobs that are due at `now_ms`, each for `lease_ms`: a
    /// replicator that stops half-way leaves its blobs to another once the lease lapses.
    /// On PostgreSQL, blobs another replicator is taking are skipped, not waited for.
    pub(crate) async fn claim_replications(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> quay_core::Result<Vec<QueuedBlob>> {
        let lock = match self.backend() {
            DbBackend::Postgres => " FOR UPDATE SKIP LOCKED",
            _ => "",
        };
        let txn = self.write_transaction().await.or_storage()?;
        let claimed = Claimed::find_by_statement(self.statement(
            &format!(
                "UPDATE blob_replication SET available_ms = $2
                 WHERE blob_id IN (SELECT blob_id FROM blob_replication WHERE available_ms <= $1
                                   ORDER BY available_ms LIMIT $3{lock})
                 RETURNING digest, attempts"
            ),
            [
                now_ms.into(),
                now_ms.saturating_add(lease_ms).into(),
                i64::from(limit).into(),
            ],
        ))
        .all(&txn)
        .await
        .or_storage()?;
        txn.commit().await.or_storage()?;
        claimed
            .into_iter()
            .map(|row| {
                let digest = Digest::parse(&row.digest).map_err(|_| {
                    StorageError::CorruptMetadata(format!("queued digest {}", row.digest))
                })?;
                Ok(QueuedBlob {
                    digest,
                    attempts: u32::try_from(row.attempts).unwrap_or(0),
                })
            })
            .collect()
    }

    /// Takes blob `digest` off the queue: every default location holds it, or it is gone.
    pub(crate) async fn finish_replication(&self, digest: &Digest) -> quay_core::Result<()> {
        self.execute(
            &self.db,
            &format!("DELETE FROM blob_replication WHERE blob_id = {BLOB_ID}"),
            [digest.as_str().into()],
        )
        .await?;
        Ok(())
    }

    /// Leaves blob `digest` on the queue until `retry_ms`, counting the failed attempt.
    pub(crate) async fn retry_replication(
        &self,
        digest: &Digest,
        retry_ms: i64,
    ) -> quay_core::Result<()> {
        self.execute(
            &self.db,
            &format!(
                "UPDATE blob_replication SET attempts = attempts + 1, available_ms = $2
                 WHERE blob_id = {BLOB_ID}"
            ),
            [digest.as_str().into(), retry_ms.into()],
        )
        .await?;
        Ok(())
    }

    /// Queues every blob for replication (blobs stored before replication was turned on);
    /// how many were not queued yet.
    pub(crate) async fn queue_every_blob(&self, now_ms: i64) -> quay_core::Result<u64> {
        // `WHERE true`: without a WHERE, SQLite reads `ON CONFLICT` as part of a join.
        self.execute(
            &self.db,
            "INSERT INTO blob_replication (blob_id, digest, available_ms)
             SELECT id, digest, $1 FROM blob WHERE true
             ON CONFLICT (blob_id) DO NOTHING",
            [now_ms.into()],
        )
        .await
    }
}
