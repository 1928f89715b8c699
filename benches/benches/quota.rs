//! What storage quota adds to a manifest push: pushes of a manifest with 50 layers per
//! second, with sizes kept and limits checked, and without, in the same run.
//!
//! Run with `cargo bench -p quay-benches --bench quota`. Each registry is the embedded
//! default (SQLite and the filesystem, in a temporary directory), and PostgreSQL too where
//! `QUAY_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`) is reachable,
//! driven through its use cases. Every push brings a new config blob (uploaded beforehand,
//! not timed), so that the namespace grows and the limits are evaluated each time; the 50
//! layers are shared by every push, so each push asks, for 51 blobs, whether another
//! manifest of the repository and of the namespace has it. Rounds alternate between the
//! two registries so that both see the same machine.

use std::time::Instant;

use bytes::Bytes;
use futures::stream;
use quay_app::{App, AppSettings};
use quay_core::access::Caller;
use quay_core::audit::{Actor, LogKind};
use quay_core::hash::digest_of;
use quay_core::names::Namespace;
use quay_core::quota::{LimitKind, QuotaLimit, QuotaSettings};
use quay_core::{DigestAlgorithm, Reference, Registry, RegistrySettings, RepositoryPath, TagName};
use sea_orm::ConnectionTrait;

const LAYERS: usize = 50;
const PUSHES_PER_ROUND: usize = 200;
const ROUNDS: usize = 7;

async fn upload(registry: &Registry, path: &RepositoryPath, content: Vec<u8>) -> (String, usize) {
    let digest = digest_of(DigestAlgorithm::Sha256, &content);
    let size = content.len();
    let body = Box::pin(stream::iter([Ok(Bytes::from(content))]));
    registry
        .upload_blob(path, &digest, body, &Caller::ANONYMOUS)
        .await
        .unwrap();
    (digest.to_string(), size)
}

fn descriptor(media_type: &str, (digest, size): &(String, usize)) -> String {
    format!(r#"{{"mediaType":"{media_type}","digest":"{digest}","size":{size}}}"#)
}

/// A registry on `db_uri`, with quota on or off; with quota on, the namespace has a quota
/// far above what the benchmark stores, with a Warning and a Reject limit.
async fn open(db_uri: &str, dir: &std::path::Path, quota_on: bool) -> App {
    let quota = QuotaSettings {
        management: quota_on,
        verify: quota_on,
        system_reject_bytes: 0,
    };
    let settings = AppSettings {
        registry: RegistrySettings {
            permissions: quay_core::permission::PermissionSettings {
                create_namespace_on_push: true,
                ..Default::default()
            },
            quota,
            ..RegistrySettings::default()
        },
        open: true,
        ..AppSettings::default()
    };
    let storage = quay_storage::ObjectStorage::filesystem(&dir.join("storage")).unwrap();
    let backend = App::open(db_uri, storage.into(), settings).await.unwrap();
    let path = RepositoryPath::parse("bench/app").unwrap();
    upload(&backend.registry, &path, b"{}".to_vec()).await;
    if quota_on {
        let accounts = &backend.accounts;
        let namespace = accounts
            .namespace(&Namespace::parse("bench").unwrap())
            .await
            .unwrap();
        // Set through the port: the benchmark has no superuser to ask the API as.
        let audit = || Actor::system().entry(LogKind::OrgCreateQuota, 0);
        let quotas = &backend.directory;
        quotas
            .create_quota(namespace.id, 1 << 50, audit())
            .await
            .unwrap();
        let quota = accounts.quota(namespace.id).await.unwrap().unwrap();
        for (kind, percent) in [(LimitKind::Warning, 80), (LimitKind::Reject, 100)] {
            let limit = QuotaLimit::new(kind, percent).unwrap();
            quotas
                .create_quota_limit(quota.id, limit, audit())
                .await
                .unwrap();
        }
    }
    backend
}

/// Pushes per second of one round of [`PUSHES_PER_ROUND`] manifests.
async fn round(registry: &Registry, layers: &[(String, usize)], round: usize) -> f64 {
    let path = RepositoryPath::parse("bench/app").unwrap();
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

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Pushes per second without and with quota, the registries on the databases at `uris`.
async fn compare(label: &str, uris: [String; 2], dirs: [&std::path::Path; 2]) {
    let without = open(&uris[0], dirs[0], false).await;
    let with = open(&uris[1], dirs[1], true).await;
    let path = RepositoryPath::parse("bench/app").unwrap();
    let mut layers = Vec::new();
    for layer in 0..LAYERS {
        let content = vec![u8::try_from(layer).unwrap(); 1024 + layer];
        layers.push(upload(&without.registry, &path, content.clone()).await);
        upload(&with.registry, &path, content).await;
    }
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for n in 0..ROUNDS {
        off.push(round(&without.registry, &layers, n).await);
        on.push(round(&with.registry, &layers, n).await);
    }
    let (off, on) = (median(off), median(on));
    // The benchmark's report.
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{label}: manifest push with {LAYERS} layers: {off:.0}/s without quota, \
             {on:.0}/s with quota ({:+.1} %; medians of {ROUNDS} rounds of \
             {PUSHES_PER_ROUND})",
            (on / off - 1.0) * 100.0
        );
    }
}

/// Two fresh databases on the PostgreSQL server, and the connection that drops them.
async fn postgres_databases() -> Option<(sea_orm::DatabaseConnection, [String; 2], [String; 2])> {
    let admin_uri = std::env::var("QUAY_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let admin = sea_orm::Database::connect(&admin_uri).await.ok()?;
    let base = admin_uri
        .rsplit_once('/')
        .map_or(admin_uri.as_str(), |(base, _)| base);
    let names =
        ["off", "on"].map(|variant| format!("quay_bench_quota_{variant}_{}", std::process::id()));
    for name in &names {
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .ok()?;
    }
    let uris = names.clone().map(|name| format!("{base}/{name}"));
    Some((admin, names, uris))
}

fn main() {
    // Without `--bench` this binary is being listed or run as a test (`cargo test`,
    // `cargo nextest --all-targets`): it has no tests, and the benchmark takes a minute.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
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
        if let Some((admin, names, uris)) = postgres_databases().await {
            let (off, on) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            compare("PostgreSQL", uris, [off.path(), on.path()]).await;
            for name in names {
                admin
                    .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
                    .await
                    .unwrap();
            }
        }
    });
}
