//! Geo-replication on two locations, `us` and `eu`: the first node prefers `us`, the other
//! `eu` (the whole suite also runs on them, crossing locations in every scenario).

use std::time::Duration;

use quay_core::ports::BlobStore;
use quay_core::registry::BlobRead;
use quay_storage::{ObjectStorage, Replicated, blob_path};

use crate::support::*;

fn location<'h>(h: &'h Harness, name: &str) -> &'h ObjectStorage {
    &h.objects
        .locations()
        .iter()
        .find(|location| location.name == name)
        .unwrap()
        .storage
}

async fn pull(registry: &quay_core::Registry, path: &str, digest: &quay_core::Digest) -> Vec<u8> {
    let BlobRead::Whole { body, .. } = registry
        .read_blob(&repo(path), digest, None, &ANYONE)
        .await
        .unwrap()
    else {
        panic!("expected the whole blob");
    };
    read_all(body).await
}

pub(crate) async fn blobs_reach_every_default_location(h: &Harness) {
    let (us, eu) = (location(h, "us"), location(h, "eu"));
    let layer = vec![7u8; 300_000];
    let config = br#"{"region":"us"}"#;
    push_image(&h.registry, &repo("geo/app"), "v1", config, &[&layer]).await;
    let (layer_digest, config_digest) = (sha256(&layer), sha256(config));

    // Stored where the pushing node prefers; the other node reads it from there meanwhile.
    for digest in [&layer_digest, &config_digest] {
        assert!(us.blob_size(digest).await.unwrap().is_some());
        assert!(eu.blob_size(digest).await.unwrap().is_none());
    }
    assert_eq!(pull(&h.other_node, "geo/app", &layer_digest).await, layer);

    let replicator = h.objects.replicator().unwrap();
    let done = replicator.run().await.unwrap();
    assert_eq!(
        done,
        Replicated {
            blobs: 2,
            copies: 2,
            bytes: (layer.len() + config.len()) as u64,
            postponed: 0,
        }
    );
    assert_eq!(eu.blob_size(&layer_digest).await.unwrap(), Some(300_000));
    assert_eq!(
        replicator.run().await.unwrap(),
        Replicated::default(),
        "the queue is empty"
    );

    // `us` loses the layer: both nodes serve it from `eu`.
    us.delete_blob(&layer_digest).await.unwrap();
    assert_eq!(pull(&h.registry, "geo/app", &layer_digest).await, layer);
    assert_eq!(pull(&h.other_node, "geo/app", &layer_digest).await, layer);

    // Queueing every blob again puts back what a location lost, and copies nothing else.
    assert_eq!(replicator.queue_every_blob().await.unwrap(), 2);
    let done = replicator.run().await.unwrap();
    assert_eq!((done.blobs, done.copies), (2, 1), "{done:?}");
    assert_eq!(us.blob_size(&layer_digest).await.unwrap(), Some(300_000));
}

pub(crate) async fn a_damaged_source_is_not_copied(h: &Harness) {
    let (us, eu) = (location(h, "us"), location(h, "eu"));
    let content = b"pristine bytes".as_slice();
    let digest = upload(&h.registry, &repo("geo/app"), content).await;
    us.operator()
        .write(&blob_path(&digest), b"rotten bytes".as_slice())
        .await
        .unwrap();

    let replicator = h.objects.replicator().unwrap();
    let done = replicator.run().await.unwrap();
    assert_eq!((done.blobs, done.postponed), (0, 1), "{done:?}");
    assert!(eu.blob_size(&digest).await.unwrap().is_none());
    // Not due again before its retry.
    assert_eq!(replicator.run().await.unwrap(), Replicated::default());

    us.operator()
        .write(&blob_path(&digest), content)
        .await
        .unwrap();
    h.clock
        .advance_ms(Duration::from_secs(61).as_millis() as i64);
    let done = replicator.run().await.unwrap();
    assert_eq!((done.blobs, done.copies), (1, 1), "{done:?}");
    let copied = eu.operator().read(&blob_path(&digest)).await.unwrap();
    assert_eq!(copied.to_vec(), content);
}

pub(crate) async fn collection_removes_every_copy(h: &Harness) {
    let path = repo("geo/app");
    let digest = upload(&h.registry, &path, b"short-lived").await;
    let replicator = h.objects.replicator().unwrap();
    assert_eq!(replicator.run().await.unwrap().copies, 1);
    assert_eq!(h.stored_objects("sha256/").await.len(), 1);

    // Queued again (a backfill), then collected before the replicator gets to it.
    assert_eq!(replicator.queue_every_blob().await.unwrap(), 1);
    h.registry
        .delete_blob(&path, &digest, &ANYONE)
        .await
        .unwrap();
    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!(reclaimed.blobs, 1, "{reclaimed:?}");
    for name in REGIONS {
        assert!(
            location(h, name)
                .blob_size(&digest)
                .await
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(replicator.run().await.unwrap(), Replicated::default());
    assert!(h.stored_objects("sha256/").await.is_empty());
}

pub(crate) async fn uploads_continue_across_locations(h: &Harness) {
    let path = repo("geo/app");
    let (first, second) = (vec![1u8; 70_000], vec![2u8; 50_000]);
    let whole = [first.as_slice(), second.as_slice()].concat();
    let digest = sha256(&whole);
    // The first node writes its part to `us`, the other to `eu`; the commit on the other
    // node gathers both into `eu`.
    let session = h.registry.start_upload(&path, &ANYONE).await.unwrap().id;
    h.registry
        .upload_chunk(&path, &session, None, body(&[&first]), &ANYONE)
        .await
        .unwrap();
    h.other_node
        .upload_chunk(&path, &session, None, body(&[&second]), &ANYONE)
        .await
        .unwrap();
    h.other_node
        .finish_upload(&path, &session, &digest, None, &ANYONE)
        .await
        .unwrap();
    assert!(
        location(h, "us")
            .blob_size(&digest)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        location(h, "eu").blob_size(&digest).await.unwrap(),
        Some(whole.len() as u64)
    );
    assert!(h.stored_objects("uploads/").await.is_empty());
    assert_eq!(pull(&h.registry, "geo/app", &digest).await, whole);
}

pub(crate) async fn a_failing_location_is_passed_over(h: &Harness) {
    let content = b"served from afar".as_slice();
    let digest = upload(&h.registry, &repo("geo/app"), content).await;
    h.objects.replicator().unwrap().run().await.unwrap();
    // The first node's preferred location fails (its directory became a file).
    let root = location(h, "us").operator().info().root().to_string();
    std::fs::remove_dir_all(&root).unwrap();
    std::fs::write(root.trim_end_matches('/'), b"not a directory").unwrap();

    assert_eq!(pull(&h.registry, "geo/app", &digest).await, content);
    assert_eq!(
        h.objects.blob_size(&digest).await.unwrap(),
        Some(content.len() as u64)
    );
    // Where no location holds a blob, the failure is the answer: the blob may be there.
    let elsewhere = sha256(b"never stored");
    assert!(matches!(
        h.objects.blob_size(&elsewhere).await,
        Err(quay_core::Error::StorageUnavailable { .. })
    ));
}
