//! A proxy cache organization against its upstream, both real servers on 127.0.0.1 in one
//! process (SQLite, filesystem blobs): a warm cached manifest GET against a GET of the same
//! manifest pushed locally (the target: within 10 %), and a cold pull's time to the first
//! byte of an 8 MiB layer through the cache against the same from the upstream directly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;
use quay_app::{App, AppSettings, OutboundPolicy};
use quay_core::audit::Actor;
use quay_core::audit::LogKind;
use quay_core::hash::digest_of;
use quay_core::names::Namespace;
use quay_core::proxy::{ProxyCache, ProxyCacheRequest};
use quay_core::{Digest, DigestAlgorithm, RegistrySettings};
use reqwest::StatusCode;

const LAYER_SIZE: usize = 8 * 1024 * 1024;
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A registry served on 127.0.0.1.
struct Server {
    base: String,
    app: App,
    _dir: tempfile::TempDir,
}

impl Server {
    /// An open registry (anyone pushes, pushes create namespaces), proxying if `proxy`.
    async fn start(proxy: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let registry = RegistrySettings {
            permissions: quay_core::permission::PermissionSettings {
                create_namespace_on_push: true,
                ..Default::default()
            },
            ..RegistrySettings::default()
        };
        let mut settings = AppSettings {
            registry,
            open: true,
            proxy_cache: proxy,
            ..Default::default()
        };
        settings.deliveries.outbound = OutboundPolicy::allowing(["127.0.0.1".to_string()]);
        let app = App::embedded(dir.path(), settings).await.unwrap();
        let state = quay_http::AppState::new(app.registry.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, quay_http::router(state)).await });
        Self {
            base,
            app,
            _dir: dir,
        }
    }

    /// Makes organization `name` a proxy cache of `upstream` (plain HTTP, tags kept a day).
    async fn cache_of(&self, name: &str, upstream: &str) {
        let namespace = Namespace::parse(name).unwrap();
        let audit = Actor::system().entry(LogKind::OrgCreate, 0);
        let organization = self
            .app
            .directory
            .create_organization(&namespace, None, None, audit, 0)
            .await
            .unwrap();
        let (cache, _) = ProxyCache::from_request(ProxyCacheRequest {
            upstream_registry: upstream.to_string(),
            username: None,
            password: None,
            expiration_s: None,
            insecure: true,
        })
        .unwrap();
        let audit = Actor::system().entry(LogKind::CreateProxyCacheConfig, 0);
        self.app
            .directory
            .add_proxy_cache(organization.id, &cache, None, audit)
            .await
            .unwrap();
    }

    /// Pushes an image of one fresh 8 MiB layer as `repository:tag`; the layer's digest.
    async fn push_image(&self, http: &reqwest::Client, repository: &str, tag: &str) -> Digest {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut layer = vec![0x5a; LAYER_SIZE];
        layer[..8].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
        let mut descriptors = Vec::new();
        for blob in [config, layer] {
            let digest = digest_of(DigestAlgorithm::Sha256, &blob);
            descriptors.push((digest.clone(), blob.len()));
            let url = format!(
                "{}/v2/{repository}/blobs/uploads/?digest={digest}",
                self.base
            );
            let response = http.post(url).body(blob).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::CREATED);
        }
        let [(config, config_size), (layer, layer_size)] = &descriptors[..] else {
            unreachable!()
        };
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{config_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer}","size":{layer_size}}}]}}"#
        );
        let response = http
            .put(format!("{}/v2/{repository}/manifests/{tag}", self.base))
            .header("content-type", MANIFEST)
            .body(manifest)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        layer.clone()
    }
}

async fn get_manifest(http: &reqwest::Client, url: &str) {
    let response = http
        .get(url)
        .header("accept", MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.bytes().await.unwrap();
}

/// The time from asking for the blob at `url` to its first byte; the rest is read after.
async fn first_byte(http: &reqwest::Client, url: &str) -> Duration {
    let started = Instant::now();
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.bytes_stream();
    body.next().await.unwrap().unwrap();
    let elapsed = started.elapsed();
    while body.next().await.is_some() {}
    elapsed
}

fn proxy_cache(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let (upstream, cache) = runtime.block_on(async {
        let upstream = Server::start(false).await;
        let cache = Server::start(true).await;
        cache
            .cache_of("hub", upstream.base.trim_start_matches("http://"))
            .await;
        upstream.push_image(&http, "library/app", "v1").await;
        cache.push_image(&http, "local/app", "v1").await;
        // Cached once: every GET after this is warm.
        get_manifest(
            &http,
            &format!("{}/v2/hub/library/app/manifests/v1", cache.base),
        )
        .await;
        (upstream, cache)
    });

    let mut group = c.benchmark_group("proxy_cache");
    for (name, path) in [
        ("warm_cached_manifest_get", "hub/library/app"),
        ("local_manifest_get", "local/app"),
    ] {
        let url = format!("{}/v2/{path}/manifests/v1", cache.base);
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| get_manifest(&http, &url));
        });
    }

    // Each iteration pulls an image nobody has pulled: pushed upstream outside the clock.
    group.sample_size(10);
    let mut image = 0;
    group.bench_function("cold_first_byte_through_cache", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let (http, upstream, cache) = (&http, &upstream, &cache);
            image += 1;
            let first_tag = image * 1000;
            async move {
                let mut total = Duration::ZERO;
                for n in 0..iterations {
                    let tag = format!("c{}", first_tag + n);
                    let layer = upstream.push_image(http, "library/cold", &tag).await;
                    let started = Instant::now();
                    get_manifest(
                        http,
                        &format!("{}/v2/hub/library/cold/manifests/{tag}", cache.base),
                    )
                    .await;
                    let manifest = started.elapsed();
                    let blob = format!("{}/v2/hub/library/cold/blobs/{layer}", cache.base);
                    total += manifest + first_byte(http, &blob).await;
                }
                total
            }
        });
    });
    group.bench_function("cold_first_byte_from_upstream", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let (http, upstream) = (&http, &upstream);
            async move {
                let mut total = Duration::ZERO;
                for n in 0..iterations {
                    let tag = format!("d{n}");
                    let layer = upstream.push_image(http, "library/direct", &tag).await;
                    let started = Instant::now();
                    get_manifest(
                        http,
                        &format!("{}/v2/library/direct/manifests/{tag}", upstream.base),
                    )
                    .await;
                    let manifest = started.elapsed();
                    let blob = format!("{}/v2/library/direct/blobs/{layer}", upstream.base);
                    total += manifest + first_byte(http, &blob).await;
                }
                total
            }
        });
    });
    group.finish();
}

criterion_group!(benches, proxy_cache);
criterion_main!(benches);
