//! Ports of storage quota: sizes, quotas and their limits, and the in-app notifications
//! that tell a namespace's admins when a limit is reached.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::Value;

use crate::account::{AccountId, NamespaceId};
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::events::Site;
use crate::quota::{NamespaceQuota, NamespaceSize, QuotaLimit, Reached, SizeDifference};
use crate::repository::{Repository, RepositoryId};

/// The registry's total, as last computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistrySize {
    /// Bytes of the distinct blobs that manifests reference, each counted once.
    pub bytes: u64,
    /// When it was computed, epoch milliseconds; `None` if never.
    pub computed_ms: Option<i64>,
}

/// Sizes and quotas. The sizes themselves change inside
/// [`ManifestStore`](super::manifests::ManifestStore) and the
/// garbage collector, in the transactions that add and remove manifests.
#[async_trait]
pub trait QuotaStore: Send + Sync {
    /// The namespace's quota, if it has one.
    async fn namespace_quota(&self, namespace: NamespaceId) -> Result<Option<NamespaceQuota>>;

    /// The namespace's size.
    async fn namespace_size(&self, namespace: NamespaceId) -> Result<NamespaceSize>;

    /// The sizes of those of `repositories` whose size is known.
    async fn repository_sizes(
        &self,
        repositories: &[RepositoryId],
    ) -> Result<HashMap<RepositoryId, u64>>;

    /// What an upload to the repository would bring its namespace to: the namespace's size
    /// plus the bytes of the repository's open uploads, with the namespace's quota. `None`
    /// while the namespace's size is not known.
    async fn upload_usage(
        &self,
        repository: &Repository,
    ) -> Result<Option<(u64, Option<NamespaceQuota>)>>;

    /// Gives the namespace a quota; [`crate::Error::AlreadyExists`] if it has one.
    async fn create_quota(
        &self,
        namespace: NamespaceId,
        limit_bytes: u64,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Changes a quota's size.
    async fn change_quota(&self, quota: i64, limit_bytes: u64, audit: AuditEntry) -> Result<()>;

    /// Deletes a quota with its limits.
    async fn delete_quota(&self, quota: i64, audit: AuditEntry) -> Result<()>;

    /// Adds a limit to a quota.
    async fn create_quota_limit(
        &self,
        quota: i64,
        limit: QuotaLimit,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Changes a limit.
    async fn change_quota_limit(&self, limit: i64, to: QuotaLimit, audit: AuditEntry)
    -> Result<()>;

    /// Deletes a limit.
    async fn delete_quota_limit(&self, limit: i64, audit: AuditEntry) -> Result<()>;

    /// Tells the namespace's admins (the user, or the organization's admin teams) that
    /// `reached` was reached, once until they dismiss it; when someone was newly told, the
    /// threshold counts as crossed: its `quota_warning` or `quota_error` event (with links to
    /// `site`) goes to the namespace's notifications. Records `audit` when the push was
    /// refused or the threshold crossed.
    async fn record_quota_reached(
        &self,
        namespace: NamespaceId,
        reached: Reached,
        audit: AuditEntry,
        site: &Site,
        now_ms: i64,
    ) -> Result<()>;

    /// Computes the sizes of up to `limit` namespaces whose size is not known yet; how many
    /// it computed.
    async fn backfill_sizes(&self, limit: u32, now_ms: i64) -> Result<u32>;

    /// Recomputes every known size from the manifests and returns those that differ from
    /// the stored ones; with `repair`, stores the recomputed ones.
    async fn verify_sizes(&self, repair: bool) -> Result<Vec<SizeDifference>>;

    /// The registry's total as last computed.
    async fn registry_size(&self) -> Result<RegistrySize>;

    /// Computes and stores the registry's total.
    async fn compute_registry_size(&self, now_ms: i64) -> Result<RegistrySize>;
}

/// An in-app notification.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// Its public id.
    pub uuid: String,
    /// What it is about (`quota_warning`, `quota_error`).
    pub kind: String,
    /// The organization it concerns, if any.
    pub organization: Option<String>,
    /// Details, by kind.
    pub metadata: Value,
    /// When it was created, epoch milliseconds.
    pub created_ms: i64,
    /// Whether its reader put it aside.
    pub dismissed: bool,
}

/// A user's in-app notifications.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// The account's notifications, newest first.
    async fn notifications(&self, account: AccountId) -> Result<Vec<Notification>>;

    /// Dismisses (or restores) one of the account's notifications; `false` if it has no
    /// such notification.
    async fn dismiss_notification(
        &self,
        account: AccountId,
        uuid: &str,
        dismissed: bool,
    ) -> Result<bool>;
}
