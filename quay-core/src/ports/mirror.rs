//! The port of repository mirrors: their configurations, and the schedule every node's
//! worker claims syncs from.

use async_trait::async_trait;
use serde_json::Value;

use crate::account::AccountId;
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::events::Event;
use crate::mirror::{MirrorConfig, SyncSchedule};
use crate::repository::{Repository, RepositoryId, RepositoryState};

/// A repository's mirror as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredMirror {
    /// The mirrored repository.
    pub repository: Repository,
    /// Its configuration.
    pub config: MirrorConfig,
    /// The robot's account.
    pub robot: AccountId,
    /// Where its syncs stand.
    pub schedule: SyncSchedule,
    /// Whether sealed upstream credentials are stored (they are never read back here).
    pub has_credentials: bool,
    /// The last sync's report ([`crate::mirror::SyncReport::to_json`]).
    pub last_sync: Option<Value>,
}

/// A mirror's configuration to save.
#[derive(Clone, Debug)]
pub struct MirrorSave {
    /// The configuration.
    pub config: MirrorConfig,
    /// The robot's account.
    pub robot: AccountId,
    /// The sealed credentials: `None` keeps them, `Some(None)` removes them.
    pub sealed_credentials: Option<Option<String>>,
    /// A new start of the schedule (`sync_start_date`), if asked.
    pub sync_start_ms: Option<i64>,
}

/// A sync a node claimed: the mirror, and the token that proves the claim.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedMirror {
    /// The mirror as it was claimed.
    pub mirror: StoredMirror,
    /// The claim's token (Quay's `sync_transaction_id`).
    pub claim: String,
}

/// Where a claim stands when its holder renews it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimState {
    /// Still this node's, renewed.
    Held,
    /// Someone cancelled the sync.
    Cancelled,
    /// Another node took it over (this node's lease lapsed) or the mirror is gone.
    Lost,
}

/// Repository mirrors. Writes that change a repository's state go through the store that
/// caches repositories, so that every node sees them.
#[async_trait]
pub trait MirrorStore: Send + Sync {
    /// The repository's mirror, if it has one.
    async fn mirror(&self, repository: RepositoryId) -> Result<Option<StoredMirror>>;

    /// Saves the repository's mirror: a new one puts the repository in the `MIRROR` state
    /// and starts its schedule at `save.sync_start_ms` (refused with
    /// [`Error::AlreadyExists`](crate::Error::AlreadyExists) when there is one); an existing
    /// one is replaced, its schedule kept unless a new start is given. Records `audit`.
    async fn save_mirror(
        &self,
        repository: &Repository,
        save: MirrorSave,
        create: bool,
        audit: Vec<AuditEntry>,
        now_ms: i64,
    ) -> Result<()>;

    /// The mirror's sealed upstream credentials, if any.
    async fn sealed_mirror_credentials(&self, repository: RepositoryId) -> Result<Option<String>>;

    /// Replaces the schedule if it still is `current` (another node or request may have
    /// changed it); whether it was replaced. Records `audit` with it.
    async fn change_schedule(
        &self,
        repository: RepositoryId,
        current: &SyncSchedule,
        next: &SyncSchedule,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;

    /// Claims a due sync until `lease_until_ms`: `only` that repository's, whether due or
    /// not unless another node holds it, or else any due one. At most one node holds a
    /// mirror's claim at a time.
    async fn claim_mirror(
        &self,
        only: Option<RepositoryId>,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Option<ClaimedMirror>>;

    /// Renews the claim until `lease_until_ms`, telling whether it is still held.
    async fn renew_claim(
        &self,
        repository: RepositoryId,
        claim: &str,
        lease_until_ms: i64,
    ) -> Result<ClaimState>;

    /// Ends the claim: the schedule becomes `next`, the report is kept, `audit` and `event`
    /// are recorded, all in one transaction, if the claim is still held (or cancelled);
    /// whether it was.
    async fn release_claim(
        &self,
        claimed: &ClaimedMirror,
        next: &SyncSchedule,
        report: &Value,
        audit: Vec<AuditEntry>,
        event: Option<Event>,
        now_ms: i64,
    ) -> Result<bool>;

    /// Records `event` (a sync started) in the outbox with `audit`.
    async fn record_sync_event(
        &self,
        repository: RepositoryId,
        audit: AuditEntry,
        event: Event,
        now_ms: i64,
    ) -> Result<()>;

    /// Sets the repository's state, recording `audit`.
    async fn set_repository_state(
        &self,
        repository: &Repository,
        state: RepositoryState,
        audit: AuditEntry,
    ) -> Result<()>;
}
