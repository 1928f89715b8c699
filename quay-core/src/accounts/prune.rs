//! Auto-prune policies: created, changed and deleted by a namespace's or repository's
//! administrators, each change in the usage log.

use super::tenancy::Accounts;
use crate::access::{Action, Caller};
use crate::account::NamespaceRecord;
use crate::audit::LogKind;
use crate::error::{Error, Result};
use crate::names::{Namespace, RepositoryPath};
use crate::permission::RepositoryAction;
use crate::ports::Repository;
use crate::prune::PrunePolicy;

/// Whose policies: the caller's own namespace, an organization's, or a repository's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyOwner {
    /// The signed-in caller's namespace (`user:admin`).
    Caller,
    /// The organization's (its administrators).
    Organization(Namespace),
    /// The repository's (its admins).
    Repository(RepositoryPath),
}

/// What a policy belongs to, once the caller may manage its policies.
struct PruneScope {
    namespace: NamespaceRecord,
    repository: Option<Repository>,
}

/// A change to a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Create,
    Update,
    Delete,
}

impl PruneScope {
    fn repository_id(&self) -> Option<i64> {
        self.repository.as_ref().map(|repository| repository.id)
    }

    fn kind(&self, change: Change) -> LogKind {
        match (self.repository.is_some(), change) {
            (false, Change::Create) => LogKind::CreateNamespaceAutoprunePolicy,
            (false, Change::Update) => LogKind::UpdateNamespaceAutoprunePolicy,
            (false, Change::Delete) => LogKind::DeleteNamespaceAutoprunePolicy,
            (true, Change::Create) => LogKind::CreateRepositoryAutoprunePolicy,
            (true, Change::Update) => LogKind::UpdateRepositoryAutoprunePolicy,
            (true, Change::Delete) => LogKind::DeleteRepositoryAutoprunePolicy,
        }
    }
}

impl Accounts {
    /// What `owner` names, once `caller` may manage its policies.
    async fn prune_scope(&self, caller: &Caller, owner: &PolicyOwner) -> Result<PruneScope> {
        Ok(match owner {
            PolicyOwner::Caller => PruneScope {
                namespace: self
                    .own_namespace(&caller.identity, Action::AdministerOwnAccount)
                    .await?,
                repository: None,
            },
            PolicyOwner::Organization(name) => PruneScope {
                namespace: self.administered(caller, name).await?,
                repository: None,
            },
            PolicyOwner::Repository(path) => {
                let details = self
                    .repository_for(&caller.identity, path, RepositoryAction::Admin)
                    .await?;
                PruneScope {
                    namespace: self.namespace(&path.namespace).await?,
                    repository: Some(details.repository),
                }
            }
        })
    }

    /// The policies of `owner`.
    pub async fn prune_policies(
        &self,
        caller: &Caller,
        owner: &PolicyOwner,
    ) -> Result<Vec<PrunePolicy>> {
        let scope = self.prune_scope(caller, owner).await?;
        self.policies_of(&scope).await
    }

    async fn policies_of(&self, scope: &PruneScope) -> Result<Vec<PrunePolicy>> {
        self.prune_policies
            .prune_policies(scope.namespace.id, scope.repository_id())
            .await
    }

    /// The policy `uuid` of `owner`.
    pub async fn prune_policy(
        &self,
        caller: &Caller,
        owner: &PolicyOwner,
        uuid: &str,
    ) -> Result<PrunePolicy> {
        let scope = self.prune_scope(caller, owner).await?;
        self.policies_of(&scope)
            .await?
            .into_iter()
            .find(|policy| policy.uuid == uuid)
            .ok_or_else(|| policy_not_found(uuid))
    }

    /// Adds a policy to `owner`'s, or replaces the one with the same uuid; with `existing`,
    /// only a policy that exists.
    pub async fn save_prune_policy(
        &self,
        caller: &Caller,
        owner: &PolicyOwner,
        policy: &PrunePolicy,
        existing: bool,
    ) -> Result<()> {
        let scope = self.prune_scope(caller, owner).await?;
        let exists = self
            .policies_of(&scope)
            .await?
            .iter()
            .any(|p| p.uuid == policy.uuid);
        let change = match (exists, existing) {
            (true, _) => Change::Update,
            (false, false) => Change::Create,
            (false, true) => return Err(policy_not_found(&policy.uuid)),
        };
        let (method, value) = policy.method_and_value();
        let mut audit = self
            .entry(&caller.actor, scope.kind(change))
            .namespace(scope.namespace.id)
            .meta("namespace", scope.namespace.name.as_str())
            .meta("method", method)
            .meta("value", value)
            .meta("tag_pattern", policy.tag_pattern.clone())
            .meta("tag_pattern_matches", policy.pattern_matches);
        if let Some(repository) = &scope.repository {
            audit = audit.repository(repository);
        }
        self.prune_policies
            .save_prune_policy(scope.namespace.id, scope.repository_id(), policy, audit)
            .await
    }

    /// Deletes policy `uuid` of `owner`.
    pub async fn delete_prune_policy(
        &self,
        caller: &Caller,
        owner: &PolicyOwner,
        uuid: &str,
    ) -> Result<()> {
        let scope = self.prune_scope(caller, owner).await?;
        let mut audit = self
            .entry(&caller.actor, scope.kind(Change::Delete))
            .namespace(scope.namespace.id)
            .meta("namespace", scope.namespace.name.as_str())
            .meta("policy_uuid", uuid);
        if let Some(repository) = &scope.repository {
            audit = audit.repository(repository);
        }
        if self
            .prune_policies
            .delete_prune_policy(scope.namespace.id, scope.repository_id(), uuid, audit)
            .await?
        {
            Ok(())
        } else {
            Err(policy_not_found(uuid))
        }
    }
}

fn policy_not_found(uuid: &str) -> Error {
    Error::NotFound {
        what: "policy",
        name: uuid.to_string(),
    }
}
