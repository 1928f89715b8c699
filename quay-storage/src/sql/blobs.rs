//! Blob rows and the links that make a blob readable in a repository.
//!
//! A blob row is global (content addressed, stored once). A repository links a blob through
//! a manifest that references it (`manifest_blob`), or through a recent upload or mount
//! (`blob_link`, which lapses after a while unless a manifest takes over).

use std::time::Duration;

use async_trait::async_trait;
use quay_core::Digest;
use quay_core::audit::AuditEntry;
use quay_core::gc::DELETION_GRACE_MS;
use quay_core::ports::{
    BlobIndex, BlobInfo, BlobLinkSearch, LinkedBlob, Repository, RepositoryId, Unlink,
};
use sea_orm::DbBackend;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect,
};

use super::entity::{blob, blob_deletion, blob_link};
use super::repository_row::stored_state;
use super::{SqlMetadata, audit, signed, stored_path, unsigned};
use crate::error::{OrStorage, StorageError};

/// How often a link waiting for a collector to finish deleting the blob's bytes looks again.
const COLLECTION_POLL: Duration = Duration::from_millis(20);

#[derive(FromQueryResult)]
struct BlobId {
    id: i64,
}

/// A blob row with what links it to one repository.
#[derive(FromQueryResult)]
struct BlobLinks {
    id: i64,
    size: i64,
    /// A manifest of the repository references the blob.
    referenced: bool,
    /// The repository's upload link, if it has one (lapsed or not).
    link_expires_ms: Option<i64>,
}

impl BlobLinks {
    fn upload_link_alive(&self, now_ms: i64) -> bool {
        self.link_expires_ms.is_some_and(|expires| expires > now_ms)
    }
}

impl SqlMetadata {
    /// Records the blob (if new) and links it, unless a collector is deleting its bytes:
    /// then [`quay_core::Error::BlobBeingCollected`], and nothing is written. A deletion
    /// marker older than [`DELETION_GRACE_MS`] belongs to a collector that gave up: the
    /// link takes it over.
    async fn try_link_blob(
        &self,
        repository: RepositoryId,
        blob_info: &BlobInfo,
        now_ms: i64,
        until_ms: i64,
    ) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        blob::Entity::insert(blob::ActiveModel {
            digest: Set(blob_info.digest.to_string()),
            size: Set(signed(blob_info.size)),
            created_ms: Set(now_ms),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(blob::Column::Digest)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await
        .or_storage()?;
        // On PostgreSQL the share lock waits for a collector condemning the row; if it did,
        // the row is gone and its marker is there.
        let lock = match self.backend() {
            DbBackend::Postgres => " FOR SHARE",
            _ => "",
        };
        let blob_id = BlobId::find_by_statement(self.statement(
            &format!("SELECT id FROM blob WHERE digest = $1{lock}"),
            [blob_info.digest.as_str().into()],
        ))
        .one(&txn)
        .await
        .or_storage()?
        .map(|row| row.id);
        let marked: Option<i64> = blob_deletion::Entity::find_by_id(blob_info.digest.to_string())
            .select_only()
            .column(blob_deletion::Column::StartedMs)
            .into_tuple()
            .one(&txn)
            .await
            .or_storage()?;
        let blob_id = match (blob_id, marked) {
            (Some(id), Some(started_ms)) if started_ms < now_ms - DELETION_GRACE_MS => {
                blob_deletion::Entity::delete_by_id(blob_info.digest.to_string())
                    .exec(&txn)
                    .await
                    .or_storage()?;
                id
            }
            (_, Some(_)) => {
                return Err(quay_core::Error::BlobBeingCollected(
                    blob_info.digest.clone(),
                ));
            }
            (Some(id), None) => id,
            (None, None) => {
                return Err(StorageError::CorruptMetadata(format!(
                    "blob {} vanished without a deletion marker",
                    blob_info.digest
                ))
                .into());
            }
        };
        blob_link::Entity::insert(blob_link::ActiveModel {
            repository_id: Set(repository),
            blob_id: Set(blob_id),
            created_ms: Set(now_ms),
            expires_ms: Set(until_ms),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([blob_link::Column::RepositoryId, blob_link::Column::BlobId])
                .update_column(blob_link::Column::ExpiresMs)
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await
        .or_storage()?;
        txn.commit().await.or_storage()
    }

    async fn blob_links(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
        digest: &Digest,
    ) -> quay_core::Result<Option<BlobLinks>> {
        BlobLinks::find_by_statement(self.statement(
            "SELECT b.id AS id, b.size AS size,
                    EXISTS (SELECT 1 FROM manifest_blob mb
                            WHERE mb.repository_id = $1 AND mb.blob_id = b.id) AS referenced,
                    (SELECT l.expires_ms FROM blob_link l
                     WHERE l.repository_id = $1 AND l.blob_id = b.id) AS link_expires_ms
             FROM blob b WHERE b.digest = $2",
            [repository.into(), digest.as_str().into()],
        ))
        .one(conn)
        .await
        .or_storage()
    }
}

#[derive(FromQueryResult)]
struct LinkingRepository {
    id: i64,
    namespace_id: i64,
    namespace: String,
    name: String,
    state: String,
}

#[async_trait]
impl BlobIndex for SqlMetadata {
    async fn linked_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> quay_core::Result<Option<LinkedBlob>> {
        let Some(row) = self.blob_links(&self.db, repository, digest).await? else {
            return Ok(None);
        };
        let size = unsigned(row.size, "blob size")?;
        Ok(if row.referenced {
            Some(LinkedBlob {
                size,
                fresh_until_ms: None,
            })
        } else if row.upload_link_alive(now_ms) {
            Some(LinkedBlob {
                size,
                fresh_until_ms: row.link_expires_ms,
            })
        } else {
            None
        })
    }

    async fn link_blob(
        &self,
        repository: RepositoryId,
        blob_info: &BlobInfo,
        now_ms: i64,
        until_ms: i64,
    ) -> quay_core::Result<()> {
        let mut waited_ms = 0;
        loop {
            match self
                .try_link_blob(repository, blob_info, now_ms + waited_ms, until_ms)
                .await
            {
                Err(quay_core::Error::BlobBeingCollected(_)) => {
                    tokio::time::sleep(COLLECTION_POLL).await;
                    waited_ms += i64::try_from(COLLECTION_POLL.as_millis()).unwrap_or(i64::MAX);
                }
                linked => return linked,
            }
        }
    }

    async fn unlink_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> quay_core::Result<Unlink> {
        self.remove_from_repository(repository, digest, None, now_ms)
            .await
    }

    async fn forget_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        audit: AuditEntry,
        now_ms: i64,
    ) -> quay_core::Result<Unlink> {
        self.remove_from_repository(repository, digest, Some(audit), now_ms)
            .await
    }
}

impl SqlMetadata {
    /// Drops the repository's upload link to the blob; with `release`, first takes the
    /// manifests that need it out of the time machine (see `BlobIndex::forget_blob`).
    async fn remove_from_repository(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        release: Option<AuditEntry>,
        now_ms: i64,
    ) -> quay_core::Result<Unlink> {
        let txn = self.lock_repository(repository).await.or_storage()?;
        let Some(row) = self.blob_links(&txn, repository, digest).await? else {
            return Ok(Unlink::NotLinked);
        };
        let released = match (&release, row.referenced) {
            (_, false) => false,
            (None, true) => return Ok(Unlink::StillReferenced),
            (Some(audit), true) => {
                let Some(entries) = self
                    .release_from_time_machine(&txn, repository, row.id, audit, now_ms)
                    .await?
                else {
                    return Ok(Unlink::StillReferenced);
                };
                audit::record(&txn, entries).await?;
                true
            }
        };
        blob_link::Entity::delete_many()
            .filter(blob_link::Column::RepositoryId.eq(repository))
            .filter(blob_link::Column::BlobId.eq(row.id))
            .exec(&txn)
            .await
            .or_storage()?;
        self.insert_candidates(&txn, [row.id]).await?;
        txn.commit().await.or_storage()?;
        Ok(if released || row.upload_link_alive(now_ms) {
            Unlink::Unlinked
        } else {
            Unlink::NotLinked
        })
    }
}

#[async_trait]
impl BlobLinkSearch for SqlMetadata {
    async fn repositories_linking(
        &self,
        digest: &Digest,
        now_ms: i64,
        limit: u32,
    ) -> quay_core::Result<Vec<Repository>> {
        let rows = LinkingRepository::find_by_statement(self.statement(
            "SELECT r.id AS id, r.namespace_id AS namespace_id, n.name AS namespace, r.name AS name,
                    r.state AS state
             FROM repository r JOIN namespace n ON n.id = r.namespace_id
             WHERE r.id IN (
                 SELECT mb.repository_id FROM manifest_blob mb JOIN blob b ON b.id = mb.blob_id
                 WHERE b.digest = $1
                 UNION
                 SELECT l.repository_id FROM blob_link l JOIN blob b ON b.id = l.blob_id
                 WHERE b.digest = $1 AND l.expires_ms > $2)
             ORDER BY r.id LIMIT $3",
            [
                digest.as_str().into(),
                now_ms.into(),
                i64::from(limit).into(),
            ],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| {
                Ok(Repository {
                    id: row.id,
                    namespace: row.namespace_id,
                    path: stored_path(&row.namespace, &row.name)?,
                    state: stored_state(row.id, &row.state)?,
                })
            })
            .collect()
    }
}
