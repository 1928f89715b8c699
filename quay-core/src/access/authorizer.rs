//! The port through which the registry asks whether a caller may act: an implementation
//! gathers the facts and lets [`super::decision::decide`] answer.

use async_trait::async_trait;

use super::decision::Action;
use super::identity::Identity;
use crate::error::Result;
use crate::names::RepositoryPath;
use crate::permission::RepositoryAction;

/// Decides whether an identity may act.
#[async_trait]
pub trait Authorizer: Send + Sync {
    /// Whether `identity` may do `action` to the repository at `repository`. For a
    /// repository that does not exist, writing means creating it. A refusal is
    /// [`crate::Error::Denied`] whoever asked; [`crate::Error::RepositoryUnknown`] where the
    /// decision says the caller may know the repository is missing.
    async fn authorize(
        &self,
        identity: &Identity,
        repository: &RepositoryPath,
        action: RepositoryAction,
    ) -> Result<()>;

    /// Whether `identity` may do `action`, which is about the caller or the whole registry:
    /// there are no facts to gather.
    fn allows(&self, identity: &Identity, action: Action) -> bool;
}
