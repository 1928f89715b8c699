//! A full disk: the data directory on a small tmpfs, filled while clients pull and write,
//! then freed. Reads go on while it is full, writes are refused with an answer that says
//! why, `/health/instance` tells a load balancer, the registry works again as soon as space
//! returns (without a restart), and every write it acknowledged is there after a restart.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::client::{Answer, Client};
use crate::services::unavailable;
use crate::support::*;

/// A tmpfs mounted for one test (root only), unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, megabytes: u32) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir)
            .output();
        match output {
            Ok(output) if output.status.success() => Some(Self {
                dir: dir.to_path_buf(),
            }),
            Ok(output) => {
                unavailable("a tmpfs mount", String::from_utf8_lossy(&output.stderr));
                None
            }
            Err(error) => {
                unavailable("a tmpfs mount", error);
                None
            }
        }
    }

    /// Takes every free byte with one file; its path.
    fn fill(&self) -> PathBuf {
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        for size in [1 << 20, 4096, 1] {
            let chunk = vec![7u8; size];
            while file.write_all(&chunk).is_ok() {}
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Whether a write was acknowledged (then it must last); otherwise it must have been
/// refused as storage that cannot work now, saying why.
fn acknowledged(what: &str, answer: &Answer) -> bool {
    if answer.status.is_success() {
        return true;
    }
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what} on a full disk: {}",
        answer.body
    );
    assert!(answer.retry_after, "{what}: 503 without Retry-After");
    assert!(
        answer.body.to_lowercase().contains("space"),
        "{what}: the refusal must name the cause: {}",
        answer.body
    );
    false
}

#[test]
fn a_full_disk_loses_no_acknowledged_write_and_recovers_without_a_restart() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let Some(disk) = Tmpfs::mount(&data, 48) else {
        return;
    };
    let quay = Quay::start(&data, &[], &[]);
    let token = access_token(&data, USER);
    let client = Client::new(&quay.address, &token);
    let image = client.push_image("ns/app", "v1", &noise(1, 200_000));

    let filler = disk.fill();
    // Pulls while the disk is full: their usage-log entries cannot be written yet.
    for _ in 0..400 {
        assert_eq!(client.pull("ns/app", "v1"), image);
    }
    let mut repositories = Vec::new();
    let mut descriptions = Vec::new();
    let mut images = Vec::new();
    for round in 0..5 {
        let name = format!("full-{round}");
        if acknowledged("creating a repository", &client.create_repository(&name)) {
            repositories.push(name);
        }
        let description = format!("written while full, {round}");
        if acknowledged(
            "changing a description",
            &client.describe("ns/app", &description),
        ) {
            descriptions.push(description);
        }
        let tag = format!("full-{round}");
        match client.try_push_image("ns/app", &tag, &noise(round + 2, 50_000)) {
            Ok(digest) => images.push((tag, digest)),
            Err(refused) => assert!(!acknowledged("pushing an image", &refused)),
        }
    }
    let health = client.get("/health/instance");
    assert_eq!(
        health.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "a full disk is unhealthy"
    );

    std::fs::remove_file(&filler).unwrap();
    // Space is back: writes work again at once, without a restart.
    let started = Instant::now();
    for round in 0..5 {
        let name = format!("after-{round}");
        let answer = client.create_repository(&name);
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{name}: {}",
            answer.body
        );
        repositories.push(name);
        let description = format!("written after, {round}");
        let answer = client.describe("ns/app", &description);
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{description}: {}",
            answer.body
        );
        descriptions.push(description);
        let tag = format!("after-{round}");
        let digest = client.push_image("ns/app", &tag, &noise(round + 20, 50_000));
        images.push((tag, digest));
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "writes after space returned took {:?}",
        started.elapsed()
    );
    assert_eq!(client.get("/health/instance").status(), StatusCode::OK);

    // Everything acknowledged is there after a restart.
    assert!(quay.terminate().success());
    let quay = Quay::start(&data, &[], &[]);
    let client = Client::new(&quay.address, &token);
    for name in &repositories {
        let response = client.get(&format!("/api/v1/repository/ns/{name}"));
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "repository {name} was lost"
        );
    }
    let details: Value = client.get("/api/v1/repository/ns/app").json().unwrap();
    assert_eq!(
        details["description"].as_str(),
        descriptions.last().map(String::as_str),
        "the last acknowledged description"
    );
    assert_eq!(client.pull("ns/app", "v1"), image);
    for (tag, digest) in &images {
        assert_eq!(&client.pull("ns/app", tag), digest, "image {tag} was lost");
    }
    // The pulls made while the disk was full reached the usage log.
    let logs: Value = client.get("/api/v1/repository/ns/app/logs").json().unwrap();
    let pulls = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"] == "pull_repo")
        .count();
    assert!(pulls > 0, "{logs}");
    drop(quay);
    drop(disk);
}
