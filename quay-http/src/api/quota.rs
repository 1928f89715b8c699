//! Storage quota (`FEATURE_QUOTA_MANAGEMENT` with `FEATURE_EDIT_QUOTA`): quotas and limits of
//! organizations and users, the superuser's views, the registry's size, and the in-app
//! notifications that tell admins a limit was reached.
//!
//! Who may do what is Quay's: an organization's members (and superusers) read its quota,
//! superusers set it; users read their own; the `/superuser/...` paths are the superuser's
//! way to any namespace. The same operations serve every path; the handlers only differ in
//! how they find the namespace.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use quay_core::Error;
use quay_core::access::Action;
use quay_core::account::{NamespaceKind, NamespaceRecord};
use quay_core::accounts::LimitChange;
use quay_core::names::Namespace;
use quay_core::ports::{Notification, RegistrySize, Repository, RepositoryId};
use quay_core::quota::{LimitKind, NamespaceQuota, human_size, parse_size};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures};
use super::extract::{Json, Valid};
use super::state::Api;
use super::views::{LimitView, QuotaReport, QuotaView};
use crate::error::HttpError;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(organization_quotas, create_organization_quota))
        .routes(routes!(
            organization_quota,
            change_organization_quota,
            delete_organization_quota
        ))
        .routes(routes!(organization_limits, create_organization_limit))
        .routes(routes!(
            organization_limit,
            change_organization_limit,
            delete_organization_limit
        ))
        .routes(routes!(user_quotas))
        .routes(routes!(user_quota))
        .routes(routes!(user_limits))
        .routes(routes!(user_limit))
        .routes(routes!(superuser_user_quotas, superuser_create_user_quota))
        .routes(routes!(
            superuser_change_user_quota,
            superuser_delete_user_quota
        ))
        .routes(routes!(
            superuser_organization_quotas,
            superuser_create_organization_quota
        ))
        .routes(routes!(
            superuser_change_organization_quota,
            superuser_delete_organization_quota
        ))
        .routes(routes!(registry_size, compute_registry_size))
        .routes(routes!(notifications))
        .routes(routes!(notification, dismiss_notification))
}

/// A quota to create, or a change of its size: `limit_bytes`, or `limit` as `10 GiB`.
#[derive(Deserialize, ToSchema)]
pub(crate) struct QuotaRequest {
    limit_bytes: Option<i64>,
    limit: Option<String>,
}

impl QuotaRequest {
    fn bytes(&self) -> ApiResult<Option<i64>> {
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
    kind: Option<String>,
    /// Percent of the quota, 1 to 100.
    threshold_percent: Option<i64>,
}

impl LimitRequest {
    fn change(&self) -> ApiResult<LimitChange> {
        Ok(LimitChange {
            kind: self.kind.as_deref().map(LimitKind::parse).transpose()?,
            threshold_percent: self.threshold_percent,
        })
    }
}

/// The registry's size.
#[derive(Serialize, ToSchema)]
pub(crate) struct RegistrySizeView {
    size_bytes: u64,
    /// When it was computed, epoch milliseconds.
    last_ran: Option<i64>,
    queued: bool,
    running: bool,
}

impl From<RegistrySize> for RegistrySizeView {
    /// Computed on request, never queued.
    fn from(size: RegistrySize) -> Self {
        Self {
            size_bytes: size.bytes,
            last_ran: size.computed_ms,
            queued: false,
            running: false,
        }
    }
}

/// An in-app notification.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationView {
    id: String,
    kind: String,
    organization: Option<String>,
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
    /// When, epoch seconds.
    created: i64,
    dismissed: bool,
}

impl From<Notification> for NotificationView {
    fn from(notification: Notification) -> Self {
        Self {
            id: notification.uuid,
            kind: notification.kind,
            organization: notification.organization,
            metadata: notification.metadata,
            created: notification.created_ms / 1000,
            dismissed: notification.dismissed,
        }
    }
}

/// The current user's notifications.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationList {
    notifications: Vec<NotificationView>,
}

/// A change of a notification.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NotificationChange {
    dismissed: bool,
}

/// Path parameters naming an organization's quota.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct OrganizationQuotaParams {
    /// The organization.
    orgname: String,
    /// The quota.
    quota_id: i64,
}

/// Path parameters naming a limit of an organization's quota.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct OrganizationLimitParams {
    /// The organization.
    orgname: String,
    /// The quota.
    quota_id: i64,
    /// The limit.
    limit_id: i64,
}

/// Path parameters naming the current user's limit.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct UserLimitParams {
    /// The quota.
    quota_id: i64,
    /// The limit.
    limit_id: i64,
}

/// Path parameters naming a namespace's quota, for superusers.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct NamespaceQuotaParams {
    /// The user or organization.
    namespace: String,
    /// The quota.
    quota_id: i64,
}

/// What the caller means to do with a namespace's quota.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

impl Api {
    fn require_quota(&self) -> ApiResult<()> {
        if self.quota().management && self.tenancy.settings.edit_quota {
            Ok(())
        } else {
            Err(HttpError::UnknownEndpoint.into())
        }
    }

    /// An organization's quota through `/organization/...`: its members and superusers
    /// read it, superusers change it.
    async fn organization_quota_owner(
        &self,
        caller: &Caller,
        organization: &str,
        access: Access,
    ) -> ApiResult<NamespaceRecord> {
        self.require_quota()?;
        let name = super::params::name(organization)?;
        let change = access == Access::Write;
        Ok(self
            .accounts()
            .quota_owner(&caller.identity, &name, change)
            .await?)
    }

    /// Any namespace of `kind`, for a superuser (signed in recently).
    async fn superuser_quota_owner(
        &self,
        caller: &Caller,
        namespace: &str,
        kind: NamespaceKind,
    ) -> ApiResult<NamespaceRecord> {
        self.require_quota()?;
        caller.permitted(self, Action::AdministerRegistry)?;
        caller.fresh(self)?;
        let name = Namespace::parse(namespace)
            .map_err(|_| ApiError::invalid(format!("invalid namespace {namespace:?}")))?;
        let record = self.accounts().namespace(&name).await?;
        if record.kind != kind {
            let what = match kind {
                NamespaceKind::User => "user",
                NamespaceKind::Organization => "organization",
            };
            return Err(Error::NotFound {
                what,
                name: namespace.to_string(),
            }
            .into());
        }
        Ok(record)
    }

    async fn superuser_quotas(
        &self,
        caller: &Caller,
        namespace: &str,
        kind: NamespaceKind,
    ) -> ApiResult<axum::Json<Vec<QuotaView>>> {
        let namespace = self.superuser_quota_owner(caller, namespace, kind).await?;
        Ok(axum::Json(self.quota_list(&namespace).await?))
    }

    async fn own_quota_owner(&self, caller: &Caller) -> ApiResult<NamespaceRecord> {
        self.require_quota()?;
        caller.own_namespace(self, Action::ReadOwnAccount).await
    }

    /// A namespace's own quota.
    fn own_quota_view(&self, quota: NamespaceQuota) -> QuotaView {
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
    fn quota_view(&self, quota: Option<NamespaceQuota>) -> Option<QuotaView> {
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

    async fn quota_list(&self, namespace: &NamespaceRecord) -> ApiResult<Vec<QuotaView>> {
        let quota = self.accounts().quota(namespace.id).await?;
        Ok(self.quota_view(quota).into_iter().collect())
    }

    async fn one_quota(&self, namespace: &NamespaceRecord, id: i64) -> ApiResult<QuotaView> {
        let quota = self.accounts().quota_by_id(namespace, id).await?;
        Ok(self.own_quota_view(quota))
    }

    async fn limits(&self, namespace: &NamespaceRecord, id: i64) -> ApiResult<Vec<LimitView>> {
        Ok(self.one_quota(namespace, id).await?.limits)
    }

    async fn one_limit(
        &self,
        namespace: &NamespaceRecord,
        id: i64,
        limit_id: i64,
    ) -> ApiResult<LimitView> {
        self.limits(namespace, id)
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

    async fn create_quota(
        &self,
        namespace: &NamespaceRecord,
        caller: &Caller,
        request: &QuotaRequest,
    ) -> ApiResult<(StatusCode, axum::Json<&'static str>)> {
        let bytes = request
            .bytes()?
            .ok_or_else(|| ApiError::invalid("Invalid quota size limit value"))?;
        self.accounts()
            .create_quota(namespace, bytes, &caller.actor)
            .await?;
        Ok((StatusCode::CREATED, axum::Json("Created")))
    }

    async fn change_quota(
        &self,
        namespace: &NamespaceRecord,
        id: i64,
        caller: &Caller,
        request: &QuotaRequest,
    ) -> ApiResult<axum::Json<QuotaView>> {
        if let Some(bytes) = request.bytes()? {
            self.accounts()
                .change_quota(namespace, id, bytes, &caller.actor)
                .await?;
        }
        Ok(axum::Json(self.one_quota(namespace, id).await?))
    }

    async fn delete_quota(
        &self,
        namespace: &NamespaceRecord,
        id: i64,
        caller: &Caller,
    ) -> ApiResult<StatusCode> {
        self.accounts()
            .delete_quota(namespace, id, &caller.actor)
            .await?;
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

/// An organization's quota (members and superusers).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/quota", tag = "quota",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 200, description = "The quota, if any", body = Vec<QuotaView>), Failures))]
async fn organization_quotas(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
) -> ApiResult<axum::Json<Vec<QuotaView>>> {
    let namespace = api
        .organization_quota_owner(&caller, &organization, Access::Read)
        .await?;
    Ok(axum::Json(api.quota_list(&namespace).await?))
}

/// Gives an organization a quota (superusers).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/quota", tag = "quota",
    params(("orgname" = String, Path, description = "The organization")),
    request_body = QuotaRequest,
    responses((status = 201, description = "Created", body = String), Failures))]
async fn create_organization_quota(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
    Json(request): Json<QuotaRequest>,
) -> ApiResult<(StatusCode, axum::Json<&'static str>)> {
    let namespace = api
        .organization_quota_owner(&caller, &organization, Access::Write)
        .await?;
    api.create_quota(&namespace, &caller, &request).await
}

/// An organization's quota by id (members and superusers).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/quota/{quota_id}", tag = "quota",
    params(OrganizationQuotaParams),
    responses((status = 200, description = "The quota", body = QuotaView), Failures))]
async fn organization_quota(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationQuotaParams>>,
) -> ApiResult<axum::Json<QuotaView>> {
    let namespace = api
        .organization_quota_owner(&caller, &params.orgname, Access::Read)
        .await?;
    Ok(axum::Json(
        api.one_quota(&namespace, params.quota_id).await?,
    ))
}

/// Changes an organization's quota (superusers).
#[utoipa::path(put, path = "/api/v1/organization/{orgname}/quota/{quota_id}", tag = "quota",
    params(OrganizationQuotaParams),
    request_body = QuotaRequest,
    responses((status = 200, description = "The quota", body = QuotaView), Failures))]
async fn change_organization_quota(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationQuotaParams>>,
    Json(request): Json<QuotaRequest>,
) -> ApiResult<axum::Json<QuotaView>> {
    let namespace = api
        .organization_quota_owner(&caller, &params.orgname, Access::Write)
        .await?;
    api.change_quota(&namespace, params.quota_id, &caller, &request)
        .await
}

/// Deletes an organization's quota with its limits (superusers).
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}/quota/{quota_id}", tag = "quota",
    params(OrganizationQuotaParams),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_organization_quota(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationQuotaParams>>,
) -> ApiResult<StatusCode> {
    let namespace = api
        .organization_quota_owner(&caller, &params.orgname, Access::Write)
        .await?;
    api.delete_quota(&namespace, params.quota_id, &caller).await
}

/// The limits of an organization's quota (members and superusers).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/quota/{quota_id}/limit", tag = "quota",
    params(OrganizationQuotaParams),
    responses((status = 200, description = "The limits", body = Vec<LimitView>), Failures))]
async fn organization_limits(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationQuotaParams>>,
) -> ApiResult<axum::Json<Vec<LimitView>>> {
    let namespace = api
        .organization_quota_owner(&caller, &params.orgname, Access::Read)
        .await?;
    Ok(axum::Json(api.limits(&namespace, params.quota_id).await?))
}

/// Adds a limit to an organization's quota (superusers).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/quota/{quota_id}/limit", tag = "quota",
    params(OrganizationQuotaParams),
    request_body = LimitRequest,
    responses((status = 201, description = "Created", body = String), Failures))]
async fn create_organization_limit(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationQuotaParams>>,
    Json(request): Json<LimitRequest>,
) -> ApiResult<(StatusCode, axum::Json<&'static str>)> {
    let namespace = api
        .organization_quota_owner(&caller, &params.orgname, Access::Write)
        .await?;
    let (Some(kind), Some(percent)) = (request.kind.as_deref(), request.threshold_percent) else {
        return Err(ApiError::invalid(
            "A limit needs a type and a threshold_percent",
        ));
    };
    api.accounts()
        .create_quota_limit(
            &namespace,
            params.quota_id,
            LimitKind::parse(kind)?,
            percent,
            &caller.actor,
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json("Created")))
}

/// A limit of an organization's quota (members and superusers).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/quota/{quota_id}/limit/{limit_id}", tag = "quota",
    params(OrganizationLimitParams),
    responses((status = 200, description = "The limit", body = LimitView), Failures))]
async fn organization_limit(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationLimitParams>>,
) -> ApiResult<axum::Json<LimitView>> {
    let namespace = api
        .organization_quota_owner(&caller, &params.orgname, Access::Read)
        .await?;
    Ok(axum::Json(
        api.one_limit(&namespace, params.quota_id, params.limit_id)
            .await?,
    ))
}

/// Changes a limit of an organization's quota (superusers).
#[utoipa::path(put, path = "/api/v1/organization/{orgname}/quota/{quota_id}/limit/{limit_id}", tag = "quota",
    params(OrganizationLimitParams),
    request_body = LimitRequest,
    responses((status = 200, description = "The quota", body = QuotaView), Failures))]
async fn change_organization_limit(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationLimitParams>>,
    Json(request): Json<LimitRequest>,
) -> ApiResult<axum::Json<QuotaView>> {
    let namespace = api
        .organization_quota_owner(&caller, &params.orgname, Access::Write)
        .await?;
    api.accounts()
        .change_quota_limit(
            &namespace,
            params.quota_id,
            params.limit_id,
            request.change()?,
            &caller.actor,
        )
        .await?;
    Ok(axum::Json(
        api.one_quota(&namespace, params.quota_id).await?,
    ))
}

/// Deletes a limit of an organization's quota (superusers).
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}/quota/{quota_id}/limit/{limit_id}", tag = "quota",
    params(OrganizationLimitParams),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_organization_limit(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationLimitParams>>,
) -> ApiResult<StatusCode> {
    let namespace = api
        .organization_quota_owner(&caller, &params.orgname, Access::Write)
        .await?;
    api.accounts()
        .delete_quota_limit(&namespace, params.quota_id, params.limit_id, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The current user's quota.
#[utoipa::path(get, path = "/api/v1/user/quota", tag = "quota",
    responses((status = 200, description = "The quota, if any", body = Vec<QuotaView>), Failures))]
async fn user_quotas(
    State(api): State<Api>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<QuotaView>>> {
    let namespace = api.own_quota_owner(&caller).await?;
    Ok(axum::Json(api.quota_list(&namespace).await?))
}

/// The current user's quota by id.
#[utoipa::path(get, path = "/api/v1/user/quota/{quota_id}", tag = "quota",
    params(("quota_id" = i64, Path, description = "The quota")),
    responses((status = 200, description = "The quota", body = QuotaView), Failures))]
async fn user_quota(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(quota_id)): Valid<Path<i64>>,
) -> ApiResult<axum::Json<QuotaView>> {
    let namespace = api.own_quota_owner(&caller).await?;
    Ok(axum::Json(api.one_quota(&namespace, quota_id).await?))
}

/// The limits of the current user's quota.
#[utoipa::path(get, path = "/api/v1/user/quota/{quota_id}/limit", tag = "quota",
    params(("quota_id" = i64, Path, description = "The quota")),
    responses((status = 200, description = "The limits", body = Vec<LimitView>), Failures))]
async fn user_limits(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(quota_id)): Valid<Path<i64>>,
) -> ApiResult<axum::Json<Vec<LimitView>>> {
    let namespace = api.own_quota_owner(&caller).await?;
    Ok(axum::Json(api.limits(&namespace, quota_id).await?))
}

/// A limit of the current user's quota.
#[utoipa::path(get, path = "/api/v1/user/quota/{quota_id}/limit/{limit_id}", tag = "quota",
    params(UserLimitParams),
    responses((status = 200, description = "The limit", body = LimitView), Failures))]
async fn user_limit(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<UserLimitParams>>,
) -> ApiResult<axum::Json<LimitView>> {
    let namespace = api.own_quota_owner(&caller).await?;
    Ok(axum::Json(
        api.one_limit(&namespace, params.quota_id, params.limit_id)
            .await?,
    ))
}

/// A user's quota (superusers).
#[utoipa::path(get, path = "/api/v1/superuser/users/{namespace}/quota", tag = "superuser",
    params(("namespace" = String, Path, description = "The user")),
    responses((status = 200, description = "The quota, if any", body = Vec<QuotaView>), Failures))]
async fn superuser_user_quotas(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(namespace)): Valid<Path<String>>,
) -> ApiResult<axum::Json<Vec<QuotaView>>> {
    api.superuser_quotas(&caller, &namespace, NamespaceKind::User)
        .await
}

/// Gives a user a quota (superusers).
#[utoipa::path(post, path = "/api/v1/superuser/users/{namespace}/quota", tag = "superuser",
    params(("namespace" = String, Path, description = "The user")),
    request_body = QuotaRequest,
    responses((status = 201, description = "Created", body = String), Failures))]
async fn superuser_create_user_quota(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(namespace)): Valid<Path<String>>,
    Json(request): Json<QuotaRequest>,
) -> ApiResult<(StatusCode, axum::Json<&'static str>)> {
    let kind = NamespaceKind::User;
    let namespace = api.superuser_quota_owner(&caller, &namespace, kind).await?;
    api.create_quota(&namespace, &caller, &request).await
}

/// Changes a user's quota (superusers).
#[utoipa::path(put, path = "/api/v1/superuser/users/{namespace}/quota/{quota_id}", tag = "superuser",
    params(NamespaceQuotaParams),
    request_body = QuotaRequest,
    responses((status = 200, description = "The quota", body = QuotaView), Failures))]
async fn superuser_change_user_quota(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<NamespaceQuotaParams>>,
    Json(request): Json<QuotaRequest>,
) -> ApiResult<axum::Json<QuotaView>> {
    let kind = NamespaceKind::User;
    let namespace = api
        .superuser_quota_owner(&caller, &params.namespace, kind)
        .await?;
    api.change_quota(&namespace, params.quota_id, &caller, &request)
        .await
}

/// Deletes a user's quota (superusers).
#[utoipa::path(delete, path = "/api/v1/superuser/users/{namespace}/quota/{quota_id}", tag = "superuser",
    params(NamespaceQuotaParams),
    responses((status = 204, description = "Deleted"), Failures))]
async fn superuser_delete_user_quota(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<NamespaceQuotaParams>>,
) -> ApiResult<StatusCode> {
    let kind = NamespaceKind::User;
    let namespace = api
        .superuser_quota_owner(&caller, &params.namespace, kind)
        .await?;
    api.delete_quota(&namespace, params.quota_id, &caller).await
}

/// An organization's quota (superusers).
#[utoipa::path(get, path = "/api/v1/superuser/organization/{namespace}/quota", tag = "superuser",
    params(("namespace" = String, Path, description = "The organization")),
    responses((status = 200, description = "The quota, if any", body = Vec<QuotaView>), Failures))]
async fn superuser_organization_quotas(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(namespace)): Valid<Path<String>>,
) -> ApiResult<axum::Json<Vec<QuotaView>>> {
    api.superuser_quotas(&caller, &namespace, NamespaceKind::Organization)
        .await
}

/// Gives an organization a quota (superusers).
#[utoipa::path(post, path = "/api/v1/superuser/organization/{namespace}/quota", tag = "superuser",
    params(("namespace" = String, Path, description = "The organization")),
    request_body = QuotaRequest,
    responses((status = 201, description = "Created", body = String), Failures))]
async fn superuser_create_organization_quota(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(namespace)): Valid<Path<String>>,
    Json(request): Json<QuotaRequest>,
) -> ApiResult<(StatusCode, axum::Json<&'static str>)> {
    let kind = NamespaceKind::Organization;
    let namespace = api.superuser_quota_owner(&caller, &namespace, kind).await?;
    api.create_quota(&namespace, &caller, &request).await
}

/// Changes an organization's quota (superusers).
#[utoipa::path(put, path = "/api/v1/superuser/organization/{namespace}/quota/{quota_id}", tag = "superuser",
    params(NamespaceQuotaParams),
    request_body = QuotaRequest,
    responses((status = 200, description = "The quota", body = QuotaView), Failures))]
async fn superuser_change_organization_quota(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<NamespaceQuotaParams>>,
    Json(request): Json<QuotaRequest>,
) -> ApiResult<axum::Json<QuotaView>> {
    let kind = NamespaceKind::Organization;
    let namespace = api
        .superuser_quota_owner(&caller, &params.namespace, kind)
        .await?;
    api.change_quota(&namespace, params.quota_id, &caller, &request)
        .await
}

/// Deletes an organization's quota (superusers).
#[utoipa::path(delete, path = "/api/v1/superuser/organization/{namespace}/quota/{quota_id}", tag = "superuser",
    params(NamespaceQuotaParams),
    responses((status = 204, description = "Deleted"), Failures))]
async fn superuser_delete_organization_quota(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<NamespaceQuotaParams>>,
) -> ApiResult<StatusCode> {
    let kind = NamespaceKind::Organization;
    let namespace = api
        .superuser_quota_owner(&caller, &params.namespace, kind)
        .await?;
    api.delete_quota(&namespace, params.quota_id, &caller).await
}

/// The registry's size, as last computed (superusers).
#[utoipa::path(get, path = "/api/v1/superuser/registrysize/", tag = "superuser",
    responses((status = 200, description = "The size", body = RegistrySizeView), Failures))]
async fn registry_size(
    State(api): State<Api>,
    caller: Caller,
) -> ApiResult<axum::Json<RegistrySizeView>> {
    api.require_quota()?;
    caller.permitted(&api, Action::OverseeRegistry)?;
    let size = api.accounts().registry_size().await?;
    Ok(axum::Json(size.into()))
}

/// Computes the registry's size: the distinct blobs that manifests reference, each once
/// (superusers).
#[utoipa::path(post, path = "/api/v1/superuser/registrysize/", tag = "superuser",
    responses((status = 201, description = "Computed", body = RegistrySizeView), Failures))]
async fn compute_registry_size(
    State(api): State<Api>,
    caller: Caller,
) -> ApiResult<(StatusCode, axum::Json<RegistrySizeView>)> {
    api.require_quota()?;
    caller.permitted(&api, Action::AdministerRegistry)?;
    let size = api.accounts().compute_registry_size().await?;
    Ok((StatusCode::CREATED, axum::Json(size.into())))
}

/// The current user's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/user/notifications", tag = "user",
    responses((status = 200, description = "The notifications", body = NotificationList), Failures))]
async fn notifications(
    State(api): State<Api>,
    caller: Caller,
) -> ApiResult<axum::Json<NotificationList>> {
    let principal = caller.permitted(&api, Action::ReadOwnAccount)?;
    let notifications = api.accounts().notifications(principal.account).await?;
    Ok(axum::Json(NotificationList {
        notifications: notifications.into_iter().map(Into::into).collect(),
    }))
}

/// One of the current user's notifications.
#[utoipa::path(get, path = "/api/v1/user/notifications/{uuid}", tag = "user",
    params(("uuid" = String, Path, description = "The notification")),
    responses((status = 200, description = "The notification", body = NotificationView), Failures))]
async fn notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<axum::Json<NotificationView>> {
    api.own_notification(&caller, uuid).await
}

/// Dismisses (or restores) one of the current user's notifications.
#[utoipa::path(put, path = "/api/v1/user/notifications/{uuid}", tag = "user",
    params(("uuid" = String, Path, description = "The notification")),
    request_body = NotificationChange,
    responses((status = 200, description = "The notification", body = NotificationView), Failures))]
async fn dismiss_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
    Json(change): Json<NotificationChange>,
) -> ApiResult<axum::Json<NotificationView>> {
    let principal = caller.permitted(&api, Action::AdministerOwnAccount)?;
    api.accounts()
        .dismiss_notification(principal.account, &uuid, change.dismissed)
        .await?;
    api.own_notification(&caller, uuid).await
}

impl Api {
    async fn own_notification(
        &self,
        caller: &Caller,
        uuid: String,
    ) -> ApiResult<axum::Json<NotificationView>> {
        let principal = caller.permitted(self, Action::ReadOwnAccount)?;
        let notifications = self.accounts().notifications(principal.account).await?;
        notifications
            .into_iter()
            .find(|notification| notification.uuid == uuid)
            .map(|notification| axum::Json(notification.into()))
            .ok_or_else(|| {
                Error::NotFound {
                    what: "notification",
                    name: uuid,
                }
                .into()
            })
    }
}
