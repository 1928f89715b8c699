//! The blob path through the whole HTTP stack: a real server on 127.0.0.1 (SQLite metadata,
//! filesystem blobs under a temporary directory) and a reqwest client, in one process.
//!
//! Each upload sends a blob the server has not seen (prepared, with its digest, outside the
//! measurement), so the measurement covers streaming, hashing, writing and committing, not
//! the shortcut for blobs that already exist.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use quay_core::hash::digest_of;
use quay_core::{Digest, DigestAlgorithm, RegistrySettings};
use reqwest::StatusCode;

const BLOB_SIZE: usize = 8 * 1024 * 1024;
const CHUNK_SIZE: usize = 1024 * 1024;

struct Server {
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        // An open registry: anyone may push, pushes create their namespaces.
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
        let registry = quay_app::App::embedded(dir.path(), settings)
            .await
            .unwrap()
            .registry;
        let state = quay_http::AppState::new(registry);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, quay_http::router(state)).await });
        Self {
            base,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    async fn monolithic(&self, blob: Bytes, digest: &Digest) {
        let url = format!(
            "{}/v2/bench/blobs/blobs/uploads/?digest={digest}",
            self.base
        );
        let response = self.http.post(url).body(blob).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    async fn chunked(&self, blob: Bytes, digest: &Digest) {
        let start = self
            .http
            .post(format!("{}/v2/bench/blobs/blobs/uploads/", self.base))
            .send()
            .await
            .unwrap();
        let mut location = start.headers()["location"].to_str().unwrap().to_string();
        for (index, chunk) in blob.chunks(CHUNK_SIZE).enumerate() {
            let first = index * CHUNK_SIZE;
            let response = self
                .http
                .patch(format!("{}{location}", self.base))
                .header(
                    "content-range",
                    format!("{first}-{}", first + chunk.len() - 1),
                )
                .body(blob.slice(first..first + chunk.len()))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::ACCEPTED);
            location = response.headers()["location"].to_str().unwrap().to_string();
        }
        let url = format!("{}{location}?digest={digest}", self.base);
        let response = self.http.put(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    async fn download(&self, digest: &Digest) -> usize {
        let url = format!("{}/v2/bench/blobs/blobs/{digest}", self.base);
        let response = self.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.unwrap().len()
    }
}

/// A blob nobody has uploaded yet, and its digest.
fn fresh_blob() -> (Bytes, Digest) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut content = vec![0x5a; BLOB_SIZE];
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    content[..8].copy_from_slice(&n.to_le_bytes());
    content[BLOB_SIZE - 8..].copy_from_slice(&std::process::id().to_le_bytes().repeat(2));
    let digest = digest_of(DigestAlgorithm::Sha256, &content);
    (Bytes::from(content), digest)
}

fn blob_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(Server::start());
    let mut group = c.benchmark_group("blob_path");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(BLOB_SIZE as u64));

    group.bench_function("upload_monolithic_8MiB", |b| {
        b.to_async(&runtime).iter_batched(
            fresh_blob,
            |(blob, digest)| {
                let server = &server;
                async move { server.monolithic(blob, &digest).await }
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("upload_chunked_8MiB_in_1MiB", |b| {
        b.to_async(&runtime).iter_batched(
            fresh_blob,
            |(blob, digest)| {
                let server = &server;
                async move { server.chunked(blob, &digest).await }
            },
            BatchSize::PerIteration,
        );
    });

    let (blob, digest) = fresh_blob();
    runtime.block_on(server.monolithic(blob, &digest));
    group.bench_function("download_8MiB", |b| {
        b.to_async(&runtime).iter(|| server.download(&digest));
    });
    group.finish();
}

criterion_group!(benches, blob_path);
criterion_main!(benches);
