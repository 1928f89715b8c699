//! The port through which frontends ask about repositories and namespaces: an
//! implementation gathers the facts and lets [`super::decision::decide`] answer.

use async_trait::async_trait;

use super::identity::Identity;
use crate::error::Result;
use crate::names::{Namespace, RepositoryPath};
use crate::permission::{NamespaceAction, RepositoryAction};

/// Decides whether an identity may act.
///
/// A refusal is [`crate::Error::Denied`] whoever asked; the frontend decides whether the caller
/// sees 401 (not authenticated, or a registry request) or 403.
#[async_trait]
pub trait Authorizer: Send + Sync {
    /// Whether `identity` may do `action` to the repository at `repository`. For a
    /// repository that does not exist, writing means creating it.
    async fn authorize(
        &self,
        identity: &Identity,
        repository: &RepositoryPath,
        action: RepositoryAction,
    ) -> Result<()>;

    /// Whether `identity` may do `action` in the namespace.
    async fn authorize_namespace(
        &self,
        identity: &Identity,
        namespace: &Namespace,
        action: NamespaceAction,
    ) -> Result<()>;
}
