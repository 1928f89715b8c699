//! Tags, catalog, and the endpoints around them.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn tags_are_sorted_and_paged_with_links() {
    let server = Server::start().await;
    let (_, manifest) = server.push_image("ns/app", "t00", b"{}", &[b"layer"]).await;
    let mut names: Vec<String> = (1..12).map(|i| format!("t{i:02}")).collect();
    names.push("Latest".to_string());
    for name in &names {
        let put = server
            .put_manifest("ns/app", name, OCI_MANIFEST, &manifest)
            .await;
        assert_eq!(put.status(), StatusCode::CREATED);
    }
    names.push("t00".to_string());
    names.sort();

    let all = server.get("/v2/ns/app/tags/list").await;
    assert!(all.headers().get("link").is_none());
    let all: Value = all.json().await.unwrap();
    assert_eq!(all["name"], "ns/app");
    assert_eq!(all["tags"], serde_json::json!(names));

    let mut collected: Vec<String> = Vec::new();
    let mut next = Some("/v2/ns/app/tags/list?n=5".to_string());
    while let Some(page) = next.take() {
        let response = server.get(&page).await;
        assert_eq!(response.status(), StatusCode::OK);
        next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            assert!(link.ends_with(">; rel=\"next\""), "{link}");
            link.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_string()
        });
        let body: Value = response.json().await.unwrap();
        let tags = body["tags"].as_array().unwrap();
        assert!(tags.len() <= 5);
        collected.extend(tags.iter().map(|t| t.as_str().unwrap().to_string()));
    }
    assert_eq!(collected, names);

    let after: Value = server
        .get("/v2/ns/app/tags/list?last=t10")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["tags"], serde_json::json!(["t11"]));
    let none: Value = server
        .get("/v2/ns/app/tags/list?n=0")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["tags"], serde_json::json!([]));
    let bad = server.get("/v2/ns/app/tags/list?n=many").await;
    expect_error(bad, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let unknown = server.get("/v2/ns/missing/tags/list").await;
    expect_error(unknown, StatusCode::NOT_FOUND, "NAME_UNKNOWN").await;
}

#[tokio::test]
async fn the_catalog_pages_through_every_repository() {
    let server = Server::start().await;
    let repositories = ["aa/one", "aa/two/deep", "bb/three", "library/solo"];
    for repository in repositories {
        server.start_upload(repository).await;
    }
    let all: Value = server.get("/v2/_catalog").await.json().await.unwrap();
    assert_eq!(all["repositories"], serde_json::json!(repositories));
    let first = server.get("/v2/_catalog?n=3").await;
    let link = header(&first, "link").to_string();
    assert_eq!(link, "</v2/_catalog?n=3&last=bb%2Fthree>; rel=\"next\"");
    let rest: Value = server
        .get("/v2/_catalog?n=3&last=bb%2Fthree")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["repositories"], serde_json::json!(["library/solo"]));
}

#[tokio::test]
async fn the_api_announces_itself_and_refuses_what_it_does_not_know() {
    let server = Server::start().await;
    for path in ["/v2/", "/v2"] {
        let response = server.get(path).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header(&response, "docker-distribution-api-version"),
            "registry/2.0"
        );
    }
    let health = server.get("/health/instance").await;
    assert_eq!(health.status(), StatusCode::OK);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["data"]["services"]["database"], true);
    assert_eq!(health["data"]["services"]["storage"], true);

    expect_error(
        server.get("/v2/ns/app/nothing").await,
        StatusCode::NOT_FOUND,
        "UNSUPPORTED",
    )
    .await;
    let post = server
        .http
        .post(server.url("/v2/ns/app/tags/list"))
        .send()
        .await
        .unwrap();
    expect_error(post, StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED").await;
}

#[tokio::test]
async fn names_tags_and_digests_are_validated() {
    let server = Server::start().await;
    for path in [
        "/v2/NS/app/tags/list",
        "/v2/ns/App/manifests/v1",
        "/v2/n/app/tags/list",
        "/v2/ns/a..b//c/tags/list",
    ] {
        expect_error(
            server.get(path).await,
            StatusCode::BAD_REQUEST,
            "NAME_INVALID",
        )
        .await;
    }
    // The message says the rule the name breaks, once.
    let error = expect_error(
        server.get("/v2/NS/app/tags/list").await,
        StatusCode::BAD_REQUEST,
        "NAME_INVALID",
    )
    .await;
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("invalid namespace \"NS\": a namespace has 2 to 255 characters")
            && message.matches("invalid").count() == 1,
        "{message}"
    );
    // A reference that is neither a tag nor a digest names nothing: reading or deleting it
    // finds nothing (as the OCI conformance suite expects, with `.INVALID_MANIFEST_NAME`),
    // and a push to it says what is wrong with it.
    server.push_image("ns/app", "v1", b"{}", &[b"l"]).await;
    let long_tag = "t".repeat(129);
    let impossible = [
        (".INVALID_MANIFEST_NAME", "TAG_INVALID"),
        (long_tag.as_str(), "TAG_INVALID"),
        ("-dash", "TAG_INVALID"),
        ("sha256:abc", "DIGEST_INVALID"),
    ];
    for (reference, code) in impossible {
        let path = format!("/v2/ns/app/manifests/{reference}");
        for method in [Method::GET, Method::HEAD, Method::DELETE] {
            let response = server
                .http
                .request(method.clone(), server.url(&path))
                .send()
                .await
                .unwrap();
            if method == Method::HEAD {
                assert_eq!(response.status(), StatusCode::NOT_FOUND, "HEAD {path}");
            } else {
                expect_error(response, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
            }
        }
        let push = server
            .http
            .put(server.url(&path))
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body("{}")
            .send()
            .await
            .unwrap();
        expect_error(push, StatusCode::BAD_REQUEST, code).await;
    }
    // Push to an invalid name creates nothing.
    let response = server
        .http
        .post(server.url("/v2/Bad/Name/blobs/uploads/"))
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::BAD_REQUEST, "NAME_INVALID").await;
    let catalog: Value = server.get("/v2/_catalog").await.json().await.unwrap();
    assert_eq!(catalog["repositories"], serde_json::json!(["ns/app"]));
    // Unknown things are 404s with their own codes.
    expect_error(
        server.get("/v2/ns/nope/manifests/v1").await,
        StatusCode::NOT_FOUND,
        "NAME_UNKNOWN",
    )
    .await;
    expect_error(
        server.get("/v2/ns/app/manifests/v2").await,
        StatusCode::NOT_FOUND,
        "MANIFEST_UNKNOWN",
    )
    .await;
}
