//! Teams of organizations and their members.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use quay_core::account::{AccountKind, AccountRecord};
use quay_core::accounts::{TeamRoster, TeamSettings};
use quay_core::permission::TeamRole;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures};
use super::extract::{Json, Valid};
use super::params::name;
use super::state::Api;
use super::views::{HeldPermissions, TeamView};

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(save_team, delete_team))
        .routes(routes!(team_members))
        .routes(routes!(add_team_member, remove_team_member))
        .routes(routes!(team_permissions))
}

/// A team's new role and description.
#[derive(Deserialize, ToSchema)]
pub(crate) struct TeamRequest {
    /// `member`, `creator` or `admin`.
    role: String,
    /// Free text; unchanged when absent.
    description: Option<String>,
}

/// A team after a change.
#[derive(Serialize, ToSchema)]
pub(crate) struct SavedTeam {
    #[serde(flatten)]
    team: TeamView,
    /// Whether the team was created by this request.
    new_team: bool,
}

/// Creates a team or changes its role and description (administrators).
#[utoipa::path(put, path = "/api/v1/organization/{orgname}/team/{teamname}", tag = "team",
    params(("orgname" = String, Path, description = "The organization"),
           ("teamname" = String, Path, description = "The team")),
    request_body = TeamRequest,
    responses((status = 200, description = "The team", body = SavedTeam), Failures))]
async fn save_team(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, team))): Valid<Path<(String, String)>>,
    Json(request): Json<TeamRequest>,
) -> ApiResult<axum::Json<SavedTeam>> {
    let role = TeamRole::from_name(&request.role)
        .ok_or_else(|| ApiError::invalid("Invalid team role: expected member, creator or admin"))?;
    let settings = TeamSettings {
        role: Some(role),
        description: request.description,
    };
    let (team, new_team) = api
        .accounts()
        .save_team(&caller, &name(&organization)?, &name(&team)?, settings)
        .await?;
    Ok(axum::Json(SavedTeam {
        team: TeamView::of(team, true),
        new_team,
    }))
}

/// Deletes a team (administrators; not the caller's last admin team).
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}/team/{teamname}", tag = "team",
    params(("orgname" = String, Path, description = "The organization"),
           ("teamname" = String, Path, description = "The team")),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_team(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, team))): Valid<Path<(String, String)>>,
) -> ApiResult<StatusCode> {
    api.accounts()
        .delete_team(&caller, &name(&organization)?, &name(&team)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member of a team.
#[derive(Serialize, ToSchema)]
pub(crate) struct TeamMemberView {
    name: String,
    /// Always `user` (robots are users with `is_robot`).
    kind: String,
    is_robot: bool,
    /// Always false: members are added directly.
    invited: bool,
}

impl From<AccountRecord> for TeamMemberView {
    fn from(account: AccountRecord) -> Self {
        Self {
            is_robot: account.kind == AccountKind::Robot,
            name: account.name,
            kind: "user".into(),
            invited: false,
        }
    }
}

/// A team's members.
#[derive(Serialize, ToSchema)]
pub(crate) struct TeamMembers {
    name: String,
    members: Vec<TeamMemberView>,
    /// Whether the caller may change them.
    can_edit: bool,
}

/// A team's members (its members and the organization's administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/team/{teamname}/members", tag = "team",
    params(("orgname" = String, Path, description = "The organization"),
           ("teamname" = String, Path, description = "The team")),
    responses((status = 200, description = "The members", body = TeamMembers), Failures))]
async fn team_members(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, team))): Valid<Path<(String, String)>>,
) -> ApiResult<axum::Json<TeamMembers>> {
    let TeamRoster {
        team,
        members,
        can_edit,
    } = api
        .accounts()
        .team_roster(&caller.identity, &name(&organization)?, &name(&team)?)
        .await?;
    Ok(axum::Json(TeamMembers {
        name: team.name.to_string(),
        members: members.into_iter().map(TeamMemberView::from).collect(),
        can_edit,
    }))
}

/// Adds a user, or a robot of the organization, to a team (administrators).
#[utoipa::path(put, path = "/api/v1/organization/{orgname}/team/{teamname}/members/{membername}", tag = "team",
    params(("orgname" = String, Path, description = "The organization"),
           ("teamname" = String, Path, description = "The team"),
           ("membername" = String, Path, description = "The user or robot")),
    responses((status = 200, description = "The member", body = TeamMemberView), Failures))]
async fn add_team_member(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, team, member))): Valid<Path<(String, String, String)>>,
) -> ApiResult<axum::Json<TeamMemberView>> {
    let account = api
        .accounts()
        .add_team_member(&caller, &name(&organization)?, &name(&team)?, &member)
        .await?;
    Ok(axum::Json(account.into()))
}

/// Removes a member from a team (administrators; nobody leaves their last admin team).
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}/team/{teamname}/members/{membername}", tag = "team",
    params(("orgname" = String, Path, description = "The organization"),
           ("teamname" = String, Path, description = "The team"),
           ("membername" = String, Path, description = "The user or robot")),
    responses((status = 204, description = "Removed"), Failures))]
async fn remove_team_member(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, team, member))): Valid<Path<(String, String, String)>>,
) -> ApiResult<StatusCode> {
    api.accounts()
        .remove_team_member(&caller, &name(&organization)?, &name(&team)?, &member)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The repositories a team holds a permission on (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/team/{teamname}/permissions", tag = "team",
    params(("orgname" = String, Path, description = "The organization"),
           ("teamname" = String, Path, description = "The team")),
    responses((status = 200, description = "The permissions", body = HeldPermissions), Failures))]
async fn team_permissions(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, team))): Valid<Path<(String, String)>>,
) -> ApiResult<axum::Json<HeldPermissions>> {
    let held = api
        .accounts()
        .team_permissions(&caller, &name(&organization)?, &name(&team)?)
        .await?;
    Ok(axum::Json(HeldPermissions::of(held)))
}
