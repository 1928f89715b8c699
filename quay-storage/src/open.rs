//! Assembling a [`Registry`] from storage: the few lines every embedder would otherwise write.

use std::path::Path;
use std::sync::Arc;

use quay_core::gc::{CollectorSettings, GarbageCollector};
use quay_core::ports::AccountDirectory;
use quay_core::{Accounts, Registry, RegistrySettings, Stores};

use crate::peers::PostgresPeers;
use crate::{
    CacheOptions, CachedMetadata, DistributedStorage, MetadataOptions, ObjectStorage, PullLog,
    SqlMetadata, StorageError, StorageLocations,
};

/// A registry and tenancy beside it, on the same stores.
pub struct Backend {
    /// The registry.
    pub registry: Registry,
    /// Tenancy's use cases.
    pub accounts: Arc<Accounts>,
    /// Accounts, teams, permissions, credentials and the usage log.
    pub directory: Arc<dyn AccountDirectory>,
    /// The queue of pull entries; close it on shutdown.
    pub pull_log: Arc<PullLog>,
    /// The garbage collector, for the operator to schedule.
    pub collector: GarbageCollector,
    /// The blob storage's locations, for the operator to schedule their [`Replicator`]
    /// (`storage.replicator()`) and to look at.
    pub storage: DistributedStorage,
}

/// A registry on the database at `db_uri` (Quay's `DB_URI`; SQLite or PostgreSQL), with the
/// metadata cache in front, and blobs in `storage` (one [`ObjectStorage`] converts into
/// it). Starts the pull log's writer on the current runtime.
pub async fn open_registry(
    db_uri: &str,
    options: &MetadataOptions,
    storage: StorageLocations,
    settings: RegistrySettings,
    collector_settings: CollectorSettings,
) -> Result<Backend, StorageError> {
    let metadata = SqlMetadata::connect(db_uri, options).await?;
    let directory = Arc::new(metadata.clone());
    let pull_log = Arc::new(PullLog::start(directory.clone()));
    let storage = DistributedStorage::new(storage, metadata.clone())?;
    let blobs = Arc::new(storage.clone());
    let peers = metadata
        .postgres_pool()
        .map(|pool| Arc::new(PostgresPeers::new(pool)));
    let mut cached = CachedMetadata::new(metadata, &CacheOptions::default());
    if let Some(peers) = &peers {
        cached = cached.with_peers(peers.clone());
    }
    let cached = Arc::new(cached);
    if let Some(peers) = peers {
        tokio::spawn(peers.listen(cached.clone()));
    }
    let collector = GarbageCollector::new(
        cached.clone(),
        directory.clone(),
        blobs.clone(),
        blobs.clone(),
        collector_settings,
    );
    let metadata = CachedMetadata::stores(&cached);
    let accounts = Accounts::new(
        directory.clone(),
        metadata.for_accounts(),
        settings.permissions,
    );
    let stores = Stores {
        metadata,
        accounts: directory.clone(),
        blobs: blobs.clone(),
        uploads: blobs,
        pull_log: pull_log.clone(),
    };
    Ok(Backend {
        registry: Registry::new(stores, settings),
        accounts: Arc::new(accounts),
        directory,
        pull_log,
        collector,
        storage,
    })
}

/// The embedded default: SQLite at `dir/quay.db` and blobs under `dir/storage`.
pub async fn open_embedded(
    dir: &Path,
    settings: RegistrySettings,
) -> Result<Backend, StorageError> {
    let db_uri = format!("sqlite://{}", dir.join("quay.db").display());
    open_registry(
        &db_uri,
        &MetadataOptions::default(),
        ObjectStorage::filesystem(&dir.join("storage"))?.into(),
        settings,
        CollectorSettings::default(),
    )
    .await
}
