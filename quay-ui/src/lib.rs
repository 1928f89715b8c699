//! The registry's web UI, served from the binary itself.
//!
//! The UI is a single-page application (`web/`, React and PatternFly, built by Vite into
//! `web/dist` by `scripts/build-ui`). This crate embeds that build and answers every path the
//! registry's own routes do not: hashed files under `/assets/` with a year of caching, other
//! files as they are, and `index.html` for every other page path (`/organization/...`,
//! `/repository/...`, `/signin`), never cached, so that a browser always learns the newest
//! asset names. A file's gzip twin (made at build time) is sent to clients that accept it.
//!
//! The registry's namespaces (`/api`, `/v2`, `/config`, `/csrf_token`, `/health`, `/metrics`,
//! `/oauth`) are never answered with the page: an unknown API path stays a 404, not HTML.
//!
//! A build without the UI (no Node.js where it was built) still compiles: every page path then
//! answers a short page that says how to build the UI. Debug builds read `web/dist` from disk,
//! so a rebuilt UI shows without recompiling the server.
//!
//! ```no_run
//! # async fn serve(registry: axum::Router) -> std::io::Result<()> {
//! let app = registry.fallback_service(quay_ui::router());
//! # Ok(()) }
//! ```

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri};
use rust_embed::{EmbeddedFile, RustEmbed};

#[derive(RustEmbed)]
#[folder = "../web/dist"]
#[allow_missing = true]
struct Build;

/// The first path segments that belong to the registry's own routes.
const SERVER_NAMESPACES: &[&str] = &[
    "api",
    "v1",
    "v2",
    "config",
    "csrf_token",
    "health",
    "metrics",
    "oauth",
];

/// Hashed by Vite: a name changes whenever the content does.
const IMMUTABLE_FOLDER: &str = "assets/";

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
     frame-ancestors 'none'";

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Web UI not built</title></head><body><main><h1>The web UI is not part of this build</h1>\
<p>This server was built without <code>web/dist</code>. Build the UI with \
<code>scripts/build-ui</code> (it needs Node.js 20 and npm), then build the server again, or \
start it with <code>scripts/run</code>, which does both.</p>\
<p>The registry itself works: the OCI API is at <code>/v2/</code> and Quay's API at \
<code>/api/v1/discovery</code>.</p></main></body></html>";

/// The UI as a router, meant as the registry router's fallback.
pub fn router() -> Router {
    Router::new().fallback(answer)
}

async fn answer(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    let first_segment = path.split('/').next().unwrap_or_default();
    if SERVER_NAMESPACES.contains(&first_segment) {
        return status(StatusCode::NOT_FOUND);
    }
    if method != Method::GET && method != Method::HEAD {
        let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let response = match Build::get(path).filter(|_| !path.is_empty()) {
        Some(file) => file_response(path, &file, &headers),
        // A missing asset is a 404: answering a script's URL with the page breaks loudly
        // in the browser instead of saying what is missing.
        None if path.starts_with(IMMUTABLE_FOLDER) => status(StatusCode::NOT_FOUND),
        None => match Build::get("index.html") {
            Some(page) => file_response("index.html", &page, &headers),
            None => not_built(),
        },
    };
    with_security_headers(response)
}

/// One embedded file, its gzip twin where the client accepts it, revalidated by its hash.
fn file_response(path: &str, file: &EmbeddedFile, request: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let cache_control = if path.starts_with(IMMUTABLE_FOLDER) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = if request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| tags.as_bytes() == etag.as_bytes())
    {
        status(StatusCode::NOT_MODIFIED)
    } else {
        let compressed = accepts_gzip(request)
            .then(|| Build::get(&format!("{path}.gz")))
            .flatten();
        let mut response = match &compressed {
            Some(gzip) => Response::new(Body::from(gzip.data.clone())),
            None => Response::new(Body::from(file.data.clone())),
        };
        let headers = response.headers_mut();
        if compressed.is_some() {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        if let Ok(mime) = HeaderValue::from_str(file.metadata.mimetype()) {
            headers.insert(header::CONTENT_TYPE, mime);
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

fn not_built() -> Response {
    let mut response = Response::new(Body::from(NOT_BUILT));
    *response.status_mut() = StatusCode::NOT_FOUND;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|parameter| matches!(parameter, "q=0" | "q=0.0" | "q=0.00"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// The headers of zot's UI and the Content-Security-Policy the application is built for (no
/// inline script: Vite's module-preload polyfill is off).
fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY,
    );
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(
        headers,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    );
    response
}

fn status(code: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = code;
    response
}
