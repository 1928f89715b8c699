//! Parsing manifests of every media type; the cost every push pays once per manifest.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quay_core::DigestAlgorithm;
use quay_core::manifest::{ManifestMediaType, parse};

fn digest(n: usize) -> String {
    format!("sha256:{n:064x}")
}

fn image_manifest(media_type: ManifestMediaType, layers: usize) -> Vec<u8> {
    let layers: Vec<String> = (0..layers)
        .map(|i| {
            format!(
                r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}"#,
                digest(i + 1),
                1000 + i
            )
        })
        .collect();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":1234}},"layers":[{}],"annotations":{{"org.opencontainers.image.created":"2026-01-01T00:00:00Z"}}}}"#,
        media_type.as_str(),
        digest(0),
        layers.join(",")
    )
    .into_bytes()
}

fn index(media_type: ManifestMediaType, child_type: ManifestMediaType, children: usize) -> Vec<u8> {
    let entries: Vec<String> = (0..children)
        .map(|i| {
            format!(
                r#"{{"mediaType":"{}","digest":"{}","size":{},"platform":{{"architecture":"arch{i}","os":"linux"}}}}"#,
                child_type.as_str(),
                digest(i),
                500 + i
            )
        })
        .collect();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{}]}}"#,
        media_type.as_str(),
        entries.join(",")
    )
    .into_bytes()
}

fn schema1(layers: usize) -> Vec<u8> {
    let fs_layers: Vec<String> = (0..layers)
        .map(|i| format!(r#"{{"blobSum":"{}"}}"#, digest(i)))
        .collect();
    let history: Vec<&str> = (0..layers).map(|_| r#"{"v1Compatibility":"{}"}"#).collect();
    format!(
        r#"{{"schemaVersion":1,"name":"ns/app","tag":"v1","architecture":"amd64","fsLayers":[{}],"history":[{}]}}"#,
        fs_layers.join(","),
        history.join(",")
    )
    .into_bytes()
}

fn parsing(c: &mut Criterion) {
    let cases = [
        (
            "oci_manifest_5_layers",
            ManifestMediaType::OciManifest,
            image_manifest(ManifestMediaType::OciManifest, 5),
        ),
        (
            "oci_manifest_50_layers",
            ManifestMediaType::OciManifest,
            image_manifest(ManifestMediaType::OciManifest, 50),
        ),
        (
            "docker_manifest_5_layers",
            ManifestMediaType::DockerManifest,
            image_manifest(ManifestMediaType::DockerManifest, 5),
        ),
        (
            "oci_index_8_platforms",
            ManifestMediaType::OciIndex,
            index(
                ManifestMediaType::OciIndex,
                ManifestMediaType::OciManifest,
                8,
            ),
        ),
        (
            "docker_list_8_platforms",
            ManifestMediaType::DockerManifestList,
            index(
                ManifestMediaType::DockerManifestList,
                ManifestMediaType::DockerManifest,
                8,
            ),
        ),
        (
            "schema1_5_layers",
            ManifestMediaType::DockerSchema1,
            schema1(5),
        ),
    ];
    let mut group = c.benchmark_group("manifest_parse");
    for (name, media_type, body) in &cases {
        assert!(
            parse(body, Some(media_type.as_str()), DigestAlgorithm::Sha256).is_ok(),
            "{name}"
        );
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                parse(
                    std::hint::black_box(body),
                    Some(media_type.as_str()),
                    DigestAlgorithm::Sha256,
                )
            });
        });
    }
    group.finish();
}

criterion_group!(benches, parsing);
criterion_main!(benches);
