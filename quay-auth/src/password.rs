//! Passwords, hashed with argon2id.
//!
//! Verifying a password costs tens of milliseconds on purpose. Clients that send Basic
//! credentials with every request (a plain `curl -u`) would pay that each time, so a
//! successful verification is remembered, keyed by the stored hash and the hash of the
//! password: a changed password has a new stored hash, which no remembered entry matches.

use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use moka::sync::Cache;
use sha2::{Digest as _, Sha256};

use crate::error::AuthError;

/// OWASP's argon2id parameters for 7 MiB of memory: each hash stays small in memory.
fn argon2() -> Argon2<'static> {
    let params = Params::new(7 * 1024, 5, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes and verifies passwords.
pub struct Passwords {
    verified: Cache<(String, [u8; 32]), ()>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self {
            verified: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(300))
                .build(),
        }
    }
}

impl Passwords {
    /// The stored form of a new password.
    pub async fn hash(&self, password: &str) -> Result<String, AuthError> {
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            let mut random = [0u8; 16];
            SecureRandom::fill(&SystemRandom::new(), &mut random).map_err(|_| AuthError::Random)?;
            let salt =
                SaltString::encode_b64(&random).map_err(|e| AuthError::Hashing(e.to_string()))?;
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| AuthError::Hashing(e.to_string()))
        })
        .await
        .map_err(|e| AuthError::Hashing(e.to_string()))?
    }

    /// Whether `password` is the one `stored` was made from.
    pub async fn verify(&self, password: &str, stored: &str) -> bool {
        let key = (
            stored.to_string(),
            Sha256::digest(password.as_bytes()).into(),
        );
        if self.verified.contains_key(&key) {
            return true;
        }
        let (password, stored) = (password.to_string(), stored.to_string());
        let valid = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored)
                .is_ok_and(|hash| argon2().verify_password(password.as_bytes(), &hash).is_ok())
        })
        .await
        .unwrap_or(false);
        if valid {
            self.verified.insert(key, ());
        }
        valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_against_their_hash_only() {
        let passwords = Passwords::default();
        let stored = passwords.hash("correct horse").await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(passwords.verify("correct horse", &stored).await);
        // Remembered, and still right.
        assert!(passwords.verify("correct horse", &stored).await);
        assert!(!passwords.verify("battery staple", &stored).await);
        assert!(!passwords.verify("correct horse", "garbage").await);
        let other = passwords.hash("correct horse").await.unwrap();
        assert_ne!(stored, other, "salted");
    }
}
