//! The registry's HTTP API, as an axum [`Router`] that any service can mount.
//!
//! - `/v2/...`: the OCI distribution API (specification v1.1), with Quay's additions;
//! - `/api/v1/...`: Quay's REST API for tenancy, described at `/api/v1/discovery`, and the
//!   OAuth implicit grant at `/oauth/authorize` (with [`Tenancy`] only);
//! - `/health/instance` and `/health/endtoend`: whether this instance can reach its database
//!   and storage;
//! - `/metrics`: Prometheus metrics, where the process records them ([`install_recorder`]).
//!
//! Every request gets an id (`X-Request-Id`, also in error bodies) and one access-log line
//! at `info` (target `quay::access`) when its response is sent.
//!
//! The handlers are thin: turn the credentials into the caller, parse and validate the
//! request, call one use case of [`Registry`](quay_core::Registry) (which decides whether the
//! caller may), map the result. Errors become the OCI error envelope in
//! one place ([`HttpError`]). Bodies stream in both directions; no handler holds a blob in
//! memory.
//!
//! Embedding takes a few lines:
//!
//! ```no_run
//! # async fn embed(registry: quay_core::Registry) -> std::io::Result<()> {
//! use std::sync::Arc;
//!
//! let app = quay_http::router(quay_http::AppState::new(Arc::new(registry)));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

mod api;
mod auth;
mod client;
mod error;
mod headers;
mod health;
mod metrics;
mod observe;
mod state;
mod text;
mod v2;

use axum::Router;
use axum::routing::get;

pub use crate::error::{HttpError, HttpResult};
pub use crate::metrics::install_recorder;
pub use crate::state::{AppState, Tenancy, TenancySettings};

/// The registry's routes.
pub fn router(state: AppState) -> Router {
    routes(state, None)
}

/// The registry's routes, and `pages` for every path they do not answer (the web UI), with
/// the same request ids and access log.
pub fn router_with_pages(state: AppState, pages: Router) -> Router {
    routes(state, Some(pages))
}

fn routes(state: AppState, pages: Option<Router>) -> Router {
    let api = state
        .tenancy
        .clone()
        .map(|tenancy| api::router(state.clone(), tenancy));
    let registry = Router::new()
        .route("/v2", get(v2::api_version))
        .route("/v2/", get(v2::api_version))
        .route("/v2/_catalog", get(v2::listing::catalog))
        .route("/v2/auth", get(v2::token::issue))
        .route("/v2/{*path}", axum::routing::any(v2::dispatch))
        .route("/health/instance", get(health::instance))
        .route("/health/endtoend", get(health::end_to_end))
        .route("/metrics", get(metrics::render))
        .with_state(state);
    let routes = match api {
        Some(api) => registry.merge(api),
        None => registry,
    };
    let routes = match pages {
        Some(pages) => routes.fallback_service(pages),
        None => routes,
    };
    routes
        .layer(tower::layer::layer_fn(text::RefuseNulInUrl))
        .layer(axum::middleware::from_fn(observe::observe))
}
