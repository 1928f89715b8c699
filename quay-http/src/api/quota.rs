//! Storage quota through the organization and user paths (`FEATURE_QUOTA_MANAGEMENT` with
//! `FEATURE_EDIT_QUOTA`): quotas and limits of organizations and of the signed-in user. The
//! operations are `namespace_quota.rs`'s; the handlers only differ in how they find the
//! namespace.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use quay_core::quota::LimitKind;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures};
use super::extract::{Json, Valid};
use super::namespace_quota::{LimitRequest, QuotaRequest};
use super::state::Api;
use super::views::{LimitView, QuotaView};

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

/// An organization's quota (members and superusers).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/quota", tag = "quota",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 200, description = "The quota, if any", body = Vec<QuotaView>), Failures))]
async fn organization_quotas(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
) -> ApiResult<axum::Json<Vec<QuotaView>>> {
    let owner = api.organization_quota(&organization)?;
    Ok(axum::Json(api.quota_list(&caller, &owner).await?))
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
    let owner = api.organization_quota(&organization)?;
    api.create_quota(&caller, &owner, &request).await
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
    let owner = api.organization_quota(&params.orgname)?;
    Ok(axum::Json(
        api.one_quota(&caller, &owner, params.quota_id).await?,
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
    let owner = api.organization_quota(&params.orgname)?;
    api.change_quota(&caller, &owner, params.quota_id, &request)
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
    let owner = api.organization_quota(&params.orgname)?;
    api.delete_quota(&caller, &owner, params.quota_id).await
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
    let owner = api.organization_quota(&params.orgname)?;
    Ok(axum::Json(
        api.limits(&caller, &owner, params.quota_id).await?,
    ))
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
    let owner = api.organization_quota(&params.orgname)?;
    let (Some(kind), Some(percent)) = (request.kind.as_deref(), request.threshold_percent) else {
        return Err(ApiError::invalid(
            "A limit needs a type and a threshold_percent",
        ));
    };
    api.accounts()
        .create_quota_limit(
            &caller,
            &owner,
            params.quota_id,
            LimitKind::parse(kind)?,
            percent,
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
    let owner = api.organization_quota(&params.orgname)?;
    Ok(axum::Json(
        api.one_limit(&caller, &owner, params.quota_id, params.limit_id)
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
    let owner = api.organization_quota(&params.orgname)?;
    let quota = api
        .accounts()
        .change_quota_limit(
            &caller,
            &owner,
            params.quota_id,
            params.limit_id,
            request.change()?,
        )
        .await?;
    Ok(axum::Json(api.own_quota_view(quota)))
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
    let owner = api.organization_quota(&params.orgname)?;
    api.accounts()
        .delete_quota_limit(&caller, &owner, params.quota_id, params.limit_id)
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
    let owner = api.own_quota()?;
    Ok(axum::Json(api.quota_list(&caller, &owner).await?))
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
    let owner = api.own_quota()?;
    Ok(axum::Json(api.one_quota(&caller, &owner, quota_id).await?))
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
    let owner = api.own_quota()?;
    Ok(axum::Json(api.limits(&caller, &owner, quota_id).await?))
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
    let owner = api.own_quota()?;
    Ok(axum::Json(
        api.one_limit(&caller, &owner, params.quota_id, params.limit_id)
            .await?,
    ))
}
