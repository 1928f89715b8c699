//! Organizations, their members and default permissions.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use quay_core::account::{Grantee, PrototypeRecord};
use quay_core::accounts::{Delegate, NamespaceChange, OrganizationMember, OrganizationOverview};
use quay_core::names::Namespace;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures};
use super::extract::{Json, Valid};
use super::params::{RoleRequest, name, role};
use super::state::Api;
use super::views::TeamName;
use super::views::TeamView;
use super::views::{QuotaReport, QuotaView};

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(create_organization))
        .routes(routes!(
            organization,
            update_organization,
            delete_organization
        ))
        .routes(routes!(members))
        .routes(routes!(collaborators))
        .routes(routes!(member, remove_member))
        .routes(routes!(prototypes, create_prototype))
        .routes(routes!(update_prototype, delete_prototype))
}

/// A new organization.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewOrganization {
    /// Its name (a namespace name, not taken by a user or organization).
    name: String,
    /// Contact address.
    email: Option<String>,
}

/// Creates an organization; the caller joins its `owners` team (scope `user:admin`).
#[utoipa::path(post, path = "/api/v1/organization/", tag = "organization",
    request_body = NewOrganization,
    responses((status = 201, description = "Created", body = String), Failures))]
async fn create_organization(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<NewOrganization>,
) -> ApiResult<(StatusCode, axum::Json<&'static str>)> {
    let name = name(&request.name)?;
    api.accounts()
        .create_organization(&caller, &name, request.email.as_deref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json("Created")))
}

/// An organization, as far as the caller may see it.
#[derive(Serialize, ToSchema)]
pub(crate) struct OrganizationView {
    name: String,
    /// Contact address (administrators only).
    email: Option<String>,
    is_admin: bool,
    is_member: bool,
    /// The teams, by name (members only).
    teams: Option<BTreeMap<String, TeamView>>,
    /// The team names, in order (members only).
    ordered_teams: Option<Vec<String>>,
    /// The time-machine window, seconds (administrators only).
    tag_expiration_s: Option<i64>,
    /// The quota (members and superusers, with quota management).
    #[serde(skip_serializing_if = "Option::is_none")]
    quotas: Option<Vec<QuotaView>>,
    /// The size and quota (members and superusers, with quota management).
    #[serde(skip_serializing_if = "Option::is_none")]
    quota_report: Option<QuotaReport>,
}

async fn organization_view(
    api: &Api,
    caller: &Caller,
    organization: &Namespace,
) -> ApiResult<OrganizationView> {
    let OrganizationOverview {
        organization: record,
        is_admin,
        is_member,
        teams,
        reads_quota,
    } = api
        .accounts()
        .organization_overview(&caller.identity, organization)
        .await?;
    let (teams, ordered_teams) = match teams {
        Some(teams) => {
            let ordered = teams
                .iter()
                .map(|(team, _)| team.name.to_string())
                .collect();
            let views = teams
                .into_iter()
                .map(|(team, can_view)| (team.name.to_string(), TeamView::of(team, can_view)))
                .collect();
            (Some(views), Some(ordered))
        }
        None => (None, None),
    };
    let (quotas, quota_report) = match reads_quota {
        true => api.namespace_quota_report(&record).await?.unzip(),
        false => (None, None),
    };
    Ok(OrganizationView {
        quotas,
        quota_report,
        name: record.name.to_string(),
        email: if is_admin { record.email } else { None },
        tag_expiration_s: is_admin.then_some(record.tag_expiration_s),
        is_admin,
        is_member,
        teams,
        ordered_teams,
    })
}

/// An organization: anyone sees its name, members its teams, administrators its address.
#[utoipa::path(get, path = "/api/v1/organization/{orgname}", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 200, description = "The organization", body = OrganizationView), Failures))]
async fn organization(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
) -> ApiResult<axum::Json<OrganizationView>> {
    let organization = name(&organization)?;
    Ok(axum::Json(
        organization_view(&api, &caller, &organization).await?,
    ))
}

/// Changes to an organization.
#[derive(Deserialize, ToSchema)]
pub(crate) struct OrganizationUpdate {
    /// A new contact address.
    email: Option<String>,
    /// A new time-machine window, seconds (one of `TAG_EXPIRATION_OPTIONS`).
    tag_expiration_s: Option<i64>,
}

/// Changes an organization's contact address or time-machine window (administrators,
/// scope `org:admin`).
#[utoipa::path(put, path = "/api/v1/organization/{orgname}", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    request_body = OrganizationUpdate,
    responses((status = 200, description = "The organization", body = OrganizationView), Failures))]
async fn update_organization(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
    Json(request): Json<OrganizationUpdate>,
) -> ApiResult<axum::Json<OrganizationView>> {
    let organization = name(&organization)?;
    let change = NamespaceChange {
        email: request.email,
        tag_expiration_s: request.tag_expiration_s,
    };
    let windows = api.tag_windows(change.tag_expiration_s)?;
    api.accounts()
        .update_organization(&caller, &organization, change, windows)
        .await?;
    Ok(axum::Json(
        organization_view(&api, &caller, &organization).await?,
    ))
}

/// Deletes an organization with its repositories, teams and robots (administrators).
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_organization(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
) -> ApiResult<StatusCode> {
    caller.fresh(&api)?;
    api.accounts()
        .delete_organization(&caller, &name(&organization)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member of an organization.
#[derive(Serialize, ToSchema)]
pub(crate) struct MemberView {
    name: String,
    /// `user` or `robot`.
    kind: String,
    /// The organization's teams they are in.
    teams: Vec<TeamName>,
    /// The organization's repositories they hold a permission on.
    repositories: Vec<String>,
}

impl From<OrganizationMember> for MemberView {
    fn from(member: OrganizationMember) -> Self {
        let robot = member.account.kind == quay_core::account::AccountKind::Robot;
        Self {
            name: member.account.name,
            kind: if robot { "robot" } else { "user" }.into(),
            teams: member
                .teams
                .into_iter()
                .map(|name| TeamName { name })
                .collect(),
            repositories: member.repositories,
        }
    }
}

/// The users of an organization.
#[derive(Serialize, ToSchema)]
pub(crate) struct MemberList {
    members: Vec<MemberView>,
}

/// The users in an organization's teams (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/members", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 200, description = "The members", body = MemberList), Failures))]
async fn members(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
) -> ApiResult<axum::Json<MemberList>> {
    let members = api
        .accounts()
        .organization_members(&caller, &name(&organization)?)
        .await?;
    Ok(axum::Json(MemberList {
        members: members.into_iter().map(MemberView::from).collect(),
    }))
}

/// The outside collaborators of an organization.
#[derive(Serialize, ToSchema)]
pub(crate) struct CollaboratorList {
    collaborators: Vec<MemberView>,
}

/// The users in no team of the organization who hold a permission on one of its
/// repositories, with those repositories (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/collaborators", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 200, description = "The collaborators", body = CollaboratorList), Failures))]
async fn collaborators(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
) -> ApiResult<axum::Json<CollaboratorList>> {
    let collaborators = api
        .accounts()
        .organization_collaborators(&caller, &name(&organization)?)
        .await?;
    Ok(axum::Json(CollaboratorList {
        collaborators: collaborators.into_iter().map(MemberView::from).collect(),
    }))
}

/// One member (a user or a robot) of an organization (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/members/{membername}", tag = "organization",
    params(("orgname" = String, Path, description = "The organization"),
           ("membername" = String, Path, description = "The user or robot")),
    responses((status = 200, description = "The member", body = MemberView), Failures))]
async fn member(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, member))): Valid<Path<(String, String)>>,
) -> ApiResult<axum::Json<MemberView>> {
    let member = api
        .accounts()
        .organization_member(&caller, &name(&organization)?, &member)
        .await?;
    Ok(axum::Json(member.into()))
}

/// Removes a user from every team and repository permission of the organization.
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}/members/{membername}", tag = "organization",
    params(("orgname" = String, Path, description = "The organization"),
           ("membername" = String, Path, description = "The user")),
    responses((status = 204, description = "Removed"), Failures))]
async fn remove_member(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, member))): Valid<Path<(String, String)>>,
) -> ApiResult<StatusCode> {
    api.accounts()
        .remove_organization_member(&caller, &name(&organization)?, &member)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user, robot or team named in a default permission.
#[derive(Deserialize, Serialize, ToSchema)]
pub(crate) struct PrototypeParty {
    name: String,
    /// `user` (users and robots) or `team`; absent for the activating user.
    kind: Option<String>,
}

/// A default permission: `role` for `delegate` on each repository created in the
/// organization (by `activating_user` only, when set).
#[derive(Serialize, ToSchema)]
pub(crate) struct PrototypeView {
    id: String,
    role: String,
    activating_user: Option<PrototypeParty>,
    delegate: PrototypeParty,
}

impl From<PrototypeRecord> for PrototypeView {
    fn from(prototype: PrototypeRecord) -> Self {
        let (grantee, name) = prototype.delegate;
        let kind = match grantee {
            Grantee::Account(_) => "user",
            Grantee::Team(_) => "team",
        };
        Self {
            id: prototype.uuid,
            role: prototype.role.as_str().into(),
            activating_user: prototype
                .activating_account
                .map(|(_, name)| PrototypeParty { name, kind: None }),
            delegate: PrototypeParty {
                name,
                kind: Some(kind.into()),
            },
        }
    }
}

/// An organization's default permissions.
#[derive(Serialize, ToSchema)]
pub(crate) struct PrototypeList {
    prototypes: Vec<PrototypeView>,
}

/// The organization's default permissions (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/prototypes", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 200, description = "The default permissions", body = PrototypeList), Failures))]
async fn prototypes(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
) -> ApiResult<axum::Json<PrototypeList>> {
    let prototypes = api
        .accounts()
        .prototypes(&caller, &name(&organization)?)
        .await?;
    Ok(axum::Json(PrototypeList {
        prototypes: prototypes.into_iter().map(PrototypeView::from).collect(),
    }))
}

/// A default permission to create.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewPrototype {
    /// `read`, `write` or `admin`.
    role: String,
    /// Who receives it.
    delegate: PrototypeParty,
    /// Only for repositories this user creates.
    activating_user: Option<PrototypeParty>,
}

/// Creates a default permission (administrators).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/prototypes", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    request_body = NewPrototype,
    responses((status = 200, description = "The default permission", body = PrototypeView), Failures))]
async fn create_prototype(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
    Json(request): Json<NewPrototype>,
) -> ApiResult<axum::Json<PrototypeView>> {
    let role = role(&request.role)?;
    let delegate = match request.delegate.kind.as_deref() {
        Some("team") => Delegate::Team(name(&request.delegate.name)?),
        Some("user") => Delegate::Account(request.delegate.name),
        _ => return Err(ApiError::invalid("delegate.kind must be user or team")),
    };
    let activating = request.activating_user.map(|user| user.name);
    let prototype = api
        .accounts()
        .create_prototype(
            &caller,
            &name(&organization)?,
            activating.as_deref(),
            &delegate,
            role,
        )
        .await?;
    Ok(axum::Json(prototype.into()))
}

/// Changes a default permission's role (administrators).
#[utoipa::path(put, path = "/api/v1/organization/{orgname}/prototypes/{prototypeid}", tag = "organization",
    params(("orgname" = String, Path, description = "The organization"),
           ("prototypeid" = String, Path, description = "The default permission's id")),
    request_body = RoleRequest,
    responses((status = 200, description = "The default permission", body = PrototypeView), Failures))]
async fn update_prototype(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, id))): Valid<Path<(String, String)>>,
    Json(request): Json<RoleRequest>,
) -> ApiResult<axum::Json<PrototypeView>> {
    let role = role(&request.role)?;
    let prototype = api
        .accounts()
        .set_prototype_role(&caller, &name(&organization)?, &id, role)
        .await?;
    Ok(axum::Json(prototype.into()))
}

/// Deletes a default permission (administrators).
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}/prototypes/{prototypeid}", tag = "organization",
    params(("orgname" = String, Path, description = "The organization"),
           ("prototypeid" = String, Path, description = "The default permission's id")),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_prototype(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, id))): Valid<Path<(String, String)>>,
) -> ApiResult<StatusCode> {
    api.accounts()
        .delete_prototype(&caller, &name(&organization)?, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
