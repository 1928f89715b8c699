//! The authorizer: the facts of a repository or namespace read from the database, and
//! [`quay_core::access::decide`]'s answer on them.
//!
//! Facts are kept for one second: a request that authenticates with a password or
//! anonymously would otherwise query them every time, and a token keeps its grants for an
//! hour anyway.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moka::sync::Cache;
use quay_core::access::{
    Action, Authorizer, Decision, Facts, Identity, RepositoryStanding, decide,
};
use quay_core::account::AccountId;
use quay_core::permission::{PermissionSettings, RepositoryAction};
use quay_core::ports::{AccountDirectory, RepositoryAccess};
use quay_core::{Error, RepositoryPath};

/// Decides with Quay's rules.
pub struct PermissionAuthorizer {
    directory: Arc<dyn AccountDirectory>,
    permissions: PermissionSettings,
    facts: Cache<(Option<AccountId>, RepositoryPath), Arc<RepositoryAccess>>,
}

impl PermissionAuthorizer {
    /// An authorizer reading facts from `directory`, deciding with `permissions`.
    pub fn new(directory: Arc<dyn AccountDirectory>, permissions: PermissionSettings) -> Self {
        Self {
            directory,
            permissions,
            facts: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(1))
                .build(),
        }
    }

    async fn access(
        &self,
        account: Option<AccountId>,
        path: &RepositoryPath,
    ) -> quay_core::Result<Arc<RepositoryAccess>> {
        let key = (account, path.clone());
        if let Some(access) = self.facts.get(&key) {
            return Ok(access);
        }
        let access = Arc::new(self.directory.repository_access(account, path).await?);
        self.facts.insert(key, access.clone());
        Ok(access)
    }
}

#[async_trait]
impl Authorizer for PermissionAuthorizer {
    async fn authorize(
        &self,
        identity: &Identity,
        repository: &RepositoryPath,
        action: RepositoryAction,
    ) -> quay_core::Result<()> {
        let standing = match identity {
            // A registry token's grants are all that count: no facts to read.
            Identity::Token { .. } => RepositoryStanding::Missing(None),
            _ => {
                let account = identity.principal().map(|principal| principal.account);
                RepositoryStanding::from(self.access(account, repository).await?.as_ref())
            }
        };
        let facts = Facts::Repository {
            path: repository,
            standing,
        };
        let decision = decide(
            identity,
            Action::Repository(action),
            &facts,
            self.permissions,
        );
        match (decision, standing) {
            (Decision::Allow, _) => Ok(()),
            (Decision::Refuse, _) => Err(Error::Denied),
            (Decision::NotFound, RepositoryStanding::Missing(None)) => Err(Error::NotFound {
                what: "namespace",
                name: repository.namespace.to_string(),
            }),
            (Decision::NotFound, _) => Err(Error::RepositoryUnknown),
        }
    }

    fn allows(&self, identity: &Identity, action: Action) -> bool {
        decide(identity, action, &Facts::Caller, self.permissions).allowed()
    }
}
