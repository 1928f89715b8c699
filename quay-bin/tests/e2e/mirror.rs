//! Repository mirroring, end to end: the real binary mirrors a CNCF distribution registry
//! (through the fault-injecting proxy) with its worker, as a user configures it through the
//! API and pulls with skopeo: the patterns, identical digests, cosign tags, a
//! retag picked up, the platform filter, the dry run, pushes refused, an upstream dying
//! half way.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;
use crate::upstream::{DockerRegistry, Fault, FaultyProxy, PrivateQuay};

/// Mirroring on, upstreams on 127.0.0.1 allowed, due syncs looked for every second.
const MIRROR_ENV: [(&str, &str); 3] = [
    ("FEATURE_REPO_MIRROR", "true"),
    ("SSRF_ALLOWED_HOSTS", "[127.0.0.1]"),
    ("REPO_MIRROR_INTERVAL", "1"),
];

/// The value of Quay's mirror metric `name` for `ns/<repository>` in the registry at
/// `address`'s `/metrics`.
fn mirror_metric(address: &str, name: &str, repository: &str) -> Option<f64> {
    let scrape = run("curl", &["-sf", &format!("http://{address}/metrics")]);
    let labels = [
        "namespace=\"ns\"".to_string(),
        format!("repository=\"{repository}\""),
    ];
    scrape
        .lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .find(|line| labels.iter().all(|label| line.contains(label.as_str())))
        .and_then(|line| line.rsplit_once(' ')?.1.parse().ok())
}

/// A registry with `ns/<repository>` mirrors of `library/app` on a distribution registry.
struct Mirror {
    work: tempfile::TempDir,
    upstream: DockerRegistry,
    proxy: FaultyProxy,
    quay: Quay,
    token: String,
    home: PathBuf,
    layout: Layout,
}

impl Mirror {
    fn start() -> Option<Self> {
        if !have("skopeo") {
            return None;
        }
        let upstream = DockerRegistry::start()?;
        let proxy = FaultyProxy::start(&upstream.address);
        let work = tempfile::tempdir().unwrap();
        let data = work.path().join("data");
        let quay = Quay::start(&data, &[], &MIRROR_ENV);
        let token = access_token(&data, USER);
        api_ok(
            &quay.address,
            &token,
            "PUT",
            "/api/v1/user/robots/mirror",
            Some(json!({})),
        );
        let home = work.path().join("skopeo-home");
        skopeo_login(&home, &quay.address);
        let layout = Layout::new(&work.path().join("source"));
        Some(Self {
            work,
            upstream,
            proxy,
            quay,
            token,
            home,
            layout,
        })
    }

    /// Puts `descriptor` upstream as `library/app:<tag>` (again: a retag).
    fn upstream_has(&mut self, tag: &str, descriptor: &Value) {
        // The layout names each content once, so that a retag pushes the new content.
        let in_layout = format!("{tag}-{}", &digest_of(descriptor)[7..19]);
        self.layout.tag(&in_layout, descriptor.clone());
        self.upstream
            .push(&self.layout.dir, &in_layout, &format!("library/app:{tag}"));
    }

    fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        api(&self.quay.address, &self.token, method, path, body)
    }

    /// Makes `ns/<repository>` a mirror of `library/app` with `settings` on top of a
    /// configuration whose scheduled syncs start tomorrow (so only sync-now runs one).
    fn configure(&self, repository: &str, settings: &Value) -> Value {
        let (status, body) = self.api(
            "POST",
            "/api/v1/repository",
            Some(json!({"repository": repository, "visibility": "private", "description": ""})),
        );
        assert_eq!(status, 201, "{body}");
        let mut config = json!({
            "external_reference": format!("{}/library/app", self.proxy.address),
            "external_registry_username": "puller",
            "external_registry_password": "a-secret-never-shown",
            "external_registry_config": {"verify_tls": false},
            "sync_interval": 86_400,
            "sync_start_date": "2099-01-01T00:00:00Z",
            "robot_username": "ns+mirror",
            "root_rule": {"rule_kind": "tag_glob_csv", "rule_value": ["v3.*"]},
            "skopeo_timeout_interval": 300,
        });
        for (key, value) in settings.as_object().unwrap() {
            config[key] = value.clone();
        }
        let (status, body) = self.api(
            "POST",
            &format!("/api/v1/repository/ns/{repository}/mirror"),
            Some(config),
        );
        assert_eq!(status, 201, "{body}");
        body
    }

    /// Asks for a sync of `ns/<repository>` and waits for the worker to finish it; the
    /// mirror as it then is.
    fn sync(&self, repository: &str) -> Value {
        let path = format!("/api/v1/repository/ns/{repository}/mirror");
        let (status, body) = self.api("POST", &format!("{path}/sync-now"), None);
        assert_eq!(status, 204, "{body}");
        self.wait_for(repository, |mirror| {
            !["SYNC_NOW", "SYNCING"].contains(&mirror["sync_status"].as_str().unwrap())
        })
    }

    fn enable(&self, repository: &str, enabled: bool) {
        let (status, body) = self.api(
            "PUT",
            &format!("/api/v1/repository/ns/{repository}/mirror"),
            Some(json!({ "is_enabled": enabled })),
        );
        assert_eq!(status, 201, "{body}");
    }

    /// The value of Quay's mirror metric `name` for `ns/<repository>`.
    fn metric(&self, name: &str, repository: &str) -> Option<f64> {
        mirror_metric(&self.quay.address, name, repository)
    }

    /// Waits until the mirror of `ns/<repository>` is as `done` says; the mirror then.
    fn wait_for(&self, repository: &str, done: impl Fn(&Value) -> bool) -> Value {
        let path = format!("/api/v1/repository/ns/{repository}/mirror");
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let (_, mirror) = self.api("GET", &path, None);
            if done(&mirror) {
                return mirror;
            }
            assert!(
                Instant::now() < deadline,
                "the mirror never got there: {mirror}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The digest `ns/<repository>:<tag>` has here, if the tag exists.
    fn local_digest(&self, repository: &str, tag: &str) -> Option<String> {
        let (_, tags) = self.api(
            "GET",
            &format!(
                "/api/v1/repository/ns/{repository}/tag/?onlyActiveTags=true&specificTag={tag}"
            ),
            None,
        );
        tags["tags"]
            .as_array()
            .and_then(|tags| tags.first())
            .map(|tag| tag["manifest_digest"].as_str().unwrap().to_string())
    }

    fn local_tags(&self, repository: &str) -> Vec<String> {
        alive_tags(&self.quay.address, &self.token, repository)
    }

    fn v2_get(&self, path: &str) -> Value {
        let url = format!("http://{}/v2/{path}", self.quay.address);
        let accept = format!("Accept: {OCI_MANIFEST}, {OCI_INDEX}");
        serde_json::from_str(&run("curl", &["-sf", "-u", CREDS, "-H", &accept, &url])).unwrap()
    }
}

fn digest_of(descriptor: &Value) -> String {
    descriptor["digest"].as_str().unwrap().to_string()
}

#[test]
fn a_mirror_copies_matching_tags_and_follows_upstream() {
    let Some(mut mirror) = Mirror::start() else {
        return;
    };
    let v31 = mirror.layout.image("amd64", &[noise(1, 200_000)]);
    let amd64 = mirror.layout.image("amd64", &[noise(2, 30_000)]);
    let arm64 = mirror.layout.image("arm64", &[noise(3, 30_000)]);
    let v32 = mirror.layout.index(&[amd64.clone(), arm64]);
    let v40 = mirror.layout.image("amd64", &[noise(4, 10_000)]);
    mirror.upstream_has("v3.1", &v31);
    mirror.upstream_has("v3.2", &v32);
    mirror.upstream_has("v4.0", &v40);
    mirror.upstream_has("latest", &v40);
    // A cosign signature tag of v3.1.
    let hex = digest_of(&v31).replace("sha256:", "");
    let signature = mirror
        .layout
        .image("amd64", &[b"cosign signature".to_vec()]);
    mirror.upstream_has(&format!("sha256-{hex}.sig"), &signature);

    let created = mirror.configure("app", &json!({}));
    // A sync's end reaches the user through the event system.
    let (status, body) = mirror.api(
        "POST",
        "/api/v1/repository/ns/app/notification/",
        Some(
            json!({"event": "repo_mirror_sync_success", "method": "quay_notification",
                    "config": {"target": {"kind": "user", "name": USER}}, "eventConfig": {}}),
        ),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(created["sync_status"], "NEVER_RUN", "{created}");
    assert!(!created.to_string().contains("a-secret-never-shown"));

    // The dry run says what a sync would do, and does nothing.
    let (status, plan) = mirror.api("POST", "/api/v1/repository/ns/app/mirror/dry-run", None);
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["outcome"], "dry run", "{plan}");
    let planned: Vec<(&str, &str)> = plan["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| {
            (
                tag["tag"].as_str().unwrap(),
                tag["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(planned, [("v3.1", "copy"), ("v3.2", "copy")], "{plan}");
    assert!(mirror.local_tags("app").is_empty());

    // The sync copies exactly v3.1 and v3.2, with the same digests, and v3.1's companions.
    let synced = mirror.sync("app");
    assert_eq!(synced["sync_status"], "SUCCESS", "{synced}");
    assert_eq!(synced["last_sync"]["copied"], 2, "{synced}");
    let signature_tag = format!("sha256-{hex}.sig");
    assert_eq!(
        mirror.local_tags("app"),
        [signature_tag.as_str(), "v3.1", "v3.2"],
    );
    assert_eq!(mirror.local_digest("app", "v3.1").unwrap(), digest_of(&v31));
    assert_eq!(mirror.local_digest("app", "v3.2").unwrap(), digest_of(&v32));
    // Every blob is here: the copy pulls with the upstream gone.
    mirror.proxy.set_fault(Fault::Down);
    let out = mirror.work.path().join("pulled");
    skopeo(
        &mirror.home,
        &[
            "copy",
            "-q",
            "--all",
            "--src-tls-verify=false",
            "--preserve-digests",
            &format!("docker://{}/ns/app:v3.2", mirror.quay.address),
            &format!("oci:{}:v3.2", out.display()),
        ],
    );
    assert_eq!(layout_contents(&out, "v3.2").1, digest_of(&v32));
    mirror.proxy.set_fault(Fault::Pass);

    // Nobody but the mirror pushes into it.
    let refused = try_copy(
        &mirror.home,
        &format!(
            "oci:{}:v4.0-{}",
            mirror.layout.dir.display(),
            &digest_of(&v40)[7..19]
        ),
        &format!("docker://{}/ns/app:v9", mirror.quay.address),
    )
    .unwrap_err();
    assert!(refused.contains("mirror"), "{refused}");

    // An upstream retag moves the local tag on the next sync; the old one is in the
    // time machine.
    mirror.upstream_has("v3.1", &v40);
    let synced = mirror.sync("app");
    assert_eq!(synced["last_sync"]["moved"], 1, "{synced}");
    assert_eq!(mirror.local_digest("app", "v3.1").unwrap(), digest_of(&v40));

    // A platform filter copies only those platforms, and says where the index came from.
    mirror.configure("amd", &json!({"platforms": ["linux/amd64"]}));
    let synced = mirror.sync("amd");
    assert_eq!(synced["sync_status"], "SUCCESS", "{synced}");
    let narrowed = mirror.local_digest("amd", "v3.2").unwrap();
    assert_ne!(narrowed, digest_of(&v32));
    let index = mirror.v2_get(&format!("ns/amd/manifests/{narrowed}"));
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1, "{index}");
    assert_eq!(index["manifests"][0]["digest"], amd64["digest"]);
    assert_eq!(
        index["annotations"]["io.quay-rs.mirror.source-digest"],
        digest_of(&v32).as_str()
    );
    // In step: the next sync leaves it.
    let again = mirror.sync("amd");
    assert_eq!(again["last_sync"]["unchanged"], 2, "{again}");

    // An upstream that fails half way leaves every tag old or new: v3.1 moves, v3.2's
    // copy fails on a blob and the tag stays as it was; the retry finishes the job.
    let v31_new = mirror.layout.image("amd64", &[noise(5, 10_000)]);
    let v32_new = mirror.layout.image("amd64", &[noise(6, 10_000)]);
    mirror.upstream_has("v3.1", &v31_new);
    mirror.upstream_has("v3.2", &v32_new);
    let old_v32 = mirror.local_digest("app", "v3.2").unwrap();
    let manifest = std::fs::read_to_string(
        mirror
            .layout
            .dir
            .join("blobs/sha256")
            .join(&digest_of(&v32_new)[7..]),
    )
    .unwrap();
    let layer: Value = serde_json::from_str(&manifest).unwrap();
    let layer = layer["layers"][0]["digest"].as_str().unwrap().to_string();
    mirror.proxy.set_fault(Fault::StatusOnce {
        status: 500,
        path_contains: Box::leak(layer.into_boxed_str()),
    });
    // Disabled, the mirror syncs only when asked: the failure stays for the test to see.
    mirror.enable("app", false);
    let failed = mirror.sync("app");
    assert_eq!(failed["sync_status"], "FAIL", "{failed}");
    assert_eq!(failed["sync_retries_remaining"], 2, "{failed}");
    assert_eq!(failed["last_sync"]["failed"], 1, "{failed}");
    assert_eq!(
        mirror.local_digest("app", "v3.1").unwrap(),
        digest_of(&v31_new)
    );
    assert_eq!(mirror.local_digest("app", "v3.2").unwrap(), old_v32);
    mirror.v2_get(&format!("ns/app/manifests/{old_v32}"));
    mirror.proxy.set_fault(Fault::Pass);
    // Quay's mirror metrics say so: failed, incomplete, why, and when it ran.
    let metric = |name, repository| mirror.metric(name, repository);
    assert_eq!(
        metric("quay_repository_mirror_last_sync_status", "app"),
        Some(0.0)
    );
    assert_eq!(
        metric("quay_repository_mirror_sync_complete", "app"),
        Some(0.0)
    );
    assert_eq!(
        metric("quay_repository_mirror_pending_tags", "app"),
        Some(0.0)
    );
    assert_eq!(
        metric("quay_repository_mirror_last_sync_status", "amd"),
        Some(1.0)
    );
    assert_eq!(
        metric("quay_repository_mirror_sync_complete", "amd"),
        Some(1.0)
    );
    let started_s = metric("quay_repository_mirror_last_sync_timestamp", "app").unwrap();
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now_s - 120.0..=now_s).contains(&started_s), "{started_s}");
    let scrape = run(
        "curl",
        &["-sf", &format!("http://{}/metrics", mirror.quay.address)],
    );
    assert!(
        scrape.contains(
            "quay_repository_mirror_sync_failures_total{namespace=\"ns\",reason=\"connection_error\"} 1"
        ),
        "{scrape}"
    );
    assert!(
        scrape.contains("quay_repository_mirror_workers_active 1"),
        "{scrape}"
    );

    // Enabled, the failed sync is retried by the worker on its own; afterwards syncs come
    // on the interval, which picks up the next retag.
    mirror.enable("app", true);
    let retried = mirror.wait_for("app", |mirror| mirror["sync_status"] == "SUCCESS");
    assert_eq!(retried["last_sync"]["moved"], 1, "{retried}");
    assert_eq!(
        mirror.local_digest("app", "v3.2").unwrap(),
        digest_of(&v32_new)
    );
    let (status, body) = mirror.api(
        "PUT",
        "/api/v1/repository/ns/app/mirror",
        Some(json!({"sync_interval": 1, "sync_start_date": "2020-01-01T00:00:00Z"})),
    );
    assert_eq!(status, 201, "{body}");
    mirror.upstream_has("v3.2", &v31);
    mirror.wait_for("app", |_| {
        mirror.local_digest("app", "v3.2").as_deref() == Some(digest_of(&v31).as_str())
    });

    // Told, stale tags go: v3.2 no longer matches and leaves into the time machine. (The
    // signature tag left with its image when v3.1 moved on, as a push would have it.)
    let (status, body) = mirror.api(
        "PUT",
        "/api/v1/repository/ns/app/mirror",
        Some(json!({"remove_stale_tags": true,
                    "root_rule": {"rule_kind": "tag_glob_csv", "rule_value": ["v3.1"]}})),
    );
    assert_eq!(status, 201, "{body}");
    let (_, plan) = mirror.api("POST", "/api/v1/repository/ns/app/mirror/dry-run", None);
    assert_eq!(plan["removed"], 1, "{plan}");
    let pruned = mirror.sync("app");
    assert_eq!(pruned["last_sync"]["removed"], 1, "{pruned}");
    assert_eq!(mirror.local_tags("app"), ["v3.1"]);
    let (_, history) = mirror.api(
        "GET",
        "/api/v1/repository/ns/app/tag/?specificTag=v3.2",
        None,
    );
    assert!(
        history["tags"][0]["end_ts"].is_number(),
        "the removed tag is in the time machine: {history}"
    );
    let (_, notices) = mirror.api("GET", "/api/v1/user/notifications", None);
    assert!(
        notices["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|notice| notice["kind"] == "repo_mirror_sync_success"),
        "{notices}"
    );

    // A running sync is cancelled between tags, and waits for the next sync asked for.
    mirror.upstream_has("v3.1", &v40);
    mirror.proxy.set_delay(Some(Duration::from_millis(1_000)));
    let (status, body) = mirror.api("POST", "/api/v1/repository/ns/app/mirror/sync-now", None);
    assert_eq!(status, 204, "{body}");
    mirror.wait_for("app", |mirror| mirror["sync_status"] == "SYNCING");
    // While it runs, the metrics show it in progress.
    let deadline = Instant::now() + Duration::from_secs(20);
    while mirror.metric("quay_repository_mirror_last_sync_status", "app") != Some(2.0) {
        assert!(
            Instant::now() < deadline,
            "the sync is not shown in progress"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = mirror.api("POST", "/api/v1/repository/ns/app/mirror/sync-cancel", None);
    assert_eq!(status, 204, "{body}");
    let cancelled = mirror.wait_for("app", |mirror| {
        mirror["last_sync"]["outcome"] == "cancelled"
    });
    mirror.proxy.set_delay(None);
    assert_eq!(cancelled["sync_status"], "CANCEL", "{cancelled}");
    assert_eq!(cancelled["sync_start_date"], Value::Null, "{cancelled}");
    let (status, _) = mirror.api("POST", "/api/v1/repository/ns/app/mirror/sync-cancel", None);
    assert_eq!(status, 404, "nothing left to cancel");

    // The mirror's robot stays while the mirror needs it.
    let (status, body) = mirror.api("DELETE", "/api/v1/user/robots/mirror", None);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("syncs the mirror of ns/"),
        "{body}"
    );

    // The usage log tells each sync, and never the password.
    let (_, logs) = mirror.api("GET", "/api/v1/repository/ns/app/logs", None);
    let kinds: Vec<&str> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "repo_mirror_sync_started",
        "repo_mirror_sync_success",
        "repo_mirror_sync_failed",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
    }
    assert!(!logs.to_string().contains("a-secret-never-shown"));
}

#[test]
fn a_private_quay_upstream_is_mirrored_with_its_referrers_as_a_robot() {
    if !have("skopeo") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    // The upstream: a second registry with token authentication, whose private repository
    // a robot may read. It has the referrers API.
    let mut layout = Layout::new(&work.path().join("source"));
    let image = layout.image("amd64", &[noise(9, 40_000)]);
    layout.tag("v1", image.clone());
    let empty = layout.blob("application/vnd.oci.empty.v1+json", b"{}");
    let sbom = layout.blob("application/vnd.example.sbom.v1+json", br#"{"sbom":true}"#);
    let referrer = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.sbom.v1+json",
        "config": empty, "layers": [sbom],
        "subject": {"mediaType": OCI_MANIFEST, "digest": digest_of(&image), "size": image["size"]},
    });
    let referrer = layout.blob(OCI_MANIFEST, referrer.to_string().as_bytes());
    layout.tag("sbom", referrer.clone());
    let hex = digest_of(&image).replace("sha256:", "");
    let signature = layout.image("amd64", &[b"cosign signature".to_vec()]);
    let signature_tag = format!("sha256-{hex}.sig");
    layout.tag(&signature_tag, signature.clone());
    // A two-platform index whose arm64 child has an attestation of its own.
    let arm64 = layout.image("arm64", &[noise(10, 20_000)]);
    let index = layout.index(&[layout.image("amd64", &[noise(11, 20_000)]), arm64.clone()]);
    layout.tag("v2", index.clone());
    let attestation = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.attestation.v1+json",
        "config": empty, "layers": [sbom],
        "subject": {"mediaType": OCI_MANIFEST, "digest": digest_of(&arm64), "size": arm64["size"]},
    });
    let attestation = layout.blob(OCI_MANIFEST, attestation.to_string().as_bytes());
    layout.tag("attestation", attestation.clone());
    let PrivateQuay {
        quay: upstream,
        robot_token,
        ..
    } = PrivateQuay::start(
        work.path(),
        &layout,
        &["v1", "sbom", &signature_tag, "v2", "attestation"],
    );

    let data = work.path().join("mirror");
    let quay = Quay::start(&data, &[], &MIRROR_ENV);
    let token = access_token(&data, USER);
    let call = |method: &str, path: &str, body: Option<Value>| {
        api(&quay.address, &token, method, path, body)
    };
    api_ok(
        &quay.address,
        &token,
        "PUT",
        "/api/v1/user/robots/mirror",
        Some(json!({})),
    );
    call(
        "POST",
        "/api/v1/repository",
        Some(json!({"repository": "copy", "visibility": "private", "description": ""})),
    );
    let mut config = json!({
        "external_reference": format!("{}/ns/private", upstream.address),
        "external_registry_username": "ns+puller",
        "external_registry_password": robot_token,
        "external_registry_config": {"verify_tls": false},
        "sync_interval": 86_400,
        "sync_start_date": "2099-01-01T00:00:00Z",
        "robot_username": "ns+mirror",
        "root_rule": {"rule_kind": "tag_glob_csv", "rule_value": ["v*"]},
        "skopeo_timeout_interval": 300,
    });
    // Quay's architectures only, in Quay's field.
    config["architecture_filter"] = json!(["amd64", "mips"]);
    let (status, body) = call(
        "POST",
        "/api/v1/repository/ns/copy/mirror",
        Some(config.clone()),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("\"mips\" is not one of"),
        "{body}"
    );
    config
        .as_object_mut()
        .unwrap()
        .remove("architecture_filter");
    // A robot of another namespace is refused, as Quay does.
    config["robot_username"] = json!("other+mirror");
    let (status, body) = call(
        "POST",
        "/api/v1/repository/ns/copy/mirror",
        Some(config.clone()),
    );
    assert_eq!(
        (status, body["detail"].as_str()),
        (400, Some("Invalid robot")),
        "{body}"
    );
    config["robot_username"] = json!("ns+mirror");
    let (status, body) = call(
        "POST",
        "/api/v1/repository/ns/copy/mirror",
        Some(config.clone()),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = call("POST", "/api/v1/repository/ns/copy/mirror", Some(config));
    assert_eq!(status, 409, "{body}");

    let (status, body) = call("POST", "/api/v1/repository/ns/copy/mirror/sync-now", None);
    assert_eq!(status, 204, "{body}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let synced = loop {
        let (_, mirror) = call("GET", "/api/v1/repository/ns/copy/mirror", None);
        if mirror["sync_status"] == "SUCCESS" || mirror["sync_status"] == "FAIL" {
            break mirror;
        }
        assert!(Instant::now() < deadline, "{mirror}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(synced["sync_status"], "SUCCESS", "{synced}");

    // v1 and its signature tag, with identical digests; the SBOM through the referrers API
    // (its upstream tag does not match the rules).
    let manifest = |reference: &str| {
        let url = format!("http://{}/v2/ns/copy/manifests/{reference}", quay.address);
        run(
            "curl",
            &[
                "-sfI",
                "-u",
                CREDS,
                "-H",
                &format!("Accept: {OCI_MANIFEST}, {OCI_INDEX}"),
                &url,
            ],
        )
        .to_ascii_lowercase()
    };
    assert!(manifest("v1").contains(&digest_of(&image)));
    assert!(manifest(&signature_tag).contains(&digest_of(&signature)));
    assert!(
        run(
            "curl",
            &[
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-u",
                CREDS,
                &format!("http://{}/v2/ns/copy/manifests/sbom", quay.address)
            ],
        ) == "404"
    );
    let referrers_of = |subject: &Value| -> Value {
        let url = format!(
            "http://{}/v2/ns/copy/referrers/{}",
            quay.address,
            digest_of(subject)
        );
        serde_json::from_str(&run("curl", &["-sf", "-u", CREDS, &url])).unwrap()
    };
    let referrers = referrers_of(&image);
    assert_eq!(
        referrers["manifests"][0]["digest"], referrer["digest"],
        "{referrers}"
    );

    // An index's children bring their own referrers.
    assert!(manifest("v2").contains(&digest_of(&index)));
    let referrers = referrers_of(&arm64);
    assert_eq!(
        referrers["manifests"][0]["digest"], attestation["digest"],
        "{referrers}"
    );

    // The robot's token is in no view and no usage log entry.
    let (_, view) = call("GET", "/api/v1/repository/ns/copy/mirror", None);
    let (_, logs) = call("GET", "/api/v1/repository/ns/copy/logs", None);
    for shown in [view.to_string(), logs.to_string()] {
        assert!(!shown.contains(&robot_token));
    }
}

#[test]
fn two_nodes_on_postgresql_never_sync_one_mirror_at_once_and_take_over_a_dead_ones() {
    if !have("skopeo") {
        return;
    }
    let Some(database) = PostgresDatabase::create() else {
        return;
    };
    let Some(upstream) = DockerRegistry::start() else {
        return;
    };
    let proxy = FaultyProxy::start(&upstream.address);
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("source"));
    let tags: Vec<String> = (0..6).map(|n| format!("v{n}")).collect();
    for (n, tag) in tags.iter().enumerate() {
        let image = layout.image("amd64", &[noise(20 + n as u8, 5_000)]);
        layout.tag(tag, image);
        upstream.push(&layout.dir, tag, &format!("library/app:{tag}"));
    }
    let env = [
        ("DB_URI", database.uri.as_str()),
        ("DATABASE_SECRET_KEY", "one key for the whole deployment"),
        ("REPO_MIRROR_LEASE_SECONDS", "3"),
    ];
    let env: Vec<_> = MIRROR_ENV.iter().chain(&env).copied().collect();
    let first = Quay::start(&work.path().join("a"), &[], &env);
    let token = access_token_with(&work.path().join("a"), USER, &env);
    let call = |address: &str, method: &str, path: &str, body: Option<Value>| {
        api(address, &token, method, path, body)
    };
    api_ok(
        &first.address,
        &token,
        "PUT",
        "/api/v1/user/robots/mirror",
        Some(json!({})),
    );
    call(
        &first.address,
        "POST",
        "/api/v1/repository",
        Some(json!({"repository": "app", "visibility": "private", "description": ""})),
    );
    let (status, body) = call(
        &first.address,
        "POST",
        "/api/v1/repository/ns/app/mirror",
        Some(json!({
            "external_reference": format!("{}/library/app", proxy.address),
            "external_registry_config": {"verify_tls": false},
            "sync_interval": 86_400,
            "sync_start_date": "2099-01-01T00:00:00Z",
            "robot_username": "ns+mirror",
            "root_rule": {"rule_kind": "tag_glob_csv", "rule_value": ["v*"]},
            "skopeo_timeout_interval": 300,
        })),
    );
    assert_eq!(status, 201, "{body}");
    let started = |address: &str| {
        let (_, logs) = call(
            address,
            "GET",
            "/api/v1/repository/ns/app/aggregatelogs",
            None,
        );
        logs["aggregated"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["kind"] == "repo_mirror_sync_started")
            .map(|entry| entry["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    let wait_for = |address: &str, status: &str| {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let (_, mirror) = call(address, "GET", "/api/v1/repository/ns/app/mirror", None);
            if mirror["sync_status"] == status {
                return mirror;
            }
            assert!(Instant::now() < deadline, "never {status}: {mirror}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };

    // A slow upstream: the sync takes seconds, during which both nodes look for due syncs
    // every second. Exactly one claims it.
    let second = Quay::start(&work.path().join("b"), &[], &env);
    proxy.set_delay(Some(Duration::from_millis(150)));
    call(
        &first.address,
        "POST",
        "/api/v1/repository/ns/app/mirror/sync-now",
        None,
    );
    wait_for(&second.address, "SUCCESS");
    assert_eq!(started(&second.address), 1);

    // A node that dies half way through a sync: after its lease lapses, another node
    // takes the sync over. Only the first node runs while the upstream changes and the
    // (slower) sync starts; a new node starts, the first is killed.
    drop(second);
    for (n, tag) in tags.iter().enumerate() {
        let image = layout.image("amd64", &[noise(40 + n as u8, 5_000)]);
        layout.tag(&format!("{tag}-new"), image);
        upstream.push(
            &layout.dir,
            &format!("{tag}-new"),
            &format!("library/app:{tag}"),
        );
    }
    proxy.set_delay(Some(Duration::from_millis(400)));
    let (status, body) = call(
        &first.address,
        "POST",
        "/api/v1/repository/ns/app/mirror/sync-now",
        None,
    );
    assert_eq!(status, 204, "{body}");
    wait_for(&first.address, "SYNCING");
    // Its metrics count down the tags it has left.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !mirror_metric(&first.address, "quay_repository_mirror_pending_tags", "app")
        .is_some_and(|pending| pending > 0.0)
    {
        assert!(Instant::now() < deadline, "no pending tags shown");
        std::thread::sleep(Duration::from_millis(100));
    }
    let survivor = Quay::start(&work.path().join("c"), &[], &env);
    drop(first);
    proxy.set_delay(None);
    let done = wait_for(&survivor.address, "SUCCESS");
    assert_eq!(started(&survivor.address), 3, "{done}");
    // Every tag is the upstream's now.
    let (_, listed) = call(
        &survivor.address,
        "GET",
        "/api/v1/repository/ns/app/tag/?onlyActiveTags=true&limit=100",
        None,
    );
    assert_eq!(
        listed["tags"].as_array().unwrap().len(),
        tags.len(),
        "{listed}"
    );
}
