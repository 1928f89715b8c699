//! Assembling a [`Registry`] from storage: the few lines every embedder would otherwise write.

use std::path::Path;
use std::sync::Arc;

use quay_core::{Registry, RegistrySettings};

use crate::{
    CacheOptions, CachedMetadata, MetadataOptions, ObjectStorage, SqlMetadata, StorageError,
};

/// A registry on the database at `db_uri` (Quay's `DB_URI`; SQLite or PostgreSQL), with the
/// metadata cache in front, and blobs in the directory `blob_dir`.
pub async fn open_registry(
    db_uri: &str,
    options: &MetadataOptions,
    blob_dir: &Path,
    settings: RegistrySettings,
) -> Result<Registry, StorageError> {
    let metadata = SqlMetadata::connect(db_uri, options).await?;
    let metadata = Arc::new(CachedMetadata::new(metadata, &CacheOptions::default()));
    let blobs = Arc::new(ObjectStorage::filesystem(blob_dir)?);
    Ok(Registry::new(metadata, blobs.clone(), blobs, settings))
}

/// The embedded default: SQLite at `dir/quay.db` and blobs under `dir/storage`.
pub async fn open_embedded(
    dir: &Path,
    settings: RegistrySettings,
) -> Result<Registry, StorageError> {
    let db_uri = format!("sqlite://{}", dir.join("quay.db").display());
    open_registry(
        &db_uri,
        &MetadataOptions::default(),
        &dir.join("storage"),
        settings,
    )
    .await
}
