//! Robot accounts of the current user (`/user/robots`) and of organizations
//! (`/organization/{org}/robots`).
//!
//! A robot's token is shown when it is created and when it is regenerated, never again:
//! only its hash is stored.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use quay_auth::credentials;
use quay_core::Error;
use quay_core::account::AccountRecord;
use quay_core::accounts::{RobotListing, RobotOwner, RobotSignup};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures};
use super::extract::{OptionalJson, Valid};
use super::format::rfc2822;
use super::params::name;
use super::state::Api;
use super::views::HeldPermissions;
use super::views::TeamName;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(user_robots))
        .routes(routes!(user_robot, create_user_robot, delete_user_robot))
        .routes(routes!(regenerate_user_robot))
        .routes(routes!(user_robot_permissions))
        .routes(routes!(organization_robots))
        .routes(routes!(
            organization_robot,
            create_organization_robot,
            delete_organization_robot
        ))
        .routes(routes!(regenerate_organization_robot))
        .routes(routes!(organization_robot_permissions))
}

/// Whose robots: the caller's own, or an organization's.
enum Owner {
    CurrentUser,
    Organization(String),
}

impl Owner {
    fn parse(self) -> ApiResult<RobotOwner> {
        Ok(match self {
            Owner::CurrentUser => RobotOwner::Caller,
            Owner::Organization(organization) => RobotOwner::Organization(name(&organization)?),
        })
    }
}

/// A robot account.
#[derive(Serialize, ToSchema)]
pub(crate) struct RobotView {
    /// `<namespace>+<short name>`.
    name: String,
    created: String,
    last_accessed: Option<String>,
    description: String,
    #[schema(value_type = Object)]
    unstructured_metadata: Value,
    /// The token: only when the robot is created or its token regenerated.
    token: Option<String>,
    /// The organization's teams it is in (lists with `permissions=true`).
    teams: Option<Vec<TeamName>>,
    /// The repositories it holds a permission on (lists with `permissions=true`).
    repositories: Option<Vec<String>>,
}

impl RobotView {
    fn of(robot: AccountRecord, token: Option<String>) -> Self {
        let metadata = robot
            .metadata
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_else(|| Value::Object(Map::new()));
        Self {
            name: robot.name,
            created: rfc2822(robot.created_ms),
            last_accessed: None,
            description: robot.description.unwrap_or_default(),
            unstructured_metadata: metadata,
            token,
            teams: None,
            repositories: None,
        }
    }
}

/// A namespace's robots.
#[derive(Serialize, ToSchema)]
pub(crate) struct RobotList {
    robots: Vec<RobotView>,
}

/// How to list robots.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RobotListParams {
    /// Include each robot's teams and repositories.
    permissions: Option<bool>,
    /// At most this many.
    limit: Option<u32>,
}

/// A new robot's description and metadata (the body may be empty).
#[derive(Default, Deserialize, ToSchema)]
pub(crate) struct RobotRequest {
    /// At most 255 characters.
    description: Option<String>,
    /// Anything, as a JSON object.
    #[schema(value_type = Option<Object>)]
    unstructured_metadata: Option<Map<String, Value>>,
}

async fn list(
    api: &Api,
    caller: &Caller,
    owner: Owner,
    params: RobotListParams,
) -> ApiResult<RobotList> {
    let robots = api
        .accounts()
        .robots(
            caller,
            &owner.parse()?,
            params.limit.map(|limit| limit as usize),
            params.permissions.unwrap_or(false),
        )
        .await?;
    let robots = robots
        .into_iter()
        .map(|RobotListing { robot, held }| {
            let mut view = RobotView::of(robot, None);
            if let Some((teams, repositories)) = held {
                view.teams = Some(
                    teams
                        .into_iter()
                        .map(|team| TeamName {
                            name: team.name.to_string(),
                        })
                        .collect(),
                );
                view.repositories = Some(
                    repositories
                        .into_iter()
                        .map(|path| path.name.to_string())
                        .collect(),
                );
            }
            view
        })
        .collect();
    Ok(RobotList { robots })
}

async fn find(api: &Api, caller: &Caller, owner: Owner, short: &str) -> ApiResult<AccountRecord> {
    Ok(api
        .accounts()
        .robot(caller, &owner.parse()?, &name(short)?)
        .await?)
}

async fn create(
    api: &Api,
    caller: &Caller,
    owner: Owner,
    short: &str,
    request: RobotRequest,
) -> ApiResult<(StatusCode, axum::Json<RobotView>)> {
    if api.auth_settings().robots_disallow {
        return Err(ApiError::invalid(
            "Robot accounts have been disabled. Please contact your administrator.",
        ));
    }
    let (token, token_hash) = credentials::robot_token().map_err(Error::from)?;
    let signup = RobotSignup {
        short: name(short)?,
        token_hash,
        description: request.description,
        metadata: request
            .unstructured_metadata
            .map(|metadata| Value::Object(metadata).to_string()),
    };
    let robot = api
        .accounts()
        .create_robot(caller, &owner.parse()?, signup)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(RobotView::of(robot, Some(token))),
    ))
}

async fn delete(api: &Api, caller: &Caller, owner: Owner, short: &str) -> ApiResult<StatusCode> {
    api.accounts()
        .delete_robot(caller, &owner.parse()?, &name(short)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn regenerate(
    api: &Api,
    caller: &Caller,
    owner: Owner,
    short: &str,
) -> ApiResult<axum::Json<RobotView>> {
    let (token, token_hash) = credentials::robot_token().map_err(Error::from)?;
    let robot = api
        .accounts()
        .regenerate_robot(caller, &owner.parse()?, &name(short)?, &token_hash)
        .await?;
    Ok(axum::Json(RobotView::of(robot, Some(token))))
}

async fn permissions(
    api: &Api,
    caller: &Caller,
    owner: Owner,
    short: &str,
) -> ApiResult<axum::Json<HeldPermissions>> {
    let held = api
        .accounts()
        .robot_permissions(caller, &owner.parse()?, &name(short)?)
        .await?;
    Ok(axum::Json(HeldPermissions::of(held)))
}

/// The current user's robots (scope `user:admin`).
#[utoipa::path(get, path = "/api/v1/user/robots", tag = "robot", params(RobotListParams),
    responses((status = 200, description = "The robots", body = RobotList), Failures))]
async fn user_robots(
    State(api): State<Api>,
    caller: Caller,
    Valid(Query(params)): Valid<Query<RobotListParams>>,
) -> ApiResult<axum::Json<RobotList>> {
    Ok(axum::Json(
        list(&api, &caller, Owner::CurrentUser, params).await?,
    ))
}

/// One of the current user's robots.
#[utoipa::path(get, path = "/api/v1/user/robots/{robot_shortname}", tag = "robot",
    params(("robot_shortname" = String, Path, description = "The robot's short name")),
    responses((status = 200, description = "The robot", body = RobotView), Failures))]
async fn user_robot(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(short)): Valid<Path<String>>,
) -> ApiResult<axum::Json<RobotView>> {
    let robot = find(&api, &caller, Owner::CurrentUser, &short).await?;
    Ok(axum::Json(RobotView::of(robot, None)))
}

/// Creates a robot of the current user; the response has its token.
#[utoipa::path(put, path = "/api/v1/user/robots/{robot_shortname}", tag = "robot",
    params(("robot_shortname" = String, Path, description = "The robot's short name")),
    request_body = RobotRequest,
    responses((status = 201, description = "The robot, with its token", body = RobotView), Failures))]
async fn create_user_robot(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(short)): Valid<Path<String>>,
    OptionalJson(request): OptionalJson<RobotRequest>,
) -> ApiResult<(StatusCode, axum::Json<RobotView>)> {
    create(&api, &caller, Owner::CurrentUser, &short, request).await
}

/// Deletes a robot of the current user.
#[utoipa::path(delete, path = "/api/v1/user/robots/{robot_shortname}", tag = "robot",
    params(("robot_shortname" = String, Path, description = "The robot's short name")),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_user_robot(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(short)): Valid<Path<String>>,
) -> ApiResult<StatusCode> {
    delete(&api, &caller, Owner::CurrentUser, &short).await
}

/// Replaces the token of a robot of the current user; the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/user/robots/{robot_shortname}/regenerate", tag = "robot",
    params(("robot_shortname" = String, Path, description = "The robot's short name")),
    responses((status = 200, description = "The robot, with its new token", body = RobotView), Failures))]
async fn regenerate_user_robot(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(short)): Valid<Path<String>>,
) -> ApiResult<axum::Json<RobotView>> {
    regenerate(&api, &caller, Owner::CurrentUser, &short).await
}

/// The repositories a robot of the current user holds a permission on.
#[utoipa::path(get, path = "/api/v1/user/robots/{robot_shortname}/permissions", tag = "robot",
    params(("robot_shortname" = String, Path, description = "The robot's short name")),
    responses((status = 200, description = "The permissions", body = HeldPermissions), Failures))]
async fn user_robot_permissions(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(short)): Valid<Path<String>>,
) -> ApiResult<axum::Json<HeldPermissions>> {
    permissions(&api, &caller, Owner::CurrentUser, &short).await
}

/// An organization's robots (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/robots", tag = "robot",
    params(("orgname" = String, Path, description = "The organization"), RobotListParams),
    responses((status = 200, description = "The robots", body = RobotList), Failures))]
async fn organization_robots(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
    Valid(Query(params)): Valid<Query<RobotListParams>>,
) -> ApiResult<axum::Json<RobotList>> {
    let owner = Owner::Organization(organization);
    Ok(axum::Json(list(&api, &caller, owner, params).await?))
}

/// One of an organization's robots (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/robots/{robot_shortname}", tag = "robot",
    params(("orgname" = String, Path, description = "The organization"),
           ("robot_shortname" = String, Path, description = "The robot's short name")),
    responses((status = 200, description = "The robot", body = RobotView), Failures))]
async fn organization_robot(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, short))): Valid<Path<(String, String)>>,
) -> ApiResult<axum::Json<RobotView>> {
    let robot = find(&api, &caller, Owner::Organization(organization), &short).await?;
    Ok(axum::Json(RobotView::of(robot, None)))
}

/// Creates a robot of an organization; the response has its token (administrators).
#[utoipa::path(put, path = "/api/v1/organization/{orgname}/robots/{robot_shortname}", tag = "robot",
    params(("orgname" = String, Path, description = "The organization"),
           ("robot_shortname" = String, Path, description = "The robot's short name")),
    request_body = RobotRequest,
    responses((status = 201, description = "The robot, with its token", body = RobotView), Failures))]
async fn create_organization_robot(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, short))): Valid<Path<(String, String)>>,
    OptionalJson(request): OptionalJson<RobotRequest>,
) -> ApiResult<(StatusCode, axum::Json<RobotView>)> {
    create(
        &api,
        &caller,
        Owner::Organization(organization),
        &short,
        request,
    )
    .await
}

/// Deletes a robot of an organization (administrators).
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}/robots/{robot_shortname}", tag = "robot",
    params(("orgname" = String, Path, description = "The organization"),
           ("robot_shortname" = String, Path, description = "The robot's short name")),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_organization_robot(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, short))): Valid<Path<(String, String)>>,
) -> ApiResult<StatusCode> {
    delete(&api, &caller, Owner::Organization(organization), &short).await
}

/// Replaces the token of an organization's robot (administrators).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/robots/{robot_shortname}/regenerate", tag = "robot",
    params(("orgname" = String, Path, description = "The organization"),
           ("robot_shortname" = String, Path, description = "The robot's short name")),
    responses((status = 200, description = "The robot, with its new token", body = RobotView), Failures))]
async fn regenerate_organization_robot(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, short))): Valid<Path<(String, String)>>,
) -> ApiResult<axum::Json<RobotView>> {
    regenerate(&api, &caller, Owner::Organization(organization), &short).await
}

/// The repositories an organization's robot holds a permission on (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/robots/{robot_shortname}/permissions", tag = "robot",
    params(("orgname" = String, Path, description = "The organization"),
           ("robot_shortname" = String, Path, description = "The robot's short name")),
    responses((status = 200, description = "The permissions", body = HeldPermissions), Failures))]
async fn organization_robot_permissions(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, short))): Valid<Path<(String, String)>>,
) -> ApiResult<axum::Json<HeldPermissions>> {
    permissions(&api, &caller, Owner::Organization(organization), &short).await
}
