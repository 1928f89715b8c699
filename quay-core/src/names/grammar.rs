//! The grammars of names: which strings parse into the types of [`super`].

use std::str::FromStr;

use super::{
    Digest, DigestAlgorithm, LIBRARY_NAMESPACE, Namespace, Reference, RepoName, RepositoryPath,
    RobotName, TagName,
};
use crate::error::{Error, Result};

const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

impl Namespace {
    /// Parses a namespace name.
    pub fn parse(s: &str) -> Result<Self> {
        let valid = (2..=MAX_NAME_LEN).contains(&s.len())
            && s.split(['.', '_', '-'])
                .all(|part| !part.is_empty() && part.bytes().all(is_lower_alnum));
        if valid {
            Ok(Self(s.into()))
        } else {
            Err(Error::NameInvalid(format!(
                "invalid namespace {s:?}: a namespace has 2 to {MAX_NAME_LEN} characters, \
                 lowercase letters and digits in parts joined by one '.', '_' or '-'"
            )))
        }
    }
}

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
            Err(Error::NameInvalid(format!(
                "invalid repository name {s:?}: a repository name has 1 to {MAX_NAME_LEN} \
                 characters, in parts joined by '/' that each start with a lowercase letter \
                 or digit and hold only those, '.', '_' and '-'"
            )))
        }
    }
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
            Err(Error::TagInvalid(format!(
                "invalid tag {s:?}: a tag has 1 to {MAX_TAG_LEN} characters, letters, digits, \
                 '_', '.' and '-', and starts with a letter, a digit or '_'"
            )))
        }
    }
}

impl Digest {
    /// Parses a digest string.
    pub fn parse(s: &str) -> Result<Self> {
        let invalid = || {
            Error::DigestInvalid(format!(
                "invalid digest {s:?}: a digest is sha256: and 64 lowercase hexadecimal \
                 digits, or sha512: and 128"
            ))
        };
        let (algorithm, hex) = s.split_once(':').ok_or_else(invalid)?;
        let algorithm = match algorithm {
            "sha256" => DigestAlgorithm::Sha256,
            "sha512" => DigestAlgorithm::Sha512,
            _ => {
                return Err(Error::DigestInvalid(format!(
                    "unsupported digest algorithm in {s:?}: the registry verifies sha256 and \
                     sha512"
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

impl RobotName {
    /// Parses `owner+short`.
    pub fn parse(full: &str) -> Result<Self> {
        let (owner, short) = full.split_once('+').ok_or_else(|| {
            Error::NameInvalid(format!(
                "invalid robot name {full:?}: a robot name is <namespace>+<short name>"
            ))
        })?;
        Ok(Self {
            owner: Namespace::parse(owner)?,
            short: Namespace::parse(short)?,
        })
    }
}

macro_rules! from_str {
    ($($ty:ident),*) => {$(
        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::parse(s)
            }
        }
    )*};
}
from_str!(Namespace, RepoName, TagName, Digest);

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

    #[test]
    fn robot_names() {
        let robot = RobotName::parse("acme+deployer").unwrap();
        assert_eq!(robot.owner.as_str(), "acme");
        assert_eq!(robot.short.as_str(), "deployer");
        assert_eq!(robot.to_string(), "acme+deployer");
        for bad in ["acme", "acme+", "+bot", "Acme+bot", "acme+b", "acme+bot+x"] {
            assert!(RobotName::parse(bad).is_err(), "{bad}");
        }
    }
}
