//! The registry's use cases: pull, push, upload, delete and list, combining the ports.
//!
//! [`Registry`] holds no state of its own besides its settings: everything lives behind the
//! ports, so any number of `Registry` values (in one process or on many nodes) can serve the
//! same data. Authorization is not done here: the frontend asks its
//! [`Authorizer`](crate::access::Authorizer) before calling a use case.

mod listing;
mod prune;
mod push;
mod quota;
mod tags;
mod upload;

use std::sync::Arc;

pub use self::listing::{Page, Referrers};
pub use self::push::PushedManifest;
pub use self::tags::TagHistoryPage;
pub use self::upload::UploadStatus;
use crate::audit::{Actor, LogKind};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::names::{Digest, Reference, RepositoryPath};
use crate::permission::{PermissionSettings, Visibility};
use crate::ports::{
    AccountDirectory, AuditSink, BlobInfo, BlobStore, ByteStream, LocationHealth, MetadataStore,
    NewRepository, Repository, StoredManifest, TagResolution, UploadStore,
};
use crate::quota::QuotaSettings;
use crate::range::{ByteRange, RangeRequest};
use crate::tag::ExpirationLimits;

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
    /// Who may read a repository created by a push (`CREATE_PRIVATE_REPO_ON_PUSH`: private).
    pub push_visibility: Visibility,
    /// Who may do what (`FEATURE_ANONYMOUS_ACCESS`, `FEATURE_SUPERUSERS_FULL_ACCESS`); with
    /// `CREATE_NAMESPACE_ON_PUSH`, a push creates a missing namespace, as an organization
    /// owned by the pusher.
    pub permissions: PermissionSettings,
    /// Bounds of expirations set through the API.
    pub expiration_limits: ExpirationLimits,
    /// Whether the `quay.immutable` label makes pushed tags immutable
    /// (`FEATURE_IMMUTABLE_TAGS`, default false).
    pub immutable_tags: bool,
    /// Whether pushes are held to quotas.
    pub quota: QuotaSettings,
    /// Whether blob downloads are redirected to a URL the blob store signs, where it can
    /// (Quay's direct download: `FEATURE_PROXY_STORAGE` false, object storage), so that
    /// the bytes do not pass through the registry.
    pub direct_download: bool,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            max_manifest_bytes: 4 * 1024 * 1024,
            max_blob_bytes: None,
            upload_link_ms: 3_600_000,
            untagged_manifest_ms: 3_600_000,
            max_page_size: 10_000,
            push_visibility: Visibility::Private,
            permissions: PermissionSettings::default(),
            expiration_limits: ExpirationLimits::default(),
            immutable_tags: false,
            quota: QuotaSettings::default(),
            direct_download: false,
        }
    }
}

/// The stores a registry works on.
#[derive(Clone)]
pub struct Stores {
    /// Repositories, manifests, tags, blob links, uploads.
    pub metadata: Arc<dyn MetadataStore>,
    /// Namespaces (a push may create one) and their quotas.
    pub accounts: Arc<dyn AccountDirectory>,
    /// Blob bytes.
    pub blobs: Arc<dyn BlobStore>,
    /// Upload bytes.
    pub uploads: Arc<dyn UploadStore>,
    /// Where pull entries of the usage log go.
    pub pull_log: Arc<dyn AuditSink>,
}

/// The registry: every use case of the distribution API.
pub struct Registry {
    metadata: Arc<dyn MetadataStore>,
    accounts: Arc<dyn AccountDirectory>,
    blobs: Arc<dyn BlobStore>,
    uploads: Arc<dyn UploadStore>,
    pull_log: Arc<dyn AuditSink>,
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
    /// The client downloads it from the blob store itself, at this signed URL (its `Range`
    /// header goes along).
    Elsewhere {
        /// The blob.
        blob: BlobInfo,
        /// Where.
        url: String,
    },
}

/// How long a direct download URL stays valid.
const DIRECT_DOWNLOAD_MS: u64 = 10 * 60 * 1000;

/// Whether the registry can reach its stores.
#[derive(Debug)]
pub struct Health {
    /// Whether the metadata store took a write.
    pub database: Result<()>,
    /// Whether each storage location took a write and read it back.
    pub storage: Vec<LocationHealth>,
}

impl Registry {
    /// A registry on these stores, with the system clock.
    pub fn new(stores: Stores, settings: RegistrySettings) -> Self {
        Self {
            metadata: stores.metadata,
            accounts: stores.accounts,
            blobs: stores.blobs,
            uploads: stores.uploads,
            pull_log: stores.pull_log,
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

    /// The repository at `path`, created on first push: private (or as configured), with
    /// the pusher as its admin. The caller has checked that `actor` may create it.
    async fn for_push(&self, path: &RepositoryPath, actor: &Actor) -> Result<Repository> {
        if let Some(repository) = self.metadata.find_repository(path).await? {
            return Ok(repository);
        }
        let now_ms = self.now_ms();
        let namespace = match self.accounts.namespace(&path.namespace).await? {
            Some(namespace) => namespace,
            None if self.settings.permissions.create_namespace_on_push => {
                let audit = actor
                    .entry(LogKind::OrgCreate, now_ms)
                    .meta("namespace", path.namespace.as_str());
                let creator = actor.account();
                match self
                    .accounts
                    .create_organization(&path.namespace, None, creator, audit, now_ms)
                    .await
                {
                    Ok(namespace) => namespace,
                    // Another push created it first.
                    Err(Error::AlreadyExists(_)) => self
                        .accounts
                        .namespace(&path.namespace)
                        .await?
                        .ok_or(Error::RepositoryUnknown)?,
                    Err(other) => return Err(other),
                }
            }
            None => {
                return Err(Error::NotFound {
                    what: "namespace",
                    name: path.namespace.to_string(),
                });
            }
        };
        let new = NewRepository {
            visibility: self.settings.push_visibility,
            description: None,
            creator: actor.account(),
        };
        let (repository, _) = self
            .metadata
            .create_repository(namespace.id, path, new, None, now_ms)
            .await?;
        Ok(repository)
    }

    /// Checks that the database and every storage location take a small write: a store that
    /// can still be read but no longer written (a full disk) is unhealthy.
    pub async fn health(&self) -> Health {
        let (database, storage) = futures::join!(
            self.metadata.probe_writes(self.now_ms()),
            self.blobs.check_locations()
        );
        Health { database, storage }
    }

    /// The manifest a tag points to, or the live manifest with that digest. The pull goes
    /// to the usage log.
    pub async fn manifest(
        &self,
        path: &RepositoryPath,
        reference: &Reference,
        actor: &Actor,
    ) -> Result<Arc<StoredManifest>> {
        let repository = self.existing(path).await?;
        let manifest = self.resolve(&repository, reference).await?;
        let entry = actor
            .entry(LogKind::PullRepo, self.now_ms())
            .repository(&repository)
            .meta("mediaType", manifest.media_type.as_str());
        let entry = match reference {
            Reference::Tag(tag) => entry.meta("tag", tag.as_str()),
            Reference::Digest(digest) => entry.meta("manifest_digest", digest.as_str()),
        };
        self.pull_log.record(entry).await;
        Ok(manifest)
    }

    /// What `reference` names in the repository.
    async fn resolve(
        &self,
        repository: &Repository,
        reference: &Reference,
    ) -> Result<Arc<StoredManifest>> {
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
        if self.settings.direct_download
            && let Some(url) = self.blobs.download_url(digest, DIRECT_DOWNLOAD_MS).await?
        {
            return Ok(BlobRead::Elsewhere { blob, url });
        }
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
