//! Authentication and authorization of the registry.
//!
//! - [`Authenticator`]: credentials to identities (passwords, robot tokens, app-specific
//!   and OAuth tokens, sessions, registry bearer tokens), and registry tokens issued.
//! - [`PermissionAuthorizer`]: Quay's permission rules on facts from the database (an open
//!   registry uses [`quay_core::access::AllowAll`] instead).
//! - [`credentials`]: new tokens, sessions and robot tokens; [`password`]: argon2id;
//!   [`jwt`]: the RS256 registry tokens and their key, created on first start and kept in
//!   the database; [`scope`]: the token endpoint's `scope` parameter.
//!
//! Secrets are never stored or logged: passwords as argon2 hashes, tokens as the SHA-256 of
//! their secret part, always compared in constant time.

mod authenticator;
mod authorizer;
pub mod credentials;
mod error;
pub mod jwt;
pub mod password;
mod registry_tokens;
pub mod scope;
mod sealing;
mod secrets;
mod standing;
mod throttle;

pub use crate::authenticator::{AuthSettings, Authenticator, Session};
pub use crate::authorizer::PermissionAuthorizer;
pub use crate::error::AuthError;
pub use crate::sealing::{Sealer, new_sealing_key};
pub use crate::secrets::{hash_secret, verify_secret};
