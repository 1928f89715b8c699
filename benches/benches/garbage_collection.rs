//! What a garbage collection costs, and that it grows with the garbage, not the registry:
//! the same 1,000 deleted images collected beside 1,000 live tags and beside 100,000.
//!
//! Run with `cargo bench -p quay-benches --bench garbage_collection`. The registry is the
//! embedded default (SQLite and the filesystem, in a temporary directory), driven through
//! its use cases; the time-machine window is zero, so every deleted tag is garbage.

use std::time::Instant;

use bytes::Bytes;
use futures::stream;
use quay_core::access::Caller;
use quay_core::audit::LogKind;
use quay_core::hash::digest_of;
use quay_core::names::Namespace;
use quay_core::{DigestAlgorithm, Reference, Registry, RegistrySettings, RepositoryPath, TagName};

const GARBAGE: usize = 1_000;
const ROUNDS: usize = 5;

async fn upload(registry: &Registry, path: &RepositoryPath, content: Vec<u8>) -> String {
    let digest = digest_of(DigestAlgorithm::Sha256, &content);
    let body = Box::pin(stream::iter([Ok(Bytes::from(content))]));
    registry
        .upload_blob(path, &digest, body, &Caller::ANONYMOUS)
        .await
        .unwrap();
    digest.to_string()
}

/// Pushes an image with its own config and layer under `tag`.
async fn push_image(registry: &Registry, path: &RepositoryPath, tag: &str, seed: usize) {
    let config = format!("{{\"seed\":{seed}}}").into_bytes();
    let layer = format!("layer {seed}").into_bytes();
    let (config_len, layer_len) = (config.len(), layer.len());
    let config = upload(registry, path, config).await;
    let layer = upload(registry, path, layer).await;
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{config_len}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer}","size":{layer_len}}}]}}"#
    );
    registry
        .put_manifest(
            path,
            &Reference::Tag(TagName::parse(tag).unwrap()),
            None,
            Bytes::from(manifest),
            &Caller::ANONYMOUS,
        )
        .await
        .unwrap();
}

/// Collection time with `live` tags kept and [`GARBAGE`] deleted images to reclaim.
async fn measure(live: usize) {
    let dir = tempfile::tempdir().unwrap();
    let settings = RegistrySettings {
        permissions: quay_core::permission::PermissionSettings {
            create_namespace_on_push: true,
            ..Default::default()
        },
        ..RegistrySettings::default()
    };
    let settings = quay_app::AppSettings {
        registry: settings,
        open: true,
        ..Default::default()
    };
    let backend = quay_app::App::embedded(dir.path(), settings).await.unwrap();
    let registry = &backend.registry;
    let kept = RepositoryPath::parse("bench/kept").unwrap();
    let collected = RepositoryPath::parse("bench/collected").unwrap();
    push_image(registry, &kept, "live-0", 0).await;
    // The live tags share one manifest: what matters is how many tag rows there are.
    let manifest = registry
        .manifest(
            &kept,
            &Reference::Tag(TagName::parse("live-0").unwrap()),
            &Caller::ANONYMOUS,
        )
        .await
        .unwrap();
    for n in 1..live {
        registry
            .put_manifest(
                &kept,
                &Reference::Tag(TagName::parse(&format!("live-{n}")).unwrap()),
                None,
                manifest.manifest.bytes.clone(),
                &Caller::ANONYMOUS,
            )
            .await
            .unwrap();
    }
    let namespace = backend
        .accounts
        .namespace(&Namespace::parse("bench").unwrap())
        .await
        .unwrap();
    // Deleted tags go at the next collection: no time-machine window.
    let audit = Caller::ANONYMOUS
        .actor
        .entry(LogKind::OrgChangeTagExpiration, 0);
    backend
        .directory
        .set_tag_expiration(namespace.id, 0, audit)
        .await
        .unwrap();
    let mut times_ms = Vec::new();
    for round in 0..ROUNDS {
        for n in 0..GARBAGE {
            let tag = format!("gone-{n}");
            push_image(registry, &collected, &tag, round * GARBAGE + n + 1).await;
            registry
                .delete_manifest(
                    &collected,
                    &Reference::Tag(TagName::parse(&tag).unwrap()),
                    &Caller::ANONYMOUS,
                )
                .await
                .unwrap();
        }
        // The deleted images' upload links lapse after an hour; this measures the tag and
        // manifest phases, and the blob phase checking what the manifests referenced.
        let started = Instant::now();
        let reclaimed = backend.collector.collect().await.unwrap();
        times_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(reclaimed.manifests as usize, GARBAGE);
    }
    times_ms.sort_by(f64::total_cmp);
    // The benchmark's report.
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{live:>7} live tags, {GARBAGE} deleted images: collected in {:.1} ms \
             (median of {ROUNDS}; all: {times_ms:.1?})",
            times_ms[ROUNDS / 2]
        );
    }
}

fn main() {
    // Without `--bench` this binary is being listed or run as a test (`cargo test`,
    // `cargo nextest --all-targets`): it has no tests, and the benchmark takes minutes.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for live in [1_000, 100_000] {
        runtime.block_on(measure(live));
    }
}
