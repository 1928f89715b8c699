//! A cache in front of the metadata, for the reads every pull makes.
//!
//! Only the hot reads are cached: a repository by path, a tag's target, a live manifest, a
//! blob's link, a repository's tag list. Everything in them can change, so every entry of a
//! repository is keyed by that repository's *epoch*: a number that every write to the
//! repository through this cache replaces by a fresh one, after the write. Entries of an old
//! epoch are never found again and age out of the LRU. A read that raced a write stores its
//! result under the epoch it started with, which the write has already retired, so a stale
//! answer is never served from the cache once the write has returned.
//!
//! Answers that only hold for a while (a tag that expires, an upload link that lapses) carry
//! their `fresh_until_ms`, and are treated as missing from then on.
//!
//! The epochs live in this process. Several nodes on one database tell each other what they
//! changed through [`Peers`] (on PostgreSQL `LISTEN/NOTIFY`, by `PostgresPeers`): every
//! write publishes its [`CacheChange`] before it returns, and each node retires the
//! answers the change touched as soon as it hears of it (within milliseconds).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use moka::sync::Cache;
use quay_core::account::NamespaceId;
use quay_core::audit::AuditEntry;
use quay_core::permission::Visibility;
use quay_core::ports::{
    AbandonedUpload, BlobIndex, BlobInfo, CollectedRepository, GarbageStore, LinkedBlob,
    LiveManifest, ManifestLabel, ManifestStore, MetadataStore, NewManifest, NewRepository,
    PruneStore, Referrer, Repository, RepositoryDetails, RepositoryId, RepositoryStore, TagChange,
    TagHistoryQuery, TagLifetime, TagList, TagPlacement, TagResolution, TagStore, UploadSession,
    UploadSessions, WriteProbe,
};
use quay_core::prune::PrunePolicy;
use quay_core::quota::Reached;
use quay_core::tag::TagRow;
use quay_core::{Digest, RepositoryPath, TagName};

/// What a write changed, as the caches of other nodes need to hear it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheChange {
    /// Anything about one repository: its tags, manifests, links.
    Repository(RepositoryId),
    /// A repository was created at this path.
    Created(RepositoryPath),
    /// The repository was deleted.
    Deleted(RepositoryId),
    /// A namespace was deleted, with every repository in it.
    NamespaceDeleted,
}

/// The other nodes serving the same database, told of every change.
#[async_trait]
pub trait Peers: Send + Sync {
    /// Tells the other nodes; failures are logged, not returned: the write is done.
    async fn publish(&self, change: &CacheChange);
}

/// Sizes of the cache.
#[derive(Clone, Debug)]
pub struct CacheOptions {
    /// Approximate memory for cached entries, in bytes.
    pub max_bytes: u64,
}

impl Default for CacheOptions {
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// An entry's rough footprint besides its variable parts.
const ENTRY_OVERHEAD: u32 = 128;

type Epoch = u64;

/// Metadata with the hot reads cached.
pub struct CachedMetadata<M> {
    inner: M,
    next_epoch: AtomicU64,
    epochs: Cache<RepositoryId, Epoch>,
    repositories: Cache<RepositoryPath, Option<Repository>>,
    tags: Cache<(RepositoryId, Epoch, TagName), TagResolution>,
    manifests: Cache<(RepositoryId, Epoch, Digest), Option<LiveManifest>>,
    blobs: Cache<(RepositoryId, Epoch, Digest), Option<LinkedBlob>>,
    tag_lists: Cache<(RepositoryId, Epoch), TagList>,
    peers: Option<Arc<dyn Peers>>,
}

fn manifest_weight(manifest: Option<&LiveManifest>) -> u32 {
    let bytes = manifest.map_or(0, |live| live.manifest.bytes.len());
    ENTRY_OVERHEAD.saturating_add(u32::try_from(bytes).unwrap_or(u32::MAX))
}

impl<M: MetadataStore> CachedMetadata<M> {
    /// Caches reads of `inner`.
    pub fn new(inner: M, options: &CacheOptions) -> Self {
        // A quarter each for manifests and tag lists, the rest for the small entries.
        let quarter = options.max_bytes / 4;
        Self {
            inner,
            next_epoch: AtomicU64::new(0),
            epochs: Cache::new(options.max_bytes / 64),
            repositories: Cache::new(options.max_bytes / 512),
            tags: Cache::builder()
                .max_capacity(quarter)
                .weigher(|_, resolution: &TagResolution| match resolution {
                    TagResolution::Alive(live) => manifest_weight(Some(live)),
                    _ => ENTRY_OVERHEAD,
                })
                .build(),
            manifests: Cache::builder()
                .max_capacity(quarter)
                .weigher(|_, manifest: &Option<LiveManifest>| manifest_weight(manifest.as_ref()))
                .build(),
            blobs: Cache::new(quarter / u64::from(ENTRY_OVERHEAD)),
            tag_lists: Cache::builder()
                .max_capacity(quarter)
                .weigher(|_, list: &TagList| {
                    let names: usize = list.names.iter().map(|n| n.as_str().len() + 32).sum();
                    ENTRY_OVERHEAD.saturating_add(u32::try_from(names).unwrap_or(u32::MAX))
                })
                .build(),
            peers: None,
        }
    }

    /// Publishes every change to `peers`.
    pub fn with_peers(mut self, peers: Arc<dyn Peers>) -> Self {
        self.peers = Some(peers);
        self
    }

    fn epoch(&self, repository: RepositoryId) -> Epoch {
        self.epochs.get_with(repository, || {
            self.next_epoch.fetch_add(1, Ordering::Relaxed)
        })
    }

    /// Retires every cached answer that `change` touched (a change this node heard of).
    pub fn forget(&self, change: &CacheChange) {
        match change {
            CacheChange::Repository(repository) => self.retire(*repository),
            CacheChange::Created(path) => self.repositories.invalidate(path),
            CacheChange::Deleted(repository) => {
                // The path cache is keyed by path; deletions are rare enough to drop it whole.
                self.repositories.invalidate_all();
                self.retire(*repository);
            }
            CacheChange::NamespaceDeleted => {
                // Every repository of the namespace is gone; retire all epochs rather than
                // find them.
                self.repositories.invalidate_all();
                self.epochs.invalidate_all();
            }
        }
    }

    /// [`Self::forget`] a change this node made, and tell the other nodes.
    async fn changed(&self, change: CacheChange) {
        self.forget(&change);
        if let Some(peers) = &self.peers {
            peers.publish(&change).await;
        }
    }

    fn retire(&self, repository: RepositoryId) {
        self.epochs
            .insert(repository, self.next_epoch.fetch_add(1, Ordering::Relaxed));
    }
}

fn fresh(until_ms: Option<i64>, now_ms: i64) -> bool {
    until_ms.is_none_or(|until| until > now_ms)
}

#[async_trait]
impl<M: MetadataStore> RepositoryStore for CachedMetadata<M> {
    async fn find_repository(
        &self,
        path: &RepositoryPath,
    ) -> quay_core::Result<Option<Repository>> {
        if let Some(found) = self.repositories.get(path) {
            return Ok(found);
        }
        let found = self.inner.find_repository(path).await?;
        self.repositories.insert(path.clone(), found.clone());
        Ok(found)
    }

    async fn create_repository(
        &self,
        namespace: NamespaceId,
        path: &RepositoryPath,
        new: NewRepository,
        audit: Option<AuditEntry>,
        now_ms: i64,
    ) -> quay_core::Result<(Repository, bool)> {
        let created = self
            .inner
            .create_repository(namespace, path, new, audit, now_ms)
            .await;
        self.changed(CacheChange::Created(path.clone())).await;
        created
    }

    async fn repository_details(
        &self,
        repository: RepositoryId,
    ) -> quay_core::Result<Option<RepositoryDetails>> {
        self.inner.repository_details(repository).await
    }

    async fn set_visibility(
        &self,
        repository: RepositoryId,
        visibility: Visibility,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        self.inner
            .set_visibility(repository, visibility, audit)
            .await
    }

    async fn set_description(
        &self,
        repository: RepositoryId,
        description: &str,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        self.inner
            .set_description(repository, description, audit)
            .await
    }

    async fn delete_repository(
        &self,
        repository: RepositoryId,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let deleted = self.inner.delete_repository(repository, audit).await;
        self.changed(CacheChange::Deleted(repository)).await;
        deleted
    }

    async fn delete_namespace(
        &self,
        namespace: NamespaceId,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let deleted = self.inner.delete_namespace(namespace, audit).await;
        self.changed(CacheChange::NamespaceDeleted).await;
        deleted
    }

    async fn list_repositories(
        &self,
        after: Option<&RepositoryPath>,
        limit: u32,
    ) -> quay_core::Result<Vec<RepositoryPath>> {
        self.inner.list_repositories(after, limit).await
    }
}

#[async_trait]
impl<M: MetadataStore> BlobIndex for CachedMetadata<M> {
    async fn linked_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> quay_core::Result<Option<LinkedBlob>> {
        let key = (repository, self.epoch(repository), digest.clone());
        if let Some(linked) = self.blobs.get(&key)
            && linked
                .as_ref()
                .is_none_or(|l| fresh(l.fresh_until_ms, now_ms))
        {
            return Ok(linked);
        }
        let linked = self.inner.linked_blob(repository, digest, now_ms).await?;
        self.blobs.insert(key, linked.clone());
        Ok(linked)
    }

    async fn link_blob(
        &self,
        repository: RepositoryId,
        blob: &BlobInfo,
        now_ms: i64,
        until_ms: i64,
    ) -> quay_core::Result<()> {
        let linked = self
            .inner
            .link_blob(repository, blob, now_ms, until_ms)
            .await;
        self.changed(CacheChange::Repository(repository)).await;
        linked
    }

    async fn repositories_linking(
        &self,
        digest: &Digest,
        now_ms: i64,
        limit: u32,
    ) -> quay_core::Result<Vec<Repository>> {
        self.inner.repositories_linking(digest, now_ms, limit).await
    }

    async fn unlink_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> quay_core::Result<quay_core::ports::Unlink> {
        let unlinked = self.inner.unlink_blob(repository, digest, now_ms).await;
        self.changed(CacheChange::Repository(repository)).await;
        unlinked
    }
}

#[async_trait]
impl<M: MetadataStore> UploadSessions for CachedMetadata<M> {
    async fn create_upload(
        &self,
        repository: RepositoryId,
        now_ms: i64,
    ) -> quay_core::Result<UploadSession> {
        self.inner.create_upload(repository, now_ms).await
    }

    async fn find_upload(
        &self,
        repository: RepositoryId,
        id: &str,
    ) -> quay_core::Result<Option<UploadSession>> {
        self.inner.find_upload(repository, id).await
    }

    async fn record_part(
        &self,
        session: &UploadSession,
        part: &str,
        new_size: u64,
        hash_state: &[u8],
        now_ms: i64,
    ) -> quay_core::Result<bool> {
        self.inner
            .record_part(session, part, new_size, hash_state, now_ms)
            .await
    }

    async fn remove_upload(&self, repository: RepositoryId, id: &str) -> quay_core::Result<bool> {
        self.inner.remove_upload(repository, id).await
    }
}

#[async_trait]
impl<M: MetadataStore> ManifestStore for CachedMetadata<M> {
    async fn live_manifest(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> quay_core::Result<Option<LiveManifest>> {
        let key = (repository, self.epoch(repository), digest.clone());
        if let Some(live) = self.manifests.get(&key)
            && live
                .as_ref()
                .is_none_or(|l| fresh(l.fresh_until_ms, now_ms))
        {
            return Ok(live);
        }
        let live = self.inner.live_manifest(repository, digest, now_ms).await?;
        self.manifests.insert(key, live.clone());
        Ok(live)
    }

    async fn store_manifest(
        &self,
        repository: RepositoryId,
        manifest: NewManifest,
        placement: TagPlacement,
        audit: Option<AuditEntry>,
        now_ms: i64,
    ) -> quay_core::Result<Option<Reached>> {
        let stored = self
            .inner
            .store_manifest(repository, manifest, placement, audit, now_ms)
            .await;
        self.changed(CacheChange::Repository(repository)).await;
        stored
    }

    async fn manifest_labels(&self, manifest_id: i64) -> quay_core::Result<Vec<ManifestLabel>> {
        self.inner.manifest_labels(manifest_id).await
    }

    async fn referrers(
        &self,
        repository: RepositoryId,
        subject: &Digest,
        now_ms: i64,
    ) -> quay_core::Result<Vec<Referrer>> {
        self.inner.referrers(repository, subject, now_ms).await
    }
}

#[async_trait]
impl<M: MetadataStore> WriteProbe for CachedMetadata<M> {
    async fn probe_writes(&self, now_ms: i64) -> quay_core::Result<()> {
        self.inner.probe_writes(now_ms).await
    }
}

#[async_trait]
impl<M: MetadataStore> TagStore for CachedMetadata<M> {
    async fn tag_rows(
        &self,
        repository: RepositoryId,
        name: &TagName,
    ) -> quay_core::Result<Vec<(TagRow, Digest)>> {
        self.inner.tag_rows(repository, name).await
    }

    async fn tag_history(
        &self,
        repository: RepositoryId,
        query: &TagHistoryQuery,
        now_ms: i64,
    ) -> quay_core::Result<Vec<TagLifetime>> {
        self.inner.tag_history(repository, query, now_ms).await
    }

    async fn manifest_in_repository(
        &self,
        repository: RepositoryId,
        digest: &Digest,
    ) -> quay_core::Result<Option<i64>> {
        self.inner.manifest_in_repository(repository, digest).await
    }

    async fn apply_tag_change(
        &self,
        repository: RepositoryId,
        change: TagChange,
        audit: Vec<AuditEntry>,
        now_ms: i64,
    ) -> quay_core::Result<()> {
        let applied = self
            .inner
            .apply_tag_change(repository, change, audit, now_ms)
            .await;
        self.changed(CacheChange::Repository(repository)).await;
        applied
    }

    async fn resolve_tag(
        &self,
        repository: RepositoryId,
        tag: &TagName,
        now_ms: i64,
    ) -> quay_core::Result<TagResolution> {
        let key = (repository, self.epoch(repository), tag.clone());
        if let Some(resolution) = self.tags.get(&key) {
            let still_true = match &resolution {
                TagResolution::Alive(live) => fresh(live.fresh_until_ms, now_ms),
                TagResolution::Expired | TagResolution::Unknown => true,
            };
            if still_true {
                return Ok(resolution);
            }
        }
        let resolution = self.inner.resolve_tag(repository, tag, now_ms).await?;
        self.tags.insert(key, resolution.clone());
        Ok(resolution)
    }

    async fn list_tags(&self, repository: RepositoryId, now_ms: i64) -> quay_core::Result<TagList> {
        let key = (repository, self.epoch(repository));
        if let Some(list) = self.tag_lists.get(&key)
            && fresh(list.fresh_until_ms, now_ms)
        {
            return Ok(list);
        }
        let list = self.inner.list_tags(repository, now_ms).await?;
        self.tag_lists.insert(key, list.clone());
        Ok(list)
    }

    async fn delete_tag(
        &self,
        repository: RepositoryId,
        tag: &TagName,
        audit: AuditEntry,
        now_ms: i64,
    ) -> quay_core::Result<bool> {
        let deleted = self.inner.delete_tag(repository, tag, audit, now_ms).await;
        self.changed(CacheChange::Repository(repository)).await;
        deleted
    }

    async fn delete_manifest_tags(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        audit: AuditEntry,
        now_ms: i64,
    ) -> quay_core::Result<usize> {
        let deleted = self
            .inner
            .delete_manifest_tags(repository, digest, audit, now_ms)
            .await;
        self.changed(CacheChange::Repository(repository)).await;
        deleted
    }
}

#[async_trait]
impl<M: MetadataStore> PruneStore for CachedMetadata<M> {
    async fn prune_policies(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
    ) -> quay_core::Result<Vec<PrunePolicy>> {
        self.inner.prune_policies(namespace, repository).await
    }

    async fn save_prune_policy(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        policy: &PrunePolicy,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        self.inner
            .save_prune_policy(namespace, repository, policy, audit)
            .await
    }

    async fn delete_prune_policy(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        self.inner
            .delete_prune_policy(namespace, repository, uuid, audit)
            .await
    }

    async fn prune_targets(&self) -> quay_core::Result<Vec<(PrunePolicy, Repository)>> {
        self.inner.prune_targets().await
    }
}

/// Collection goes through the cache so that a repository whose tags and manifests it
/// removed is read afresh: a blob the cache still believed a manifest linked would
/// otherwise be reported present after its bytes are gone.
#[async_trait]
impl<M: MetadataStore + GarbageStore> GarbageStore for CachedMetadata<M> {
    async fn repositories_with_expired_tags(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> quay_core::Result<Vec<RepositoryId>> {
        self.inner
            .repositories_with_expired_tags(now_ms, limit)
            .await
    }

    async fn collect_repository(
        &self,
        repository: RepositoryId,
        now_ms: i64,
        limit: u32,
    ) -> quay_core::Result<CollectedRepository> {
        let collected = self
            .inner
            .collect_repository(repository, now_ms, limit)
            .await;
        self.changed(CacheChange::Repository(repository)).await;
        collected
    }

    async fn drop_lapsed_links(&self, before_ms: i64, limit: u32) -> quay_core::Result<u64> {
        self.inner.drop_lapsed_links(before_ms, limit).await
    }

    async fn condemn_blobs(&self, now_ms: i64, limit: u32) -> quay_core::Result<Vec<BlobInfo>> {
        self.inner.condemn_blobs(now_ms, limit).await
    }

    async fn stale_deletions(
        &self,
        before_ms: i64,
        now_ms: i64,
        limit: u32,
    ) -> quay_core::Result<Vec<Digest>> {
        self.inner.stale_deletions(before_ms, now_ms, limit).await
    }

    async fn finish_deletion(&self, digest: &Digest) -> quay_core::Result<()> {
        self.inner.finish_deletion(digest).await
    }

    async fn abandoned_uploads(
        &self,
        before_ms: i64,
        limit: u32,
    ) -> quay_core::Result<Vec<AbandonedUpload>> {
        self.inner.abandoned_uploads(before_ms, limit).await
    }

    async fn forget_upload(&self, id: &str) -> quay_core::Result<()> {
        self.inner.forget_upload(id).await
    }
}
