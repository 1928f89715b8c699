//! Upstream registries, as proxy caches and mirrors reach them: where and how
//! ([`UpstreamEndpoint`]), and how one can fail, by what the registry may do about it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How requests reach an upstream registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// HTTPS, the certificate checked.
    Https,
    /// Plain HTTP.
    Http,
    /// HTTPS without checking the certificate, or plain HTTP when the upstream does not
    /// speak TLS (skopeo's `--tls-verify=false`).
    Unverified,
}

/// An upstream registry and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpstreamEndpoint {
    /// `host[:port]` as requests go to it.
    pub host: String,
    /// The protocol.
    pub transport: Transport,
    /// Proxies on the way.
    pub proxy: UpstreamProxy,
}

/// Proxies an upstream is reached through (a mirror's `external_registry_config.proxy`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UpstreamProxy {
    /// For `http://` upstreams.
    pub http_proxy: Option<String>,
    /// For `https://` upstreams.
    pub https_proxy: Option<String>,
    /// Hosts reached directly.
    pub no_proxy: Option<String>,
}

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
