//! The user, robot and team typeahead (Quay's `/api/v1/entities/{prefix}`).

use axum::extract::{Path, Query, State};
use quay_core::accounts::{EntityKind, FoundEntity};
use quay_core::names::Namespace;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures};
use super::extract::Valid;
use super::state::Api;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new().routes(routes!(entities))
}

/// Where to search besides users.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(non_snake_case)]
pub(crate) struct EntityParams {
    /// The namespace whose robots (its administrators) and teams (its members) to include.
    namespace: Option<String>,
    /// Include the namespace's teams (default false).
    includeTeams: Option<bool>,
}

/// A user, robot or team.
#[derive(Serialize, ToSchema)]
pub(crate) struct EntityView {
    name: String,
    /// `user` (robots too) or `team`.
    kind: &'static str,
    /// Whether a `user` is a robot account.
    is_robot: bool,
}

impl From<FoundEntity> for EntityView {
    fn from(found: FoundEntity) -> Self {
        Self {
            name: found.name,
            kind: match found.kind {
                EntityKind::Team => "team",
                EntityKind::User | EntityKind::Robot => "user",
            },
            is_robot: found.kind == EntityKind::Robot,
        }
    }
}

/// What matched.
#[derive(Serialize, ToSchema)]
pub(crate) struct EntityResults {
    results: Vec<EntityView>,
}

/// Users, robots and teams whose names start with `prefix` (signed-in users): robots of a
/// namespace the caller administers, teams of an organization they are in.
#[utoipa::path(get, path = "/api/v1/entities/{prefix}", tag = "user",
    params(("prefix" = String, Path, description = "The start of the name"), EntityParams),
    responses((status = 200, description = "What matched", body = EntityResults), Failures))]
async fn entities(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(prefix)): Valid<Path<String>>,
    Valid(Query(params)): Valid<Query<EntityParams>>,
) -> ApiResult<axum::Json<EntityResults>> {
    let namespace = params
        .namespace
        .as_deref()
        .map(Namespace::parse)
        .transpose()
        .map_err(|_| ApiError::invalid("namespace is not a valid namespace name"))?;
    let found = api
        .accounts()
        .find_entities(
            &caller,
            &prefix,
            namespace.as_ref(),
            params.includeTeams.unwrap_or(false),
        )
        .await?;
    Ok(axum::Json(EntityResults {
        results: found.into_iter().map(Into::into).collect(),
    }))
}
