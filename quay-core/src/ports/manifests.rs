//! The port of manifests and what is stored with them.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::audit::AuditEntry;
use crate::error::Result;
use crate::events::Event;
use crate::manifest::{ManifestMediaType, ParsedManifest, RequiredContent};
use crate::names::{Digest, TagName};
use crate::quota::Reached;
use crate::repository::RepositoryId;

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

impl NewManifest {
    /// The manifest `parsed` from `bytes`, with its configuration's `labels`.
    pub fn of(parsed: ParsedManifest, bytes: Bytes, labels: BTreeMap<String, String>) -> Self {
        Self {
            blobs: parsed.required_blobs(),
            children: parsed.child_manifests(),
            layers_size: parsed.layers_size(),
            artifact_type: parsed.referrer_artifact_type().map(str::to_string),
            config_media_type: parsed.config.as_ref().map(|c| c.media_type.clone()),
            subject: parsed.subject.as_ref().map(|s| s.digest.clone()),
            digest: parsed.digest,
            media_type: parsed.media_type,
            bytes,
            labels,
        }
    }
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

/// A repository's manifests: whether one is alive, and storing one.
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
    /// adds what they add to the sizes, retargets the tag or adds the temporary tag,
    /// records `audit`, and writes `event` (a tag push's `repo_push`) to the outbox for the
    /// notifications that want it. Where quotas are enforced, a push that grows the namespace to a
    /// Reject limit changes nothing and fails with [`crate::Error::QuotaExceeded`]; a
    /// Warning limit it reaches is returned.
    async fn store_manifest(
        &self,
        repository: RepositoryId,
        manifest: NewManifest,
        placement: TagPlacement,
        audit: Option<AuditEntry>,
        event: Option<Event>,
        now_ms: i64,
    ) -> Result<Option<Reached>>;
}

/// What is known about a repository's manifests besides their bytes: labels, referrers.
#[async_trait]
pub trait ManifestDetails: Send + Sync {
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
