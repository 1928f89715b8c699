//! A namespace's quota, whichever path reaches it: the operations and views every quota
//! handler shares (`quota.rs` for organizations and users, `superuser_quota.rs`), and the
//! size reports organization and repository views show.
//!
//! Who may reach which namespace's quota is [`quay_core::Accounts::quota_owner`]'s: an
//! organization's members (and superusers) read its quota, superusers set it; users read
//! their own; the `/superuser/...` paths are the superuser's way to any namespace.

use std::collections::HashMap;

use axum::http::StatusCode;
use quay_core::Error;
use quay_core::account::{NamespaceKind, NamespaceRecord};
use quay_core::accounts::{LimitChange, QuotaOwner};
use quay_core::names::Namespace;
use quay_core::ports::{Repository, RepositoryId};
use quay_core::quota::{LimitKind, NamespaceQuota, human_size, parse_size};
use serde::Deserialize;
use utoipa::ToSchema;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, switched_on};
use super::state::Api;
use super::views::{LimitView, QuotaReport, QuotaView};

/// A quota to create, or a change of its size: `limit_bytes`, or `limit` as `10 GiB`.
#[derive(Deserialize, ToSchema)]
pub(crate) struct QuotaRequest {
    limit_bytes: Option<i64>,
    limit: Option<String>,
}

impl QuotaRequest {
    pub(super) fn bytes(&self) -> ApiResult<Option<i64>> {
        match (self.limit_bytes, &self.limit) {
            (Some(_), Some(_)) => Err(ApiError::invalid(
                "Only one of limit_bytes and limit may be given",
            )),
            (Some(bytes), None) => Ok(Some(bytes)),
            (None, Some(text)) => parse_size(text)
                .and_then(|bytes| i64::try_from(bytes).ok())
                .map(Some)
                .ok_or_else(|| ApiError::invalid(format!("Invalid quota size: {text:?}"))),
            (None, None) => Ok(None),
        }
    }
}

/// A limit to create, or a change of one.
#[derive(Deserialize, ToSchema)]
pub(crate) struct LimitRequest {
    /// `Warning` or `Reject`.
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    /// Percent of the quota, 1 to 100.
    pub(super) threshold_percent: Option<i64>,
}

impl LimitRequest {
    pub(super) fn change(&self) -> ApiResult<LimitChange> {
        Ok(LimitChange {
            kind: self.kind.as_deref().map(LimitKind::parse).transpose()?,
            threshold_percent: self.threshold_percent,
        })
    }
}

impl Api {
    pub(super) fn require_quota(&self) -> ApiResult<()> {
        switched_on("FEATURE_QUOTA_MANAGEMENT", self.quota().management)?;
        switched_on("FEATURE_EDIT_QUOTA", self.tenancy.settings.edit_quota)
    }

    /// An organization's quota through `/organization/...`.
    pub(super) fn organization_quota(&self, organization: &str) -> ApiResult<QuotaOwner> {
        self.require_quota()?;
        Ok(QuotaOwner::Organization(super::params::name(organization)?))
    }

    /// Any namespace of `kind`, for a superuser signed in recently.
    pub(super) fn superuser_quota(
        &self,
        caller: &Caller,
        namespace: &str,
        kind: NamespaceKind,
    ) -> ApiResult<QuotaOwner> {
        self.require_quota()?;
        caller.fresh(self)?;
        let name = Namespace::parse(namespace)
            .map_err(|_| ApiError::invalid(format!("invalid namespace {namespace:?}")))?;
        Ok(QuotaOwner::Any(name, kind))
    }

    pub(super) async fn superuser_quotas(
        &self,
        caller: &Caller,
        namespace: &str,
        kind: NamespaceKind,
    ) -> ApiResult<axum::Json<Vec<QuotaView>>> {
        let owner = self.superuser_quota(caller, namespace, kind)?;
        Ok(axum::Json(self.quota_list(caller, &owner).await?))
    }

    /// The caller's own quota.
    pub(super) fn own_quota(&self) -> ApiResult<QuotaOwner> {
        self.require_quota()?;
        Ok(QuotaOwner::Caller)
    }

    /// A namespace's own quota.
    pub(super) fn own_quota_view(&self, quota: NamespaceQuota) -> QuotaView {
        QuotaView {
            id: Some(quota.id),
            limit_bytes: quota.limit_bytes,
            limit: human_size(quota.limit_bytes),
            default_config: false,
            limits: quota
                .limits
                .into_iter()
                .map(|(id, limit)| LimitView {
                    id: Some(id),
                    kind: limit.kind.as_str().into(),
                    limit_percent: limit.threshold_percent,
                })
                .collect(),
            default_config_exists: self.quota().system_reject_bytes > 0,
        }
    }

    /// The quota a namespace works under: its own, or the system default as a synthetic
    /// quota with one Reject limit at 100 %, or none.
    pub(super) fn quota_view(&self, quota: Option<NamespaceQuota>) -> Option<QuotaView> {
        let system = self.quota().system_reject_bytes;
        match quota {
            Some(quota) => Some(self.own_quota_view(quota)),
            None if system > 0 => Some(QuotaView {
                id: None,
                limit_bytes: system,
                limit: human_size(system),
                default_config: true,
                limits: vec![LimitView {
                    id: None,
                    kind: LimitKind::Reject.as_str().into(),
                    limit_percent: 100,
                }],
                default_config_exists: true,
            }),
            None => None,
        }
    }

    pub(super) async fn quota_list(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
    ) -> ApiResult<Vec<QuotaView>> {
        let quota = self.accounts().owned_quota(caller, owner).await?;
        Ok(self.quota_view(quota).into_iter().collect())
    }

    pub(super) async fn one_quota(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        id: i64,
    ) -> ApiResult<QuotaView> {
        let quota = self.accounts().namespace_quota(caller, owner, id).await?;
        Ok(self.own_quota_view(quota))
    }

    pub(super) async fn limits(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        id: i64,
    ) -> ApiResult<Vec<LimitView>> {
        Ok(self.one_quota(caller, owner, id).await?.limits)
    }

    pub(super) async fn one_limit(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        id: i64,
        limit_id: i64,
    ) -> ApiResult<LimitView> {
        self.limits(caller, owner, id)
            .await?
            .into_iter()
            .find(|limit| limit.id == Some(limit_id))
            .ok_or_else(|| {
                Error::NotFound {
                    what: "quota limit",
                    name: limit_id.to_string(),
                }
                .into()
            })
    }

    pub(super) async fn create_quota(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        request: &QuotaRequest,
    ) -> ApiResult<(StatusCode, axum::Json<&'static str>)> {
        let bytes = request
            .bytes()?
            .ok_or_else(|| ApiError::invalid("Invalid quota size limit value"))?;
        self.accounts().create_quota(caller, owner, bytes).await?;
        Ok((StatusCode::CREATED, axum::Json("Created")))
    }

    pub(super) async fn change_quota(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        id: i64,
        request: &QuotaRequest,
    ) -> ApiResult<axum::Json<QuotaView>> {
        let quota = self
            .accounts()
            .change_quota(caller, owner, id, request.bytes()?)
            .await?;
        Ok(axum::Json(self.own_quota_view(quota)))
    }

    pub(super) async fn delete_quota(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        id: i64,
    ) -> ApiResult<StatusCode> {
        self.accounts().delete_quota(caller, owner, id).await?;
        Ok(StatusCode::NO_CONTENT)
    }

    /// The report of a namespace's size for organization views.
    pub(crate) async fn namespace_quota_report(
        &self,
        namespace: &NamespaceRecord,
    ) -> ApiResult<Option<(Vec<QuotaView>, QuotaReport)>> {
        if self.require_quota().is_err() {
            return Ok(None);
        }
        let quota = self.accounts().quota(namespace.id).await?;
        let configured = self.quota().configured_bytes(quota.as_ref());
        let size = self.accounts().namespace_size(namespace).await?;
        let status = size.backfill.as_str();
        Ok(Some((
            self.quota_view(quota).into_iter().collect(),
            QuotaReport {
                quota_bytes: size.bytes,
                configured_quota: configured,
                running_backfill: Some(status),
                backfill_status: Some(status),
            },
        )))
    }

    /// Reports of repositories' sizes for listings, by repository id: one query for the
    /// sizes, one per namespace for its quota.
    pub(crate) async fn repository_quota_reports(
        &self,
        repositories: &[Repository],
    ) -> ApiResult<HashMap<RepositoryId, QuotaReport>> {
        let mut reports = HashMap::new();
        if self.require_quota().is_err() || repositories.is_empty() {
            return Ok(reports);
        }
        let ids: Vec<RepositoryId> = repositories.iter().map(|r| r.id).collect();
        let sizes = self.accounts().repository_sizes(&ids).await?;
        let mut configured = HashMap::new();
        for repository in repositories {
            let configured = match configured.get(&repository.namespace) {
                Some(bytes) => *bytes,
                None => {
                    let quota = self.accounts().quota(repository.namespace).await?;
                    let bytes = self.quota().configured_bytes(quota.as_ref());
                    configured.insert(repository.namespace, bytes);
                    bytes
                }
            };
            reports.insert(
                repository.id,
                QuotaReport {
                    quota_bytes: sizes.get(&repository.id).copied().unwrap_or(0),
                    configured_quota: configured,
                    running_backfill: None,
                    backfill_status: None,
                },
            );
        }
        Ok(reports)
    }
}
