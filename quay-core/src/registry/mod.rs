//! The registry's use cases: pull, push, upload, delete and list, combining the ports.
//!
//! [`Registry`] holds no state of its own besides its settings: everything lives behind the
//! ports, so any number of `Registry` values (in one process or on many nodes) can serve the
//! same data. Authorization is not done here: the frontend asks its
//! [`Authorizer`](crate::access::Authorizer) before calling a use case.

mod listing;
mod push;
mod upload;

use std::sync::Arc;

pub use self::listing::{Page, Referrers};
pub use self::push::PushedManifest;
pub use self::upload::UploadStatus;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::names::{Digest, Reference, RepositoryPath};
use crate::ports::{
    BlobInfo, BlobStore, ByteStream, MetadataStore, Repository, StoredManifest, TagResolution,
    UploadStore,
};
use crate::range::{ByteRange, RangeRequest};

/// Limits and lifetimes, with Quay's defaults.
#[derive(Clone, Debug)]
pub struct RegistrySettings {
    /// Largest manifest accepted, in bytes (4 MiB).
    pub max_manifest_bytes: usize,
    /// Largest blob accepted (`MAXIMUM_LAYER_SIZE`); `None` for no limit.
    pub max_blob_bytes: Option<u64>,
    /// How long an upload or mount keeps a blob linked without a manifest
    /// (`PUSH_TEMP_TAG_EXPIRATION_SEC`, one hour).
    pub upload_link_ms: i64,
    /// How long a manifest pushed by digest stays alive without a tag (one hour).
    pub untagged_manifest_ms: i64,
    /// Most entries of one tag or catalog page (10,000).
    pub max_page_size: u32,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            max_manifest_bytes: 4 * 1024 * 1024,
            max_blob_bytes: None,
            upload_link_ms: 3_600_000,
            untagged_manifest_ms: 3_600_000,
            max_page_size: 10_000,
        }
    }
}

/// The registry: every use case of the distribution API.
pub struct Registry {
    metadata: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    uploads: Arc<dyn UploadStore>,
    clock: Arc<dyn Clock>,
    settings: RegistrySettings,
}

/// A blob download.
pub enum BlobRead {
    /// The whole blob.
    Whole {
        /// The blob.
        blob: BlobInfo,
        /// Its bytes.
        body: ByteStream,
    },
    /// The requested range of it.
    Part {
        /// The blob.
        blob: BlobInfo,
        /// The range being sent.
        range: ByteRange,
        /// The range's bytes.
        body: ByteStream,
    },
    /// The requested range lies outside the blob.
    Unsatisfiable {
        /// The blob.
        blob: BlobInfo,
    },
}

/// Whether the registry can reach its stores.
#[derive(Debug)]
pub struct Health {
    /// The metadata store answered a query.
    pub database: Result<()>,
    /// The blob store answered a lookup.
    pub storage: Result<()>,
}

impl Registry {
    /// A registry on these stores, with the system clock.
    pub fn new(
        metadata: Arc<dyn MetadataStore>,
        blobs: Arc<dyn BlobStore>,
        uploads: Arc<dyn UploadStore>,
        settings: RegistrySettings,
    ) -> Self {
        Self {
            metadata,
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

    /// The settings in force.
    pub fn settings(&self) -> &RegistrySettings {
        &self.settings
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The repository at `path`, which must exist.
    async fn existing(&self, path: &RepositoryPath) -> Result<Repository> {
        self.metadata
            .find_repository(path)
            .await?
            .ok_or(Error::RepositoryUnknown)
    }

    /// The repository at `path`, created on first push.
    async fn for_push(&self, path: &RepositoryPath) -> Result<Repository> {
        match self.metadata.find_repository(path).await? {
            Some(repository) => Ok(repository),
            None => self.metadata.create_repository(path, self.now_ms()).await,
        }
    }

    /// Checks both stores with one cheap read each.
    pub async fn health(&self) -> Health {
        let empty = crate::hash::digest_of(crate::DigestAlgorithm::Sha256, b"");
        Health {
            database: self.metadata.list_repositories(None, 1).await.map(drop),
            storage: self.blobs.blob_size(&empty).await.map(drop),
        }
    }

    /// The manifest a tag points to, or the live manifest with that digest.
    pub async fn manifest(
        &self,
        path: &RepositoryPath,
        reference: &Reference,
    ) -> Result<Arc<StoredManifest>> {
        let repository = self.existing(path).await?;
        let now_ms = self.now_ms();
        match reference {
            Reference::Tag(tag) => match self
                .metadata
                .resolve_tag(repository.id, tag, now_ms)
                .await?
            {
                TagResolution::Alive(live) => Ok(live.manifest),
                TagResolution::Expired => Err(Error::TagExpired(tag.clone())),
                TagResolution::Unknown => Err(Error::ManifestUnknown),
            },
            Reference::Digest(digest) => self
                .metadata
                .live_manifest(repository.id, digest, now_ms)
                .await?
                .map(|live| live.manifest)
                .ok_or(Error::ManifestUnknown),
        }
    }

    /// The blob, if the repository links it.
    pub async fn blob(&self, path: &RepositoryPath, digest: &Digest) -> Result<BlobInfo> {
        let repository = self.existing(path).await?;
        self.linked_blob(&repository, digest).await
    }

    async fn linked_blob(&self, repository: &Repository, digest: &Digest) -> Result<BlobInfo> {
        let linked = self
            .metadata
            .linked_blob(repository.id, digest, self.now_ms())
            .await?
            .ok_or_else(|| Error::BlobUnknown(digest.clone()))?;
        Ok(BlobInfo {
            digest: digest.clone(),
            size: linked.size,
        })
    }

    /// Reads a blob the repository links, honouring a `Range` header.
    pub async fn read_blob(
        &self,
        path: &RepositoryPath,
        digest: &Digest,
        range_header: Option<&str>,
    ) -> Result<BlobRead> {
        let blob = self.blob(path, digest).await?;
        let request = range_header.map_or(RangeRequest::Whole, |header| {
            RangeRequest::parse(header, blob.size)
        });
        Ok(match request {
            RangeRequest::Whole => BlobRead::Whole {
                body: self.blobs.read_blob(digest, None).await?,
                blob,
            },
            RangeRequest::Part(range) => BlobRead::Part {
                body: self.blobs.read_blob(digest, Some(range)).await?,
                blob,
                range,
            },
            RangeRequest::Unsatisfiable => BlobRead::Unsatisfiable { blob },
        })
    }
}
