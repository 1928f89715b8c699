//! Validated names: parse once at the edge, and inside a value of these types is valid by
//! construction.
//!
//! The grammars are Quay's (`util/names.py`, `util/validation.py`), which accept everything
//! the OCI distribution specification's grammar accepts for the names Quay serves:
//! - a namespace is `[a-z0-9]+([._-][a-z0-9]+)*`, 2 to 255 characters;
//! - a repository name is one or more `/`-separated components `[a-z0-9][a-z0-9._-]*`, at
//!   most 255 characters in all (Quay's extended repository names);
//! - a tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`;
//! - a digest is `algorithm:encoded`; only `sha256` and `sha512` are accepted, because only
//!   those can be verified.
//!
//! The types are here; which strings are valid names, the grammars, in `grammar.rs`.
//!
//! None of these names ever becomes a storage path: blobs are stored by digest and uploads
//! by a generated id, so a name cannot escape the storage root whatever it contains.

mod grammar;

use std::fmt;
use std::sync::Arc;

/// The namespace used for single-segment repository paths (`FEATURE_LIBRARY_SUPPORT`).
pub const LIBRARY_NAMESPACE: &str = "library";

/// The owner of repositories: a user or an organization.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(Arc<str>);

impl Namespace {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a repository inside its namespace; may contain `/` (`a/b/c`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName(Arc<str>);

impl RepoName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A repository's full path: `namespace/name`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryPath {
    /// The owning namespace.
    pub namespace: Namespace,
    /// The name inside the namespace.
    pub name: RepoName,
}

/// A robot's full name: `<owner namespace>+<short name>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RobotName {
    /// The namespace the robot belongs to.
    pub owner: Namespace,
    /// The robot's name inside it.
    pub short: Namespace,
}

impl fmt::Display for RobotName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}", self.owner, self.short)
    }
}

/// A tag name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagName(Arc<str>);

impl TagName {
    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A hash algorithm the registry can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    /// SHA-256, the canonical algorithm.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The algorithm's name in a digest string.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Length of the hex encoding of a hash.
    pub fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }
}

/// A content digest, `algorithm:hex`, with lowercase hex of the algorithm's length.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    text: Arc<str>,
}

impl Digest {
    /// Builds a digest from a finished hash.
    pub fn from_hash(algorithm: DigestAlgorithm, hash: &[u8]) -> Self {
        Self {
            algorithm,
            text: format!("{}:{}", algorithm.name(), hex::encode(hash)).into(),
        }
    }

    /// The hash algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The hex encoding of the hash (after the `:`).
    pub fn hex(&self) -> &str {
        &self.text[self.algorithm.name().len() + 1..]
    }

    /// The whole digest, `algorithm:hex`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// What a manifest request names: a tag or a digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reference {
    /// A tag, resolved through the repository's tags.
    Tag(TagName),
    /// A digest, naming content directly.
    Digest(Digest),
}

macro_rules! text_name {
    ($($ty:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.as_str())
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    )*};
}
text_name!(Namespace, RepoName, TagName, Digest);

impl fmt::Display for RepositoryPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

impl fmt::Debug for RepositoryPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tag(tag) => tag.fmt(f),
            Self::Digest(digest) => digest.fmt(f),
        }
    }
}
