//! What every request leaves behind: an id, in the response's `X-Request-Id`, its error body
//! and every log line of it; one access-log line at `info` once its response body is sent
//! (or abandoned); and its request metrics.
//!
//! The id is the client's or a proxy's `X-Request-Id` when that is short and printable, or
//! one made here. Handlers add what only they learn (who the caller is, which `/v2` route)
//! through [`identified`] and [`routed`]: the request's task holds them in a task-local.

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Buf;
use http_body::{Frame, SizeHint};
use quay_core::access::Identity;

use crate::client::client_ip;
use crate::metrics;

/// The response header (and the request header honoured) carrying the request's id.
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// The longest request id taken from a client.
const MAX_GIVEN_ID: usize = 128;

tokio::task_local! {
    static REQUEST: RequestScope;
}

/// What handlers tell about the request they serve.
struct RequestScope {
    id: HeaderValue,
    /// Whether the access log is on, and so wants the user.
    logged: bool,
    user: RefCell<Option<String>>,
    route: Cell<Option<&'static str>>,
}

/// The id of the request being served, for error bodies and log lines.
pub(crate) fn request_id() -> Option<String> {
    REQUEST
        .try_with(|scope| scope.id.to_str().ok().map(str::to_owned))
        .ok()
        .flatten()
}

/// Records who the caller of the request being served is, for its access-log line.
pub(crate) fn identified(identity: &Identity) {
    if let Some(principal) = identity.principal() {
        let _ = REQUEST.try_with(|scope| {
            if scope.logged {
                scope.user.replace(Some(principal.name.clone()));
            }
        });
    }
}

/// Records the route template of the `/v2` request being served (`/v2/{name}/blobs/{digest}`),
/// which the router's catch-all cannot know.
pub(crate) fn routed(template: &'static str) {
    let _ = REQUEST.try_with(|scope| scope.route.set(Some(template)));
}

/// The middleware: gives the request its id, serves it, and follows its response body. What
/// only the access log needs is gathered only while it is on.
pub(crate) async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = given_id(&request).unwrap_or_else(new_id);
    let method = request.method().clone();
    // Cloned (an `Arc`), and copied only for a route without a template.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let logged = tracing::enabled!(target: ACCESS_LOG, tracing::Level::INFO);
    let mut access = logged.then(|| Access {
        path: request.uri().path().to_owned(),
        client: client_ip(request.headers(), request.extensions()),
        user: None,
        received: Arc::new(AtomicU64::new(0)),
    });
    let request = if matches!(method, Method::GET | Method::HEAD) {
        request
    } else {
        let received = access.as_ref().map(|access| access.received.clone());
        request.map(|body| {
            Body::new(Counted::new(body, move |bytes, _| {
                if let Some(received) = received {
                    received.store(bytes, Ordering::Relaxed);
                }
                metrics::received(bytes);
            }))
        })
    };
    let scope = RequestScope {
        id: id.clone(),
        logged,
        user: RefCell::new(None),
        route: Cell::new(None),
    };
    let (mut response, user, template) = REQUEST
        .scope(scope, async move {
            let response = next.run(request).await;
            let (user, route) = REQUEST.with(|scope| (scope.user.take(), scope.route.get()));
            (response, user, route)
        })
        .await;
    response.headers_mut().insert(REQUEST_ID, id.clone());
    if let Some(access) = &mut access {
        access.user = user;
    }
    let finished = Finished {
        started,
        method,
        route: match template {
            Some(template) => metrics::Route::Template(template),
            None => metrics::Route::Matched(
                matched
                    .map(|matched| matched.as_str().to_owned())
                    .unwrap_or_default(),
            ),
        },
        status: response.status().as_u16(),
        id,
        access,
    };
    response.map(|body| {
        Body::new(Counted::new(body, move |sent, complete| {
            finished.done(sent, complete);
        }))
    })
}

/// The access log's target.
const ACCESS_LOG: &str = "quay::access";

/// A request whose response is on its way.
struct Finished {
    started: Instant,
    method: Method,
    route: metrics::Route,
    status: u16,
    id: HeaderValue,
    /// With the access log on: what its line says besides.
    access: Option<Access>,
}

struct Access {
    path: String,
    client: Option<String>,
    user: Option<String>,
    received: Arc<AtomicU64>,
}

impl Finished {
    fn done(self, sent: u64, complete: bool) {
        let elapsed = self.started.elapsed();
        metrics::request(&self.route, &self.method, self.status, elapsed, sent);
        let Some(access) = self.access else {
            return;
        };
        tracing::info!(
            target: ACCESS_LOG,
            method = %self.method,
            path = access.path,
            route = self.route.as_str(),
            status = self.status,
            bytes_sent = sent,
            bytes_received = access.received.load(Ordering::Relaxed),
            micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            user = access.user.as_deref().unwrap_or("-"),
            client = access.client.as_deref().unwrap_or("-"),
            request_id = self.id.to_str().unwrap_or("-"),
            complete,
            "request"
        );
    }
}

fn given_id(request: &Request) -> Option<HeaderValue> {
    let given = request.headers().get(REQUEST_ID)?;
    let printable = given.as_bytes().iter().all(|byte| byte.is_ascii_graphic());
    (printable && !given.is_empty() && given.len() <= MAX_GIVEN_ID).then(|| given.clone())
}

/// A new id: this process's random prefix and a counter, unique across nodes and restarts
/// without a random draw per request.
fn new_id() -> HeaderValue {
    static PREFIX: std::sync::LazyLock<u64> =
        std::sync::LazyLock::new(|| uuid::Uuid::new_v4().as_u64_pair().0);
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let id = format!(
        "{:016x}{:08x}",
        *PREFIX,
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    HeaderValue::try_from(id).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// A body that counts its bytes and, when dropped, tells `done` how many went through and
/// whether it reached its end.
struct Counted<F: FnOnce(u64, bool)> {
    inner: Body,
    bytes: u64,
    complete: bool,
    done: Option<F>,
}

impl<F: FnOnce(u64, bool)> Counted<F> {
    fn new(inner: Body, done: F) -> Self {
        Self {
            inner,
            bytes: 0,
            complete: false,
            done: Some(done),
        }
    }
}

impl<F: FnOnce(u64, bool) + Send + Unpin + 'static> http_body::Body for Counted<F> {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.bytes += data.remaining() as u64;
                }
            }
            Poll::Ready(None) => self.complete = true,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<F: FnOnce(u64, bool)> Drop for Counted<F> {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            // hyper stops polling a body whose size it knows once it has it all.
            let complete = self.complete || http_body::Body::is_end_stream(&self.inner);
            done(self.bytes, complete);
        }
    }
}
