//! The registry's Prometheus metrics: the HTTP ones recorded here, and `/metrics`.
//!
//! Every crate records through the `metrics` facade, so that an embedding service's own
//! recorder gets them; [`install_recorder`] installs the Prometheus one that `/metrics`
//! renders. The other crates' metrics are named where they are recorded (the collector's and
//! the replicator's in `quay-app`, the cache's in `quay-storage`), all prefixed `quay_`.

use std::time::Duration;

use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

const REQUESTS: &str = "quay_http_requests_total";
const REQUEST_SECONDS: &str = "quay_http_request_duration_seconds";
const SENT_BYTES: &str = "quay_http_sent_bytes_total";
const RECEIVED_BYTES: &str = "quay_http_received_bytes_total";
const MANIFEST_PUSHES: &str = "quay_manifest_pushes_total";
const MANIFEST_PULLS: &str = "quay_manifest_pulls_total";
const QUOTA_REJECTIONS: &str = "quay_quota_rejections_total";

/// Request durations' buckets, in seconds: a cached manifest answers in well under a
/// millisecond, a large blob takes minutes.
const REQUEST_BUCKETS: &[f64] = &[
    0.000_25, 0.000_5, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0, 60.0, 300.0,
];

/// Installs the Prometheus recorder for the whole process, with the build's information
/// recorded. Its handle renders `/metrics` ([`AppState::with_metrics`]); someone must call its
/// `run_upkeep` every few seconds.
pub fn install_recorder() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), REQUEST_BUCKETS)?
        .install_recorder()?;
    ::metrics::gauge!("quay_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1);
    Ok(handle)
}

/// `GET /metrics`: every metric, in Prometheus' text format.
pub(crate) async fn render(State(state): State<AppState>) -> Response {
    let Some(handle) = &state.metrics else {
        return (StatusCode::NOT_FOUND, "metrics are not recorded here\n").into_response();
    };
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// A request answered: counted by route template, method and status, timed, its bytes sent.
pub(crate) fn request(route: &str, method: &Method, status: u16, elapsed: Duration, sent: u64) {
    let method = method_label(method);
    ::metrics::counter!(
        REQUESTS,
        "route" => route.to_owned(),
        "method" => method,
        "status" => status.to_string()
    )
    .increment(1);
    ::metrics::histogram!(REQUEST_SECONDS, "route" => route.to_owned(), "method" => method)
        .record(elapsed.as_secs_f64());
    if sent > 0 {
        ::metrics::counter!(SENT_BYTES).increment(sent);
    }
}

/// A request body read.
pub(crate) fn received(bytes: u64) {
    if bytes > 0 {
        ::metrics::counter!(RECEIVED_BYTES).increment(bytes);
    }
}

/// A manifest stored by a push.
pub(crate) fn manifest_pushed() {
    ::metrics::counter!(MANIFEST_PUSHES).increment(1);
}

/// A manifest served by a `GET`.
pub(crate) fn manifest_pulled() {
    ::metrics::counter!(MANIFEST_PULLS).increment(1);
}

/// A push or upload refused for a quota.
pub(crate) fn quota_rejected() {
    ::metrics::counter!(QUOTA_REJECTIONS).increment(1);
}

/// A method as a label without an allocation; extension methods are `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
