//! Manifests, what they reference, and whether they are alive.

use std::collections::HashMap;

use async_trait::async_trait;
use quay_core::audit::AuditEntry;
use quay_core::events::Event;
use quay_core::manifest::RequiredContent;
use quay_core::ports::{
    LiveManifest, ManifestDetails, ManifestLabel, ManifestStore, NewManifest, Referrer,
    RepositoryId, TagPlacement,
};
use quay_core::quota::Reached;
use quay_core::tag::Target;
use quay_core::{Digest, Error};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, Value,
};

use super::entity::{manifest, manifest_child, manifest_label};
use super::manifest_row::{ManifestRow, manifest_id};
use super::outbox::EventSource;
use super::tags::{self, Liveness};
use super::{SqlMetadata, audit, placeholders, signed};
use crate::error::OrStorage;

/// How many levels of lists may keep a manifest alive (an index of indexes of manifests
/// is three levels).
const MAX_NESTING: usize = 4;

#[derive(FromQueryResult)]
struct ReferrerRow {
    #[sea_orm(nested)]
    manifest: ManifestRow,
    artifact_type: Option<String>,
}

/// A blob or manifest that a manifest requires, as stored.
#[derive(FromQueryResult)]
struct StoredContent {
    id: i64,
    digest: String,
    size: i64,
}

impl SqlMetadata {
    /// The ids of `required`, in order, among the `(id, digest, size)` rows that `sql`
    /// selects. The first digest without a row is the error `missing` makes of it; a row
    /// whose size differs from the declared one makes the manifest invalid. `sql` takes
    /// `values` as `$1`, `$2`, ... and the digests where it says `{digests}`.
    async fn required_ids(
        &self,
        conn: &impl ConnectionTrait,
        sql: &str,
        values: Vec<Value>,
        required: &[RequiredContent],
        missing: fn(Digest) -> Error,
    ) -> quay_core::Result<Vec<i64>> {
        if required.is_empty() {
            return Ok(Vec::new());
        }
        let sql = sql.replace("{digests}", &placeholders(values.len() + 1, required.len()));
        let values = values.into_iter().chain(
            required
                .iter()
                .map(|content| content.digest.as_str().into()),
        );
        let rows = StoredContent::find_by_statement(self.statement(&sql, values))
            .all(conn)
            .await
            .or_storage()?;
        let found: HashMap<String, (i64, i64)> = rows
            .into_iter()
            .map(|row| (row.digest, (row.id, row.size)))
            .collect();
        required
            .iter()
            .map(|content| {
                let (id, size) = *found
                    .get(content.digest.as_str())
                    .ok_or_else(|| missing(content.digest.clone()))?;
                match content.size {
                    Some(declared) if signed(declared) != size => {
                        Err(Error::ManifestInvalid(format!(
                            "the descriptor of {} declares {declared} bytes, but it has {size}",
                            content.digest
                        )))
                    }
                    _ => Ok(id),
                }
            })
            .collect()
    }

    /// Ids of the blobs, which the repository must all link, with the declared sizes.
    async fn required_blobs(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
        blobs: &[RequiredContent],
        now_ms: i64,
    ) -> quay_core::Result<Vec<i64>> {
        // Scalar subqueries with LIMIT 1 rather than EXISTS: for a prepared statement's
        // generic plan PostgreSQL hashed every reference of the repository (12 ms per push of
        // 50 layers at 600 manifests, growing with each push), where one index probe per
        // blob is what is wanted.
        self.required_ids(
            conn,
            "SELECT b.id AS id, b.digest AS digest, b.size AS size FROM blob b
             WHERE b.digest IN ({digests}) AND (
                 (SELECT 1 FROM manifest_blob mb
                  WHERE mb.repository_id = $1 AND mb.blob_id = b.id LIMIT 1) IS NOT NULL
                 OR (SELECT 1 FROM blob_link l
                     WHERE l.repository_id = $1 AND l.blob_id = b.id
                       AND l.expires_ms > $2 LIMIT 1) IS NOT NULL)",
            vec![repository.into(), now_ms.into()],
            blobs,
            Error::ManifestBlobUnknown,
        )
        .await
    }

    /// Ids of the listed manifests, which must all be in the repository, with the declared
    /// sizes.
    async fn required_children(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
        children: &[RequiredContent],
    ) -> quay_core::Result<Vec<i64>> {
        self.required_ids(
            conn,
            "SELECT m.id AS id, m.digest AS digest, CAST(LENGTH(m.bytes) AS BIGINT) AS size
             FROM manifest m
             WHERE m.repository_id = $1 AND m.digest IN ({digests})",
            vec![repository.into()],
            children,
            Error::ManifestReferenceUnknown,
        )
        .await
    }

    /// Inserts the manifest row with its references and labels; its id.
    async fn insert_manifest(
        &self,
        conn: &impl ConnectionTrait,
        repository: RepositoryId,
        new: NewManifest,
        blob_ids: Vec<i64>,
        child_ids: Vec<i64>,
        now_ms: i64,
    ) -> quay_core::Result<i64> {
        let inserted = manifest::Entity::insert(manifest::ActiveModel {
            repository_id: Set(repository),
            digest: Set(new.digest.to_string()),
            media_type: Set(new.media_type.as_str().to_string()),
            bytes: Set(new.bytes.to_vec()),
            config_media_type: Set(new.config_media_type),
            artifact_type: Set(new.artifact_type),
            subject: Set(new.subject.map(|s| s.to_string())),
            layers_size: Set(signed(new.layers_size)),
            created_ms: Set(now_ms),
            ..Default::default()
        })
        .exec(conn)
        .await
        .or_storage()?;
        let manifest_id = inserted.last_insert_id;
        if !blob_ids.is_empty() {
            // The namespace comes from the repository's row, in the same statement.
            let sql = format!(
                "INSERT INTO manifest_blob (repository_id, manifest_id, blob_id, namespace_id)
                 SELECT r.id, $2, b.id, r.namespace_id FROM repository r, blob b
                 WHERE r.id = $1 AND b.id IN ({})",
                placeholders(3, blob_ids.len())
            );
            let values = [repository.into(), manifest_id.into()]
                .into_iter()
                .chain(blob_ids.into_iter().map(Value::from));
            conn.execute_raw(self.statement(&sql, values))
                .await
                .or_storage()?;
        }
        if !child_ids.is_empty() {
            manifest_child::Entity::insert_many(child_ids.into_iter().map(|child_id| {
                manifest_child::ActiveModel {
                    repository_id: Set(repository),
                    manifest_id: Set(manifest_id),
                    child_manifest_id: Set(child_id),
                    ..Default::default()
                }
            }))
            .exec_without_returning(conn)
            .await
            .or_storage()?;
        }
        if !new.labels.is_empty() {
            manifest_label::Entity::insert_many(new.labels.into_iter().map(|(key, value)| {
                manifest_label::ActiveModel {
                    manifest_id: Set(manifest_id),
                    key: Set(key),
                    value: Set(value),
                    source: Set("manifest".to_string()),
                    ..Default::default()
                }
            }))
            .exec_without_returning(conn)
            .await
            .or_storage()?;
        }
        Ok(manifest_id)
    }

    /// Whether the manifest is alive: tagged, or listed by an alive list (up to
    /// [`MAX_NESTING`] levels up), and until when.
    async fn manifest_liveness(
        &self,
        conn: &impl ConnectionTrait,
        manifest_id: i64,
        now_ms: i64,
    ) -> quay_core::Result<Liveness> {
        let mut level = vec![manifest_id];
        for _ in 0..MAX_NESTING {
            if let alive @ Liveness::AliveUntil(_) = tags::liveness(conn, &level, now_ms).await? {
                return Ok(alive);
            }
            level = manifest_child::Entity::find()
                .select_only()
                .column(manifest_child::Column::ManifestId)
                .filter(manifest_child::Column::ChildManifestId.is_in(level))
                .into_tuple()
                .all(conn)
                .await
                .or_storage()?;
            if level.is_empty() {
                break;
            }
        }
        Ok(Liveness::Dead)
    }
}

#[async_trait]
impl ManifestStore for SqlMetadata {
    async fn live_manifest(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> quay_core::Result<Option<LiveManifest>> {
        let Some(row) = self.manifest_row(repository, digest).await? else {
            return Ok(None);
        };
        Ok(
            match self.manifest_liveness(&self.db, row.id, now_ms).await? {
                Liveness::Dead => None,
                Liveness::AliveUntil(fresh_until_ms) => Some(LiveManifest {
                    manifest: row.into_stored()?.into(),
                    fresh_until_ms,
                }),
            },
        )
    }

    async fn store_manifest(
        &self,
        repository: RepositoryId,
        new: NewManifest,
        placement: TagPlacement,
        audit: Option<AuditEntry>,
        event: Option<Event>,
        now_ms: i64,
    ) -> quay_core::Result<Option<Reached>> {
        let txn = self.lock_repository(repository).await.or_storage()?;
        let blob_ids = self
            .required_blobs(&txn, repository, &new.blobs, now_ms)
            .await?;
        let child_ids = self
            .required_children(&txn, repository, &new.children)
            .await?;
        let (manifest_id, inserted) = match manifest_id(&txn, repository, &new.digest).await? {
            Some(id) => (id, false),
            None => {
                let id = self
                    .insert_manifest(&txn, repository, new, blob_ids, child_ids, now_ms)
                    .await?;
                (id, true)
            }
        };
        // A refusal returns here, and the transaction rolls back: nothing of the push
        // remains, counted or not.
        let reached = self
            .count_pushed_manifest(&txn, repository, manifest_id, inserted)
            .await?;
        match placement {
            TagPlacement::Tag {
                name,
                lifetime_ms,
                immutable,
            } => {
                let target = Target {
                    manifest_id,
                    lifetime_ms,
                    immutable,
                    reversion: false,
                };
                tags::retarget(&txn, repository, &name, target, now_ms).await?;
            }
            TagPlacement::Hidden { until_ms } => {
                tags::keep_alive(&txn, repository, manifest_id, until_ms, now_ms).await?;
            }
        }
        audit::record(&txn, audit).await?;
        if let Some(event) = event {
            self.emit(&txn, EventSource::Repository(repository), &event, now_ms)
                .await?;
        }
        txn.commit().await.or_storage()?;
        Ok(reached)
    }
}

#[async_trait]
impl ManifestDetails for SqlMetadata {
    async fn manifest_labels(&self, manifest_id: i64) -> quay_core::Result<Vec<ManifestLabel>> {
        let rows = manifest_label::Entity::find()
            .filter(manifest_label::Column::ManifestId.eq(manifest_id))
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows
            .into_iter()
            .map(|row| ManifestLabel {
                id: row.id,
                key: row.key,
                value: row.value,
                source: row.source,
            })
            .collect())
    }

    async fn referrers(
        &self,
        repository: RepositoryId,
        subject: &Digest,
        now_ms: i64,
    ) -> quay_core::Result<Vec<Referrer>> {
        let rows = ReferrerRow::find_by_statement(self.statement(
            "SELECT m.id AS id, m.digest AS digest, m.media_type AS media_type, m.bytes AS bytes,
                    m.artifact_type AS artifact_type
             FROM manifest m
             WHERE m.repository_id = $1 AND m.subject = $2
               AND EXISTS (SELECT 1 FROM tag t WHERE t.manifest_id = m.id
                           AND (t.lifetime_end_ms IS NULL OR t.lifetime_end_ms > $3))",
            [repository.into(), subject.as_str().into(), now_ms.into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| {
                Ok(Referrer {
                    manifest: row.manifest.into_stored()?,
                    artifact_type: row.artifact_type,
                })
            })
            .collect()
    }
}
