//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): what lets a receiver
//! know that a webhook came from this registry, unchanged, and not replayed.
//!
//! Each request carries `webhook-id` (the event's id, the same on every retry, so that a
//! receiver de-duplicates), `webhook-timestamp` (seconds since the epoch) and
//! `webhook-signature`: `v1,` and the base64 of HMAC-SHA256 over `id.timestamp.body`, keyed
//! with the notification's secret.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The prefix of a secret as Standard Webhooks shows it; the rest is the key in base64.
pub const SECRET_PREFIX: &str = "whsec_";

/// The headers of one signed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
}

/// A notification's signing secret in its shown form (`whsec_` and base64) made from `key`.
pub fn secret_from_key(key: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The headers for `body` sent as event `id` at `timestamp_s`, signed with `secret` (shown
/// form). `None` when the secret is not one this registry made.
pub fn sign(secret: &str, id: &str, timestamp_s: i64, body: &[u8]) -> Option<SignedHeaders> {
    let key = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_s.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(SignedHeaders {
        id: id.to_string(),
        timestamp: timestamp_s.to_string(),
        signature: format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())),
    })
}
