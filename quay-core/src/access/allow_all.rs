//! The authorizer of an open registry.

use async_trait::async_trait;

use super::authorizer::Authorizer;
use super::decision::Action;
use super::identity::Identity;
use crate::error::Result;
use crate::names::RepositoryPath;
use crate::permission::RepositoryAction;

/// Allows every action to everyone: an open registry, for a service that embeds one behind
/// its own access control.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

#[async_trait]
impl Authorizer for AllowAll {
    async fn authorize(
        &self,
        _identity: &Identity,
        _repository: &RepositoryPath,
        _action: RepositoryAction,
    ) -> Result<()> {
        Ok(())
    }

    fn allows(&self, _identity: &Identity, _action: Action) -> bool {
        true
    }
}
