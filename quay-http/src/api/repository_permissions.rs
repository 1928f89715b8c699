//! Who holds which role on a repository: its users', robots' and teams' permissions
//! (the repository's admins).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use quay_core::account::{Grantee, PermissionRecord};
use quay_core::{Error, RepositoryPath};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiResult, Failures};
use super::extract::{Json, Valid};
use super::params::{RepositoryParams, repository_path};
use super::params::{RoleRequest, name, role};
use super::state::Api;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
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
    ) -> ApiResult<Vec<PermissionRecord>> {
        Ok(self
            .accounts()
            .repository_permissions(caller, path)
            .await?
            .into_iter()
            .filter(|record| holders.holds(record))
            .collect())
    }

    async fn permission_map(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        holders: Holders,
    ) -> ApiResult<axum::Json<PermissionMap>> {
        let held = self.permissions_of(caller, path, holders).await?;
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
        let held = self.permissions_of(caller, path, holders).await?;
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
        let accounts = self.accounts();
        let view = match holders {
            Holders::Accounts => holders.view(
                accounts
                    .set_user_permission(caller, path, grantee, role)
                    .await?,
            ),
            Holders::Teams => {
                let team = accounts
                    .set_team_permission(caller, path, &name(grantee)?, role)
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
        let accounts = self.accounts();
        match holders {
            Holders::Accounts => {
                accounts
                    .delete_user_permission(caller, path, grantee)
                    .await?;
            }
            Holders::Teams => {
                accounts
                    .delete_team_permission(caller, path, &name(grantee)?)
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
