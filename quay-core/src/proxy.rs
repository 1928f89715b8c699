//! Proxy cache organizations: an organization whose repositories are filled, on pull, from
//! an upstream registry (Quay's `ProxyCacheConfig`). Here: the configuration and its rules.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::names::Namespace;
use crate::secret::Secret;
use crate::upstream::{Transport, UpstreamEndpoint, UpstreamProxy};

/// How long cached tags live unless the configuration says otherwise (Quay's default).
pub const DEFAULT_EXPIRATION_S: u64 = 86_400;

/// The longest `upstream_registry` (Quay's column).
const MAX_UPSTREAM_LENGTH: usize = 270;

/// A proxy cache configuration as asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyCacheRequest {
    /// `host[:port][/namespace]`.
    pub upstream_registry: String,
    /// Who to sign in to the upstream as; with `password`, or neither.
    pub username: Option<String>,
    /// With this password.
    pub password: Option<Secret>,
    /// Lifetime of cached tags in seconds (absent: a day; 0: forever).
    pub expiration_s: Option<u64>,
    /// Plain HTTP instead of HTTPS.
    pub insecure: bool,
}

/// An organization's proxy cache configuration, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyCache {
    /// `host[:port][/namespace]`, as given.
    pub upstream_registry: String,
    /// Lifetime of cached tags in seconds; `None`: they never expire.
    pub expiration_s: Option<u64>,
    /// Plain HTTP instead of HTTPS.
    pub insecure: bool,
}

/// Credentials for the upstream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamCredentials {
    /// The user.
    pub username: String,
    /// The password; never shown.
    pub password: Secret,
}

/// Upstream credentials as they are sealed for storage.
#[derive(serde::Serialize, serde::Deserialize)]
struct SealableCredentials {
    username: String,
    password: String,
}

impl UpstreamCredentials {
    /// The bytes sealed for storage (`{"username", "password"}`).
    pub fn to_sealable(&self) -> Vec<u8> {
        let plain = SealableCredentials {
            username: self.username.clone(),
            password: self.password.expose().to_string(),
        };
        serde_json::to_vec(&plain).unwrap_or_default()
    }

    /// The credentials [`to_sealable`](Self::to_sealable) made, once opened; `None` if
    /// the bytes are not such.
    pub fn from_unsealed(plain: &[u8]) -> Option<Self> {
        let plain: SealableCredentials = serde_json::from_slice(plain).ok()?;
        Some(Self {
            username: plain.username,
            password: Secret::new(plain.password),
        })
    }
}

impl ProxyCache {
    /// The configuration `request` asks for, and its credentials; refused with the reason.
    pub fn from_request(request: ProxyCacheRequest) -> Result<(Self, Option<UpstreamCredentials>)> {
        let upstream = request.upstream_registry.trim().to_string();
        check_upstream(&upstream)?;
        // Both, or they are not used (Quay's rule).
        let credentials = match (request.username, request.password) {
            (Some(username), Some(password))
                if !username.is_empty() && !password.expose().is_empty() =>
            {
                Some(UpstreamCredentials { username, password })
            }
            _ => None,
        };
        let cache = Self {
            upstream_registry: upstream,
            expiration_s: match request.expiration_s {
                None => Some(DEFAULT_EXPIRATION_S),
                Some(0) => None,
                Some(seconds) => Some(seconds),
            },
            insecure: request.insecure,
        };
        Ok((cache, credentials))
    }

    /// The upstream's host (and port), as requests go to it: Docker Hub's registry for
    /// `docker.io`.
    pub fn upstream_host(&self) -> &str {
        match self.upstream_registry.split_once('/') {
            Some((host, _)) => docker_hub(host),
            None => docker_hub(&self.upstream_registry),
        }
    }

    /// The namespace upstream repositories are under, if the configuration names one.
    pub fn upstream_namespace(&self) -> Option<&str> {
        self.upstream_registry
            .split_once('/')
            .map(|(_, namespace)| namespace)
    }
    /// The upstream repository that local repository `name` of the organization caches:
    /// under the configured namespace if there is one (`quay.io/ns`: `ns/<name>`), else the
    /// name itself, where Docker Hub's single names are under `library/`.
    pub fn upstream_repository(&self, name: &str) -> String {
        match self.upstream_namespace() {
            Some(namespace) => format!("{namespace}/{name}"),
            None if self.upstream_host() == DOCKER_HUB && !name.contains('/') => {
                format!("library/{name}")
            }
            None => name.to_string(),
        }
    }

    /// How its upstream is reached.
    pub fn endpoint(&self) -> UpstreamEndpoint {
        UpstreamEndpoint {
            host: self.upstream_host().to_string(),
            transport: if self.insecure {
                Transport::Http
            } else {
                Transport::Https
            },
            proxy: UpstreamProxy::default(),
        }
    }
}

/// Which proxy cache organization serves which upstream host, for clients that take the
/// registry for a mirror and name images without the organization: Docker's
/// `registry-mirrors` (Docker Hub only), containerd's `?ns=<host>`, podman's mirror entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MirrorRoutes {
    organizations: BTreeMap<String, Namespace>,
}

impl MirrorRoutes {
    /// Routes from upstream hosts to organizations (`PROXY_CACHE_MIRRORS`); Docker Hub's
    /// names (`docker.io`, `registry-1.docker.io`, `index.docker.io`) are one host.
    pub fn new(routes: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        let organizations = routes
            .into_iter()
            .map(|(host, organization)| {
                let namespace = Namespace::parse(&organization).map_err(|error| {
                    Error::InvalidRequest(format!(
                        "the organization {organization:?} serving {host}: {error}"
                    ))
                })?;
                Ok((canonical_host(&host), namespace))
            })
            .collect::<Result<_>>()?;
        Ok(Self { organizations })
    }

    /// Whether no route is configured.
    pub fn is_empty(&self) -> bool {
        self.organizations.is_empty()
    }

    /// The organization serving `host`.
    pub fn organization_for(&self, host: &str) -> Option<&Namespace> {
        self.organizations.get(&canonical_host(host))
    }

    /// The organization serving Docker Hub: where a name in no local namespace goes, as
    /// Docker's `registry-mirrors` send Docker Hub's names unchanged.
    pub fn docker_hub(&self) -> Option<&Namespace> {
        self.organization_for("docker.io")
    }
}

fn canonical_host(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    match host.as_str() {
        "registry-1.docker.io" | "index.docker.io" => "docker.io".to_string(),
        _ => host,
    }
}

/// Where Docker Hub's registry answers (`docker.io` is its name for people).
const DOCKER_HUB: &str = "registry-1.docker.io";

fn docker_hub(host: &str) -> &str {
    if host == "docker.io" {
        DOCKER_HUB
    } else {
        host
    }
}

/// Refuses an upstream that is not `host[:port][/namespace]`, saying why.
fn check_upstream(upstream: &str) -> Result<()> {
    let invalid = |why: &str| Error::InvalidRequest(format!("upstream_registry: {why}"));
    if upstream.is_empty() {
        return Err(invalid("required, as `host[:port][/namespace]`"));
    }
    if upstream.len() > MAX_UPSTREAM_LENGTH {
        return Err(invalid(&format!(
            "at most {MAX_UPSTREAM_LENGTH} characters"
        )));
    }
    if upstream.contains("://") {
        return Err(invalid(
            "a host and an optional namespace, without a scheme (`insecure` chooses http)",
        ));
    }
    check_registry_path(upstream).map_err(|why| invalid(&why))
}

/// Checks `host[:port][/path]`: a host name or address, a numeric port, a path in the
/// distribution specification's grammar; the reason when it is not.
pub(crate) fn check_registry_path(text: &str) -> std::result::Result<(), String> {
    if text.contains("://") {
        return Err("a host and a path, without a scheme".into());
    }
    let (authority, path) = match text.split_once('/') {
        Some((authority, path)) => (authority, Some(path)),
        None => (text, None),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !host_ok {
        return Err(format!("`{host}` is not a host name or address"));
    }
    if port.is_some_and(|port| port.parse::<u16>().is_err()) {
        return Err(format!("`{authority}` has a port that is not a number"));
    }
    if let Some(path) = path
        && !path.split('/').all(path_component)
    {
        return Err(format!("`{path}` is not a repository path"));
    }
    Ok(())
}

/// Whether `component` is one component of a repository path in the distribution
/// specification's grammar: lower-case letters and digits, separated by `.`, `_` or `-`.
fn path_component(component: &str) -> bool {
    let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    component.starts_with(alphanumeric)
        && component.ends_with(alphanumeric)
        && component
            .chars()
            .all(|c| alphanumeric(c) || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(upstream: &str) -> ProxyCacheRequest {
        ProxyCacheRequest {
            upstream_registry: upstream.into(),
            username: None,
            password: None,
            expiration_s: None,
            insecure: false,
        }
    }

    #[test]
    fn upstreams_are_hosts_with_an_optional_namespace() {
        for good in [
            "docker.io",
            "quay.io/someorg",
            "127.0.0.1:5000",
            "registry.example.com:443/a/b",
        ] {
            ProxyCache::from_request(request(good)).unwrap();
        }
        for (bad, why) in [
            ("", "required"),
            ("https://quay.io", "without a scheme"),
            ("quay..io", "not a host"),
            ("quay.io:port", "port"),
            ("quay.io/Not Valid", "not a repository path"),
            ("quay.io/org/", "not a repository path"),
        ] {
            let error = ProxyCache::from_request(request(bad))
                .unwrap_err()
                .to_string();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }

    #[test]
    fn docker_io_is_docker_hubs_registry_and_expiration_defaults_to_a_day() {
        let (cache, credentials) = ProxyCache::from_request(request("docker.io")).unwrap();
        assert_eq!(cache.upstream_host(), "registry-1.docker.io");
        assert_eq!(cache.upstream_namespace(), None);
        assert_eq!(cache.expiration_s, Some(DEFAULT_EXPIRATION_S));
        assert!(credentials.is_none());
        let (cache, _) = ProxyCache::from_request(ProxyCacheRequest {
            expiration_s: Some(0),
            ..request("quay.io/org")
        })
        .unwrap();
        assert_eq!(
            (cache.upstream_host(), cache.upstream_namespace()),
            ("quay.io", Some("org"))
        );
        assert_eq!(cache.expiration_s, None, "0: tags never expire");
    }

    #[test]
    fn local_names_map_to_upstream_repositories() {
        let upstream = |registry: &str, name: &str| {
            let (cache, _) = ProxyCache::from_request(request(registry)).unwrap();
            cache.upstream_repository(name)
        };
        assert_eq!(upstream("docker.io", "nginx"), "library/nginx");
        assert_eq!(upstream("docker.io", "bitnami/redis"), "bitnami/redis");
        assert_eq!(upstream("quay.io/org", "app"), "org/app");
        assert_eq!(
            upstream("127.0.0.1:5000", "app"),
            "app",
            "library/ is Docker Hub's"
        );
    }

    #[test]
    fn credentials_count_only_in_pairs() {
        let with = |username: Option<&str>, password: Option<&str>| {
            ProxyCache::from_request(ProxyCacheRequest {
                username: username.map(String::from),
                password: password.map(Secret::new),
                ..request("quay.io")
            })
            .unwrap()
            .1
        };
        assert!(with(Some("robot"), Some("token")).is_some());
        assert!(with(Some("robot"), None).is_none());
        assert!(with(None, Some("token")).is_none());
        assert!(with(Some(""), Some("token")).is_none());
    }
}
