//! Garbage collection: what it removes, what it must keep, and its races with pushes.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::*;
use quay_core::audit::{LogKind, LogQuery};
use quay_core::clock::Clock;
use quay_core::gc::{DELETION_GRACE_MS, Reclaimed};
use quay_core::ports::{AccountStore, AuditLog, BlobStore, GarbageStore, UploadStore};
use quay_core::registry::UploadStatus;
use quay_core::{Error, Reference, RepositoryPath};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Past every upload link (an hour) and the collector's margin after it.
const LINKS_LAPSED_MS: i64 = HOUR_MS + 120_000;

/// The blob objects in storage, by digest.
async fn stored_blobs(h: &Harness) -> BTreeSet<String> {
    h.stored_objects("sha256/")
        .await
        .into_iter()
        .map(|path| format!("sha256:{}", path.rsplit('/').next().unwrap()))
        .collect()
}

fn digests(blobs: &[&[u8]]) -> BTreeSet<String> {
    blobs.iter().map(|blob| sha256(blob).to_string()).collect()
}

/// An upload to `path` that has received `bytes` in one chunk and is not finished.
async fn upload_in_progress(h: &Harness, path: &RepositoryPath, bytes: &[u8]) -> UploadStatus {
    let started = h.registry.start_upload(path, &ANYONE).await.unwrap();
    h.registry
        .upload_chunk(path, &started.id, None, body(&[bytes]), &ANYONE)
        .await
        .unwrap();
    started
}

pub(crate) async fn collection_removes_what_nothing_references(h: &Harness) {
    let path = repo("ns/app");
    let first = push_image(&h.registry, &path, "a", b"{\"a\":1}", &[b"one", b"shared"]).await;
    push_image(&h.registry, &path, "b", b"{\"b\":1}", &[b"shared", b"two"]).await;
    h.set_window("ns", 0).await;
    h.registry
        .delete_manifest(&path, &tag("a"), &ANYONE)
        .await
        .unwrap();
    h.clock.advance_ms(LINKS_LAPSED_MS);
    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!(reclaimed.tags, 1);
    assert_eq!(reclaimed.manifests, 1);
    assert_eq!(reclaimed.blobs, 2, "{reclaimed:?}");
    assert_eq!(reclaimed.bytes, (b"{\"a\":1}".len() + b"one".len()) as u64);
    assert_eq!(
        stored_blobs(h).await,
        digests(&[b"{\"b\":1}", b"shared", b"two"])
    );
    // What is left pulls; what was collected is gone for good.
    h.registry
        .manifest(&path, &tag("b"), &ANYONE)
        .await
        .unwrap();
    for blob in [&b"shared"[..], b"two"] {
        h.registry
            .blob(&path, &sha256(blob), &ANYONE)
            .await
            .unwrap();
    }
    assert!(matches!(
        h.registry
            .restore_tag(
                &path,
                &quay_core::TagName::parse("a").unwrap(),
                &first,
                &ANYONE
            )
            .await,
        Err(Error::ManifestUnknown)
    ));
    // A second collection finds nothing.
    assert_eq!(h.collector().collect().await.unwrap(), Reclaimed::default());
}

pub(crate) async fn deleting_a_blob_takes_it_out_of_the_time_machine(h: &Harness) {
    let path = repo("ns/app");
    let image = push_image(&h.registry, &path, "v1", b"{\"a\":1}", &[b"base", b"app"]).await;
    push_image(&h.registry, &path, "other", b"{\"b\":1}", &[b"base"]).await;
    let child = push_image(&h.registry, &path, "child", b"{\"c\":1}", &[b"arm"]).await;
    let child_bytes = image_manifest(b"{\"c\":1}", &[b"arm"], "");
    let list = index_manifest(&[(&child, child_bytes.len())]);
    h.registry
        .put_manifest(&path, &tag("multi"), Some(OCI_INDEX), list.clone(), &ANYONE)
        .await
        .unwrap();
    let path = &path;
    let in_use = |content: &'static [u8]| async move {
        matches!(
            h.registry
                .delete_blob(path, &sha256(content), &ANYONE)
                .await,
            Err(Error::BlobInUse(_))
        )
    };
    // A blob that a live tag needs stays, whether its manifest is tagged, shares it with
    // another one, or is a child of a tagged list.
    assert!(in_use(b"app").await);
    for name in ["v1", "child"] {
        h.registry
            .delete_manifest(path, &tag(name), &ANYONE)
            .await
            .unwrap();
    }
    assert!(in_use(b"base").await, "another tag's image needs it");
    assert!(in_use(b"arm").await, "a tagged list needs it");

    // Only the time machine holds v1: the blob goes, and v1's lifetime on that image with it.
    h.clock.advance_ms(1);
    let v1 = quay_core::TagName::parse("v1").unwrap();
    h.registry
        .delete_blob(path, &sha256(b"app"), &ANYONE)
        .await
        .unwrap();
    assert!(matches!(
        h.registry.blob(path, &sha256(b"app"), &ANYONE).await,
        Err(Error::BlobUnknown(_))
    ));
    assert!(matches!(
        h.registry.restore_tag(path, &v1, &image, &ANYONE).await,
        Err(Error::ManifestUnknown)
    ));
    assert!(matches!(
        h.registry
            .manifest(path, &Reference::Digest(image.clone()), &ANYONE)
            .await,
        Err(Error::ManifestUnknown)
    ));
    // What the other image needs is untouched, and the second delete finds nothing.
    h.registry
        .blob(path, &sha256(b"base"), &ANYONE)
        .await
        .unwrap();
    h.registry
        .manifest(path, &tag("other"), &ANYONE)
        .await
        .unwrap();
    assert!(matches!(
        h.registry.delete_blob(path, &sha256(b"app"), &ANYONE).await,
        Err(Error::BlobUnknown(_))
    ));

    // A child's blob goes with the list that held it, once the list's tag is gone.
    h.registry
        .delete_manifest(path, &tag("multi"), &ANYONE)
        .await
        .unwrap();
    h.registry
        .delete_blob(path, &sha256(b"arm"), &ANYONE)
        .await
        .unwrap();
    assert!(matches!(
        h.registry
            .manifest(path, &Reference::Digest(sha256(&list)), &ANYONE)
            .await,
        Err(Error::ManifestUnknown)
    ));

    // The usage log says which lifetimes left the time machine, and why.
    let ns = h
        .directory
        .namespace(&quay_core::names::Namespace::parse("ns").unwrap())
        .await
        .unwrap()
        .unwrap();
    let logs = h
        .directory
        .logs(&LogQuery {
            namespace: Some(ns.id),
            from_ms: 0,
            until_ms: i64::MAX,
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let removed: BTreeSet<(String, String, String)> = logs
        .iter()
        .filter(|entry| entry.kind == "permanently_delete_tag")
        .map(|entry| {
            let field = |key: &str| entry.metadata[key].as_str().unwrap().to_string();
            (
                field("tag"),
                field("manifest_digest"),
                field("deleted_blob"),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = [
        ("v1", image.to_string(), sha256(b"app")),
        ("child", child.to_string(), sha256(b"arm")),
        ("multi", sha256(&list).to_string(), sha256(b"arm")),
    ]
    .into_iter()
    .map(|(tag, manifest, blob)| (tag.to_string(), manifest, blob.to_string()))
    .collect();
    assert_eq!(removed, expected);
}

pub(crate) async fn the_window_keeps_history_restorable(h: &Harness) {
    let path = repo("ns/app");
    let name = quay_core::TagName::parse("latest").unwrap();
    let first = push_image(&h.registry, &path, "latest", b"{\"v\":1}", &[b"v1"]).await;
    push_image(&h.registry, &path, "latest", b"{\"v\":2}", &[b"v2"]).await;
    h.clock.advance_ms(DAY_MS);
    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!(
        (reclaimed.tags, reclaimed.manifests, reclaimed.blobs),
        (0, 0, 0)
    );
    // Within the window (two weeks by default) the old target comes back and pulls.
    h.registry
        .restore_tag(&path, &name, &first, &ANYONE)
        .await
        .unwrap();
    let restored = h
        .registry
        .manifest(&path, &tag("latest"), &ANYONE)
        .await
        .unwrap();
    assert_eq!(restored.manifest.digest, first);
    h.registry
        .blob(&path, &sha256(b"v1"), &ANYONE)
        .await
        .unwrap();
    // Past the window, the moved-away target is collected and cannot be restored.
    let second = sha256(&image_manifest(b"{\"v\":2}", &[b"v2"], ""));
    h.clock.advance_ms(15 * DAY_MS);
    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!(reclaimed.manifests, 1);
    assert!(matches!(
        h.registry.restore_tag(&path, &name, &second, &ANYONE).await,
        Err(Error::ManifestUnknown)
    ));
    assert_eq!(stored_blobs(h).await, digests(&[b"{\"v\":1}", b"v1"]));
}

pub(crate) async fn lists_keep_children_and_referrers_keep_subjects(h: &Harness) {
    let path = repo("ns/app");
    upload(&h.registry, &path, b"{}").await;
    upload(&h.registry, &path, b"arm").await;
    h.set_window("ns", 0).await;
    let child = image_manifest(b"{}", &[b"arm"], "");
    let child_digest = sha256(&child);
    h.registry
        .put_manifest(
            &path,
            &Reference::Digest(child_digest.clone()),
            Some(OCI_MANIFEST),
            child.clone(),
            &ANYONE,
        )
        .await
        .unwrap();
    let index = index_manifest(&[(&child_digest, child.len())]);
    h.registry
        .put_manifest(&path, &tag("multi"), Some(OCI_INDEX), index, &ANYONE)
        .await
        .unwrap();
    // The child's own temporary tag ends and is collected; the list keeps the child.
    h.clock.advance_ms(LINKS_LAPSED_MS);
    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!(
        (reclaimed.tags, reclaimed.manifests, reclaimed.blobs),
        (1, 0, 0)
    );
    h.registry
        .manifest(&path, &Reference::Digest(child_digest.clone()), &ANYONE)
        .await
        .unwrap();
    // A referrer keeps its subject even when the subject has no tag left.
    let subject = push_image(&h.registry, &path, "signed", b"{\"s\":1}", &[b"s"]).await;
    upload(&h.registry, &path, b"sig").await;
    let signature = image_manifest(
        b"{}",
        &[b"sig"],
        &format!(
            r#","artifactType":"application/vnd.example.sig","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{subject}","size":1}}"#
        ),
    );
    let signature_digest = sha256(&signature);
    h.registry
        .put_manifest(
            &path,
            &Reference::Digest(signature_digest.clone()),
            Some(OCI_MANIFEST),
            signature,
            &ANYONE,
        )
        .await
        .unwrap();
    h.registry
        .delete_manifest(&path, &tag("signed"), &ANYONE)
        .await
        .unwrap();
    h.clock.advance_ms(LINKS_LAPSED_MS);
    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!((reclaimed.tags, reclaimed.manifests), (1, 0));
    assert!(stored_blobs(h).await.contains(&sha256(b"s").to_string()));
    // Deleting the list and the referrer frees everything.
    h.registry
        .delete_manifest(&path, &tag("multi"), &ANYONE)
        .await
        .unwrap();
    h.registry
        .delete_manifest(&path, &Reference::Digest(signature_digest), &ANYONE)
        .await
        .unwrap();
    h.clock.advance_ms(1);
    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!(reclaimed.manifests, 4, "{reclaimed:?}");
    assert!(stored_blobs(h).await.is_empty());
}

pub(crate) async fn a_push_waits_for_the_bytes_being_deleted(h: &Harness) {
    let path = repo("ns/app");
    let digest = upload(&h.registry, &path, b"contested").await;
    h.registry
        .delete_blob(&path, &digest, &ANYONE)
        .await
        .unwrap();
    // A collector condemns the blob and is about to delete its bytes...
    let condemned = h
        .directory
        .condemn_blobs(h.clock.now_ms(), 10)
        .await
        .unwrap();
    assert_eq!(condemned.len(), 1);
    // ...when a client uploads the same content again: linking waits for the collector.
    let registry = &h.registry;
    let again = registry.upload_blob(&path, &digest, body(&[b"contested"]), &ANYONE);
    let collector = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        h.objects.delete_blob(&digest).await.unwrap();
        h.directory.finish_deletion(&digest).await.unwrap();
    };
    let (uploaded, ()) = tokio::join!(again, collector);
    uploaded.unwrap();
    let quay_core::registry::BlobRead::Whole { body: bytes, .. } = h
        .registry
        .read_blob(&path, &digest, None, &ANYONE)
        .await
        .unwrap()
    else {
        panic!("expected the whole blob");
    };
    assert_eq!(read_all(bytes).await, b"contested");

    // A collector that stopped after condemning leaves its marker: past the grace a push
    // takes it over, and the recovery of stale markers then leaves the bytes alone.
    h.registry
        .delete_blob(&path, &digest, &ANYONE)
        .await
        .unwrap();
    assert_eq!(
        h.directory
            .condemn_blobs(h.clock.now_ms(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    h.clock.advance_ms(DELETION_GRACE_MS + 1);
    h.registry
        .upload_blob(&path, &digest, body(&[b"contested"]), &ANYONE)
        .await
        .unwrap();
    let now = h.clock.now_ms();
    assert!(
        h.directory
            .stale_deletions(now - DELETION_GRACE_MS, now, 10)
            .await
            .unwrap()
            .is_empty()
    );
    h.registry.blob(&path, &digest, &ANYONE).await.unwrap();
    assert!(stored_blobs(h).await.contains(&digest.to_string()));
}

pub(crate) async fn abandoned_uploads_and_deleted_repositories(h: &Harness) {
    let path = repo("ns/app");
    let started = upload_in_progress(h, &path, b"half").await;
    assert!(!h.stored_objects("uploads/").await.is_empty());
    h.clock.advance_ms(DAY_MS + 1);
    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!(reclaimed.uploads, 1);
    assert!(h.stored_objects("uploads/").await.is_empty());
    assert!(matches!(
        h.registry.upload_status(&path, &started.id, &ANYONE).await,
        Err(Error::UploadUnknown)
    ));

    // Deleting a repository leaves its blobs and unfinished uploads to the collector.
    push_image(&h.registry, &path, "v1", b"{\"r\":1}", &[b"r1", b"r2"]).await;
    let other = repo("ns/other");
    push_image(&h.registry, &other, "v1", b"{\"o\":1}", &[b"r2"]).await;
    upload_in_progress(h, &path, b"pending").await;
    let details = h.accounts.repository(&path).await.unwrap();
    h.metadata
        .repositories
        .delete_repository(details.repository.id, NOBODY.entry(LogKind::DeleteRepo, 0))
        .await
        .unwrap();
    h.clock.advance_ms(LINKS_LAPSED_MS);
    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!(reclaimed.uploads, 1);
    assert_eq!(stored_blobs(h).await, digests(&[b"{\"o\":1}", b"r2"]));
    assert!(h.stored_objects("uploads/").await.is_empty());
    h.registry
        .manifest(&other, &tag("v1"), &ANYONE)
        .await
        .unwrap();
}

/// Uploads younger than the abandonment age stay, and finish.
pub(crate) async fn collection_leaves_uploads_in_progress(h: &Harness) {
    let path = repo("ns/app");
    let started = upload_in_progress(h, &path, b"ongoing").await;
    h.clock.advance_ms(HOUR_MS);
    h.collector().collect().await.unwrap();
    assert_eq!(h.stored_objects("uploads/").await.len(), 1);
    h.registry
        .finish_upload(&path, &started.id, &sha256(b"ongoing"), None, &ANYONE)
        .await
        .unwrap();
}

/// What no upload names any more is removed: a part whose record a power cut undid, one a
/// request racing its upload's end wrote. An upload in progress keeps all it has.
pub(crate) async fn collection_removes_what_ended_uploads_left(h: &Harness) {
    let path = repo("ns/app");
    let live = upload_in_progress(h, &path, b"recorded").await;
    h.objects
        .write_part(&live.id, &mut body(&[b"never recorded"]))
        .await
        .unwrap();
    h.objects
        .write_part("ended", &mut body(&[b"left over"]))
        .await
        .unwrap();

    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!(reclaimed.upload_leftovers, 1);
    assert_eq!(
        h.objects.stored_uploads().await.unwrap(),
        std::slice::from_ref(&live.id)
    );
    assert_eq!(h.stored_objects("uploads/").await.len(), 2);

    // Once the upload ends, what its record never named goes with the next collection.
    h.registry
        .finish_upload(&path, &live.id, &sha256(b"recorded"), None, &ANYONE)
        .await
        .unwrap();
    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!(reclaimed.upload_leftovers, 1);
    assert!(h.objects.stored_uploads().await.unwrap().is_empty());
    assert!(h.stored_objects("uploads/").await.is_empty());
    h.registry
        .blob(&path, &sha256(b"recorded"), &ANYONE)
        .await
        .unwrap();
}

/// Cosign's companion tags expire with the last tag of the manifest they sign.
pub(crate) async fn cosign_companions_expire_with_what_they_sign(h: &Harness) {
    let path = repo("ns/app");
    let signed = push_image(&h.registry, &path, "v1", b"{\"signed\":1}", &[b"payload"]).await;
    push_image(&h.registry, &path, "v2", b"{\"signed\":1}", &[b"payload"]).await;
    let companion = format!("sha256-{}.sig", signed.hex());
    push_image(
        &h.registry,
        &path,
        &companion,
        b"{\"sig\":1}",
        &[b"signature"],
    )
    .await;
    // Another tag still points to the signed manifest: the signature stays.
    h.registry
        .delete_manifest(&path, &tag("v1"), &ANYONE)
        .await
        .unwrap();
    assert!(tag_names(&h.registry, &path).await.contains(&companion));
    // Its last tag moves away: the signature goes too.
    push_image(&h.registry, &path, "v2", b"{\"other\":1}", &[b"payload"]).await;
    assert_eq!(tag_names(&h.registry, &path).await, ["v2"]);
}
