//! A real server on 127.0.0.1:0 (SQLite metadata, filesystem blobs, the cache, the router)
//! and small helpers for speaking the distribution API with reqwest.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use quay_core::hash::digest_of;
use quay_core::{Digest, DigestAlgorithm, RegistrySettings};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

pub struct Server {
    pub base: String,
    pub address: String,
    pub http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Self {
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
        Self::serving(registry, dir).await
    }

    /// Serves `registry`, whose files are in `dir`, to anyone.
    pub async fn serving(registry: Arc<quay_core::Registry>, dir: tempfile::TempDir) -> Self {
        let state = quay_http::AppState::new(registry);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            axum::serve(listener, quay_http::router(state))
                .await
                .unwrap();
        });
        Self {
            base: format!("http://{address}"),
            address,
            http: reqwest::Client::new(),
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn head(&self, path: &str) -> Response {
        self.http.head(self.url(path)).send().await.unwrap()
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.http.delete(self.url(path)).send().await.unwrap()
    }

    /// Files in blob storage (uploads in progress included), staging area excluded.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.file_name().is_some_and(|n| n == ".staging") {
                    continue;
                }
                if path.is_dir() {
                    walk(&path, found);
                } else {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.dir.path().join("storage"), &mut found);
        found
    }

    /// Starts an upload; its URL.
    pub async fn start_upload(&self, repo: &str) -> String {
        let response = self
            .http
            .post(self.url(&format!("/v2/{repo}/blobs/uploads/")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        location(&response)
    }

    /// Uploads a blob monolithically; its digest.
    pub async fn upload(&self, repo: &str, content: &[u8]) -> Digest {
        let digest = sha256(content);
        let response = self
            .http
            .post(self.url(&format!("/v2/{repo}/blobs/uploads/?digest={digest}")))
            .body(content.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{:?}",
            response.text().await
        );
        digest
    }

    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        content_type: &str,
        body: &[u8],
    ) -> Response {
        self.http
            .put(self.url(&format!("/v2/{repo}/manifests/{reference}")))
            .header("content-type", content_type)
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// Uploads the blobs of an image and pushes its manifest under `reference`.
    pub async fn push_image(
        &self,
        repo: &str,
        reference: &str,
        config: &[u8],
        layers: &[&[u8]],
    ) -> (Digest, Vec<u8>) {
        for blob in std::iter::once(config).chain(layers.iter().copied()) {
            self.upload(repo, blob).await;
        }
        let manifest = image_manifest(config, layers, "");
        let response = self
            .put_manifest(repo, reference, OCI_MANIFEST, &manifest)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{:?}",
            response.text().await
        );
        (sha256(&manifest), manifest)
    }
}

pub fn sha256(bytes: &[u8]) -> Digest {
    digest_of(DigestAlgorithm::Sha256, bytes)
}

pub fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}: {:?}", response.headers()))
        .to_str()
        .unwrap()
}

pub fn location(response: &Response) -> String {
    header(response, "location").to_string()
}

/// Checks an OCI error response: status, the envelope, and the code.
pub async fn expect_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "expected {code}");
    assert_eq!(
        header(&response, "docker-distribution-api-version"),
        "registry/2.0"
    );
    let body: Value = response.json().await.unwrap();
    let error = &body["errors"][0];
    assert_eq!(error["code"], code, "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    error.clone()
}

/// An OCI image manifest over the given config and layers; `extra` is spliced in.
pub fn image_manifest(config: &[u8], layers: &[&[u8]], extra: &str) -> Vec<u8> {
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
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{}]{extra}}}"#,
        sha256(config),
        config.len(),
        layers.join(",")
    )
    .into_bytes()
}
