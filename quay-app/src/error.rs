//! What goes wrong in the application's own work: sending notifications.

/// A delivery that could not be made, by condition.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not an http(s) URL with a host; says what is wrong, never the URL (a Slack or Teams
    /// URL is a credential).
    #[error("the notification's URL is not an http or https URL with a host: {0}")]
    NotWebUrl(String),
    /// The URL names, or its host resolves to, an address that is not public.
    #[error(
        "{host} is a loopback, private or link-local address; list it in SSRF_ALLOWED_HOSTS to allow it"
    )]
    NotPublicAddress {
        /// The host as the URL names it.
        host: String,
    },
    /// The request could not be made or did not finish in time.
    #[error("{0}")]
    Request(String),
    /// The receiver answered, but not with a success.
    #[error("the receiver answered {0}")]
    Status(u16),
    /// This node cannot deliver with the method (no mail server configured, say).
    #[error("{0}")]
    Unavailable(String),
}
