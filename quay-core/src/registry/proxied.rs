//! Pulls through a proxy cache organization: its repositories are copies of an upstream's,
//! filled on pull and kept for the configured lifetime.
//!
//! A tag alive in the cache is served without asking the upstream. Once its lifetime has
//! passed (or, with tags that never expire, on every pull), one HEAD asks the upstream for
//! the tag's digest: the same digest renews the tag, another is fetched. When the upstream
//! cannot answer (down, too slow, rate limiting, failing), the copy is served anyway and
//! the answer says how old it is. Manifests are stored whole, a list's children with it;
//! blobs are recorded from the descriptors and fetched on their first read.

use std::sync::Arc;

use super::stores::Registry;
use super::tags::based_on;
use crate::audit::{Actor, LogKind};
use crate::error::{Error, Result};
use crate::manifest::{self, ParsedManifest};
use crate::names::{Digest, Reference, RepositoryPath, TagName};
use crate::ports::{
    BlobInfo, ByteStream, NewManifest, StoredManifest, TagChange, TagPlacement, TagResolution,
    Upstream, UpstreamManifest, UpstreamOrigin, UpstreamSource,
};
use crate::proxy::ProxyCache;
use crate::repository::{Creation, NewRepository, Repository};
use crate::tag::{self as rules, TagRow, Target};
use crate::upstream::{UpstreamFailure, UpstreamProblem};

/// A manifest pulled, and whether it was served from the cache without the upstream's word.
#[derive(Clone, Debug)]
pub struct PulledManifest {
    /// The manifest.
    pub manifest: Arc<StoredManifest>,
    /// Set when a proxy cache served its copy because the upstream failed.
    pub stale: Option<Staleness>,
}

/// Why and how old a copy served without the upstream's word is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staleness {
    /// Seconds since the copy was fetched or last confirmed.
    pub age_s: u64,
    /// What the upstream did.
    pub failure: UpstreamFailure,
}

impl PulledManifest {
    pub(super) fn fresh(manifest: Arc<StoredManifest>) -> Self {
        Self {
            manifest,
            stale: None,
        }
    }
}

/// A proxied repository's copy of a tag: its newest lifetime's manifest.
struct HeldCopy {
    manifest: Arc<StoredManifest>,
    /// The tag's rows, newest first, as read: what a renewal is based on.
    rows: Vec<(TagRow, Digest)>,
    /// When that lifetime began: when the copy was fetched or last confirmed.
    since_ms: i64,
    /// The lifetime is alive and immutable: it stays what it is, whatever the upstream says.
    pinned: bool,
}

/// Where a proxied repository's content comes from.
pub(super) struct Proxied {
    upstream: Arc<dyn Upstream>,
    source: UpstreamSource,
    /// The organization's configuration.
    cache: ProxyCache,
}

impl Proxied {
    /// `host/repository` upstream.
    pub(super) fn describe(&self) -> String {
        self.source.describe()
    }
}

impl Registry {
    /// Pulls of proxy cache organizations go through `upstream` (`FEATURE_PROXY_CACHE`).
    pub fn with_upstream(mut self, upstream: Arc<dyn Upstream>) -> Self {
        self.upstream = Some(upstream);
        self
    }

    /// The upstream the repository at `path` is a copy of, if its namespace is a proxy
    /// cache organization (and proxying is on).
    pub(super) async fn proxied(&self, path: &RepositoryPath) -> Result<Option<Proxied>> {
        let Some(upstream) = &self.upstream else {
            return Ok(None);
        };
        let Some((namespace, cache)) = self.accounts.proxy_cache_named(&path.namespace).await?
        else {
            return Ok(None);
        };
        let repository = cache.upstream_repository(path.name.as_str());
        Ok(Some(Proxied {
            upstream: Arc::clone(upstream),
            source: UpstreamSource {
                origin: UpstreamOrigin::ProxyCache(namespace),
                endpoint: cache.endpoint(),
                repository,
            },
            cache,
        }))
    }

    /// The repository a client means that takes the registry for a mirror of an upstream:
    /// `path` in the organization serving `upstream_host` (containerd's `?ns=`), or, without
    /// one, in the organization serving Docker Hub when no local namespace has `path`'s
    /// (Docker's `registry-mirrors`). `None`: `path` is what it says.
    pub async fn mirrored(
        &self,
        path: &RepositoryPath,
        upstream_host: Option<&str>,
    ) -> Result<Option<RepositoryPath>> {
        let routes = &self.settings.mirror_routes;
        if self.upstream.is_none() || routes.is_empty() {
            return Ok(None);
        }
        let organization = match upstream_host {
            Some(host) => routes.organization_for(host),
            None => match routes.docker_hub() {
                Some(organization) if self.accounts.namespace(&path.namespace).await?.is_none() => {
                    Some(organization)
                }
                _ => None,
            },
        };
        organization
            .map(|organization| RepositoryPath::parse(&format!("{organization}/{path}")))
            .transpose()
    }

    /// Refuses to push into a proxy cache organization.
    pub(super) async fn refuse_proxied_push(&self, path: &RepositoryPath) -> Result<()> {
        match self.proxied(path).await? {
            Some(proxied) => Err(Error::ProxyCacheReadOnly {
                namespace: path.namespace.to_string(),
                upstream: proxied.cache.upstream_registry,
            }),
            None => Ok(()),
        }
    }

    /// The bytes of a blob a proxied repository records but the blob store does not have
    /// yet, from the upstream; `None` when the repository is not proxied or the bytes are
    /// here.
    pub(super) async fn blob_through(
        &self,
        path: &RepositoryPath,
        blob: &BlobInfo,
    ) -> Result<Option<ByteStream>> {
        let Some(proxied) = self.proxied(path).await? else {
            return Ok(None);
        };
        if self.blobs.blob_size(&blob.digest).await?.is_some() {
            return Ok(None);
        }
        Ok(Some(proxied.upstream.blob(&proxied.source, blob).await?))
    }

    /// The manifest `reference` names, from the cache or through it. The usage log names
    /// the upstream.
    pub(super) async fn pull_through(
        &self,
        proxied: &Proxied,
        path: &RepositoryPath,
        reference: &Reference,
    ) -> Result<(Repository, PulledManifest)> {
        let repository = self.repositories.find_repository(path).await?;
        match reference {
            Reference::Tag(tag) => self.cached_tag(proxied, path, repository, tag).await,
            Reference::Digest(digest) => {
                self.cached_digest(proxied, path, repository, digest).await
            }
        }
    }

    async fn cached_tag(
        &self,
        proxied: &Proxied,
        path: &RepositoryPath,
        repository: Option<Repository>,
        tag: &TagName,
    ) -> Result<(Repository, PulledManifest)> {
        let Proxied {
            upstream,
            source,
            cache,
        } = proxied;
        let lifetime_ms = lifetime_ms(cache);
        let reference = Reference::Tag(tag.clone());
        let mut held = None;
        if let Some(repository) = repository.clone() {
            let now_ms = self.now_ms();
            if lifetime_ms.is_some()
                && let TagResolution::Alive(live) =
                    self.tags.resolve_tag(repository.id, tag, now_ms).await?
            {
                return Ok((repository, PulledManifest::fresh(live.manifest)));
            }
            held = self.held_copy(&repository, tag, now_ms).await?;
            if let Some(copy) = held.as_ref().filter(|copy| copy.pinned) {
                return Ok((
                    repository,
                    PulledManifest::fresh(Arc::clone(&copy.manifest)),
                ));
            }
            if let Some(copy) = &held {
                let confirmed = match upstream.manifest_digest(source, &reference).await {
                    Ok(digest) => digest == copy.manifest.digest,
                    Err(Error::Upstream(failure)) if failure.is_transient() => {
                        return Ok((repository, self.stale(copy, failure)));
                    }
                    Err(other) => return Err(other),
                };
                if confirmed {
                    self.renew(&repository, tag, copy, lifetime_ms).await?;
                    return Ok((
                        repository,
                        PulledManifest::fresh(Arc::clone(&copy.manifest)),
                    ));
                }
            }
        }
        let fetched = match upstream.manifest(source, &reference).await {
            Ok(fetched) => fetched,
            Err(Error::Upstream(failure)) if failure.is_transient() => {
                return match (repository, &held) {
                    (Some(repository), Some(copy)) => Ok((repository, self.stale(copy, failure))),
                    _ => Err(Error::Upstream(failure)),
                };
            }
            Err(other) => return Err(other),
        };
        let repository = self.repository_to_fill(path, repository).await?;
        let placement = TagPlacement::Tag {
            name: tag.clone(),
            lifetime_ms,
            immutable: false,
        };
        let manifest = self.fill(proxied, &repository, fetched, placement).await?;
        Ok((repository, PulledManifest::fresh(manifest)))
    }

    async fn cached_digest(
        &self,
        proxied: &Proxied,
        path: &RepositoryPath,
        repository: Option<Repository>,
        digest: &Digest,
    ) -> Result<(Repository, PulledManifest)> {
        if let Some(repository) = &repository
            && let Some(live) = self
                .manifests
                .live_manifest(repository.id, digest, self.now_ms())
                .await?
        {
            return Ok((repository.clone(), PulledManifest::fresh(live.manifest)));
        }
        let reference = Reference::Digest(digest.clone());
        let fetched = match proxied.upstream.manifest(&proxied.source, &reference).await {
            Ok(fetched) => fetched,
            Err(Error::Upstream(failure)) if failure.is_transient() => {
                // Content named by its digest cannot be out of date: a copy the time
                // machine still holds is as good as the upstream's.
                if let Some(repository) = repository
                    && let Some(held) = self
                        .tag_history
                        .held_manifest(repository.id, digest)
                        .await?
                {
                    return Ok((repository, PulledManifest::fresh(Arc::new(held))));
                }
                return Err(Error::Upstream(failure));
            }
            Err(other) => return Err(other),
        };
        let repository = self.repository_to_fill(path, repository).await?;
        let placement = TagPlacement::Hidden {
            until_ms: lifetime_ms(&proxied.cache).map(|ms| self.now_ms() + ms),
        };
        let manifest = self.fill(proxied, &repository, fetched, placement).await?;
        Ok((repository, PulledManifest::fresh(manifest)))
    }

    /// The tag's newest lifetime, if the repository still holds its manifest.
    async fn held_copy(
        &self,
        repository: &Repository,
        tag: &TagName,
        now_ms: i64,
    ) -> Result<Option<HeldCopy>> {
        let rows = self.tag_history.tag_rows(repository.id, tag).await?;
        let Some((row, digest)) = rows.first().cloned() else {
            return Ok(None);
        };
        let manifest = self
            .tag_history
            .held_manifest(repository.id, &digest)
            .await?;
        Ok(manifest.map(|manifest| HeldCopy {
            manifest: Arc::new(manifest),
            since_ms: row.start_ms,
            pinned: row.immutable && row.is_alive(now_ms),
            rows,
        }))
    }

    /// The upstream confirmed the copy: the tag lives another lifetime from now (a tag
    /// whose lifetime never ends is left as it is).
    async fn renew(
        &self,
        repository: &Repository,
        tag: &TagName,
        copy: &HeldCopy,
        lifetime_ms: Option<i64>,
    ) -> Result<()> {
        let target = Target {
            manifest_id: copy.manifest.id,
            lifetime_ms,
            reversion: false,
            immutable: false,
        };
        match self
            .retarget(
                repository,
                tag,
                &copy.rows,
                target,
                Vec::new(),
                self.now_ms(),
            )
            .await
        {
            // Another pull renewed it first.
            Err(Error::TagChanged(_)) => Ok(()),
            renewed => renewed,
        }
    }

    fn stale(&self, copy: &HeldCopy, failure: UpstreamFailure) -> PulledManifest {
        let age_ms = self.now_ms().saturating_sub(copy.since_ms);
        PulledManifest {
            manifest: Arc::clone(&copy.manifest),
            stale: Some(Staleness {
                age_s: u64::try_from(age_ms / 1000).unwrap_or(0),
                failure,
            }),
        }
    }

    /// The repository a pull fills: created on the first pull (private), owned by the
    /// organization rather than the puller, who reads it as a member.
    async fn repository_to_fill(
        &self,
        path: &RepositoryPath,
        repository: Option<Repository>,
    ) -> Result<Repository> {
        if let Some(repository) = repository {
            return Ok(repository);
        }
        let namespace = self
            .accounts
            .namespace(&path.namespace)
            .await?
            .ok_or(Error::RepositoryUnknown)?;
        let new = NewRepository {
            visibility: self.settings.permissions.push_visibility,
            description: None,
            creator: None,
            creation: Creation::ForContent,
        };
        let (repository, _) = self
            .repositories
            .create_repository(namespace.id, path, new, None, self.now_ms())
            .await?;
        Ok(repository)
    }

    /// Stores what the upstream served: a list's children first (each kept alive by the
    /// list once it is stored), the blobs as records whose bytes come on first read, then
    /// the manifest itself.
    async fn fill(
        &self,
        proxied: &Proxied,
        repository: &Repository,
        fetched: UpstreamManifest,
        placement: TagPlacement,
    ) -> Result<Arc<StoredManifest>> {
        let parsed = parse_upstream(&fetched)?;
        for child in parsed.child_manifests() {
            let now_ms = self.now_ms();
            if self
                .manifests
                .live_manifest(repository.id, &child.digest, now_ms)
                .await?
                .is_some()
            {
                continue;
            }
            let reference = Reference::Digest(child.digest.clone());
            let fetched = proxied
                .upstream
                .manifest(&proxied.source, &reference)
                .await?;
            let placement = TagPlacement::Hidden {
                until_ms: Some(now_ms + self.settings.untagged_manifest_ms),
            };
            Box::pin(self.fill(proxied, repository, fetched, placement)).await?;
        }
        for blob in parsed.required_blobs() {
            let Some(size) = blob.size else {
                return Err(Error::Upstream(UpstreamFailure::new(
                    UpstreamProblem::Invalid,
                    format!(
                        "{} is a schema 1 manifest, which declares no blob sizes; \
                         it is not cached",
                        fetched.digest
                    ),
                )));
            };
            let now_ms = self.now_ms();
            let info = BlobInfo {
                digest: blob.digest,
                size,
            };
            self.blob_index
                .link_blob(
                    repository.id,
                    &info,
                    now_ms,
                    now_ms + self.settings.upload_link_ms,
                )
                .await?;
        }
        let digest = parsed.digest.clone();
        let new = NewManifest::of(parsed, fetched.bytes, Default::default());
        self.store_within_quota(repository, new, placement).await?;
        self.manifests
            .live_manifest(repository.id, &digest, self.now_ms())
            .await?
            .map(|live| live.manifest)
            .ok_or(Error::ManifestUnknown)
    }
}

/// How long after its last pull a tag may still be being pulled, and is not evicted.
const PULL_IN_PROGRESS_MS: i64 = 10_000;

/// Tag rows a collection removes at a time.
const COLLECTION_BATCH: u32 = 500;

impl Registry {
    /// Stores a manifest in a proxy cache organization. Over the organization's quota, its
    /// least recently pulled tags make room one at a time (Quay's rule): each leaves the
    /// time machine at once and its repository is collected, which gives back the space of
    /// what no other tag uses. An image larger than the whole quota evicts nothing.
    async fn store_within_quota(
        &self,
        repository: &Repository,
        new: NewManifest,
        placement: TagPlacement,
    ) -> Result<()> {
        let filled = match &placement {
            TagPlacement::Tag { name, .. } => Some(name.clone()),
            TagPlacement::Hidden { .. } => None,
        };
        loop {
            let now_ms = self.now_ms();
            let stored = self
                .manifests
                .store_manifest(
                    repository.id,
                    new.clone(),
                    placement.clone(),
                    None,
                    None,
                    now_ms,
                )
                .await;
            match stored {
                Ok(_) => return Ok(()),
                Err(Error::QuotaExceeded(reached)) if new.layers_size <= reached.limit_bytes => {
                    if !self.evict_one(repository, filled.as_ref()).await? {
                        return Err(Error::QuotaExceeded(reached));
                    }
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// Evicts the organization's least recently pulled tag other than `filled`; whether
    /// there was one.
    async fn evict_one(&self, repository: &Repository, filled: Option<&TagName>) -> Result<bool> {
        let now_ms = self.now_ms();
        let Some((victim, tag)) = self
            .accounts
            .least_recently_pulled_tag(
                repository.namespace,
                filled.map(|tag| (repository.id, tag)),
                now_ms - PULL_IN_PROGRESS_MS,
                now_ms,
            )
            .await?
        else {
            return Ok(false);
        };
        let namespace = self
            .accounts
            .namespace(&repository.path.namespace)
            .await?
            .ok_or(Error::RepositoryUnknown)?;
        let window_ms = namespace.tag_expiration_s.saturating_mul(1000);
        let history: Vec<_> = self
            .tag_history
            .tag_rows(victim.id, &tag)
            .await?
            .into_iter()
            .map(|(row, _)| row)
            .collect();
        // Gone meanwhile: the next candidate is asked for.
        let Some(alive) = history.iter().find(|row| row.is_alive(now_ms)) else {
            return Ok(true);
        };
        let closings =
            rules::remove_from_time_machine(&history, alive.manifest_id, true, now_ms, window_ms);
        let change = TagChange {
            closings,
            ..based_on(&tag, &history)
        };
        let audit = Actor::system()
            .entry(LogKind::PermanentlyDeleteTag, now_ms)
            .repository(&victim)
            .meta("tag", tag.as_str())
            .meta(
                "reason",
                "evicted: the proxy cache organization is over its quota",
            );
        match self
            .tags
            .apply_tag_change(victim.id, change, vec![audit], now_ms)
            .await
        {
            Ok(()) | Err(Error::TagChanged(_)) => {}
            Err(other) => return Err(other),
        }
        loop {
            let collected = self
                .collection
                .collect_repository(victim.id, self.now_ms(), COLLECTION_BATCH)
                .await?;
            if collected.tags < u64::from(COLLECTION_BATCH) {
                return Ok(true);
            }
        }
    }
}

/// The lifetime of a cached tag, milliseconds (`None`: it never ends).
fn lifetime_ms(cache: &ProxyCache) -> Option<i64> {
    cache
        .expiration_s
        .map(|seconds| i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX))
}

/// The upstream's manifest, parsed; one that does not parse, or whose digest is not what
/// the upstream said, is the upstream's fault.
pub(super) fn parse_upstream(fetched: &UpstreamManifest) -> Result<ParsedManifest> {
    let invalid =
        |detail: String| Error::Upstream(UpstreamFailure::new(UpstreamProblem::Invalid, detail));
    let parsed = manifest::parse(&fetched.bytes, None, fetched.digest.algorithm())
        .map_err(|error| invalid(format!("its manifest {}: {error}", fetched.digest)))?;
    if parsed.digest != fetched.digest {
        return Err(invalid(format!(
            "it served {} for {}",
            parsed.digest, fetched.digest
        )));
    }
    Ok(parsed)
}
