//! Repositories: creation, listing, settings and permissions.
//!
//! A repository is addressed as `{namespace}/{repository}`; a nested name's further
//! segments go in `{repository}` with `/` written as `%2F` (`acme/team%2Fapp`).
//! Without permission, a missing repository is refused exactly like a private one.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use quay_core::account::{Grantee, NamespaceKind, PermissionRecord};
use quay_core::names::Namespace;
use quay_core::permission::{NamespaceAction, RepositoryAction, Visibility};
use quay_core::ports::{Repository, RepositoryDetails};
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
use super::params::{RoleRequest, name, role};
use super::state::Api;
use super::views::QuotaReport;

/// Repositories on one page of a listing (Quay's).
const PAGE_SIZE: u32 = 100;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(create_repository, list_repositories))
        .routes(routes!(repository, update_repository, delete_repository))
        .routes(routes!(change_visibility))
        .routes(routes!(user_permissions))
        .routes(routes!(
            user_permission,
            set_user_permission,
            delete_user_permission
        ))
        .routes(routes!(team_permissions))
        .routes(routes!(
            team_permission,
            set_team_permission,
            delete_team_permission
        ))
}

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
        .namespace_for(
            &caller.identity,
            &path.namespace,
            NamespaceAction::CreateRepository,
        )
        .await?;
    api.accounts()
        .create_repository(&path, visibility, request.description, &caller.actor)
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
    let details = caller
        .repository(&api, &path, RepositoryAction::Read)
        .await?;
    let may = async |action| {
        api.accounts()
            .may_on_repository(&caller.identity, &path, action)
            .await
    };
    let can_write = may(RepositoryAction::Write).await?;
    let can_admin = may(RepositoryAction::Admin).await?;
    let is_organization =
        api.accounts().namespace(&path.namespace).await?.kind == NamespaceKind::Organization;
    Ok(axum::Json(RepositoryView {
        summary: details.into(),
        is_organization,
        is_starred: false,
        can_write,
        can_admin,
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
    let details = caller
        .repository(&api, &path, RepositoryAction::Write)
        .await?;
    api.accounts()
        .set_description(&details.repository, &request.description, &caller.actor)
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
    let details = caller
        .repository(&api, &path, RepositoryAction::Admin)
        .await?;
    api.accounts()
        .delete_repository(&details.repository, &caller.actor)
        .await?;
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
    let details = caller
        .repository(&api, &path, RepositoryAction::Admin)
        .await?;
    api.accounts()
        .set_visibility(&details.repository, visibility, &caller.actor)
        .await?;
    Ok(axum::Json(Success { success: true }))
}

/// A user's, robot's or team's permission on a repository.
#[derive(Serialize, ToSchema)]
pub(crate) struct PermissionView {
    /// `read`, `write` or `admin`.
    role: String,
    name: String,
    /// Users and robots only.
    is_robot: Option<bool>,
}

/// The permissions on a repository, by grantee name.
#[derive(Serialize, ToSchema)]
pub(crate) struct PermissionMap {
    permissions: BTreeMap<String, PermissionView>,
}

/// Which permissions: those of users and robots, or of teams.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holders {
    Accounts,
    Teams,
}

impl Holders {
    fn holds(self, record: &PermissionRecord) -> bool {
        matches!(
            (self, &record.grantee),
            (Self::Accounts, Grantee::Account(_)) | (Self::Teams, Grantee::Team(_))
        )
    }

    fn view(self, record: PermissionRecord) -> PermissionView {
        PermissionView {
            role: record.role.as_str().into(),
            is_robot: (self == Self::Accounts).then_some(record.is_robot),
            name: record.name,
        }
    }
}

/// Path parameters naming a user's or robot's permission on a repository.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct UserPermissionParams {
    /// The namespace.
    namespace: String,
    /// The repository's name (a nested name's `/` as `%2F`).
    repository: String,
    /// The user or robot.
    username: String,
}

/// Path parameters naming a team's permission on a repository.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct TeamPermissionParams {
    /// The namespace.
    namespace: String,
    /// The repository's name (a nested name's `/` as `%2F`).
    repository: String,
    /// The team.
    teamname: String,
}

impl Api {
    /// The repository at `path` and its permissions held by `holders` (admins).
    async fn permissions_of(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        holders: Holders,
    ) -> ApiResult<(Repository, Vec<PermissionRecord>)> {
        let details = caller
            .repository(self, path, RepositoryAction::Admin)
            .await?;
        let held = self
            .accounts()
            .repository_permissions(&details.repository)
            .await?
            .into_iter()
            .filter(|record| holders.holds(record))
            .collect();
        Ok((details.repository, held))
    }

    async fn permission_map(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        holders: Holders,
    ) -> ApiResult<axum::Json<PermissionMap>> {
        let (_, held) = self.permissions_of(caller, path, holders).await?;
        Ok(axum::Json(PermissionMap {
            permissions: held
                .into_iter()
                .map(|record| (record.name.clone(), holders.view(record)))
                .collect(),
        }))
    }

    async fn one_permission(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        holders: Holders,
        grantee: &str,
    ) -> ApiResult<axum::Json<PermissionView>> {
        let (_, held) = self.permissions_of(caller, path, holders).await?;
        held.into_iter()
            .find(|record| record.name == grantee)
            .map(|record| axum::Json(holders.view(record)))
            .ok_or_else(|| {
                Error::NotFound {
                    what: "permission for",
                    name: grantee.to_string(),
                }
                .into()
            })
    }

    async fn set_permission(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        (holders, grantee): (Holders, &str),
        role: &str,
    ) -> ApiResult<axum::Json<PermissionView>> {
        let role = self::role(role)?;
        let details = caller
            .repository(self, path, RepositoryAction::Admin)
            .await?;
        let accounts = self.accounts();
        let repository = &details.repository;
        let view = match holders {
            Holders::Accounts => holders.view(
                accounts
                    .set_user_permission(repository, grantee, role, &caller.actor)
                    .await?,
            ),
            Holders::Teams => {
                let team = accounts
                    .set_team_permission(repository, &name(grantee)?, role, &caller.actor)
                    .await?;
                PermissionView {
                    role: role.as_str().into(),
                    name: team.name.to_string(),
                    is_robot: None,
                }
            }
        };
        Ok(axum::Json(view))
    }

    async fn delete_permission(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        (holders, grantee): (Holders, &str),
    ) -> ApiResult<StatusCode> {
        let details = caller
            .repository(self, path, RepositoryAction::Admin)
            .await?;
        let accounts = self.accounts();
        let repository = &details.repository;
        match holders {
            Holders::Accounts => {
                accounts
                    .delete_user_permission(repository, grantee, &caller.actor)
                    .await?;
            }
            Holders::Teams => {
                accounts
                    .delete_team_permission(repository, &name(grantee)?, &caller.actor)
                    .await?;
            }
        }
        Ok(StatusCode::NO_CONTENT)
    }
}

/// The permissions of users and robots on a repository (admins).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/permissions/user/", tag = "permission",
    params(RepositoryParams),
    responses((status = 200, description = "The permissions", body = PermissionMap), Failures))]
async fn user_permissions(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
) -> ApiResult<axum::Json<PermissionMap>> {
    api.permission_map(&caller, &params.path()?, Holders::Accounts)
        .await
}

/// A user's or robot's own permission on a repository (admins).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/permissions/user/{username}", tag = "permission",
    params(UserPermissionParams),
    responses((status = 200, description = "The permission", body = PermissionView), Failures))]
async fn user_permission(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<UserPermissionParams>>,
) -> ApiResult<axum::Json<PermissionView>> {
    let path = repository_path(&params.namespace, &params.repository)?;
    api.one_permission(&caller, &path, Holders::Accounts, &params.username)
        .await
}

/// Gives a user, or a robot of the namespace, a role on a repository (admins).
#[utoipa::path(put, path = "/api/v1/repository/{namespace}/{repository}/permissions/user/{username}", tag = "permission",
    params(UserPermissionParams), request_body = RoleRequest,
    responses((status = 200, description = "The permission", body = PermissionView), Failures))]
async fn set_user_permission(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<UserPermissionParams>>,
    Json(request): Json<RoleRequest>,
) -> ApiResult<axum::Json<PermissionView>> {
    let path = repository_path(&params.namespace, &params.repository)?;
    let grantee = (Holders::Accounts, params.username.as_str());
    api.set_permission(&caller, &path, grantee, &request.role)
        .await
}

/// Takes a user's or robot's own permission away (admins).
#[utoipa::path(delete, path = "/api/v1/repository/{namespace}/{repository}/permissions/user/{username}", tag = "permission",
    params(UserPermissionParams),
    responses((status = 204, description = "Removed"), Failures))]
async fn delete_user_permission(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<UserPermissionParams>>,
) -> ApiResult<StatusCode> {
    let path = repository_path(&params.namespace, &params.repository)?;
    let grantee = (Holders::Accounts, params.username.as_str());
    api.delete_permission(&caller, &path, grantee).await
}

/// The permissions of teams on a repository (admins).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/permissions/team/", tag = "permission",
    params(RepositoryParams),
    responses((status = 200, description = "The permissions", body = PermissionMap), Failures))]
async fn team_permissions(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
) -> ApiResult<axum::Json<PermissionMap>> {
    api.permission_map(&caller, &params.path()?, Holders::Teams)
        .await
}

/// A team's permission on a repository (admins).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/permissions/team/{teamname}", tag = "permission",
    params(TeamPermissionParams),
    responses((status = 200, description = "The permission", body = PermissionView), Failures))]
async fn team_permission(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<TeamPermissionParams>>,
) -> ApiResult<axum::Json<PermissionView>> {
    let path = repository_path(&params.namespace, &params.repository)?;
    api.one_permission(&caller, &path, Holders::Teams, &params.teamname)
        .await
}

/// Gives a team of the repository's organization a role on it (admins).
#[utoipa::path(put, path = "/api/v1/repository/{namespace}/{repository}/permissions/team/{teamname}", tag = "permission",
    params(TeamPermissionParams), request_body = RoleRequest,
    responses((status = 200, description = "The permission", body = PermissionView), Failures))]
async fn set_team_permission(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<TeamPermissionParams>>,
    Json(request): Json<RoleRequest>,
) -> ApiResult<axum::Json<PermissionView>> {
    let path = repository_path(&params.namespace, &params.repository)?;
    let grantee = (Holders::Teams, params.teamname.as_str());
    api.set_permission(&caller, &path, grantee, &request.role)
        .await
}

/// Takes a team's permission away (admins).
#[utoipa::path(delete, path = "/api/v1/repository/{namespace}/{repository}/permissions/team/{teamname}", tag = "permission",
    params(TeamPermissionParams),
    responses((status = 204, description = "Removed"), Failures))]
async fn delete_team_permission(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<TeamPermissionParams>>,
) -> ApiResult<StatusCode> {
    let path = repository_path(&params.namespace, &params.repository)?;
    let grantee = (Holders::Teams, params.teamname.as_str());
    api.delete_permission(&caller, &path, grantee).await
}
