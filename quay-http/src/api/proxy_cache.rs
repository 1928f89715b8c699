//! An organization's proxy cache configuration (`FEATURE_PROXY_CACHE`): read by its
//! members, set and removed by its administrators. Credentials are taken, never shown.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use quay_core::ports::UpstreamSignIn;
use quay_core::proxy::{ProxyCache, ProxyCacheRequest};
use quay_core::secret::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiResult, Failures, switched_on};
use super::extract::{Json, Valid};
use super::params::name;
use super::state::Api;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(proxy_cache, add_proxy_cache, delete_proxy_cache))
        .routes(routes!(validate_proxy_cache))
}

/// A proxy cache configuration as the API takes it.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ProxyCacheBody {
    /// `host[:port][/namespace]`: `docker.io`, `quay.io/someorg`.
    upstream_registry: String,
    /// With `upstream_registry_password`, or neither.
    upstream_registry_username: Option<String>,
    upstream_registry_password: Option<String>,
    /// Lifetime of cached tags in seconds (a day; 0: forever).
    expiration_s: Option<u64>,
    /// Plain HTTP to the upstream.
    #[serde(default)]
    insecure: bool,
}

/// A configuration as Quay shows it: every field `""` when there is none.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProxyCacheView {
    #[schema(value_type = Object)]
    upstream_registry: serde_json::Value,
    #[schema(value_type = Object)]
    expiration_s: serde_json::Value,
    #[schema(value_type = Object)]
    insecure: serde_json::Value,
}

impl From<Option<ProxyCache>> for ProxyCacheView {
    fn from(cache: Option<ProxyCache>) -> Self {
        match cache {
            Some(cache) => Self {
                upstream_registry: cache.upstream_registry.into(),
                expiration_s: cache.expiration_s.unwrap_or(0).into(),
                insecure: cache.insecure.into(),
            },
            None => Self {
                upstream_registry: "".into(),
                expiration_s: "".into(),
                insecure: "".into(),
            },
        }
    }
}

impl From<ProxyCacheBody> for ProxyCacheRequest {
    fn from(body: ProxyCacheBody) -> Self {
        Self {
            upstream_registry: body.upstream_registry,
            username: body.upstream_registry_username,
            password: body.upstream_registry_password.map(Secret::new),
            expiration_s: body.expiration_s,
            insecure: body.insecure,
        }
    }
}

impl Api {
    fn proxy_cache_on(&self) -> ApiResult<()> {
        switched_on("FEATURE_PROXY_CACHE", self.tenancy.settings.proxy_cache)
    }
}

/// An organization's proxy cache configuration (members).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/proxycache", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 200, description = "The configuration", body = ProxyCacheView), Failures))]
async fn proxy_cache(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
) -> ApiResult<axum::Json<ProxyCacheView>> {
    api.proxy_cache_on()?;
    let cache = api
        .accounts()
        .proxy_cache(&caller, &name(&organization)?)
        .await?;
    Ok(axum::Json(cache.into()))
}

/// Makes an organization a proxy cache of an upstream registry (administrators).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/proxycache", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    request_body = ProxyCacheBody,
    responses((status = 201, description = "Created", body = String), Failures))]
async fn add_proxy_cache(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
    Json(body): Json<ProxyCacheBody>,
) -> ApiResult<(StatusCode, axum::Json<&'static str>)> {
    api.proxy_cache_on()?;
    api.accounts()
        .add_proxy_cache(&caller, &name(&organization)?, body.into())
        .await?;
    Ok((StatusCode::CREATED, axum::Json("Created")))
}

/// Removes an organization's proxy cache configuration (administrators); Quay answers 201.
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}/proxycache", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 201, description = "Deleted", body = String), Failures))]
async fn delete_proxy_cache(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
) -> ApiResult<(StatusCode, axum::Json<&'static str>)> {
    api.proxy_cache_on()?;
    api.accounts()
        .delete_proxy_cache(&caller, &name(&organization)?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json("Deleted")))
}

/// Signs in to an upstream as pulls would, before it is configured (administrators): 202
/// `"Valid"`, or `"Anonymous"` when no credentials were given and the upstream asks for some.
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/validateproxycache",
    tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    request_body = ProxyCacheBody,
    responses((status = 202, description = "Valid or Anonymous", body = String), Failures))]
async fn validate_proxy_cache(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
    Json(body): Json<ProxyCacheBody>,
) -> ApiResult<(StatusCode, axum::Json<&'static str>)> {
    api.proxy_cache_on()?;
    let signed_in = api
        .accounts()
        .validate_proxy_cache(&caller, &name(&organization)?, body.into())
        .await?;
    let answer = match signed_in {
        UpstreamSignIn::Valid => "Valid",
        UpstreamSignIn::Anonymous => "Anonymous",
    };
    Ok((StatusCode::ACCEPTED, axum::Json(answer)))
}
