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
//! The cache implements only the ports whose reads it keeps, each with the writes that make
//! those reads stale (see [`quay_core::ports`]); [`CachedMetadata::stores`] hands out the
//! other ports on the store itself.
//!
//! Answers that only hold for a while (a tag that expires, an upload link that lapses) carry
//! their `fresh_until_ms`, and are treated as missing from then on.
//!
//! The epochs live in this process. Several nodes on one database tell each other what they
//! changed through [`Peers`] (on PostgreSQL `LISTEN/NOTIFY`, by `PostgresPeers`): every
//! write publishes its [`CacheChange`] before it returns, and each node retires the
//! answers the change touched as soon as it hears of it (within milliseconds).

mod stores;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use moka::sync::Cache;
use quay_core::ports::{
    AllMetadata, LinkedBlob, LiveManifest, MetadataStores, Repository, RepositoryId, TagList,
    TagResolution,
};
use quay_core::{Digest, RepositoryPath, TagName};

/// What a write changed, as the caches of other nodes need to hear it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheChange {
    /// Anything about one repository: its tags, manifests, links.
    Repository(RepositoryId),
    /// A repository was created at this path, or its state changed.
    AtPath(RepositoryPath),
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
    lookups: Lookups,
    peers: Option<Arc<dyn Peers>>,
}

/// `quay_cache_lookups_total{cache, result}`: each cache's hits and misses, the handles taken
/// once so that a lookup pays an atomic add.
struct Lookups {
    repositories: HitsAndMisses,
    tags: HitsAndMisses,
    manifests: HitsAndMisses,
    blobs: HitsAndMisses,
    tag_lists: HitsAndMisses,
}

struct HitsAndMisses {
    hits: metrics::Counter,
    misses: metrics::Counter,
}

impl HitsAndMisses {
    fn new(cache: &'static str) -> Self {
        let counter = |result: &'static str| metrics::counter!("quay_cache_lookups_total", "cache" => cache, "result" => result);
        Self {
            hits: counter("hit"),
            misses: counter("miss"),
        }
    }

    /// Counts a lookup, and passes on what it found (`None`: a miss).
    fn count<T>(&self, found: Option<T>) -> Option<T> {
        match &found {
            Some(_) => self.hits.increment(1),
            None => self.misses.increment(1),
        }
        found
    }
}

fn manifest_weight(manifest: Option<&LiveManifest>) -> u32 {
    let bytes = manifest.map_or(0, |live| live.manifest.bytes.len());
    ENTRY_OVERHEAD.saturating_add(u32::try_from(bytes).unwrap_or(u32::MAX))
}

impl<M> CachedMetadata<M> {
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
            lookups: Lookups {
                repositories: HitsAndMisses::new("repositories"),
                tags: HitsAndMisses::new("tags"),
                manifests: HitsAndMisses::new("manifests"),
                blobs: HitsAndMisses::new("blobs"),
                tag_lists: HitsAndMisses::new("tag_lists"),
            },
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
            CacheChange::AtPath(path) => self.repositories.invalidate(path),
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

impl<M: AllMetadata + Clone + 'static> CachedMetadata<M> {
    /// Every metadata port: those it caches on `cache`, the others on its store directly.
    pub fn stores(cache: &Arc<Self>) -> MetadataStores {
        MetadataStores {
            repositories: cache.clone(),
            blob_index: cache.clone(),
            manifests: cache.clone(),
            tags: cache.clone(),
            collection: cache.clone(),
            mirrors: cache.clone(),
            ..MetadataStores::on(&Arc::new(cache.inner.clone()))
        }
    }
}

fn fresh(until_ms: Option<i64>, now_ms: i64) -> bool {
    until_ms.is_none_or(|until| until > now_ms)
}
