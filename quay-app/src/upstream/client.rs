//! One upstream registry, reached with `oci-client`: the token dance (anonymous, Basic, or a
//! bearer token for `repository:<name>:pull` from the challenge's realm and service), tokens
//! cached until they expire, one retry on a 401 with a fresh token, Quay's timeouts. An
//! endpoint whose TLS is not verified is tried over HTTPS without checking the certificate,
//! then, if it does not speak TLS, over plain HTTP from then on (skopeo's
//! `--tls-verify=false`).
//!
//! `oci-client` takes no resolver of ours, so the host is checked against the
//! [`OutboundPolicy`] before each request, where webhooks are checked as they resolve: a name
//! that resolves to a public address for the check and a private one a moment later is the
//! window this leaves (a configured upstream is chosen by an organization's administrator).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, RegistryOperation};
use quay_core::manifest::ManifestMediaType;
use quay_core::ports::UpstreamManifest;
use quay_core::proxy::UpstreamCredentials;
use quay_core::upstream::{Transport, UpstreamEndpoint, UpstreamFailure, UpstreamProblem};
use quay_core::{Digest, Reference};

use crate::error::AppError;
use crate::outbound::OutboundPolicy;

/// Quay's timeouts: connecting, and the longest silence while reading.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Tags asked for per page of a tag listing.
const TAGS_PER_PAGE: usize = 1000;

/// A client of one upstream registry, with one organization's or mirror's credentials.
pub(super) struct RegistryClient {
    /// Over the endpoint's protocol (HTTPS, unverified for an unverified endpoint).
    client: Client,
    /// For an unverified endpoint: plain HTTP, used once HTTPS failed to connect.
    plain: Option<Client>,
    /// Whether the upstream turned out to speak plain HTTP.
    speaks_plain: AtomicBool,
    auth: RegistryAuth,
    /// `host[:port]`.
    registry: String,
    policy: OutboundPolicy,
}

impl RegistryClient {
    pub(super) fn new(
        endpoint: &UpstreamEndpoint,
        credentials: Option<UpstreamCredentials>,
        policy: OutboundPolicy,
    ) -> Self {
        let config = |protocol: ClientProtocol, verify: bool| ClientConfig {
            protocol,
            accept_invalid_certificates: !verify,
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            platform_resolver: None,
            user_agent: concat!("quay-rs/", env!("CARGO_PKG_VERSION")),
            https_proxy: endpoint.proxy.https_proxy.clone(),
            http_proxy: endpoint.proxy.http_proxy.clone(),
            no_proxy: endpoint.proxy.no_proxy.clone(),
            ..ClientConfig::default()
        };
        let (client, plain) = match endpoint.transport {
            Transport::Https => (Client::new(config(ClientProtocol::Https, true)), None),
            Transport::Http => (Client::new(config(ClientProtocol::Http, true)), None),
            Transport::Unverified => (
                Client::new(config(ClientProtocol::Https, false)),
                Some(Client::new(config(ClientProtocol::Http, false))),
            ),
        };
        let auth = match credentials {
            Some(credentials) => RegistryAuth::Basic(
                credentials.username,
                credentials.password.expose().to_string(),
            ),
            None => RegistryAuth::Anonymous,
        };
        Self {
            client,
            plain,
            speaks_plain: AtomicBool::new(false),
            auth,
            registry: endpoint.host.clone(),
            policy,
        }
    }

    /// The client requests go through now.
    fn active(&self) -> &Client {
        match &self.plain {
            Some(plain) if self.speaks_plain.load(Ordering::Relaxed) => plain,
            _ => &self.client,
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
        let image = self.reference(repository, &Reference::Tag(latest()));
        let token = self
            .call(&image, || async {
                let client = self.active();
                client
                    .auth(&image, &self.auth, RegistryOperation::Pull)
                    .await
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
            .call(&image, || async {
                let client = self.active();
                client.fetch_manifest_digest(&image, &self.auth).await
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
            .call(&image, || async {
                let client = self.active();
                client
                    .pull_manifest_raw(&image, &self.auth, &accepted)
                    .await
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
        let sized = self
            .call(&image, || async {
                let client = self.active();
                // The token dance happens on the first request for the repository.
                client
                    .store_auth_if_needed(image.resolve_registry(), &self.auth)
                    .await;
                client.pull_blob_stream(&image, digest.as_str()).await
            })
            .await?;
        Ok(sized.stream)
    }

    /// Every tag of `repository`, a page at a time until a page adds nothing.
    pub(super) async fn tags(&self, repository: &str) -> Result<Vec<String>, UpstreamFailure> {
        let image = self.reference(repository, &Reference::Tag(latest()));
        let mut tags: Vec<String> = Vec::new();
        loop {
            let last = tags.last().cloned();
            let page = self
                .call(&image, || async {
                    let client = self.active();
                    client
                        .list_tags(&image, &self.auth, Some(TAGS_PER_PAGE), last.as_deref())
                        .await
                })
                .await?;
            // Registries that ignore `last` answer the first page again.
            let fresh: Vec<String> = page
                .tags
                .into_iter()
                .filter(|tag| last.as_ref().is_none_or(|last| tag > last))
                .collect();
            if fresh.is_empty() {
                return Ok(tags);
            }
            tags.extend(fresh);
        }
    }

    /// The digests of the referrers of `digest` (the client falls back to the referrers
    /// tag schema where the upstream has no referrers API); none when neither has any.
    pub(super) async fn referrers(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Vec<Digest>, UpstreamFailure> {
        let image = self.reference(repository, &Reference::Digest(digest.clone()));
        let index = self
            .call(&image, || async {
                let client = self.active();
                client
                    .store_auth_if_needed(image.resolve_registry(), &self.auth)
                    .await;
                client.pull_referrers(&image, None).await
            })
            .await;
        match index {
            Ok(index) => index
                .manifests
                .iter()
                .map(|descriptor| parse_digest(&descriptor.digest))
                .collect(),
            Err(failure) if failure.problem == UpstreamProblem::NotFound => Ok(Vec::new()),
            Err(failure) => Err(failure),
        }
    }

    /// Checks the host, makes the request, and after a 401 makes it once more with a fresh
    /// token (the cached one may have been revoked or expired early). An unverified
    /// endpoint that cannot be reached over HTTPS is asked over HTTP.
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
        match self.attempt(image, &request).await {
            Err(OciDistributionError::RequestError(_))
                if self.plain.is_some() && !self.speaks_plain.load(Ordering::Relaxed) =>
            {
                // `request` asks `active()`, which is the plain client from now on.
                self.speaks_plain.store(true, Ordering::Relaxed);
                self.attempt(image, &request).await
            }
            answer => answer,
        }
        .map_err(|error| failure(&error))
    }

    async fn attempt<T, F, Fut>(
        &self,
        image: &oci_client::Reference,
        request: &F,
    ) -> Result<T, OciDistributionError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        match request().await {
            Err(OciDistributionError::UnauthorizedError { .. }) => {
                self.active()
                    .auth(image, &self.auth, RegistryOperation::Pull)
                    .await?;
                request().await
            }
            answer => answer,
        }
    }
}

fn latest() -> quay_core::TagName {
    quay_core::TagName::parse("latest").expect("`latest` is a tag")
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
