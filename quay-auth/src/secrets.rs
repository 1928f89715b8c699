//! Random secrets and how they are kept: never as such, only as a SHA-256 hash compared in
//! constant time. A token that must be found without a username (app tokens, OAuth tokens,
//! sessions) is a *lookup* part, stored in clear to find the row, followed by a *secret*
//! part, stored hashed. The secret parts are random and long, so a fast hash is enough;
//! passwords, chosen by people, get argon2 instead ([`crate::password`]).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use sha2::{Digest as _, Sha256};

use crate::error::AuthError;

/// Robot tokens, and the generated passwords of superuser-created users: Quay's alphabet.
pub(crate) const UPPER_ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// Everything else.
pub(crate) const ALPHANUMERIC: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `length` random characters of `alphabet`, without modulo bias.
pub(crate) fn random_string(length: usize, alphabet: &[u8]) -> Result<String, AuthError> {
    let rng = SystemRandom::new();
    // The largest multiple of the alphabet's size that fits a byte: bytes above it are
    // redrawn, so that every character is equally likely.
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(length);
    let mut buffer = [0u8; 64];
    while out.len() < length {
        rng.fill(&mut buffer).map_err(|_| AuthError::Random)?;
        for &byte in &buffer {
            if usize::from(byte) < limit && out.len() < length {
                out.push(char::from(alphabet[usize::from(byte) % alphabet.len()]));
            }
        }
    }
    Ok(out)
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` is the one `stored` was made from, in constant time.
pub fn verify_secret(secret: &str, stored: &str) -> bool {
    let candidate = hash_secret(secret);
    aws_lc_rs::constant_time::verify_slices_are_equal(candidate.as_bytes(), stored.as_bytes())
        .is_ok()
}

/// A token split into its lookup and secret parts, if it has the expected length.
pub(crate) fn split_token(
    token: &str,
    lookup_length: usize,
    total_length: usize,
) -> Option<(&str, &str)> {
    (token.len() == total_length && token.is_ascii()).then(|| token.split_at(lookup_length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_strings_use_the_alphabet_and_differ() {
        let a = random_string(64, UPPER_ALPHANUMERIC).unwrap();
        let b = random_string(64, UPPER_ALPHANUMERIC).unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| UPPER_ALPHANUMERIC.contains(&c)));
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_verify_only_against_their_hash() {
        let stored = hash_secret("s3cret");
        assert!(verify_secret("s3cret", &stored));
        assert!(!verify_secret("s3creT", &stored));
        assert!(!verify_secret("s3cret", "not a hash"));
    }

    #[test]
    fn tokens_split_into_lookup_and_secret() {
        let token = format!("{}{}", "L".repeat(60), "S".repeat(60));
        let (lookup, secret) = split_token(&token, 60, 120).unwrap();
        assert_eq!((lookup.len(), secret.len()), (60, 60));
        assert!(split_token("short", 60, 120).is_none());
    }
}
