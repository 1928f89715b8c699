//! The registry's content in its database, as one bundle, and the database's write probe.

use async_trait::async_trait;

use super::blobs::BlobIndex;
use super::manifests::ManifestStore;
use super::prune::PruneStore;
use super::repositories::RepositoryStore;
use super::tags::TagStore;
use super::uploads::UploadSessions;
use crate::error::Result;

/// Whether the database still takes writes, asked by health checks so that a load balancer
/// learns of a full or read-only database before clients' writes fail on it.
#[async_trait]
pub trait WriteProbe: Send + Sync {
    /// Writes and commits a marker; fails as a client's write would.
    async fn probe_writes(&self, now_ms: i64) -> Result<()>;
}

/// The registry's content in its database.
pub trait MetadataStore:
    RepositoryStore + BlobIndex + UploadSessions + ManifestStore + TagStore + PruneStore + WriteProbe
{
}

impl<T> MetadataStore for T where
    T: RepositoryStore
        + BlobIndex
        + UploadSessions
        + ManifestStore
        + TagStore
        + PruneStore
        + WriteProbe
{
}
