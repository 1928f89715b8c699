//! Who is asking, and whether they may.
//!
//! Every frontend request names an [`Identity`] and asks an [`Authorizer`] before it calls a
//! use case. The registry core issue serves everyone with full access (see
//! `quay_auth::AllowAll`); the accounts issue replaces that one value with the real decision.

use async_trait::async_trait;

use crate::error::Result;
use crate::names::RepositoryPath;

/// The caller of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Identity {
    /// Nobody authenticated.
    Anonymous,
}

/// What a caller wants to do to a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read manifests, blobs, tags and referrers.
    Pull,
    /// Upload blobs and push manifests (creating the repository if needed).
    Push,
    /// Delete manifests, tags and blob links.
    Delete,
}

/// Decides whether an identity may act on a repository.
#[async_trait]
pub trait Authorizer: Send + Sync {
    /// `Ok(())` if allowed; otherwise [`crate::Error::Unauthorized`] (authenticate and try
    /// again) or [`crate::Error::Denied`].
    async fn authorize(
        &self,
        identity: &Identity,
        repository: &RepositoryPath,
        action: Action,
    ) -> Result<()>;
}
