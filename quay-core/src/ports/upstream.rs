//! The port of upstream registries, which proxy cache organizations pull through.

use async_trait::async_trait;
use bytes::Bytes;

use super::blobs::{BlobInfo, ByteStream};
use crate::account::NamespaceId;
use crate::error::Result;
use crate::names::{Digest, Reference};
use crate::proxy::UpstreamCredentials;
use crate::repository::RepositoryId;
use crate::upstream::UpstreamEndpoint;

/// Whose upstream it is: whose credentials the adapter reads, and whose client (with its
/// tokens) it keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpstreamOrigin {
    /// A proxy cache organization's.
    ProxyCache(NamespaceId),
    /// A mirrored repository's.
    Mirror(RepositoryId),
}

/// An upstream repository, as a proxy cache organization or a mirror reaches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamSource {
    /// Whose it is.
    pub origin: UpstreamOrigin,
    /// Where it is.
    pub endpoint: UpstreamEndpoint,
    /// The repository's path upstream (`library/nginx`).
    pub repository: String,
}

impl UpstreamSource {
    /// `host/repository`, as the usage log and messages name it.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.endpoint.host, self.repository)
    }
}

/// A manifest as the upstream served it, its bytes verified against its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamManifest {
    /// Its digest.
    pub digest: Digest,
    /// Its bytes.
    pub bytes: Bytes,
}

/// What signing in to an upstream found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpstreamSignIn {
    /// The upstream accepted the credentials, or needs none.
    Valid,
    /// No credentials were given and the upstream asks for authentication: it serves what
    /// it serves anonymously.
    Anonymous,
}

/// Upstream registries. Failures are [`Error::Upstream`](crate::Error::Upstream), saying
/// whether they may pass.
#[async_trait]
pub trait Upstream: Send + Sync {
    /// Refuses an upstream the registry may not reach: one that resolves to a loopback,
    /// private or link-local address not listed in `SSRF_ALLOWED_HOSTS`. The reason names no
    /// field; the caller knows which one named the host.
    async fn check_permitted(&self, host: &str) -> Result<()>;

    /// Signs in to the upstream as a pull of `repository` would (the token dance), with
    /// `credentials`.
    async fn sign_in(
        &self,
        endpoint: &UpstreamEndpoint,
        repository: &str,
        credentials: Option<&UpstreamCredentials>,
    ) -> Result<UpstreamSignIn>;

    /// Every tag of the upstream repository, as its tag listing pages them.
    async fn tags(&self, source: &UpstreamSource) -> Result<Vec<String>>;

    /// The digests of the manifests whose `subject` is `digest`: from the referrers API,
    /// or, where the upstream has none, from OCI 1.1's fallback, the `sha256-<hex>` tag.
    async fn referrers(&self, source: &UpstreamSource, digest: &Digest) -> Result<Vec<Digest>>;

    /// The digest of what `reference` names upstream, asked without downloading it (a HEAD,
    /// which registries such as Docker Hub do not count against their pull limits).
    async fn manifest_digest(
        &self,
        source: &UpstreamSource,
        reference: &Reference,
    ) -> Result<Digest>;

    /// The manifest `reference` names upstream. Concurrent calls for the same manifest
    /// share one upstream request.
    async fn manifest(
        &self,
        source: &UpstreamSource,
        reference: &Reference,
    ) -> Result<UpstreamManifest>;

    /// The blob's bytes as they arrive from the upstream, stored in the blob store as they
    /// pass. Concurrent calls for the same blob share one upstream request and one write;
    /// each caller gets every byte from the first. Bytes that turn out not to match the
    /// digest or size are discarded and end each stream with an error before its last part.
    async fn blob(&self, source: &UpstreamSource, blob: &BlobInfo) -> Result<ByteStream>;
}
