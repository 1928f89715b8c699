//! Pulls: a manifest by tag or digest, a blob whole or in part.

use std::sync::Arc;

use super::proxied::PulledManifest;
use super::stores::Registry;
use crate::access::Caller;
use crate::audit::LogKind;
use crate::error::{Error, Result};
use crate::names::{Digest, Reference, RepositoryPath};
use crate::permission::RepositoryAction;
use crate::ports::{BlobInfo, ByteStream, StoredManifest, TagResolution};
use crate::range::{ByteRange, RangeRequest};
use crate::repository::Repository;

/// A blob download.
pub enum BlobRead {
    /// The whole blob.
    Whole {
        /// The blob.
        blob: BlobInfo,
        /// Its bytes.
        body: ByteStream,
    },
    /// The requested range of it.
    Part {
        /// The blob.
        blob: BlobInfo,
        /// The range being sent.
        range: ByteRange,
        /// The range's bytes.
        body: ByteStream,
    },
    /// The requested range lies outside the blob.
    Unsatisfiable {
        /// The blob.
        blob: BlobInfo,
    },
    /// The client downloads it from the blob store itself, at this signed URL (its `Range`
    /// header goes along).
    Elsewhere {
        /// The blob.
        blob: BlobInfo,
        /// Where.
        url: String,
    },
}

/// How long a direct download URL stays valid.
const DIRECT_DOWNLOAD_MS: u64 = 10 * 60 * 1000;

impl Registry {
    /// The manifest a tag points to, or the live manifest with that digest; in a proxy
    /// cache organization, through the cache. The pull goes to the usage log.
    pub async fn manifest(
        &self,
        path: &RepositoryPath,
        reference: &Reference,
        caller: &Caller,
    ) -> Result<PulledManifest> {
        self.permit(caller, path, RepositoryAction::Read).await?;
        let (repository, pulled, upstream) = match self.proxied(path).await? {
            Some(proxied) => {
                let (repository, pulled) = self.pull_through(&proxied, path, reference).await?;
                (repository, pulled, Some(proxied.describe()))
            }
            None => {
                let repository = self.existing(path).await?;
                let manifest = self.resolve(&repository, reference).await?;
                (repository, PulledManifest::fresh(manifest), None)
            }
        };
        let entry = caller
            .actor
            .entry(LogKind::PullRepo, self.now_ms())
            .repository(&repository)
            .meta("mediaType", pulled.manifest.media_type.as_str());
        let entry = match reference {
            Reference::Tag(tag) => entry.meta("tag", tag.as_str()),
            Reference::Digest(digest) => entry.meta("manifest_digest", digest.as_str()),
        };
        let entry = match upstream {
            Some(upstream) => entry.meta("upstream", upstream),
            None => entry,
        };
        self.pull_log.record(entry).await;
        Ok(pulled)
    }

    /// What `reference` names in the repository.
    pub(super) async fn resolve(
        &self,
        repository: &Repository,
        reference: &Reference,
    ) -> Result<Arc<StoredManifest>> {
        let now_ms = self.now_ms();
        match reference {
            Reference::Tag(tag) => match self.tags.resolve_tag(repository.id, tag, now_ms).await? {
                TagResolution::Alive(live) => Ok(live.manifest),
                TagResolution::Expired => Err(Error::TagExpired(tag.clone())),
                TagResolution::Unknown => Err(Error::ManifestUnknown),
            },
            Reference::Digest(digest) => self
                .manifests
                .live_manifest(repository.id, digest, now_ms)
                .await?
                .map(|live| live.manifest)
                .ok_or(Error::ManifestUnknown),
        }
    }

    /// The blob, if the repository links it.
    pub async fn blob(
        &self,
        path: &RepositoryPath,
        digest: &Digest,
        caller: &Caller,
    ) -> Result<BlobInfo> {
        self.permit(caller, path, RepositoryAction::Read).await?;
        let repository = self.existing(path).await?;
        self.linked_blob(&repository, digest).await
    }

    pub(super) async fn linked_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<BlobInfo> {
        let linked = self
            .blob_index
            .linked_blob(repository.id, digest, self.now_ms())
            .await?
            .ok_or_else(|| Error::BlobUnknown(digest.clone()))?;
        Ok(BlobInfo {
            digest: digest.clone(),
            size: linked.size,
        })
    }

    /// Reads a blob the repository links, honouring a `Range` header.
    pub async fn read_blob(
        &self,
        path: &RepositoryPath,
        digest: &Digest,
        range_header: Option<&str>,
        caller: &Caller,
    ) -> Result<BlobRead> {
        let blob = self.blob(path, digest, caller).await?;
        if let Some(body) = self.blob_through(path, &blob).await? {
            return Ok(BlobRead::Whole { blob, body });
        }
        if self.settings.direct_download
            && let Some(url) = self.blobs.download_url(digest, DIRECT_DOWNLOAD_MS).await?
        {
            return Ok(BlobRead::Elsewhere { blob, url });
        }
        let request = range_header.map_or(RangeRequest::Whole, |header| {
            RangeRequest::parse(header, blob.size)
        });
        Ok(match request {
            RangeRequest::Whole => BlobRead::Whole {
                body: self.blobs.read_blob(digest, None).await?,
                blob,
            },
            RangeRequest::Part(range) => BlobRead::Part {
                body: self.blobs.read_blob(digest, Some(range)).await?,
                blob,
                range,
            },
            RangeRequest::Unsatisfiable => BlobRead::Unsatisfiable { blob },
        })
    }
}
