//! A repository's mirror (`FEATURE_REPO_MIRROR`, Quay's `endpoints/api/mirror.py`): its
//! configuration, sync requests, a dry run, and the repository's state. All for the
//! repository's administrators; credentials are taken, never shown.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quay_core::Error;
use quay_core::mirror::{MirrorRequest, format_time};
use quay_core::names::RobotName;
use quay_core::ports::{RepositoryState, StoredMirror};
use quay_core::secret::Secret;
use quay_core::upstream::UpstreamProxy;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures, switched_on};
use super::extract::{Json, Valid};
use super::params::RepositoryParams;
use super::state::Api;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(mirror, create_mirror, update_mirror))
        .routes(routes!(sync_now))
        .routes(routes!(sync_cancel))
        .routes(routes!(dry_run))
        .routes(routes!(change_state))
}

/// A field that may be absent, null or given: `Some(None)` is an explicit null.
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `root_rule`.
#[derive(Deserialize, ToSchema)]
pub(crate) struct RootRule {
    /// Always `tag_glob_csv`.
    rule_kind: String,
    /// Tag globs: a tag is mirrored when it matches one.
    rule_value: Vec<String>,
}

/// `external_registry_config`.
#[derive(Deserialize, ToSchema)]
pub(crate) struct RegistryConfig {
    /// Check the upstream's certificate; `false` also lets a plain-HTTP upstream work.
    verify_tls: Option<bool>,
    /// Quay's `unsigned_images`.
    unsigned_images: Option<bool>,
    /// `{"http_proxy", "https_proxy", "no_proxy"}`.
    #[schema(value_type = Object)]
    proxy: Option<UpstreamProxy>,
}

/// A mirror configuration as the API takes it: Quay's fields, and ours (`platforms`,
/// `remove_stale_tags`, `copy_referrers`).
#[derive(Deserialize, ToSchema)]
pub(crate) struct MirrorBody {
    is_enabled: Option<bool>,
    /// `host[:port]/namespace/repository`.
    external_reference: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    external_registry_username: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    external_registry_password: Option<Option<String>>,
    external_registry_config: Option<RegistryConfig>,
    /// `%Y-%m-%dT%H:%M:%SZ`.
    sync_start_date: Option<String>,
    /// Seconds.
    sync_interval: Option<i64>,
    /// `namespace+robot`.
    robot_username: Option<String>,
    root_rule: Option<RootRule>,
    /// Seconds, at least 300.
    skopeo_timeout_interval: Option<i64>,
    /// Quay's: architectures (`amd64`, `arm64`, ...).
    architecture_filter: Option<Vec<String>>,
    /// `os/architecture[/variant]`: the children of an index that are copied.
    platforms: Option<Vec<String>>,
    /// Remove local tags gone upstream (into the time machine); off by default.
    remove_stale_tags: Option<bool>,
    /// Copy referrers (signatures, SBOMs, attestations); on by default.
    copy_referrers: Option<bool>,
}

impl MirrorBody {
    fn into_request(self) -> ApiResult<MirrorRequest> {
        if let Some(rule) = &self.root_rule
            && rule.rule_kind != "tag_glob_csv"
        {
            return Err(ApiError::invalid(
                "root_rule.rule_kind must be tag_glob_csv",
            ));
        }
        let robot = self
            .robot_username
            .as_deref()
            .map(|name| RobotName::parse(name).map_err(|_| ApiError::invalid("Invalid robot")))
            .transpose()?;
        let config = self.external_registry_config;
        Ok(MirrorRequest {
            is_enabled: self.is_enabled,
            external_reference: self.external_reference,
            username: self.external_registry_username,
            password: self
                .external_registry_password
                .map(|password| password.map(Secret::new)),
            robot,
            tag_patterns: self.root_rule.map(|rule| rule.rule_value),
            sync_interval_s: self.sync_interval,
            sync_start: self.sync_start_date,
            verify_tls: config.as_ref().and_then(|config| config.verify_tls),
            unsigned_images: config.as_ref().and_then(|config| config.unsigned_images),
            proxy: config.and_then(|config| config.proxy),
            timeout_s: self.skopeo_timeout_interval,
            platforms: self.platforms.or(architectures(self.architecture_filter)?),
            remove_stale_tags: self.remove_stale_tags,
            copy_referrers: self.copy_referrers,
        })
    }
}

/// Quay's architectures, which `architecture_filter` may name.
const ARCHITECTURES: [&str; 4] = ["amd64", "arm64", "ppc64le", "s390x"];

/// Quay's `architecture_filter`, checked against its architectures.
fn architectures(filter: Option<Vec<String>>) -> ApiResult<Option<Vec<String>>> {
    if let Some(unknown) = filter
        .iter()
        .flatten()
        .find(|architecture| !ARCHITECTURES.contains(&architecture.as_str()))
    {
        return Err(ApiError::invalid(format!(
            "architecture_filter: {unknown:?} is not one of {}; `platforms` takes any \
             os/architecture[/variant]",
            ARCHITECTURES.join(", ")
        )));
    }
    Ok(filter)
}

/// A mirror as Quay shows it, with the last sync's report.
fn view(mirror: &StoredMirror) -> Value {
    let config = &mirror.config;
    let schedule = &mirror.schedule;
    let platforms: Vec<String> = config.platforms.iter().map(ToString::to_string).collect();
    json!({
        "is_enabled": config.is_enabled,
        "mirror_type": "PULL",
        "external_reference": config.endpoint.reference.to_string(),
        "external_registry_username": config.username,
        "external_registry_config": {
            "verify_tls": config.endpoint.verify_tls,
            "unsigned_images": config.unsigned_images,
            "proxy": config.endpoint.proxy,
        },
        "sync_interval": config.sync_interval_s,
        "sync_start_date": schedule.start_ms.map(format_time),
        "sync_expiration_date": schedule.expiration_ms.map(format_time),
        "sync_retries_remaining": schedule.retries_remaining,
        "sync_status": schedule.status.name(),
        "root_rule": {"rule_kind": "tag_glob_csv", "rule_value": config.tag_patterns},
        "robot_username": config.robot.to_string(),
        "skopeo_timeout_interval": config.timeout_s,
        "architecture_filter": config.architectures(),
        "platforms": platforms,
        "remove_stale_tags": config.remove_stale_tags,
        "copy_referrers": config.copy_referrers,
        "last_sync": mirror.last_sync,
    })
}

impl Api {
    fn mirroring_on(&self) -> ApiResult<()> {
        switched_on("FEATURE_REPO_MIRROR", self.app.registry.mirrors_enabled())
    }
}

/// The repository's mirror configuration and where its syncs stand (administrators).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/mirror",
    tag = "mirror", params(RepositoryParams),
    responses((status = 200, description = "The mirror", body = Object), Failures))]
async fn mirror(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
) -> ApiResult<axum::Json<Value>> {
    api.mirroring_on()?;
    let mirror = api.accounts().mirror(&caller, &params.path()?).await?;
    Ok(axum::Json(view(&mirror)))
}

/// Makes the repository a mirror (administrators): its state becomes `MIRROR`.
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/mirror",
    tag = "mirror", params(RepositoryParams), request_body = MirrorBody,
    responses((status = 201, description = "Created", body = Object),
              (status = 409, description = "The repository has a mirror already"), Failures))]
async fn create_mirror(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
    Json(body): Json<MirrorBody>,
) -> ApiResult<Response> {
    api.mirroring_on()?;
    let request = body.into_request()?;
    match api
        .accounts()
        .create_mirror(&caller, &params.path()?, request)
        .await
    {
        Ok(mirror) => Ok((StatusCode::CREATED, axum::Json(view(&mirror))).into_response()),
        // Quay's answer, word for word.
        Err(Error::AlreadyExists(detail)) => Ok((
            StatusCode::CONFLICT,
            axum::Json(json!({ "detail": detail, "status": 409 })),
        )
            .into_response()),
        Err(other) => Err(other.into()),
    }
}

/// Changes the fields of the repository's mirror that the body names (administrators).
#[utoipa::path(put, path = "/api/v1/repository/{namespace}/{repository}/mirror",
    tag = "mirror", params(RepositoryParams), request_body = MirrorBody,
    responses((status = 201, description = "Changed", body = Object), Failures))]
async fn update_mirror(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
    Json(body): Json<MirrorBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    api.mirroring_on()?;
    let request = body.into_request()?;
    let mirror = api
        .accounts()
        .update_mirror(&caller, &params.path()?, request)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view(&mirror))))
}

/// Asks for a sync now (administrators); 404 while one runs.
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/mirror/sync-now",
    tag = "mirror", params(RepositoryParams),
    responses((status = 204, description = "Asked"), Failures))]
async fn sync_now(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
) -> ApiResult<StatusCode> {
    api.mirroring_on()?;
    api.accounts()
        .sync_mirror_now(&caller, &params.path()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancels a running or asked-for sync (administrators); 404 when there is none.
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/mirror/sync-cancel",
    tag = "mirror", params(RepositoryParams),
    responses((status = 204, description = "Cancelled"), Failures))]
async fn sync_cancel(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
) -> ApiResult<StatusCode> {
    api.mirroring_on()?;
    api.accounts()
        .cancel_mirror_sync(&caller, &params.path()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which tags a sync would copy, move and remove now, changing nothing (administrators).
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/mirror/dry-run",
    tag = "mirror", params(RepositoryParams),
    responses((status = 200, description = "The plan", body = Object), Failures))]
async fn dry_run(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
) -> ApiResult<axum::Json<Value>> {
    api.mirroring_on()?;
    let report = api
        .app
        .registry
        .mirror_dry_run(&params.path()?, &caller)
        .await?;
    Ok(axum::Json(report.to_json()))
}

/// `changestate`'s body.
#[derive(Deserialize, Serialize, ToSchema)]
pub(crate) struct StateBody {
    /// `NORMAL`, `READ_ONLY` or `MIRROR`.
    state: String,
}

/// Sets the repository's state (administrators).
#[utoipa::path(put, path = "/api/v1/repository/{namespace}/{repository}/changestate",
    tag = "mirror", params(RepositoryParams), request_body = StateBody,
    responses((status = 200, description = "Changed", body = Object), Failures))]
async fn change_state(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
    Json(body): Json<StateBody>,
) -> ApiResult<axum::Json<Value>> {
    api.mirroring_on()?;
    let state = RepositoryState::parse(&body.state).ok_or_else(|| {
        ApiError::invalid(format!(
            "state must be NORMAL, READ_ONLY or MIRROR, not {:?}",
            body.state
        ))
    })?;
    api.accounts()
        .change_repository_state(&caller, &params.path()?, state)
        .await?;
    Ok(axum::Json(json!({ "success": true })))
}
