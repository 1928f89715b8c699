//! `/v2/<name>/blobs/uploads/`: monolithic, chunked and resumable uploads, and mounts.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use quay_core::ports::BlobInfo;
use quay_core::range::ChunkRange;
use quay_core::registry::{Mount, UploadStatus};
use quay_core::{Digest, Error, RepositoryPath};

use super::{Request, byte_stream};
use crate::error::{HttpError, HttpResult};
use crate::headers::{CONTENT_DIGEST, DOCKER_UPLOAD_UUID, upload_range};

impl Request {
    /// `POST`: a mount (`?mount=&from=`), a monolithic upload (`?digest=` with the body),
    /// or a new upload session.
    pub(super) async fn start_upload(
        &self,
        repo: &RepositoryPath,
        body: Body,
    ) -> HttpResult<Response> {
        let refused = |error| self.refused(error, &[(repo, "pull,push")]);
        let registry = self.registry();
        if let Some(mount) = self.query.get("mount") {
            let digest = Digest::parse(mount)?;
            // An unusable source is no source: the client uploads instead.
            let from = match self.query.get("from").map(RepositoryPath::parse) {
                Some(Ok(from)) => Some(from),
                Some(Err(_)) => return self.new_upload(repo).await,
                None => None,
            };
            // A client that follows the challenge asks for pull on the source too, so that
            // its next attempt can mount.
            let mount = registry
                .mount_blob(repo, &digest, from.as_ref(), &self.caller)
                .await
                .map_err(|error| match &from {
                    Some(from) => self.refused(error, &[(repo, "pull,push"), (from, "pull")]),
                    None => refused(error),
                })?;
            return match mount {
                Mount::Linked(blob) => self.blob_created(repo, &blob),
                Mount::Started(status) => self.upload_response(repo, &status, StatusCode::ACCEPTED),
            };
        }
        if let Some(digest) = self.query.get("digest") {
            let digest = Digest::parse(digest)?;
            let blob = registry
                .upload_blob(repo, &digest, byte_stream(body), &self.caller)
                .await
                .map_err(refused)?;
            return self.blob_created(repo, &blob);
        }
        self.new_upload(repo).await
    }

    /// A new upload session.
    async fn new_upload(&self, repo: &RepositoryPath) -> HttpResult<Response> {
        let status = self
            .registry()
            .start_upload(repo, &self.caller)
            .await
            .map_err(|error| self.refused(error, &[(repo, "pull,push")]))?;
        self.upload_response(repo, &status, StatusCode::ACCEPTED)
    }

    /// `GET`: where an upload stands.
    pub(super) async fn upload_status(
        &self,
        repo: &RepositoryPath,
        id: &str,
    ) -> HttpResult<Response> {
        let status = self
            .registry()
            .upload_status(repo, id, &self.caller)
            .await
            .map_err(|error| self.refused(error, &[(repo, "pull,push")]))?;
        self.upload_response(repo, &status, StatusCode::NO_CONTENT)
    }

    /// `PATCH`: appends a chunk.
    pub(super) async fn upload_chunk(
        &self,
        repo: &RepositoryPath,
        id: &str,
        body: Body,
    ) -> HttpResult<Response> {
        let range = self.chunk_range()?;
        let result = self
            .registry()
            .upload_chunk(repo, id, range, byte_stream(body), &self.caller)
            .await;
        let status = self.out_of_order_with_location(repo, id, result)?;
        self.upload_response(repo, &status, StatusCode::ACCEPTED)
    }

    /// `PUT ?digest=`: finishes an upload, with an optional last chunk.
    pub(super) async fn finish_upload(
        &self,
        repo: &RepositoryPath,
        id: &str,
        body: Body,
    ) -> HttpResult<Response> {
        let digest = self
            .query
            .get("digest")
            .ok_or_else(|| Error::UploadInvalid("the digest parameter is missing".to_string()))?;
        let digest = Digest::parse(digest)?;
        let last_chunk = if self.has_body() {
            Some((self.chunk_range()?, byte_stream(body)))
        } else {
            None
        };
        let result = self
            .registry()
            .finish_upload(repo, id, &digest, last_chunk, &self.caller)
            .await;
        let blob = self.out_of_order_with_location(repo, id, result)?;
        self.blob_created(repo, &blob)
    }

    /// `DELETE`: cancels an upload.
    pub(super) async fn cancel_upload(
        &self,
        repo: &RepositoryPath,
        id: &str,
    ) -> HttpResult<Response> {
        self.registry()
            .cancel_upload(repo, id, &self.caller)
            .await
            .map_err(|error| self.refused(error, &[(repo, "pull,push")]))?;
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        Ok(response)
    }

    /// The chunk's `Content-Range`, checked against its `Content-Length`.
    fn chunk_range(&self) -> HttpResult<Option<ChunkRange>> {
        let Some(range) = self.header(header::CONTENT_RANGE) else {
            return Ok(None);
        };
        let range = ChunkRange::parse(range)?;
        if let Some(length) = self.content_length()?
            && length != range.byte_count()
        {
            return Err(Error::SizeInvalid(format!(
                "Content-Range covers {} bytes, Content-Length is {length}",
                range.byte_count()
            ))
            .into());
        }
        Ok(Some(range))
    }

    /// An out-of-order chunk is answered with where the upload stands (416).
    fn out_of_order_with_location<T>(
        &self,
        repo: &RepositoryPath,
        id: &str,
        result: quay_core::Result<T>,
    ) -> HttpResult<T> {
        result.map_err(|error| match error {
            Error::UploadOutOfOrder { current, .. } => HttpError::ChunkOutOfOrder {
                location: self.upload_url(repo, id),
                id: id.to_string(),
                size: current,
            },
            other => self.refused(other, &[(repo, "pull,push")]),
        })
    }

    fn upload_url(&self, repo: &RepositoryPath, id: &str) -> String {
        self.state.url(&format!("/v2/{repo}/blobs/uploads/{id}"))
    }

    fn upload_response(
        &self,
        repo: &RepositoryPath,
        status: &UploadStatus,
        code: StatusCode,
    ) -> HttpResult<Response> {
        Ok(Response::builder()
            .status(code)
            .header(header::LOCATION, self.upload_url(repo, &status.id))
            .header(header::RANGE, upload_range(status.size))
            .header(DOCKER_UPLOAD_UUID, status.id.as_str())
            .header(header::CONTENT_LENGTH, 0)
            .body(Body::empty())?)
    }

    fn blob_created(&self, repo: &RepositoryPath, blob: &BlobInfo) -> HttpResult<Response> {
        Ok(Response::builder()
            .status(StatusCode::CREATED)
            .header(
                header::LOCATION,
                self.state.url(&format!("/v2/{repo}/blobs/{}", blob.digest)),
            )
            .header(CONTENT_DIGEST, blob.digest.as_str())
            .header(header::CONTENT_LENGTH, 0)
            .body(Body::empty())?)
    }
}
