//! `/api/v1`: Quay's REST API for tenancy (users, organizations, teams, robots,
//! repositories, permissions, the usage log), and the OAuth implicit grant.
//!
//! Paths, fields and error bodies are Quay's. Each handler authenticates the caller
//! ([`caller::Caller`]), asks the authorizer, then calls one use case of
//! [`quay_core::Accounts`]. The API description served at `/api/v1/discovery` is generated
//! from the handlers themselves (utoipa), so it cannot drift from what is served.

mod app_tokens;
mod authorized_emails;
mod caller;
mod entities;
pub(crate) mod error;
mod event_notifications;
mod extract;
mod format;
mod logs;
mod mirror;
mod namespace_quota;
mod notifications;
mod oauth;
mod organizations;
mod params;
mod proxy_cache;
mod prune;
mod quota;
mod repositories;
mod repository_permissions;
mod robots;
mod state;
mod superuser_organizations;
mod superuser_quota;
mod superuser_users;
mod tags;
mod teams;
mod users;
mod views;
mod web;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{any, get};
use quay_core::access::Scopes;
use serde::Serialize;
use utoipa::openapi::security::{Flow, Implicit, OAuth2, Scopes as OpenApiScopes, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::error::{ApiError, ErrorBody};
use self::state::Api;
use crate::error::HttpError;
use crate::state::{AppState, Tenancy};

/// The description's frame: title, the OAuth scheme, the shared schemas.
fn description_frame() -> OpenApi {
    let scopes = OpenApiScopes::from_iter(Scopes::ALL_NAMES.iter().map(|name| (*name, *name)));
    let oauth = SecurityScheme::OAuth2(OAuth2::new([Flow::Implicit(Implicit::new(
        "/oauth/authorize",
        scopes,
    ))]));
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Quay-compatible registry API")
                .version("v1")
                .description(Some(
                    "Tenancy of the registry: users, organizations, teams, robots, \
                     repositories, permissions and the usage log. Authenticate with an OAuth \
                     access token (`Authorization: Bearer`) or a session cookie from \
                     `/api/v1/signin` (with `X-CSRF-Token` on changes).",
                ))
                .build(),
        )
        .components(Some(
            ComponentsBuilder::new()
                .schema(ErrorBody::name(), ErrorBody::schema())
                .security_scheme("oauth2_implicit", oauth)
                .build(),
        ))
        .build()
}

/// The `/api/v1` and `/oauth` routes.
pub(crate) fn router(app: AppState, tenancy: Arc<Tenancy>) -> Router {
    let api = Api {
        app,
        tenancy,
        description: Arc::new(OnceLock::new()),
    };
    let (router, description) = OpenApiRouter::with_openapi(description_frame())
        .routes(routes!(discovery))
        .routes(routes!(error_description))
        .merge(users::routes())
        .merge(app_tokens::routes())
        .merge(superuser_users::routes())
        .merge(superuser_organizations::routes())
        .merge(entities::routes())
        .merge(organizations::routes())
        .merge(teams::routes())
        .merge(robots::routes())
        .merge(repositories::routes())
        .merge(repository_permissions::routes())
        .merge(tags::routes())
        .merge(prune::routes())
        .merge(event_notifications::routes())
        .merge(authorized_emails::routes())
        .merge(mirror::routes())
        .merge(proxy_cache::routes())
        .merge(quota::routes())
        .merge(superuser_quota::routes())
        .merge(notifications::routes())
        .merge(logs::routes())
        .merge(oauth::routes())
        .merge(web::routes())
        .split_for_parts();
    let description = description
        .to_json()
        .unwrap_or_else(|error| format!(r#"{{"error":"{error}"}}"#));
    api.description.get_or_init(|| description);
    router
        .route("/api/v1/{*rest}", any(unknown_endpoint))
        .route("/authrepoemail", get(authorized_emails::confirm))
        .route("/exportedlogs/{id}", get(logs::download_export))
        .route(
            "/oauth/authorize",
            get(oauth::describe_grant).post(oauth::grant),
        )
        .with_state(api)
}

/// The API description (OpenAPI), generated from the handlers.
#[utoipa::path(get, path = "/api/v1/discovery", tag = "discovery",
    responses((status = 200, description = "The OpenAPI description of /api/v1", body = Object)))]
async fn discovery(State(api): State<Api>) -> impl IntoResponse {
    let body = api.description.get().cloned().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body)
}

/// What an error type means.
#[derive(Serialize, ToSchema)]
struct ErrorDescription {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    description: String,
}

/// Describes an error type of the API's error bodies.
#[utoipa::path(get, path = "/api/v1/error/{error_type}", tag = "discovery",
    params(("error_type" = String, Path, description = "An `error_type` of an error body")),
    responses((status = 200, description = "The error type", body = ErrorDescription), error::Failures))]
async fn error_description(
    Path(error_type): Path<String>,
) -> Result<axum::Json<ErrorDescription>, ApiError> {
    let description = match error_type.as_str() {
        "invalid_request" => "The request is malformed or breaks a rule.",
        "invalid_token" => "The request needs authentication, or its token is invalid.",
        "fresh_login_required" => "The action needs a sign-in of the last ten minutes.",
        "insufficient_scope" => "The caller is not allowed to do this.",
        "csrf_token_invalid" => "A session's request lacks the session's CSRF token.",
        "not_found" => "Nothing by that name that the caller may see.",
        "tag_immutable" => "The tag is immutable.",
        "method_not_allowed" => "The endpoint does not take this method.",
        "server_error" => "The registry failed; the operator's log has the cause.",
        _ => return Err(HttpError::UnknownEndpoint.into()),
    };
    Ok(axum::Json(ErrorDescription {
        kind: format!("/api/v1/error/{error_type}"),
        title: error_type,
        description: description.into(),
    }))
}

/// Any other `/api/v1` path.
async fn unknown_endpoint() -> ApiError {
    HttpError::UnknownEndpoint.into()
}
