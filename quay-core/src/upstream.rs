//! How an upstream registry can fail a proxy cache, by what the cache may do about it.

use std::fmt;

/// An upstream's failure: what kind, and what it said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamFailure {
    /// What kind of failure.
    pub problem: UpstreamProblem,
    /// The upstream's status and message, or the network's error.
    pub detail: String,
}

/// Kinds of upstream failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpstreamProblem {
    /// The upstream does not have what was asked (404).
    NotFound,
    /// The upstream refused the credentials, or gave none the right to read (401, 403).
    Refused,
    /// The upstream asks its clients to slow down (429).
    RateLimited,
    /// The upstream could not be reached, did not answer in time, or failed (5xx).
    Unavailable,
    /// The upstream answered with something unusable: content that does not match its
    /// digest or its declared size, a manifest that does not parse.
    Invalid,
}

impl UpstreamFailure {
    /// A failure of this kind.
    pub fn new(problem: UpstreamProblem, detail: impl Into<String>) -> Self {
        Self {
            problem,
            detail: detail.into(),
        }
    }

    /// Whether the upstream may well answer later: what a cache serves its copy through.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.problem,
            UpstreamProblem::RateLimited | UpstreamProblem::Unavailable
        )
    }

    /// A short reason, for a response header or a metric's label.
    pub fn reason(&self) -> &'static str {
        match self.problem {
            UpstreamProblem::NotFound => "not found",
            UpstreamProblem::Refused => "refused",
            UpstreamProblem::RateLimited => "rate limited",
            UpstreamProblem::Unavailable => "unavailable",
            UpstreamProblem::Invalid => "invalid answer",
        }
    }
}

impl fmt::Display for UpstreamFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "upstream {}: {}", self.reason(), self.detail)
    }
}
