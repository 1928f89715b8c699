//! The one error type of the domain.
//!
//! Variants name the condition, never an HTTP status: the frontends decide how a condition
//! is presented (`quay-http` maps each one to an OCI error code in one place).

use crate::names::{Digest, TagName};
use crate::upstream::UpstreamFailure;

/// What went wrong, by condition.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A repository path does not follow the naming rules; the message says which rule.
    #[error("{0}")]
    NameInvalid(String),
    /// A tag does not follow the naming rules; the message says which rule.
    #[error("{0}")]
    TagInvalid(String),
    /// A digest does not follow the `algorithm:hex` grammar, or names an algorithm we cannot
    /// verify; the message says which.
    #[error("{0}")]
    DigestInvalid(String),
    /// Uploaded content does not hash to the digest the client claimed.
    #[error("provided digest {expected} did not match uploaded content ({actual})")]
    DigestMismatch {
        /// The digest the client gave.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// The repository does not exist.
    #[error("repository not found")]
    RepositoryUnknown,
    /// The blob is not linked to the repository (or does not exist at all).
    #[error("blob unknown to registry: {0}")]
    BlobUnknown(Digest),
    /// The upload session does not exist (never created, finished, cancelled or expired).
    #[error("blob upload unknown to registry")]
    UploadUnknown,
    /// A chunk does not start where the upload currently ends.
    #[error("chunk starts at {requested}, but the upload has {current} bytes")]
    UploadOutOfOrder {
        /// Bytes stored so far, i.e. where the next chunk must start.
        current: u64,
        /// Where the rejected chunk claimed to start.
        requested: u64,
    },
    /// The upload request itself is unusable (missing digest, bad range, broken body).
    #[error("blob upload invalid: {0}")]
    UploadInvalid(String),
    /// The number of bytes received differs from what the request declared.
    #[error("provided length did not match content length: {0}")]
    SizeInvalid(String),
    /// A blob is larger than `MAXIMUM_LAYER_SIZE`.
    #[error("uploaded blob of {size} bytes is larger than {limit} bytes allowed by this registry")]
    BlobTooLarge {
        /// Bytes received (at least).
        size: u64,
        /// The configured maximum.
        limit: u64,
    },
    /// A manifest body cannot be parsed or breaks the schema of its media type.
    #[error("manifest invalid: {0}")]
    ManifestInvalid(String),
    /// A manifest's media type is not one the registry stores.
    #[error("manifest media type not supported: {0}")]
    ManifestUnsupported(String),
    /// A manifest body exceeds the configured maximum size.
    #[error("manifest of more than {limit} bytes")]
    ManifestTooLarge {
        /// The configured maximum, in bytes.
        limit: usize,
    },
    /// A manifest references a blob that the repository does not link.
    #[error("manifest references blob unknown to the repository: {0}")]
    ManifestBlobUnknown(Digest),
    /// A manifest list references a manifest that is not in the repository.
    #[error("manifest references manifest unknown to the repository: {0}")]
    ManifestReferenceUnknown(Digest),
    /// No manifest with that digest or tag in the repository.
    #[error("manifest unknown")]
    ManifestUnknown,
    /// The tag exists only in the time machine.
    #[error("Tag {0} was deleted or has expired. To pull, revive via time machine")]
    TagExpired(TagName),
    /// The tag (named here) is immutable and cannot be moved, deleted or expired.
    #[error("tag {0} is immutable and cannot be overwritten")]
    TagImmutable(String),
    /// Another change of the tag (named here) came first; the caller may try again.
    #[error("tag {0} has changed in the meantime; try again")]
    TagChanged(String),
    /// The blob's bytes are being removed by garbage collection right now; linking it must
    /// wait until they are gone, and then store them again.
    #[error("blob {0} is being garbage collected")]
    BlobBeingCollected(Digest),
    /// A manifest that a live tag holds needs the blob: deleting it would break that image.
    #[error(
        "blob {0} is needed by a manifest a live tag of this repository holds; delete the tag first"
    )]
    BlobInUse(Digest),
    /// The manifest has no tag of its own but is alive as part of a manifest list.
    #[error("manifest {0} is part of a manifest list of this repository; delete the list")]
    ManifestInUse(Digest),
    /// The push would take the namespace to a Reject limit of its quota.
    #[error("Quota has been exceeded on namespace")]
    QuotaExceeded(crate::quota::Reached),
    /// The upstream registry of a proxy cache organization did not give what was asked,
    /// and the cache holds no copy it may serve instead (Quay's message).
    #[error(
        "the requested image may not exist in the upstream registry, or the configured \
         organization credentials have insufficient rights to access it ({0})"
    )]
    Upstream(UpstreamFailure),

    /// A push into a proxy cache organization, whose repositories only its upstream fills.
    #[error(
        "{namespace} is a proxy cache of {upstream}: its repositories are filled on pull, \
         and cannot be pushed to"
    )]
    ProxyCacheReadOnly {
        /// The organization.
        namespace: String,
        /// Its upstream.
        upstream: String,
    },
    /// A write to a repository whose state refuses it: read-only, or a mirror, whose tags
    /// only its sync (and its robot) change.
    #[error("Repository is in read only or mirror mode: {state}; {detail}")]
    RepositoryNotWritable {
        /// `READ_ONLY` or `MIRROR`.
        state: &'static str,
        /// What the repository is, for the client.
        detail: String,
    },
    /// The request is malformed (a field, a parameter, a body).
    #[error("{0}")]
    InvalidRequest(String),
    /// A name (user, organization, team, robot, repository) is taken.
    #[error("{0}")]
    AlreadyExists(String),
    /// The named thing does not exist.
    #[error("{what} {name} not found")]
    NotFound {
        /// What was looked for (`user`, `team`, ...).
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// Credentials were given and are wrong (or their account is disabled). The message is
    /// for the client; it never contains a secret.
    #[error("{0}")]
    InvalidCredentials(String),
    /// Credentials cannot be checked now: too many attempts failed for this account or
    /// client address, or the registry checks as many passwords as it can at once. The
    /// client may try again after `retry_after_s` seconds.
    #[error("{reason}; try again in {retry_after_s} seconds")]
    TooManyAttempts {
        /// Which of the two, for the client.
        reason: &'static str,
        /// When to try again.
        retry_after_s: u64,
    },
    /// The caller is not allowed to do this.
    #[error("access denied")]
    Denied,
    /// The caller must authenticate first.
    #[error("authentication required")]
    Unauthorized,
    /// Something inside the registry failed (cryptography, a task). The cause is for the
    /// operator.
    #[error("internal failure: {0}")]
    Internal(BoxError),
    /// A storage backend failed (I/O, database, network). The cause is for the operator.
    #[error("storage failure: {0}")]
    Storage(BoxError),
    /// A store cannot do its part now, for a reason that passes: it is out of space,
    /// unreachable or overloaded. The reason is for the client (it names the store and the
    /// condition, never a secret); the cause is for the operator.
    #[error("{reason}; try again later")]
    StorageUnavailable {
        /// Which store, and what is wrong with it.
        reason: &'static str,
        /// What the store answered.
        #[source]
        cause: BoxError,
    },
}

/// The cause of a [`Error::Storage`], kept whole for the operator's log.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    /// A malformed request's reason, said of `field` (`field: reason`); other errors as
    /// they are.
    pub(crate) fn in_field(self, field: &str) -> Self {
        match self {
            Self::InvalidRequest(why) => Self::InvalidRequest(format!("{field}: {why}")),
            other => other,
        }
    }

    /// Wraps an adapter's failure.
    pub fn storage(cause: impl Into<BoxError>) -> Self {
        Self::Storage(cause.into())
    }
}

/// Results of the domain.
pub type Result<T, E = Error> = std::result::Result<T, E>;
