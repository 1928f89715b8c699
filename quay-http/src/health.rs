//! `/health/instance` and `/health/endtoend`: whether this instance can serve, in Quay's
//! shape. Both check the same: the database and the storage this node uses are all that
//! serving depends on.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;

/// Checks the database and the blob storage with one cheap read each.
pub(crate) async fn instance(State(state): State<AppState>) -> Response {
    let health = state.registry.health().await;
    for (service, check) in [("database", &health.database), ("storage", &health.storage)] {
        if let Err(error) = check {
            tracing::warn!(service, %error, "health check failed");
        }
    }
    let (database, storage) = (health.database.is_ok(), health.storage.is_ok());
    let healthy = database && storage;
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "data": { "services": { "database": database, "storage": storage } },
        "status_code": status.as_u16(),
    });
    (status, axum::Json(body)).into_response()
}
