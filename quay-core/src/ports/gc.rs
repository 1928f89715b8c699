//! Garbage collection's port: finding and removing what nothing references any more.

use async_trait::async_trait;

use super::blobs::BlobInfo;
use crate::error::Result;
use crate::names::Digest;
use crate::repository::RepositoryId;

/// What collecting one repository's expired tags removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CollectedRepository {
    /// Tag rows past the namespace's time-machine window.
    pub tags: u64,
    /// Manifests that no tag, parent list or referrer used any more.
    pub manifests: u64,
}

/// An upload nobody finishes: untouched for too long, or of a deleted repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbandonedUpload {
    /// The upload's id.
    pub id: String,
    /// Its stored parts.
    pub parts: Vec<String>,
}

/// The metadata side of garbage collection.
///
/// Every method does a bounded amount of work (`limit`) found through indexes on what is
/// garbage, so a collection costs in proportion to the garbage, not to the registry. Each
/// is safe while clients push and while other collectors run: tag and manifest removal run
/// under the repository's lock, and a blob is condemned only in a transaction that sees no
/// reference to it, after which linking it waits until its bytes are gone.
#[async_trait]
pub trait GarbageStore: Send + Sync {
    /// Up to `limit` repositories with tag rows that ended before their namespace's window.
    async fn repositories_with_expired_tags(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<RepositoryId>>;

    /// Removes up to `limit` upload links that lapsed before `before_ms`; their blobs become
    /// candidates. How many were removed.
    async fn drop_lapsed_links(&self, before_ms: i64, limit: u32) -> Result<u64>;

    /// Checks up to `limit` candidate blobs; each that nothing references any more loses
    /// its row and gets a deletion marker, in one transaction. Returns those blobs, whose
    /// bytes the caller deletes and then reports with [`GarbageStore::finish_deletion`].
    async fn condemn_blobs(&self, now_ms: i64, limit: u32) -> Result<Vec<BlobInfo>>;

    /// Deletion markers set before `before_ms` by a collector that stopped before deleting
    /// the bytes: restamped with `now_ms` and returned, for their bytes to be deleted now.
    async fn stale_deletions(&self, before_ms: i64, now_ms: i64, limit: u32)
    -> Result<Vec<Digest>>;

    /// The bytes of a condemned blob are gone: its marker goes too.
    async fn finish_deletion(&self, digest: &Digest) -> Result<()>;

    /// Up to `limit` uploads not touched since `before_ms`, or of deleted repositories.
    async fn abandoned_uploads(&self, before_ms: i64, limit: u32) -> Result<Vec<AbandonedUpload>>;

    /// An abandoned upload's parts are discarded: its record goes.
    async fn forget_upload(&self, id: &str) -> Result<()>;

    /// Those of `ids` that no upload names, in progress or abandoned: the uploads ended,
    /// and whatever is still stored for them is left over.
    async fn unrecorded_uploads(&self, ids: &[String]) -> Result<Vec<String>>;
}

/// Collecting one repository's tags and manifests: the one step of collection that
/// changes what the registry answers for a repository (and so what a cache of it holds).
#[async_trait]
pub trait RepositoryCollection: Send + Sync {
    /// Removes up to `limit` of the repository's tag rows past the window, then every
    /// manifest that this (or an earlier removal) left unused: no tag row of any kind, no
    /// list containing it, no referrer naming it as subject. The blobs those manifests
    /// referenced become candidates for [`GarbageStore::condemn_blobs`].
    async fn collect_repository(
        &self,
        repository: RepositoryId,
        now_ms: i64,
        limit: u32,
    ) -> Result<CollectedRepository>;
}
