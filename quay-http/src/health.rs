//! `/health/instance` and `/health/endtoend`: whether this instance can serve, in Quay's
//! shape, with every storage location's answer beside it.
//!
//! The two differ in what they require. This node serves from its preferred storage
//! location (others only when a blob is missing there), so `/health/instance`, what a load
//! balancer asks, requires the database and that location; a remote region being down must
//! not take every node out of rotation. `/health/endtoend` requires every location: it
//! answers whether the whole registry, replication included, works.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::state::AppState;

/// The database and the preferred storage location.
pub(crate) async fn instance(State(state): State<AppState>) -> Response {
    report(&state, Scope::Instance).await
}

/// The database and every storage location.
pub(crate) async fn end_to_end(State(state): State<AppState>) -> Response {
    report(&state, Scope::EndToEnd).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Instance,
    EndToEnd,
}

/// Checks the database and each storage location with one cheap read each.
async fn report(state: &AppState, scope: Scope) -> Response {
    let health = state.registry.health().await;
    if let Err(error) = &health.database {
        tracing::warn!(service = "database", %error, "health check failed");
    }
    let mut locations = Map::new();
    let mut storage = true;
    for location in &health.storage {
        if let Err(error) = &location.status {
            tracing::warn!(service = "storage", location = location.name, %error, "health check failed");
        }
        let healthy = location.status.is_ok();
        if location.preferred || scope == Scope::EndToEnd {
            storage &= healthy;
        }
        locations.insert(location.name.clone(), Value::Bool(healthy));
    }
    let database = health.database.is_ok();
    let status = if database && storage {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "data": {
            "services": { "database": database, "storage": storage },
            "storage_locations": locations,
        },
        "status_code": status.as_u16(),
    });
    (status, axum::Json(body)).into_response()
}
