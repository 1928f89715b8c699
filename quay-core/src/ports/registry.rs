//! Ports of the registry's content: repositories, blobs, uploads, manifests and tags.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

use crate::account::NamespaceId;
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::manifest::{ManifestMediaType, RequiredContent};
use crate::names::{Digest, RepositoryPath, TagName};
use crate::permission::Visibility;
use crate::prune::PrunePolicy;
use crate::quota::Reached;
use crate::range::ByteRange;
use crate::repository::{NewRepository, Repository, RepositoryDetails, RepositoryId};
use crate::tag::{Closing, Opening, TagRow};

/// A stream of bytes: request bodies in, blob contents out.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// A borrowed byte stream, for adapters that consume a stream the caller keeps owning.
pub type ByteSource<'a> = dyn Stream<Item = io::Result<Bytes>> + Send + Unpin + 'a;

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
    /// A manifest of the repository still references the blob; nothing was changed.
    StillReferenced,
    /// The repository did not link the blob.
    NotLinked,
}

/// An upload in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadSession {
    /// The upload's id (a UUID).
    pub id: String,
    /// The repository it uploads to.
    pub repository: RepositoryId,
    /// Bytes received so far.
    pub size: u64,
    /// The saved SHA-256 state of those bytes (empty before the first byte).
    pub hash_state: Vec<u8>,
    /// Names of the stored parts, in order.
    pub parts: Vec<String>,
}

/// A manifest stored in a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredManifest {
    /// Database id.
    pub id: i64,
    /// Its digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: ManifestMediaType,
    /// The bytes exactly as pushed.
    pub bytes: Bytes,
}

/// A manifest found alive in a repository, and until when that is certain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveManifest {
    /// The manifest.
    pub manifest: Arc<StoredManifest>,
    /// The tags keeping it alive all expire then (`None`: no expiry).
    pub fresh_until_ms: Option<i64>,
}

/// What a tag name resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagResolution {
    /// The tag is alive and points to this manifest.
    Alive(LiveManifest),
    /// The tag has only ended rows: it was deleted or has expired.
    Expired,
    /// The repository never had this tag (or its history was collected).
    Unknown,
}

/// The alive visible tags of a repository, sorted by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagList {
    /// Tag names in ascending byte order.
    pub names: Arc<[TagName]>,
    /// The first expiry among them (`None`: none expires).
    pub fresh_until_ms: Option<i64>,
}

/// A manifest to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewManifest {
    /// Its digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: ManifestMediaType,
    /// The bytes as pushed.
    pub bytes: Bytes,
    /// Blobs it references, which the repository must link, with the sizes they must have.
    pub blobs: Vec<RequiredContent>,
    /// Manifests it lists, which the repository must hold, with the sizes they must have.
    pub children: Vec<RequiredContent>,
    /// Its OCI subject.
    pub subject: Option<Digest>,
    /// The artifact type the referrers API reports.
    pub artifact_type: Option<String>,
    /// Media type of its config, if any.
    pub config_media_type: Option<String>,
    /// Sum of its layer sizes.
    pub layers_size: u64,
    /// Labels of its image configuration.
    pub labels: BTreeMap<String, String>,
}

/// How a stored manifest is kept alive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagPlacement {
    /// Point this tag at it.
    Tag {
        /// The tag.
        name: TagName,
        /// The new lifetime ends after this long (the `quay.expires-after` label).
        lifetime_ms: Option<i64>,
        /// The new lifetime is immutable (the `quay.immutable` label).
        immutable: bool,
    },
    /// Keep it alive with a hidden temporary tag until then (`None`: forever), unless
    /// another tag already keeps it alive at least that long.
    Hidden {
        /// End of the temporary tag.
        until_ms: Option<i64>,
    },
}

/// A manifest of a repository that refers to another through its `subject`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referrer {
    /// The referring manifest.
    pub manifest: StoredManifest,
    /// Its artifact type.
    pub artifact_type: Option<String>,
}

/// A part of an upload, stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenPart {
    /// The part's name, unique within the upload.
    pub name: String,
    /// Bytes in the part.
    pub size: u64,
}

/// Repositories by path.
#[async_trait]
pub trait RepositoryStore: Send + Sync {
    /// The repository at `path`, if it exists.
    async fn find_repository(&self, path: &RepositoryPath) -> Result<Option<Repository>>;

    /// The repository at `path` in namespace `namespace`, created if missing. Only when it
    /// is created: the creator gets admin, the organization's default permissions apply, and
    /// `audit` (if any) is recorded, filed under the new repository. Returns the repository
    /// and whether it was created.
    async fn create_repository(
        &self,
        namespace: NamespaceId,
        path: &RepositoryPath,
        new: NewRepository,
        audit: Option<AuditEntry>,
        now_ms: i64,
    ) -> Result<(Repository, bool)>;

    /// A repository's settings.
    async fn repository_details(
        &self,
        repository: RepositoryId,
    ) -> Result<Option<RepositoryDetails>>;

    /// Changes who may read the repository.
    async fn set_visibility(
        &self,
        repository: RepositoryId,
        visibility: Visibility,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Changes the description.
    async fn set_description(
        &self,
        repository: RepositoryId,
        description: &str,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Deletes the repository's metadata: tags, manifests, links, uploads, permissions.
    /// (Blob bytes are reclaimed by garbage collection.)
    async fn delete_repository(&self, repository: RepositoryId, audit: AuditEntry) -> Result<()>;

    /// Deletes a namespace with everything it owns: repositories, robots, teams, and for a
    /// user namespace the user. The entry is kept (filed under no namespace). It is here,
    /// with the repositories, so that whatever caches them sees the deletion.
    async fn delete_namespace(&self, namespace: NamespaceId, audit: AuditEntry) -> Result<()>;

    /// Up to `limit` repository paths in ascending order, after `after`.
    async fn list_repositories(
        &self,
        after: Option<&RepositoryPath>,
        limit: u32,
    ) -> Result<Vec<RepositoryPath>>;
}

/// Which blobs exist and which repositories link them.
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

    /// Up to `limit` repositories that link the blob.
    async fn repositories_linking(
        &self,
        digest: &Digest,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<Repository>>;

    /// Removes the repository's upload link to a blob, unless a manifest references it.
    async fn unlink_blob(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> Result<Unlink>;
}

/// Uploads in progress: their offset, hash state and parts, shared by every node.
#[async_trait]
pub trait UploadSessions: Send + Sync {
    /// Starts an upload with a fresh id.
    async fn create_upload(&self, repository: RepositoryId, now_ms: i64) -> Result<UploadSession>;

    /// The upload `id` of the repository, if it is in progress.
    async fn find_upload(
        &self,
        repository: RepositoryId,
        id: &str,
    ) -> Result<Option<UploadSession>>;

    /// Appends a stored part, if the upload still has `session.size` bytes (compare and
    /// set: of two racing chunks only one is recorded). Returns whether it was recorded.
    async fn record_part(
        &self,
        session: &UploadSession,
        part: &str,
        new_size: u64,
        hash_state: &[u8],
        now_ms: i64,
    ) -> Result<bool>;

    /// Ends the upload; whether it existed.
    async fn remove_upload(&self, repository: RepositoryId, id: &str) -> Result<bool>;
}

/// Manifests of repositories.
#[async_trait]
pub trait ManifestStore: Send + Sync {
    /// The manifest if it is alive in the repository: an alive tag (hidden ones included)
    /// points to it, or to a manifest list that contains it.
    async fn live_manifest(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        now_ms: i64,
    ) -> Result<Option<LiveManifest>>;

    /// Stores a manifest and places it, in one transaction: checks that every blob is
    /// linked and every child present, records the manifest and its references if new,
    /// adds what they add to the sizes, retargets the tag or adds the temporary tag, and
    /// records `audit`. Where quotas are enforced, a push that grows the namespace to a
    /// Reject limit changes nothing and fails with [`crate::Error::QuotaExceeded`]; a
    /// Warning limit it reaches is returned.
    async fn store_manifest(
        &self,
        repository: RepositoryId,
        manifest: NewManifest,
        placement: TagPlacement,
        audit: Option<AuditEntry>,
        now_ms: i64,
    ) -> Result<Option<Reached>>;

    /// The labels of a manifest.
    async fn manifest_labels(&self, manifest_id: i64) -> Result<Vec<ManifestLabel>>;

    /// The alive manifests of the repository whose subject is `subject`.
    async fn referrers(
        &self,
        repository: RepositoryId,
        subject: &Digest,
        now_ms: i64,
    ) -> Result<Vec<Referrer>>;
}

/// A label of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestLabel {
    /// Database id.
    pub id: i64,
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
    /// Where it came from (`manifest`: the image configuration).
    pub source: String,
}

/// Which tag names a history query covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagNameFilter {
    /// Exactly this name.
    Exact(String),
    /// Names containing this text.
    Containing(String),
}

/// A page of a repository's tag history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagHistoryQuery {
    /// Only rows alive now.
    pub only_active: bool,
    /// Only these names.
    pub name: Option<TagNameFilter>,
    /// Rows to skip.
    pub offset: u64,
    /// Most rows to return.
    pub limit: u32,
}

/// One lifetime of a visible tag, as the tag API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagLifetime {
    /// The tag's name.
    pub name: String,
    /// The manifest it pointed to.
    pub manifest_digest: Digest,
    /// That manifest's media type.
    pub media_type: ManifestMediaType,
    /// The sum of the manifest's layer sizes.
    pub size: u64,
    /// Start, epoch milliseconds.
    pub start_ms: i64,
    /// End, if it has one.
    pub end_ms: Option<i64>,
    /// A lifetime opened by a restore.
    pub reversion: bool,
    /// Immutable.
    pub immutable: bool,
}

/// Row changes of one tag that the time machine's rules decided on, applied together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagChange {
    /// The tag.
    pub name: TagName,
    /// The id and end of the newest row the decision was based on (`None`: the tag had no
    /// row): if another change got there first, nothing is applied and the change fails
    /// with [`Error::TagChanged`](crate::Error::TagChanged).
    pub based_on: Option<(i64, Option<i64>)>,
    /// Rows whose end changes.
    pub closings: Vec<Closing>,
    /// A new lifetime.
    pub opening: Option<Opening>,
    /// Rows whose end is set or cleared (expirations).
    pub expirations: Vec<(i64, Option<i64>)>,
    /// A row made mutable or immutable.
    pub immutability: Option<(i64, bool)>,
}

/// Tags of repositories.
#[async_trait]
pub trait TagStore: Send + Sync {
    /// Every row of the visible tag `name`, newest first (the alive one, if any, first),
    /// with the manifests' digests.
    async fn tag_rows(
        &self,
        repository: RepositoryId,
        name: &TagName,
    ) -> Result<Vec<(TagRow, Digest)>>;

    /// A page of the visible tags' lifetimes, newest first (by start, then name).
    async fn tag_history(
        &self,
        repository: RepositoryId,
        query: &TagHistoryQuery,
        now_ms: i64,
    ) -> Result<Vec<TagLifetime>>;

    /// The id of the manifest `digest` if the repository still holds it (alive or only in
    /// the time machine).
    async fn manifest_in_repository(
        &self,
        repository: RepositoryId,
        digest: &Digest,
    ) -> Result<Option<i64>>;

    /// Applies a change the rules decided on, with its log entries, in one transaction under
    /// the repository's lock. A tag that stops pointing to a manifest takes that manifest's
    /// cosign companion tags with it when no other tag keeps it.
    async fn apply_tag_change(
        &self,
        repository: RepositoryId,
        change: TagChange,
        audit: Vec<AuditEntry>,
        now_ms: i64,
    ) -> Result<()>;

    /// What the tag points to now.
    async fn resolve_tag(
        &self,
        repository: RepositoryId,
        tag: &TagName,
        now_ms: i64,
    ) -> Result<TagResolution>;

    /// The alive visible tags.
    async fn list_tags(&self, repository: RepositoryId, now_ms: i64) -> Result<TagList>;

    /// Ends the tag's alive row, recording `audit`; whether there was one.
    async fn delete_tag(
        &self,
        repository: RepositoryId,
        tag: &TagName,
        audit: AuditEntry,
        now_ms: i64,
    ) -> Result<bool>;

    /// Ends every alive tag (hidden ones included) pointing to the manifest, recording
    /// `audit` once per visible tag (with its name as `tag`); how many tags ended.
    async fn delete_manifest_tags(
        &self,
        repository: RepositoryId,
        digest: &Digest,
        audit: AuditEntry,
        now_ms: i64,
    ) -> Result<usize>;
}

/// Auto-prune policies of namespaces and repositories.
#[async_trait]
pub trait PruneStore: Send + Sync {
    /// The policies of a namespace (`repository: None`) or of one of its repositories.
    async fn prune_policies(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
    ) -> Result<Vec<PrunePolicy>>;

    /// Creates a policy, or replaces the one with its uuid, recording `audit`.
    async fn save_prune_policy(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        policy: &PrunePolicy,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Deletes a policy, recording `audit`; whether it existed.
    async fn delete_prune_policy(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        audit: AuditEntry,
    ) -> Result<bool>;

    /// Every policy with each repository it covers (a namespace's policy covers all of the
    /// namespace's repositories).
    async fn prune_targets(&self) -> Result<Vec<(PrunePolicy, Repository)>>;
}

/// Whether the database still takes writes, asked by health checks so that a load balancer
/// learns of a full or read-only database before clients' writes fail on it.
#[async_trait]
pub trait WriteProbe: Send + Sync {
    /// Writes and commits a marker; fails as a client's write would.
    async fn probe_writes(&self, now_ms: i64) -> Result<()>;
}

/// The registry's content in its database.
pub trait MetadataStore:
    RepositoryStore + BlobIndex + UploadSessions + ManifestStore + TagStore + PruneStore + WriteProbe
{
}

impl<T> MetadataStore for T where
    T: RepositoryStore
        + BlobIndex
        + UploadSessions
        + ManifestStore
        + TagStore
        + PruneStore
        + WriteProbe
{
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

/// Bytes of uploads in progress, and their promotion into the [`BlobStore`].
///
/// An upload is a sequence of parts, one per request that carried bytes. Writing a part is
/// atomic: if the body fails half-way, no part exists. Parts are never appended to, so the
/// scheme works on object stores without append or rename.
#[async_trait]
pub trait UploadStore: Send + Sync {
    /// Stores everything `body` yields as a new part of upload `upload`.
    async fn write_part(&self, upload: &str, body: &mut ByteSource<'_>) -> Result<WrittenPart>;

    /// Reads the parts back, in order, as one stream.
    async fn read_parts(&self, upload: &str, parts: &[String]) -> Result<ByteStream>;

    /// Makes the concatenated parts the content of blob `digest`, atomically: the blob is
    /// either absent or complete. The caller has verified the digest.
    async fn commit(&self, upload: &str, parts: &[String], digest: &Digest) -> Result<()>;

    /// Removes the parts (which may already be gone).
    async fn discard(&self, upload: &str, parts: &[String]) -> Result<()>;

    /// Removes what writes cut off by a crash left behind (a filesystem's staging files)
    /// and nothing touched since `before_ms`: a write in progress touches its file with
    /// every chunk. How many were removed.
    async fn remove_unfinished_writes(&self, before_ms: i64) -> Result<u64>;
}
