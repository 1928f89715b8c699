//! Blob uploads and downloads over HTTP, and every way they can go wrong.

use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

#[tokio::test]
async fn monolithic_upload_and_download_with_ranges() {
    let server = Server::start().await;
    let content = b"0123456789abcdef";
    let digest = sha256(content);
    let response = server
        .http
        .post(server.url(&format!("/v2/ns/app/blobs/uploads/?digest={digest}")))
        .body(content.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(location(&response), format!("/v2/ns/app/blobs/{digest}"));
    assert_eq!(header(&response, "docker-content-digest"), digest.as_str());

    let blob = format!("/v2/ns/app/blobs/{digest}");
    let head = server.head(&blob).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, "content-length"), "16");
    assert_eq!(header(&head, "docker-content-digest"), digest.as_str());
    assert_eq!(header(&head, "accept-ranges"), "bytes");
    let get = server.get(&blob).await;
    assert_eq!(get.status(), StatusCode::OK);
    assert_eq!(header(&get, "content-type"), "application/octet-stream");
    assert_eq!(get.bytes().await.unwrap(), &content[..]);

    for (range, status, body, content_range) in [
        (
            "bytes=2-5",
            StatusCode::PARTIAL_CONTENT,
            &b"2345"[..],
            "bytes 2-5/16",
        ),
        (
            "bytes=10-",
            StatusCode::PARTIAL_CONTENT,
            b"abcdef",
            "bytes 10-15/16",
        ),
        (
            "bytes=-3",
            StatusCode::PARTIAL_CONTENT,
            b"def",
            "bytes 13-15/16",
        ),
        (
            "bytes=16-",
            StatusCode::RANGE_NOT_SATISFIABLE,
            b"",
            "bytes */16",
        ),
    ] {
        let response = server
            .http
            .get(server.url(&blob))
            .header("range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{range}");
        assert_eq!(header(&response, "content-range"), content_range);
        assert_eq!(response.bytes().await.unwrap(), body, "{range}");
    }
}

#[tokio::test]
async fn post_then_put_with_the_whole_body() {
    let server = Server::start().await;
    let upload = server.start_upload("ns/app").await;
    let content = vec![42u8; 3 * 1024 * 1024 + 17];
    let digest = sha256(&content);
    let response = server
        .http
        .put(server.url(&format!("{upload}?digest={digest}")))
        .body(content.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(header(&response, "docker-content-digest"), digest.as_str());
    let get = server.get(&format!("/v2/ns/app/blobs/{digest}")).await;
    assert_eq!(get.bytes().await.unwrap().len(), content.len());
}

#[tokio::test]
async fn chunked_upload_with_status_and_out_of_order_chunks() {
    let server = Server::start().await;
    let upload = server.start_upload("ns/app").await;
    let id = upload.rsplit('/').next().unwrap().to_string();

    let patch = |range: Option<&'static str>, body: &'static [u8]| {
        let mut request = server.request(Method::PATCH, &upload).body(body);
        if let Some(range) = range {
            request = request.header("content-range", range);
        }
        request.send()
    };
    let first = patch(Some("0-4"), b"hello").await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&first, "range"), "0-4");
    assert_eq!(header(&first, "docker-upload-uuid"), id);
    assert_eq!(location(&first), upload);

    // A repeated chunk and a chunk past the end are refused with where the upload stands.
    for range in ["0-4", "7-11"] {
        let refused = patch(Some(range), b"xxxxx").await.unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::RANGE_NOT_SATISFIABLE,
            "{range}"
        );
        assert_eq!(header(&refused, "range"), "0-4");
        assert_eq!(location(&refused), upload);
        assert_eq!(header(&refused, "docker-upload-uuid"), id);
        expect_error(
            refused,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BLOB_UPLOAD_INVALID",
        )
        .await;
    }
    // Without Content-Range the chunk is appended where the upload ends.
    let second = patch(None, b" world").await.unwrap();
    assert_eq!(header(&second, "range"), "0-10");

    let status = server.get(&upload).await;
    assert_eq!(status.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&status, "range"), "0-10");
    assert_eq!(location(&status), upload);

    let digest = sha256(b"hello world!");
    let done = server
        .request(Method::PUT, &format!("{upload}?digest={digest}"))
        .header("content-range", "11-11")
        .body(&b"!"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    let get = server.get(&format!("/v2/ns/app/blobs/{digest}")).await;
    assert_eq!(get.bytes().await.unwrap(), &b"hello world!"[..]);
    expect_error(
        server.get(&upload).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
}

#[tokio::test]
async fn bad_chunk_headers_are_refused_and_change_nothing() {
    let server = Server::start().await;
    let upload = server.start_upload("ns/app").await;
    let bad_range = server
        .request(Method::PATCH, &upload)
        .header("content-range", "five-ten")
        .body(&b"abc"[..])
        .send()
        .await
        .unwrap();
    expect_error(bad_range, StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID").await;
    let wrong_length = server
        .request(Method::PATCH, &upload)
        .header("content-range", "0-9")
        .body(&b"abc"[..])
        .send()
        .await
        .unwrap();
    expect_error(wrong_length, StatusCode::BAD_REQUEST, "SIZE_INVALID").await;
    let status = server.get(&upload).await;
    assert_eq!(header(&status, "range"), "0-0");
    assert!(server.stored_files().is_empty());
}

#[tokio::test]
async fn a_truncated_body_stores_nothing() {
    let server = Server::start().await;
    let upload = server.start_upload("ns/app").await;
    // Announce 100 bytes, send 50, and hang up.
    let mut stream = tokio::net::TcpStream::connect(&server.address)
        .await
        .unwrap();
    let request = format!(
        "PATCH {upload} HTTP/1.1\r\nhost: {}\r\ncontent-length: 100\r\n\r\n{}",
        server.address,
        "x".repeat(50)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let status = server.get(&upload).await;
    assert_eq!(header(&status, "range"), "0-0");
    // The aborted part leaves nothing behind (give the server a moment to notice).
    for _ in 0..50 {
        if server.stored_files().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        server.stored_files().is_empty(),
        "{:?}",
        server.stored_files()
    );
}

#[tokio::test]
async fn a_wrong_digest_is_refused_and_the_upload_discarded() {
    let server = Server::start().await;
    let upload = server.start_upload("ns/app").await;
    let claimed = sha256(b"other content");
    let response = server
        .request(Method::PUT, &format!("{upload}?digest={claimed}"))
        .body(&b"content"[..])
        .send()
        .await
        .unwrap();
    let error = expect_error(response, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    assert_eq!(error["detail"]["digest"], claimed.as_str());
    expect_error(
        server.get(&upload).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
    for digest in [claimed, sha256(b"content")] {
        let head = server.head(&format!("/v2/ns/app/blobs/{digest}")).await;
        assert_eq!(head.status(), StatusCode::NOT_FOUND);
    }
    assert!(server.stored_files().is_empty());

    // A monolithic upload with a wrong digest too.
    let response = server
        .http
        .post(server.url(&format!(
            "/v2/ns/app/blobs/uploads/?digest={}",
            sha256(b"x")
        )))
        .body(&b"y"[..])
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    assert!(server.stored_files().is_empty());
}

#[tokio::test]
async fn missing_and_malformed_digests() {
    let server = Server::start().await;
    let upload = server.start_upload("ns/app").await;
    let no_digest = server.request(Method::PUT, &upload).send().await.unwrap();
    expect_error(no_digest, StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID").await;
    let bad = server
        .request(Method::PUT, &format!("{upload}?digest=sha256:xyz"))
        .send()
        .await
        .unwrap();
    expect_error(bad, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    let unsupported = server
        .request(
            Method::PUT,
            &format!("{upload}?digest=md5:d41d8cd98f00b204e9800998ecf8427e"),
        )
        .send()
        .await
        .unwrap();
    expect_error(unsupported, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    expect_error(
        server.get("/v2/ns/app/blobs/sha256:123").await,
        StatusCode::BAD_REQUEST,
        "DIGEST_INVALID",
    )
    .await;
    // The upload survives the bad requests.
    assert_eq!(server.get(&upload).await.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn unknown_uploads_and_cancelling() {
    let server = Server::start().await;
    let unknown = "/v2/ns/app/blobs/uploads/2b3c4d5e-0000-4000-8000-000000000000";
    server.start_upload("ns/app").await;
    expect_error(
        server.get(unknown).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
    let patch = server
        .request(Method::PATCH, unknown)
        .body(&b"x"[..])
        .send()
        .await
        .unwrap();
    expect_error(patch, StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN").await;
    let put = server
        .request(Method::PUT, &format!("{unknown}?digest={}", sha256(b"x")))
        .body(&b"x"[..])
        .send()
        .await
        .unwrap();
    expect_error(put, StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN").await;
    expect_error(
        server.delete(unknown).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;

    let upload = server.start_upload("ns/app").await;
    server
        .request(Method::PATCH, &upload)
        .body(&b"partial"[..])
        .send()
        .await
        .unwrap();
    let cancelled = server.delete(&upload).await;
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    expect_error(
        server.get(&upload).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
    assert!(server.stored_files().is_empty());
    // An upload belongs to its repository.
    let upload = server.start_upload("ns/app").await;
    let elsewhere = upload.replace("/ns/app/", "/ns/other/");
    server.start_upload("ns/other").await;
    expect_error(
        server.get(&elsewhere).await,
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
    )
    .await;
}

#[tokio::test]
async fn cross_repository_mounts() {
    let server = Server::start().await;
    let digest = server.upload("ns/source", b"shared").await;
    let mount = |target: &str, query: String| {
        server
            .http
            .post(server.url(&format!("/v2/{target}/blobs/uploads/?{query}")))
            .send()
    };
    let mounted = mount("ns/target", format!("mount={digest}&from=ns/source"))
        .await
        .unwrap();
    assert_eq!(mounted.status(), StatusCode::CREATED);
    assert_eq!(location(&mounted), format!("/v2/ns/target/blobs/{digest}"));
    assert_eq!(
        server
            .head(&format!("/v2/ns/target/blobs/{digest}"))
            .await
            .status(),
        StatusCode::OK
    );
    // From a repository without the blob: an ordinary upload starts instead.
    let fallback = mount("ns/third", format!("mount={digest}&from=ns/empty"))
        .await
        .unwrap();
    assert_eq!(fallback.status(), StatusCode::ACCEPTED);
    assert!(header(&fallback, "location").contains("/blobs/uploads/"));
    assert_eq!(
        server
            .head(&format!("/v2/ns/third/blobs/{digest}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Without `from`, from a repository that links the blob (the caller may read any here).
    let found = mount("ns/fourth", format!("mount={digest}")).await.unwrap();
    assert_eq!(found.status(), StatusCode::CREATED);
    let unknown = mount("ns/fifth", format!("mount={}", sha256(b"nobody has it")))
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn deleting_blobs() {
    let server = Server::start().await;
    let loose = server.upload("ns/app", b"loose").await;
    server.push_image("ns/app", "v1", b"{}", &[b"used"]).await;
    assert_eq!(
        server
            .delete(&format!("/v2/ns/app/blobs/{loose}"))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    // HEAD responses carry no body, only the status.
    assert_eq!(
        server
            .head(&format!("/v2/ns/app/blobs/{loose}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let get = server.get(&format!("/v2/ns/app/blobs/{loose}")).await;
    expect_error(get, StatusCode::NOT_FOUND, "BLOB_UNKNOWN").await;
    let used = server
        .delete(&format!("/v2/ns/app/blobs/{}", sha256(b"used")))
        .await;
    expect_error(used, StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED").await;
    let unknown = server
        .delete(&format!("/v2/ns/app/blobs/{}", sha256(b"never")))
        .await;
    expect_error(unknown, StatusCode::NOT_FOUND, "BLOB_UNKNOWN").await;

    // The conformance suite's content management: once the manifest is deleted by tag (and
    // then by digest, which finds nothing live left), its blobs delete, and then are unknown,
    // although the time machine held the manifest.
    let (manifest, _) = server
        .push_image("ns/app", "v2", b"{\"v\":2}", &[b"layer"])
        .await;
    let by_tag = server.delete("/v2/ns/app/manifests/v2").await;
    assert_eq!(by_tag.status(), StatusCode::ACCEPTED);
    let by_digest = server
        .delete(&format!("/v2/ns/app/manifests/{manifest}"))
        .await;
    expect_error(by_digest, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
    for blob in [sha256(b"{\"v\":2}"), sha256(b"layer")] {
        let url = format!("/v2/ns/app/blobs/{blob}");
        assert_eq!(server.delete(&url).await.status(), StatusCode::ACCEPTED);
        expect_error(
            server.get(&url).await,
            StatusCode::NOT_FOUND,
            "BLOB_UNKNOWN",
        )
        .await;
    }
}

#[tokio::test]
async fn blobs_of_unknown_repositories_and_digests() {
    let server = Server::start().await;
    let digest = server.upload("ns/app", b"content").await;
    let get = server.get(&format!("/v2/ns/other/blobs/{digest}")).await;
    expect_error(get, StatusCode::NOT_FOUND, "NAME_UNKNOWN").await;
    let get = server
        .get(&format!("/v2/ns/app/blobs/{}", sha256(b"unknown")))
        .await;
    expect_error(get, StatusCode::NOT_FOUND, "BLOB_UNKNOWN").await;
}
