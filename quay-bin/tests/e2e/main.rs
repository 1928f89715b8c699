//! End to end: the real `quay-bin` binary, driven by the tools users drive it with (skopeo,
//! podman, oras), as users do.

// Test helpers are shared between modules of this test crate, not exported.
#![allow(unreachable_pub)]

mod access;
mod api;
mod bad_input;
mod client;
mod crash;
mod floods;
mod full_disk;
mod mirror;
mod notifications;
mod observability;
mod production;
mod proxy_cache;
mod quota;
mod secrets;
#[path = "../../../quay-storage/tests/support/services.rs"]
mod services;
mod slow_clients;
mod support;
mod time_machine;
mod upstream;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use support::*;

#[test]
fn skopeo_copies_in_and_out_with_identical_digests() {
    if !have("skopeo") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let quay = Quay::start(&work.path().join("data"), &[], &[]);
    let mut layout = Layout::new(&work.path().join("source"));
    let image = layout.image(
        "amd64",
        &[noise(1, 1 << 20), noise(2, 300_000), noise(3, 10)],
    );
    layout.tag("v1", image);

    let registry = format!("docker://{}/ns/app:v1", quay.address);
    let cache = work.path().join("skopeo-home");
    skopeo_login(&cache, &quay.address);
    let source = format!("oci:{}:v1", layout.dir.display());
    skopeo(
        &cache,
        &[
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "--preserve-digests",
            &source,
            &registry,
        ],
    );

    let raw = skopeo(
        &cache,
        &["inspect", "--tls-verify=false", "--raw", &registry],
    );
    let (source_blobs, source_digest) = layout_contents(&layout.dir, "v1");
    assert_eq!(sha256(raw.as_bytes()).as_str(), source_digest);

    let out = work.path().join("out");
    let destination = format!("oci:{}:v1", out.display());
    skopeo(
        &cache,
        &[
            "copy",
            "-q",
            "--src-tls-verify=false",
            "--preserve-digests",
            &registry,
            &destination,
        ],
    );
    let (out_blobs, out_digest) = layout_contents(&out, "v1");
    assert_eq!(out_digest, source_digest);
    assert_eq!(out_blobs, source_blobs);
    for blob in &source_blobs {
        let original = std::fs::read(layout.dir.join("blobs/sha256").join(blob)).unwrap();
        let copied = std::fs::read(out.join("blobs/sha256").join(blob)).unwrap();
        assert!(original == copied, "blob {blob} differs");
    }
}

#[test]
fn skopeo_copies_a_multi_arch_index_with_all() {
    if !have("skopeo") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let quay = Quay::start(&work.path().join("data"), &[], &[]);
    let mut layout = Layout::new(&work.path().join("source"));
    let shared = noise(9, 200_000);
    let amd64 = layout.image("amd64", &[shared.clone(), noise(10, 5000)]);
    let arm64 = layout.image("arm64", &[shared, noise(11, 7000)]);
    let index = layout.index(&[amd64.clone(), arm64.clone()]);
    layout.tag("v1", index);

    let cache = work.path().join("skopeo-home");
    skopeo_login(&cache, &quay.address);
    let registry = format!("docker://{}/ns/multi:v1", quay.address);
    let source = format!("oci:{}:v1", layout.dir.display());
    skopeo(
        &cache,
        &[
            "copy",
            "-q",
            "--all",
            "--dest-tls-verify=false",
            "--preserve-digests",
            &source,
            &registry,
        ],
    );

    let (source_blobs, source_digest) = layout_contents(&layout.dir, "v1");
    let raw = skopeo(
        &cache,
        &["inspect", "--tls-verify=false", "--raw", &registry],
    );
    assert_eq!(sha256(raw.as_bytes()).as_str(), source_digest);
    // Each platform resolves to its own manifest.
    for (arch, descriptor) in [("amd64", &amd64), ("arm64", &arm64)] {
        let out = work.path().join(arch);
        let destination = format!("oci:{}:v1", out.display());
        skopeo(
            &cache,
            &[
                "--override-arch",
                arch,
                "copy",
                "-q",
                "--src-tls-verify=false",
                "--preserve-digests",
                &registry,
                &destination,
            ],
        );
        assert_eq!(
            layout_contents(&out, "v1").1,
            descriptor["digest"].as_str().unwrap(),
            "{arch}"
        );
    }

    let out = work.path().join("out");
    let destination = format!("oci:{}:v1", out.display());
    skopeo(
        &cache,
        &[
            "copy",
            "-q",
            "--all",
            "--src-tls-verify=false",
            "--preserve-digests",
            &registry,
            &destination,
        ],
    );
    let (out_blobs, out_digest) = layout_contents(&out, "v1");
    assert_eq!(out_digest, source_digest);
    assert_eq!(out_blobs, source_blobs);
}

#[test]
fn a_restart_in_the_middle_loses_nothing() {
    if !have("skopeo") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let cache = work.path().join("skopeo-home");
    let mut layout = Layout::new(&work.path().join("source"));
    let first = layout.image("amd64", &[noise(20, 100_000)]);
    layout.tag("first", first);
    let second = layout.image("amd64", &[noise(21, 100_000)]);
    layout.tag("second", second);

    let quay = Quay::start(&data, &[], &[]);
    skopeo_login(&cache, &quay.address);
    let source = |tag: &str| format!("oci:{}:{tag}", layout.dir.display());
    let pushed = format!("docker://{}/ns/app:first", quay.address);
    skopeo(
        &cache,
        &[
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "--preserve-digests",
            &source("first"),
            &pushed,
        ],
    );
    let status = quay.terminate();
    assert!(
        status.success(),
        "SIGTERM must end the server cleanly: {status:?}"
    );

    let quay = Quay::start(&data, &[], &[]);
    skopeo_login(&cache, &quay.address);
    let out = work.path().join("out");
    let again = format!("docker://{}/ns/app:first", quay.address);
    let destination = format!("oci:{}:first", out.display());
    skopeo(
        &cache,
        &[
            "copy",
            "-q",
            "--src-tls-verify=false",
            "--preserve-digests",
            &again,
            &destination,
        ],
    );
    assert_eq!(
        layout_contents(&out, "first").1,
        layout_contents(&layout.dir, "first").1
    );
    let second = format!("docker://{}/ns/app:second", quay.address);
    skopeo(
        &cache,
        &[
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "--preserve-digests",
            &source("second"),
            &second,
        ],
    );
    let tags = skopeo(
        &cache,
        &[
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{}/ns/app", quay.address),
        ],
    );
    let tags: serde_json::Value = serde_json::from_str(&tags).unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["first", "second"]));
}

#[test]
fn sigterm_finishes_requests_in_flight() {
    let work = tempfile::tempdir().unwrap();
    let quay = Quay::start(&work.path().join("data"), &[], &[]);
    let upload = start_upload(&quay.address);

    // Half a chunk, then SIGTERM, then the rest: the chunk is still accepted.
    let mut chunk = begin_chunk(&quay.address, &upload, 10);
    chunk.write_all(b"hello").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal_terminate(quay.pid());
    std::thread::sleep(Duration::from_millis(300));
    chunk.write_all(b"world").unwrap();
    let mut answer = String::new();
    chunk.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    assert!(answer.contains("range: 0-9"), "{answer}");
    let status = quay.terminate();
    assert!(status.success(), "{status:?}");
}

#[test]
fn oras_pushes_and_pulls_artifacts_with_an_artifact_type() {
    if !have("python3") || !have_python_module("oras") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let quay = Quay::start(&work.path().join("data"), &[], &[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/oras_artifact.py");
    let work_dir = work.path().display().to_string();
    let output = run(
        "python3",
        &[script, &quay.address, &work_dir, USER, PASSWORD],
    );
    let pushed: serde_json::Value = serde_json::from_str(output.trim()).unwrap();
    let artifact = pushed["artifact"].as_str().unwrap();
    let referrer = pushed["referrer"].as_str().unwrap();

    let base = format!("http://{}/v2/ns/artifact", quay.address);
    let referrers = run(
        "curl",
        &["-sf", "-u", CREDS, &format!("{base}/referrers/{artifact}")],
    );
    let referrers: serde_json::Value = serde_json::from_str(&referrers).unwrap();
    let entries = referrers["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{referrers}");
    assert_eq!(entries[0]["digest"], referrer);
    assert_eq!(
        entries[0]["artifactType"],
        "application/vnd.example.sbom.v1+json"
    );
    let filtered = run(
        "curl",
        &[
            "-sf",
            "-u",
            CREDS,
            &format!("{base}/referrers/{artifact}?artifactType=application/vnd.example.other"),
        ],
    );
    let filtered: serde_json::Value = serde_json::from_str(&filtered).unwrap();
    assert_eq!(filtered["manifests"].as_array().unwrap().len(), 0);
}

#[test]
fn podman_pulls_what_skopeo_pushed() {
    if !have("skopeo") || !have("podman") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let quay = Quay::start(&work.path().join("data"), &[], &[]);
    let mut layout = Layout::new(&work.path().join("source"));
    let image = layout.image("amd64", &[empty_tar()]);
    layout.tag("v1", image);
    let cache = work.path().join("skopeo-home");
    skopeo_login(&cache, &quay.address);
    let reference = format!("{}/ns/podman:v1", quay.address);
    let source = format!("oci:{}:v1", layout.dir.display());
    skopeo(
        &cache,
        &[
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "--preserve-digests",
            &source,
            &format!("docker://{reference}"),
        ],
    );

    // A podman of its own: storage and configuration in the test's directory.
    let root = work.path().join("podman-root");
    let run_root = work.path().join("podman-run");
    let podman = |args: &[&str]| {
        let output = Command::new("podman")
            .args([
                "--root",
                &root.display().to_string(),
                "--runroot",
                &run_root.display().to_string(),
            ])
            .args(["--storage-driver", "vfs"])
            .args(args)
            .env("HOME", work.path())
            .env("REGISTRY_AUTH_FILE", auth_file(&cache))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    podman(&["pull", "-q", "--tls-verify=false", &reference]);
    let digest = podman(&["image", "inspect", "--format", "{{.Digest}}", &reference]);
    assert_eq!(digest.trim(), layout_contents(&layout.dir, "v1").1);
    podman(&[
        "tag",
        &reference,
        &format!("{}/ns/podman:copy", quay.address),
    ]);
    podman(&[
        "push",
        "-q",
        "--tls-verify=false",
        &format!("{}/ns/podman:copy", quay.address),
    ]);
    let tags = skopeo(
        &cache,
        &[
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{}/ns/podman", quay.address),
        ],
    );
    assert!(tags.contains("copy"), "{tags}");
}

#[test]
fn a_quay_config_file_and_the_environment_configure_the_server() {
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("config.yaml");
    let storage = work.path().join("elsewhere/storage");
    std::fs::write(
        &config,
        format!(
            "SERVER_HOSTNAME: registry.example.com\n\
             PREFERRED_URL_SCHEME: https\n\
             DB_URI: sqlite://{}\n\
             DISTRIBUTED_STORAGE_CONFIG:\n  local:\n    - LocalStorage\n    - storage_path: {}\n\
             DISTRIBUTED_STORAGE_PREFERENCE: [local]\n\
             SOME_FUTURE_KEY: 1\n",
            work.path().join("elsewhere/quay.db").display(),
            storage.display()
        ),
    )
    .unwrap();
    let config_arg = config.display().to_string();
    let mut quay = Quay::start(
        &work.path().join("data"),
        &["--config", &config_arg],
        &[("SERVER_HOSTNAME", "registry.example.com:8443")],
    );
    let logs = quay.logs().join("\n");
    assert!(
        logs.contains("unknown config key ignored") && logs.contains("SOME_FUTURE_KEY"),
        "{logs}"
    );
    let health = run(
        "curl",
        &["-sf", &format!("http://{}/health/instance", quay.address)],
    );
    assert!(health.contains("\"database\":true"), "{health}");
    let started = run(
        "curl",
        &[
            "-si",
            "-u",
            CREDS,
            "-X",
            "POST",
            &format!("http://{}/v2/ns/app/blobs/uploads/", quay.address),
        ],
    );
    // Locations use the configured public URL, with the environment's host.
    assert!(
        started.contains("location: https://registry.example.com:8443/v2/ns/app/blobs/uploads/"),
        "{started}"
    );
    assert!(work.path().join("elsewhere/quay.db").exists());
    assert!(storage.exists());
    drop(quay);

    std::fs::write(&config, "DB_URI: [not, a, string]\n").unwrap();
    let failed = run_quay(
        &["serve", "--listen", "127.0.0.1:0", "--config", &config_arg],
        &[],
    );
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("DB_URI"), "{stderr}");
}

/// A valid, empty tar archive (two zero blocks), so that podman can unpack the layer.
fn empty_tar() -> Vec<u8> {
    vec![0; 1024]
}
