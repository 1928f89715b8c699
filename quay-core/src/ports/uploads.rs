//! Ports of uploads in progress: their sessions and their parts' bytes.

use std::io;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

use super::blobs::ByteStream;
use crate::error::Result;
use crate::names::Digest;
use crate::repository::RepositoryId;

/// A borrowed byte stream, for adapters that consume a stream the caller keeps owning.
pub type ByteSource<'a> = dyn Stream<Item = io::Result<Bytes>> + Send + Unpin + 'a;

/// An upload in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadSession {
    /// The upload's id (a UUID).
    pub id: String,
    /// The repository it uploads to.
    pub repository: RepositoryId,
    /// Bytes received so far.
    pub size: u64,
    /// The saved SHA-256 state of those bytes (empty before the first byte).
    pub hash_state: Vec<u8>,
    /// Names of the stored parts, in order.
    pub parts: Vec<String>,
}

/// A part of an upload, stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenPart {
    /// The part's name, unique within the upload.
    pub name: String,
    /// Bytes in the part.
    pub size: u64,
}

/// Uploads in progress: their offset, hash state and parts, shared by every node.
#[async_trait]
pub trait UploadSessions: Send + Sync {
    /// Starts an upload with a fresh id.
    async fn create_upload(&self, repository: RepositoryId, now_ms: i64) -> Result<UploadSession>;

    /// The upload `id` of the repository, if it is in progress.
    async fn find_upload(
        &self,
        repository: RepositoryId,
        id: &str,
    ) -> Result<Option<UploadSession>>;

    /// Appends a stored part, if the upload still has `session.size` bytes (compare and
    /// set: of two racing chunks only one is recorded). Returns whether it was recorded.
    async fn record_part(
        &self,
        session: &UploadSession,
        part: &str,
        new_size: u64,
        hash_state: &[u8],
        now_ms: i64,
    ) -> Result<bool>;

    /// Ends the upload; whether it existed.
    async fn remove_upload(&self, repository: RepositoryId, id: &str) -> Result<bool>;
}

/// Bytes of uploads in progress, and their promotion into the
/// [`BlobStore`](super::blobs::BlobStore).
///
/// An upload is a sequence of parts, one per request that carried bytes. Writing a part is
/// atomic: if the body fails half-way, no part exists. Parts are never appended to, so the
/// scheme works on object stores without append or rename.
#[async_trait]
pub trait UploadStore: Send + Sync {
    /// Stores everything `body` yields as a new part of upload `upload`.
    async fn write_part(&self, upload: &str, body: &mut ByteSource<'_>) -> Result<WrittenPart>;

    /// Reads the parts back, in order, as one stream.
    async fn read_parts(&self, upload: &str, parts: &[String]) -> Result<ByteStream>;

    /// Makes the concatenated parts the content of blob `digest`, atomically: the blob is
    /// either absent or complete. The caller has verified the digest.
    async fn commit(&self, upload: &str, parts: &[String], digest: &Digest) -> Result<()>;

    /// Removes the parts (which may already be gone).
    async fn discard(&self, upload: &str, parts: &[String]) -> Result<()>;

    /// The ids of the uploads that have anything stored: every upload in progress, and
    /// what ended ones left behind (a part whose record a power cut undid, a part a racing
    /// request wrote after its upload ended).
    async fn stored_uploads(&self) -> Result<Vec<String>>;

    /// Removes everything stored for the upload, whether its record names it or not.
    async fn discard_upload(&self, upload: &str) -> Result<()>;

    /// Removes what writes cut off by a crash left behind (a filesystem's staging files)
    /// and nothing touched since `before_ms`: a write in progress touches its file with
    /// every chunk. How many were removed.
    async fn remove_unfinished_writes(&self, before_ms: i64) -> Result<u64>;
}
