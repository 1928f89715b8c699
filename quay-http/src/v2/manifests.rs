//! `/v2/<name>/manifests/<reference>`: pull, push and delete manifests.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use quay_core::{Error, Reference, RepositoryPath};

use super::Request;
use crate::error::HttpResult;
use crate::headers::{CONTENT_DIGEST, OCI_SUBJECT};
use crate::metrics;

impl Request {
    pub(super) async fn get_manifest(
        &self,
        repo: &RepositoryPath,
        reference: &Reference,
        head: bool,
    ) -> HttpResult<Response> {
        let pulled = self
            .registry()
            .manifest(repo, reference, &self.caller)
            .await
            .map_err(|error| self.refused(error, &[(repo, "pull")]))?;
        let manifest = &pulled.manifest;
        let digest = HeaderValue::from_str(manifest.digest.as_str())?;
        let etag = HeaderValue::from_str(&format!("\"{}\"", manifest.digest))?;
        let body = if head {
            Body::empty()
        } else {
            metrics::manifest_pulled();
            Body::from(manifest.bytes.clone())
        };
        let mut response = Response::builder()
            .header(header::CONTENT_TYPE, manifest.media_type.as_str())
            .header(header::CONTENT_LENGTH, manifest.bytes.len())
            .header(CONTENT_DIGEST, digest)
            .header(header::ETAG, etag);
        if let Some(stale) = &pulled.stale {
            // RFC 9111's `Age`, and the `Warning` of RFC 7234 that clients and people read.
            let reason = stale.failure.reason();
            metrics::stale_served(reason, stale.age_s);
            response = response.header(header::AGE, stale.age_s).header(
                header::WARNING,
                format!(
                    "110 - \"Response is Stale: served from the proxy cache, {} s old; \
                     the upstream is {reason}\"",
                    stale.age_s
                ),
            );
        }
        Ok(response.body(body)?)
    }

    pub(super) async fn put_manifest(
        &self,
        repo: &RepositoryPath,
        reference: &Reference,
        body: Body,
    ) -> HttpResult<Response> {
        let limit = self.registry().settings().max_manifest_bytes;
        // One byte over the limit is enough to know it is too large.
        let bytes = axum::body::to_bytes(body, limit + 1)
            .await
            .map_err(|_| Error::ManifestTooLarge { limit })?;
        let content_type = self.header(header::CONTENT_TYPE);
        let pushed = self
            .registry()
            .put_manifest(repo, reference, content_type, bytes, &self.caller)
            .await
            .map_err(|error| self.refused(error, &[(repo, "pull,push")]))?;
        let location = self
            .state
            .url(&format!("/v2/{repo}/manifests/{}", pushed.digest));
        let mut response = Response::builder()
            .status(StatusCode::CREATED)
            .header(header::LOCATION, location)
            .header(CONTENT_DIGEST, pushed.digest.as_str())
            .header(header::CONTENT_LENGTH, 0);
        if let Some(subject) = &pushed.subject {
            response = response.header(OCI_SUBJECT, subject.as_str());
        }
        metrics::manifest_pushed();
        Ok(response.body(Body::empty())?)
    }

    pub(super) async fn delete_manifest(
        &self,
        repo: &RepositoryPath,
        reference: &Reference,
    ) -> HttpResult<Response> {
        self.registry()
            .delete_manifest(repo, reference, &self.caller)
            .await
            .map_err(|error| self.refused(error, &[(repo, "pull,push")]))?;
        Ok(accepted())
    }
}

/// 202 with no body.
pub(super) fn accepted() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}
