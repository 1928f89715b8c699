//! Repositories: creation, listing and settings (their permissions are
//! `repository_permissions.rs`'s).
//!
//! A repository is addressed as `{namespace}/{repository}`; a nested name's further
//! segments go in `{repository}` with `/` written as `%2F` (`acme/team%2Fapp`).
//! Without permission, a missing repository is refused exactly like a private one.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use quay_core::names::Namespace;
use quay_core::permission::Visibility;
use quay_core::ports::RepositoryDetails;
use quay_core::{Error, RepositoryPath};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures};
use super::extract::{Json, Valid};
use super::format::{page_position, page_token};
use super::params::{RepositoryParams, repository_path};
use super::state::Api;
use super::views::QuotaReport;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(create_repository, list_repositories))
        .routes(routes!(repository, update_repository, delete_repository))
        .routes(routes!(change_visibility))
}

/// Repositories on one page of a listing (Quay's).
const PAGE_SIZE: u32 = 100;

/// A repository, as listings show it.
#[derive(Serialize, ToSchema)]
pub(crate) struct RepositorySummary {
    namespace: String,
    name: String,
    description: Option<String>,
    is_public: bool,
    /// Always `image`.
    kind: String,
    /// Always `NORMAL`.
    state: String,
    /// The repository's size and its namespace's quota (with quota management).
    #[serde(skip_serializing_if = "Option::is_none")]
    quota_report: Option<QuotaReport>,
}

impl From<RepositoryDetails> for RepositorySummary {
    fn from(details: RepositoryDetails) -> Self {
        Self {
            namespace: details.repository.path.namespace.to_string(),
            name: details.repository.path.name.to_string(),
            description: details.description,
            is_public: details.visibility == Visibility::Public,
            kind: "image".into(),
            state: "NORMAL".into(),
            quota_report: None,
        }
    }
}

/// A repository to create.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewRepository {
    /// Its name within the namespace.
    repository: String,
    /// `public` or `private`.
    visibility: String,
    /// Free text.
    description: Option<String>,
    /// The namespace; the caller's own when absent.
    namespace: Option<String>,
    /// `image` (the only kind), or absent.
    repo_kind: Option<String>,
}

/// A created repository.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedRepository {
    namespace: String,
    name: String,
    kind: String,
}

fn visibility(name: &str) -> ApiResult<Visibility> {
    Visibility::from_name(name)
        .ok_or_else(|| ApiError::invalid("visibility must be public or private"))
}

/// Creates a repository; its creator becomes its admin (scope `repo:create`).
#[utoipa::path(post, path = "/api/v1/repository", tag = "repository",
    request_body = NewRepository,
    responses((status = 201, description = "Created", body = CreatedRepository), Failures))]
async fn create_repository(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<NewRepository>,
) -> ApiResult<(StatusCode, axum::Json<CreatedRepository>)> {
    let principal = caller.signed_in()?;
    if request
        .repo_kind
        .as_deref()
        .is_some_and(|kind| kind != "image")
    {
        return Err(ApiError::invalid("repo_kind must be image"));
    }
    let namespace = request.namespace.as_deref().unwrap_or(&principal.name);
    let path = repository_path(namespace, &request.repository)?;
    let visibility = visibility(&request.visibility)?;
    api.accounts()
        .create_repository(&caller, &path, visibility, request.description)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedRepository {
            namespace: path.namespace.to_string(),
            name: path.name.to_string(),
            kind: "image".into(),
        }),
    ))
}

/// Which repositories to list: one of `namespace` and `public` is required.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Only this namespace's repositories.
    namespace: Option<String>,
    /// Also every public repository.
    public: Option<bool>,
    /// Repositories the caller starred (not kept by this registry: always empty).
    starred: Option<bool>,
    /// The token of the previous page.
    next_page: Option<String>,
}

/// A page of repositories.
#[derive(Serialize, ToSchema)]
pub(crate) struct RepositoryList {
    repositories: Vec<RepositorySummary>,
    /// Pass back as `next_page` for the next page.
    next_page: Option<String>,
}

/// The repositories the caller may read: of a namespace, and with `public=true` every
/// public one (scope `repo:read`).
#[utoipa::path(get, path = "/api/v1/repository", tag = "repository", params(ListParams),
    responses((status = 200, description = "A page of repositories", body = RepositoryList), Failures))]
async fn list_repositories(
    State(api): State<Api>,
    caller: Caller,
    Valid(Query(params)): Valid<Query<ListParams>>,
) -> ApiResult<axum::Json<RepositoryList>> {
    let public = params.public.unwrap_or(false);
    if params.namespace.is_none() && !public && !params.starred.unwrap_or(false) {
        return Err(ApiError::invalid(
            "namespace, starred or public are required for this API call",
        ));
    }
    let empty = || {
        axum::Json(RepositoryList {
            repositories: Vec::new(),
            next_page: None,
        })
    };
    if params.starred.unwrap_or(false) && params.namespace.is_none() && !public {
        return Ok(empty());
    }
    let namespace = match params.namespace.as_deref().map(Namespace::parse) {
        None => None,
        Some(Ok(name)) => match api.accounts().namespace(&name).await {
            Ok(namespace) => Some(namespace),
            Err(Error::NotFound { .. }) => return Ok(empty()),
            Err(other) => return Err(other.into()),
        },
        Some(Err(_)) => return Ok(empty()),
    };
    let after: Option<String> = params.next_page.as_deref().map(page_position).transpose()?;
    let after = after.map(|path| RepositoryPath::parse(&path)).transpose()?;
    let page = api
        .accounts()
        .visible_repositories(
            &caller.identity,
            namespace.as_ref(),
            public,
            after,
            PAGE_SIZE,
        )
        .await?;
    let mut reports = api
        .repository_quota_reports(
            &page
                .repositories
                .iter()
                .map(|(details, _)| details.repository.clone())
                .collect::<Vec<_>>(),
        )
        .await?;
    Ok(axum::Json(RepositoryList {
        repositories: page
            .repositories
            .into_iter()
            .map(|(details, _)| {
                let quota_report = reports.remove(&details.repository.id);
                RepositorySummary {
                    quota_report,
                    ..details.into()
                }
            })
            .collect(),
        next_page: page.next.map(|path| page_token(&path.to_string())),
    }))
}

/// A repository, with what the caller may do to it.
#[derive(Serialize, ToSchema)]
pub(crate) struct RepositoryView {
    #[serde(flatten)]
    summary: RepositorySummary,
    is_organization: bool,
    is_starred: bool,
    can_write: bool,
    can_admin: bool,
}

/// A repository (readers).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}", tag = "repository",
    params(RepositoryParams),
    responses((status = 200, description = "The repository", body = RepositoryView), Failures))]
async fn repository(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
) -> ApiResult<axum::Json<RepositoryView>> {
    let path = params.path()?;
    let overview = api
        .accounts()
        .repository_overview(&caller.identity, &path)
        .await?;
    let mut reports = api
        .repository_quota_reports(std::slice::from_ref(&overview.details.repository))
        .await?;
    let quota_report = reports.remove(&overview.details.repository.id);
    Ok(axum::Json(RepositoryView {
        summary: RepositorySummary {
            quota_report,
            ..overview.details.into()
        },
        is_organization: overview.in_organization,
        is_starred: false,
        can_write: overview.can_write,
        can_admin: overview.can_admin,
    }))
}

/// A new description.
#[derive(Deserialize, ToSchema)]
pub(crate) struct DescriptionRequest {
    description: String,
}

/// A change went through.
#[derive(Serialize, ToSchema)]
pub(crate) struct Success {
    success: bool,
}

/// Changes a repository's description (writers).
#[utoipa::path(put, path = "/api/v1/repository/{namespace}/{repository}", tag = "repository",
    params(RepositoryParams),
    request_body = DescriptionRequest,
    responses((status = 200, description = "Changed", body = Success), Failures))]
async fn update_repository(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
    Json(request): Json<DescriptionRequest>,
) -> ApiResult<axum::Json<Success>> {
    let path = params.path()?;
    api.accounts()
        .set_description(&caller, &path, &request.description)
        .await?;
    Ok(axum::Json(Success { success: true }))
}

/// Deletes a repository (admins).
#[utoipa::path(delete, path = "/api/v1/repository/{namespace}/{repository}", tag = "repository",
    params(RepositoryParams),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_repository(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
) -> ApiResult<StatusCode> {
    let path = params.path()?;
    api.accounts().delete_repository(&caller, &path).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new visibility.
#[derive(Deserialize, ToSchema)]
pub(crate) struct VisibilityRequest {
    /// `public` or `private`.
    visibility: String,
}

/// Makes a repository public or private (admins).
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/changevisibility", tag = "repository",
    params(RepositoryParams),
    request_body = VisibilityRequest,
    responses((status = 200, description = "Changed", body = Success), Failures))]
async fn change_visibility(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
    Json(request): Json<VisibilityRequest>,
) -> ApiResult<axum::Json<Success>> {
    let path = params.path()?;
    let visibility = visibility(&request.visibility)?;
    api.accounts()
        .set_visibility(&caller, &path, visibility)
        .await?;
    Ok(axum::Json(Success { success: true }))
}
