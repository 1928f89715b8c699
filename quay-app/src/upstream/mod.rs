//! The upstream registries of proxy cache organizations and repository mirrors: the
//! [`Upstream`] port on `oci-client` (`client.rs`), with one request per object however many
//! clients ask at once: manifests through a shared future, blobs through a shared download
//! (`downloads.rs`).

mod client;
mod downloads;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use quay_core::ports::{
    BlobInfo, BlobStore, ByteStream, MirrorStore, ProxyCacheStore, SecretSealer, UploadStore,
    Upstream, UpstreamManifest, UpstreamOrigin, UpstreamSignIn, UpstreamSource,
};
use quay_core::proxy::UpstreamCredentials;
use quay_core::upstream::{UpstreamEndpoint, UpstreamFailure, UpstreamProblem};
use quay_core::{Digest, Error, Reference};

use self::client::RegistryClient;
use self::downloads::BlobDownloads;
use crate::error::AppError;
use crate::outbound::OutboundPolicy;

/// A manifest fetch in flight, which every caller asking for the same manifest awaits.
type ManifestFetch = Shared<BoxFuture<'static, Result<UpstreamManifest, UpstreamFailure>>>;

/// A client per origin, made for one endpoint: each keeps its origin's tokens.
type Clients = HashMap<UpstreamOrigin, (UpstreamEndpoint, Arc<RegistryClient>)>;

/// The upstreams of every proxy cache organization and repository mirror.
pub(crate) struct Upstreams {
    caches: Arc<dyn ProxyCacheStore>,
    mirrors: Arc<dyn MirrorStore>,
    sealer: Option<Arc<dyn SecretSealer>>,
    policy: OutboundPolicy,
    clients: Mutex<Clients>,
    manifests: Mutex<HashMap<(UpstreamOrigin, String, String), ManifestFetch>>,
    downloads: BlobDownloads,
}

impl Upstreams {
    pub(crate) fn new(
        caches: Arc<dyn ProxyCacheStore>,
        mirrors: Arc<dyn MirrorStore>,
        sealer: Option<Arc<dyn SecretSealer>>,
        policy: OutboundPolicy,
        uploads: Arc<dyn UploadStore>,
        blobs: Arc<dyn BlobStore>,
    ) -> Self {
        Self {
            caches,
            mirrors,
            sealer,
            policy,
            clients: Mutex::default(),
            manifests: Mutex::default(),
            downloads: BlobDownloads::new(uploads, blobs),
        }
    }

    /// The origin's client, made again when its endpoint changed. A mirror's client is
    /// made afresh for each sync (its credentials may have changed since).
    async fn client(&self, source: &UpstreamSource) -> quay_core::Result<Arc<RegistryClient>> {
        if let Some((endpoint, client)) = self.lock_clients().get(&source.origin)
            && *endpoint == source.endpoint
        {
            return Ok(Arc::clone(client));
        }
        let credentials = self.credentials(source.origin).await?;
        let client = Arc::new(RegistryClient::new(
            &source.endpoint,
            credentials,
            self.policy.clone(),
        ));
        self.lock_clients().insert(
            source.origin,
            (source.endpoint.clone(), Arc::clone(&client)),
        );
        Ok(client)
    }

    fn lock_clients(&self) -> std::sync::MutexGuard<'_, Clients> {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets the mirror's client, so that its next sync signs in with the credentials
    /// as they are then.
    pub(crate) fn forget_mirror(&self, repository: quay_core::ports::RepositoryId) {
        self.lock_clients()
            .remove(&UpstreamOrigin::Mirror(repository));
    }

    async fn credentials(
        &self,
        origin: UpstreamOrigin,
    ) -> quay_core::Result<Option<UpstreamCredentials>> {
        let (sealed, whose) = match origin {
            UpstreamOrigin::ProxyCache(namespace) => (
                self.caches.sealed_upstream_credentials(namespace).await?,
                "organization's",
            ),
            UpstreamOrigin::Mirror(repository) => (
                self.mirrors.sealed_mirror_credentials(repository).await?,
                "mirror's",
            ),
        };
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let unusable = |why: &str| {
            Error::Upstream(UpstreamFailure::new(
                UpstreamProblem::Refused,
                format!("the {whose} upstream credentials {why}"),
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
    async fn check_permitted(&self, host: &str) -> quay_core::Result<()> {
        match self.policy.check_authority(host).await {
            // A name that does not resolve now may later; what it resolves to is checked then.
            Ok(()) | Err(AppError::Request(_)) => Ok(()),
            Err(refused) => Err(Error::InvalidRequest(refused.to_string())),
        }
    }

    async fn sign_in(
        &self,
        endpoint: &UpstreamEndpoint,
        repository: &str,
        credentials: Option<&UpstreamCredentials>,
    ) -> quay_core::Result<UpstreamSignIn> {
        let client = RegistryClient::new(endpoint, credentials.cloned(), self.policy.clone());
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
            source.origin,
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

    async fn tags(&self, source: &UpstreamSource) -> quay_core::Result<Vec<String>> {
        let client = self.client(source).await?;
        client
            .tags(&source.repository)
            .await
            .map_err(Error::Upstream)
    }

    async fn referrers(
        &self,
        source: &UpstreamSource,
        digest: &Digest,
    ) -> quay_core::Result<Vec<Digest>> {
        let client = self.client(source).await?;
        client
            .referrers(&source.repository, digest)
            .await
            .map_err(Error::Upstream)
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
