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
//! None of these names ever becomes a storage path: blobs are stored by digest and uploads
//! by a generated id, so a name cannot escape the storage root whatever it contains.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::error::{Error, Result};

/// The namespace used for single-segment repository paths (`FEATURE_LIBRARY_SUPPORT`).
pub const LIBRARY_NAMESPACE: &str = "library";

const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// The owner of repositories: a user or an organization.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(Arc<str>);

impl Namespace {
    /// Parses a namespace name.
    pub fn parse(s: &str) -> Result<Self> {
        let valid = (2..=MAX_NAME_LEN).contains(&s.len())
            && s.split(['.', '_', '-'])
                .all(|part| !part.is_empty() && part.bytes().all(is_lower_alnum));
        if valid {
            Ok(Self(s.into()))
        } else {
            Err(Error::NameInvalid(format!("invalid namespace name {s:?}")))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a repository inside its namespace; may contain `/` (`a/b/c`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName(Arc<str>);

impl RepoName {
    /// Parses a repository name (without its namespace).
    pub fn parse(s: &str) -> Result<Self> {
        let valid = !s.is_empty()
            && s.len() <= MAX_NAME_LEN
            && s.split('/').all(|component| {
                let bytes = component.as_bytes();
                !bytes.is_empty()
                    && is_lower_alnum(bytes[0])
                    && bytes[1..]
                        .iter()
                        .all(|&b| is_lower_alnum(b) || matches!(b, b'.' | b'_' | b'-'))
            });
        if valid {
            Ok(Self(s.into()))
        } else {
            Err(Error::NameInvalid(format!("invalid repository name {s:?}")))
        }
    }

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

impl RepositoryPath {
    /// Parses `ns/name[/more]`; a single segment `name` means `library/name`, as in Quay.
    pub fn parse(s: &str) -> Result<Self> {
        let (namespace, name) = s.split_once('/').unwrap_or((LIBRARY_NAMESPACE, s));
        Ok(Self {
            namespace: Namespace::parse(namespace)?,
            name: RepoName::parse(name)?,
        })
    }
}

/// A tag name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagName(Arc<str>);

impl TagName {
    /// Parses a tag.
    pub fn parse(s: &str) -> Result<Self> {
        let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
        let bytes = s.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= MAX_TAG_LEN
            && word(&bytes[0])
            && bytes[1..]
                .iter()
                .all(|b| word(b) || matches!(b, b'.' | b'-'));
        if valid {
            Ok(Self(s.into()))
        } else {
            Err(Error::TagInvalid(format!("invalid tag {s:?}")))
        }
    }

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
    /// Parses a digest string.
    pub fn parse(s: &str) -> Result<Self> {
        let invalid = || Error::DigestInvalid(format!("invalid digest {s:?}"));
        let (algorithm, hex) = s.split_once(':').ok_or_else(invalid)?;
        let algorithm = match algorithm {
            "sha256" => DigestAlgorithm::Sha256,
            "sha512" => DigestAlgorithm::Sha512,
            _ => {
                return Err(Error::DigestInvalid(format!(
                    "unsupported digest algorithm in {s:?}"
                )));
            }
        };
        let valid_hex = hex.len() == algorithm.hex_len()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid_hex {
            return Err(invalid());
        }
        Ok(Self {
            algorithm,
            text: s.into(),
        })
    }

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

impl Reference {
    /// Parses a reference: a digest if it contains `:`, a tag otherwise.
    pub fn parse(s: &str) -> Result<Self> {
        if s.contains(':') {
            Digest::parse(s).map(Self::Digest)
        } else {
            TagName::parse(s).map(Self::Tag)
        }
    }
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
        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::parse(s)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_follow_quay_rules() {
        for ok in ["ab", "a0", "my-org", "my.org_x", "a-b-c", &"a".repeat(255)] {
            assert!(Namespace::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "Ab",
            "-ab",
            "ab-",
            "a--b",
            "a..b",
            "a/b",
            &"a".repeat(256),
            "é",
        ] {
            assert!(Namespace::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repository_names_allow_nesting_but_no_escape() {
        for ok in ["a", "a/b/c", "x.y_z-1", "a--b", "a../b"] {
            assert!(RepoName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "/a", "a/", "a//b", "../a", "a/../b", "./a", "A", "a b", "a/.b", "a\\b",
        ] {
            assert!(RepoName::parse(bad).is_err(), "{bad}");
        }
        assert!(RepoName::parse(&"a".repeat(256)).is_err());
    }

    #[test]
    fn single_segment_paths_live_in_the_library_namespace() {
        let path = RepositoryPath::parse("busybox").unwrap();
        assert_eq!(path.to_string(), "library/busybox");
        let nested = RepositoryPath::parse("org/team/app").unwrap();
        assert_eq!(nested.namespace.as_str(), "org");
        assert_eq!(nested.name.as_str(), "team/app");
    }

    #[test]
    fn tags_follow_the_oci_grammar() {
        for ok in ["latest", "v1.0", "_x", "A-b.c_d", &"t".repeat(128)] {
            assert!(TagName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".x", "-x", "a/b", "a:b", &"t".repeat(129), "ü"] {
            assert!(TagName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digests_are_checked_for_algorithm_and_length() {
        let hex64 = "a".repeat(64);
        let d = Digest::parse(&format!("sha256:{hex64}")).unwrap();
        assert_eq!(d.hex(), hex64);
        assert_eq!(d.algorithm(), DigestAlgorithm::Sha256);
        assert!(Digest::parse(&format!("sha512:{}", "0".repeat(128))).is_ok());
        for bad in [
            "sha256:".to_string(),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}", "a".repeat(63)),
            format!("sha512:{hex64}"),
            format!("md5:{hex64}"),
            hex64,
        ] {
            assert!(
                matches!(Digest::parse(&bad), Err(Error::DigestInvalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn references_are_tags_or_digests() {
        assert!(matches!(Reference::parse("v1"), Ok(Reference::Tag(_))));
        let digest = format!("sha256:{}", "1".repeat(64));
        assert!(matches!(
            Reference::parse(&digest),
            Ok(Reference::Digest(_))
        ));
        assert!(matches!(
            Reference::parse("sha256:xyz"),
            Err(Error::DigestInvalid(_))
        ));
        assert!(matches!(Reference::parse("a/b"), Err(Error::TagInvalid(_))));
    }
}
