//! Identities and the authorizer of the registry.
//!
//! Every frontend request asks an [`Authorizer`] before it acts. [`AllowAll`] lets everyone
//! do everything: an open registry, for services that embed one behind their own access
//! control.

use async_trait::async_trait;
use quay_core::RepositoryPath;
use quay_core::access::{Authorizer, Identity};
use quay_core::names::Namespace;
use quay_core::permission::{NamespaceAction, RepositoryAction};

/// Allows every action to everyone: an open registry.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

#[async_trait]
impl Authorizer for AllowAll {
    async fn authorize(
        &self,
        _identity: &Identity,
        _repository: &RepositoryPath,
        _action: RepositoryAction,
    ) -> quay_core::Result<()> {
        Ok(())
    }

    async fn authorize_namespace(
        &self,
        _identity: &Identity,
        _namespace: &Namespace,
        _action: NamespaceAction,
    ) -> quay_core::Result<()> {
        Ok(())
    }
}
