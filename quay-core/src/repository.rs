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
    /// What it accepts.
    pub state: RepositoryState,
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
    /// Why it is created, which says whether its creation waits for the disk.
    pub creation: Creation,
}

/// Why a repository is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Creation {
    /// Asked for (the API): the answer promises the repository, so its creation is
    /// committed durably before it.
    Requested,
    /// On the way to content (a push's first upload, a proxy cache's first pull): nothing
    /// promises the repository until its content is stored, so its creation need not wait
    /// for the disk. The content's first durable commit makes the creation durable too
    /// (the database writes its log in order), and a power cut before it undoes the
    /// creation with the unfinished request it served.
    ForContent,
}

/// What a repository accepts (Quay's `RepositoryState`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RepositoryState {
    /// Pushes and tag changes from whoever may write.
    #[default]
    Normal,
    /// Nothing changes its tags.
    ReadOnly,
    /// A mirror of an upstream repository: only the mirror (and its robot) changes its tags.
    Mirror,
}

impl RepositoryState {
    /// Quay's name, as `changestate` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::ReadOnly => "READ_ONLY",
            Self::Mirror => "MIRROR",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Normal, Self::ReadOnly, Self::Mirror]
            .into_iter()
            .find(|state| state.name() == name)
    }
}
