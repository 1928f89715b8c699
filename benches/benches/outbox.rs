//! What the outbox adds to a manifest push: pushes per second to a repository without
//! notifications, and to one with a webhook notification of its pushes, whose every push
//! then writes an event and a delivery in its own transaction. In the same run.
//!
//! Run with `cargo bench -p quay-benches --bench outbox`. Each registry is the embedded
//! default (SQLite and the filesystem, in a temporary directory), and PostgreSQL too where
//! `QUAY_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`) is reachable,
//! driven through its use cases. The delivery worker does not run: what is measured is the
//! push, and the deliveries wait in the outbox. Rounds alternate between the two registries,
//! each going first in turn, so that both see the same machine.

mod common;

use quay_app::{App, AppSettings};
use quay_core::RegistrySettings;
use quay_core::audit::{Actor, LogKind};
use quay_core::events::EventScope;
use quay_core::events::notification::{EventNotification, NotificationRequest};
use quay_core::names::Namespace;
use quay_core::ports::EventNotificationStore as _;
use quay_storage::{MetadataOptions, SqlMetadata};
use serde_json::json;

use self::common::*;

/// Layers of every manifest: a small image's.
const LAYERS: usize = 5;
const ROUNDS: usize = 11;

/// A registry on `db_uri`, its repository watched by a webhook notification if `watched`.
async fn open(db_uri: &str, dir: &std::path::Path, watched: bool) -> App {
    let settings = AppSettings {
        registry: RegistrySettings {
            permissions: quay_core::permission::PermissionSettings {
                create_namespace_on_push: true,
                ..Default::default()
            },
            ..RegistrySettings::default()
        },
        open: true,
        ..AppSettings::default()
    };
    let storage = quay_storage::ObjectStorage::filesystem(&dir.join("storage")).unwrap();
    let backend = App::open(db_uri, storage.into(), settings).await.unwrap();
    upload(&backend.registry, &bench_repository(), b"{}".to_vec()).await;
    if watched {
        let namespace = Namespace::parse("bench").unwrap();
        let notification = EventNotification::new(
            "bench-webhook".into(),
            NotificationRequest {
                event: "repo_push".into(),
                method: "webhook".into(),
                config: json!({"url": "https://hooks.example.com/ci"}),
                event_config: json!({}),
                title: None,
            },
            EventScope::Repository,
            &namespace,
        )
        .unwrap();
        let namespace_id = backend.accounts.namespace(&namespace).await.unwrap().id;
        let repository = backend
            .accounts
            .repository(&bench_repository())
            .await
            .unwrap()
            .repository
            .id;
        // Added through the port: the benchmark has no admin to ask the API as.
        let store = SqlMetadata::connect(db_uri, &MetadataOptions::default(), Default::default())
            .await
            .unwrap();
        store
            .add_event_notification(
                namespace_id,
                Some(repository),
                &notification,
                None,
                Actor::system().entry(LogKind::AddRepoNotification, 0),
            )
            .await
            .unwrap();
    }
    backend
}

/// Pushes per second without and with a notification, the registries on `uris`.
async fn compare(label: &str, uris: [String; 2], dirs: [&std::path::Path; 2]) {
    let [without, with] = compared_rates(open, uris, dirs, LAYERS, ROUNDS).await;
    // The benchmark's report.
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{label}: manifest push: {without:.0}/s without a notification, {with:.0}/s with \
             one ({:+.1} % time per push; medians of {ROUNDS} rounds of {PUSHES_PER_ROUND})",
            (without / with - 1.0) * 100.0
        );
    }
}

fn main() {
    if !benchmarking() {
        return;
    }
    on_each_database("outbox", &compare);
}
