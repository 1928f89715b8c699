//! Manifests: one pure parser for every media type the registry stores.
//!
//! [`parse`] takes the bytes exactly as pushed and the request's `Content-Type`, and returns
//! what the registry needs to know to store and serve the manifest: its digest, the blobs
//! and child manifests it references, its OCI `subject` and `artifactType`, and its
//! annotations. It validates the structure of each media type, but is deliberately lenient
//! about media types *inside* descriptors: artifacts (Helm charts, cosign signatures, SBOMs)
//! use config and layer types the registry has never heard of, and must be accepted.
//!
//! This is the fuzz target of the project: no input may make it panic.

mod config;
mod schema1;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use self::config::config_labels;
use crate::error::{Error, Result};
use crate::hash::digest_of;
use crate::names::{Digest, DigestAlgorithm};

/// The media types of manifests the registry accepts, stores and serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ManifestMediaType {
    /// `application/vnd.oci.image.manifest.v1+json`
    OciManifest,
    /// `application/vnd.oci.image.index.v1+json`
    OciIndex,
    /// `application/vnd.docker.distribution.manifest.v2+json`
    DockerManifest,
    /// `application/vnd.docker.distribution.manifest.list.v2+json`
    DockerManifestList,
    /// `application/vnd.docker.distribution.manifest.v1+json` (unsigned schema 1)
    DockerSchema1,
    /// `application/vnd.docker.distribution.manifest.v1+prettyjws` (signed schema 1)
    DockerSchema1Signed,
}

impl ManifestMediaType {
    /// Every accepted type.
    pub const ALL: [Self; 6] = [
        Self::OciManifest,
        Self::OciIndex,
        Self::DockerManifest,
        Self::DockerManifestList,
        Self::DockerSchema1,
        Self::DockerSchema1Signed,
    ];

    /// The media type string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OciManifest => "application/vnd.oci.image.manifest.v1+json",
            Self::OciIndex => "application/vnd.oci.image.index.v1+json",
            Self::DockerManifest => "application/vnd.docker.distribution.manifest.v2+json",
            Self::DockerManifestList => "application/vnd.docker.distribution.manifest.list.v2+json",
            Self::DockerSchema1 => "application/vnd.docker.distribution.manifest.v1+json",
            Self::DockerSchema1Signed => {
                "application/vnd.docker.distribution.manifest.v1+prettyjws"
            }
        }
    }

    /// Recognises a media type string (parameters such as `; charset=utf-8` are ignored).
    pub fn from_media_type(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or_default().trim();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(essence))
    }

    /// Whether manifests of this type list other manifests rather than blobs.
    pub fn is_list(self) -> bool {
        matches!(self, Self::OciIndex | Self::DockerManifestList)
    }

    fn is_schema1(self) -> bool {
        matches!(self, Self::DockerSchema1 | Self::DockerSchema1Signed)
    }
}

/// A content descriptor: a typed, sized reference to a blob or a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    /// The referenced content's media type.
    pub media_type: String,
    /// The referenced content's digest.
    pub digest: Digest,
    /// The referenced content's size in bytes.
    pub size: u64,
    /// The descriptor's own `artifactType`, if any.
    pub artifact_type: Option<String>,
    /// Whether the content lives elsewhere (a foreign layer with `urls`), so the registry
    /// does not need to hold it.
    pub remote: bool,
}

/// What the registry needs to know about a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedManifest {
    /// The media type the manifest was stored under.
    pub media_type: ManifestMediaType,
    /// The manifest's digest (for signed schema 1, of the payload without signatures).
    pub digest: Digest,
    /// The config descriptor of an image manifest.
    pub config: Option<Descriptor>,
    /// The layers of an image manifest, in order (schema 1: its `fsLayers`).
    pub layers: Vec<Descriptor>,
    /// The manifests an index or manifest list lists.
    pub manifests: Vec<Descriptor>,
    /// The OCI `subject`: the manifest this one refers to (a signature, an SBOM, ...).
    pub subject: Option<Descriptor>,
    /// The manifest's `artifactType` field.
    pub artifact_type: Option<String>,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
    /// For schema 1, the repository name and tag written into the manifest.
    pub schema1_name_and_tag: Option<(String, String)>,
}

/// Content a manifest requires the repository to hold, with the size its descriptor
/// declares, which the stored content must have: sizes are shown to users and counted by
/// quota.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequiredContent {
    /// The content's digest.
    pub digest: Digest,
    /// Its declared size in bytes; `None` for schema 1, which records no sizes.
    pub size: Option<u64>,
}

impl ParsedManifest {
    /// The blobs the repository must hold for this manifest to be complete: the config and
    /// every non-remote layer, each digest and size once, in order of appearance.
    pub fn required_blobs(&self) -> Vec<RequiredContent> {
        let descriptors = self.config.iter().chain(&self.layers);
        self.required(descriptors.filter(|descriptor| !descriptor.remote))
    }

    /// The manifests this one lists, each digest and size once.
    pub fn child_manifests(&self) -> Vec<RequiredContent> {
        self.required(self.manifests.iter())
    }

    /// Each digest once; [`parse`] made sure that descriptors of one digest agree on its
    /// size.
    fn required<'a>(
        &self,
        descriptors: impl Iterator<Item = &'a Descriptor>,
    ) -> Vec<RequiredContent> {
        let mut required: Vec<RequiredContent> = Vec::new();
        for descriptor in descriptors {
            if !required.iter().any(|r| r.digest == descriptor.digest) {
                required.push(RequiredContent {
                    digest: descriptor.digest.clone(),
                    size: (!self.media_type.is_schema1()).then_some(descriptor.size),
                });
            }
        }
        required
    }

    /// Sum of the layer sizes (what Quay shows as an image's size).
    pub fn layers_size(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| l.size)
            .fold(0, u64::saturating_add)
    }

    /// The artifact type under which the referrers API lists this manifest: its
    /// `artifactType`, or for an image manifest without one, its config's media type.
    pub fn referrer_artifact_type(&self) -> Option<&str> {
        self.artifact_type.as_deref().or_else(|| {
            (self.media_type == ManifestMediaType::OciManifest)
                .then(|| self.config.as_ref().map(|c| c.media_type.as_str()))
                .flatten()
        })
    }
}

/// The JSON fields of every manifest type, all optional; which ones must be present depends
/// on the media type.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: Option<u32>,
    media_type: Option<String>,
    config: Option<RawDescriptor>,
    layers: Option<Vec<RawDescriptor>>,
    manifests: Option<Vec<RawDescriptor>>,
    subject: Option<RawDescriptor>,
    artifact_type: Option<String>,
    annotations: Option<BTreeMap<String, String>>,
    // Schema 1.
    name: Option<String>,
    tag: Option<String>,
    fs_layers: Option<Vec<RawFsLayer>>,
    signatures: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: Option<String>,
    digest: Option<String>,
    size: Option<i64>,
    urls: Option<Vec<String>>,
    artifact_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFsLayer {
    blob_sum: String,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::ManifestInvalid(message.into())
}

/// Parses and validates a manifest.
///
/// `content_type` is the request's `Content-Type`. A missing one or plain
/// `application/json` means "look at the body": its `mediaType` field, else its
/// `schemaVersion` and shape. `algorithm` is the one the digest is computed with (that of
/// the digest in the URL when the manifest is pushed by digest).
pub fn parse(
    bytes: &[u8],
    content_type: Option<&str>,
    algorithm: DigestAlgorithm,
) -> Result<ParsedManifest> {
    let declared = match content_type.map(str::trim) {
        None | Some("") => None,
        Some(value) => match ManifestMediaType::from_media_type(value) {
            Some(known) => Some(known),
            None if is_generic_json(value) => None,
            None => return Err(Error::ManifestUnsupported(value.to_string())),
        },
    };
    let raw: RawManifest = serde_json::from_slice(bytes)
        .map_err(|e| invalid(format!("failed to parse manifest: {e}")))?;
    let media_type = resolve_media_type(declared, &raw)?;

    if media_type.is_schema1() {
        return schema1::parse(bytes, raw, algorithm);
    }

    let expected_version = 2;
    if raw.schema_version != Some(expected_version) {
        return Err(invalid(format!(
            "schemaVersion must be {expected_version} for {}",
            media_type.as_str()
        )));
    }
    let config = raw.config.map(|d| descriptor(d, "config")).transpose()?;
    let layers = raw
        .layers
        .map(|ls| ls.into_iter().map(|d| descriptor(d, "layer")).collect())
        .transpose()?;
    let manifests = raw
        .manifests
        .map(|ms| ms.into_iter().map(|d| descriptor(d, "manifest")).collect())
        .transpose()?;
    let subject = raw.subject.map(|d| descriptor(d, "subject")).transpose()?;

    let (config, layers, manifests) = match media_type {
        ManifestMediaType::OciManifest | ManifestMediaType::DockerManifest => {
            let config = config.ok_or_else(|| invalid("an image manifest needs a config"))?;
            let layers = layers.ok_or_else(|| invalid("an image manifest needs layers"))?;
            if manifests.is_some() {
                return Err(invalid("an image manifest cannot list manifests"));
            }
            (Some(config), layers, Vec::new())
        }
        _ => {
            let manifests = manifests.ok_or_else(|| invalid("an index needs manifests"))?;
            if config.is_some() || layers.is_some() {
                return Err(invalid("an index cannot have a config or layers"));
            }
            (None, Vec::new(), manifests)
        }
    };
    if media_type == ManifestMediaType::DockerManifest && subject.is_some() {
        return Err(invalid("a Docker manifest cannot have a subject"));
    }
    if let Some(artifact_type) = &raw.artifact_type {
        check_media_type(artifact_type, "artifactType")?;
    }
    sizes_agree(config.iter().chain(&layers).chain(&manifests))?;

    Ok(ParsedManifest {
        media_type,
        digest: digest_of(algorithm, bytes),
        config,
        layers,
        manifests,
        subject,
        artifact_type: raw.artifact_type,
        annotations: raw.annotations.unwrap_or_default(),
        schema1_name_and_tag: None,
    })
}

/// Descriptors of one digest must declare one size: content has one size, and sizes are
/// shown to users and counted by quota.
fn sizes_agree<'a>(descriptors: impl Iterator<Item = &'a Descriptor>) -> Result<()> {
    let mut sizes: BTreeMap<&str, u64> = BTreeMap::new();
    for descriptor in descriptors {
        let size = *sizes
            .entry(descriptor.digest.as_str())
            .or_insert(descriptor.size);
        if size != descriptor.size {
            return Err(invalid(format!(
                "descriptors of {} declare both {size} and {} bytes",
                descriptor.digest, descriptor.size
            )));
        }
    }
    Ok(())
}

fn is_generic_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// Decides the media type from the header and the body, which must not contradict each
/// other.
fn resolve_media_type(
    declared: Option<ManifestMediaType>,
    raw: &RawManifest,
) -> Result<ManifestMediaType> {
    let in_body = match raw.media_type.as_deref() {
        None => None,
        Some(value) => Some(
            ManifestMediaType::from_media_type(value)
                .ok_or_else(|| Error::ManifestUnsupported(value.to_string()))?,
        ),
    };
    match (declared, in_body) {
        (Some(declared), Some(body)) if declared != body => Err(invalid(format!(
            "Content-Type {} does not match the manifest's mediaType {}",
            declared.as_str(),
            body.as_str()
        ))),
        (Some(declared), _) => Ok(declared),
        (None, Some(body)) => Ok(body),
        (None, None) => guess_media_type(raw),
    }
}

/// A body without a media type anywhere: schema 1, or an OCI manifest or index (the
/// `mediaType` field is optional in OCI).
fn guess_media_type(raw: &RawManifest) -> Result<ManifestMediaType> {
    match raw.schema_version {
        Some(1) if raw.signatures.is_some() => Ok(ManifestMediaType::DockerSchema1Signed),
        Some(1) => Ok(ManifestMediaType::DockerSchema1),
        Some(2) if raw.config.is_some() => Ok(ManifestMediaType::OciManifest),
        Some(2) if raw.manifests.is_some() => Ok(ManifestMediaType::OciIndex),
        _ => Err(invalid("cannot tell the manifest's media type")),
    }
}

fn descriptor(raw: RawDescriptor, what: &str) -> Result<Descriptor> {
    let media_type = raw
        .media_type
        .ok_or_else(|| invalid(format!("{what} descriptor without mediaType")))?;
    check_media_type(&media_type, what)?;
    let digest = raw
        .digest
        .ok_or_else(|| invalid(format!("{what} descriptor without digest")))?;
    let digest = Digest::parse(&digest)
        .map_err(|_| invalid(format!("{what} descriptor has invalid digest {digest:?}")))?;
    let size = raw
        .size
        .ok_or_else(|| invalid(format!("{what} descriptor without size")))?;
    let size = u64::try_from(size)
        .map_err(|_| invalid(format!("{what} descriptor has negative size {size}")))?;
    if let Some(artifact_type) = &raw.artifact_type {
        check_media_type(artifact_type, what)?;
    }
    Ok(Descriptor {
        media_type,
        digest,
        size,
        artifact_type: raw.artifact_type,
        remote: raw.urls.is_some_and(|urls| !urls.is_empty()),
    })
}

/// RFC 6838 shape, as Quay checks it: `type/subtype` made of word characters, `.`, `-`
/// and `+`. Unknown types are fine; malformed ones are not.
fn check_media_type(value: &str, what: &str) -> Result<()> {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'+'))
    };
    match value.split_once('/') {
        Some((kind, subtype)) if token(kind) && token(subtype) => Ok(()),
        _ => Err(invalid(format!("{what} has invalid media type {value:?}"))),
    }
}

#[cfg(test)]
mod tests;
