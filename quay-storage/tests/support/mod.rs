//! The backend test harness: a [`Registry`] on real stores, chosen per test, with a clock the
//! test moves.
//!
//! PostgreSQL is the machine's server (`QUAY_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/test`); each test gets a database of its own, dropped
//! when the test ends. Where PostgreSQL is not reachable its tests are skipped, unless
//! `QUAY_REQUIRE_SERVICES=1` (as in CI), which turns the skip into a failure.

#![allow(dead_code, unreachable_pub, missing_docs)]

mod services;

pub use self::services::*;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bytes::Bytes;
use futures::StreamExt;
use quay_core::Accounts;
use quay_core::access::{AllowAll, Caller};
use quay_core::audit::{Actor, LogKind};
use quay_core::clock::Clock;
use quay_core::gc::{CollectorSettings, GarbageCollector};
use quay_core::hash::digest_of;
use quay_core::ports::{AccountStore, ByteStream, MetadataStores, RepositoryCollection};
use quay_core::quota::QuotaSettings;
use quay_core::{
    Digest, DigestAlgorithm, Reference, Registry, RegistrySettings, RepositoryPath, Stores,
};
use quay_storage::{
    CacheOptions, CachedMetadata, DistributedStorage, MetadataOptions, ObjectStorage, PullLog,
    SqlMetadata, StorageLocation, StorageLocations,
};

/// A clock that only moves when told to.
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Metadata {
    Sqlite,
    Postgres,
    /// SQLite behind the cache, shared by both nodes (one process serving two registries).
    SqliteCached,
}

#[derive(Clone, Copy, Debug)]
pub enum Objects {
    Filesystem,
    Memory,
    /// A bucket on an S3-compatible server (moto) that the harness starts.
    S3,
    /// Two directories, `us` and `eu`, replicated to each other: the first node prefers
    /// `us`, the other `eu`, so that every scenario crosses locations.
    Replicated,
}

/// The locations of [`Objects::Replicated`], in the first node's order of preference.
pub const REGIONS: [&str; 2] = ["us", "eu"];

/// A registry on real stores, and a second node on the same stores.
pub struct Harness {
    pub registry: Registry,
    pub other_node: Registry,
    /// Accounts, permissions and the usage log of the same database.
    pub directory: Arc<SqlMetadata>,
    /// The first node's metadata (cached, where the harness caches).
    pub metadata: MetadataStores,
    /// Tenancy's use cases on the first node's stores.
    pub accounts: Accounts,
    pub pull_log: Arc<PullLog>,
    pub clock: Arc<TestClock>,
    /// The first node's blob storage.
    pub objects: DistributedStorage,
    /// Where the metadata is, for further nodes of a scenario's own.
    pub database_uri: String,
    /// What the first node's collector collects repositories through (its cache, where it
    /// caches).
    collection: Arc<dyn RepositoryCollection>,
    _s3: Option<S3Server>,
    _dir: tempfile::TempDir,
    postgres_database: Option<String>,
}

/// Quota as the harness runs it: sizes kept, pushes checked, no system default.
pub const QUOTA: QuotaSettings = QuotaSettings {
    management: true,
    verify: true,
    system_reject_bytes: 0,
};

impl Harness {
    /// A harness, or `None` when its database is not reachable (and not required).
    /// An open registry: pushes create their namespaces.
    /// Sizes are kept and quotas enforced, so that every scenario also moves the sizes.
    pub async fn new(metadata: Metadata, objects: Objects) -> Option<Self> {
        let settings = RegistrySettings {
            permissions: quay_core::permission::PermissionSettings {
                create_namespace_on_push: true,
                ..Default::default()
            },
            quota: QUOTA,
            ..RegistrySettings::default()
        };
        Self::with_settings(metadata, objects, settings).await
    }

    pub async fn with_settings(
        metadata: Metadata,
        objects: Objects,
        settings: RegistrySettings,
    ) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let (uri, postgres_database) = match metadata {
            Metadata::Sqlite | Metadata::SqliteCached => (
                format!("sqlite://{}", dir.path().join("registry.db").display()),
                None,
            ),
            Metadata::Postgres => {
                let name = match create_postgres_database().await {
                    Ok(name) => name,
                    Err(error) => {
                        unavailable("PostgreSQL", error);
                        return None;
                    }
                };
                (postgres_uri(&name), Some(name))
            }
        };
        let options = MetadataOptions::default();
        let first = SqlMetadata::connect(&uri, &options, settings.quota)
            .await
            .unwrap();
        let directory = Arc::new(first.clone());
        let (first, second, collection): (
            MetadataStores,
            MetadataStores,
            Arc<dyn RepositoryCollection>,
        ) = match metadata {
            Metadata::SqliteCached => {
                let cached = Arc::new(CachedMetadata::new(first, &CacheOptions::default()));
                let stores = CachedMetadata::stores(&cached);
                (stores.clone(), stores, cached)
            }
            _ => (
                MetadataStores::on(&Arc::new(first)),
                MetadataStores::on(&Arc::new(
                    SqlMetadata::connect(&uri, &options, settings.quota)
                        .await
                        .unwrap(),
                )),
                directory.clone(),
            ),
        };
        let pull_log = Arc::new(PullLog::start(directory.clone()));
        let clock = Arc::new(TestClock(AtomicI64::new(1_700_000_000_000)));
        let mut s3 = None;
        let (plan, other_plan) = match objects {
            Objects::Filesystem => (
                ObjectStorage::filesystem(&dir.path().join("blobs"))
                    .unwrap()
                    .into(),
                ObjectStorage::filesystem(&dir.path().join("blobs"))
                    .unwrap()
                    .into(),
            ),
            Objects::Memory => {
                let memory = ObjectStorage::memory();
                (memory.clone().into(), memory.into())
            }
            Objects::S3 => {
                let server = match S3Server::start() {
                    Ok(server) => server,
                    Err(error) => {
                        unavailable("S3 (moto_server)", error);
                        return None;
                    }
                };
                // Each node has its own client on the same bucket.
                let plans = (server.storage().into(), server.storage().into());
                s3 = Some(server);
                plans
            }
            Objects::Replicated => {
                let plan = |order: [&str; 2]| StorageLocations {
                    locations: order
                        .iter()
                        .map(|name| StorageLocation {
                            name: (*name).to_string(),
                            storage: ObjectStorage::filesystem(&dir.path().join(name)).unwrap(),
                        })
                        .collect(),
                    replicate_to: REGIONS.map(String::from).to_vec(),
                };
                let [us, eu] = REGIONS;
                (plan([us, eu]), plan([eu, us]))
            }
        };
        let storage = |plan: StorageLocations| {
            DistributedStorage::new(plan, (*directory).clone())
                .unwrap()
                .with_clock(clock.clone())
        };
        let (objects, other_objects) = (storage(plan), storage(other_plan));
        let node = |metadata: MetadataStores, objects: DistributedStorage| {
            let objects = Arc::new(objects);
            let stores = Stores {
                metadata,
                accounts: directory.clone(),
                blobs: objects.clone(),
                uploads: objects,
                pull_log: pull_log.clone(),
            };
            Registry::new(stores, Arc::new(AllowAll), settings.clone()).with_clock(clock.clone())
        };
        let accounts = Accounts::new(directory.clone(), &first, settings.permissions)
            .with_clock(clock.clone());
        Some(Self {
            metadata: first.clone(),
            accounts,
            registry: node(first, objects.clone()),
            other_node: node(second, other_objects),
            directory,
            pull_log,
            clock,
            objects,
            database_uri: uri,
            collection,
            _s3: s3,
            _dir: dir,
            postgres_database,
        })
    }

    /// Drops the test's PostgreSQL database.
    pub async fn finish(self) {
        let Some(name) = self.postgres_database else {
            return;
        };
        drop(self.registry);
        drop(self.other_node);
        drop_postgres_database(&name).await;
    }

    /// A garbage collector on the harness's stores and clock.
    pub fn collector(&self) -> GarbageCollector {
        let objects = Arc::new(self.objects.clone());
        GarbageCollector::new(
            self.collection.clone(),
            self.directory.clone(),
            objects.clone(),
            objects,
            CollectorSettings::default(),
        )
        .with_clock(self.clock.clone())
    }

    /// Sets the time-machine window of namespace `name`.
    pub async fn set_window(&self, name: &str, seconds: i64) {
        let namespace = self
            .accounts
            .namespace(&quay_core::names::Namespace::parse(name).unwrap())
            .await
            .unwrap();
        let audit = Actor::system().entry(LogKind::OrgChangeTagExpiration, 0);
        self.directory
            .set_tag_expiration(namespace.id, seconds, audit)
            .await
            .unwrap();
    }

    /// Names of the objects under `prefix` in any storage location, recursively.
    pub async fn stored_objects(&self, prefix: &str) -> Vec<String> {
        let mut found = BTreeSet::new();
        for location in self.objects.locations() {
            found.extend(stored_objects(&location.storage, prefix).await);
        }
        found.into_iter().collect()
    }
}

/// Names of the objects under `prefix` in `storage`, recursively.
pub async fn stored_objects(storage: &ObjectStorage, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(mut lister) = storage.operator().lister_with(prefix).recursive(true).await else {
        return found;
    };
    while let Some(entry) = lister.next().await {
        let entry = entry.unwrap();
        if entry.metadata().is_file() {
            found.push(entry.path().to_string());
        }
    }
    found
}

/// Nobody in particular: the actor of tests that are not about who acts.
pub const NOBODY: Actor = Actor {
    performer: None,
    ip: None,
    user_agent: None,
};

/// Anyone at all: the caller of the (open) registry in tests that are not about who calls.
pub const ANYONE: Caller = Caller::ANONYMOUS;

pub fn repo(path: &str) -> RepositoryPath {
    RepositoryPath::parse(path).unwrap()
}

pub fn tag(name: &str) -> Reference {
    Reference::parse(name).unwrap()
}

pub fn sha256(bytes: &[u8]) -> Digest {
    digest_of(DigestAlgorithm::Sha256, bytes)
}

/// A body that arrives in the given pieces.
pub fn body(pieces: &[&[u8]]) -> ByteStream {
    let pieces: Vec<std::io::Result<Bytes>> = pieces
        .iter()
        .map(|p| Ok(Bytes::copy_from_slice(p)))
        .collect();
    futures::stream::iter(pieces).boxed()
}

/// A body that breaks off with an error after `bytes`.
pub fn broken_body(bytes: &[u8]) -> ByteStream {
    let pieces: Vec<std::io::Result<Bytes>> = vec![
        Ok(Bytes::copy_from_slice(bytes)),
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "client went away",
        )),
    ];
    futures::stream::iter(pieces).boxed()
}

pub async fn read_all(mut stream: ByteStream) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(chunk) = stream.next().await {
        all.extend_from_slice(&chunk.unwrap());
    }
    all
}

/// The alive tags of `path`, by name, as `tags/list` shows them.
pub async fn tag_names(registry: &Registry, path: &RepositoryPath) -> Vec<String> {
    registry
        .tags(path, None, None, &ANYONE)
        .await
        .unwrap()
        .items
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Uploads `content` to `path` in one request.
pub async fn upload(registry: &Registry, path: &RepositoryPath, content: &[u8]) -> Digest {
    let digest = sha256(content);
    registry
        .upload_blob(path, &digest, body(&[content]), &ANYONE)
        .await
        .unwrap();
    digest
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// An OCI image manifest over the given config and layers.
pub fn image_manifest(config: &[u8], layers: &[&[u8]], extra: &str) -> Bytes {
    let layers: Vec<String> = layers
        .iter()
        .map(|layer| {
            format!(
                r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}"#,
                sha256(layer),
                layer.len()
            )
        })
        .collect();
    Bytes::from(format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{}]{extra}}}"#,
        sha256(config),
        config.len(),
        layers.join(",")
    ))
}

/// Uploads the blobs of an image and pushes its manifest under `reference`.
pub async fn push_image(
    registry: &Registry,
    path: &RepositoryPath,
    reference: &str,
    config: &[u8],
    layers: &[&[u8]],
) -> Digest {
    for blob in std::iter::once(config).chain(layers.iter().copied()) {
        upload(registry, path, blob).await;
    }
    let manifest = image_manifest(config, layers, "");
    registry
        .put_manifest(path, &tag(reference), Some(OCI_MANIFEST), manifest, &ANYONE)
        .await
        .unwrap()
        .digest
}

/// An OCI index of the given manifests.
pub fn index_manifest(children: &[(&Digest, usize)]) -> Bytes {
    let entries: Vec<String> = children
        .iter()
        .map(|(digest, size)| {
            format!(r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{digest}","size":{size}}}"#)
        })
        .collect();
    Bytes::from(format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#,
        entries.join(",")
    ))
}
