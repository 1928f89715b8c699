//! Users: the first one, sign-up, sign-in, the current user, app-specific tokens, and the
//! superuser's user management.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quay_auth::credentials;
use quay_core::Error;
use quay_core::access::{Action, PrincipalKind, Scopes};
use quay_core::account::{AccountKind, AccountRecord};
use quay_core::accounts::{UserSignup, validate_password};
use quay_core::audit::CredentialKind;
use quay_core::names::Namespace;
use quay_core::permission::Superuser;
use quay_core::ports::{TokenKind, TokenRecord, UserChange};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::{Caller, SESSION_COOKIE};
use super::error::{ApiError, ApiResult, Failures};
use super::extract::{Json, Valid};
use super::format::{page_position, page_token, rfc2822};
use super::state::Api;
use crate::error::HttpError;

/// How long a browser session lasts (Flask's `PERMANENT_SESSION_LIFETIME`, 31 days).
const SESSION_LIFETIME_MS: i64 = 31 * 86_400_000;
/// How long the access token of the first user lasts.
const INITIAL_TOKEN_LIFETIME_MS: i64 = 365 * 86_400_000;
/// Most users on one page of the superuser's list.
const MAX_USERS_PAGE: u32 = 100;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(initialize))
        .routes(routes!(current_user, create_user, update_current_user))
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(app_tokens, create_app_token))
        .routes(routes!(app_token, revoke_app_token))
        .routes(routes!(superuser_users, superuser_create_user))
        .routes(routes!(
            superuser_user,
            superuser_update_user,
            superuser_delete_user
        ))
}

/// A new user's name, password and address.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewUserRequest {
    /// The username: lowercase letters, digits, `.`, `_`, `-`; 2 to 255 characters.
    username: String,
    /// At least 8 characters, no whitespace.
    password: String,
    /// Contact address.
    email: Option<String>,
    /// Whether to answer with an OAuth access token for the new user (initialize only).
    #[serde(default)]
    access_token: bool,
}

/// The first user, and their access token if asked for.
#[derive(Serialize, ToSchema)]
pub(crate) struct InitializedUser {
    username: String,
    email: Option<String>,
    /// An OAuth access token with every scope, valid for a year.
    access_token: Option<String>,
}

impl Api {
    /// Validates and hashes a new user's password.
    async fn password_hash(&self, password: &str) -> ApiResult<String> {
        validate_password(password)?;
        Ok(self
            .authenticator()
            .passwords()
            .hash(password)
            .await
            .map_err(Error::from)?)
    }

    fn superuser_of(&self, account: &AccountRecord) -> Superuser {
        self.auth_settings()
            .superusers
            .of(&account.name, account.superuser)
    }
}

/// Creates the first user of an empty registry (`FEATURE_USER_INITIALIZE`).
#[utoipa::path(post, path = "/api/v1/user/initialize", tag = "user",
    request_body = NewUserRequest,
    responses((status = 200, description = "The user was created", body = InitializedUser), Failures))]
async fn initialize(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<NewUserRequest>,
) -> ApiResult<axum::Json<InitializedUser>> {
    if !api.tenancy.settings.user_initialize {
        return Err(HttpError::UnknownEndpoint.into());
    }
    let signup = UserSignup {
        name: Namespace::parse(&request.username)?,
        email: request.email.clone(),
        password_hash: api.password_hash(&request.password).await?,
        superuser: false,
    };
    let user = api.accounts().initialize(signup, &caller.actor).await?;
    let access_token = if request.access_token {
        let scopes = Scopes::ALL_NAMES.join(" ");
        let minted = credentials::oauth_token(
            user.id,
            "quay-initialize",
            &scopes,
            api.accounts().now_ms(),
            INITIAL_TOKEN_LIFETIME_MS,
        )
        .map_err(Error::from)?;
        api.accounts()
            .store_token(&user, minted.record, &caller.actor)
            .await?;
        Some(minted.secret)
    } else {
        None
    };
    Ok(axum::Json(InitializedUser {
        username: user.name,
        email: user.email,
        access_token,
    }))
}

/// An organization the current user is in.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserOrganization {
    name: String,
    /// Whether the user administers it.
    is_org_admin: bool,
}

/// The current user.
#[derive(Serialize, ToSchema)]
pub(crate) struct CurrentUser {
    anonymous: bool,
    username: String,
    email: Option<String>,
    verified: bool,
    super_user: bool,
    enabled: bool,
    /// Organizations the user is a member of.
    organizations: Vec<UserOrganization>,
    can_create_repo: bool,
    /// The time-machine window of the user's namespace, seconds.
    tag_expiration_s: i64,
}

/// The current user (scope `user:read`).
#[utoipa::path(get, path = "/api/v1/user/", tag = "user",
    responses((status = 200, description = "The current user", body = CurrentUser), Failures))]
async fn current_user(
    State(api): State<Api>,
    caller: Caller,
) -> ApiResult<axum::Json<CurrentUser>> {
    let namespace = caller.own_namespace(&api, Action::ReadOwnAccount).await?;
    let user = api.accounts().user(namespace.name.as_str()).await?;
    let organizations = api
        .accounts()
        .memberships(&caller.identity)
        .await?
        .into_iter()
        .map(|membership| UserOrganization {
            name: membership.organization.name.to_string(),
            is_org_admin: membership.is_admin,
        })
        .collect();
    Ok(axum::Json(CurrentUser {
        anonymous: false,
        super_user: api.superuser_of(&user) == Superuser::Yes,
        username: user.name,
        email: user.email,
        verified: true,
        enabled: user.enabled,
        organizations,
        can_create_repo: true,
        tag_expiration_s: namespace.tag_expiration_s,
    }))
}

/// Changes to the current user's own settings.
#[derive(Deserialize, ToSchema)]
pub(crate) struct OwnSettings {
    /// A new time-machine window for the user's namespace, seconds (one of
    /// `TAG_EXPIRATION_OPTIONS`).
    tag_expiration_s: Option<i64>,
}

/// Changes the current user's settings (scope `user:admin`).
#[utoipa::path(put, path = "/api/v1/user/", tag = "user",
    request_body = OwnSettings,
    responses((status = 200, description = "The current user", body = CurrentUser), Failures))]
async fn update_current_user(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<OwnSettings>,
) -> ApiResult<axum::Json<CurrentUser>> {
    let namespace = caller
        .own_namespace(&api, Action::AdministerOwnAccount)
        .await?;
    if let Some(seconds) = request.tag_expiration_s {
        api.set_tag_expiration(&namespace, seconds, &caller.actor)
            .await?;
    }
    current_user(State(api), caller).await
}

/// The outcome of a sign-up.
#[derive(Serialize, ToSchema)]
pub(crate) struct SignedUp {
    /// Always false: addresses are not verified by mail.
    awaiting_verification: bool,
}

/// Signs up a new user (`FEATURE_USER_CREATION`).
#[utoipa::path(post, path = "/api/v1/user/", tag = "user",
    request_body = NewUserRequest,
    responses((status = 200, description = "The user was created", body = SignedUp), Failures))]
async fn create_user(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<NewUserRequest>,
) -> ApiResult<axum::Json<SignedUp>> {
    if !api.tenancy.settings.user_creation {
        return Err(ApiError::invalid(
            "User creation is disabled. Please contact your administrator.",
        ));
    }
    let signup = UserSignup {
        name: Namespace::parse(&request.username)?,
        email: request.email,
        password_hash: api.password_hash(&request.password).await?,
        superuser: false,
    };
    match api.accounts().create_user(signup, &caller.actor).await {
        Ok(_) => Ok(axum::Json(SignedUp {
            awaiting_verification: false,
        })),
        Err(Error::AlreadyExists(_)) => Err(ApiError::invalid("The username already exists")),
        Err(other) => Err(other.into()),
    }
}

/// A username and password.
#[derive(Deserialize, ToSchema)]
pub(crate) struct SignInRequest {
    username: String,
    password: String,
}

/// The outcome of a sign-in or sign-out.
#[derive(Serialize, ToSchema)]
pub(crate) struct SignedIn {
    success: bool,
    /// What the session's changing requests must send in `X-CSRF-Token` (also in the
    /// `X-Next-CSRF-Token` header).
    csrf_token: Option<String>,
}

fn session_cookie(api: &Api, value: &str, max_age_s: i64) -> Option<HeaderValue> {
    let secure = if api.app.is_https() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}"
    ))
    .ok()
}

/// Signs in with a username and password: the response sets the session cookie.
#[utoipa::path(post, path = "/api/v1/signin", tag = "user",
    request_body = SignInRequest,
    responses((status = 200, description = "Signed in; the session cookie is set", body = SignedIn), Failures))]
async fn sign_in(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<SignInRequest>,
) -> ApiResult<Response> {
    let refused = || Error::InvalidCredentials("Invalid Username or Password".into());
    if request.username.contains('+') || request.username.starts_with('$') {
        return Err(refused().into());
    }
    let principal = match api
        .authenticator()
        .basic(
            &request.username,
            &request.password,
            caller.actor.ip.as_deref(),
        )
        .await
    {
        Ok(principal) => principal,
        Err(Error::InvalidCredentials(message)) => {
            api.authenticator()
                .record_login(
                    Err((&request.username, &message)),
                    "quayauth",
                    &caller.actor,
                )
                .await?;
            return Err(Error::InvalidCredentials(message).into());
        }
        Err(other) => return Err(other.into()),
    };
    if !matches!(principal.kind, PrincipalKind::User(_))
        || principal.credential != CredentialKind::Password
    {
        return Err(refused().into());
    }
    let user = api.accounts().user(&principal.name).await?;
    let minted = credentials::session(user.id, api.accounts().now_ms(), SESSION_LIFETIME_MS)
        .map_err(Error::from)?;
    let csrf_token = minted.record.detail.clone();
    let actor = quay_core::access::Identity::Account(principal)
        .actor(caller.actor.ip.clone(), caller.actor.user_agent.clone());
    api.accounts()
        .store_token(&user, minted.record, &actor)
        .await?;
    let mut response = axum::Json(SignedIn {
        success: true,
        csrf_token: Some(csrf_token.clone()),
    })
    .into_response();
    let headers = response.headers_mut();
    if let Some(cookie) = session_cookie(&api, &minted.secret, SESSION_LIFETIME_MS / 1000) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    if let Ok(value) = HeaderValue::from_str(&csrf_token) {
        headers.insert("x-next-csrf-token", value);
    }
    Ok(response)
}

/// Signs out: the session ends and its cookie is cleared.
#[utoipa::path(post, path = "/api/v1/signout", tag = "user",
    responses((status = 200, description = "Signed out", body = SignedIn), Failures))]
async fn sign_out(State(api): State<Api>, caller: Caller) -> ApiResult<Response> {
    if let Some(session) = &caller.session {
        api.accounts().end_session(session).await?;
    }
    let mut response = axum::Json(SignedIn {
        success: true,
        csrf_token: None,
    })
    .into_response();
    if let Some(cookie) = session_cookie(&api, "", 0) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// An app-specific token.
#[derive(Serialize, ToSchema)]
pub(crate) struct AppTokenView {
    uuid: String,
    title: String,
    last_accessed: Option<String>,
    created: String,
    expiration: Option<String>,
    /// The token: shown only when it is created (only its hash is kept).
    token_code: Option<String>,
}

impl AppTokenView {
    fn of(token: TokenRecord, token_code: Option<String>) -> Self {
        Self {
            uuid: token.uuid,
            title: token.detail,
            last_accessed: token.last_used_ms.map(rfc2822),
            created: rfc2822(token.created_ms),
            expiration: token.expires_ms.map(rfc2822),
            token_code,
        }
    }
}

/// One app-specific token.
#[derive(Serialize, ToSchema)]
pub(crate) struct AppTokenEnvelope {
    token: AppTokenView,
}

/// The current user's app-specific tokens.
#[derive(Serialize, ToSchema)]
pub(crate) struct AppTokenList {
    tokens: Vec<AppTokenView>,
}

/// A new app-specific token's title.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewAppToken {
    title: String,
}

/// The current user, where app-specific tokens are enabled.
async fn token_owner(api: &Api, caller: &Caller) -> ApiResult<AccountRecord> {
    if !api.auth_settings().app_specific_tokens {
        return Err(HttpError::UnknownEndpoint.into());
    }
    let principal = caller.permitted(api, Action::AdministerOwnAccount)?;
    Ok(api.accounts().user(&principal.name).await?)
}

/// The current user's app-specific tokens (`FEATURE_APP_SPECIFIC_TOKENS`).
#[utoipa::path(get, path = "/api/v1/user/apptoken", tag = "user",
    responses((status = 200, description = "The tokens", body = AppTokenList), Failures))]
async fn app_tokens(State(api): State<Api>, caller: Caller) -> ApiResult<axum::Json<AppTokenList>> {
    let user = token_owner(&api, &caller).await?;
    let tokens = api
        .accounts()
        .tokens(TokenKind::AppToken, &user)
        .await?
        .into_iter()
        .map(|token| AppTokenView::of(token, None))
        .collect();
    Ok(axum::Json(AppTokenList { tokens }))
}

/// Creates an app-specific token: a password for `docker login` with username `$app`.
#[utoipa::path(post, path = "/api/v1/user/apptoken", tag = "user",
    request_body = NewAppToken,
    responses((status = 200, description = "The token, with its code", body = AppTokenEnvelope), Failures))]
async fn create_app_token(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<NewAppToken>,
) -> ApiResult<axum::Json<AppTokenEnvelope>> {
    let user = token_owner(&api, &caller).await?;
    caller.fresh(&api)?;
    let title = request.title.trim();
    if title.is_empty() || title.chars().count() > 255 {
        return Err(ApiError::invalid("The title must have 1 to 255 characters"));
    }
    let minted = credentials::app_token(user.id, title, api.accounts().now_ms(), None)
        .map_err(Error::from)?;
    let record = minted.record.clone();
    api.accounts()
        .store_token(&user, minted.record, &caller.actor)
        .await?;
    Ok(axum::Json(AppTokenEnvelope {
        token: AppTokenView::of(record, Some(minted.secret)),
    }))
}

async fn find_app_token(api: &Api, user: &AccountRecord, uuid: &str) -> ApiResult<TokenRecord> {
    api.accounts()
        .tokens(TokenKind::AppToken, user)
        .await?
        .into_iter()
        .find(|token| token.uuid == uuid)
        .ok_or_else(|| {
            Error::NotFound {
                what: "app-specific token",
                name: uuid.to_string(),
            }
            .into()
        })
}

/// One app-specific token (without its code).
#[utoipa::path(get, path = "/api/v1/user/apptoken/{uuid}", tag = "user",
    params(("uuid" = String, Path, description = "The token's id")),
    responses((status = 200, description = "The token", body = AppTokenEnvelope), Failures))]
async fn app_token(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<axum::Json<AppTokenEnvelope>> {
    let user = token_owner(&api, &caller).await?;
    let token = find_app_token(&api, &user, &uuid).await?;
    Ok(axum::Json(AppTokenEnvelope {
        token: AppTokenView::of(token, None),
    }))
}

/// Revokes an app-specific token.
#[utoipa::path(delete, path = "/api/v1/user/apptoken/{uuid}", tag = "user",
    params(("uuid" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked"), Failures))]
async fn revoke_app_token(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<StatusCode> {
    let user = token_owner(&api, &caller).await?;
    caller.fresh(&api)?;
    api.accounts()
        .revoke_app_token(&user, &uuid, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
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
    caller.permitted(&api, Action::OverseeRegistry)?;
    let limit = params.limit.unwrap_or(MAX_USERS_PAGE);
    if !(1..=MAX_USERS_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 100"));
    }
    let after: Option<String> = params.next_page.as_deref().map(page_position).transpose()?;
    let users = api.accounts().users(after.as_deref(), limit).await?;
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
    caller.permitted(&api, Action::AdministerRegistry)?;
    caller.fresh(&api)?;
    let password = credentials::generated_password().map_err(Error::from)?;
    let signup = UserSignup {
        name: Namespace::parse(&request.username)?,
        email: request.email,
        password_hash: api.password_hash(&password).await?,
        superuser: false,
    };
    let user = api.accounts().create_user(signup, &caller.actor).await?;
    Ok(axum::Json(CreatedUser {
        username: user.name,
        email: user.email,
        password,
    }))
}

/// The user named `username`, as a superuser acts on them.
async fn managed_user(
    api: &Api,
    caller: &Caller,
    username: &str,
    read: bool,
) -> ApiResult<AccountRecord> {
    if read {
        caller.permitted(api, Action::OverseeRegistry)?;
    } else {
        caller.permitted(api, Action::AdministerRegistry)?;
        caller.fresh(api)?;
    }
    let user = api.accounts().account(username).await?;
    if user.kind != AccountKind::User {
        return Err(Error::NotFound {
            what: "user",
            name: username.to_string(),
        }
        .into());
    }
    Ok(user)
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
    let user = managed_user(&api, &caller, &username, true).await?;
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
    let user = managed_user(&api, &caller, &username, false).await?;
    if api.superuser_of(&user) != Superuser::No {
        return Err(ApiError::invalid("Cannot update a superuser"));
    }
    let password_hash = match &request.password {
        Some(password) => Some(api.password_hash(password).await?),
        None => None,
    };
    let change = UserChange {
        password_hash,
        email: request.email,
        enabled: request.enabled,
    };
    api.accounts()
        .update_user(&user, change, &caller.actor)
        .await?;
    let user = api.accounts().account(&username).await?;
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
    let user = managed_user(&api, &caller, &username, false).await?;
    if api.superuser_of(&user) != Superuser::No {
        return Err(ApiError::invalid("Cannot delete a superuser"));
    }
    api.accounts().delete_user(&user, &caller.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
