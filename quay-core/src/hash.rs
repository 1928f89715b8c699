//! Hashing content as it streams by, with a state that can be saved between requests.
//!
//! An upload may arrive in many `PATCH` requests served by different nodes. Rather than
//! re-reading what was stored to verify the digest at the end, every chunk is hashed once as
//! it passes, and the SHA-256 state is saved with the upload's offset (see
//! [`UploadHasher::state`]); the next chunk, on any node, continues from that state.

use sha2::digest::common::hazmat::SerializableState;
use sha2::{Digest as _, Sha256, Sha512};

use crate::error::{Error, Result};
use crate::names::{Digest, DigestAlgorithm};

/// Resumable SHA-256 of an upload's bytes.
#[derive(Clone, Default)]
pub struct UploadHasher(Sha256);

impl UploadHasher {
    /// A hasher that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Continues from a state saved by [`UploadHasher::state`].
    pub fn resume(state: &[u8]) -> Result<Self> {
        let state = state
            .try_into()
            .map_err(|_| Error::storage("saved hash state has the wrong length"))?;
        Sha256::deserialize(state)
            .map(Self)
            .map_err(|_| Error::storage("saved hash state is corrupt"))
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The state to save between requests.
    pub fn state(&self) -> Vec<u8> {
        self.0.serialize().to_vec()
    }

    /// The digest of everything fed so far.
    pub fn digest(&self) -> Digest {
        Digest::from_hash(DigestAlgorithm::Sha256, &self.0.clone().finalize())
    }
}

/// Incremental hash of any supported algorithm, for verifying content against a digest
/// whose algorithm is known up front.
pub enum ContentHasher {
    /// SHA-256.
    Sha256(Sha256),
    /// SHA-512.
    Sha512(Sha512),
}

impl ContentHasher {
    /// A fresh hasher for `algorithm`.
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        match algorithm {
            DigestAlgorithm::Sha256 => Self::Sha256(Sha256::new()),
            DigestAlgorithm::Sha512 => Self::Sha512(Sha512::new()),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(bytes),
            Self::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        match self {
            Self::Sha256(h) => Digest::from_hash(DigestAlgorithm::Sha256, &h.finalize()),
            Self::Sha512(h) => Digest::from_hash(DigestAlgorithm::Sha512, &h.finalize()),
        }
    }
}

/// The digest of `bytes` under `algorithm`.
pub fn digest_of(algorithm: DigestAlgorithm, bytes: &[u8]) -> Digest {
    let mut hasher = ContentHasher::new(algorithm);
    hasher.update(bytes);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_state_continues_where_it_stopped() {
        let mut first = UploadHasher::new();
        first.update(b"hello ");
        let resumed = UploadHasher::resume(&first.state());
        let mut resumed = resumed.unwrap_or_else(|_| panic!("state must load"));
        resumed.update(b"world");
        assert_eq!(
            resumed.digest(),
            digest_of(DigestAlgorithm::Sha256, b"hello world")
        );
    }

    #[test]
    fn a_corrupt_state_is_an_error_not_a_panic() {
        assert!(UploadHasher::resume(b"short").is_err());
        assert!(UploadHasher::resume(&[0xff; 200]).is_err());
    }

    #[test]
    fn known_digests() {
        assert_eq!(
            digest_of(DigestAlgorithm::Sha256, b"").as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(
            digest_of(DigestAlgorithm::Sha512, b"")
                .as_str()
                .starts_with("sha512:cf83e135")
        );
    }
}
