//! What a browser application asks first: `/config` (how the registry is set up: the host
//! its pull commands name, the features that show or hide pages) and `/csrf_token` (what
//! the session's changing requests send), as Quay's web UI boots.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiResult, Failures};
use super::state::Api;

/// Quay's title where none is configured.
const REGISTRY_TITLE: &str = "Project Quay";

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(web_config))
        .routes(routes!(csrf_token))
}

/// The registry's setup, as the web UI reads it (Quay's `endpoints/web.py` `config()`).
#[derive(Serialize, ToSchema)]
pub(crate) struct WebConfig {
    /// Settings the UI shows or builds on (`SERVER_HOSTNAME` in pull commands).
    #[schema(value_type = Object)]
    config: serde_json::Value,
    /// `FEATURE_*` switches, without their prefix: what is off is hidden.
    features: BTreeMap<&'static str, bool>,
    /// Sign-in providers besides passwords (none).
    #[schema(value_type = Object)]
    oauth: serde_json::Value,
    /// External sign-in services (none).
    external_login: Vec<String>,
    /// `normal`, or `readonly` while the registry takes no writes.
    registry_state: &'static str,
    /// The server's version.
    version_number: &'static str,
}

/// The registry's setup: hostname, title, and which features are on.
#[utoipa::path(get, path = "/config", tag = "discovery",
    responses((status = 200, description = "The setup", body = WebConfig), Failures))]
async fn web_config(State(api): State<Api>, headers: HeaderMap) -> axum::Json<WebConfig> {
    let tenancy = &api.tenancy.settings;
    let registry = api.app.registry.settings();
    let permissions = registry.permissions;
    let features = BTreeMap::from([
        ("ANONYMOUS_ACCESS", permissions.anonymous_access),
        ("AUTO_PRUNE", tenancy.auto_prune),
        ("BUILD_SUPPORT", false),
        ("CHANGE_TAG_EXPIRATION", tenancy.change_tag_expiration),
        ("DIRECT_LOGIN", true),
        (
            "EDIT_QUOTA",
            tenancy.edit_quota && registry.quota.management,
        ),
        ("IMMUTABLE_TAGS", registry.immutable_tags),
        ("LOG_EXPORT", tenancy.log_export),
        ("PROXY_CACHE", tenancy.proxy_cache),
        ("PUBLIC_CATALOG", permissions.public_catalog),
        ("QUOTA_MANAGEMENT", registry.quota.management),
        ("REPO_MIRROR", api.app.registry.mirrors_enabled()),
        ("SECURITY_SCANNER", false),
        ("SUPERUSERS_FULL_ACCESS", permissions.superusers_full_access),
        ("USER_CREATION", tenancy.user_creation),
        ("USER_INITIALIZE", tenancy.user_initialize),
    ]);
    let config = serde_json::json!({
        "SERVER_HOSTNAME": api.app.host(&headers),
        "PREFERRED_URL_SCHEME": &*api.app.scheme,
        "REGISTRY_TITLE": REGISTRY_TITLE,
        "REGISTRY_TITLE_SHORT": REGISTRY_TITLE,
        "AUTHENTICATION_TYPE": "Database",
        "PERMANENTLY_DELETE_TAGS": tenancy.permanently_delete_tags,
        "TAG_EXPIRATION_OPTIONS_S": tenancy.tag_expiration_options,
    });
    axum::Json(WebConfig {
        config,
        features,
        oauth: serde_json::json!({}),
        external_login: Vec::new(),
        registry_state: "normal",
        version_number: env!("CARGO_PKG_VERSION"),
    })
}

/// The token a session's changing requests send in `X-CSRF-Token`.
#[derive(Serialize, ToSchema)]
pub(crate) struct CsrfToken {
    /// The signed-in session's token; `null` without a session (signing in needs none and
    /// answers with one).
    csrf_token: Option<String>,
}

/// The session's CSRF token.
#[utoipa::path(get, path = "/csrf_token", tag = "discovery",
    responses((status = 200, description = "The token", body = CsrfToken), Failures))]
async fn csrf_token(caller: Caller) -> ApiResult<axum::Json<CsrfToken>> {
    Ok(axum::Json(CsrfToken {
        csrf_token: caller.csrf_token,
    }))
}
