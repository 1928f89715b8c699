//! Users: the first one, sign-up, sign-in and out, the current user. App-specific tokens are
//! `app_tokens.rs`'s, the superuser's user management `superuser_users.rs`'s.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use quay_auth::credentials;
use quay_core::Error;
use quay_core::access::{Principal, PrincipalKind, Scopes};
use quay_core::accounts::{OwnAccount, UserSignup};
use quay_core::audit::CredentialKind;
use quay_core::names::Namespace;
use quay_core::permission::Superuser;
use quay_core::ports::UserChange;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::{Caller, SESSION_COOKIE};
use super::error::{ApiError, ApiResult, Failures, switched_on};
use super::extract::Json;
use super::state::Api;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(initialize))
        .routes(routes!(current_user, create_user, update_current_user))
        .routes(routes!(sign_in))
        .routes(routes!(verify_password))
        .routes(routes!(sign_out))
}

/// How long a browser session lasts (Flask's `PERMANENT_SESSION_LIFETIME`, 31 days).
const SESSION_LIFETIME_MS: i64 = 31 * 86_400_000;
/// How long the access token of the first user lasts.
const INITIAL_TOKEN_LIFETIME_MS: i64 = 365 * 86_400_000;
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

/// Creates the first user of an empty registry (`FEATURE_USER_INITIALIZE`).
#[utoipa::path(post, path = "/api/v1/user/initialize", tag = "user",
    request_body = NewUserRequest,
    responses((status = 200, description = "The user was created", body = InitializedUser), Failures))]
async fn initialize(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<NewUserRequest>,
) -> ApiResult<axum::Json<InitializedUser>> {
    switched_on(
        "FEATURE_USER_INITIALIZE",
        api.tenancy.settings.user_initialize,
    )?;
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
    let OwnAccount {
        user,
        namespace,
        memberships,
    } = api.accounts().own_account(&caller).await?;
    let organizations = memberships
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
    /// A new password (at least 8 characters, no whitespace).
    password: Option<String>,
    /// A new e-mail address.
    email: Option<String>,
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
    if let Some(seconds) = request.tag_expiration_s {
        let windows = api.tag_windows(Some(seconds))?;
        api.accounts()
            .set_own_tag_expiration(&caller, seconds, windows)
            .await?;
    }
    if request.password.is_some() || request.email.is_some() {
        let change = UserChange {
            password_hash: api.new_password_hash(request.password.as_deref()).await?,
            email: request.email,
            enabled: None,
        };
        api.accounts().update_own_account(&caller, change).await?;
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

/// The account whose username and password these are; a wrong password is logged as a
/// failed login.
async fn checked_password(
    api: &Api,
    caller: &Caller,
    username: &str,
    password: &str,
) -> ApiResult<Principal> {
    match api
        .authenticator()
        .basic(username, password, caller.actor.ip.as_deref())
        .await
    {
        Ok(principal) => Ok(principal),
        Err(Error::InvalidCredentials(message)) => {
            api.authenticator()
                .record_login(Err((username, &message)), "quayauth", &caller.actor)
                .await?;
            Err(Error::InvalidCredentials(message).into())
        }
        Err(other) => Err(other.into()),
    }
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
    let principal = checked_password(&api, &caller, &request.username, &request.password).await?;
    if !matches!(principal.kind, PrincipalKind::User(_))
        || principal.credential != CredentialKind::Password
    {
        return Err(refused().into());
    }
    start_session(&api, &caller, principal).await
}

/// A new session for `principal`: its cookie and CSRF token in the response.
async fn start_session(api: &Api, caller: &Caller, principal: Principal) -> ApiResult<Response> {
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
    if let Some(cookie) = session_cookie(api, &minted.secret, SESSION_LIFETIME_MS / 1000) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    if let Ok(value) = HeaderValue::from_str(&csrf_token) {
        headers.insert("x-next-csrf-token", value);
    }
    Ok(response)
}

/// The password that confirms the session's user is at the keyboard.
#[derive(Deserialize, ToSchema)]
pub(crate) struct VerifyRequest {
    password: String,
}

/// Confirms the signed-in user's password (Quay's "fresh login", which superuser changes
/// need ten minutes after signing in): the session is replaced by a fresh one, whose cookie
/// and CSRF token the response carries. A wrong password is refused as a sign-in with it.
#[utoipa::path(post, path = "/api/v1/signin/verify", tag = "user",
    request_body = VerifyRequest,
    responses((status = 200, description = "The password is right; a fresh session", body = SignedIn), Failures))]
async fn verify_password(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<VerifyRequest>,
) -> ApiResult<Response> {
    let Some(session) = &caller.session else {
        return Err(Error::Unauthorized.into());
    };
    let name = caller.signed_in()?.name.clone();
    let principal = checked_password(&api, &caller, &name, &request.password).await?;
    api.accounts().end_session(session).await?;
    start_session(&api, &caller, principal).await
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
