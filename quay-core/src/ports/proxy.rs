//! The port of proxy cache configurations, one per organization.

use async_trait::async_trait;

use crate::account::NamespaceId;
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::proxy::ProxyCache;

/// Organizations' proxy cache configurations.
#[async_trait]
pub trait ProxyCacheStore: Send + Sync {
    /// The namespace's configuration, if it has one.
    async fn proxy_cache(&self, namespace: NamespaceId) -> Result<Option<ProxyCache>>;

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
