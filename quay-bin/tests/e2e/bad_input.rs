//! Input no registry should take, as a careless or hostile client sends it: a NUL character
//! in every field and credential (on SQLite and on PostgreSQL, which cannot store one), a
//! JSON body of 100 MB, and a manifest whose descriptors lie about their blobs' sizes.

use reqwest::StatusCode;
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};

use crate::client::Client;
use crate::support::*;

/// Sends `request` and expects the 400 of text with a NUL, in the shape of its API.
fn refused_for_nul(what: &str, request: RequestBuilder) {
    let response = request.send().unwrap();
    let status = response.status();
    let body = response.text().unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
    let parsed: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {body}"));
    let message = parsed["detail"]
        .as_str()
        .or(parsed["errors"][0]["message"].as_str())
        .unwrap_or_else(|| panic!("{what}: {body}"));
    assert!(message.contains("NUL"), "{what}: {message}");
}

/// Every way text reaches the registry, with a NUL in it.
fn nul_is_refused_everywhere(quay: &Quay, token: &str) {
    let base = format!("http://{}", quay.address);
    let http = reqwest::blocking::Client::new();
    let api = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{base}{path}"))
            .bearer_auth(token)
    };
    use reqwest::Method;

    // Without credentials.
    refused_for_nul(
        "a username at sign-in",
        http.post(format!("{base}/api/v1/signin"))
            .json(&json!({ "username": "ns\u{0}", "password": PASSWORD })),
    );
    refused_for_nul(
        "a Basic credential at the token endpoint",
        http.get(format!(
            "{base}/v2/auth?service=x&scope=repository:ns/app:pull"
        ))
        .basic_auth("ns\u{0}", Some(PASSWORD)),
    );
    refused_for_nul(
        "a Basic password on /v2",
        http.get(format!("{base}/v2/ns/app/tags/list"))
            .basic_auth(USER, Some("pass\u{0}word")),
    );
    // In bodies, paths and queries, as a signed-in user.
    refused_for_nul(
        "a repository name",
        api(Method::POST, "/api/v1/repository").json(&json!({
            "namespace": USER, "repository": "a\u{0}b", "visibility": "private", "description": ""
        })),
    );
    refused_for_nul(
        "a repository description",
        api(Method::PUT, "/api/v1/repository/ns/app")
            .json(&json!({ "description": "nul \u{0} here" })),
    );
    refused_for_nul(
        "a repository in a path",
        api(Method::GET, "/api/v1/repository/ns/a%00b"),
    );
    refused_for_nul(
        "a robot name",
        api(Method::PUT, "/api/v1/user/robots/a%00b").json(&json!({ "description": "" })),
    );
    refused_for_nul(
        "a robot description",
        api(Method::PUT, "/api/v1/user/robots/builder").json(&json!({ "description": "\u{0}" })),
    );
    refused_for_nul(
        "a team name",
        api(Method::PUT, "/api/v1/organization/acme/team/a%00b").json(&json!({ "role": "member" })),
    );
    refused_for_nul(
        "an app token's title",
        api(Method::POST, "/api/v1/user/apptoken").json(&json!({ "title": "\u{0}" })),
    );
    refused_for_nul(
        "a performer",
        api(
            Method::GET,
            "/api/v1/repository/ns/app/logs?performer=ns%00",
        ),
    );
    refused_for_nul(
        "filter_tag_name",
        api(
            Method::GET,
            "/api/v1/repository/ns/app/tag/?filter_tag_name=like:%00",
        ),
    );
    refused_for_nul(
        "specificTag",
        api(
            Method::GET,
            "/api/v1/repository/ns/app/tag/?specificTag=v%001",
        ),
    );
    // Escaped, the same characters are plain text, and fine.
    let response = api(Method::PUT, "/api/v1/repository/ns/app")
        .json(&json!({ "description": "a \\u0000 and %00, as text" }))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[test]
fn nul_characters_are_refused_with_400_on_sqlite_and_postgresql() {
    let work = tempfile::tempdir().unwrap();
    let mut backends = vec![("sqlite", None)];
    let postgres = PostgresDatabase::create();
    if let Some(database) = &postgres {
        backends.push(("postgresql", Some(database.uri.clone())));
    }
    for (backend, db_uri) in backends {
        let data = work.path().join(backend);
        let env: Vec<(&str, &str)> = db_uri
            .as_deref()
            .map(|uri| ("DB_URI", uri))
            .into_iter()
            .collect();
        let quay = Quay::start(&data, &[], &env);
        let token = access_token_with(&data, USER, &env);
        let client = Client::new(&quay.address, &token);
        client.push_image("ns/app", "v1", b"layer");
        for (method, path, body) in [
            (
                "POST",
                "/api/v1/organization/",
                json!({ "name": "acme", "email": "acme@example.com" }),
            ),
            (
                "PUT",
                "/api/v1/user/robots/builder",
                json!({ "description": "" }),
            ),
        ] {
            let (status, answer) = api(&quay.address, &token, method, path, Some(body));
            assert!((200..300).contains(&status), "{backend}: {path}: {answer}");
        }
        nul_is_refused_everywhere(&quay, &token);
    }
}

#[test]
fn an_oversized_json_body_is_413() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let quay = Quay::start(&data, &[], &[]);
    let token = access_token(&data, USER);
    // Only the head is sent: the server answers from the declared length, before the body, and
    // a client still writing a refused body would only see its connection closed.
    let answer = exchange(
        &quay.address,
        &format!(
            "PUT /api/v1/repository/ns/app HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            100 << 20
        ),
        b"",
    );
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error_type"], "request_too_large", "{body}");
}

#[test]
fn a_descriptor_whose_size_disagrees_with_its_blob_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let quay = Quay::start(&data, &[], &[]);
    let token = access_token(&data, USER);
    let client = Client::new(&quay.address, &token);
    let (layer, _) = client.push_blob("ns/app", b"8 bytes!").unwrap();
    let (config, config_size) = client.push_blob("ns/app", b"{}").unwrap();
    let manifest = |layer_size: u64| {
        json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config, "size": config_size,
            },
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer, "size": layer_size,
            }],
        })
        .to_string()
    };
    let put = |body: String| {
        reqwest::blocking::Client::new()
            .put(format!("http://{}/v2/ns/app/manifests/v1", quay.address))
            .basic_auth(USER, Some(PASSWORD))
            .header("content-type", OCI_MANIFEST)
            .body(body)
            .send()
            .unwrap()
    };
    let refused = put(manifest(999_999));
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().unwrap();
    assert_eq!(body["errors"][0]["code"], "MANIFEST_INVALID", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&layer) && message.contains("999999"),
        "{message}"
    );
    // Nothing of it was stored; with the true size the same push is taken.
    let missing = client.get("/api/v1/repository/ns/app/tag/?specificTag=v1");
    let tags: Value = missing.json().unwrap();
    assert_eq!(tags["tags"].as_array().map(Vec::len), Some(0), "{tags}");
    assert_eq!(put(manifest(8)).status(), StatusCode::CREATED);
}
