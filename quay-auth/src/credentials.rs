//! Making credentials: robot tokens, app-specific tokens, OAuth access tokens and browser
//! sessions. Each is returned once, in clear, to be shown to its owner; only its hash (and
//! a lookup part where no username finds it) is stored.

use quay_core::account::AccountId;
use quay_core::ports::{TokenKind, TokenRecord};

use crate::error::AuthError;
use crate::secrets::{ALPHANUMERIC, UPPER_ALPHANUMERIC, hash_secret, random_string};

/// App-specific tokens: 60 lookup characters, then 60 secret ones (Quay's format).
pub const APP_TOKEN_LOOKUP: usize = 60;
/// Length of an app-specific token.
pub const APP_TOKEN_LENGTH: usize = 120;
/// OAuth access tokens: 20 lookup characters, then 20 secret ones.
pub const OAUTH_TOKEN_LOOKUP: usize = 20;
/// Length of an OAuth access token.
pub const OAUTH_TOKEN_LENGTH: usize = 40;
/// Sessions: 20 lookup characters, then 40 secret ones.
pub const SESSION_LOOKUP: usize = 20;
/// Length of a session cookie's value.
pub const SESSION_LENGTH: usize = 60;
/// Robot tokens: 64 characters of `A-Z0-9`.
pub const ROBOT_TOKEN_LENGTH: usize = 64;

/// A credential to hand out, and what to store.
pub struct Minted {
    /// The credential, shown once.
    pub secret: String,
    /// The stored record (the secret only as a hash).
    pub record: TokenRecord,
}

fn mint(
    kind: TokenKind,
    account: AccountId,
    (lookup_length, length): (usize, usize),
    detail: String,
    application: Option<String>,
    now_ms: i64,
    lifetime_ms: Option<i64>,
) -> Result<Minted, AuthError> {
    let secret = random_string(length, ALPHANUMERIC)?;
    let (lookup, hidden) = secret.split_at(lookup_length);
    Ok(Minted {
        record: TokenRecord {
            kind,
            uuid: uuid::Uuid::new_v4().to_string(),
            account,
            lookup: lookup.to_string(),
            secret_hash: hash_secret(hidden),
            detail,
            application,
            created_ms: now_ms,
            expires_ms: lifetime_ms.map(|lifetime| now_ms + lifetime),
            last_used_ms: None,
        },
        secret,
    })
}

/// A new app-specific token titled `title`.
pub fn app_token(
    account: AccountId,
    title: &str,
    now_ms: i64,
    lifetime_ms: Option<i64>,
) -> Result<Minted, AuthError> {
    mint(
        TokenKind::AppToken,
        account,
        (APP_TOKEN_LOOKUP, APP_TOKEN_LENGTH),
        title.to_string(),
        None,
        now_ms,
        lifetime_ms,
    )
}

/// A new OAuth access token of `application` with `scopes`.
pub fn oauth_token(
    account: AccountId,
    application: &str,
    scopes: &str,
    now_ms: i64,
    lifetime_ms: i64,
) -> Result<Minted, AuthError> {
    mint(
        TokenKind::OAuthToken,
        account,
        (OAUTH_TOKEN_LOOKUP, OAUTH_TOKEN_LENGTH),
        scopes.to_string(),
        Some(application.to_string()),
        now_ms,
        Some(lifetime_ms),
    )
}

/// A new browser session; its record's detail is the session's CSRF token.
pub fn session(account: AccountId, now_ms: i64, lifetime_ms: i64) -> Result<Minted, AuthError> {
    let csrf = random_string(32, ALPHANUMERIC)?;
    mint(
        TokenKind::Session,
        account,
        (SESSION_LOOKUP, SESSION_LENGTH),
        csrf,
        None,
        now_ms,
        Some(lifetime_ms),
    )
}

/// A new robot token and its hash.
pub fn robot_token() -> Result<(String, String), AuthError> {
    let token = random_string(ROBOT_TOKEN_LENGTH, UPPER_ALPHANUMERIC)?;
    let hash = hash_secret(&token);
    Ok((token, hash))
}

/// A new OAuth application's credentials: a public client id (20 characters of `A-Z0-9`)
/// and a client secret (40 characters) with its hash.
pub fn application_credentials() -> Result<(String, String, String), AuthError> {
    let client_id = random_string(20, UPPER_ALPHANUMERIC)?;
    let secret = random_string(40, ALPHANUMERIC)?;
    let hash = hash_secret(&secret);
    Ok((client_id, secret, hash))
}

/// A generated password (superusers creating users), 32 characters of `A-Z0-9`.
pub fn generated_password() -> Result<String, AuthError> {
    random_string(32, UPPER_ALPHANUMERIC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{split_token, verify_secret};

    #[test]
    fn minted_tokens_verify_by_their_stored_parts() {
        let minted = app_token(7, "laptop", 1000, None).unwrap();
        assert_eq!(minted.secret.len(), APP_TOKEN_LENGTH);
        let (lookup, secret) =
            split_token(&minted.secret, APP_TOKEN_LOOKUP, APP_TOKEN_LENGTH).unwrap();
        assert_eq!(lookup, minted.record.lookup);
        assert!(verify_secret(secret, &minted.record.secret_hash));
        assert!(!minted.record.secret_hash.contains(secret));
        assert_eq!(minted.record.detail, "laptop");

        let session = session(7, 1000, 60_000).unwrap();
        assert_eq!(session.record.expires_ms, Some(61_000));
        assert_eq!(session.record.detail.len(), 32);

        let (token, hash) = robot_token().unwrap();
        assert_eq!(token.len(), ROBOT_TOKEN_LENGTH);
        assert!(
            token
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        assert!(verify_secret(&token, &hash));
    }
}
