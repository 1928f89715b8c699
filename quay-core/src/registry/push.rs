//! Pushing and deleting manifests, and deleting blob links.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use super::stores::Registry;
use crate::access::Caller;
use crate::audit::LogKind;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::manifest::{self, ParsedManifest, config_labels};
use crate::names::{Digest, DigestAlgorithm, LIBRARY_NAMESPACE, Reference, RepositoryPath};
use crate::permission::RepositoryAction;
use crate::ports::{NewManifest, TagPlacement, Unlink};
use crate::tag as tag_rules;

/// Config media types whose blob is an image configuration with labels.
const IMAGE_CONFIG_TYPES: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// Image configurations larger than this are not read for labels.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The outcome of a manifest push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedManifest {
    /// The manifest's digest.
    pub digest: Digest,
    /// Its OCI subject, if it has one.
    pub subject: Option<Digest>,
}

impl Registry {
    /// Stores a manifest under a tag, or by digest (the digest must be that of the body).
    /// Every blob it references must be linked to the repository and every manifest it
    /// lists must be in it.
    pub async fn put_manifest(
        &self,
        path: &RepositoryPath,
        reference: &Reference,
        content_type: Option<&str>,
        bytes: Bytes,
        caller: &Caller,
    ) -> Result<PushedManifest> {
        self.permit(caller, path, RepositoryAction::Write).await?;
        let actor = &caller.actor;
        let limit = self.settings.max_manifest_bytes;
        if bytes.len() > limit {
            return Err(Error::ManifestTooLarge { limit });
        }
        let algorithm = match reference {
            Reference::Digest(digest) => digest.algorithm(),
            Reference::Tag(_) => DigestAlgorithm::Sha256,
        };
        let parsed = manifest::parse(&bytes, content_type, algorithm)?;
        check_reference(path, reference, &parsed)?;

        let repository = self.for_push(path, actor).await?;
        let labels = self.labels(&parsed).await?;
        let now_ms = self.now_ms();
        // A push by tag is a push in the usage log; by digest it is only content.
        let audit = match reference {
            Reference::Tag(tag) => Some(
                actor
                    .entry(LogKind::PushRepo, now_ms)
                    .repository(&repository)
                    .meta("tag", tag.as_str())
                    .meta("mediaType", parsed.media_type.as_str()),
            ),
            Reference::Digest(_) => None,
        };
        let event = match reference {
            Reference::Tag(tag) => Some(Event::repo_push(
                &self.settings.site,
                path,
                std::slice::from_ref(tag),
            )),
            Reference::Digest(_) => None,
        };
        let placement = match reference {
            Reference::Tag(tag) => TagPlacement::Tag {
                name: tag.clone(),
                lifetime_ms: tag_rules::label_lifetime_ms(&labels),
                immutable: self.settings.immutable_tags && tag_rules::label_immutable(&labels),
            },
            // A referrer lives as long as nobody deletes it; anything else pushed by digest
            // (a child before its list, say) has a while to get a tag or a parent.
            Reference::Digest(_) if parsed.subject.is_some() => {
                TagPlacement::Hidden { until_ms: None }
            }
            Reference::Digest(_) => TagPlacement::Hidden {
                until_ms: Some(now_ms + self.settings.untagged_manifest_ms),
            },
        };
        let pushed = PushedManifest {
            digest: parsed.digest.clone(),
            subject: parsed.subject.as_ref().map(|s| s.digest.clone()),
        };
        let manifest = NewManifest::of(parsed, bytes, labels);
        match self
            .manifests
            .store_manifest(repository.id, manifest, placement, audit, event, now_ms)
            .await
        {
            Ok(warning) => {
                if let Some(reached) = warning {
                    self.quota_reached(&repository, reached, actor).await?;
                }
                Ok(pushed)
            }
            Err(Error::QuotaExceeded(reached)) => {
                self.quota_reached(&repository, reached, actor).await?;
                Err(Error::QuotaExceeded(reached))
            }
            Err(other) => Err(other),
        }
    }

    /// Deletes a tag, or every tag of a manifest (which then can no longer be pulled; it
    /// stays restorable until garbage collection).
    pub async fn delete_manifest(
        &self,
        path: &RepositoryPath,
        reference: &Reference,
        caller: &Caller,
    ) -> Result<()> {
        self.permit(caller, path, RepositoryAction::Write).await?;
        let repository = self.writable(path, &caller.actor).await?;
        let now_ms = self.now_ms();
        let audit = caller
            .actor
            .entry(LogKind::DeleteTag, now_ms)
            .repository(&repository);
        match reference {
            Reference::Tag(tag) => {
                let audit = audit.meta("tag", tag.as_str());
                if !self
                    .tags
                    .delete_tag(repository.id, tag, audit, now_ms)
                    .await?
                {
                    return Err(Error::ManifestUnknown);
                }
            }
            Reference::Digest(digest) => {
                let audit = audit.meta("digest", digest.as_str());
                let deleted = self
                    .tags
                    .delete_manifest_tags(repository.id, digest, audit, now_ms)
                    .await?;
                if deleted == 0 {
                    let live = self
                        .manifests
                        .live_manifest(repository.id, digest, now_ms)
                        .await?;
                    return Err(match live {
                        Some(_) => Error::ManifestInUse(digest.clone()),
                        None => Error::ManifestUnknown,
                    });
                }
            }
        }
        Ok(())
    }

    /// Removes a blob from the repository, so that it answers 404 there, unless a manifest a
    /// live tag holds needs it. Manifests that only the time machine holds and that need the
    /// blob leave the time machine with it (a restore would bring back an image missing a
    /// blob); the usage log has a `permanently_delete_tag` entry, naming the blob, for each
    /// lifetime a restore could have brought back.
    pub async fn delete_blob(
        &self,
        path: &RepositoryPath,
        digest: &Digest,
        caller: &Caller,
    ) -> Result<()> {
        self.permit(caller, path, RepositoryAction::Write).await?;
        let repository = self.writable(path, &caller.actor).await?;
        let now_ms = self.now_ms();
        let audit = caller
            .actor
            .entry(LogKind::PermanentlyDeleteTag, now_ms)
            .repository(&repository)
            .meta("deleted_blob", digest.as_str());
        match self
            .blob_index
            .forget_blob(repository.id, digest, audit, now_ms)
            .await?
        {
            Unlink::Unlinked => Ok(()),
            Unlink::StillReferenced => Err(Error::BlobInUse(digest.clone())),
            Unlink::NotLinked => Err(Error::BlobUnknown(digest.clone())),
        }
    }

    /// The labels of an image manifest's configuration. A config that is missing here fails
    /// the push later, in the store's check that every blob is linked.
    async fn labels(
        &self,
        parsed: &ParsedManifest,
    ) -> Result<std::collections::BTreeMap<String, String>> {
        Ok(self
            .image_config_bytes(parsed)
            .await?
            .map(|config| config_labels(&config))
            .unwrap_or_default())
    }

    /// An image manifest's configuration blob, if it is an image configuration of at most
    /// [`MAX_CONFIG_BYTES`] that the blob store holds.
    pub(super) async fn image_config_bytes(
        &self,
        parsed: &ParsedManifest,
    ) -> Result<Option<Bytes>> {
        let Some(config) = &parsed.config else {
            return Ok(None);
        };
        if !IMAGE_CONFIG_TYPES.contains(&config.media_type.as_str())
            || config.size > MAX_CONFIG_BYTES
        {
            return Ok(None);
        }
        let mut stream = match self.blobs.read_blob(&config.digest, None).await {
            Ok(stream) => stream,
            Err(Error::BlobUnknown(_)) => return Ok(None),
            Err(other) => return Err(other),
        };
        let mut blob = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            blob.extend_from_slice(&chunk.map_err(Error::storage)?);
            if blob.len() as u64 > MAX_CONFIG_BYTES {
                return Ok(None);
            }
        }
        Ok(Some(blob.freeze()))
    }
}

/// A pushed manifest must agree with the URL it was pushed to.
fn check_reference(
    path: &RepositoryPath,
    reference: &Reference,
    parsed: &ParsedManifest,
) -> Result<()> {
    if let Reference::Digest(digest) = reference
        && *digest != parsed.digest
    {
        return Err(Error::DigestMismatch {
            expected: digest.clone(),
            actual: parsed.digest.clone(),
        });
    }
    if let Some((name, tag)) = &parsed.schema1_name_and_tag {
        let full = path.to_string();
        let short_form = path.namespace.as_str() == LIBRARY_NAMESPACE && name == path.name.as_str();
        if *name != full && !short_form {
            return Err(Error::NameInvalid(format!(
                "the manifest names repository {name:?}, not {full:?}"
            )));
        }
        if let Reference::Tag(pushed_as) = reference
            && pushed_as.as_str() != tag
        {
            return Err(Error::TagInvalid(format!(
                "the manifest names tag {tag:?}, not {:?}",
                pushed_as.as_str()
            )));
        }
    }
    Ok(())
}
