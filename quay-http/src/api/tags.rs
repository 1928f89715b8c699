//! Tags and their history (the time machine), and manifests with their labels.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quay_core::manifest::ManifestMediaType;
use quay_core::names::{Digest, Reference, TagName};
use quay_core::ports::{
    ManifestLabel, StoredManifest, TagHistoryQuery, TagLifetime, TagNameFilter,
};
use quay_core::registry::TagEdit;
use quay_core::{Error, RepositoryPath};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures, switched_on};
use super::extract::{Json, Valid};
use super::format::rfc2822;
use super::params::{RepositoryParams, repository_path};
use super::state::Api;

/// Tags on a page unless the caller asks otherwise, and at most (Quay's).
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 100;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(list_tags))
        .routes(routes!(change_tag, delete_tag))
        .routes(routes!(restore_tag))
        .routes(routes!(expire_tag))
        .routes(routes!(manifest))
        .routes(routes!(image_configuration))
        .routes(routes!(manifest_labels))
}

/// Path parameters naming a tag.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct TagParams {
    /// The namespace.
    namespace: String,
    /// The repository's name (a nested name's `/` as `%2F`).
    repository: String,
    /// The tag.
    tag: String,
}

impl TagParams {
    fn parse(&self) -> ApiResult<(RepositoryPath, TagName)> {
        let path = repository_path(&self.namespace, &self.repository)?;
        let tag = TagName::parse(&self.tag)
            .map_err(|_| Error::InvalidRequest(format!("Invalid tag name {:?}", self.tag)))?;
        Ok((path, tag))
    }
}

/// Path parameters naming a manifest.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ManifestParams {
    /// The namespace.
    namespace: String,
    /// The repository's name (a nested name's `/` as `%2F`).
    repository: String,
    /// The manifest's digest.
    digest: String,
}

/// Which tags, and which page of them.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(non_snake_case)]
pub(crate) struct TagListParams {
    /// Only this tag's history.
    specificTag: Option<String>,
    /// `like:<text>` (names containing it) or `eq:<name>`.
    filter_tag_name: Option<String>,
    /// Tags per page (1 to 100, default 50).
    limit: Option<u32>,
    /// Page number, from 1.
    page: Option<u32>,
    /// Only tags alive now.
    onlyActiveTags: Option<bool>,
}

/// One lifetime of a tag.
#[derive(Serialize, ToSchema)]
pub(crate) struct TagView {
    name: String,
    /// Opened by a restore.
    reversion: bool,
    immutable: bool,
    /// Start, epoch seconds.
    start_ts: i64,
    /// End, epoch seconds, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    end_ts: Option<i64>,
    manifest_digest: String,
    is_manifest_list: bool,
    /// Sum of the layer sizes, bytes.
    size: u64,
    /// The start, RFC 2822.
    last_modified: String,
    /// The end, RFC 2822, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<String>,
}

impl From<TagLifetime> for TagView {
    fn from(lifetime: TagLifetime) -> Self {
        Self {
            reversion: lifetime.reversion,
            immutable: lifetime.immutable,
            start_ts: lifetime.start_ms / 1000,
            end_ts: lifetime.end_ms.map(|ms| ms / 1000),
            is_manifest_list: matches!(
                lifetime.media_type,
                ManifestMediaType::OciIndex | ManifestMediaType::DockerManifestList
            ),
            manifest_digest: lifetime.manifest_digest.to_string(),
            size: lifetime.size,
            last_modified: rfc2822(lifetime.start_ms),
            expiration: lifetime.end_ms.map(rfc2822),
            name: lifetime.name,
        }
    }
}

/// A page of tag history.
#[derive(Serialize, ToSchema)]
pub(crate) struct TagPage {
    tags: Vec<TagView>,
    page: u32,
    has_additional: bool,
}

/// The repository's tags with their history, newest first (readers).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/tag/", tag = "tag",
    params(RepositoryParams, TagListParams),
    responses((status = 200, description = "Tags", body = TagPage), Failures))]
async fn list_tags(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
    Valid(Query(query)): Valid<Query<TagListParams>>,
) -> ApiResult<axum::Json<TagPage>> {
    let path = params.path()?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let page = query.page.unwrap_or(1).max(1);
    let name = match (&query.specificTag, &query.filter_tag_name) {
        (Some(tag), _) => Some(TagNameFilter::Exact(tag.clone())),
        (None, Some(filter)) => Some(name_filter(filter)?),
        (None, None) => None,
    };
    let query = TagHistoryQuery {
        only_active: query.onlyActiveTags.unwrap_or(false),
        name,
        offset: u64::from(page - 1) * u64::from(limit),
        limit,
    };
    let history = api.app.registry.tag_history(&path, query, &caller).await?;
    Ok(axum::Json(TagPage {
        tags: history.lifetimes.into_iter().map(TagView::from).collect(),
        page,
        has_additional: history.has_additional,
    }))
}

fn name_filter(filter: &str) -> ApiResult<TagNameFilter> {
    match filter.split_once(':') {
        Some(("like", text)) => Ok(TagNameFilter::Containing(text.to_string())),
        Some(("eq", name)) => Ok(TagNameFilter::Exact(name.to_string())),
        _ => Err(Error::InvalidRequest(format!(
            "filter_tag_name must be like:<text> or eq:<name>, not {filter:?}"
        ))
        .into()),
    }
}

/// What to change about a tag; each given field is applied, in this order: expiration,
/// immutability, target.
#[derive(Deserialize, ToSchema)]
pub(crate) struct TagChangeRequest {
    /// Points the tag (creating it if needed) at this manifest of the repository.
    manifest_digest: Option<String>,
    /// When the tag expires, epoch seconds; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    expiration: Option<Option<i64>>,
    /// Makes the tag immutable, or mutable again (admins).
    immutable: Option<bool>,
}

/// A field that is present, even as `null` (`Some(None)`), as opposed to absent (`None`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(deserializer).map(Some)
}

/// Creates or moves a tag, or changes its expiration or immutability (writers).
#[utoipa::path(put, path = "/api/v1/repository/{namespace}/{repository}/tag/{tag}", tag = "tag",
    params(TagParams),
    request_body = TagChangeRequest,
    responses((status = 201, description = "Updated", body = String), Failures))]
async fn change_tag(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<TagParams>>,
    Json(request): Json<TagChangeRequest>,
) -> ApiResult<(StatusCode, axum::Json<&'static str>)> {
    let (path, tag) = params.parse()?;
    let edit = TagEdit {
        expiration_ms: request
            .expiration
            .map(|expiration| expiration.map(|seconds| seconds.saturating_mul(1000))),
        immutable: request.immutable,
        target: request
            .manifest_digest
            .as_deref()
            .map(parse_digest)
            .transpose()?,
    };
    api.app
        .registry
        .change_tag(&path, &tag, edit, &caller)
        .await?;
    Ok((StatusCode::CREATED, axum::Json("Updated")))
}

/// Deletes a tag; it stays restorable for the namespace's time-machine window (writers).
#[utoipa::path(delete, path = "/api/v1/repository/{namespace}/{repository}/tag/{tag}", tag = "tag",
    params(TagParams),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_tag(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<TagParams>>,
) -> ApiResult<StatusCode> {
    let (path, tag) = params.parse()?;
    api.app
        .registry
        .delete_manifest(&path, &Reference::Tag(tag), &caller)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The manifest a tag is to point to again.
#[derive(Deserialize, ToSchema)]
pub(crate) struct RestoreRequest {
    manifest_digest: Option<String>,
}

/// Nothing to say.
#[derive(Serialize, ToSchema)]
pub(crate) struct Empty {}

/// Points a tag back at a manifest it pointed to before, from the time machine (writers).
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/tag/{tag}/restore", tag = "tag",
    params(TagParams),
    request_body = RestoreRequest,
    responses((status = 200, description = "Restored", body = Empty), Failures))]
async fn restore_tag(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<TagParams>>,
    Json(request): Json<RestoreRequest>,
) -> ApiResult<axum::Json<Empty>> {
    let (path, tag) = params.parse()?;
    let digest = request
        .manifest_digest
        .as_deref()
        .ok_or_else(|| Error::InvalidRequest("Missing manifest_digest".into()))
        .map_err(ApiError::from)
        .and_then(parse_digest)?;
    api.app
        .registry
        .restore_tag(&path, &tag, &digest, &caller)
        .await?;
    Ok(axum::Json(Empty {}))
}

/// Which lifetimes of a tag to take out of the time machine.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ExpireRequest {
    /// The manifest whose lifetimes go (required unless `is_alive`).
    manifest_digest: Option<String>,
    /// Take the alive lifetime instead of ended ones.
    #[serde(default)]
    is_alive: bool,
    /// Accepted for compatibility; lists' children have no tags of their own here.
    #[serde(default)]
    include_submanifests: bool,
}

/// Takes a tag out of the time machine: the next garbage collection removes it for good
/// (writers; only with `PERMANENTLY_DELETE_TAGS`).
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/tag/{tag}/expire", tag = "tag",
    params(TagParams),
    request_body = ExpireRequest,
    responses((status = 200, description = "Removed from the time machine", body = String), Failures))]
async fn expire_tag(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<TagParams>>,
    Json(request): Json<ExpireRequest>,
) -> ApiResult<axum::Json<&'static str>> {
    switched_on(
        "PERMANENTLY_DELETE_TAGS",
        api.tenancy.settings.permanently_delete_tags,
    )?;
    let _ = request.include_submanifests;
    let (path, tag) = params.parse()?;
    let digest = request
        .manifest_digest
        .as_deref()
        .map(parse_digest)
        .transpose()?;
    let removed = api
        .app
        .registry
        .remove_tag_from_time_machine(&path, &tag, digest.as_ref(), request.is_alive, &caller)
        .await?;
    if !removed {
        return Err(not_found(&tag).into());
    }
    Ok(axum::Json(""))
}

fn not_found(tag: &TagName) -> Error {
    Error::NotFound {
        what: "tag",
        name: tag.to_string(),
    }
}

fn parse_digest(text: &str) -> ApiResult<Digest> {
    Digest::parse(text)
        .map_err(|_| Error::InvalidRequest(format!("Invalid manifest digest {text:?}")).into())
}

/// The manifest the parameters name with its labels, once the caller may read it.
async fn readable_manifest(
    api: &Api,
    caller: &Caller,
    params: &ManifestParams,
) -> ApiResult<(Arc<StoredManifest>, Vec<ManifestLabel>)> {
    let path = repository_path(&params.namespace, &params.repository)?;
    let digest = parse_digest(&params.digest)?;
    Ok(api
        .app
        .registry
        .manifest_with_labels(&path, &digest, caller)
        .await?)
}

/// A manifest as the API shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct ManifestView {
    digest: String,
    is_manifest_list: bool,
    /// The manifest's bytes, as a string.
    manifest_data: String,
    media_type: String,
}

/// A manifest of the repository (readers).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/manifest/{digest}", tag = "manifest",
    params(ManifestParams),
    responses((status = 200, description = "The manifest", body = ManifestView), Failures))]
async fn manifest(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<ManifestParams>>,
) -> ApiResult<axum::Json<ManifestView>> {
    let (manifest, _) = readable_manifest(&api, &caller, &params).await?;
    Ok(axum::Json(ManifestView {
        digest: manifest.digest.to_string(),
        is_manifest_list: matches!(
            manifest.media_type,
            ManifestMediaType::OciIndex | ManifestMediaType::DockerManifestList
        ),
        manifest_data: String::from_utf8_lossy(&manifest.bytes).into_owned(),
        media_type: manifest.media_type.as_str().to_string(),
    }))
}

/// The image configuration of an image manifest of the repository (readers): entrypoint,
/// command, environment, labels, history, as pushed. The web UI compares two tags with it.
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/manifest/{digest}/config", tag = "manifest",
    params(ManifestParams),
    responses((status = 200, description = "The image configuration (OCI image-spec JSON)", body = Object),
              (status = 404, description = "No such manifest, or it has no image configuration"),
              Failures))]
async fn image_configuration(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<ManifestParams>>,
) -> ApiResult<Response> {
    let path = repository_path(&params.namespace, &params.repository)?;
    let digest = parse_digest(&params.digest)?;
    let config = api
        .app
        .registry
        .image_configuration(&path, &digest, &caller)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "image configuration of manifest",
            name: digest.to_string(),
        })?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        config,
    )
        .into_response())
}

/// A label of a manifest.
#[derive(Serialize, ToSchema)]
pub(crate) struct LabelView {
    id: String,
    key: String,
    value: String,
    /// `manifest`: from the image configuration.
    source_type: String,
    media_type: String,
}

/// Labels of a manifest.
#[derive(Serialize, ToSchema)]
pub(crate) struct LabelList {
    labels: Vec<LabelView>,
}

/// Which labels.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LabelFilter {
    /// Only keys starting with this.
    filter: Option<String>,
}

/// The labels of a manifest of the repository (readers).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/manifest/{digest}/labels", tag = "manifest",
    params(ManifestParams, LabelFilter),
    responses((status = 200, description = "Labels", body = LabelList), Failures))]
async fn manifest_labels(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<ManifestParams>>,
    Valid(Query(filter)): Valid<Query<LabelFilter>>,
) -> ApiResult<axum::Json<LabelList>> {
    let (_, labels) = readable_manifest(&api, &caller, &params).await?;
    let prefix = filter.filter.unwrap_or_default();
    Ok(axum::Json(LabelList {
        labels: labels
            .into_iter()
            .filter(|label| label.key.starts_with(&prefix))
            .map(|label| LabelView {
                id: label.id.to_string(),
                key: label.key,
                value: label.value,
                source_type: label.source,
                media_type: "text/plain".into(),
            })
            .collect(),
    }))
}
