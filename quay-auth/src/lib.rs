//! Identities and the authorizer of the registry.
//!
//! Every frontend request asks an [`Authorizer`] before it
//! acts. Until accounts exist, the registry serves everyone with full access through
//! [`AllowAll`]; the accounts work replaces that one value with the decision of
//! `quay_core::permission`, without touching a handler.

use async_trait::async_trait;
use quay_core::RepositoryPath;
use quay_core::access::{Action, Authorizer, Identity};

/// Allows every action to everyone: an open registry.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

#[async_trait]
impl Authorizer for AllowAll {
    async fn authorize(
        &self,
        _identity: &Identity,
        _repository: &RepositoryPath,
        _action: Action,
    ) -> quay_core::Result<()> {
        Ok(())
    }
}
