//! Auto-prune policies: created, changed and deleted by a namespace's or repository's
//! administrators, each change in the usage log.

use super::tenancy::Accounts;
use crate::account::NamespaceRecord;
use crate::audit::{Actor, LogKind};
use crate::error::{Error, Result};
use crate::ports::Repository;
use crate::prune::PrunePolicy;

/// What a policy belongs to: a namespace, or one of its repositories.
#[derive(Clone, Copy, Debug)]
pub struct PruneScope<'a> {
    /// The namespace.
    pub namespace: &'a NamespaceRecord,
    /// The repository, for a repository's policies.
    pub repository: Option<&'a Repository>,
}

/// A change to a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Create,
    Update,
    Delete,
}

impl PruneScope<'_> {
    fn repository_id(&self) -> Option<i64> {
        self.repository.map(|repository| repository.id)
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
    /// The policies of the scope.
    pub async fn prune_policies(&self, scope: PruneScope<'_>) -> Result<Vec<PrunePolicy>> {
        self.prune_policies
            .prune_policies(scope.namespace.id, scope.repository_id())
            .await
    }

    /// Creates a policy, or replaces the scope's policy with the same uuid.
    pub async fn save_prune_policy(
        &self,
        scope: PruneScope<'_>,
        policy: &PrunePolicy,
        actor: &Actor,
    ) -> Result<()> {
        let existing = self.prune_policies(scope).await?;
        let change = if existing.iter().any(|p| p.uuid == policy.uuid) {
            Change::Update
        } else {
            Change::Create
        };
        let (method, value) = policy.method_and_value();
        let mut audit = self
            .entry(actor, scope.kind(change))
            .namespace(scope.namespace.id)
            .meta("namespace", scope.namespace.name.as_str())
            .meta("method", method)
            .meta("value", value)
            .meta("tag_pattern", policy.tag_pattern.clone())
            .meta("tag_pattern_matches", policy.pattern_matches);
        if let Some(repository) = scope.repository {
            audit = audit.repository(repository);
        }
        self.prune_policies
            .save_prune_policy(scope.namespace.id, scope.repository_id(), policy, audit)
            .await
    }

    /// Deletes a policy of the scope.
    pub async fn delete_prune_policy(
        &self,
        scope: PruneScope<'_>,
        uuid: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut audit = self
            .entry(actor, scope.kind(Change::Delete))
            .namespace(scope.namespace.id)
            .meta("namespace", scope.namespace.name.as_str())
            .meta("policy_uuid", uuid);
        if let Some(repository) = scope.repository {
            audit = audit.repository(repository);
        }
        if self
            .prune_policies
            .delete_prune_policy(scope.namespace.id, scope.repository_id(), uuid, audit)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound {
                what: "policy",
                name: uuid.to_string(),
            })
        }
    }
}
