//! Sealing secrets at rest with AES-256-GCM under the deployment's key
//! (`DATABASE_SECRET_KEY`), so that a copy of the database does not hand out the keys that
//! sign webhooks. A sealed value is `v1.` and the base64 of a random nonce followed by the
//! ciphertext and its tag; the version leaves room for another scheme later.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quay_core::ports::SecretSealer;
use sha2::{Digest as _, Sha256};

use crate::error::AuthError;

const VERSION: &str = "v1.";

/// Seals and opens secrets under one key.
pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl Sealer {
    /// A sealer whose key is derived from `material` (any length; a long random string).
    pub fn new(material: &[u8]) -> Result<Self, AuthError> {
        // The configured key is text of any length; the cipher wants 32 bytes.
        let mut hasher = Sha256::new();
        hasher.update(b"quay-rs sealed secrets\0");
        hasher.update(material);
        let key = UnboundKey::new(&AES_256_GCM, &hasher.finalize())
            .map_err(|_| AuthError::Sealing("the key"))?;
        Ok(Self {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        })
    }
}

/// A new key for [`Sealer::new`]: 64 random letters and digits, for a deployment that has
/// none configured.
pub fn new_sealing_key() -> Result<String, AuthError> {
    crate::secrets::random_string(64, crate::secrets::ALPHANUMERIC)
}

impl SecretSealer for Sealer {
    fn seal(&self, plain: &[u8]) -> quay_core::Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| AuthError::Random)?;
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut sealed,
            )
            .map_err(|_| AuthError::Sealing("sealing"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{VERSION}{}", STANDARD.encode(out)))
    }

    fn open(&self, sealed: &str) -> quay_core::Result<Vec<u8>> {
        let bytes = sealed
            .strip_prefix(VERSION)
            .and_then(|rest| STANDARD.decode(rest).ok())
            .filter(|bytes| bytes.len() >= NONCE_LEN)
            .ok_or(AuthError::Sealing(
                "a sealed value this registry did not make",
            ))?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| AuthError::Sealing("the nonce"))?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut in_out)
            .map_err(|_| AuthError::Sealing("a value sealed with another DATABASE_SECRET_KEY"))?;
        Ok(plain.to_vec())
    }

    fn random(&self, length: usize) -> quay_core::Result<Vec<u8>> {
        let mut bytes = vec![0; length];
        self.random
            .fill(&mut bytes)
            .map_err(|_| AuthError::Random)?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_only() {
        let sealer = Sealer::new(b"the deployment's key").unwrap();
        let sealed = sealer.seal(b"signing key").unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("signing"));
        assert_eq!(sealer.open(&sealed).unwrap(), b"signing key");
        assert_ne!(
            sealer.seal(b"signing key").unwrap(),
            sealed,
            "a fresh nonce each time"
        );

        let other = Sealer::new(b"another key").unwrap();
        let refused = other.open(&sealed).unwrap_err().to_string();
        assert!(refused.contains("another DATABASE_SECRET_KEY"), "{refused}");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open(&tampered).is_err());
        assert!(sealer.open("plain text").is_err());
        assert_eq!(sealer.random(24).unwrap().len(), 24);
    }
}
