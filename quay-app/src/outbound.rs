//! Where the registry may send requests of its own (webhooks, upstreams): only to
//! public addresses, unless the host is listed (Quay's `SSRF_ALLOWED_HOSTS`), so that a user
//! who may add a notification cannot make the registry reach its own network.
//!
//! Names are checked where they are resolved, by the HTTP client's resolver: the address a
//! request goes to is the one that was checked, so a name that resolves differently a moment
//! later (DNS rebinding) gains nothing. Addresses written in a URL never reach a resolver and
//! are checked before the request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::error::AppError;

/// The hosts that may be reached although they are not public.
#[derive(Clone, Debug, Default)]
pub struct OutboundPolicy {
    allowed_hosts: Arc<Vec<String>>,
}

impl OutboundPolicy {
    /// A policy that also allows `hosts` (names or addresses, as URLs spell them).
    pub fn allowing(hosts: impl IntoIterator<Item = String>) -> Self {
        Self {
            allowed_hosts: Arc::new(
                hosts
                    .into_iter()
                    .map(|host| host.to_ascii_lowercase())
                    .collect(),
            ),
        }
    }

    fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allowed_hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
    }

    /// Checks what can be checked before resolving: the scheme, and an address written in
    /// the URL.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), AppError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(AppError::NotWebUrl(format!(
                "its scheme is {}",
                url.scheme()
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| AppError::NotWebUrl("it has no host".into()))?;
        if self.allows_host(host) {
            return Ok(());
        }
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if host.eq_ignore_ascii_case("localhost")
            || literal.parse::<IpAddr>().is_ok_and(|ip| !is_public(ip))
        {
            return Err(AppError::NotPublicAddress {
                host: host.to_string(),
            });
        }
        Ok(())
    }

    /// Checks an upstream's `host[:port]` where it resolves now, for a client that takes
    /// no resolver of ours.
    pub async fn check_authority(&self, authority: &str) -> Result<(), AppError> {
        let url = reqwest::Url::parse(&format!("http://{authority}/"))
            .map_err(|_| AppError::NotWebUrl(format!("{authority} is not a host")))?;
        self.check_url(&url)?;
        let host = url.host_str().unwrap_or_default();
        if self.allows_host(host) || host.starts_with('[') || host.parse::<IpAddr>().is_ok() {
            return Ok(());
        }
        self.public_addresses(host)
            .await
            .map(drop)
            .map_err(|error| match error.downcast::<AppError>() {
                Ok(refused) => *refused,
                Err(other) => AppError::Request(other.to_string()),
            })
    }

    /// `host`'s addresses, refused if one is not public and the host is not allowed.
    async fn public_addresses(
        &self,
        host: &str,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
        if !self.allows_host(host) && addresses.iter().any(|a| !is_public(a.ip())) {
            return Err(Box::new(AppError::NotPublicAddress {
                host: host.to_string(),
            }));
        }
        Ok(addresses)
    }

    /// A resolver that answers only public addresses for names that are not allowed.
    pub fn resolver(&self) -> Arc<dyn Resolve> {
        Arc::new(self.clone())
    }
}

impl Resolve for OutboundPolicy {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.clone();
        Box::pin(async move {
            let addresses = policy.public_addresses(name.as_str()).await?;
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is an address on the public internet.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                // 100.64.0.0/10, carrier-grade NAT
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> reqwest::Url {
        reqwest::Url::parse(text).unwrap()
    }

    #[test]
    fn only_public_addresses_unless_listed() {
        let policy = OutboundPolicy::default();
        for refused in [
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://100.64.0.1/",
        ] {
            let error = policy.check_url(&url(refused)).unwrap_err();
            assert!(
                error.to_string().contains("SSRF_ALLOWED_HOSTS"),
                "{refused}: {error}"
            );
        }
        assert!(policy.check_url(&url("https://93.184.216.34/hook")).is_ok());
        assert!(
            policy
                .check_url(&url("https://hooks.example.com/x"))
                .is_ok()
        );
        assert!(matches!(
            policy.check_url(&url("ftp://example.com/")),
            Err(AppError::NotWebUrl(_))
        ));
        let listed = OutboundPolicy::allowing(["127.0.0.1".to_string(), "LocalHost".into()]);
        assert!(listed.check_url(&url("http://127.0.0.1:9/")).is_ok());
        assert!(listed.check_url(&url("http://localhost/")).is_ok());
        assert!(listed.check_url(&url("http://10.0.0.1/")).is_err());
    }

    #[tokio::test]
    async fn names_are_checked_where_they_resolve() {
        let policy = OutboundPolicy::default();
        let refused = policy
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .err()
            .unwrap();
        assert!(refused.to_string().contains("localhost"), "{refused}");
        let listed = OutboundPolicy::allowing(["localhost".to_string()]);
        assert!(
            listed
                .resolve(Name::from_str("localhost").unwrap())
                .await
                .is_ok()
        );
    }

    use std::str::FromStr as _;
}
