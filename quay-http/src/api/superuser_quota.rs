//! The superuser's way to any namespace's quota, and the registry's size.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use quay_core::account::NamespaceKind;
use quay_core::ports::RegistrySize;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiResult, Failures};
use super::extract::{Json, Valid};
use super::namespace_quota::QuotaRequest;
use super::state::Api;
use super::views::QuotaView;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
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

/// Path parameters naming a namespace's quota, for superusers.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct NamespaceQuotaParams {
    /// The user or organization.
    namespace: String,
    /// The quota.
    quota_id: i64,
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
    let owner = api.superuser_quota(&caller, &namespace, kind)?;
    api.create_quota(&caller, &owner, &request).await
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
    let owner = api.superuser_quota(&caller, &params.namespace, kind)?;
    api.change_quota(&caller, &owner, params.quota_id, &request)
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
    let owner = api.superuser_quota(&caller, &params.namespace, kind)?;
    api.delete_quota(&caller, &owner, params.quota_id).await
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
    let owner = api.superuser_quota(&caller, &namespace, kind)?;
    api.create_quota(&caller, &owner, &request).await
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
    let owner = api.superuser_quota(&caller, &params.namespace, kind)?;
    api.change_quota(&caller, &owner, params.quota_id, &request)
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
    let owner = api.superuser_quota(&caller, &params.namespace, kind)?;
    api.delete_quota(&caller, &owner, params.quota_id).await
}

/// The registry's size, as last computed (superusers).
#[utoipa::path(get, path = "/api/v1/superuser/registrysize/", tag = "superuser",
    responses((status = 200, description = "The size", body = RegistrySizeView), Failures))]
async fn registry_size(
    State(api): State<Api>,
    caller: Caller,
) -> ApiResult<axum::Json<RegistrySizeView>> {
    api.require_quota()?;
    let size = api.accounts().registry_size(&caller).await?;
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
    let size = api.accounts().compute_registry_size(&caller).await?;
    Ok((StatusCode::CREATED, axum::Json(size.into())))
}
