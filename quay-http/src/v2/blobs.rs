//! `/v2/<name>/blobs/<digest>`: download and delete blobs.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use quay_core::ports::BlobInfo;
use quay_core::registry::BlobRead;
use quay_core::{Digest, RepositoryPath};

use super::Request;
use super::manifests::accepted;
use crate::error::HttpResult;
use crate::headers::CONTENT_DIGEST;

/// Blobs never change: clients and proxies may keep them for a year.
const IMMUTABLE: &str = "max-age=31536000";

fn blob_response(blob: &BlobInfo) -> axum::http::response::Builder {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(CONTENT_DIGEST, blob.digest.as_str())
        .header(header::ETAG, format!("\"{}\"", blob.digest))
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, IMMUTABLE)
}

impl Request {
    pub(super) async fn get_blob(
        &self,
        repo: &RepositoryPath,
        digest: &Digest,
        head: bool,
    ) -> HttpResult<Response> {
        let refused = |error| self.refused(error, &[(repo, "pull")]);
        if head {
            // Metadata only: a HEAD never touches the bytes.
            let blob = self
                .registry()
                .blob(repo, digest, &self.caller)
                .await
                .map_err(refused)?;
            return Ok(blob_response(&blob)
                .header(header::CONTENT_LENGTH, blob.size)
                .body(Body::empty())?);
        }
        let range = self.header(header::RANGE);
        let read = self
            .registry()
            .read_blob(repo, digest, range, &self.caller)
            .await
            .map_err(refused)?;
        let response = match read {
            BlobRead::Whole { blob, body } => blob_response(&blob)
                .header(header::CONTENT_LENGTH, blob.size)
                .body(Body::from_stream(body)),
            BlobRead::Part { blob, range, body } => blob_response(&blob)
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_LENGTH, range.byte_count())
                .header(
                    header::CONTENT_RANGE,
                    format!("bytes {}-{}/{}", range.start, range.end, blob.size),
                )
                .body(Body::from_stream(body)),
            BlobRead::Unsatisfiable { blob } => blob_response(&blob)
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{}", blob.size))
                .body(Body::empty()),
            BlobRead::Elsewhere { blob, url } => blob_response(&blob)
                .status(StatusCode::TEMPORARY_REDIRECT)
                .header(header::LOCATION, url)
                .body(Body::empty()),
        };
        Ok(response?)
    }

    pub(super) async fn delete_blob(
        &self,
        repo: &RepositoryPath,
        digest: &Digest,
    ) -> HttpResult<Response> {
        self.registry()
            .delete_blob(repo, digest, &self.caller)
            .await
            .map_err(|error| self.refused(error, &[(repo, "pull,push")]))?;
        Ok(accepted())
    }
}
