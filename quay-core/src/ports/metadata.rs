//! The registry's metadata ports together: one handle per trait, as the use cases hold them.

use std::sync::Arc;

use async_trait::async_trait;

use super::blobs::{BlobIndex, BlobLinkSearch};
use super::events::{EventNotificationStore, EventOutbox};
use super::gc::RepositoryCollection;
use super::manifests::{ManifestDetails, ManifestStore};
use super::mirror::MirrorStore;
use super::prune::{PruneStore, PruneTargets};
use super::repositories::{RepositoryCatalog, RepositorySettings, RepositoryStore};
use super::tags::{TagHistory, TagStore};
use super::uploads::UploadSessions;
use crate::error::Result;

/// Whether the database still takes writes, asked by health checks so that a load balancer
/// learns of a full or read-only database before clients' writes fail on it.
#[async_trait]
pub trait WriteProbe: Send + Sync {
    /// Writes and commits a marker; fails as a client's write would.
    async fn probe_writes(&self, now_ms: i64) -> Result<()>;
}

/// The registry's content in its database, a handle per port. A cache in front takes the
/// handles of the traits it caches; the others go to the database directly.
#[derive(Clone)]
pub struct MetadataStores {
    /// Repositories by path; creating and deleting them.
    pub repositories: Arc<dyn RepositoryStore>,
    /// Repositories' settings.
    pub repository_settings: Arc<dyn RepositorySettings>,
    /// The catalog.
    pub catalog: Arc<dyn RepositoryCatalog>,
    /// Blob links.
    pub blob_index: Arc<dyn BlobIndex>,
    /// Which repositories link a blob.
    pub blob_search: Arc<dyn BlobLinkSearch>,
    /// Uploads in progress.
    pub upload_sessions: Arc<dyn UploadSessions>,
    /// Manifests.
    pub manifests: Arc<dyn ManifestStore>,
    /// Manifests' labels and referrers.
    pub manifest_details: Arc<dyn ManifestDetails>,
    /// Tags.
    pub tags: Arc<dyn TagStore>,
    /// Tags' rows and lifetimes.
    pub tag_history: Arc<dyn TagHistory>,
    /// Auto-prune policies.
    pub prune_policies: Arc<dyn PruneStore>,
    /// What the policies apply to.
    pub prune_targets: Arc<dyn PruneTargets>,
    /// Event notifications.
    pub event_notifications: Arc<dyn EventNotificationStore>,
    /// The outbox of their deliveries.
    pub event_outbox: Arc<dyn EventOutbox>,
    /// Repository mirrors, which change repositories' states.
    pub mirrors: Arc<dyn MirrorStore>,
    /// Whether the database takes writes.
    pub probe: Arc<dyn WriteProbe>,
    /// Collecting a repository's tags and manifests past the time machine.
    pub collection: Arc<dyn RepositoryCollection>,
}

impl MetadataStores {
    /// Every port on `store`, with no cache.
    pub fn on<S: AllMetadata + 'static>(store: &Arc<S>) -> Self {
        Self {
            repositories: store.clone(),
            repository_settings: store.clone(),
            catalog: store.clone(),
            blob_index: store.clone(),
            blob_search: store.clone(),
            upload_sessions: store.clone(),
            manifests: store.clone(),
            manifest_details: store.clone(),
            tags: store.clone(),
            tag_history: store.clone(),
            prune_policies: store.clone(),
            prune_targets: store.clone(),
            event_notifications: store.clone(),
            event_outbox: store.clone(),
            mirrors: store.clone(),
            probe: store.clone(),
            collection: store.clone(),
        }
    }
}

/// A store that provides every metadata port, as the SQL store does.
pub trait AllMetadata:
    RepositoryStore
    + RepositorySettings
    + RepositoryCatalog
    + BlobIndex
    + BlobLinkSearch
    + UploadSessions
    + ManifestStore
    + ManifestDetails
    + TagStore
    + TagHistory
    + PruneStore
    + PruneTargets
    + EventNotificationStore
    + EventOutbox
    + MirrorStore
    + WriteProbe
    + RepositoryCollection
{
}

impl<T> AllMetadata for T where
    T: RepositoryStore
        + RepositorySettings
        + RepositoryCatalog
        + BlobIndex
        + BlobLinkSearch
        + UploadSessions
        + ManifestStore
        + ManifestDetails
        + TagStore
        + TagHistory
        + PruneStore
        + PruneTargets
        + EventNotificationStore
        + EventOutbox
        + MirrorStore
        + WriteProbe
        + RepositoryCollection
{
}
