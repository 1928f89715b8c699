//! The registry's Prometheus metrics: the HTTP ones recorded here, and `/metrics`.
//!
//! Every crate records through the `metrics` facade, so that an embedding service's own
//! recorder gets them; [`install_recorder`] installs the Prometheus one that `/metrics`
//! renders. The other crates' metrics are named where they are recorded (the collector's and
//! the replicator's in `quay-app`, the cache's in `quay-storage`), all prefixed `quay_`.
//!
//! The hot paths keep their handles (the recorder's registry is a hash map of names and
//! labels): the counters without labels from their first use, the `/v2` routes' per thread.
//! So the recorder must be installed before the first request.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use ::metrics::{Counter, Histogram, SharedString};
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
const PROXY_STALE_SERVED: &str = "quay_proxy_cache_stale_served_total";
const PROXY_STALE_AGE: &str = "quay_proxy_cache_stale_age_seconds";

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

/// The route a request took, as its label.
pub(crate) enum Route {
    /// A `/v2` endpoint's template: the hot paths, whose metric handles each thread keeps.
    Template(&'static str),
    /// The router's matched path (the API's), or empty for no route.
    Matched(String),
}

impl Route {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Template(template) => template,
            Self::Matched(path) => path,
        }
    }
}

/// A route's request counter and latency histogram for one method and status.
#[derive(Clone)]
struct RequestHandles {
    requests: Counter,
    seconds: Histogram,
}

impl RequestHandles {
    fn new(route: SharedString, method: &'static str, status: u16) -> Self {
        let status = match status_label(status) {
            Some(label) => SharedString::const_str(label),
            None => SharedString::from(status.to_string()),
        };
        Self {
            requests: ::metrics::counter!(
                REQUESTS,
                "route" => route.clone(),
                "method" => method,
                "status" => status
            ),
            seconds: ::metrics::histogram!(REQUEST_SECONDS, "route" => route, "method" => method),
        }
    }
}

thread_local! {
    /// The handles of `/v2` requests by template (its address), method and status: finding
    /// one in the recorder's registry means building and hashing its labels.
    static TEMPLATE_HANDLES: RefCell<HashMap<(usize, &'static str, u16), RequestHandles>> =
        RefCell::new(HashMap::new());
}

/// A request answered: counted by route template, method and status, timed, its bytes sent.
pub(crate) fn request(route: &Route, method: &Method, status: u16, elapsed: Duration, sent: u64) {
    let method = method_label(method);
    let handles = match route {
        Route::Template(template) => TEMPLATE_HANDLES.with_borrow_mut(|handles| {
            handles
                .entry((template.as_ptr() as usize, method, status))
                .or_insert_with(|| {
                    RequestHandles::new(SharedString::const_str(template), method, status)
                })
                .clone()
        }),
        Route::Matched(path) => {
            RequestHandles::new(SharedString::from(path.clone()), method, status)
        }
    };
    handles.requests.increment(1);
    handles.seconds.record(elapsed.as_secs_f64());
    if sent > 0 {
        SENT.increment(sent);
    }
}

/// Handles of the counters without labels, taken at their first use.
static SENT: LazyLock<Counter> = LazyLock::new(|| ::metrics::counter!(SENT_BYTES));
static RECEIVED: LazyLock<Counter> = LazyLock::new(|| ::metrics::counter!(RECEIVED_BYTES));
static PUSHES: LazyLock<Counter> = LazyLock::new(|| ::metrics::counter!(MANIFEST_PUSHES));
static PULLS: LazyLock<Counter> = LazyLock::new(|| ::metrics::counter!(MANIFEST_PULLS));

/// A request body read.
pub(crate) fn received(bytes: u64) {
    if bytes > 0 {
        RECEIVED.increment(bytes);
    }
}

/// A manifest stored by a push.
pub(crate) fn manifest_pushed() {
    PUSHES.increment(1);
}

/// A manifest served by a `GET`.
pub(crate) fn manifest_pulled() {
    PULLS.increment(1);
}

/// A push or upload refused for a quota.
pub(crate) fn quota_rejected() {
    ::metrics::counter!(QUOTA_REJECTIONS).increment(1);
}

/// A proxy cache served its copy because the upstream failed (`reason`), `age_s` old.
pub(crate) fn stale_served(reason: &'static str, age_s: u64) {
    ::metrics::counter!(PROXY_STALE_SERVED, "reason" => reason).increment(1);
    #[allow(clippy::cast_precision_loss)]
    ::metrics::histogram!(PROXY_STALE_AGE).record(age_s as f64);
}

/// The statuses the registry answers with, as labels without an allocation.
fn status_label(status: u16) -> Option<&'static str> {
    Some(match status {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        206 => "206",
        307 => "307",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        409 => "409",
        413 => "413",
        416 => "416",
        429 => "429",
        500 => "500",
        503 => "503",
        _ => return None,
    })
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
