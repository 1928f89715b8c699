//! Garbage collection: tags past the time-machine window, then manifests nothing uses, then
//! blobs nothing references, then their bytes; and uploads nobody finishes, with what
//! writes cut off by a crash and ended uploads left behind.
//!
//! A collection has no read-only window and needs no coordination between nodes: every
//! step is a short transaction that removes only what it sees unreferenced, under the same
//! locks that pushes take (see [`GarbageStore`]). The one step outside a transaction,
//! deleting a blob's bytes, is guarded by a deletion marker: the blob's row is removed and
//! the marker set in one transaction, linking the digest again waits until the marker is
//! gone, and the marker goes only after the bytes. A collector that stops in between leaves
//! the marker; after [`DELETION_GRACE_MS`] the next collection finishes
//! the deletion, and a push that needs the digest takes the marker over. A collector that
//! finds itself past half that grace before deleting leaves the bytes to that recovery
//! rather than race a push.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::error::Result;
use crate::ports::{BlobStore, GarbageStore, RepositoryCollection, UploadStore};

/// How long a deletion marker protects a blob's bytes: a collector deletes them only within
/// half of it, and after all of it a push of the digest or another collector takes over.
pub const DELETION_GRACE_MS: i64 = 60_000;

/// How the collector works, with defaults.
#[derive(Clone, Debug)]
pub struct CollectorSettings {
    /// Uploads untouched for this long are abandoned (one day).
    pub abandoned_upload_ms: i64,
    /// Upload links are dropped only this long after they lapse, so that a push whose clock
    /// runs behind still finds what it checked (one minute).
    pub link_margin_ms: i64,
    /// Rows handled per step.
    pub batch: u32,
}

impl Default for CollectorSettings {
    fn default() -> Self {
        Self {
            abandoned_upload_ms: 86_400_000,
            link_margin_ms: 60_000,
            batch: 500,
        }
    }
}

/// What one collection reclaimed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reclaimed {
    /// Tag rows removed from the time machine.
    pub tags: u64,
    /// Manifests removed.
    pub manifests: u64,
    /// Upload links that had lapsed.
    pub links: u64,
    /// Blobs removed.
    pub blobs: u64,
    /// Bytes of those blobs.
    pub bytes: u64,
    /// Abandoned uploads discarded.
    pub uploads: u64,
    /// Ended uploads whose leftovers were removed: parts no record names.
    pub upload_leftovers: u64,
    /// Files of writes that a crash cut off.
    pub unfinished_writes: u64,
}

/// The garbage collector: one [`GarbageCollector::collect`] per run; any number of them,
/// on any number of nodes, may run at once.
pub struct GarbageCollector {
    collection: Arc<dyn RepositoryCollection>,
    store: Arc<dyn GarbageStore>,
    blobs: Arc<dyn BlobStore>,
    uploads: Arc<dyn UploadStore>,
    clock: Arc<dyn Clock>,
    settings: CollectorSettings,
}

impl GarbageCollector {
    /// A collector on these stores, with the system clock. `collection` removes what a
    /// metadata cache may hold, so it goes through the cache.
    pub fn new(
        collection: Arc<dyn RepositoryCollection>,
        store: Arc<dyn GarbageStore>,
        blobs: Arc<dyn BlobStore>,
        uploads: Arc<dyn UploadStore>,
        settings: CollectorSettings,
    ) -> Self {
        Self {
            collection,
            store,
            blobs,
            uploads,
            clock: Arc::new(SystemClock),
            settings,
        }
    }

    /// Replaces the clock (tests move time with it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Collects everything that is garbage now.
    pub async fn collect(&self) -> Result<Reclaimed> {
        let mut reclaimed = Reclaimed::default();
        self.collect_tags_and_manifests(&mut reclaimed).await?;
        self.drop_lapsed_links(&mut reclaimed).await?;
        self.finish_stale_deletions().await?;
        self.collect_blobs(&mut reclaimed).await?;
        self.collect_uploads(&mut reclaimed).await?;
        Ok(reclaimed)
    }

    async fn collect_tags_and_manifests(&self, reclaimed: &mut Reclaimed) -> Result<()> {
        let batch = self.settings.batch;
        loop {
            let now_ms = self.clock.now_ms();
            let repositories = self
                .store
                .repositories_with_expired_tags(now_ms, batch)
                .await?;
            if repositories.is_empty() {
                return Ok(());
            }
            for repository in repositories {
                loop {
                    let collected = self
                        .collection
                        .collect_repository(repository, self.clock.now_ms(), batch)
                        .await?;
                    reclaimed.tags += collected.tags;
                    reclaimed.manifests += collected.manifests;
                    if collected.tags < u64::from(batch) {
                        break;
                    }
                }
            }
        }
    }

    async fn drop_lapsed_links(&self, reclaimed: &mut Reclaimed) -> Result<()> {
        let batch = self.settings.batch;
        loop {
            let before_ms = self.clock.now_ms() - self.settings.link_margin_ms;
            let dropped = self.store.drop_lapsed_links(before_ms, batch).await?;
            reclaimed.links += dropped;
            if dropped < u64::from(batch) {
                return Ok(());
            }
        }
    }

    async fn finish_stale_deletions(&self) -> Result<()> {
        let batch = self.settings.batch;
        loop {
            let now_ms = self.clock.now_ms();
            let before_ms = now_ms - DELETION_GRACE_MS;
            let stale = self.store.stale_deletions(before_ms, now_ms, batch).await?;
            for digest in &stale {
                if self.in_grace(now_ms) {
                    self.blobs.delete_blob(digest).await?;
                    self.store.finish_deletion(digest).await?;
                }
            }
            if stale.len() < batch as usize {
                return Ok(());
            }
        }
    }

    async fn collect_blobs(&self, reclaimed: &mut Reclaimed) -> Result<()> {
        let batch = self.settings.batch;
        loop {
            let condemned_ms = self.clock.now_ms();
            let condemned = self.store.condemn_blobs(condemned_ms, batch).await?;
            for blob in &condemned {
                // Past half the grace, a push may take the marker over at any moment:
                // leave these bytes to the recovery of stale markers.
                if self.in_grace(condemned_ms) {
                    self.blobs.delete_blob(&blob.digest).await?;
                    self.store.finish_deletion(&blob.digest).await?;
                }
                reclaimed.blobs += 1;
                reclaimed.bytes += blob.size;
            }
            if condemned.len() < batch as usize {
                return Ok(());
            }
        }
    }

    async fn collect_uploads(&self, reclaimed: &mut Reclaimed) -> Result<()> {
        let batch = self.settings.batch;
        loop {
            let before_ms = self.clock.now_ms() - self.settings.abandoned_upload_ms;
            let abandoned = self.store.abandoned_uploads(before_ms, batch).await?;
            for upload in &abandoned {
                self.uploads.discard(&upload.id, &upload.parts).await?;
                self.store.forget_upload(&upload.id).await?;
                reclaimed.uploads += 1;
            }
            if abandoned.len() < batch as usize {
                break;
            }
        }
        let before_ms = self.clock.now_ms() - self.settings.abandoned_upload_ms;
        reclaimed.unfinished_writes += self.uploads.remove_unfinished_writes(before_ms).await?;
        self.remove_upload_leftovers(reclaimed).await
    }

    /// Removes what is stored for uploads that no record names. Their record is the guard,
    /// not their age: a part is written only after its upload's record was read, and an
    /// upload's id is never used again, so nothing writes for an id found unrecorded except
    /// a request racing its upload's end, whose part the next collection finds.
    async fn remove_upload_leftovers(&self, reclaimed: &mut Reclaimed) -> Result<()> {
        let stored = self.uploads.stored_uploads().await?;
        for id in self.store.unrecorded_uploads(&stored).await? {
            self.uploads.discard_upload(&id).await?;
            reclaimed.upload_leftovers += 1;
        }
        Ok(())
    }

    /// Whether a marker set at `marked_ms` still protects its bytes for this collector.
    fn in_grace(&self, marked_ms: i64) -> bool {
        self.clock.now_ms() - marked_ms < DELETION_GRACE_MS / 2
    }
}
