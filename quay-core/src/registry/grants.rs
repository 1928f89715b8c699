//! What a registry token may grant: the docker token flow's question, answered per scope.

use super::stores::Registry;
use crate::access::{Caller, GrantedActions};
use crate::error::{Error, Result};
use crate::names::RepositoryPath;
use crate::permission::RepositoryAction;

impl Registry {
    /// Of the actions `requested` on the repository at `path`, those the caller may take:
    /// what a registry token issued to them grants. Refused actions are dropped silently,
    /// as the token flow expects.
    pub async fn grantable(
        &self,
        path: &RepositoryPath,
        requested: GrantedActions,
        caller: &Caller,
    ) -> Result<GrantedActions> {
        let may = |action| async move {
            match self.permit(caller, path, action).await {
                // A caller who may learn that the namespace is missing gets the grant: the
                // request the token serves then says what is missing.
                Ok(()) | Err(Error::NotFound { .. }) => Ok(true),
                Err(Error::Denied | Error::Unauthorized | Error::RepositoryUnknown) => Ok(false),
                Err(other) => Err(other),
            }
        };
        Ok(GrantedActions {
            pull: requested.pull && may(RepositoryAction::Read).await?,
            push: requested.push && may(RepositoryAction::Write).await?,
            all: requested.all && may(RepositoryAction::Admin).await?,
        })
    }
}
