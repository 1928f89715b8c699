//! Auto-prune policies (`FEATURE_AUTO_PRUNE`) of organizations, of the current user's
//! namespace, and of repositories. Each scope has the same five operations; the handlers
//! only differ in how they find the scope and who may use it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use quay_core::accounts::SettingsOwner;
use quay_core::prune::PrunePolicy;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiResult, Failures, switched_on};
use super::extract::{Json, Valid};
use super::params::{RepositoryParams, name, repository_path};
use super::state::Api;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(organization_policies, create_organization_policy))
        .routes(routes!(
            organization_policy,
            update_organization_policy,
            delete_organization_policy
        ))
        .routes(routes!(user_policies, create_user_policy))
        .routes(routes!(user_policy, update_user_policy, delete_user_policy))
        .routes(routes!(repository_policies, create_repository_policy))
        .routes(routes!(
            repository_policy,
            update_repository_policy,
            delete_repository_policy
        ))
}

/// A policy as the API takes it.
#[derive(Deserialize, ToSchema)]
#[allow(non_snake_case)]
pub(crate) struct PolicyRequest {
    /// `number_of_tags` or `creation_date`.
    method: String,
    /// How many tags to keep, or how old a tag may get (`7d`, `2w`...).
    #[schema(value_type = Object)]
    value: serde_json::Value,
    /// Only tags whose names match this regular expression.
    tagPattern: Option<String>,
    /// Whether the pattern selects matching tags (default) or the others.
    tagPatternMatches: Option<bool>,
}

impl PolicyRequest {
    fn into_policy(self, uuid: String) -> ApiResult<PrunePolicy> {
        Ok(PrunePolicy::parse(
            uuid,
            &self.method,
            &self.value,
            self.tagPattern,
            self.tagPatternMatches,
        )?)
    }
}

/// A policy as the API shows it.
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
pub(crate) struct PolicyView {
    uuid: String,
    method: String,
    #[schema(value_type = Object)]
    value: serde_json::Value,
    tagPattern: Option<String>,
    tagPatternMatches: bool,
}

impl From<PrunePolicy> for PolicyView {
    fn from(policy: PrunePolicy) -> Self {
        let (method, value) = policy.method_and_value();
        Self {
            method: method.to_string(),
            value,
            tagPattern: policy.tag_pattern,
            tagPatternMatches: policy.pattern_matches,
            uuid: policy.uuid,
        }
    }
}

/// A scope's policies.
#[derive(Serialize, ToSchema)]
pub(crate) struct PolicyList {
    policies: Vec<PolicyView>,
}

/// The id of a created, changed or deleted policy.
#[derive(Serialize, ToSchema)]
pub(crate) struct PolicyId {
    uuid: String,
}

/// Path parameters naming an organization's policy.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct OrganizationPolicyParams {
    /// The organization.
    orgname: String,
    /// The policy.
    policy_uuid: String,
}

/// Path parameters naming a repository's policy.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct RepositoryPolicyParams {
    /// The namespace.
    namespace: String,
    /// The repository's name (a nested name's `/` as `%2F`).
    repository: String,
    /// The policy.
    policy_uuid: String,
}

impl Api {
    /// `owner`, where `FEATURE_AUTO_PRUNE` serves policies.
    fn policies_of(&self, owner: SettingsOwner) -> ApiResult<SettingsOwner> {
        switched_on("FEATURE_AUTO_PRUNE", self.tenancy.settings.auto_prune)?;
        Ok(owner)
    }

    fn organization_policies_scope(&self, organization: &str) -> ApiResult<SettingsOwner> {
        self.policies_of(SettingsOwner::Organization(name(organization)?))
    }

    fn user_policies_scope(&self) -> ApiResult<SettingsOwner> {
        self.policies_of(SettingsOwner::Caller)
    }

    fn repository_policies_scope(
        &self,
        namespace: &str,
        repository: &str,
    ) -> ApiResult<SettingsOwner> {
        let path = repository_path(namespace, repository)?;
        self.policies_of(SettingsOwner::Repository(path))
    }

    async fn list_policies(
        &self,
        owner: &SettingsOwner,
        caller: &Caller,
    ) -> ApiResult<axum::Json<PolicyList>> {
        let policies = self.accounts().prune_policies(caller, owner).await?;
        Ok(axum::Json(PolicyList {
            policies: policies.into_iter().map(PolicyView::from).collect(),
        }))
    }

    async fn create_policy(
        &self,
        owner: &SettingsOwner,
        caller: &Caller,
        request: PolicyRequest,
    ) -> ApiResult<(StatusCode, axum::Json<PolicyId>)> {
        let policy = request.into_policy(uuid::Uuid::new_v4().to_string())?;
        self.accounts()
            .save_prune_policy(caller, owner, &policy, false)
            .await?;
        Ok((
            StatusCode::CREATED,
            axum::Json(PolicyId { uuid: policy.uuid }),
        ))
    }

    async fn find_policy(
        &self,
        owner: &SettingsOwner,
        caller: &Caller,
        uuid: &str,
    ) -> ApiResult<axum::Json<PolicyView>> {
        let policy = self.accounts().prune_policy(caller, owner, uuid).await?;
        Ok(axum::Json(policy.into()))
    }

    async fn update_policy(
        &self,
        owner: &SettingsOwner,
        caller: &Caller,
        uuid: &str,
        request: PolicyRequest,
    ) -> ApiResult<axum::Json<PolicyId>> {
        let policy = request.into_policy(uuid.to_string())?;
        self.accounts()
            .save_prune_policy(caller, owner, &policy, true)
            .await?;
        Ok(axum::Json(PolicyId { uuid: policy.uuid }))
    }

    async fn delete_policy(
        &self,
        owner: &SettingsOwner,
        caller: &Caller,
        uuid: &str,
    ) -> ApiResult<axum::Json<PolicyId>> {
        self.accounts()
            .delete_prune_policy(caller, owner, uuid)
            .await?;
        Ok(axum::Json(PolicyId {
            uuid: uuid.to_string(),
        }))
    }
}

/// An organization's policies (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/autoprunepolicy/", tag = "policy",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 200, description = "Policies", body = PolicyList), Failures))]
async fn organization_policies(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
) -> ApiResult<axum::Json<PolicyList>> {
    let owned = api.organization_policies_scope(&organization)?;
    api.list_policies(&owned, &caller).await
}

/// Adds a policy to an organization (administrators).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/autoprunepolicy/", tag = "policy",
    params(("orgname" = String, Path, description = "The organization")),
    request_body = PolicyRequest,
    responses((status = 201, description = "Created", body = PolicyId), Failures))]
async fn create_organization_policy(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
    Json(request): Json<PolicyRequest>,
) -> ApiResult<(StatusCode, axum::Json<PolicyId>)> {
    let owned = api.organization_policies_scope(&organization)?;
    api.create_policy(&owned, &caller, request).await
}

/// One of an organization's policies (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/autoprunepolicy/{policy_uuid}", tag = "policy",
    params(OrganizationPolicyParams),
    responses((status = 200, description = "The policy", body = PolicyView), Failures))]
async fn organization_policy(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationPolicyParams>>,
) -> ApiResult<axum::Json<PolicyView>> {
    let owned = api.organization_policies_scope(&params.orgname)?;
    api.find_policy(&owned, &caller, &params.policy_uuid).await
}

/// Changes one of an organization's policies (administrators).
#[utoipa::path(put, path = "/api/v1/organization/{orgname}/autoprunepolicy/{policy_uuid}", tag = "policy",
    params(OrganizationPolicyParams),
    request_body = PolicyRequest,
    responses((status = 200, description = "Changed", body = PolicyId), Failures))]
async fn update_organization_policy(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationPolicyParams>>,
    Json(request): Json<PolicyRequest>,
) -> ApiResult<axum::Json<PolicyId>> {
    let owned = api.organization_policies_scope(&params.orgname)?;
    api.update_policy(&owned, &caller, &params.policy_uuid, request)
        .await
}

/// Deletes one of an organization's policies (administrators).
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}/autoprunepolicy/{policy_uuid}", tag = "policy",
    params(OrganizationPolicyParams),
    responses((status = 200, description = "Deleted", body = PolicyId), Failures))]
async fn delete_organization_policy(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationPolicyParams>>,
) -> ApiResult<axum::Json<PolicyId>> {
    let owned = api.organization_policies_scope(&params.orgname)?;
    api.delete_policy(&owned, &caller, &params.policy_uuid)
        .await
}

/// The current user's policies.
#[utoipa::path(get, path = "/api/v1/user/autoprunepolicy/", tag = "policy",
    responses((status = 200, description = "Policies", body = PolicyList), Failures))]
async fn user_policies(
    State(api): State<Api>,
    caller: Caller,
) -> ApiResult<axum::Json<PolicyList>> {
    let owned = api.user_policies_scope()?;
    api.list_policies(&owned, &caller).await
}

/// Adds a policy to the current user's namespace.
#[utoipa::path(post, path = "/api/v1/user/autoprunepolicy/", tag = "policy",
    request_body = PolicyRequest,
    responses((status = 201, description = "Created", body = PolicyId), Failures))]
async fn create_user_policy(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<PolicyRequest>,
) -> ApiResult<(StatusCode, axum::Json<PolicyId>)> {
    let owned = api.user_policies_scope()?;
    api.create_policy(&owned, &caller, request).await
}

/// One of the current user's policies.
#[utoipa::path(get, path = "/api/v1/user/autoprunepolicy/{policy_uuid}", tag = "policy",
    params(("policy_uuid" = String, Path, description = "The policy")),
    responses((status = 200, description = "The policy", body = PolicyView), Failures))]
async fn user_policy(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<axum::Json<PolicyView>> {
    let owned = api.user_policies_scope()?;
    api.find_policy(&owned, &caller, &uuid).await
}

/// Changes one of the current user's policies.
#[utoipa::path(put, path = "/api/v1/user/autoprunepolicy/{policy_uuid}", tag = "policy",
    params(("policy_uuid" = String, Path, description = "The policy")),
    request_body = PolicyRequest,
    responses((status = 200, description = "Changed", body = PolicyId), Failures))]
async fn update_user_policy(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
    Json(request): Json<PolicyRequest>,
) -> ApiResult<axum::Json<PolicyId>> {
    let owned = api.user_policies_scope()?;
    api.update_policy(&owned, &caller, &uuid, request).await
}

/// Deletes one of the current user's policies.
#[utoipa::path(delete, path = "/api/v1/user/autoprunepolicy/{policy_uuid}", tag = "policy",
    params(("policy_uuid" = String, Path, description = "The policy")),
    responses((status = 200, description = "Deleted", body = PolicyId), Failures))]
async fn delete_user_policy(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<axum::Json<PolicyId>> {
    let owned = api.user_policies_scope()?;
    api.delete_policy(&owned, &caller, &uuid).await
}

/// A repository's policies (administrators).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/autoprunepolicy/", tag = "policy",
    params(RepositoryParams),
    responses((status = 200, description = "Policies", body = PolicyList), Failures))]
async fn repository_policies(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
) -> ApiResult<axum::Json<PolicyList>> {
    let (namespace, repository) = params.parts();
    let owned = api.repository_policies_scope(namespace, repository)?;
    api.list_policies(&owned, &caller).await
}

/// Adds a policy to a repository (administrators).
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/autoprunepolicy/", tag = "policy",
    params(RepositoryParams),
    request_body = PolicyRequest,
    responses((status = 201, description = "Created", body = PolicyId), Failures))]
async fn create_repository_policy(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
    Json(request): Json<PolicyRequest>,
) -> ApiResult<(StatusCode, axum::Json<PolicyId>)> {
    let (namespace, repository) = params.parts();
    let owned = api.repository_policies_scope(namespace, repository)?;
    api.create_policy(&owned, &caller, request).await
}

/// One of a repository's policies (administrators).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/autoprunepolicy/{policy_uuid}", tag = "policy",
    params(RepositoryPolicyParams),
    responses((status = 200, description = "The policy", body = PolicyView), Failures))]
async fn repository_policy(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryPolicyParams>>,
) -> ApiResult<axum::Json<PolicyView>> {
    let owned = api.repository_policies_scope(&params.namespace, &params.repository)?;
    api.find_policy(&owned, &caller, &params.policy_uuid).await
}

/// Changes one of a repository's policies (administrators).
#[utoipa::path(put, path = "/api/v1/repository/{namespace}/{repository}/autoprunepolicy/{policy_uuid}", tag = "policy",
    params(RepositoryPolicyParams),
    request_body = PolicyRequest,
    responses((status = 200, description = "Changed", body = PolicyId), Failures))]
async fn update_repository_policy(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryPolicyParams>>,
    Json(request): Json<PolicyRequest>,
) -> ApiResult<axum::Json<PolicyId>> {
    let owned = api.repository_policies_scope(&params.namespace, &params.repository)?;
    api.update_policy(&owned, &caller, &params.policy_uuid, request)
        .await
}

/// Deletes one of a repository's policies (administrators).
#[utoipa::path(delete, path = "/api/v1/repository/{namespace}/{repository}/autoprunepolicy/{policy_uuid}", tag = "policy",
    params(RepositoryPolicyParams),
    responses((status = 200, description = "Deleted", body = PolicyId), Failures))]
async fn delete_repository_policy(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryPolicyParams>>,
) -> ApiResult<axum::Json<PolicyId>> {
    let owned = api.repository_policies_scope(&params.namespace, &params.repository)?;
    api.delete_policy(&owned, &caller, &params.policy_uuid)
        .await
}
