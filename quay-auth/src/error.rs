//! Failures of the authentication machinery itself (never a refused login: those are
//! [`quay_core::Error`]s).

/// What failed inside authentication.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The RSA key for registry tokens could not be generated.
    #[error("generating the token signing key failed")]
    KeyGeneration,
    /// The stored token signing key is not a usable RSA key.
    #[error("the stored token signing key is unusable: {0}")]
    KeyRejected(String),
    /// Signing a token failed.
    #[error("signing a registry token failed")]
    Signing,
    /// Hashing a password failed.
    #[error("hashing a password failed: {0}")]
    Hashing(String),
    /// The system's random source failed.
    #[error("the random source failed")]
    Random,
    /// A secret could not be sealed or opened.
    #[error("sealed secrets: {0}")]
    Sealing(&'static str),
    /// Every password hashing worker is busy and the queue before them is full.
    #[error("too many passwords are being checked at once")]
    HashingBusy,
}

impl From<AuthError> for quay_core::Error {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::HashingBusy => quay_core::Error::TooManyAttempts {
                reason: "too many passwords are being checked at once",
                retry_after_s: 1,
            },
            other => quay_core::Error::Internal(Box::new(other)),
        }
    }
}
