//! Garbage collection in the database. [`quay_core::gc`] explains the protocol; this module
//! finds garbage through indexes on what ended or lapsed, and removes it in short
//! transactions that take the same locks as the pushes they must not race.

use std::collections::{BTreeSet, VecDeque};

use async_trait::async_trait;
use quay_core::Digest;
use quay_core::audit::AuditEntry;
use quay_core::ports::{
    AbandonedUpload, BlobInfo, CollectedRepository, GarbageStore, RepositoryCollection,
    RepositoryId,
};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Value};

use super::{SqlMetadata, placeholders, unsigned};
use crate::error::{OrStorage, StorageError};

#[derive(FromQueryResult)]
struct Id {
    id: i64,
}

#[derive(FromQueryResult)]
struct TagGarbage {
    id: i64,
    manifest_id: i64,
}

#[derive(FromQueryResult)]
struct HolderTag {
    id: i64,
    name: String,
    lifetime_end_ms: Option<i64>,
    hidden: bool,
    digest: String,
}

/// How many ids go in one `IN (...)` list: well below SQLite's and PostgreSQL's parameter limits.
const IDS_PER_STATEMENT: usize = 500;

#[derive(FromQueryResult)]
struct ManifestIdentity {
    digest: String,
    subject: Option<String>,
}

#[derive(FromQueryResult)]
struct Candidate {
    id: i64,
    blob_id: i64,
}

#[derive(FromQueryResult)]
struct BlobRow {
    digest: String,
    size: i64,
}

#[derive(FromQueryResult)]
struct Marker {
    digest: String,
}

#[derive(FromQueryResult)]
struct UploadRow {
    id: String,
    parts: String,
}

#[derive(FromQueryResult)]
struct UploadId {
    id: String,
}

impl SqlMetadata {
    pub(super) async fn ids(
        &self,
        conn: &impl ConnectionTrait,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> quay_core::Result<Vec<i64>> {
        let rows = Id::find_by_statement(self.statement(sql, values))
            .all(conn)
            .await
            .or_storage()?;
        Ok(rows.into_iter().map(|row| row.id).collect())
    }

    pub(super) async fn execute(
        &self,
        conn: &impl ConnectionTrait,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> quay_core::Result<u64> {
        let result = conn
            .execute_raw(self.statement(sql, values))
            .await
            .or_storage()?;
        Ok(result.rows_affected())
    }

    /// Removes the manifest if nothing uses it: no tag row (hidden and ended ones count:
    /// the time machine may still restore them), no list of the repository containing it,
    /// no referrer naming it as subject. Its blobs become candidates. Returns the manifests
    /// that may have become unused by its removal (its children and its subject).
    async fn remove_if_unused(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
        manifest_id: i64,
    ) -> quay_core::Result<Option<Vec<i64>>> {
        let identity = ManifestIdentity::find_by_statement(self.statement(
            "SELECT digest, subject FROM manifest WHERE id = $1",
            [manifest_id.into()],
        ))
        .one(conn)
        .await
        .or_storage()?;
        let Some(identity) = identity else {
            return Ok(None);
        };
        let users = self
            .ids(
                conn,
                "SELECT CAST(1 AS BIGINT) AS id WHERE EXISTS (SELECT 1 FROM tag WHERE manifest_id = $1)
                    OR EXISTS (SELECT 1 FROM manifest_child WHERE child_manifest_id = $1)
                    OR EXISTS (SELECT 1 FROM manifest
                               WHERE repository_id = $2 AND subject = $3)",
                [
                    manifest_id.into(),
                    repository.into(),
                    identity.digest.clone().into(),
                ],
            )
            .await?;
        if !users.is_empty() {
            return Ok(None);
        }
        let mut freed = self
            .ids(
                conn,
                "SELECT child_manifest_id AS id FROM manifest_child WHERE manifest_id = $1",
                [manifest_id.into()],
            )
            .await?;
        if let Some(subject) = identity.subject {
            freed.extend(
                self.ids(
                    conn,
                    "SELECT id FROM manifest WHERE repository_id = $1 AND digest = $2",
                    [repository.into(), subject.into()],
                )
                .await?,
            );
        }
        self.uncount_manifest(conn, repository, manifest_id).await?;
        self.execute(
            conn,
            "INSERT INTO gc_blob_candidate (blob_id)
             SELECT blob_id FROM manifest_blob WHERE manifest_id = $1",
            [manifest_id.into()],
        )
        .await?;
        // Its references, labels and child links go with it (foreign keys).
        self.execute(
            conn,
            "DELETE FROM manifest WHERE id = $1",
            [manifest_id.into()],
        )
        .await?;
        Ok(Some(freed))
    }

    /// Removes the manifests that nothing uses, and then those their removal frees. How many.
    async fn remove_unused(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
        manifests: BTreeSet<i64>,
    ) -> quay_core::Result<u64> {
        let mut queue: VecDeque<i64> = manifests.into_iter().collect();
        let mut removed = 0;
        while let Some(manifest_id) = queue.pop_front() {
            if let Some(freed) = self.remove_if_unused(conn, repository, manifest_id).await? {
                removed += 1;
                queue.extend(freed);
            }
        }
        Ok(removed)
    }

    /// The namespace's time-machine window, in seconds; `None` for a repository that is gone.
    async fn time_machine_window_s(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
    ) -> quay_core::Result<Option<i64>> {
        let window_s = self
            .ids(
                conn,
                "SELECT n.tag_expiration_s AS id
                 FROM repository r JOIN namespace n ON n.id = r.namespace_id
                 WHERE r.id = $1",
                [repository.into()],
            )
            .await?;
        Ok(window_s.first().copied())
    }

    /// Takes a blob out of the repository's time machine, for a client's DELETE of it: the
    /// manifests that need it (referencing it, or a list or a referrer holding one that does)
    /// lose their tag rows and go, with what only they used. `None`, changing nothing, when a
    /// live tag holds one of them: the blob is in use. Otherwise an entry, from `audit`, per
    /// lifetime a restore could have brought back.
    pub(super) async fn release_from_time_machine(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
        blob_id: i64,
        audit: &AuditEntry,
        now_ms: i64,
    ) -> quay_core::Result<Option<Vec<AuditEntry>>> {
        let holders = self.holders(conn, repository, blob_id).await?;
        let holder_ids: Vec<i64> = holders.iter().copied().collect();
        let mut tags = Vec::new();
        for chunk in holder_ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT t.id AS id, t.name AS name, t.lifetime_end_ms AS lifetime_end_ms,
                        t.hidden AS hidden, m.digest AS digest
                 FROM tag t JOIN manifest m ON m.id = t.manifest_id
                 WHERE t.manifest_id IN ({})",
                placeholders(1, chunk.len())
            );
            tags.extend(
                HolderTag::find_by_statement(
                    self.statement(&sql, chunk.iter().map(|id| (*id).into())),
                )
                .all(conn)
                .await
                .or_storage()?,
            );
        }
        if tags
            .iter()
            .any(|tag| tag.lifetime_end_ms.is_none_or(|end| end > now_ms))
        {
            return Ok(None);
        }
        let window_s = self.time_machine_window_s(conn, repository).await?;
        let before_window = now_ms.saturating_sub(window_s.unwrap_or(0).saturating_mul(1000));
        let restorable: BTreeSet<(&str, &str)> = tags
            .iter()
            .filter(|tag| !tag.hidden && tag.lifetime_end_ms.is_some_and(|end| end > before_window))
            .map(|tag| (tag.name.as_str(), tag.digest.as_str()))
            .collect();
        let entries = restorable
            .into_iter()
            .map(|(name, digest)| {
                audit
                    .clone()
                    .meta("tag", name)
                    .meta("manifest_digest", digest)
            })
            .collect();
        let tag_ids: Vec<i64> = tags.iter().map(|tag| tag.id).collect();
        for chunk in tag_ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "DELETE FROM tag WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            self.execute(conn, &sql, chunk.iter().map(|id| (*id).into()))
                .await?;
        }
        self.remove_unused(conn, repository, holders).await?;
        Ok(Some(entries))
    }

    /// The manifests of the repository that reference the blob, and those that hold them: the
    /// lists containing one, the referrers naming one as subject, and so on up.
    async fn holders(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
        blob_id: i64,
    ) -> quay_core::Result<BTreeSet<i64>> {
        let mut holders: BTreeSet<i64> = self
            .ids(
                conn,
                "SELECT manifest_id AS id FROM manifest_blob
                 WHERE repository_id = $1 AND blob_id = $2",
                [repository.into(), blob_id.into()],
            )
            .await?
            .into_iter()
            .collect();
        let mut queue: Vec<i64> = holders.iter().copied().collect();
        while let Some(manifest_id) = queue.pop() {
            let users = self
                .ids(
                    conn,
                    "SELECT manifest_id AS id FROM manifest_child WHERE child_manifest_id = $1
                     UNION
                     SELECT r.id AS id FROM manifest r JOIN manifest s
                       ON r.repository_id = s.repository_id AND r.subject = s.digest
                     WHERE s.id = $1",
                    [manifest_id.into()],
                )
                .await?;
            queue.extend(users.into_iter().filter(|user| holders.insert(*user)));
        }
        Ok(holders)
    }
}

#[async_trait]
impl GarbageStore for SqlMetadata {
    async fn repositories_with_expired_tags(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> quay_core::Result<Vec<RepositoryId>> {
        // The smallest window bounds the range scan of the end index; the join then applies
        // each namespace's own window.
        let smallest_window = self
            .ids(
                &self.db,
                "SELECT COALESCE(MIN(tag_expiration_s), 0) AS id FROM namespace",
                [],
            )
            .await?
            .first()
            .copied()
            .unwrap_or(0);
        // Ordered by end, so that the planner walks the index on ends (the garbage only), not
        // every tag of every repository in repository order.
        self.ids(
            &self.db,
            "SELECT DISTINCT garbage.repository_id AS id FROM (
                 SELECT t.repository_id FROM tag t
                 WHERE t.lifetime_end_ms <= $1
                   AND EXISTS (SELECT 1 FROM repository r
                               JOIN namespace n ON n.id = r.namespace_id
                               WHERE r.id = t.repository_id
                                 AND t.lifetime_end_ms <= $2 - n.tag_expiration_s * 1000)
                 ORDER BY t.lifetime_end_ms
                 LIMIT $3) garbage",
            [
                now_ms
                    .saturating_sub(smallest_window.saturating_mul(1000))
                    .into(),
                now_ms.into(),
                i64::from(limit).into(),
            ],
        )
        .await
    }

    async fn drop_lapsed_links(&self, before_ms: i64, limit: u32) -> quay_core::Result<u64> {
        let txn = self.write_transaction().await.or_storage()?;
        let lapsed = Candidate::find_by_statement(self.statement(
            "SELECT id, blob_id FROM blob_link WHERE expires_ms <= $1 LIMIT $2",
            [before_ms.into(), i64::from(limit).into()],
        ))
        .all(&txn)
        .await
        .or_storage()?;
        if lapsed.is_empty() {
            return Ok(0);
        }
        let blobs: BTreeSet<i64> = lapsed.iter().map(|link| link.blob_id).collect();
        self.insert_candidates(&txn, blobs).await?;
        // A link renewed in the meantime (a new upload of the blob) stays.
        let sql = format!(
            "DELETE FROM blob_link WHERE expires_ms <= $1 AND id IN ({})",
            placeholders(2, lapsed.len())
        );
        let values = std::iter::once(before_ms.into()).chain(lapsed.iter().map(|l| l.id.into()));
        let dropped = self.execute(&txn, &sql, values).await?;
        txn.commit().await.or_storage()?;
        Ok(dropped)
    }

    async fn condemn_blobs(&self, now_ms: i64, limit: u32) -> quay_core::Result<Vec<BlobInfo>> {
        let txn = self.write_transaction().await.or_storage()?;
        let candidates = Candidate::find_by_statement(self.statement(
            "SELECT id, blob_id FROM gc_blob_candidate ORDER BY id LIMIT $1",
            [i64::from(limit).into()],
        ))
        .all(&txn)
        .await
        .or_storage()?;
        // On PostgreSQL the row is locked against new links and references until commit. A
        // row another transaction holds (a link or a manifest being added, or another
        // collector) is skipped rather than waited for, which cannot deadlock with a push
        // that references several blobs; its candidate stays for the next collection.
        let lock = match self.backend() {
            DbBackend::Postgres => " FOR UPDATE SKIP LOCKED",
            _ => "",
        };
        let mut condemned = Vec::new();
        let mut examined = BTreeSet::new();
        let blobs: BTreeSet<i64> = candidates.iter().map(|c| c.blob_id).collect();
        for blob_id in blobs {
            let row = BlobRow::find_by_statement(self.statement(
                &format!("SELECT digest, size FROM blob WHERE id = $1{lock}"),
                [blob_id.into()],
            ))
            .one(&txn)
            .await
            .or_storage()?;
            let Some(row) = row else {
                let held = self
                    .ids(&txn, "SELECT id FROM blob WHERE id = $1", [blob_id.into()])
                    .await?;
                if held.is_empty() {
                    examined.insert(blob_id);
                }
                continue;
            };
            examined.insert(blob_id);
            let referenced = self
                .ids(
                    &txn,
                    "SELECT CAST(1 AS BIGINT) AS id WHERE EXISTS (SELECT 1 FROM manifest_blob WHERE blob_id = $1)
                        OR EXISTS (SELECT 1 FROM blob_link WHERE blob_id = $1)",
                    [blob_id.into()],
                )
                .await?;
            if !referenced.is_empty() {
                continue;
            }
            self.execute(&txn, "DELETE FROM blob WHERE id = $1", [blob_id.into()])
                .await?;
            self.execute(
                &txn,
                "INSERT INTO blob_deletion (digest, started_ms) VALUES ($1, $2)
                 ON CONFLICT (digest) DO UPDATE SET started_ms = excluded.started_ms",
                [row.digest.clone().into(), now_ms.into()],
            )
            .await?;
            let digest = Digest::parse(&row.digest)
                .map_err(|_| StorageError::CorruptMetadata(format!("blob {blob_id}: digest")))?;
            condemned.push(BlobInfo {
                digest,
                size: unsigned(row.size, "blob size")?,
            });
        }
        let done: Vec<i64> = candidates
            .iter()
            .filter(|candidate| examined.contains(&candidate.blob_id))
            .map(|candidate| candidate.id)
            .collect();
        if !done.is_empty() {
            let sql = format!(
                "DELETE FROM gc_blob_candidate WHERE id IN ({})",
                placeholders(1, done.len())
            );
            self.execute(&txn, &sql, done.into_iter().map(Value::from))
                .await?;
        }
        txn.commit().await.or_storage()?;
        Ok(condemned)
    }

    async fn stale_deletions(
        &self,
        before_ms: i64,
        now_ms: i64,
        limit: u32,
    ) -> quay_core::Result<Vec<Digest>> {
        let stale = Marker::find_by_statement(self.statement(
            "SELECT digest FROM blob_deletion WHERE started_ms < $1 LIMIT $2",
            [before_ms.into(), i64::from(limit).into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        let mut restamped = Vec::new();
        for marker in stale {
            // Only a marker this collector restamped is its to finish: a push may have taken
            // it over, or another collector restamped it first.
            let taken = self
                .execute(
                    &self.db,
                    "UPDATE blob_deletion SET started_ms = $1
                     WHERE digest = $2 AND started_ms < $3",
                    [
                        now_ms.into(),
                        marker.digest.clone().into(),
                        before_ms.into(),
                    ],
                )
                .await?;
            if taken == 1 {
                let digest = Digest::parse(&marker.digest).map_err(|_| {
                    StorageError::CorruptMetadata(format!("deletion marker {}", marker.digest))
                })?;
                restamped.push(digest);
            }
        }
        Ok(restamped)
    }

    async fn finish_deletion(&self, digest: &Digest) -> quay_core::Result<()> {
        self.execute(
            &self.db,
            "DELETE FROM blob_deletion WHERE digest = $1",
            [digest.as_str().into()],
        )
        .await?;
        Ok(())
    }

    async fn abandoned_uploads(
        &self,
        before_ms: i64,
        limit: u32,
    ) -> quay_core::Result<Vec<AbandonedUpload>> {
        let rows = UploadRow::find_by_statement(self.statement(
            "SELECT id, parts FROM gc_orphan_upload
             UNION ALL
             SELECT id, parts FROM blob_upload WHERE updated_ms < $1
             LIMIT $2",
            [before_ms.into(), i64::from(limit).into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| {
                let parts = serde_json::from_str(&row.parts).map_err(|error| {
                    StorageError::CorruptMetadata(format!("parts of upload {}: {error}", row.id))
                })?;
                Ok(AbandonedUpload { id: row.id, parts })
            })
            .collect()
    }

    async fn forget_upload(&self, id: &str) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        self.execute(
            &txn,
            "DELETE FROM gc_orphan_upload WHERE id = $1",
            [id.into()],
        )
        .await?;
        self.execute(&txn, "DELETE FROM blob_upload WHERE id = $1", [id.into()])
            .await?;
        txn.commit().await.or_storage()
    }

    async fn unrecorded_uploads(&self, ids: &[String]) -> quay_core::Result<Vec<String>> {
        let mut recorded = BTreeSet::new();
        for ids in ids.chunks(IDS_PER_STATEMENT) {
            let list = placeholders(1, ids.len());
            let rows = UploadId::find_by_statement(self.statement(
                &format!(
                    "SELECT id FROM blob_upload WHERE id IN ({list})
                     UNION SELECT id FROM gc_orphan_upload WHERE id IN ({list})"
                ),
                ids.iter().map(|id| id.clone().into()),
            ))
            .all(&self.db)
            .await
            .or_storage()?;
            recorded.extend(rows.into_iter().map(|row| row.id));
        }
        Ok(ids
            .iter()
            .filter(|id| !recorded.contains(*id))
            .cloned()
            .collect())
    }
}

#[async_trait]
impl RepositoryCollection for SqlMetadata {
    async fn collect_repository(
        &self,
        repository: RepositoryId,
        now_ms: i64,
        limit: u32,
    ) -> quay_core::Result<CollectedRepository> {
        let txn = self.lock_repository(repository).await.or_storage()?;
        let Some(window_s) = self.time_machine_window_s(&txn, repository).await? else {
            return Ok(CollectedRepository::default());
        };
        // A range of the (repository, end) index: the garbage, not the live tags.
        let garbage = TagGarbage::find_by_statement(self.statement(
            "SELECT id, manifest_id FROM tag
             WHERE repository_id = $1 AND lifetime_end_ms <= $2
             LIMIT $3",
            [
                repository.into(),
                now_ms.saturating_sub(window_s.saturating_mul(1000)).into(),
                i64::from(limit).into(),
            ],
        ))
        .all(&txn)
        .await
        .or_storage()?;
        if garbage.is_empty() {
            return Ok(CollectedRepository::default());
        }
        let sql = format!(
            "DELETE FROM tag WHERE id IN ({})",
            placeholders(1, garbage.len())
        );
        let tags = self
            .execute(&txn, &sql, garbage.iter().map(|row| row.id.into()))
            .await?;
        let manifests = self
            .remove_unused(
                &txn,
                repository,
                garbage.iter().map(|row| row.manifest_id).collect(),
            )
            .await?;
        txn.commit().await.or_storage()?;
        Ok(CollectedRepository { tags, manifests })
    }
}

impl SqlMetadata {
    /// Queues blobs that lost a reference for [`GarbageStore::condemn_blobs`].
    pub(super) async fn insert_candidates(
        &self,
        conn: &impl ConnectionTrait,
        blobs: impl IntoIterator<Item = i64>,
    ) -> quay_core::Result<()> {
        let blobs: Vec<i64> = blobs.into_iter().collect();
        if blobs.is_empty() {
            return Ok(());
        }
        let rows = (1..=blobs.len())
            .map(|n| format!("(${n})"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO gc_blob_candidate (blob_id) VALUES {rows}");
        self.execute(conn, &sql, blobs.into_iter().map(Value::from))
            .await?;
        Ok(())
    }

    /// Queues what a repository (or every repository of a namespace) references for
    /// collection before it is deleted: its blobs as candidates, its uploads as orphans.
    pub(super) async fn orphan_contents(
        &self,
        conn: &impl ConnectionTrait,
        repositories_sql: &str,
        owner: i64,
    ) -> quay_core::Result<()> {
        self.execute(
            conn,
            &format!(
                "INSERT INTO gc_blob_candidate (blob_id)
                 SELECT DISTINCT blob_id FROM manifest_blob WHERE repository_id IN ({repositories_sql})
                 UNION
                 SELECT blob_id FROM blob_link WHERE repository_id IN ({repositories_sql})"
            ),
            [owner.into()],
        )
        .await?;
        self.execute(
            conn,
            &format!(
                "INSERT INTO gc_orphan_upload (id, parts)
                 SELECT id, parts FROM blob_upload WHERE repository_id IN ({repositories_sql})"
            ),
            [owner.into()],
        )
        .await?;
        Ok(())
    }
}
