//! A client of the registry's HTTP API for tests that make many requests: `/api/v1` with a
//! bearer token, `/v2` with the test user's Basic credentials.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::support::*;

/// What the registry answered a request: its status, whether it said when to try again,
/// and its body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub retry_after: bool,
    pub body: String,
}

impl Answer {
    fn of(response: Response) -> Self {
        Self {
            status: response.status(),
            retry_after: response.headers().contains_key("retry-after"),
            body: response.text().unwrap_or_default(),
        }
    }
}

/// A registry client for one test: `/api/v1` with a bearer token, `/v2` with Basic
/// credentials.
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    token: String,
}

impl Client {
    pub fn new(address: &str, token: &str) -> Self {
        Self {
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            base: format!("http://{address}"),
            token: token.to_string(),
        }
    }

    pub fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .unwrap()
    }

    pub fn create_repository(&self, name: &str) -> Answer {
        let response = self
            .http
            .post(format!("{}/api/v1/repository", self.base))
            .bearer_auth(&self.token)
            .json(&json!({
                "namespace": USER, "repository": name, "visibility": "private", "description": ""
            }))
            .send()
            .unwrap();
        Answer::of(response)
    }

    pub fn describe(&self, repository: &str, description: &str) -> Answer {
        let response = self
            .http
            .put(format!("{}/api/v1/repository/{repository}", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "description": description }))
            .send()
            .unwrap();
        Answer::of(response)
    }

    /// Pushes an image of one layer; its manifest's digest.
    pub fn push_image(&self, repository: &str, tag: &str, layer: &[u8]) -> String {
        self.try_push_image(repository, tag, layer)
            .unwrap_or_else(|refused| panic!("push {repository}:{tag}: {refused:?}"))
    }

    /// Pushes an image of one layer; its manifest's digest, or the first refusal.
    pub fn try_push_image(
        &self,
        repository: &str,
        tag: &str,
        layer: &[u8],
    ) -> Result<String, Answer> {
        let config = format!(r#"{{"architecture":"amd64","os":"linux","tag":"{tag}"}}"#);
        let layer_descriptor = self.push_blob(repository, layer)?;
        let config_descriptor = self.push_blob(repository, config.as_bytes())?;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_descriptor.0, "size": config_descriptor.1,
            },
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer_descriptor.0, "size": layer_descriptor.1,
            }],
        })
        .to_string();
        let response = self
            .http
            .put(format!("{}/v2/{repository}/manifests/{tag}", self.base))
            .basic_auth(USER, Some(PASSWORD))
            .header("content-type", OCI_MANIFEST)
            .body(manifest.clone())
            .send()
            .unwrap();
        if response.status() != StatusCode::CREATED {
            return Err(Answer::of(response));
        }
        Ok(sha256(manifest.as_bytes()).to_string())
    }

    /// A monolithic blob upload; the blob's digest and size.
    pub fn push_blob(&self, repository: &str, bytes: &[u8]) -> Result<(String, usize), Answer> {
        let digest = sha256(bytes);
        let response = self
            .http
            .post(format!(
                "{}/v2/{repository}/blobs/uploads/?digest={digest}",
                self.base
            ))
            .basic_auth(USER, Some(PASSWORD))
            .body(bytes.to_vec())
            .send()
            .unwrap();
        if response.status() != StatusCode::CREATED {
            return Err(Answer::of(response));
        }
        Ok((digest.to_string(), bytes.len()))
    }

    /// Pulls a tag's manifest and its blobs; the manifest's digest.
    pub fn pull(&self, repository: &str, tag: &str) -> String {
        let v2 = |path: &str| {
            let response = self
                .http
                .get(format!("{}/v2/{repository}/{path}", self.base))
                .basic_auth(USER, Some(PASSWORD))
                .header("accept", OCI_MANIFEST)
                .send()
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "GET {repository}/{path}");
            response.bytes().unwrap()
        };
        let manifest = v2(&format!("manifests/{tag}"));
        let parsed: Value = serde_json::from_slice(&manifest).unwrap();
        for descriptor in
            std::iter::once(&parsed["config"]).chain(parsed["layers"].as_array().unwrap())
        {
            let digest = descriptor["digest"].as_str().unwrap();
            let blob = v2(&format!("blobs/{digest}"));
            assert_eq!(sha256(&blob).as_str(), digest);
        }
        sha256(&manifest).to_string()
    }
}
