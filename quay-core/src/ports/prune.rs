//! The port of auto-prune policies.

use async_trait::async_trait;

use crate::account::NamespaceId;
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::prune::PrunePolicy;
use crate::repository::{Repository, RepositoryId};

/// Auto-prune policies of namespaces and repositories.
#[async_trait]
pub trait PruneStore: Send + Sync {
    /// The policies of a namespace (`repository: None`) or of one of its repositories.
    async fn prune_policies(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
    ) -> Result<Vec<PrunePolicy>>;

    /// Creates a policy, or replaces the one with its uuid, recording `audit`.
    async fn save_prune_policy(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        policy: &PrunePolicy,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Deletes a policy, recording `audit`; whether it existed.
    async fn delete_prune_policy(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        audit: AuditEntry,
    ) -> Result<bool>;
}

/// The repositories that auto-prune policies apply to, for the pruner to visit.
#[async_trait]
pub trait PruneTargets: Send + Sync {
    /// Every policy with each repository it covers (a namespace's policy covers all of the
    /// namespace's repositories).
    async fn prune_targets(&self) -> Result<Vec<(PrunePolicy, Repository)>>;
}
