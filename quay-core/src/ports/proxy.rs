//! The port of proxy cache configurations, one per organization.

use async_trait::async_trait;

use crate::account::NamespaceId;
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::names::{Namespace, TagName};
use crate::proxy::ProxyCache;
use crate::repository::{Repository, RepositoryId};

/// Organizations' proxy cache configurations.
#[async_trait]
pub trait ProxyCacheStore: Send + Sync {
    /// The namespace's configuration, if it has one.
    async fn proxy_cache(&self, namespace: NamespaceId) -> Result<Option<ProxyCache>>;

    /// The configuration of the namespace named `name`, with its id, if it has one: what a
    /// pull asks first (one query).
    async fn proxy_cache_named(
        &self,
        name: &Namespace,
    ) -> Result<Option<(NamespaceId, ProxyCache)>>;

    /// The tag a proxy cache organization over its quota evicts next: of its alive,
    /// visible tags that expire, the one pulled least recently (by its last pull, else the
    /// start of its lifetime), leaving out immutable ones, `keep`, and every tag pulled or
    /// cached since `pulled_before_ms` (it may be being pulled).
    async fn least_recently_pulled_tag(
        &self,
        namespace: NamespaceId,
        keep: Option<(RepositoryId, &TagName)>,
        pulled_before_ms: i64,
        now_ms: i64,
    ) -> Result<Option<(Repository, TagName)>>;

    /// The namespace's upstream credentials, sealed, if it has a configuration with them.
    async fn sealed_upstream_credentials(&self, namespace: NamespaceId) -> Result<Option<String>>;

    /// Gives the namespace `cache`, with its upstream credentials sealed, recording
    /// `audit`; `false` when it has one already.
    async fn add_proxy_cache(
        &self,
        namespace: NamespaceId,
        cache: &ProxyCache,
        sealed_credentials: Option<&str>,
        audit: AuditEntry,
    ) -> Result<bool>;

    /// Removes the namespace's configuration, recording `audit`; whether it had one.
    async fn delete_proxy_cache(&self, namespace: NamespaceId, audit: AuditEntry) -> Result<bool>;
}
