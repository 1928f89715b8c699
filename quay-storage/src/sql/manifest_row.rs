//! A manifest as reads find it, shared by the manifest and the tag queries.

use bytes::Bytes;
use quay_core::Digest;
use quay_core::manifest::ManifestMediaType;
use quay_core::ports::{RepositoryId, StoredManifest};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};

use super::SqlMetadata;
use super::entity::manifest;
use crate::error::{OrStorage, StorageError};

/// The columns of a manifest that requests read.
#[derive(FromQueryResult)]
pub(super) struct ManifestRow {
    pub(super) id: i64,
    pub(super) digest: String,
    pub(super) media_type: String,
    pub(super) bytes: Vec<u8>,
}

impl ManifestRow {
    pub(super) fn into_stored(self) -> Result<StoredManifest, StorageError> {
        let corrupt =
            |what: &str| StorageError::CorruptMetadata(format!("manifest {}: {what}", self.id));
        Ok(StoredManifest {
            id: self.id,
            digest: Digest::parse(&self.digest).map_err(|_| corrupt("digest"))?,
            media_type: ManifestMediaType::from_media_type(&self.media_type)
                .ok_or_else(|| corrupt("media type"))?,
            bytes: Bytes::from(self.bytes),
        })
    }
}

/// The id of the manifest `digest` of the repository.
pub(super) async fn manifest_id(
    conn: &impl ConnectionTrait,
    repository: RepositoryId,
    digest: &Digest,
) -> quay_core::Result<Option<i64>> {
    manifest::Entity::find()
        .select_only()
        .column(manifest::Column::Id)
        .filter(manifest::Column::RepositoryId.eq(repository))
        .filter(manifest::Column::Digest.eq(digest.as_str()))
        .into_tuple()
        .one(conn)
        .await
        .or_storage()
}

impl SqlMetadata {
    /// The manifest `digest` of the repository, alive or not.
    pub(super) async fn manifest_row(
        &self,
        repository: RepositoryId,
        digest: &Digest,
    ) -> quay_core::Result<Option<ManifestRow>> {
        ManifestRow::find_by_statement(self.statement(
            "SELECT id, digest, media_type, bytes FROM manifest
             WHERE repository_id = $1 AND digest = $2",
            [repository.into(), digest.as_str().into()],
        ))
        .one(&self.db)
        .await
        .or_storage()
    }
}
