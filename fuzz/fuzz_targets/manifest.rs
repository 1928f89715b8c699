//! Feeds arbitrary bytes to the manifest parser and to `config_labels`, both of which read
//! bodies pushed by any client. Neither may panic, and an accepted manifest must satisfy
//! the invariants the registry relies on when it stores the manifest: each referenced blob
//! and child manifest is listed once, the digest is that of the bytes as pushed (except for
//! signed schema 1, whose digest covers the payload only), and a list has no layers.
//!
//! The first byte picks the `Content-Type` and the digest algorithm, so that every media
//! type is reached through the header as well as through the body; the rest is the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quay_core::DigestAlgorithm;
use quay_core::hash::digest_of;
use quay_core::manifest::{self, ManifestMediaType};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let algorithm = if selector & 1 == 0 {
        DigestAlgorithm::Sha256
    } else {
        DigestAlgorithm::Sha512
    };
    // 0: no header, 1: generic JSON, 2..=7: the known types, 8: a real but unsupported type.
    let content_type = match usize::from(selector >> 1) % 9 {
        0 => None,
        1 => Some("application/json"),
        8 => Some("application/vnd.oci.artifact.manifest.v1+json"),
        known => Some(ManifestMediaType::ALL[known - 2].as_str()),
    };

    manifest::config_labels(body);

    let Ok(parsed) = manifest::parse(body, content_type, algorithm) else {
        return;
    };
    let blobs = parsed.required_blobs();
    assert!(
        blobs
            .iter()
            .enumerate()
            .all(|(i, d)| !blobs[..i].contains(d)),
        "duplicate required blob in {blobs:?}"
    );
    let children = parsed.child_manifests();
    assert!(
        children
            .iter()
            .enumerate()
            .all(|(i, d)| !children[..i].contains(d)),
        "duplicate child manifest in {children:?}"
    );
    if !matches!(
        parsed.media_type,
        ManifestMediaType::DockerSchema1 | ManifestMediaType::DockerSchema1Signed
    ) {
        assert_eq!(parsed.digest, digest_of(algorithm, body));
    }
    if parsed.media_type.is_list() {
        assert!(parsed.layers.is_empty(), "a list with layers: {parsed:?}");
    }
});
