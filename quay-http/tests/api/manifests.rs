//! Manifest push, pull and delete over HTTP, and every way they can go wrong.

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn push_and_pull_by_tag_and_by_digest() {
    let server = Server::start().await;
    for blob in [&b"{}"[..], b"layer"] {
        server.upload("ns/app", blob).await;
    }
    let manifest = image_manifest(b"{}", &[b"layer"], "");
    let digest = sha256(&manifest);
    let pushed = server
        .put_manifest("ns/app", "v1", OCI_MANIFEST, &manifest)
        .await;
    assert_eq!(pushed.status(), StatusCode::CREATED);
    assert_eq!(location(&pushed), format!("/v2/ns/app/manifests/{digest}"));
    assert_eq!(header(&pushed, "docker-content-digest"), digest.as_str());
    assert!(pushed.headers().get("oci-subject").is_none());

    for reference in ["v1".to_string(), digest.to_string()] {
        let path = format!("/v2/ns/app/manifests/{reference}");
        let get = server.get(&path).await;
        assert_eq!(get.status(), StatusCode::OK);
        assert_eq!(header(&get, "content-type"), OCI_MANIFEST);
        assert_eq!(header(&get, "docker-content-digest"), digest.as_str());
        assert_eq!(get.bytes().await.unwrap(), manifest);
        let head = server.head(&path).await;
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(header(&head, "content-length"), manifest.len().to_string());
        assert_eq!(header(&head, "docker-content-digest"), digest.as_str());
    }
}

#[tokio::test]
async fn a_manifest_pushed_by_digest_must_match_it() {
    let server = Server::start().await;
    for blob in [&b"{}"[..], b"layer"] {
        server.upload("ns/app", blob).await;
    }
    let manifest = image_manifest(b"{}", &[b"layer"], "");
    let wrong = sha256(b"not it");
    let response = server
        .put_manifest("ns/app", wrong.as_str(), OCI_MANIFEST, &manifest)
        .await;
    expect_error(response, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    for reference in [wrong, sha256(&manifest)] {
        let get = server
            .get(&format!("/v2/ns/app/manifests/{reference}"))
            .await;
        expect_error(get, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
    }
    let right = server
        .put_manifest(
            "ns/app",
            sha256(&manifest).as_str(),
            OCI_MANIFEST,
            &manifest,
        )
        .await;
    assert_eq!(right.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn missing_blobs_and_children_store_nothing() {
    let server = Server::start().await;
    server.upload("ns/app", b"{}").await;
    let manifest = image_manifest(b"{}", &[b"never uploaded"], "");
    let response = server
        .put_manifest("ns/app", "v1", OCI_MANIFEST, &manifest)
        .await;
    let error = expect_error(response, StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN").await;
    assert_eq!(
        error["detail"]["digest"],
        sha256(b"never uploaded").as_str()
    );
    expect_error(
        server.get("/v2/ns/app/manifests/v1").await,
        StatusCode::NOT_FOUND,
        "MANIFEST_UNKNOWN",
    )
    .await;
    let tags: serde_json::Value = server
        .get("/v2/ns/app/tags/list")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tags["tags"].as_array().unwrap().len(), 0);

    let child = sha256(b"a child never pushed");
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{child}","size":10}}]}}"#
    );
    let response = server
        .put_manifest("ns/app", "multi", OCI_INDEX, index.as_bytes())
        .await;
    let error = expect_error(response, StatusCode::BAD_REQUEST, "MANIFEST_UNKNOWN").await;
    assert_eq!(error["detail"]["digest"], child.as_str());
    expect_error(
        server.get("/v2/ns/app/manifests/multi").await,
        StatusCode::NOT_FOUND,
        "MANIFEST_UNKNOWN",
    )
    .await;
}

#[tokio::test]
async fn invalid_and_oversized_manifests() {
    let server = Server::start().await;
    let response = server
        .put_manifest("ns/app", "v1", OCI_MANIFEST, b"{not json")
        .await;
    expect_error(response, StatusCode::BAD_REQUEST, "MANIFEST_INVALID").await;
    let response = server
        .put_manifest(
            "ns/app",
            "v1",
            "application/vnd.example.unknown+json",
            b"{}",
        )
        .await;
    expect_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "MANIFEST_INVALID",
    )
    .await;
    let response = server
        .put_manifest("ns/app", "v1", OCI_MANIFEST, br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#)
        .await;
    expect_error(response, StatusCode::BAD_REQUEST, "MANIFEST_INVALID").await;

    // Just over 4 MiB: refused without storing anything.
    let mut huge = image_manifest(b"{}", &[], "");
    let padding = format!(
        r#","annotations":{{"pad":"{}"}}}}"#,
        "x".repeat(4 * 1024 * 1024)
    );
    huge.pop();
    huge.extend_from_slice(padding.as_bytes());
    let response = server
        .put_manifest("ns/app", "huge", OCI_MANIFEST, &huge)
        .await;
    expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, "MANIFEST_INVALID").await;
    expect_error(
        server.get("/v2/ns/app/manifests/huge").await,
        StatusCode::NOT_FOUND,
        "NAME_UNKNOWN",
    )
    .await;
}

#[tokio::test]
async fn subjects_and_referrers() {
    let server = Server::start().await;
    let (subject, subject_bytes) = server.push_image("ns/app", "v1", b"{}", &[b"image"]).await;
    server.upload("ns/app", b"sig").await;
    let referrer = image_manifest(
        b"{}",
        &[b"sig"],
        &format!(
            r#","artifactType":"application/vnd.example.sig","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{subject}","size":{}}}"#,
            subject_bytes.len()
        ),
    );
    let referrer_digest = sha256(&referrer);
    let pushed = server
        .put_manifest("ns/app", referrer_digest.as_str(), OCI_MANIFEST, &referrer)
        .await;
    assert_eq!(pushed.status(), StatusCode::CREATED);
    assert_eq!(header(&pushed, "oci-subject"), subject.as_str());

    let listed = server.get(&format!("/v2/ns/app/referrers/{subject}")).await;
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(header(&listed, "content-type"), OCI_INDEX);
    assert!(listed.headers().get("oci-filters-applied").is_none());
    let index: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(index["manifests"][0]["digest"], referrer_digest.as_str());
    assert_eq!(
        index["manifests"][0]["artifactType"],
        "application/vnd.example.sig"
    );

    let filtered = server
        .get(&format!(
            "/v2/ns/app/referrers/{subject}?artifactType=application/vnd.example.sbom"
        ))
        .await;
    assert_eq!(header(&filtered, "oci-filters-applied"), "artifactType");
    let index: serde_json::Value = filtered.json().await.unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 0);

    let unknown = server
        .get(&format!(
            "/v2/ns/app/referrers/{}",
            sha256(b"no such subject")
        ))
        .await;
    assert_eq!(unknown.status(), StatusCode::OK);
    let bad = server.get("/v2/ns/app/referrers/sha256:zz").await;
    expect_error(bad, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
}

#[tokio::test]
async fn deleting_manifests_and_tags() {
    let server = Server::start().await;
    let (digest, _) = server.push_image("ns/app", "v1", b"{}", &[b"layer"]).await;
    let put = server
        .put_manifest(
            "ns/app",
            "v2",
            OCI_MANIFEST,
            &image_manifest(b"{}", &[b"layer"], ""),
        )
        .await;
    assert_eq!(put.status(), StatusCode::CREATED);

    assert_eq!(
        server.delete("/v2/ns/app/manifests/v1").await.status(),
        StatusCode::ACCEPTED
    );
    let expired = server.get("/v2/ns/app/manifests/v1").await;
    let error = expect_error(expired, StatusCode::NOT_FOUND, "TAG_EXPIRED").await;
    assert!(error["message"].as_str().unwrap().contains("time machine"));
    assert_eq!(
        server.get("/v2/ns/app/manifests/v2").await.status(),
        StatusCode::OK
    );

    assert_eq!(
        server
            .delete(&format!("/v2/ns/app/manifests/{digest}"))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    expect_error(
        server.get("/v2/ns/app/manifests/v2").await,
        StatusCode::NOT_FOUND,
        "TAG_EXPIRED",
    )
    .await;
    expect_error(
        server.get(&format!("/v2/ns/app/manifests/{digest}")).await,
        StatusCode::NOT_FOUND,
        "MANIFEST_UNKNOWN",
    )
    .await;
    expect_error(
        server
            .delete(&format!("/v2/ns/app/manifests/{digest}"))
            .await,
        StatusCode::NOT_FOUND,
        "MANIFEST_UNKNOWN",
    )
    .await;
    expect_error(
        server.delete("/v2/ns/app/manifests/never").await,
        StatusCode::NOT_FOUND,
        "MANIFEST_UNKNOWN",
    )
    .await;
}

#[tokio::test]
async fn docker_schema1_signed_is_stored_and_served() {
    use base64::Engine as _;
    let server = Server::start().await;
    server.upload("ns/legacy", b"layer").await;
    let payload = format!(
        "{{\n   \"schemaVersion\": 1,\n   \"name\": \"ns/legacy\",\n   \"tag\": \"v1\",\n   \"architecture\": \"amd64\",\n   \"fsLayers\": [{{\"blobSum\": \"{}\"}}],\n   \"history\": [{{\"v1Compatibility\": \"{{}}\"}}]\n}}",
        sha256(b"layer")
    );
    let format_length = payload.rfind("\n}").unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let protected = b64.encode(format!(
        r#"{{"formatLength":{format_length},"formatTail":"{}"}}"#,
        b64.encode(&payload[format_length..])
    ));
    let signed = format!(
        "{},\n   \"signatures\": [{{\"header\": {{\"alg\": \"ES256\"}}, \"signature\": \"c2ln\", \"protected\": \"{protected}\"}}]\n}}",
        &payload[..format_length]
    );
    let media_type = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    let pushed = server
        .put_manifest("ns/legacy", "v1", media_type, signed.as_bytes())
        .await;
    assert_eq!(pushed.status(), StatusCode::CREATED);
    let digest = sha256(payload.as_bytes());
    assert_eq!(header(&pushed, "docker-content-digest"), digest.as_str());
    let get = server
        .get(&format!("/v2/ns/legacy/manifests/{digest}"))
        .await;
    assert_eq!(header(&get, "content-type"), media_type);
    assert_eq!(get.bytes().await.unwrap(), signed.as_bytes());
}
