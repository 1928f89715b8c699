//! Quotas of namespaces and their limits, with Quay's rules and messages.

use std::collections::HashMap;

use super::access::{QuotaAccess, QuotaOwner};
use super::tenancy::{Accounts, invalid, not_found};
use crate::access::{Action, Caller};
use crate::account::{AccountId, NamespaceId, NamespaceRecord};
use crate::audit::{Actor, AuditEntry, LogKind};
use crate::error::Result;
use crate::ports::{Notification, RegistrySize, RepositoryId};
use crate::quota::{
    LimitKind, NamespaceQuota, NamespaceSize, QuotaLimit, SizeDifference, human_size,
};

/// A change to a limit: either part may stay as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimitChange {
    /// The new kind.
    pub kind: Option<LimitKind>,
    /// The new threshold, in percent.
    pub threshold_percent: Option<i64>,
}

impl Accounts {
    /// The namespace's size.
    pub async fn namespace_size(&self, namespace: &NamespaceRecord) -> Result<NamespaceSize> {
        self.directory.namespace_size(namespace.id).await
    }

    /// The sizes of those repositories whose size is known.
    pub async fn repository_sizes(
        &self,
        repositories: &[RepositoryId],
    ) -> Result<HashMap<RepositoryId, u64>> {
        self.directory.repository_sizes(repositories).await
    }

    /// Computes the sizes of up to `batch` namespaces that are not known yet (they existed
    /// before sizes were kept); how many it computed.
    pub async fn backfill_sizes(&self, batch: u32) -> Result<u32> {
        self.directory.backfill_sizes(batch, self.now_ms()).await
    }

    /// Recomputes every known size from the manifests; the stored ones that differ, which
    /// `repair` replaces.
    pub async fn verify_sizes(&self, repair: bool) -> Result<Vec<SizeDifference>> {
        self.directory.verify_sizes(repair).await
    }

    /// The registry's total, as last computed (superusers, global read-only ones too).
    pub async fn registry_size(&self, caller: &Caller) -> Result<RegistrySize> {
        self.permit(&caller.identity, Action::OverseeRegistry)?;
        self.directory.registry_size().await
    }

    /// Computes the registry's total afresh (superusers).
    pub async fn compute_registry_size(&self, caller: &Caller) -> Result<RegistrySize> {
        self.permit(&caller.identity, Action::AdministerRegistry)?;
        self.directory.compute_registry_size(self.now_ms()).await
    }

    /// The signed-in caller's notifications, newest first (`user:read`).
    pub async fn notifications(&self, caller: &Caller) -> Result<Vec<Notification>> {
        let account = self.own_account_id(caller, Action::ReadOwnAccount)?;
        self.directory.notifications(account).await
    }

    /// The caller's notification `uuid` (`user:read`).
    pub async fn notification(&self, caller: &Caller, uuid: &str) -> Result<Notification> {
        self.notifications(caller)
            .await?
            .into_iter()
            .find(|notification| notification.uuid == uuid)
            .ok_or_else(|| not_found("notification", uuid))
    }

    /// Dismisses (or restores) the caller's notification `uuid` (`user:admin`).
    pub async fn dismiss_notification(
        &self,
        caller: &Caller,
        uuid: &str,
        dismissed: bool,
    ) -> Result<Notification> {
        let account = self.own_account_id(caller, Action::AdministerOwnAccount)?;
        if !self
            .directory
            .dismiss_notification(account, uuid, dismissed)
            .await?
        {
            return Err(not_found("notification", uuid));
        }
        self.notification(caller, uuid).await
    }

    /// The signed-in caller's account, once they may do `action` to it.
    fn own_account_id(&self, caller: &Caller, action: Action) -> Result<AccountId> {
        self.permit(&caller.identity, action)?;
        caller
            .identity
            .principal()
            .map(|principal| principal.account)
            .ok_or_else(|| caller.identity.refusal())
    }

    /// The namespace's quota, if it has one.
    pub async fn quota(&self, namespace: NamespaceId) -> Result<Option<NamespaceQuota>> {
        self.directory.namespace_quota(namespace).await
    }

    /// The quota of the namespace `owner` names, if it has one (readers of its quota).
    pub async fn owned_quota(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
    ) -> Result<Option<NamespaceQuota>> {
        let namespace = self
            .quota_namespace(caller, owner, QuotaAccess::Read)
            .await?;
        self.quota(namespace.id).await
    }

    /// Quota `id` of the namespace `owner` names, which must exist (readers of its quota).
    pub async fn namespace_quota(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        id: i64,
    ) -> Result<NamespaceQuota> {
        let namespace = self
            .quota_namespace(caller, owner, QuotaAccess::Read)
            .await?;
        self.quota_by_id(&namespace, id).await
    }

    /// The namespace's quota `id`, which must exist.
    async fn quota_by_id(&self, namespace: &NamespaceRecord, id: i64) -> Result<NamespaceQuota> {
        match self.quota(namespace.id).await? {
            Some(quota) if quota.id == id => Ok(quota),
            _ => Err(not_found("quota", &id.to_string())),
        }
    }

    /// Gives the namespace a quota of `limit_bytes`.
    pub async fn create_quota(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        limit_bytes: i64,
    ) -> Result<()> {
        let namespace = &self
            .quota_namespace(caller, owner, QuotaAccess::Change)
            .await?;
        let actor = &caller.actor;
        let limit_bytes = quota_size(limit_bytes)?;
        if self.quota(namespace.id).await?.is_some() {
            return Err(invalid(format!(
                "Organization quota for '{}' already exists",
                namespace.name
            )));
        }
        let audit = self
            .quota_entry(actor, LogKind::OrgCreateQuota, namespace)
            .meta("limit_bytes", limit_bytes)
            .meta("limit", human_size(limit_bytes));
        self.directory
            .create_quota(namespace.id, limit_bytes, audit)
            .await
    }

    /// Changes the size of the namespace's quota `id` to `limit_bytes`, if given; the
    /// quota as it is then.
    pub async fn change_quota(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        id: i64,
        limit_bytes: Option<i64>,
    ) -> Result<NamespaceQuota> {
        let namespace = &self
            .quota_namespace(caller, owner, QuotaAccess::Change)
            .await?;
        let quota = self.quota_by_id(namespace, id).await?;
        let Some(limit_bytes) = limit_bytes else {
            return Ok(quota);
        };
        let limit_bytes = quota_size(limit_bytes)?;
        let audit = self
            .quota_entry(&caller.actor, LogKind::OrgChangeQuota, namespace)
            .meta("limit_bytes", limit_bytes)
            .meta("limit", human_size(limit_bytes))
            .meta("previous_limit_bytes", quota.limit_bytes)
            .meta("previous_limit", human_size(quota.limit_bytes));
        self.directory.change_quota(id, limit_bytes, audit).await?;
        self.quota_by_id(namespace, id).await
    }

    /// Deletes the namespace's quota `id` with its limits.
    pub async fn delete_quota(&self, caller: &Caller, owner: &QuotaOwner, id: i64) -> Result<()> {
        let namespace = &self
            .quota_namespace(caller, owner, QuotaAccess::Change)
            .await?;
        let actor = &caller.actor;
        let quota = self.quota_by_id(namespace, id).await?;
        let audit = self
            .quota_entry(actor, LogKind::OrgDeleteQuota, namespace)
            .meta("limit_bytes", quota.limit_bytes)
            .meta("limit", human_size(quota.limit_bytes));
        self.directory.delete_quota(id, audit).await
    }

    /// Adds a limit to the namespace's quota `id`.
    pub async fn create_quota_limit(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        id: i64,
        kind: LimitKind,
        threshold_percent: i64,
    ) -> Result<()> {
        let namespace = &self
            .quota_namespace(caller, owner, QuotaAccess::Change)
            .await?;
        let actor = &caller.actor;
        let limit = QuotaLimit::new(kind, threshold_percent)?;
        let quota = self.quota_by_id(namespace, id).await?;
        refuse_duplicate(&quota, None, limit)?;
        let audit = limit_entry(
            self.quota_entry(actor, LogKind::OrgCreateQuotaLimit, namespace),
            limit,
        );
        self.directory.create_quota_limit(id, limit, audit).await
    }

    /// Changes limit `limit_id` of the namespace's quota `id`; the quota as it is then.
    pub async fn change_quota_limit(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        id: i64,
        limit_id: i64,
        change: LimitChange,
    ) -> Result<NamespaceQuota> {
        let namespace = &self
            .quota_namespace(caller, owner, QuotaAccess::Change)
            .await?;
        let actor = &caller.actor;
        let quota = self.quota_by_id(namespace, id).await?;
        let current = limit_of(&quota, limit_id)?;
        let limit = QuotaLimit::new(
            change.kind.unwrap_or(current.kind),
            change
                .threshold_percent
                .unwrap_or(i64::from(current.threshold_percent)),
        )?;
        refuse_duplicate(&quota, Some(limit_id), limit)?;
        let audit = limit_entry(
            self.quota_entry(actor, LogKind::OrgChangeQuotaLimit, namespace),
            limit,
        )
        .meta("previous_type", current.kind.as_str())
        .meta("previous_threshold_percent", current.threshold_percent);
        self.directory
            .change_quota_limit(limit_id, limit, audit)
            .await?;
        self.quota_by_id(namespace, id).await
    }

    /// Deletes limit `limit_id` of the namespace's quota `id`.
    pub async fn delete_quota_limit(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        id: i64,
        limit_id: i64,
    ) -> Result<()> {
        let namespace = &self
            .quota_namespace(caller, owner, QuotaAccess::Change)
            .await?;
        let actor = &caller.actor;
        let quota = self.quota_by_id(namespace, id).await?;
        let limit = limit_of(&quota, limit_id)?;
        let audit = limit_entry(
            self.quota_entry(actor, LogKind::OrgDeleteQuotaLimit, namespace),
            limit,
        );
        self.directory.delete_quota_limit(limit_id, audit).await
    }

    fn quota_entry(&self, actor: &Actor, kind: LogKind, namespace: &NamespaceRecord) -> AuditEntry {
        self.entry(actor, kind)
            .namespace(namespace.id)
            .meta("namespace", namespace.name.as_str())
    }
}

/// A quota's size as the API gives it, which must be positive.
fn quota_size(limit_bytes: i64) -> Result<u64> {
    u64::try_from(limit_bytes)
        .ok()
        .filter(|bytes| *bytes > 0)
        .ok_or_else(|| invalid("Invalid quota size limit value"))
}

fn limit_of(quota: &NamespaceQuota, limit_id: i64) -> Result<QuotaLimit> {
    quota
        .limits
        .iter()
        .find(|(id, _)| *id == limit_id)
        .map(|(_, limit)| *limit)
        .ok_or_else(|| not_found("quota limit", &limit_id.to_string()))
}

/// A quota has each kind of limit at each threshold at most once.
fn refuse_duplicate(quota: &NamespaceQuota, except: Option<i64>, limit: QuotaLimit) -> Result<()> {
    let taken = quota
        .limits
        .iter()
        .any(|(id, existing)| Some(*id) != except && *existing == limit);
    if taken {
        return Err(invalid("Quota limit already exists"));
    }
    Ok(())
}

fn limit_entry(entry: AuditEntry, limit: QuotaLimit) -> AuditEntry {
    entry
        .meta("type", limit.kind.as_str())
        .meta("threshold_percent", limit.threshold_percent)
}
