use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;

fn d(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn oci_manifest() -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":7}},
        "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":10}},
                  {{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":20}},
                  {{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":10}},
                  {{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip","digest":"{}","size":40,"urls":["https://example.com/l"]}}],
        "annotations":{{"org.opencontainers.image.title":"x"}}}}"#,
        d('c'),
        d('1'),
        d('2'),
        d('1'),
        d('f')
    )
}

fn parse_sha256(bytes: &[u8], content_type: Option<&str>) -> Result<ParsedManifest> {
    parse(bytes, content_type, DigestAlgorithm::Sha256)
}

#[test]
fn oci_image_manifest() {
    let body = oci_manifest();
    let m = parse_sha256(
        body.as_bytes(),
        Some(ManifestMediaType::OciManifest.as_str()),
    )
    .unwrap();
    assert_eq!(m.media_type, ManifestMediaType::OciManifest);
    assert_eq!(
        m.digest,
        digest_of(DigestAlgorithm::Sha256, body.as_bytes())
    );
    // Config first, duplicates once, remote layers not required.
    let required: Vec<_> = m
        .required_blobs()
        .iter()
        .map(|content| content.digest.to_string())
        .collect();
    assert_eq!(required, [d('c'), d('1'), d('2')]);
    assert_eq!(m.layers_size(), 80);
    assert_eq!(m.annotations["org.opencontainers.image.title"], "x");
    assert_eq!(
        m.referrer_artifact_type(),
        Some("application/vnd.oci.image.config.v1+json")
    );
}

#[test]
fn media_type_comes_from_the_body_when_the_header_is_generic() {
    let body = oci_manifest();
    for content_type in [
        None,
        Some("application/json"),
        Some("application/json; charset=utf-8"),
    ] {
        let m = parse_sha256(body.as_bytes(), content_type).unwrap();
        assert_eq!(m.media_type, ManifestMediaType::OciManifest);
    }
    let without_type = body.replace(
        r#""mediaType":"application/vnd.oci.image.manifest.v1+json","#,
        "",
    );
    let m = parse_sha256(without_type.as_bytes(), None).unwrap();
    assert_eq!(m.media_type, ManifestMediaType::OciManifest);
}

#[test]
fn a_header_that_contradicts_the_body_is_refused() {
    let body = oci_manifest();
    let err = parse_sha256(
        body.as_bytes(),
        Some(ManifestMediaType::DockerManifest.as_str()),
    );
    assert!(matches!(err, Err(Error::ManifestInvalid(_))));
}

#[test]
fn unknown_manifest_types_are_unsupported() {
    let body = oci_manifest();
    let err = parse_sha256(
        body.as_bytes(),
        Some("application/vnd.oci.artifact.manifest.v1+json"),
    );
    assert!(matches!(err, Err(Error::ManifestUnsupported(_))));
    let in_body = r#"{"schemaVersion":2,"mediaType":"text/plain","manifests":[]}"#;
    assert!(matches!(
        parse_sha256(in_body.as_bytes(), None),
        Err(Error::ManifestUnsupported(_))
    ));
}

#[test]
fn artifacts_with_unknown_config_and_layer_types_are_accepted() {
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "artifactType":"application/vnd.example.sbom.v1+json",
        "config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{}","size":2}},
        "layers":[{{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"{}","size":5}}],
        "subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":99}}}}"#,
        d('e'),
        d('a'),
        d('9')
    );
    let m = parse_sha256(
        body.as_bytes(),
        Some(ManifestMediaType::OciManifest.as_str()),
    )
    .unwrap();
    assert_eq!(
        m.referrer_artifact_type(),
        Some("application/vnd.example.sbom.v1+json")
    );
    assert_eq!(m.subject.unwrap().digest.to_string(), d('9'));
}

#[test]
fn indexes_and_manifest_lists() {
    for (media_type, child_type) in [
        (ManifestMediaType::OciIndex, ManifestMediaType::OciManifest),
        (
            ManifestMediaType::DockerManifestList,
            ManifestMediaType::DockerManifest,
        ),
    ] {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[
            {{"mediaType":"{}","digest":"{}","size":1,"platform":{{"architecture":"amd64","os":"linux"}}}},
            {{"mediaType":"{}","digest":"{}","size":2,"platform":{{"architecture":"arm64","os":"linux"}}}}]}}"#,
            media_type.as_str(),
            child_type.as_str(),
            d('a'),
            child_type.as_str(),
            d('b')
        );
        let m = parse_sha256(body.as_bytes(), Some(media_type.as_str())).unwrap();
        assert_eq!(m.media_type, media_type);
        assert!(m.media_type.is_list());
        assert_eq!(m.child_manifests().len(), 2);
        assert!(m.required_blobs().is_empty());
    }
}

#[test]
fn docker_schema2_manifest() {
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
        "config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":"{}"}},
        "layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":9,"digest":"{}"}}]}}"#,
        d('c'),
        d('1')
    );
    let m = parse_sha256(body.as_bytes(), None).unwrap();
    assert_eq!(m.media_type, ManifestMediaType::DockerManifest);
    assert_eq!(m.required_blobs().len(), 2);
}

#[test]
fn structural_errors_are_reported() {
    let cases = [
        ("not json", "failed to parse"),
        ("[]", "failed to parse"),
        (
            r#"{"schemaVersion":3,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
            "schemaVersion",
        ),
        (r#"{"schemaVersion":3}"#, "cannot tell"),
        (
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#,
            "needs a config",
        ),
        (
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}"#,
            "needs manifests",
        ),
    ];
    for (body, expected) in cases {
        match parse_sha256(body.as_bytes(), None) {
            Err(Error::ManifestInvalid(message)) => {
                assert!(message.contains(expected), "{message}");
            }
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[test]
fn descriptor_errors_are_reported() {
    let good = oci_manifest();
    let cases = [
        (
            good.replace(r#""size":10"#, r#""size":-1"#),
            "negative size",
        ),
        (good.replace(&d('2'), "sha256:abc"), "invalid digest"),
        (good.replace(r#","size":20"#, ""), "without size"),
        (
            good.replace("application/vnd.oci.image.config.v1+json", "no-slash"),
            "invalid media type",
        ),
    ];
    for (body, expected) in cases {
        match parse_sha256(body.as_bytes(), None) {
            Err(Error::ManifestInvalid(message)) => {
                assert!(message.contains(expected), "{message}");
            }
            other => panic!("{expected}: {other:?}"),
        }
    }
}

fn schema1_payload() -> String {
    format!(
        "{{\n   \"schemaVersion\": 1,\n   \"name\": \"ns/app\",\n   \"tag\": \"v1\",\n   \"architecture\": \"amd64\",\n   \"fsLayers\": [\n      {{\"blobSum\": \"{}\"}},\n      {{\"blobSum\": \"{}\"}}\n   ],\n   \"history\": []\n}}",
        d('1'),
        d('2')
    )
}

#[test]
fn unsigned_schema1() {
    let body = schema1_payload();
    let m = parse_sha256(
        body.as_bytes(),
        Some("application/vnd.docker.distribution.manifest.v1+json"),
    )
    .unwrap();
    assert_eq!(m.media_type, ManifestMediaType::DockerSchema1);
    assert_eq!(
        m.digest,
        digest_of(DigestAlgorithm::Sha256, body.as_bytes())
    );
    assert_eq!(m.schema1_name_and_tag, Some(("ns/app".into(), "v1".into())));
    assert_eq!(m.required_blobs().len(), 2);
    // Schema 1 records no sizes, so none is checked.
    assert!(m.required_blobs().iter().all(|r| r.size.is_none()));
}

/// Builds a pretty-signed manifest the way libtrust does: the payload's closing brace
/// becomes the format tail, and the signatures are spliced in before it.
fn sign(payload: &str) -> String {
    let format_length = payload.rfind("\n}").unwrap();
    sign_claiming(payload, format_length)
}

fn sign_claiming(payload: &str, claimed_length: usize) -> String {
    let format_length = payload.rfind("\n}").unwrap();
    let tail = &payload[format_length..];
    let protected = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"formatLength":{claimed_length},"formatTail":"{}","time":"2016-01-01T00:00:00Z"}}"#,
        URL_SAFE_NO_PAD.encode(tail)
    ));
    format!(
        "{},\n   \"signatures\": [{{\"header\": {{\"alg\": \"ES256\"}}, \"signature\": \"c2ln\", \"protected\": \"{protected}\"}}]{tail}",
        &payload[..format_length]
    )
}

#[test]
fn signed_schema1_digest_covers_the_payload_only() {
    let payload = schema1_payload();
    let signed = sign(&payload);
    for content_type in [
        None,
        Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
    ] {
        let m = parse_sha256(signed.as_bytes(), content_type).unwrap();
        assert_eq!(m.media_type, ManifestMediaType::DockerSchema1Signed);
        assert_eq!(
            m.digest,
            digest_of(DigestAlgorithm::Sha256, payload.as_bytes())
        );
    }
}

#[test]
fn broken_signatures_are_refused() {
    let too_long = sign_claiming(&schema1_payload(), 100_000);
    assert!(matches!(
        parse_sha256(too_long.as_bytes(), None),
        Err(Error::ManifestInvalid(_))
    ));
    let no_signatures =
        schema1_payload().replace("\"history\": []", "\"history\": [], \"signatures\": []");
    assert!(matches!(
        parse_sha256(no_signatures.as_bytes(), None),
        Err(Error::ManifestInvalid(_))
    ));
}

#[test]
fn sha512_digests_when_pushed_by_sha512() {
    let body = oci_manifest();
    let m = parse(body.as_bytes(), None, DigestAlgorithm::Sha512).unwrap();
    assert_eq!(m.digest.algorithm(), DigestAlgorithm::Sha512);
}

#[test]
fn descriptors_of_one_digest_must_declare_one_size() {
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":7}},
        "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":10}},
                  {{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":11}}]}}"#,
        d('c'),
        d('1'),
        d('1')
    );
    let error = parse_sha256(body.as_bytes(), None).unwrap_err();
    assert!(
        matches!(&error, Error::ManifestInvalid(message) if message.contains(&d('1'))),
        "{error}"
    );
    // Every required blob carries its declared size.
    let m = parse_sha256(oci_manifest().as_bytes(), None).unwrap();
    let sizes: Vec<_> = m.required_blobs().iter().map(|r| r.size).collect();
    assert_eq!(sizes, [Some(7), Some(10), Some(20)]);
}
