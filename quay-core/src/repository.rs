//! Repositories as the registry knows them: identity, path and settings.

use crate::account::{AccountId, NamespaceId};
use crate::names::RepositoryPath;
use crate::permission::Visibility;

/// Database id of a repository.
pub type RepositoryId = i64;

/// A repository known to the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    /// Database id.
    pub id: RepositoryId,
    /// Its namespace's id.
    pub namespace: NamespaceId,
    /// Its full path.
    pub path: RepositoryPath,
}

/// A repository's settings, as the API shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryDetails {
    /// The repository.
    pub repository: Repository,
    /// Who may read it.
    pub visibility: Visibility,
    /// Markdown description.
    pub description: Option<String>,
    /// When it was created, epoch milliseconds.
    pub created_ms: i64,
}

/// A repository to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRepository {
    /// Who may read it.
    pub visibility: Visibility,
    /// Markdown description.
    pub description: Option<String>,
    /// The user or robot creating it: gets admin on it, and activates the organization's
    /// default permissions.
    pub creator: Option<AccountId>,
}
