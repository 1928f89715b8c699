//! What the push benchmarks share (`quota`, `outbox`): blobs and manifests made through the
//! registry's use cases, timed rounds of manifest pushes, and fresh PostgreSQL databases.

use std::time::Instant;

use bytes::Bytes;
use futures::stream;
use quay_core::access::Caller;
use quay_core::hash::digest_of;
use quay_core::{DigestAlgorithm, Reference, Registry, RepositoryPath, TagName};
use sea_orm::ConnectionTrait;

/// Manifests pushed, and timed, in one round.
pub(crate) const PUSHES_PER_ROUND: usize = 200;

/// The repository every push goes to.
pub(crate) fn bench_repository() -> RepositoryPath {
    RepositoryPath::parse("bench/app").unwrap()
}

/// Uploads `content` as a blob of `path`; its digest and size.
pub(crate) async fn upload(
    registry: &Registry,
    path: &RepositoryPath,
    content: Vec<u8>,
) -> (String, usize) {
    let digest = digest_of(DigestAlgorithm::Sha256, &content);
    let size = content.len();
    let body = Box::pin(stream::iter([Ok(Bytes::from(content))]));
    registry
        .upload_blob(path, &digest, body, &Caller::ANONYMOUS)
        .await
        .unwrap();
    (digest.to_string(), size)
}

/// A descriptor of a blob of `media_type`.
pub(crate) fn descriptor(media_type: &str, (digest, size): &(String, usize)) -> String {
    format!(r#"{{"mediaType":"{media_type}","digest":"{digest}","size":{size}}}"#)
}

/// Pushes per second of one round of [`PUSHES_PER_ROUND`] manifests on `layers`, each with
/// a config of its own (uploaded before the clock starts), to ten tags in turn.
async fn round(registry: &Registry, layers: &[(String, usize)], round: usize) -> f64 {
    let path = bench_repository();
    let layers: Vec<String> = layers
        .iter()
        .map(|layer| descriptor("application/vnd.oci.image.layer.v1.tar", layer))
        .collect();
    let mut manifests = Vec::new();
    for push in 0..PUSHES_PER_ROUND {
        let config = upload(
            registry,
            &path,
            format!("{{\"round\":{round},\"push\":{push}}}").into_bytes(),
        )
        .await;
        manifests.push(Bytes::from(format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[{}]}}"#,
            descriptor("application/vnd.oci.image.config.v1+json", &config),
            layers.join(",")
        )));
    }
    let started = Instant::now();
    for (push, manifest) in manifests.into_iter().enumerate() {
        let tag = Reference::Tag(TagName::parse(&format!("t{}", push % 10)).unwrap());
        registry
            .put_manifest(&path, &tag, None, manifest, &Caller::ANONYMOUS)
            .await
            .unwrap();
    }
    PUSHES_PER_ROUND as f64 / started.elapsed().as_secs_f64()
}

/// Uploads `count` layers (1 KiB and a little more each) to each of `registries`; their
/// digests and sizes.
async fn shared_layers(registries: [&Registry; 2], count: usize) -> Vec<(String, usize)> {
    let path = bench_repository();
    let mut layers = Vec::new();
    for layer in 0..count {
        let content = vec![u8::try_from(layer).unwrap(); 1024 + layer];
        layers.push(upload(registries[0], &path, content.clone()).await);
        upload(registries[1], &path, content).await;
    }
    layers
}

/// The median pushes per second of `rounds` rounds on each of `registries`, rounds of the
/// two alternating, each going first in turn: the second of a pair meets the disk the
/// first left.
async fn paired_rounds(
    registries: [&Registry; 2],
    layers: &[(String, usize)],
    rounds: usize,
) -> [f64; 2] {
    let mut rates = [Vec::new(), Vec::new()];
    for n in 0..rounds {
        let order = if n % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            rates[which].push(round(registries[which], layers, n).await);
        }
    }
    rates.map(median)
}

/// Median pushes per second of two registries on `uris` (with blobs in `dirs`), opened by
/// `open` without (`false`) and with (`true`) what is measured, pushing manifests of
/// `layers` shared layers, `rounds` rounds each.
pub(crate) async fn compared_rates(
    open: impl AsyncFn(&str, &std::path::Path, bool) -> quay_app::App,
    uris: [String; 2],
    dirs: [&std::path::Path; 2],
    layers: usize,
    rounds: usize,
) -> [f64; 2] {
    let without = open(&uris[0], dirs[0], false).await;
    let with = open(&uris[1], dirs[1], true).await;
    let registries = [&*without.registry, &*with.registry];
    let layers = shared_layers(registries, layers).await;
    paired_rounds(registries, &layers, rounds).await
}

/// The median of `values`.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Two fresh databases named after `bench` on the PostgreSQL server of
/// `QUAY_TEST_POSTGRES`, if it is reachable: the connection that drops them, their names
/// and URIs.
async fn postgres_databases(
    bench: &str,
) -> Option<(sea_orm::DatabaseConnection, [String; 2], [String; 2])> {
    let admin_uri = std::env::var("QUAY_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let admin = sea_orm::Database::connect(&admin_uri).await.ok()?;
    let base = admin_uri
        .rsplit_once('/')
        .map_or(admin_uri.as_str(), |(base, _)| base);
    let names =
        ["off", "on"].map(|variant| format!("quay_bench_{bench}_{variant}_{}", std::process::id()));
    for name in &names {
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .ok()?;
    }
    let uris = names.clone().map(|name| format!("{base}/{name}"));
    Some((admin, names, uris))
}

/// Drops the databases [`postgres_databases`] made.
async fn drop_databases(admin: &sea_orm::DatabaseConnection, names: [String; 2]) {
    for name in names {
        admin
            .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .await
            .unwrap();
    }
}

/// Runs `compare` on two fresh registries' databases: SQLite files, then, where it is
/// reachable, PostgreSQL; each with a directory for its blobs.
pub(crate) fn on_each_database(
    bench: &str,
    compare: &impl AsyncFn(&str, [String; 2], [&std::path::Path; 2]),
) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (off, on) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let sqlite =
            |dir: &tempfile::TempDir| format!("sqlite://{}", dir.path().join("quay.db").display());
        compare(
            "SQLite",
            [sqlite(&off), sqlite(&on)],
            [off.path(), on.path()],
        )
        .await;
        if let Some((admin, names, uris)) = postgres_databases(bench).await {
            let (off, on) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            compare("PostgreSQL", uris, [off.path(), on.path()]).await;
            drop_databases(&admin, names).await;
        }
    });
}

/// Whether this run is the benchmark: without `--bench` the binary is being listed or run
/// as a test (`cargo test`, `cargo nextest --all-targets`), and has no tests.
pub(crate) fn benchmarking() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}
