//! Proxy cache configurations: read by an organization's members, set and removed by its
//! administrators, each change in the usage log as Quay logs it.

use super::tenancy::Accounts;
use crate::access::Caller;
use crate::audit::LogKind;
use crate::error::{Error, Result};
use crate::names::Namespace;
use crate::permission::NamespaceAction;
use crate::ports::UpstreamSignIn;
use crate::proxy::{ProxyCache, ProxyCacheRequest};
use crate::upstream::UpstreamProblem;

impl Accounts {
    /// Organization `name`'s proxy cache configuration, if it has one (its members).
    pub async fn proxy_cache(
        &self,
        caller: &Caller,
        name: &Namespace,
    ) -> Result<Option<ProxyCache>> {
        let organization = self
            .organization_for(&caller.identity, name, NamespaceAction::View)
            .await?;
        self.directory.proxy_cache(organization.id).await
    }

    /// Makes organization `name` a proxy cache of what `request` names (its
    /// administrators); the upstream credentials are sealed, never shown again.
    pub async fn add_proxy_cache(
        &self,
        caller: &Caller,
        name: &Namespace,
        request: ProxyCacheRequest,
    ) -> Result<ProxyCache> {
        let organization = self.administered(caller, name).await?;
        let (cache, credentials) = ProxyCache::from_request(request)?;
        if let Some(upstream) = &self.upstream {
            upstream
                .check_permitted(cache.upstream_host())
                .await
                .map_err(|error| error.in_field("upstream_registry"))?;
        }
        let sealed = match credentials {
            None => None,
            Some(credentials) => {
                let sealer = self.sealer.as_ref().ok_or_else(|| {
                    Error::InvalidRequest(
                        "this registry has no key to seal upstream credentials with \
                         (DATABASE_SECRET_KEY)"
                            .into(),
                    )
                })?;
                Some(sealer.seal(&credentials.to_sealable())?)
            }
        };
        let audit = caller
            .actor
            .entry(LogKind::CreateProxyCacheConfig, self.now_ms())
            .namespace(organization.id)
            .meta("namespace", name.as_str())
            .meta("upstream_registry", cache.upstream_registry.as_str());
        let added = self
            .directory
            .add_proxy_cache(organization.id, &cache, sealed.as_deref(), audit)
            .await?;
        if !added {
            return Err(Error::InvalidRequest(
                "Proxy Cache Configuration already exists".into(),
            ));
        }
        Ok(cache)
    }

    /// Signs in to the upstream `request` names as pulls would (its administrators, before
    /// they configure it): Quay's `validateproxycache`.
    pub async fn validate_proxy_cache(
        &self,
        caller: &Caller,
        name: &Namespace,
        request: ProxyCacheRequest,
    ) -> Result<UpstreamSignIn> {
        self.administered(caller, name).await?;
        let (cache, credentials) = ProxyCache::from_request(request)?;
        let upstream = self.upstream.as_ref().ok_or_else(|| {
            Error::InvalidRequest("FEATURE_PROXY_CACHE is off: no upstream is reached".into())
        })?;
        upstream
            .check_permitted(cache.upstream_host())
            .await
            .map_err(|error| error.in_field("upstream_registry"))?;
        let repository = cache.upstream_namespace().unwrap_or("library");
        match upstream
            .sign_in(&cache.endpoint(), repository, credentials.as_ref())
            .await
        {
            Err(Error::Upstream(failure)) if failure.problem == UpstreamProblem::Refused => {
                Err(Error::InvalidRequest(
                    "Failed login to remote registry. Please verify entered details and try \
                     again."
                        .into(),
                ))
            }
            Err(Error::Upstream(failure)) => Err(Error::InvalidRequest(format!(
                "the remote registry could not be reached: {failure}"
            ))),
            answer => answer,
        }
    }

    /// Removes organization `name`'s proxy cache configuration (its administrators).
    pub async fn delete_proxy_cache(&self, caller: &Caller, name: &Namespace) -> Result<()> {
        let organization = self.administered(caller, name).await?;
        let audit = caller
            .actor
            .entry(LogKind::DeleteProxyCacheConfig, self.now_ms())
            .namespace(organization.id)
            .meta("namespace", name.as_str());
        if self
            .directory
            .delete_proxy_cache(organization.id, audit)
            .await?
        {
            Ok(())
        } else {
            Err(Error::NotFound {
                what: "proxy cache configuration of",
                name: name.to_string(),
            })
        }
    }
}
