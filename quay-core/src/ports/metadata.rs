//! The registry's metadata ports together: one handle per trait, as the use cases hold them.

use std::sync::Arc;

use async_trait::async_trait;

use super::blobs::{BlobIndex, BlobLinkSearch};
use super::manifests::{ManifestDetails, ManifestStore};
use super::prune::{PruneStore, PruneTargets};
use super::repositories::{RepositoryCatalog, RepositorySettings, RepositoryStore};
use super::tags::{TagHistory, TagStore};
use super::uploads::UploadSessions;
use crate::account::NamespaceId;
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::names::RepositoryPath;
use crate::permission::Visibility;
use crate::prune::PrunePolicy;
use crate::repository::{NewRepository, Repository, RepositoryDetails, RepositoryId};

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
    /// Whether the database takes writes.
    pub probe: Arc<dyn WriteProbe>,
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
            probe: store.clone(),
        }
    }

    /// The handles [`Accounts`](crate::Accounts) works on, as the one [`MetadataStore`] it
    /// takes.
    pub fn for_accounts(&self) -> Arc<dyn MetadataStore> {
        Arc::new(ForAccounts(self.clone()))
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
    + WriteProbe
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
        + WriteProbe
{
}

/// The repository metadata that tenancy ([`Accounts`](crate::Accounts)) changes: repositories
/// and their settings, and prune policies.
pub trait MetadataStore: RepositoryStore + RepositorySettings + PruneStore {}

impl<T> MetadataStore for T where T: RepositoryStore + RepositorySettings + PruneStore {}

/// [`MetadataStores`] as a [`MetadataStore`]: each call goes to its handle.
struct ForAccounts(MetadataStores);

#[async_trait]
impl RepositoryStore for ForAccounts {
    async fn find_repository(&self, path: &RepositoryPath) -> Result<Option<Repository>> {
        self.0.repositories.find_repository(path).await
    }

    async fn create_repository(
        &self,
        namespace: NamespaceId,
        path: &RepositoryPath,
        new: NewRepository,
        audit: Option<AuditEntry>,
        now_ms: i64,
    ) -> Result<(Repository, bool)> {
        self.0
            .repositories
            .create_repository(namespace, path, new, audit, now_ms)
            .await
    }

    async fn delete_repository(&self, repository: RepositoryId, audit: AuditEntry) -> Result<()> {
        self.0
            .repositories
            .delete_repository(repository, audit)
            .await
    }

    async fn delete_namespace(&self, namespace: NamespaceId, audit: AuditEntry) -> Result<()> {
        self.0.repositories.delete_namespace(namespace, audit).await
    }
}

#[async_trait]
impl RepositorySettings for ForAccounts {
    async fn repository_details(
        &self,
        repository: RepositoryId,
    ) -> Result<Option<RepositoryDetails>> {
        self.0
            .repository_settings
            .repository_details(repository)
            .await
    }

    async fn set_visibility(
        &self,
        repository: RepositoryId,
        visibility: Visibility,
        audit: AuditEntry,
    ) -> Result<()> {
        self.0
            .repository_settings
            .set_visibility(repository, visibility, audit)
            .await
    }

    async fn set_description(
        &self,
        repository: RepositoryId,
        description: &str,
        audit: AuditEntry,
    ) -> Result<()> {
        self.0
            .repository_settings
            .set_description(repository, description, audit)
            .await
    }
}

#[async_trait]
impl PruneStore for ForAccounts {
    async fn prune_policies(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
    ) -> Result<Vec<PrunePolicy>> {
        self.0
            .prune_policies
            .prune_policies(namespace, repository)
            .await
    }

    async fn save_prune_policy(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        policy: &PrunePolicy,
        audit: AuditEntry,
    ) -> Result<()> {
        self.0
            .prune_policies
            .save_prune_policy(namespace, repository, policy, audit)
            .await
    }

    async fn delete_prune_policy(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        audit: AuditEntry,
    ) -> Result<bool> {
        self.0
            .prune_policies
            .delete_prune_policy(namespace, repository, uuid, audit)
            .await
    }
}
