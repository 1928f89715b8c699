//! The registry's HTTP API, as an axum [`Router`] that any service can mount.
//!
//! - `/v2/...`: the OCI distribution API (specification v1.1), with Quay's additions;
//! - `/health/instance`: whether this instance can reach its database and storage.
//!
//! The handlers are thin: parse and validate the request, ask the
//! [`Authorizer`], call one use case of
//! [`Registry`], map the result. Errors become the OCI error envelope in
//! one place ([`HttpError`]). Bodies stream in both directions; no handler holds a blob in
//! memory.
//!
//! Embedding takes a few lines:
//!
//! ```no_run
//! # async fn embed(registry: quay_core::Registry) -> std::io::Result<()> {
//! use std::sync::Arc;
//!
//! let app = quay_http::router(quay_http::AppState::new(
//!     Arc::new(registry),
//!     Arc::new(quay_auth::AllowAll),
//! ));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

mod access_log;
mod error;
mod headers;
mod health;
mod v2;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use quay_core::Registry;
use quay_core::access::Authorizer;

pub use crate::error::{HttpError, HttpResult};

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    registry: Arc<Registry>,
    authorizer: Arc<dyn Authorizer>,
    public_url: Option<Arc<str>>,
}

impl AppState {
    /// State for a registry and the authorizer that guards it.
    pub fn new(registry: Arc<Registry>, authorizer: Arc<dyn Authorizer>) -> Self {
        Self {
            registry,
            authorizer,
            public_url: None,
        }
    }

    /// Makes `Location` and `Link` headers absolute, under this URL (`scheme://host`, from
    /// Quay's `PREFERRED_URL_SCHEME` and `SERVER_HOSTNAME`). Without it they are relative,
    /// which clients resolve against the address they used.
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = Some(url.trim_end_matches('/').into());
        self
    }

    /// `path` as a URL for a header.
    fn url(&self, path: &str) -> String {
        match &self.public_url {
            Some(base) => format!("{base}{path}"),
            None => path.to_string(),
        }
    }
}

/// The registry's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v2", get(v2::api_version))
        .route("/v2/", get(v2::api_version))
        .route("/v2/_catalog", get(v2::listing::catalog))
        .route("/v2/{*path}", axum::routing::any(v2::dispatch))
        .route("/health/instance", get(health::instance))
        .layer(axum::middleware::from_fn(access_log::access_log))
        .with_state(state)
}
