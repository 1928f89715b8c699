//! One upstream registry, reached with `oci-client`: the token dance (anonymous, Basic, or a
//! bearer token for `repository:<name>:pull` from the challenge's realm and service), tokens
//! cached until they expire, one retry on a 401 with a fresh token, Quay's timeouts.
//!
//! `oci-client` takes no resolver of ours, so the host is checked against the
//! [`OutboundPolicy`] before each request, where webhooks are checked as they resolve: a name
//! that resolves to a public address for the check and a private one a moment later is the
//! window this leaves (a configured upstream is chosen by an organization's administrator).

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, RegistryOperation};
use quay_core::manifest::ManifestMediaType;
use quay_core::ports::UpstreamManifest;
use quay_core::proxy::{ProxyCache, UpstreamCredentials};
use quay_core::upstream::{UpstreamFailure, UpstreamProblem};
use quay_core::{Digest, Reference};

use crate::error::AppError;
use crate::outbound::OutboundPolicy;

/// Quay's timeouts: connecting, and the longest silence while reading.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A client of one upstream registry, with one organization's credentials.
pub(super) struct RegistryClient {
    client: Client,
    auth: RegistryAuth,
    /// `host[:port]`.
    registry: String,
    policy: OutboundPolicy,
}

impl RegistryClient {
    pub(super) fn new(
        cache: &ProxyCache,
        credentials: Option<UpstreamCredentials>,
        policy: OutboundPolicy,
    ) -> Self {
        let config = ClientConfig {
            protocol: if cache.insecure {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            platform_resolver: None,
            user_agent: concat!("quay-rs/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let auth = match credentials {
            Some(credentials) => RegistryAuth::Basic(
                credentials.username,
                credentials.password.expose().to_string(),
            ),
            None => RegistryAuth::Anonymous,
        };
        Self {
            client: Client::new(config),
            auth,
            registry: cache.upstream_host().to_string(),
            policy,
        }
    }

    fn reference(&self, repository: &str, reference: &Reference) -> oci_client::Reference {
        match reference {
            Reference::Tag(tag) => oci_client::Reference::with_tag(
                self.registry.clone(),
                repository.to_string(),
                tag.to_string(),
            ),
            Reference::Digest(digest) => oci_client::Reference::with_digest(
                self.registry.clone(),
                repository.to_string(),
                digest.to_string(),
            ),
        }
    }

    /// Signs in as a pull of `repository` would: whether a token was needed and given.
    pub(super) async fn sign_in(&self, repository: &str) -> Result<bool, UpstreamFailure> {
        let image = oci_client::Reference::with_tag(
            self.registry.clone(),
            repository.to_string(),
            "latest".to_string(),
        );
        let token = self
            .call(&image, || {
                self.client
                    .auth(&image, &self.auth, RegistryOperation::Pull)
            })
            .await?;
        Ok(token.is_some())
    }

    /// The digest `reference` names upstream, from a HEAD (the client falls back to a GET
    /// when the upstream sends no digest header).
    pub(super) async fn manifest_digest(
        &self,
        repository: &str,
        reference: &Reference,
    ) -> Result<Digest, UpstreamFailure> {
        let image = self.reference(repository, reference);
        let digest = self
            .call(&image, || {
                self.client.fetch_manifest_digest(&image, &self.auth)
            })
            .await?;
        parse_digest(&digest)
    }

    /// The manifest, its bytes verified against the digest by the client.
    pub(super) async fn manifest(
        &self,
        repository: &str,
        reference: &Reference,
    ) -> Result<UpstreamManifest, UpstreamFailure> {
        let image = self.reference(repository, reference);
        let accepted: Vec<&str> = ManifestMediaType::ALL
            .iter()
            .map(|media_type| media_type.as_str())
            .collect();
        let (bytes, digest) = self
            .call(&image, || {
                self.client.pull_manifest_raw(&image, &self.auth, &accepted)
            })
            .await?;
        Ok(UpstreamManifest {
            digest: parse_digest(&digest)?,
            bytes,
        })
    }

    /// The blob's bytes as they arrive; the client checks them against the digest and ends
    /// the stream with an error if they do not match.
    pub(super) async fn blob(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>, UpstreamFailure> {
        let image = self.reference(repository, &Reference::Digest(digest.clone()));
        // The token dance happens on the first request for the repository.
        self.client
            .store_auth_if_needed(image.resolve_registry(), &self.auth)
            .await;
        let sized = self
            .call(&image, || {
                self.client.pull_blob_stream(&image, digest.as_str())
            })
            .await?;
        Ok(sized.stream)
    }

    /// Checks the host, makes the request, and after a 401 makes it once more with a fresh
    /// token (the cached one may have been revoked or expired early).
    async fn call<T, F, Fut>(
        &self,
        image: &oci_client::Reference,
        request: F,
    ) -> Result<T, UpstreamFailure>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        self.policy
            .check_authority(&self.registry)
            .await
            .map_err(|error| {
                let problem = match error {
                    AppError::Request(_) => UpstreamProblem::Unavailable,
                    _ => UpstreamProblem::Refused,
                };
                UpstreamFailure::new(problem, error.to_string())
            })?;
        match request().await {
            Err(OciDistributionError::UnauthorizedError { .. }) => {
                self.client
                    .auth(image, &self.auth, RegistryOperation::Pull)
                    .await
                    .map_err(|error| failure(&error))?;
                request().await.map_err(|error| failure(&error))
            }
            answer => answer.map_err(|error| failure(&error)),
        }
    }
}

fn parse_digest(digest: &str) -> Result<Digest, UpstreamFailure> {
    Digest::parse(digest).map_err(|_| {
        UpstreamFailure::new(
            UpstreamProblem::Invalid,
            format!("it named the digest {digest:?}"),
        )
    })
}

/// What an `oci-client` error means for the cache.
fn failure(error: &OciDistributionError) -> UpstreamFailure {
    use UpstreamProblem::{Invalid, NotFound, RateLimited, Refused, Unavailable};
    let problem = match error {
        OciDistributionError::RequestError(_) | OciDistributionError::IoError(_) => Unavailable,
        OciDistributionError::ServerError { code, .. } => match code {
            404 => NotFound,
            401 | 403 => Refused,
            429 => RateLimited,
            408 | 500..=599 => Unavailable,
            _ => Invalid,
        },
        OciDistributionError::RegistryError { envelope, .. } => {
            match envelope.errors.first().map(|error| &error.code) {
                Some(
                    OciErrorCode::ManifestUnknown
                    | OciErrorCode::NameUnknown
                    | OciErrorCode::BlobUnknown
                    | OciErrorCode::NotFound,
                ) => NotFound,
                Some(OciErrorCode::Unauthorized | OciErrorCode::Denied) => Refused,
                Some(OciErrorCode::Toomanyrequests) => RateLimited,
                _ => Invalid,
            }
        }
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => Refused,
        OciDistributionError::ImageManifestNotFoundError(_) => NotFound,
        _ => Invalid,
    };
    UpstreamFailure::new(problem, error.to_string())
}
