//! The UI's routes as a browser meets them: pages, hashed assets (compressed, cached for a
//! year), the security headers, and the registry's own paths left alone.

use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(
    method: Method,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> http::Response<Body> {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    quay_ui::router()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn text(response: http::Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The built UI's main script, if `web/dist` exists (it is built by `scripts/build-ui`,
/// which `scripts/test` runs first).
fn built_script() -> Option<String> {
    let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/dist/assets");
    let found = std::fs::read_dir(assets)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .find(|name| name.starts_with("index-") && name.ends_with(".js"));
    if found.is_none() && std::env::var("QUAY_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("web/dist is not built: run scripts/build-ui");
    }
    found
}

#[tokio::test]
async fn the_registry_paths_are_never_answered_with_the_page() {
    for path in [
        "/api/v1/nothing-here",
        "/v2/some/thing",
        "/config/x",
        "/csrf_token/x",
        "/health/other",
        "/metrics/x",
        "/oauth/x",
    ] {
        let response = get(Method::GET, path, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(text(response).await.is_empty(), "{path}");
    }
    let posted = get(Method::POST, "/organization", &[]).await;
    assert_eq!(posted.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(posted.headers()[header::ALLOW], "GET, HEAD");
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_are_never_cached() {
    let response = get(Method::GET, "/repository/acme/app?tab=tags", &[]).await;
    let headers = response.headers().clone();
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(headers.contains_key("permissions-policy"));
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let status = response.status();
    let page = text(response).await;
    if built_script().is_some() {
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<div id=\"root\">"), "{page}");
        assert!(!page.contains("<script>"), "no inline script: {page}");
    } else {
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(page.contains("scripts/build-ui"), "{page}");
    }
}

#[tokio::test]
async fn assets_are_compressed_cached_and_revalidated() {
    let Some(script) = built_script() else {
        return;
    };
    let path = format!("/assets/{script}");
    let plain = get(Method::GET, &path, &[]).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(
        plain.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(
        plain.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert!(!plain.headers().contains_key(header::CONTENT_ENCODING));
    let etag = plain.headers()[header::ETAG].to_str().unwrap().to_string();
    let plain_size = text(plain).await.len();

    let gzip = get(Method::GET, &path, &[(header::ACCEPT_ENCODING, "gzip, br")]).await;
    assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(gzip.headers()[header::VARY], "Accept-Encoding");
    let compressed = gzip.into_body().collect().await.unwrap().to_bytes();
    assert!(
        compressed.len() * 2 < plain_size,
        "{} of {plain_size}",
        compressed.len()
    );

    let refused = get(Method::GET, &path, &[(header::ACCEPT_ENCODING, "gzip;q=0")]).await;
    assert!(!refused.headers().contains_key(header::CONTENT_ENCODING));

    let unchanged = get(
        Method::GET,
        &path,
        &[(header::IF_NONE_MATCH, etag.as_str())],
    )
    .await;
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);

    let missing = get(Method::GET, "/assets/index-gone.js", &[]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
