//! Auto-prune policies: created, changed and deleted by a namespace's or repository's
//! administrators, each change in the usage log.

use super::access::{OwnedScope, SettingsOwner};
use super::tenancy::Accounts;
use crate::access::Caller;
use crate::audit::LogKind;
use crate::error::{Error, Result};
use crate::prune::PrunePolicy;

/// A change to a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Create,
    Update,
    Delete,
}

/// The usage log's kind for `change` to a policy of `scope`.
fn log_kind(scope: &OwnedScope, change: Change) -> LogKind {
    match (scope.repository.is_some(), change) {
        (false, Change::Create) => LogKind::CreateNamespaceAutoprunePolicy,
        (false, Change::Update) => LogKind::UpdateNamespaceAutoprunePolicy,
        (false, Change::Delete) => LogKind::DeleteNamespaceAutoprunePolicy,
        (true, Change::Create) => LogKind::CreateRepositoryAutoprunePolicy,
        (true, Change::Update) => LogKind::UpdateRepositoryAutoprunePolicy,
        (true, Change::Delete) => LogKind::DeleteRepositoryAutoprunePolicy,
    }
}

impl Accounts {
    /// The policies of `owner`.
    pub async fn prune_policies(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
    ) -> Result<Vec<PrunePolicy>> {
        let scope = self.owned_scope(caller, owner).await?;
        self.policies_of(&scope).await
    }

    async fn policies_of(&self, scope: &OwnedScope) -> Result<Vec<PrunePolicy>> {
        self.prune_policies
            .prune_policies(scope.namespace.id, scope.repository_id())
            .await
    }

    /// The policy `uuid` of `owner`.
    pub async fn prune_policy(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
        uuid: &str,
    ) -> Result<PrunePolicy> {
        let scope = self.owned_scope(caller, owner).await?;
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
        owner: &SettingsOwner,
        policy: &PrunePolicy,
        existing: bool,
    ) -> Result<()> {
        let scope = self.owned_scope(caller, owner).await?;
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
            .entry(&caller.actor, log_kind(&scope, change))
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
        owner: &SettingsOwner,
        uuid: &str,
    ) -> Result<()> {
        let scope = self.owned_scope(caller, owner).await?;
        let mut audit = self
            .entry(&caller.actor, log_kind(&scope, Change::Delete))
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
