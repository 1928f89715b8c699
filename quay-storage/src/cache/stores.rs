//! The metadata ports on the cache: the hot reads answered from it, every write retiring
//! the epoch of the repository it changed (and telling the peers).

use async_trait::async_trait;
use quay_core::account::NamespaceId;
use quay_core::audit::AuditEntry;
use quay_core::events::Event;
use quay_core::mirror::SyncSchedule;
use quay_core::ports::{
    BlobIndex, BlobInfo, ClaimState, ClaimedMirror, CollectedRepository, LinkedBlob, LiveManifest,
    ManifestStore, MirrorSave, MirrorStore, NewManifest, NewRepository, Repository,
    RepositoryCollection, RepositoryId, RepositoryState, RepositoryStore, StoredMirror, TagChange,
    TagList, TagPlacement, TagResolution, TagStore, Unlink,
};
use quay_core::quota::Reached;
use quay_core::{Digest, RepositoryPath, TagName};

use super::{CacheChange, CachedMetadata, fresh};

#[async_trait]
impl<M: RepositoryStore> RepositoryStore for CachedMetadata<M> {
    async fn find_repository(
        &self,
        path: &RepositoryPath,
    ) -> quay_core::Result<Option<Repository>> {
        if let Some(found) = self.lookups.repositories.count(self.repositories.get(path)) {
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
        self.changed(CacheChange::AtPath(path.clone())).await;
        created
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
}

#[async_trait]
impl<M: BlobIndex> BlobIndex for CachedMetadata<M> {
    async fn linked_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> quay_core::Result<Option<LinkedBlob>> {
        let key = (repository, self.epoch(repository), digest.clone());
        let cached = self.blobs.get(&key).filter(|linked| {
            linked
                .as_ref()
                .is_none_or(|l| fresh(l.fresh_until_ms, now_ms))
        });
        if let Some(linked) = self.lookups.blobs.count(cached) {
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

    async fn unlink_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> quay_core::Result<Unlink> {
        let unlinked = self.inner.unlink_blob(repository, digest, now_ms).await;
        self.changed(CacheChange::Repository(repository)).await;
        unlinked
    }

    async fn forget_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        audit: AuditEntry,
        now_ms: i64,
    ) -> quay_core::Result<Unlink> {
        let forgotten = self
            .inner
            .forget_blob(repository, digest, audit, now_ms)
            .await;
        self.changed(CacheChange::Repository(repository)).await;
        forgotten
    }
}

#[async_trait]
impl<M: ManifestStore> ManifestStore for CachedMetadata<M> {
    async fn live_manifest(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> quay_core::Result<Option<LiveManifest>> {
        let key = (repository, self.epoch(repository), digest.clone());
        let cached = self.manifests.get(&key).filter(|live| {
            live.as_ref()
                .is_none_or(|l| fresh(l.fresh_until_ms, now_ms))
        });
        if let Some(live) = self.lookups.manifests.count(cached) {
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
        event: Option<Event>,
        now_ms: i64,
    ) -> quay_core::Result<Option<Reached>> {
        let stored = self
            .inner
            .store_manifest(repository, manifest, placement, audit, event, now_ms)
            .await;
        self.changed(CacheChange::Repository(repository)).await;
        stored
    }
}

#[async_trait]
impl<M: TagStore> TagStore for CachedMetadata<M> {
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
        let cached = self.tags.get(&key).filter(|resolution| match resolution {
            TagResolution::Alive(live) => fresh(live.fresh_until_ms, now_ms),
            TagResolution::Expired | TagResolution::Unknown => true,
        });
        if let Some(resolution) = self.lookups.tags.count(cached) {
            return Ok(resolution);
        }
        let resolution = self.inner.resolve_tag(repository, tag, now_ms).await?;
        self.tags.insert(key, resolution.clone());
        Ok(resolution)
    }

    async fn list_tags(&self, repository: RepositoryId, now_ms: i64) -> quay_core::Result<TagList> {
        let key = (repository, self.epoch(repository));
        let cached = self
            .tag_lists
            .get(&key)
            .filter(|list| fresh(list.fresh_until_ms, now_ms));
        if let Some(list) = self.lookups.tag_lists.count(cached) {
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

/// Collection goes through the cache so that a repository whose tags and manifests it
/// removed is read afresh: a blob the cache still believed a manifest linked would
/// otherwise be reported present after its bytes are gone.
#[async_trait]
impl<M: RepositoryCollection> RepositoryCollection for CachedMetadata<M> {
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
}

#[async_trait]
impl<M: MirrorStore> MirrorStore for CachedMetadata<M> {
    async fn mirror(&self, repository: RepositoryId) -> quay_core::Result<Option<StoredMirror>> {
        self.inner.mirror(repository).await
    }

    async fn save_mirror(
        &self,
        repository: &Repository,
        save: MirrorSave,
        create: bool,
        audit: Vec<AuditEntry>,
        now_ms: i64,
    ) -> quay_core::Result<()> {
        let saved = self
            .inner
            .save_mirror(repository, save, create, audit, now_ms)
            .await;
        self.changed(CacheChange::AtPath(repository.path.clone()))
            .await;
        saved
    }

    async fn sealed_mirror_credentials(
        &self,
        repository: RepositoryId,
    ) -> quay_core::Result<Option<String>> {
        self.inner.sealed_mirror_credentials(repository).await
    }

    async fn change_schedule(
        &self,
        repository: RepositoryId,
        current: &SyncSchedule,
        next: &SyncSchedule,
        audit: Vec<AuditEntry>,
    ) -> quay_core::Result<bool> {
        self.inner
            .change_schedule(repository, current, next, audit)
            .await
    }

    async fn claim_mirror(
        &self,
        only: Option<RepositoryId>,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> quay_core::Result<Option<ClaimedMirror>> {
        self.inner.claim_mirror(only, now_ms, lease_until_ms).await
    }

    async fn renew_claim(
        &self,
        repository: RepositoryId,
        claim: &str,
        lease_until_ms: i64,
    ) -> quay_core::Result<ClaimState> {
        self.inner
            .renew_claim(repository, claim, lease_until_ms)
            .await
    }

    async fn release_claim(
        &self,
        claimed: &ClaimedMirror,
        next: &SyncSchedule,
        report: &serde_json::Value,
        audit: Vec<AuditEntry>,
        event: Option<Event>,
        now_ms: i64,
    ) -> quay_core::Result<bool> {
        self.inner
            .release_claim(claimed, next, report, audit, event, now_ms)
            .await
    }

    async fn record_sync_event(
        &self,
        repository: RepositoryId,
        audit: AuditEntry,
        event: Event,
        now_ms: i64,
    ) -> quay_core::Result<()> {
        self.inner
            .record_sync_event(repository, audit, event, now_ms)
            .await
    }

    async fn set_repository_state(
        &self,
        repository: &Repository,
        state: RepositoryState,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let set = self
            .inner
            .set_repository_state(repository, state, audit)
            .await;
        self.changed(CacheChange::AtPath(repository.path.clone()))
            .await;
        set
    }
}
