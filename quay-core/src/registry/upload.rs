//! Blob uploads: monolithic, chunked and resumable on any node, and cross-repository mounts.
//!
//! Each request that carries bytes stores them as one part of the upload and records, with
//! a compare-and-set on the upload's size, the part, the new size and the SHA-256 state
//! after those bytes. Finishing verifies the digest from that state (the bytes are hashed
//! exactly once, as they arrive) and only then promotes the parts to the blob's content
//! address: a blob is never visible under a digest it was not verified against.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::stores::Registry;
use crate::access::Caller;
use crate::error::{Error, Result};
use crate::hash::{ContentHasher, UploadHasher};
use crate::names::{Digest, DigestAlgorithm, RepositoryPath};
use crate::permission::RepositoryAction;
use crate::ports::{BlobInfo, ByteStream, Repository, UploadSession, WrittenPart};
use crate::range::ChunkRange;

/// Where an upload stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadStatus {
    /// The upload's id.
    pub id: String,
    /// Bytes received so far.
    pub size: u64,
}

impl From<&UploadSession> for UploadStatus {
    fn from(session: &UploadSession) -> Self {
        Self {
            id: session.id.clone(),
            size: session.size,
        }
    }
}

/// What a mount did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mount {
    /// The blob is linked into the repository, without a copy.
    Linked(BlobInfo),
    /// No repository the caller may read had it: an upload has started instead.
    Started(UploadStatus),
}

impl Registry {
    /// Starts an upload, creating the repository on first push.
    pub async fn start_upload(
        &self,
        path: &RepositoryPath,
        caller: &Caller,
    ) -> Result<UploadStatus> {
        self.permit(caller, path, RepositoryAction::Write).await?;
        self.new_upload(path, caller).await
    }

    async fn new_upload(&self, path: &RepositoryPath, caller: &Caller) -> Result<UploadStatus> {
        let repository = self.for_push(path, &caller.actor).await?;
        self.check_upload_quota(&repository, &caller.actor).await?;
        let session = self
            .upload_sessions
            .create_upload(repository.id, self.now_ms())
            .await?;
        Ok(UploadStatus::from(&session))
    }

    /// Where upload `id` stands.
    pub async fn upload_status(
        &self,
        path: &RepositoryPath,
        id: &str,
        caller: &Caller,
    ) -> Result<UploadStatus> {
        let (_, session) = self.session(path, id, caller).await?;
        Ok(UploadStatus::from(&session))
    }

    /// Appends a chunk. With a `range`, the chunk must start where the upload ends and be
    /// exactly that long.
    pub async fn upload_chunk(
        &self,
        path: &RepositoryPath,
        id: &str,
        range: Option<ChunkRange>,
        body: ByteStream,
        caller: &Caller,
    ) -> Result<UploadStatus> {
        let (repository, session) = self.session(path, id, caller).await?;
        let session = self.append(session, range, body).await?;
        self.check_upload_in_progress(&repository, &session, &caller.actor)
            .await?;
        Ok(UploadStatus::from(&session))
    }

    /// Finishes an upload, with an optional last chunk, verifying the content against
    /// `digest`. A mismatch ends the upload and keeps nothing of it.
    pub async fn finish_upload(
        &self,
        path: &RepositoryPath,
        id: &str,
        digest: &Digest,
        last_chunk: Option<(Option<ChunkRange>, ByteStream)>,
        caller: &Caller,
    ) -> Result<BlobInfo> {
        let (repository, mut session) = self.session(path, id, caller).await?;
        if let Some((range, body)) = last_chunk {
            session = self.append(session, range, body).await?;
        }
        self.check_upload_in_progress(&repository, &session, &caller.actor)
            .await?;
        self.commit(&repository, &session, digest).await
    }

    /// Cancels an upload and discards its bytes.
    pub async fn cancel_upload(
        &self,
        path: &RepositoryPath,
        id: &str,
        caller: &Caller,
    ) -> Result<()> {
        let (repository, session) = self.session(path, id, caller).await?;
        self.uploads.discard(&session.id, &session.parts).await?;
        self.upload_sessions
            .remove_upload(repository.id, &session.id)
            .await?;
        Ok(())
    }

    /// Uploads a whole blob in one request.
    pub async fn upload_blob(
        &self,
        path: &RepositoryPath,
        digest: &Digest,
        body: ByteStream,
        caller: &Caller,
    ) -> Result<BlobInfo> {
        self.permit(caller, path, RepositoryAction::Write).await?;
        let repository = self.for_push(path, &caller.actor).await?;
        self.check_upload_quota(&repository, &caller.actor).await?;
        let session = self
            .upload_sessions
            .create_upload(repository.id, self.now_ms())
            .await?;
        let session = match self.append(session.clone(), None, body).await {
            Ok(session) => session,
            Err(error) => {
                self.upload_sessions
                    .remove_upload(repository.id, &session.id)
                    .await?;
                return Err(error);
            }
        };
        self.check_upload_in_progress(&repository, &session, &caller.actor)
            .await?;
        self.commit(&repository, &session, digest).await
    }

    /// Links a blob into the repository at `path` without copying it, from `from` or,
    /// without it, from a repository that links the blob. Knowing a digest is not enough:
    /// the caller must be able to read a repository that has it. When none can give it,
    /// an upload starts instead (the client then sends the bytes).
    pub async fn mount_blob(
        &self,
        path: &RepositoryPath,
        digest: &Digest,
        from: Option<&RepositoryPath>,
        caller: &Caller,
    ) -> Result<Mount> {
        self.permit(caller, path, RepositoryAction::Write).await?;
        let sources = match from {
            Some(from) => vec![from.clone()],
            None => self.repositories_linking(digest).await?,
        };
        for source in &sources {
            if self
                .permit(caller, source, RepositoryAction::Read)
                .await
                .is_err()
            {
                continue;
            }
            if let Some(blob) = self.link_from(path, digest, source, caller).await? {
                return Ok(Mount::Linked(blob));
            }
        }
        Ok(Mount::Started(self.new_upload(path, caller).await?))
    }

    /// Links `from`'s blob into the repository at `path`; `None` when `from` does not link
    /// it.
    async fn link_from(
        &self,
        path: &RepositoryPath,
        digest: &Digest,
        from: &RepositoryPath,
        caller: &Caller,
    ) -> Result<Option<BlobInfo>> {
        let Some(source) = self.repositories.find_repository(from).await? else {
            return Ok(None);
        };
        let blob = match self.linked_blob(&source, digest).await {
            Ok(blob) => blob,
            Err(Error::BlobUnknown(_)) => return Ok(None),
            Err(other) => return Err(other),
        };
        let target = self.for_push(path, &caller.actor).await?;
        self.check_upload_quota(&target, &caller.actor).await?;
        let now_ms = self.now_ms();
        self.blob_index
            .link_blob(
                target.id,
                &blob,
                now_ms,
                now_ms + self.settings.upload_link_ms,
            )
            .await?;
        if self.blobs.blob_size(digest).await?.is_none() {
            // The source's last reference was collected in the meantime: upload instead.
            self.blob_index
                .unlink_blob(target.id, digest, self.now_ms())
                .await?;
            return Ok(None);
        }
        Ok(Some(blob))
    }

    /// Repositories that link the blob, for a mount that names no source.
    async fn repositories_linking(&self, digest: &Digest) -> Result<Vec<RepositoryPath>> {
        const CANDIDATES: u32 = 20;
        let repositories = self
            .blob_search
            .repositories_linking(digest, self.now_ms(), CANDIDATES)
            .await?;
        Ok(repositories.into_iter().map(|r| r.path).collect())
    }

    /// The repository and upload `id`, once `caller` may write to the repository: every
    /// step of an upload is a push.
    async fn session(
        &self,
        path: &RepositoryPath,
        id: &str,
        caller: &Caller,
    ) -> Result<(Repository, UploadSession)> {
        self.permit(caller, path, RepositoryAction::Write).await?;
        let repository = self
            .repositories
            .find_repository(path)
            .await?
            .ok_or(Error::UploadUnknown)?;
        let session = self
            .upload_sessions
            .find_upload(repository.id, id)
            .await?
            .ok_or(Error::UploadUnknown)?;
        Ok((repository, session))
    }

    /// Stores `body` as the next part of the upload and records it.
    async fn append(
        &self,
        session: UploadSession,
        range: Option<ChunkRange>,
        body: ByteStream,
    ) -> Result<UploadSession> {
        if let Some(range) = range
            && range.start != session.size
        {
            return Err(Error::UploadOutOfOrder {
                current: session.size,
                requested: range.start,
            });
        }
        let mut hasher = match session.hash_state.as_slice() {
            [] => UploadHasher::new(),
            state => UploadHasher::resume(state)?,
        };
        let limit = self
            .settings
            .max_blob_bytes
            .map(|max| (max, max.saturating_sub(session.size)));
        let mut metered = MeteredBody::new(body, &mut hasher, limit);
        let written = self.uploads.write_part(&session.id, &mut metered).await;
        let failure = metered.failure.take();
        let WrittenPart { name: part, size } = written.map_err(|error| failure.unwrap_or(error))?;

        if let Some(range) = range
            && size != range.byte_count()
        {
            self.uploads.discard(&session.id, &[part]).await?;
            return Err(Error::SizeInvalid(format!(
                "Content-Range announced {} bytes, the body had {size}",
                range.byte_count()
            )));
        }
        if size == 0 {
            self.uploads.discard(&session.id, &[part]).await?;
            return Ok(session);
        }
        let new_size = session.size + size;
        let recorded = self
            .upload_sessions
            .record_part(&session, &part, new_size, &hasher.state(), self.now_ms())
            .await?;
        if !recorded {
            // Another request appended first; ours must be resent at the new offset.
            self.uploads.discard(&session.id, &[part]).await?;
            let current = self
                .upload_sessions
                .find_upload(session.repository, &session.id)
                .await?
                .ok_or(Error::UploadUnknown)?;
            return Err(Error::UploadOutOfOrder {
                current: current.size,
                requested: session.size,
            });
        }
        let mut parts = session.parts;
        parts.push(part);
        Ok(UploadSession {
            size: new_size,
            hash_state: hasher.state(),
            parts,
            ..session
        })
    }

    /// Verifies the upload against `digest`, promotes it to a blob and links it.
    async fn commit(
        &self,
        repository: &Repository,
        session: &UploadSession,
        digest: &Digest,
    ) -> Result<BlobInfo> {
        let actual = match digest.algorithm() {
            DigestAlgorithm::Sha256 => match session.hash_state.as_slice() {
                [] => UploadHasher::new().digest(),
                state => UploadHasher::resume(state)?.digest(),
            },
            other => self.rehash(session, other).await?,
        };
        if actual != *digest {
            self.uploads.discard(&session.id, &session.parts).await?;
            self.upload_sessions
                .remove_upload(repository.id, &session.id)
                .await?;
            return Err(Error::DigestMismatch {
                expected: digest.clone(),
                actual,
            });
        }
        let blob = BlobInfo {
            digest: digest.clone(),
            size: session.size,
        };
        // Link first: from then on no garbage collector deletes the digest's bytes (linking
        // waits while one is deleting them), so whether they are stored cannot change under
        // us. Until they are, the link only serves this upload, whose client has no answer
        // yet.
        let now_ms = self.now_ms();
        self.blob_index
            .link_blob(
                repository.id,
                &blob,
                now_ms,
                now_ms + self.settings.upload_link_ms,
            )
            .await?;
        let stored = if self.blobs.blob_size(digest).await?.is_some() {
            // Stored before by any repository: the same digest is the same bytes.
            self.uploads.discard(&session.id, &session.parts).await
        } else {
            self.uploads
                .commit(&session.id, &session.parts, digest)
                .await
        };
        if let Err(error) = stored {
            // Without its bytes the link must not stay: a client would skip the upload.
            self.blob_index
                .unlink_blob(repository.id, digest, self.now_ms())
                .await?;
            return Err(error);
        }
        self.upload_sessions
            .remove_upload(repository.id, &session.id)
            .await?;
        Ok(blob)
    }

    /// Hashes the stored parts again with another algorithm than the streaming SHA-256.
    async fn rehash(&self, session: &UploadSession, algorithm: DigestAlgorithm) -> Result<Digest> {
        let mut hasher = ContentHasher::new(algorithm);
        let mut stream = self.uploads.read_parts(&session.id, &session.parts).await?;
        while let Some(chunk) = stream.next().await {
            hasher.update(&chunk.map_err(Error::storage)?);
        }
        Ok(hasher.finish())
    }
}

/// A request body on its way to storage: hashed and counted as it passes, cut off when it
/// exceeds the blob size limit. Why it stopped is kept in `failure`, because the storage
/// adapter only sees an I/O error.
struct MeteredBody<'h> {
    inner: ByteStream,
    hasher: &'h mut UploadHasher,
    /// `(limit for the whole blob, bytes this body may still carry)`.
    limit: Option<(u64, u64)>,
    received: u64,
    failure: Option<Error>,
}

impl<'h> MeteredBody<'h> {
    fn new(inner: ByteStream, hasher: &'h mut UploadHasher, limit: Option<(u64, u64)>) -> Self {
        Self {
            inner,
            hasher,
            limit,
            received: 0,
            failure: None,
        }
    }
}

impl Stream for MeteredBody<'_> {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.received += chunk.len() as u64;
                if let Some((limit, allowed)) = this.limit
                    && this.received > allowed
                {
                    this.failure = Some(Error::BlobTooLarge {
                        size: limit - allowed + this.received,
                        limit,
                    });
                    return Poll::Ready(Some(Err(std::io::Error::other("blob too large"))));
                }
                this.hasher.update(&chunk);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.failure = Some(Error::UploadInvalid(format!(
                    "the request body broke off after {} bytes: {error}",
                    this.received
                )));
                Poll::Ready(Some(Err(error)))
            }
            other => other,
        }
    }
}
