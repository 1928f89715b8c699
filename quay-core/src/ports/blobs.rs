//! Ports of blobs: their bytes, and which repositories link them.

use std::io;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

use crate::audit::AuditEntry;
use crate::error::Result;
use crate::names::Digest;
use crate::range::ByteRange;
use crate::repository::{Repository, RepositoryId};

/// A stream of bytes: request bodies in, blob contents out.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// A blob as a repository sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobInfo {
    /// The blob's digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// A blob linked to a repository, and until when that link is certain to hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedBlob {
    /// Size in bytes.
    pub size: u64,
    /// The link rests only on an upload link that lapses then (`None`: a manifest links it).
    pub fresh_until_ms: Option<i64>,
}

/// What removing a repository's link to a blob did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unlink {
    /// The repository no longer links the blob.
    Unlinked,
    /// A manifest of the repository that a live tag holds references the blob (with
    /// `unlink_blob`: any manifest of the repository); nothing was changed.
    StillReferenced,
    /// The repository did not link the blob.
    NotLinked,
}

/// Whether a repository links a blob, and the changes of its links.
#[async_trait]
pub trait BlobIndex: Send + Sync {
    /// The blob if repository `repository` links it: a manifest of it references the blob,
    /// or an upload or mount linked it and that link has not lapsed.
    async fn linked_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> Result<Option<LinkedBlob>>;

    /// Records a verified blob (if new) and links it to the repository until `until_ms`.
    async fn link_blob(
        &self,
        repository: RepositoryId,
        blob: &BlobInfo,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<()>;

    /// Removes the repository's upload link to a blob, unless a manifest references it.
    async fn unlink_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> Result<Unlink>;

    /// Removes a blob from the repository, as a client's DELETE asks, in one transaction: its
    /// upload link, and the manifests that need it with their tag rows, taken out of the time
    /// machine (an entry from `audit`, with `tag` and `manifest_digest`, for each lifetime a
    /// restore could have brought back). `StillReferenced`, changing nothing, when a live tag
    /// holds one of those manifests.
    async fn forget_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        audit: AuditEntry,
        now_ms: i64,
    ) -> Result<Unlink>;
}

/// Which repositories link a blob: where a mount without a source may find it.
#[async_trait]
pub trait BlobLinkSearch: Send + Sync {
    /// Up to `limit` repositories that link the blob.
    async fn repositories_linking(
        &self,
        digest: &Digest,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<Repository>>;
}

/// Blob contents, addressed by digest, shared by the whole registry.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// The blob's size if its bytes are stored.
    async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>>;

    /// Reads the blob, or a range of it.
    async fn read_blob(&self, digest: &Digest, range: Option<ByteRange>) -> Result<ByteStream>;

    /// Removes the blob's bytes (garbage collection).
    async fn delete_blob(&self, digest: &Digest) -> Result<()>;

    /// A URL from which a client may download the blob itself for `valid_ms`, where the
    /// store can sign one (an object store); `None` where it cannot (a filesystem).
    async fn download_url(&self, digest: &Digest, valid_ms: u64) -> Result<Option<String>>;

    /// Checks each storage location with a small write, read back.
    async fn check_locations(&self) -> Vec<LocationHealth>;
}

/// How one storage location answered a health check.
#[derive(Debug)]
pub struct LocationHealth {
    /// The location's name in the configuration.
    pub name: String,
    /// Whether this node writes to it and reads from it first.
    pub preferred: bool,
    /// Its answer.
    pub status: Result<()>,
}
