//! The upstream registries of proxy cache organizations: the [`Upstream`] port on
//! `oci-client` (`client.rs`), with one request per object however many clients ask at once:
//! manifests through a shared future, blobs through a shared download (`downloads.rs`).

mod client;
mod downloads;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use quay_core::account::NamespaceId;
use quay_core::ports::{
    BlobInfo, BlobStore, ByteStream, ProxyCacheStore, SecretSealer, UploadStore, Upstream,
    UpstreamManifest, UpstreamSignIn, UpstreamSource,
};
use quay_core::proxy::{ProxyCache, UpstreamCredentials};
use quay_core::upstream::{UpstreamFailure, UpstreamProblem};
use quay_core::{Digest, Error, Reference};

use self::client::RegistryClient;
use self::downloads::BlobDownloads;
use crate::error::AppError;
use crate::outbound::OutboundPolicy;

/// A manifest fetch in flight, which every caller asking for the same manifest awaits.
type ManifestFetch = Shared<BoxFuture<'static, Result<UpstreamManifest, UpstreamFailure>>>;

/// The upstreams of every proxy cache organization.
pub(crate) struct Upstreams {
    configurations: Arc<dyn ProxyCacheStore>,
    sealer: Option<Arc<dyn SecretSealer>>,
    policy: OutboundPolicy,
    /// A client per organization and configuration: each keeps its organization's tokens.
    clients: Mutex<HashMap<NamespaceId, (ProxyCache, Arc<RegistryClient>)>>,
    manifests: Mutex<HashMap<(NamespaceId, String, String), ManifestFetch>>,
    downloads: BlobDownloads,
}

impl Upstreams {
    pub(crate) fn new(
        configurations: Arc<dyn ProxyCacheStore>,
        sealer: Option<Arc<dyn SecretSealer>>,
        policy: OutboundPolicy,
        uploads: Arc<dyn UploadStore>,
        blobs: Arc<dyn BlobStore>,
    ) -> Self {
        Self {
            configurations,
            sealer,
            policy,
            clients: Mutex::default(),
            manifests: Mutex::default(),
            downloads: BlobDownloads::new(uploads, blobs),
        }
    }

    /// The organization's client, made again when its configuration changed.
    async fn client(&self, source: &UpstreamSource) -> quay_core::Result<Arc<RegistryClient>> {
        if let Some((cache, client)) = self.lock_clients().get(&source.namespace)
            && *cache == source.cache
        {
            return Ok(Arc::clone(client));
        }
        let credentials = self.credentials(source.namespace).await?;
        let client = Arc::new(RegistryClient::new(
            &source.cache,
            credentials,
            self.policy.clone(),
        ));
        self.lock_clients().insert(
            source.namespace,
            (source.cache.clone(), Arc::clone(&client)),
        );
        Ok(client)
    }

    fn lock_clients(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<NamespaceId, (ProxyCache, Arc<RegistryClient>)>> {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn credentials(
        &self,
        namespace: NamespaceId,
    ) -> quay_core::Result<Option<UpstreamCredentials>> {
        let Some(sealed) = self
            .configurations
            .sealed_upstream_credentials(namespace)
            .await?
        else {
            return Ok(None);
        };
        let unusable = |why: &str| {
            Error::Upstream(UpstreamFailure::new(
                UpstreamProblem::Refused,
                format!("the organization's upstream credentials {why}"),
            ))
        };
        let sealer = self
            .sealer
            .as_ref()
            .ok_or_else(|| unusable("cannot be opened without DATABASE_SECRET_KEY"))?;
        let plain = sealer
            .open(&sealed)
            .map_err(|_| unusable("were sealed with another DATABASE_SECRET_KEY"))?;
        UpstreamCredentials::from_unsealed(&plain)
            .map(Some)
            .ok_or_else(|| unusable("are unreadable"))
    }
}

#[async_trait]
impl Upstream for Upstreams {
    async fn check_permitted(&self, cache: &ProxyCache) -> quay_core::Result<()> {
        match self.policy.check_authority(cache.upstream_host()).await {
            // A name that does not resolve now may later; what it resolves to is checked then.
            Ok(()) | Err(AppError::Request(_)) => Ok(()),
            Err(refused) => Err(Error::InvalidRequest(format!(
                "upstream_registry: {refused}"
            ))),
        }
    }

    async fn sign_in(
        &self,
        cache: &ProxyCache,
        credentials: Option<&UpstreamCredentials>,
    ) -> quay_core::Result<UpstreamSignIn> {
        let client = RegistryClient::new(cache, credentials.cloned(), self.policy.clone());
        let repository = cache.upstream_namespace().unwrap_or("library");
        let token_needed = client.sign_in(repository).await.map_err(Error::Upstream)?;
        Ok(match (token_needed, credentials) {
            (true, None) => UpstreamSignIn::Anonymous,
            _ => UpstreamSignIn::Valid,
        })
    }

    async fn manifest_digest(
        &self,
        source: &UpstreamSource,
        reference: &Reference,
    ) -> quay_core::Result<Digest> {
        let client = self.client(source).await?;
        client
            .manifest_digest(&source.repository, reference)
            .await
            .map_err(Error::Upstream)
    }

    async fn manifest(
        &self,
        source: &UpstreamSource,
        reference: &Reference,
    ) -> quay_core::Result<UpstreamManifest> {
        let client = self.client(source).await?;
        let key = (
            source.namespace,
            source.repository.clone(),
            reference.to_string(),
        );
        let fetch = {
            let mut in_flight = self
                .manifests
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            in_flight
                .entry(key.clone())
                .or_insert_with(|| {
                    let repository = source.repository.clone();
                    let reference = reference.clone();
                    async move { client.manifest(&repository, &reference).await }
                        .boxed()
                        .shared()
                })
                .clone()
        };
        let fetched = fetch.clone().await;
        let mut in_flight = self
            .manifests
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Only this fetch's entry: a later one may have taken its place.
        if in_flight
            .get(&key)
            .is_some_and(|current| current.ptr_eq(&fetch))
        {
            in_flight.remove(&key);
        }
        fetched.map_err(Error::Upstream)
    }

    async fn blob(
        &self,
        source: &UpstreamSource,
        blob: &BlobInfo,
    ) -> quay_core::Result<ByteStream> {
        let client = self.client(source).await?;
        let repository = source.repository.clone();
        let digest = blob.digest.clone();
        self.downloads
            .follow(blob, async move { client.blob(&repository, &digest).await })
            .await
    }
}
