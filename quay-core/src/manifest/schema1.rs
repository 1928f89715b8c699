//! Docker image manifest schema 1, signed and unsigned.
//!
//! A signed schema-1 manifest is a JSON Web Signature in "pretty" form: the manifest JSON
//! with a `signatures` array spliced in before its closing brace. Its digest is that of the
//! *payload*, the JSON without the signatures, which each signature's protected header
//! describes: the first `formatLength` bytes followed by the base64url-decoded
//! `formatTail`. Clients compute the digest that way, so the registry must too. The
//! signatures themselves are not verified: schema 1 is deprecated, and nothing the registry
//! does depends on who signed it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::{Descriptor, ManifestMediaType, ParsedManifest, RawManifest, invalid};
use crate::error::Result;
use crate::hash::digest_of;
use crate::names::{Digest, DigestAlgorithm};

/// Media type of a schema-1 layer (always gzipped tar).
const LAYER_MEDIA_TYPE: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

#[derive(Deserialize)]
struct Signature {
    protected: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProtectedHeader {
    format_length: usize,
    format_tail: String,
}

pub(super) fn parse(
    bytes: &[u8],
    raw: RawManifest,
    algorithm: DigestAlgorithm,
) -> Result<ParsedManifest> {
    if raw.schema_version != Some(1) {
        return Err(invalid("schemaVersion must be 1 for a schema-1 manifest"));
    }
    let name = raw
        .name
        .ok_or_else(|| invalid("schema-1 manifest without name"))?;
    let tag = raw
        .tag
        .ok_or_else(|| invalid("schema-1 manifest without tag"))?;
    let fs_layers = raw
        .fs_layers
        .filter(|layers| !layers.is_empty())
        .ok_or_else(|| invalid("schema-1 manifest without fsLayers"))?;
    let layers = fs_layers
        .into_iter()
        .map(|layer| {
            let digest = Digest::parse(&layer.blob_sum)
                .map_err(|_| invalid(format!("invalid blobSum {:?}", layer.blob_sum)))?;
            Ok(Descriptor {
                media_type: LAYER_MEDIA_TYPE.to_string(),
                digest,
                // Schema 1 does not record layer sizes.
                size: 0,
                artifact_type: None,
                remote: false,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    // The body decides: signatures make it a signed manifest, whatever was declared.
    let (media_type, digest) = match raw.signatures {
        Some(signatures) => (
            ManifestMediaType::DockerSchema1Signed,
            digest_of(algorithm, &signed_payload(bytes, signatures)?),
        ),
        None => (
            ManifestMediaType::DockerSchema1,
            digest_of(algorithm, bytes),
        ),
    };
    Ok(ParsedManifest {
        media_type,
        digest,
        config: None,
        layers,
        manifests: Vec::new(),
        subject: None,
        artifact_type: None,
        annotations: Default::default(),
        schema1_name_and_tag: Some((name, tag)),
    })
}

/// The JWS payload of a pretty-signed manifest: what the signatures (and the digest) cover.
/// Every signature must describe the same payload.
fn signed_payload(bytes: &[u8], signatures: serde_json::Value) -> Result<Vec<u8>> {
    let signatures: Vec<Signature> = serde_json::from_value(signatures)
        .map_err(|e| invalid(format!("invalid schema-1 signatures: {e}")))?;
    let (first, others) = signatures
        .split_first()
        .ok_or_else(|| invalid("schema-1 manifest with an empty signatures list"))?;
    let payload = payload_described_by(bytes, &first.protected)?;
    for other in others {
        if payload_described_by(bytes, &other.protected)? != payload {
            return Err(invalid("schema-1 signatures cover different payloads"));
        }
    }
    Ok(payload)
}

fn payload_described_by(bytes: &[u8], protected: &str) -> Result<Vec<u8>> {
    let protected = URL_SAFE_NO_PAD
        .decode(protected.trim_end_matches('='))
        .map_err(|_| invalid("schema-1 signature header is not base64url"))?;
    let header: ProtectedHeader = serde_json::from_slice(&protected)
        .map_err(|e| invalid(format!("invalid schema-1 protected header: {e}")))?;
    let tail = URL_SAFE_NO_PAD
        .decode(header.format_tail.trim_end_matches('='))
        .map_err(|_| invalid("schema-1 formatTail is not base64url"))?;
    let head = bytes
        .get(..header.format_length)
        .ok_or_else(|| invalid("schema-1 formatLength exceeds the manifest"))?;
    Ok([head, &tail].concat())
}
