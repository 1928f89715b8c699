//! What keeps a registry token standing: the account it was issued to still exists, may log
//! in and has the credential the token was issued for. Verified tokens are remembered with
//! the standing that last admitted them.

use std::sync::atomic::AtomicI64;
use std::time::Duration;

use quay_core::access::Identity;
use sha2::{Digest as _, Sha256};

/// A registry token already verified: for whom it is and until when.
pub(crate) struct VerifiedToken {
    pub(crate) audience: String,
    pub(crate) issued_s: i64,
    pub(crate) expires_s: i64,
    pub(crate) identity: Identity,
    /// The credential it was issued for ([`Standing::admits`]).
    pub(crate) credential: Option<String>,
    /// When the standing that last admitted it was read, epoch milliseconds: until
    /// [`STANDING_TTL`] after that, the token stands without another look, which keeps the
    /// check off the path of all but one request in a few seconds.
    pub(crate) admitted_at_ms: AtomicI64,
}

/// How long an account's standing is trusted before registry tokens are checked against a
/// fresh read: a token stops working at most this long after its account is deleted or
/// disabled, or its credential replaced (a robot token regenerated, a password changed),
/// also on other nodes.
pub(crate) const STANDING_TTL: Duration = Duration::from_millis(STANDING_TTL_MS.unsigned_abs());
pub(crate) const STANDING_TTL_MS: i64 = 3_000;

/// Locks that serialize reading standings again, one per stripe of accounts: few accounts
/// are read at once, and two sharing a stripe only wait for one read more.
pub(crate) const STANDING_READ_STRIPES: usize = 16;

/// What registry tokens of an account are checked against, as read at `read_ms`.
#[derive(Clone, Debug)]
pub(crate) struct Standing {
    pub(crate) read_ms: i64,
    /// The account's name, whether it may log in, and its credential; `None` once deleted.
    pub(crate) account: Option<(String, bool, String)>,
}

impl Standing {
    /// Whether a token issued to `name` for `credential` still stands.
    pub(crate) fn admits(&self, name: &str, credential: Option<&str>) -> bool {
        self.account
            .as_ref()
            .is_some_and(|(current, enabled, fingerprint)| {
                *enabled && current == name && credential == Some(fingerprint.as_str())
            })
    }
}

/// A short fingerprint of an account's stored secret (its password's or robot token's
/// hash): a registry token carries it, and a replaced secret no longer matches. It reveals
/// nothing of the secret: a hash of a hash, cut short.
pub(crate) fn credential_fingerprint(stored_secret: &str) -> String {
    hex::encode(&Sha256::digest(stored_secret.as_bytes())[..8])
}
