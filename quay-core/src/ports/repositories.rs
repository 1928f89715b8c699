//! The port of repositories.

use async_trait::async_trait;

use crate::account::NamespaceId;
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::names::RepositoryPath;
use crate::permission::Visibility;
use crate::repository::{NewRepository, Repository, RepositoryDetails, RepositoryId};

/// Repositories by path, and the changes that create or delete them.
#[async_trait]
pub trait RepositoryStore: Send + Sync {
    /// The repository at `path`, if it exists.
    async fn find_repository(&self, path: &RepositoryPath) -> Result<Option<Repository>>;

    /// The repository at `path` in namespace `namespace`, created if missing. Only when it
    /// is created: the creator gets admin, the organization's default permissions apply, and
    /// `audit` (if any) is recorded, filed under the new repository. Returns the repository
    /// and whether it was created.
    async fn create_repository(
        &self,
        namespace: NamespaceId,
        path: &RepositoryPath,
        new: NewRepository,
        audit: Option<AuditEntry>,
        now_ms: i64,
    ) -> Result<(Repository, bool)>;

    /// Deletes the repository's metadata: tags, manifests, links, uploads, permissions.
    /// (Blob bytes are reclaimed by garbage collection.)
    async fn delete_repository(&self, repository: RepositoryId, audit: AuditEntry) -> Result<()>;

    /// Deletes a namespace with everything it owns: repositories, robots, teams, and for a
    /// user namespace the user. The entry is kept (filed under no namespace). It is here,
    /// with the repositories, so that whatever caches them sees the deletion.
    async fn delete_namespace(&self, namespace: NamespaceId, audit: AuditEntry) -> Result<()>;
}

/// Every repository, by path: the catalog.
#[async_trait]
pub trait RepositoryCatalog: Send + Sync {
    /// Up to `limit` repository paths in ascending order, after `after`.
    async fn list_repositories(
        &self,
        after: Option<&RepositoryPath>,
        limit: u32,
    ) -> Result<Vec<RepositoryPath>>;
}

/// A repository's settings, as the API reads and changes them.
#[async_trait]
pub trait RepositorySettings: Send + Sync {
    /// A repository's settings.
    async fn repository_details(
        &self,
        repository: RepositoryId,
    ) -> Result<Option<RepositoryDetails>>;

    /// Changes who may read the repository.
    async fn set_visibility(
        &self,
        repository: RepositoryId,
        visibility: Visibility,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Changes the description.
    async fn set_description(
        &self,
        repository: RepositoryId,
        description: &str,
        audit: AuditEntry,
    ) -> Result<()>;
}
