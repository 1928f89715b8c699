//! The metadata ports on the cache: the hot reads answered from it, every write retiring
//! the epoch of the repository it changed (and telling the peers).

use async_trait::async_trait;
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

use super::{CacheChange, CachedMetadata, fresh};

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
