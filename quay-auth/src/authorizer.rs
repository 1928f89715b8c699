//! The authorizer: Quay's permission rules ([`quay_core::permission`]) on facts read from
//! the database.
//!
//! A registry token is allowed exactly what it grants. Anyone else is decided from the
//! facts of the repository (or, for one that does not exist, of its namespace): for a
//! missing repository, reading is allowed only to those who could read anything in the
//! namespace (so that they learn it is missing, and everyone else gets the same refusal
//! as for a private repository), and writing means creating it.
//!
//! Facts are kept for one second: a request that authenticates with a password or
//! anonymously would otherwise query them every time, and a token keeps its grants for an
//! hour anyway.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moka::sync::Cache;
use quay_core::access::{Authorizer, Identity, PrincipalKind};
use quay_core::account::AccountId;
use quay_core::names::Namespace;
use quay_core::permission::{
    NamespaceAction, RepositoryAction, RepositoryFacts, Visibility, may_in_namespace,
    may_on_repository,
};
use quay_core::ports::{AccountDirectory, RepositoryAccess};
use quay_core::{Error, RepositoryPath};

use crate::AuthSettings;

/// Decides with Quay's rules.
pub struct PermissionAuthorizer {
    directory: Arc<dyn AccountDirectory>,
    settings: AuthSettings,
    facts: Cache<(Option<AccountId>, RepositoryPath), Arc<RepositoryAccess>>,
}

impl PermissionAuthorizer {
    /// An authorizer reading facts from `directory`.
    pub fn new(directory: Arc<dyn AccountDirectory>, settings: AuthSettings) -> Self {
        Self {
            directory,
            settings,
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

fn allow(allowed: bool) -> quay_core::Result<()> {
    if allowed { Ok(()) } else { Err(Error::Denied) }
}

#[async_trait]
impl Authorizer for PermissionAuthorizer {
    async fn authorize(
        &self,
        identity: &Identity,
        repository: &RepositoryPath,
        action: RepositoryAction,
    ) -> quay_core::Result<()> {
        if let Identity::Token { grants, .. } = identity {
            let granted = grants
                .iter()
                .any(|grant| grant.repository == *repository && grant.actions.allow(action));
            return allow(granted);
        }
        let principal = identity.principal();
        let scopes = principal.and_then(|p| p.scopes);
        // An OAuth token caps what its user may do.
        if scopes.is_some_and(|s| s.repo < Some(action.required_role())) {
            return Err(Error::Denied);
        }
        let access = self
            .access(principal.map(|p| p.account), repository)
            .await?;
        let subject = identity.subject();
        let settings = self.settings.permissions;
        match (&access.repository, &access.namespace) {
            (Some((_, visibility)), _) => {
                let facts = RepositoryFacts {
                    visibility: *visibility,
                    namespace: access.namespace_facts,
                    direct_role: access.direct_role,
                    team_role: access.team_role,
                };
                allow(may_on_repository(subject, action, &facts, settings))
            }
            (None, Some(_)) if action == RepositoryAction::Write => {
                let may_create = scopes.is_none_or(|s| s.repo_create)
                    && may_in_namespace(
                        subject,
                        NamespaceAction::CreateRepository,
                        &access.namespace_facts,
                        settings,
                    );
                allow(may_create)
            }
            (None, Some(_)) => {
                let facts = RepositoryFacts {
                    visibility: Visibility::Private,
                    namespace: access.namespace_facts,
                    direct_role: None,
                    team_role: None,
                };
                allow(may_on_repository(subject, action, &facts, settings))
            }
            // A missing namespace may be created by a user's push, where configured (by an
            // OAuth token only with `repo:create`, as a repository).
            (None, None) => allow(
                action == RepositoryAction::Write
                    && self.settings.create_namespace_on_push
                    && scopes.is_none_or(|s| s.repo_create)
                    && matches!(principal.map(|p| p.kind), Some(PrincipalKind::User(_))),
            ),
        }
    }

    async fn authorize_namespace(
        &self,
        identity: &Identity,
        namespace: &Namespace,
        action: NamespaceAction,
    ) -> quay_core::Result<()> {
        let principal = identity.principal();
        if let Some(scopes) = principal.and_then(|p| p.scopes) {
            let scoped = match action {
                NamespaceAction::View => true,
                NamespaceAction::CreateRepository => scopes.repo_create,
                NamespaceAction::Administer => scopes.org_admin,
            };
            if !scoped {
                return Err(Error::Denied);
            }
        }
        let Some((_, facts)) = self
            .directory
            .namespace_access(principal.map(|p| p.account), namespace)
            .await?
        else {
            return Err(Error::NotFound {
                what: "namespace",
                name: namespace.to_string(),
            });
        };
        allow(may_in_namespace(
            identity.subject(),
            action,
            &facts,
            self.settings.permissions,
        ))
    }
}
