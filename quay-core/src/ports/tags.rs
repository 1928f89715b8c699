//! The port of tags and their history (the time machine).

use std::sync::Arc;

use async_trait::async_trait;

use super::manifests::{LiveManifest, StoredManifest};
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::manifest::ManifestMediaType;
use crate::names::{Digest, TagName};
use crate::repository::RepositoryId;
use crate::tag::{Closing, Opening, TagRow};

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

/// Tags of repositories: what they point to, and the changes that move them.
#[async_trait]
pub trait TagStore: Send + Sync {
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

/// A tag's rows and lifetimes, as the tag use cases read them before they decide.
#[async_trait]
pub trait TagHistory: Send + Sync {
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

    /// The manifest `digest` if the repository still holds it (alive or only in the time
    /// machine): what a proxy cache serves while its upstream is away.
    async fn held_manifest(
        &self,
        repository: RepositoryId,
        digest: &Digest,
    ) -> Result<Option<StoredManifest>>;
}
