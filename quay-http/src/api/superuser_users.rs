//! Users as a superuser manages them: list, create, change, delete.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use quay_auth::credentials;
use quay_core::Error;
use quay_core::account::AccountRecord;
use quay_core::accounts::UserSignup;
use quay_core::names::Namespace;
use quay_core::permission::Superuser;
use quay_core::ports::UserChange;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures};
use super::extract::{Json, Valid};
use super::format::{page_position, page_token};
use super::state::Api;

/// Most users on one page of the superuser's list.
const MAX_USERS_PAGE: u32 = 100;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(superuser_users, superuser_create_user))
        .routes(routes!(
            superuser_user,
            superuser_update_user,
            superuser_delete_user
        ))
}

/// A user, as superusers see them.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserView {
    kind: String,
    name: String,
    username: String,
    email: Option<String>,
    verified: bool,
    super_user: bool,
    enabled: bool,
}

impl Api {
    fn user_view(&self, user: AccountRecord) -> UserView {
        UserView {
            kind: "user".into(),
            super_user: self.superuser_of(&user) == Superuser::Yes,
            username: user.name.clone(),
            name: user.name,
            email: user.email,
            verified: true,
            enabled: user.enabled,
        }
    }
}

/// A page of users.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserList {
    users: Vec<UserView>,
    /// Pass back as `next_page` for the next page.
    next_page: Option<String>,
}

/// Which users to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UserListParams {
    /// Include disabled users (default true).
    disabled: Option<bool>,
    /// At most this many (1 to 100; default 100).
    limit: Option<u32>,
    /// The token of the previous page.
    next_page: Option<String>,
}

/// Every user (superusers, including global read-only ones).
#[utoipa::path(get, path = "/api/v1/superuser/users/", tag = "superuser",
    params(UserListParams),
    responses((status = 200, description = "A page of users", body = UserList), Failures))]
async fn superuser_users(
    State(api): State<Api>,
    caller: Caller,
    Valid(Query(params)): Valid<Query<UserListParams>>,
) -> ApiResult<axum::Json<UserList>> {
    let limit = params.limit.unwrap_or(MAX_USERS_PAGE);
    if !(1..=MAX_USERS_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 100"));
    }
    let after: Option<String> = params.next_page.as_deref().map(page_position).transpose()?;
    let users = api
        .accounts()
        .users(&caller, after.as_deref(), limit)
        .await?;
    let next_page = (users.len() == limit as usize)
        .then(|| users.last().map(|last| page_token(&last.name)))
        .flatten();
    let include_disabled = params.disabled.unwrap_or(true);
    let users = users
        .into_iter()
        .filter(|user| include_disabled || user.enabled)
        .map(|user| api.user_view(user))
        .collect();
    Ok(axum::Json(UserList { users, next_page }))
}

/// A user to create; a password is generated.
#[derive(Deserialize, ToSchema)]
pub(crate) struct SuperuserNewUser {
    username: String,
    email: Option<String>,
}

/// A user created by a superuser, with their generated password.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedUser {
    username: String,
    email: Option<String>,
    /// 32 characters of `A-Z0-9`: shown once.
    password: String,
}

/// Creates a user with a generated password (superusers).
#[utoipa::path(post, path = "/api/v1/superuser/users/", tag = "superuser",
    request_body = SuperuserNewUser,
    responses((status = 200, description = "The user and their password", body = CreatedUser), Failures))]
async fn superuser_create_user(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<SuperuserNewUser>,
) -> ApiResult<axum::Json<CreatedUser>> {
    caller.fresh(&api)?;
    let password = credentials::generated_password().map_err(Error::from)?;
    let signup = UserSignup {
        name: Namespace::parse(&request.username)?,
        email: request.email,
        password_hash: api.password_hash(&password).await?,
        superuser: false,
    };
    let user = api.accounts().add_user(&caller, signup).await?;
    Ok(axum::Json(CreatedUser {
        username: user.name,
        email: user.email,
        password,
    }))
}

/// A user (superusers).
#[utoipa::path(get, path = "/api/v1/superuser/users/{username}", tag = "superuser",
    params(("username" = String, Path, description = "The user")),
    responses((status = 200, description = "The user", body = UserView), Failures))]
async fn superuser_user(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(username)): Valid<Path<String>>,
) -> ApiResult<axum::Json<UserView>> {
    let user = api.accounts().managed_user(&caller, &username).await?;
    Ok(axum::Json(api.user_view(user)))
}

/// Changes to a user.
#[derive(Deserialize, ToSchema)]
pub(crate) struct UserUpdate {
    password: Option<String>,
    email: Option<String>,
    enabled: Option<bool>,
}

/// Changes a user's password, address or enabled state (superusers; not of a superuser).
#[utoipa::path(put, path = "/api/v1/superuser/users/{username}", tag = "superuser",
    params(("username" = String, Path, description = "The user")),
    request_body = UserUpdate,
    responses((status = 200, description = "The changed user", body = UserView), Failures))]
async fn superuser_update_user(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(username)): Valid<Path<String>>,
    Json(request): Json<UserUpdate>,
) -> ApiResult<axum::Json<UserView>> {
    caller.fresh(&api)?;
    let change = UserChange {
        password_hash: api.new_password_hash(request.password.as_deref()).await?,
        email: request.email,
        enabled: request.enabled,
    };
    let superusers = &api.auth_settings().superusers;
    let user = api
        .accounts()
        .update_user(&caller, &username, change, superusers)
        .await?;
    Ok(axum::Json(api.user_view(user)))
}

/// Deletes a user with their namespace (superusers; not a superuser).
#[utoipa::path(delete, path = "/api/v1/superuser/users/{username}", tag = "superuser",
    params(("username" = String, Path, description = "The user")),
    responses((status = 204, description = "Deleted"), Failures))]
async fn superuser_delete_user(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(username)): Valid<Path<String>>,
) -> ApiResult<StatusCode> {
    caller.fresh(&api)?;
    let superusers = &api.auth_settings().superusers;
    api.accounts()
        .delete_user(&caller, &username, superusers)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
