//! The registry's use cases: uploads, manifests, tags, listings; what a client sees and what
//! is left in storage.

use crate::support::*;
use quay_core::ports::UploadStore;
use quay_core::range::ChunkRange;
use quay_core::registry::{BlobRead, Mount};
use quay_core::{Error, Reference, RegistrySettings, RepositoryPath};

const HOUR_MS: i64 = 3_600_000;

pub(crate) async fn monolithic_upload_is_readable(h: &Harness) {
    let path = repo("ns/app");
    let digest = upload(&h.registry, &path, b"hello blob").await;
    let blob = h.registry.blob(&path, &digest, &ANYONE).await.unwrap();
    assert_eq!(blob.size, 10);
    let BlobRead::Whole { body, .. } = h
        .registry
        .read_blob(&path, &digest, None, &ANYONE)
        .await
        .unwrap()
    else {
        panic!("expected the whole blob");
    };
    assert_eq!(read_all(body).await, b"hello blob");
    let BlobRead::Part { body, range, .. } = h
        .registry
        .read_blob(&path, &digest, Some("bytes=6-"), &ANYONE)
        .await
        .unwrap()
    else {
        panic!("expected a range");
    };
    assert_eq!((range.start, range.end), (6, 9));
    assert_eq!(read_all(body).await, b"blob");
    assert!(matches!(
        h.registry
            .read_blob(&path, &digest, Some("bytes=10-"), &ANYONE)
            .await,
        Ok(BlobRead::Unsatisfiable { .. })
    ));
    // Stored once, at its content address, and nothing of the upload is left.
    assert_eq!(
        h.stored_objects("sha256/").await,
        [quay_storage::blob_path(&digest)]
    );
    assert!(h.stored_objects("uploads/").await.is_empty());
}

pub(crate) async fn chunked_upload_continues_on_another_node(h: &Harness) {
    let path = repo("ns/app");
    let content = b"first-second-third";
    let started = h.registry.start_upload(&path, &ANYONE).await.unwrap();
    let id = started.id.as_str();
    assert_eq!(started.size, 0);
    let after_first = h
        .registry
        .upload_chunk(
            &path,
            id,
            Some(ChunkRange { start: 0, end: 5 }),
            body(&[b"fir", b"st-"]),
            &ANYONE,
        )
        .await
        .unwrap();
    assert_eq!(after_first.size, 6);
    // The second chunk lands on the other node, which only knows the shared stores.
    let after_second = h
        .other_node
        .upload_chunk(&path, id, None, body(&[b"second-"]), &ANYONE)
        .await
        .unwrap();
    assert_eq!(after_second.size, 13);
    assert_eq!(
        h.registry
            .upload_status(&path, id, &ANYONE)
            .await
            .unwrap()
            .size,
        13
    );
    let blob = h
        .registry
        .finish_upload(
            &path,
            id,
            &sha256(content),
            Some((None, body(&[b"third"]))),
            &ANYONE,
        )
        .await
        .unwrap();
    assert_eq!(blob.size, content.len() as u64);
    let BlobRead::Whole { body, .. } = h
        .other_node
        .read_blob(&path, &blob.digest, None, &ANYONE)
        .await
        .unwrap()
    else {
        panic!("expected the whole blob");
    };
    assert_eq!(read_all(body).await, content);
    assert!(matches!(
        h.registry.upload_status(&path, id, &ANYONE).await,
        Err(Error::UploadUnknown)
    ));
    assert!(h.stored_objects("uploads/").await.is_empty());
}

pub(crate) async fn out_of_order_and_repeated_chunks_change_nothing(h: &Harness) {
    let path = repo("ns/app");
    let id = h.registry.start_upload(&path, &ANYONE).await.unwrap().id;
    h.registry
        .upload_chunk(
            &path,
            &id,
            Some(ChunkRange { start: 0, end: 2 }),
            body(&[b"abc"]),
            &ANYONE,
        )
        .await
        .unwrap();
    for start in [0, 5] {
        let range = ChunkRange {
            start,
            end: start + 2,
        };
        match h
            .registry
            .upload_chunk(&path, &id, Some(range), body(&[b"xyz"]), &ANYONE)
            .await
        {
            Err(Error::UploadOutOfOrder {
                current: 3,
                requested,
            }) => assert_eq!(requested, start),
            other => panic!("expected out of order, got {other:?}"),
        }
    }
    // A chunk shorter than its range is refused too.
    let short = h
        .registry
        .upload_chunk(
            &path,
            &id,
            Some(ChunkRange { start: 3, end: 9 }),
            body(&[b"de"]),
            &ANYONE,
        )
        .await;
    assert!(matches!(short, Err(Error::SizeInvalid(_))));
    // A body that breaks off stores nothing.
    let broken = h
        .registry
        .upload_chunk(&path, &id, None, broken_body(b"partial"), &ANYONE)
        .await;
    assert!(matches!(broken, Err(Error::UploadInvalid(_))));
    assert_eq!(uploaded(h, &path, &id).await, 3);
    let blob = h
        .registry
        .finish_upload(
            &path,
            &id,
            &sha256(b"abcdef"),
            Some((Some(ChunkRange { start: 3, end: 5 }), body(&[b"def"]))),
            &ANYONE,
        )
        .await
        .unwrap();
    assert_eq!(blob.size, 6);
    assert!(h.stored_objects("uploads/").await.is_empty());
}

pub(crate) async fn racing_chunks_record_only_one(h: &Harness) {
    let path = repo("ns/app");
    let id = h.registry.start_upload(&path, &ANYONE).await.unwrap().id;
    let range = Some(ChunkRange { start: 0, end: 3 });
    let (a, b) = tokio::join!(
        h.registry
            .upload_chunk(&path, &id, range, body(&[b"aaaa"]), &ANYONE),
        h.other_node
            .upload_chunk(&path, &id, range, body(&[b"bbbb"]), &ANYONE),
    );
    let winner = match (a, b) {
        (Ok(_), Err(Error::UploadOutOfOrder { current: 4, .. })) => b"aaaa",
        (Err(Error::UploadOutOfOrder { current: 4, .. }), Ok(_)) => b"bbbb",
        other => panic!("exactly one chunk must win: {other:?}"),
    };
    let blob = h
        .registry
        .finish_upload(&path, &id, &sha256(winner), None, &ANYONE)
        .await
        .unwrap();
    assert_eq!(blob.size, 4);
    assert!(h.stored_objects("uploads/").await.is_empty());
}

pub(crate) async fn a_wrong_digest_keeps_nothing(h: &Harness) {
    let path = repo("ns/app");
    let claimed = sha256(b"something else");
    let result = h
        .registry
        .upload_blob(&path, &claimed, body(&[b"content"]), &ANYONE)
        .await;
    assert!(matches!(result, Err(Error::DigestMismatch { .. })));
    assert!(matches!(
        h.registry.blob(&path, &claimed, &ANYONE).await,
        Err(Error::BlobUnknown(_))
    ));
    assert!(matches!(
        h.registry.blob(&path, &sha256(b"content"), &ANYONE).await,
        Err(Error::BlobUnknown(_))
    ));
    assert!(
        h.stored_objects("").await.is_empty(),
        "{:?}",
        h.stored_objects("").await
    );

    // Also when the digest only arrives with the last request of a chunked upload.
    let id = h.registry.start_upload(&path, &ANYONE).await.unwrap().id;
    h.registry
        .upload_chunk(&path, &id, None, body(&[b"abc"]), &ANYONE)
        .await
        .unwrap();
    let result = h
        .registry
        .finish_upload(&path, &id, &claimed, None, &ANYONE)
        .await;
    assert!(matches!(result, Err(Error::DigestMismatch { .. })));
    assert!(matches!(
        h.registry.upload_status(&path, &id, &ANYONE).await,
        Err(Error::UploadUnknown)
    ));
    assert!(h.stored_objects("").await.is_empty());
}

pub(crate) async fn a_cancelled_upload_keeps_nothing(h: &Harness) {
    let path = repo("ns/app");
    let id = h.registry.start_upload(&path, &ANYONE).await.unwrap().id;
    h.registry
        .upload_chunk(&path, &id, None, body(&[b"abc"]), &ANYONE)
        .await
        .unwrap();
    h.registry.cancel_upload(&path, &id, &ANYONE).await.unwrap();
    assert!(matches!(
        h.registry.upload_status(&path, &id, &ANYONE).await,
        Err(Error::UploadUnknown)
    ));
    assert!(matches!(
        h.registry.cancel_upload(&path, &id, &ANYONE).await,
        Err(Error::UploadUnknown)
    ));
    assert!(h.stored_objects("").await.is_empty());
    // An upload is only reachable through its own repository.
    let id = h.registry.start_upload(&path, &ANYONE).await.unwrap().id;
    let elsewhere = repo("ns/other");
    h.registry.start_upload(&elsewhere, &ANYONE).await.unwrap();
    assert!(matches!(
        h.registry.upload_status(&elsewhere, &id, &ANYONE).await,
        Err(Error::UploadUnknown)
    ));
}

pub(crate) async fn sha512_and_empty_blobs(h: &Harness) {
    let path = repo("ns/app");
    let digest = quay_core::hash::digest_of(quay_core::DigestAlgorithm::Sha512, b"sha512 content");
    let blob = h
        .registry
        .upload_blob(&path, &digest, body(&[b"sha512 ", b"content"]), &ANYONE)
        .await
        .unwrap();
    assert_eq!(blob.size, 14);
    let empty = sha256(b"");
    let id = h.registry.start_upload(&path, &ANYONE).await.unwrap().id;
    let blob = h
        .registry
        .finish_upload(&path, &id, &empty, None, &ANYONE)
        .await
        .unwrap();
    assert_eq!(blob.size, 0);
    let BlobRead::Whole { body, .. } = h
        .registry
        .read_blob(&path, &empty, None, &ANYONE)
        .await
        .unwrap()
    else {
        panic!("expected the whole blob");
    };
    assert!(read_all(body).await.is_empty());
}

pub(crate) async fn blobs_larger_than_the_limit_are_refused(metadata: Metadata, objects: Objects) {
    let settings = RegistrySettings {
        max_blob_bytes: Some(10),
        permissions: quay_core::permission::PermissionSettings {
            create_namespace_on_push: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let Some(h) = Harness::with_settings(metadata, objects, settings).await else {
        return;
    };
    let path = repo("ns/app");
    let result = h
        .registry
        .upload_blob(&path, &sha256(&[7; 11]), body(&[&[7; 6], &[7; 5]]), &ANYONE)
        .await;
    assert!(
        matches!(
            result,
            Err(Error::BlobTooLarge {
                size: 11,
                limit: 10
            })
        ),
        "{result:?}"
    );
    let id = h.registry.start_upload(&path, &ANYONE).await.unwrap().id;
    h.registry
        .upload_chunk(&path, &id, None, body(&[&[1; 8]]), &ANYONE)
        .await
        .unwrap();
    let result = h
        .registry
        .upload_chunk(&path, &id, None, body(&[&[1; 3]]), &ANYONE)
        .await;
    assert!(
        matches!(
            result,
            Err(Error::BlobTooLarge {
                size: 11,
                limit: 10
            })
        ),
        "{result:?}"
    );
    assert_eq!(uploaded(&h, &path, &id).await, 8);
    h.registry.cancel_upload(&path, &id, &ANYONE).await.unwrap();
    assert!(h.stored_objects("").await.is_empty());
    h.finish().await;
}

pub(crate) async fn knowing_a_digest_grants_nothing(h: &Harness) {
    let source = repo("ns/source");
    let digest = upload(&h.registry, &source, b"shared layer").await;
    let stranger = repo("other/stranger");
    h.registry.start_upload(&stranger, &ANYONE).await.unwrap();
    assert!(matches!(
        h.registry.blob(&stranger, &digest, &ANYONE).await,
        Err(Error::BlobUnknown(_))
    ));
    // A mount names where the blob comes from.
    let mounted = h
        .registry
        .mount_blob(&stranger, &digest, Some(&source), &ANYONE)
        .await
        .unwrap();
    assert!(matches!(mounted, Mount::Linked(blob) if blob.size == 12));
    assert_eq!(
        h.registry
            .blob(&stranger, &digest, &ANYONE)
            .await
            .unwrap()
            .size,
        12
    );
    // A mount from a repository that does not link the blob mounts nothing: an upload
    // starts instead.
    let nothing = h
        .registry
        .mount_blob(
            &repo("ns/third"),
            &sha256(b"unknown"),
            Some(&source),
            &ANYONE,
        )
        .await
        .unwrap();
    assert!(matches!(nothing, Mount::Started(status) if status.size == 0));
    // Without a source, any repository that links the blob (and the caller may read) gives
    // it.
    let found = h
        .registry
        .mount_blob(&repo("ns/fourth"), &digest, None, &ANYONE)
        .await
        .unwrap();
    assert!(matches!(found, Mount::Linked(blob) if blob.digest == digest));
}

pub(crate) async fn upload_links_lapse_unless_a_manifest_takes_over(h: &Harness) {
    let path = repo("ns/app");
    let loose = upload(&h.registry, &path, b"loose").await;
    let digest = push_image(&h.registry, &path, "v1", b"{}", &[b"kept"]).await;
    h.clock.advance_ms(HOUR_MS + 1);
    assert!(matches!(
        h.registry.blob(&path, &loose, &ANYONE).await,
        Err(Error::BlobUnknown(_))
    ));
    assert_eq!(
        h.registry
            .blob(&path, &sha256(b"kept"), &ANYONE)
            .await
            .unwrap()
            .size,
        4
    );
    assert_eq!(
        h.registry
            .manifest(&path, &tag("v1"), &ANYONE)
            .await
            .unwrap()
            .manifest
            .digest,
        digest
    );
}

pub(crate) async fn manifests_pull_by_tag_and_digest(h: &Harness) {
    let path = repo("ns/app");
    let digest = push_image(
        &h.registry,
        &path,
        "v1",
        b"{\"a\":1}",
        &[b"layer one", b"layer two"],
    )
    .await;
    let by_tag = h
        .registry
        .manifest(&path, &tag("v1"), &ANYONE)
        .await
        .unwrap();
    let by_digest = h
        .registry
        .manifest(&path, &Reference::Digest(digest.clone()), &ANYONE)
        .await
        .unwrap();
    assert_eq!(by_tag.manifest.digest, digest);
    assert_eq!(by_tag.manifest.bytes, by_digest.manifest.bytes);
    assert_eq!(sha256(&by_tag.manifest.bytes), digest);
    assert_eq!(by_tag.manifest.media_type.as_str(), OCI_MANIFEST);
    assert!(matches!(
        h.registry.manifest(&path, &tag("v2"), &ANYONE).await,
        Err(Error::ManifestUnknown)
    ));
    assert!(matches!(
        h.registry
            .manifest(&repo("ns/missing"), &tag("v1"), &ANYONE)
            .await,
        Err(Error::RepositoryUnknown)
    ));
}

pub(crate) async fn a_manifest_with_a_missing_blob_stores_nothing(h: &Harness) {
    let path = repo("ns/app");
    upload(&h.registry, &path, b"{}").await;
    let manifest = image_manifest(b"{}", &[b"never uploaded"], "");
    let digest = sha256(&manifest);
    let result = h
        .registry
        .put_manifest(
            &path,
            &tag("v1"),
            Some(OCI_MANIFEST),
            manifest.clone(),
            &ANYONE,
        )
        .await;
    match result {
        Err(Error::ManifestBlobUnknown(missing)) => assert_eq!(missing, sha256(b"never uploaded")),
        other => panic!("expected a missing blob, got {other:?}"),
    }
    assert!(matches!(
        h.registry.manifest(&path, &tag("v1"), &ANYONE).await,
        Err(Error::ManifestUnknown)
    ));
    assert!(matches!(
        h.registry
            .manifest(&path, &Reference::Digest(digest.clone()), &ANYONE)
            .await,
        Err(Error::ManifestUnknown)
    ));
    assert!(
        h.registry
            .tags(&path, None, None, &ANYONE)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // A blob of another repository does not count either.
    upload(&h.registry, &repo("ns/other"), b"never uploaded").await;
    let result = h
        .registry
        .put_manifest(
            &path,
            &tag("v1"),
            Some(OCI_MANIFEST),
            manifest.clone(),
            &ANYONE,
        )
        .await;
    assert!(matches!(result, Err(Error::ManifestBlobUnknown(_))));
    // And the digest in the URL must be the body's.
    let wrong = Reference::Digest(sha256(b"not the manifest"));
    let result = h
        .registry
        .put_manifest(&path, &wrong, Some(OCI_MANIFEST), manifest, &ANYONE)
        .await;
    assert!(matches!(result, Err(Error::DigestMismatch { .. })));
}

pub(crate) async fn manifest_lists_need_their_children(h: &Harness) {
    let path = repo("ns/multi");
    let mut children = Vec::new();
    for arch in ["amd64", "arm64"] {
        let config = format!("{{\"architecture\":\"{arch}\"}}");
        for blob in [config.as_bytes(), arch.as_bytes()] {
            upload(&h.registry, &path, blob).await;
        }
        let manifest = image_manifest(config.as_bytes(), &[arch.as_bytes()], "");
        let digest = sha256(&manifest);
        children.push((digest, manifest.len()));
    }
    let index = index_manifest(&children.iter().map(|(d, s)| (d, *s)).collect::<Vec<_>>());
    let result = h
        .registry
        .put_manifest(&path, &tag("v1"), Some(OCI_INDEX), index.clone(), &ANYONE)
        .await;
    match result {
        Err(Error::ManifestReferenceUnknown(missing)) => assert_eq!(missing, children[0].0),
        other => panic!("expected a missing child, got {other:?}"),
    }
    // Children first, by digest, then the index.
    for (arch, (digest, _)) in ["amd64", "arm64"].iter().zip(&children) {
        let config = format!("{{\"architecture\":\"{arch}\"}}");
        let manifest = image_manifest(config.as_bytes(), &[arch.as_bytes()], "");
        let pushed = h
            .registry
            .put_manifest(
                &path,
                &Reference::Digest(digest.clone()),
                Some(OCI_MANIFEST),
                manifest,
                &ANYONE,
            )
            .await
            .unwrap();
        assert_eq!(&pushed.digest, digest);
    }
    let index_digest = h
        .registry
        .put_manifest(&path, &tag("v1"), Some(OCI_INDEX), index, &ANYONE)
        .await
        .unwrap()
        .digest;
    // Long after the children's own grace period, the tagged index keeps them alive.
    h.clock.advance_ms(2 * HOUR_MS);
    for (digest, _) in &children {
        let child = h
            .registry
            .manifest(&path, &Reference::Digest(digest.clone()), &ANYONE)
            .await;
        assert_eq!(&child.unwrap().manifest.digest, digest);
    }
    // Without the index's tag, they go.
    h.registry
        .delete_manifest(&path, &tag("v1"), &ANYONE)
        .await
        .unwrap();
    for (digest, _) in &children {
        let child = h
            .registry
            .manifest(&path, &Reference::Digest(digest.clone()), &ANYONE)
            .await;
        assert!(matches!(child, Err(Error::ManifestUnknown)));
    }
    assert!(matches!(
        h.registry
            .manifest(&path, &Reference::Digest(index_digest), &ANYONE)
            .await,
        Err(Error::ManifestUnknown)
    ));
}

pub(crate) async fn untagged_manifests_lapse(h: &Harness) {
    let path = repo("ns/app");
    upload(&h.registry, &path, b"{}").await;
    upload(&h.registry, &path, b"layer").await;
    let manifest = image_manifest(b"{}", &[b"layer"], "");
    let digest = sha256(&manifest);
    h.registry
        .put_manifest(
            &path,
            &Reference::Digest(digest.clone()),
            None,
            manifest,
            &ANYONE,
        )
        .await
        .unwrap();
    let by_digest = Reference::Digest(digest);
    assert!(
        h.registry
            .manifest(&path, &by_digest, &ANYONE)
            .await
            .is_ok()
    );
    assert!(
        h.registry
            .tags(&path, None, None, &ANYONE)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    h.clock.advance_ms(HOUR_MS + 1);
    assert!(matches!(
        h.registry.manifest(&path, &by_digest, &ANYONE).await,
        Err(Error::ManifestUnknown)
    ));
}

pub(crate) async fn moving_and_deleting_tags(h: &Harness) {
    let path = repo("ns/app");
    let first = push_image(&h.registry, &path, "latest", b"{\"v\":1}", &[b"a"]).await;
    h.clock.advance_ms(1);
    let second = push_image(&h.registry, &path, "latest", b"{\"v\":2}", &[b"b"]).await;
    assert_eq!(
        h.registry
            .manifest(&path, &tag("latest"), &ANYONE)
            .await
            .unwrap()
            .manifest
            .digest,
        second
    );
    // The old target lost its only tag.
    assert!(matches!(
        h.registry
            .manifest(&path, &Reference::Digest(first.clone()), &ANYONE)
            .await,
        Err(Error::ManifestUnknown)
    ));
    // Pushing the same manifest again changes nothing, even in the same millisecond.
    for _ in 0..3 {
        push_image(&h.registry, &path, "latest", b"{\"v\":2}", &[b"b"]).await;
        push_image(&h.registry, &path, "other", b"{\"v\":1}", &[b"a"]).await;
        push_image(&h.registry, &path, "other", b"{\"v\":2}", &[b"b"]).await;
    }
    h.registry
        .delete_manifest(&path, &tag("latest"), &ANYONE)
        .await
        .unwrap();
    match h.registry.manifest(&path, &tag("latest"), &ANYONE).await {
        Err(Error::TagExpired(name)) => assert_eq!(name.as_str(), "latest"),
        other => panic!("expected an expired tag, got {other:?}"),
    }
    assert!(matches!(
        h.registry
            .delete_manifest(&path, &tag("latest"), &ANYONE)
            .await,
        Err(Error::ManifestUnknown)
    ));
    // Deleting by digest removes every tag of the manifest.
    push_image(&h.registry, &path, "again", b"{\"v\":2}", &[b"b"]).await;
    h.registry
        .delete_manifest(&path, &Reference::Digest(second.clone()), &ANYONE)
        .await
        .unwrap();
    assert!(
        h.registry
            .tags(&path, None, None, &ANYONE)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(matches!(
        h.registry
            .delete_manifest(&path, &Reference::Digest(second), &ANYONE)
            .await,
        Err(Error::ManifestUnknown)
    ));
    // A deleted tag can be pushed again.
    push_image(&h.registry, &path, "latest", b"{\"v\":1}", &[b"a"]).await;
    assert_eq!(
        h.registry
            .manifest(&path, &tag("latest"), &ANYONE)
            .await
            .unwrap()
            .manifest
            .digest,
        first
    );
}

pub(crate) async fn tag_pages(h: &Harness) {
    let path = repo("ns/app");
    let digest = push_image(&h.registry, &path, "t00", b"{}", &[b"x"]).await;
    let manifest = image_manifest(b"{}", &[b"x"], "");
    let mut names: Vec<String> = (1..25).map(|i| format!("t{i:02}")).collect();
    names.extend(["A".to_string(), "Z_last".to_string(), "a.b".to_string()]);
    for name in &names {
        let pushed = h
            .registry
            .put_manifest(&path, &tag(name), None, manifest.clone(), &ANYONE)
            .await
            .unwrap();
        assert_eq!(pushed.digest, digest);
    }
    let all = h.registry.tags(&path, None, None, &ANYONE).await.unwrap();
    assert!(!all.more);
    let all: Vec<&str> = all.items.iter().map(|t| t.as_str()).collect();
    let mut expected: Vec<&str> = names.iter().map(String::as_str).chain(["t00"]).collect();
    expected.sort_unstable();
    assert_eq!(all, expected);
    assert_eq!(all[..3], ["A", "Z_last", "a.b"]);

    let mut paged = Vec::new();
    let mut last: Option<String> = None;
    loop {
        let page = h
            .registry
            .tags(&path, Some(10), last.as_deref(), &ANYONE)
            .await
            .unwrap();
        assert!(page.items.len() <= 10);
        paged.extend(page.items.iter().map(|t| t.to_string()));
        if !page.more {
            break;
        }
        last = page.items.last().map(ToString::to_string);
    }
    assert_eq!(paged, all);
    assert!(
        h.registry
            .tags(&path, Some(0), None, &ANYONE)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let after = h
        .registry
        .tags(&path, None, Some("t20"), &ANYONE)
        .await
        .unwrap();
    assert_eq!(after.items.len(), 4);
    let capped = h
        .registry
        .tags(&path, Some(1_000_000), None, &ANYONE)
        .await
        .unwrap();
    assert_eq!(capped.items.len(), all.len());
}

pub(crate) async fn catalog_pages(h: &Harness) {
    let paths = ["bb/x", "aa/z", "aa/y/deep", "library/solo", "aa-b/c"];
    for path in paths {
        h.registry.start_upload(&repo(path), &ANYONE).await.unwrap();
    }
    let all = h.registry.catalog(None, None, &ANYONE).await.unwrap();
    let names: Vec<String> = all.items.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        ["aa/y/deep", "aa/z", "aa-b/c", "bb/x", "library/solo"]
    );
    let first = h.registry.catalog(Some(2), None, &ANYONE).await.unwrap();
    let last = first.next_after.unwrap().to_string();
    let second = h
        .registry
        .catalog(Some(2), Some(&last), &ANYONE)
        .await
        .unwrap();
    let names: Vec<String> = second.items.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["aa-b/c", "bb/x"]);
    let rest = h
        .registry
        .catalog(Some(10), Some("bb/x"), &ANYONE)
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.next_after, None);
}

pub(crate) async fn referrers_follow_subjects(h: &Harness) {
    let path = repo("ns/app");
    let subject = push_image(&h.registry, &path, "v1", b"{}", &[b"image"]).await;
    let subject_size = h
        .registry
        .manifest(&path, &tag("v1"), &ANYONE)
        .await
        .unwrap()
        .manifest
        .bytes
        .len();
    upload(&h.registry, &path, b"sig").await;
    upload(&h.registry, &path, b"sbom").await;
    let referrer = |artifact_type: &str, layer: &[u8]| {
        image_manifest(
            b"{}",
            &[layer],
            &format!(
                r#","artifactType":"{artifact_type}","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{subject}","size":{subject_size}}},"annotations":{{"kind":"{artifact_type}"}}"#
            ),
        )
    };
    let signature = referrer("application/vnd.example.sig", b"sig");
    let sbom = referrer("application/vnd.example.sbom", b"sbom");
    for manifest in [&signature, &sbom] {
        let pushed = h
            .registry
            .put_manifest(
                &path,
                &Reference::Digest(sha256(manifest)),
                Some(OCI_MANIFEST),
                manifest.clone(),
                &ANYONE,
            )
            .await
            .unwrap();
        assert_eq!(pushed.subject.as_ref(), Some(&subject));
    }
    // Referrers pushed by digest stay, however long.
    h.clock.advance_ms(24 * HOUR_MS);
    let listed = |filter: Option<&'static str>| {
        let registry = &h.registry;
        let path = path.clone();
        let subject = subject.clone();
        async move {
            let referrers = registry
                .referrers(&path, &subject, filter, &ANYONE)
                .await
                .unwrap();
            let index: serde_json::Value = serde_json::from_slice(&referrers.index).unwrap();
            assert_eq!(index["mediaType"], OCI_INDEX);
            assert_eq!(referrers.filtered, filter.is_some());
            index["manifests"].as_array().unwrap().clone()
        }
    };
    let all = listed(None).await;
    assert_eq!(all.len(), 2);
    let sig_entry = all
        .iter()
        .find(|e| e["digest"] == sha256(&signature).as_str())
        .unwrap();
    assert_eq!(sig_entry["artifactType"], "application/vnd.example.sig");
    assert_eq!(sig_entry["size"], signature.len());
    assert_eq!(
        sig_entry["annotations"]["kind"],
        "application/vnd.example.sig"
    );
    let only_sbom = listed(Some("application/vnd.example.sbom")).await;
    assert_eq!(only_sbom.len(), 1);
    assert_eq!(only_sbom[0]["digest"], sha256(&sbom).as_str());
    // No referrers is an empty index, not an error.
    let none = h
        .registry
        .referrers(&path, &sha256(b"nothing"), None, &ANYONE)
        .await
        .unwrap();
    let none: serde_json::Value = serde_json::from_slice(&none.index).unwrap();
    assert_eq!(none["manifests"].as_array().unwrap().len(), 0);
    // A deleted referrer is no longer listed.
    h.registry
        .delete_manifest(&path, &Reference::Digest(sha256(&signature)), &ANYONE)
        .await
        .unwrap();
    assert_eq!(listed(None).await.len(), 1);
    // Referrers pushed with the tag schema fallback are listed too.
    let fallback_tag = format!("sha256-{}", subject.hex());
    let fallback = index_manifest(&[(&sha256(&signature), signature.len())]);
    h.registry
        .put_manifest(
            &path,
            &Reference::Digest(sha256(&signature)),
            Some(OCI_MANIFEST),
            signature.clone(),
            &ANYONE,
        )
        .await
        .unwrap();
    h.registry
        .put_manifest(
            &path,
            &tag(&fallback_tag),
            Some(OCI_INDEX),
            fallback,
            &ANYONE,
        )
        .await
        .unwrap();
    assert_eq!(listed(None).await.len(), 2);
}

pub(crate) async fn deleting_blob_links(h: &Harness) {
    let path = repo("ns/app");
    let loose = upload(&h.registry, &path, b"loose").await;
    push_image(&h.registry, &path, "v1", b"{}", &[b"used"]).await;
    h.registry
        .delete_blob(&path, &loose, &ANYONE)
        .await
        .unwrap();
    assert!(matches!(
        h.registry.blob(&path, &loose, &ANYONE).await,
        Err(Error::BlobUnknown(_))
    ));
    assert!(matches!(
        h.registry.delete_blob(&path, &loose, &ANYONE).await,
        Err(Error::BlobUnknown(_))
    ));
    assert!(matches!(
        h.registry
            .delete_blob(&path, &sha256(b"used"), &ANYONE)
            .await,
        Err(Error::BlobInUse(_))
    ));
    assert!(
        h.registry
            .blob(&path, &sha256(b"used"), &ANYONE)
            .await
            .is_ok()
    );
}

pub(crate) async fn schema1_must_name_its_repository(h: &Harness) {
    let path = repo("ns/app");
    upload(&h.registry, &path, b"layer").await;
    let manifest = |name: &str, tag_name: &str| {
        bytes::Bytes::from(format!(
            r#"{{"schemaVersion":1,"name":"{name}","tag":"{tag_name}","architecture":"amd64","fsLayers":[{{"blobSum":"{}"}}],"history":[{{"v1Compatibility":"{{}}"}}]}}"#,
            sha256(b"layer")
        ))
    };
    let schema1 = Some("application/vnd.docker.distribution.manifest.v1+json");
    h.registry
        .put_manifest(
            &path,
            &tag("v1"),
            schema1,
            manifest("ns/app", "v1"),
            &ANYONE,
        )
        .await
        .unwrap();
    let wrong_name = h
        .registry
        .put_manifest(&path, &tag("v1"), schema1, manifest("ns/x", "v1"), &ANYONE)
        .await;
    assert!(matches!(wrong_name, Err(Error::NameInvalid(_))));
    let wrong_tag = h
        .registry
        .put_manifest(
            &path,
            &tag("v2"),
            schema1,
            manifest("ns/app", "v1"),
            &ANYONE,
        )
        .await;
    assert!(matches!(wrong_tag, Err(Error::TagInvalid(_))));
    let pulled = h
        .registry
        .manifest(&path, &tag("v1"), &ANYONE)
        .await
        .unwrap();
    assert_eq!(
        pulled.manifest.media_type.as_str(),
        "application/vnd.docker.distribution.manifest.v1+json"
    );
}

pub(crate) async fn parts_are_atomic_in_storage(h: &Harness) {
    // A part whose body fails leaves no object.
    let mut failing = broken_body(b"some bytes");
    let result = h.objects.write_part("manual", &mut failing).await;
    assert!(result.is_err());
    assert!(h.stored_objects("uploads/").await.is_empty());
}

/// How many bytes upload `id` has received.
async fn uploaded(h: &Harness, path: &RepositoryPath, id: &str) -> u64 {
    h.registry
        .upload_status(path, id, &ANYONE)
        .await
        .unwrap()
        .size
}
