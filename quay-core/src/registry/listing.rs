//! Listings: tags, the catalog and referrers.

use std::collections::HashMap;

use oci_spec::image::{DescriptorBuilder, ImageIndexBuilder, MediaType};

use super::stores::Registry;
use crate::access::{Action, Caller, Identity};
use crate::error::{Error, Result};
use crate::manifest::{self, ManifestMediaType};
use crate::names::{Digest, DigestAlgorithm, Reference, RepositoryPath, TagName};
use crate::permission::RepositoryAction;
use crate::ports::Repository;

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The entries, in ascending order.
    pub items: Vec<T>,
    /// Whether entries follow the last one (the frontend then links to the next page).
    pub more: bool,
}

/// A page of the catalog.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CatalogPage {
    /// The paths the caller may read, in ascending order.
    pub items: Vec<RepositoryPath>,
    /// When paths follow, the page's last path, shown or not: the next page starts after it.
    pub next_after: Option<RepositoryPath>,
}

/// The referrers of a manifest, as an OCI image index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referrers {
    /// The index, serialized.
    pub index: Vec<u8>,
    /// Whether the `artifactType` filter was applied.
    pub filtered: bool,
}

/// One referrer, as the index lists it.
struct ReferrerEntry {
    digest: Digest,
    media_type: String,
    size: u64,
    artifact_type: Option<String>,
    annotations: HashMap<String, String>,
}

impl Registry {
    /// The repository's tags in ascending order: all of them without `n`, else at most `n`
    /// (capped at the maximum page size), after `last`.
    pub async fn tags(
        &self,
        path: &RepositoryPath,
        n: Option<u32>,
        last: Option<&str>,
        caller: &Caller,
    ) -> Result<Page<TagName>> {
        self.permit(caller, path, RepositoryAction::Read).await?;
        let repository = self.existing(path).await?;
        let list = self.tags.list_tags(repository.id, self.now_ms()).await?;
        let names = &list.names[..];
        let start = last.map_or(0, |last| {
            names.partition_point(|name| name.as_str() <= last)
        });
        let rest = &names[start..];
        let count = match n {
            None => rest.len(),
            Some(n) => rest.len().min(n.min(self.settings.max_page_size) as usize),
        };
        Ok(Page {
            items: rest[..count].to_vec(),
            more: count < rest.len(),
        })
    }

    /// Repository paths in ascending order, at most `n` (default and cap: the maximum page
    /// size), after `last`; of those, the ones the caller may read.
    pub async fn catalog(
        &self,
        n: Option<u32>,
        last: Option<&str>,
        caller: &Caller,
    ) -> Result<CatalogPage> {
        // A registry token grants the repositories it names; the catalog shows what its
        // holder may read.
        let reader = match &caller.identity {
            Identity::Token { principal, .. } => Caller {
                identity: principal
                    .clone()
                    .map_or(Identity::Anonymous, Identity::Account),
                actor: caller.actor.clone(),
            },
            _ => caller.clone(),
        };
        let limit = n.unwrap_or(u32::MAX).min(self.settings.max_page_size);
        if limit == 0 || !self.allows(&reader, Action::ListCatalog) {
            return Ok(CatalogPage::default());
        }
        let after = last.map(RepositoryPath::parse).transpose()?;
        let mut items = self
            .catalog
            .list_repositories(after.as_ref(), limit + 1)
            .await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_after = if more { items.last().cloned() } else { None };
        let mut readable = Vec::with_capacity(items.len());
        for path in items {
            if self
                .permit(&reader, &path, RepositoryAction::Read)
                .await
                .is_ok()
            {
                readable.push(path);
            }
        }
        Ok(CatalogPage {
            items: readable,
            next_after,
        })
    }

    /// The manifests of the repository that refer to `subject`, optionally only those of one
    /// artifact type. An unknown subject has no referrers (an empty index, never a 404).
    ///
    /// Besides manifests whose `subject` is the digest, the entries of an index tagged with
    /// the referrers tag schema (`sha256-<hex>`) are listed too, for clients that push
    /// referrers that way.
    pub async fn referrers(
        &self,
        path: &RepositoryPath,
        subject: &Digest,
        artifact_type: Option<&str>,
        caller: &Caller,
    ) -> Result<Referrers> {
        self.permit(caller, path, RepositoryAction::Read).await?;
        let repository = self.existing(path).await?;
        let now_ms = self.now_ms();
        let mut entries: Vec<ReferrerEntry> = Vec::new();
        for referrer in self
            .manifest_details
            .referrers(repository.id, subject, now_ms)
            .await?
        {
            let stored = referrer.manifest;
            let annotations = manifest::parse(
                &stored.bytes,
                Some(stored.media_type.as_str()),
                stored.digest.algorithm(),
            )
            .map(|parsed| parsed.annotations.into_iter().collect())
            .unwrap_or_default();
            entries.push(ReferrerEntry {
                media_type: stored.media_type.as_str().to_string(),
                size: stored.bytes.len() as u64,
                artifact_type: referrer.artifact_type,
                annotations,
                digest: stored.digest,
            });
        }
        for entry in self.tag_schema_referrers(&repository, subject).await? {
            if !entries.iter().any(|known| known.digest == entry.digest) {
                entries.push(entry);
            }
        }
        if let Some(wanted) = artifact_type {
            entries.retain(|entry| entry.artifact_type.as_deref() == Some(wanted));
        }
        entries.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(Referrers {
            index: referrers_index(entries)?,
            filtered: artifact_type.is_some(),
        })
    }

    /// The entries of the index tagged `sha256-<hex>` of the subject, if there is one.
    async fn tag_schema_referrers(
        &self,
        repository: &Repository,
        subject: &Digest,
    ) -> Result<Vec<ReferrerEntry>> {
        if subject.algorithm() != DigestAlgorithm::Sha256 {
            return Ok(Vec::new());
        }
        let tag = TagName::parse(&format!("sha256-{}", subject.hex()))?;
        let index = match self.resolve(repository, &Reference::Tag(tag)).await {
            Ok(index) => index,
            Err(Error::ManifestUnknown | Error::TagExpired(_)) => return Ok(Vec::new()),
            Err(other) => return Err(other),
        };
        if index.media_type != ManifestMediaType::OciIndex {
            return Ok(Vec::new());
        }
        let parsed = manifest::parse(
            &index.bytes,
            Some(index.media_type.as_str()),
            index.digest.algorithm(),
        )?;
        Ok(parsed
            .manifests
            .into_iter()
            .map(|descriptor| ReferrerEntry {
                digest: descriptor.digest,
                media_type: descriptor.media_type,
                size: descriptor.size,
                artifact_type: descriptor.artifact_type,
                annotations: HashMap::new(),
            })
            .collect())
    }
}

fn referrers_index(entries: Vec<ReferrerEntry>) -> Result<Vec<u8>> {
    let build_error = |e: oci_spec::OciSpecError| Error::storage(e);
    let manifests = entries
        .into_iter()
        .map(|entry| {
            let digest: oci_spec::image::Digest =
                entry.digest.as_str().parse().map_err(build_error)?;
            let mut descriptor = DescriptorBuilder::default()
                .media_type(MediaType::from(entry.media_type.as_str()))
                .digest(digest)
                .size(entry.size);
            if let Some(artifact_type) = entry.artifact_type {
                descriptor = descriptor.artifact_type(MediaType::from(artifact_type.as_str()));
            }
            if !entry.annotations.is_empty() {
                descriptor = descriptor.annotations(entry.annotations);
            }
            descriptor.build().map_err(build_error)
        })
        .collect::<Result<Vec<_>>>()?;
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests)
        .build()
        .map_err(build_error)?;
    serde_json::to_vec(&index).map_err(Error::storage)
}
