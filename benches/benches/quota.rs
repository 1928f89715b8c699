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

mod common;

use quay_app::{App, AppSettings};
use quay_core::RegistrySettings;
use quay_core::audit::{Actor, LogKind};
use quay_core::names::Namespace;
use quay_core::quota::{LimitKind, QuotaLimit, QuotaSettings};

use self::common::*;

const LAYERS: usize = 50;
const ROUNDS: usize = 7;

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
    upload(&backend.registry, &bench_repository(), b"{}".to_vec()).await;
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

/// Pushes per second without and with quota, the registries on the databases at `uris`.
async fn compare(label: &str, uris: [String; 2], dirs: [&std::path::Path; 2]) {
    let [off, on] = compared_rates(open, uris, dirs, LAYERS, ROUNDS).await;
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

fn main() {
    if !benchmarking() {
        return;
    }
    on_each_database("quota", &compare);
}
