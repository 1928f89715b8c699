//! Proxy cache organizations, end to end: skopeo and curl pull through the real binary from
//! a real upstream (the CNCF distribution registry, or a second `quay-bin` with token
//! authentication), with a counting, fault-injecting proxy between them.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;
use crate::upstream::{DockerRegistry, Fault, FaultyProxy, PrivateQuay};

const PROXY_ENV: [(&str, &str); 2] = [
    ("FEATURE_PROXY_CACHE", "true"),
    ("SSRF_ALLOWED_HOSTS", "[127.0.0.1]"),
];

/// A registry whose organization `hub` caches a distribution registry, through a proxy.
struct Cache {
    work: tempfile::TempDir,
    data: PathBuf,
    upstream: DockerRegistry,
    proxy: FaultyProxy,
    quay: Quay,
    token: String,
    /// skopeo's home, signed in to `quay`.
    home: PathBuf,
    layout: Layout,
}

impl Cache {
    /// `None` (skipped) without skopeo or docker-registry.
    fn start(expiration_s: u64) -> Option<Self> {
        Self::start_with(expiration_s, &[])
    }

    /// [`Cache::start`], the server configured by `env` too.
    fn start_with(expiration_s: u64, env: &[(&str, &str)]) -> Option<Self> {
        if !have("skopeo") || !have("curl") {
            return None;
        }
        let upstream = DockerRegistry::start()?;
        let proxy = FaultyProxy::start(&upstream.address);
        let work = tempfile::tempdir().unwrap();
        let data = work.path().join("data");
        let env: Vec<_> = PROXY_ENV.iter().chain(env).copied().collect();
        let quay = Quay::start(&data, &[], &env);
        let token = access_token(&data, USER);
        api_ok(
            &quay.address,
            &token,
            "POST",
            "/api/v1/organization/",
            Some(json!({ "name": "hub" })),
        );
        let (status, body) = api(
            &quay.address,
            &token,
            "POST",
            "/api/v1/organization/hub/proxycache",
            Some(json!({
                "upstream_registry": proxy.address,
                "insecure": true,
                "expiration_s": expiration_s,
            })),
        );
        assert_eq!(status, 201, "{body}");
        let home = work.path().join("skopeo-home");
        skopeo_login(&home, &quay.address);
        let layout = Layout::new(&work.path().join("source"));
        Some(Self {
            work,
            data,
            upstream,
            proxy,
            quay,
            token,
            home,
            layout,
        })
    }

    /// Puts `descriptor` upstream as `library/<repository>:<tag>`.
    fn upstream_has(&mut self, repository: &str, tag: &str, descriptor: Value) {
        let in_layout = format!("{repository}-{tag}");
        self.layout.tag(&in_layout, descriptor);
        self.upstream.push(
            &self.layout.dir,
            &in_layout,
            &format!("library/{repository}:{tag}"),
        );
    }

    /// `docker://<quay>/hub/library/<reference>`.
    fn cached(&self, reference: &str) -> String {
        format!("docker://{}/hub/library/{reference}", self.quay.address)
    }

    /// Pulls `reference` from the cache into a layout of its own; that layout's directory.
    fn pull(&self, reference: &str, into: &str, all: bool) -> PathBuf {
        let out = self.work.path().join(into);
        // A pull by digest lands under the tag `pinned`.
        let tag = match reference.split_once('@') {
            Some(_) => "pinned",
            None => reference.rsplit_once(':').map_or("latest", |(_, tag)| tag),
        };
        let destination = format!("oci:{}:{tag}", out.display());
        let mut args = vec!["copy", "-q", "--src-tls-verify=false", "--preserve-digests"];
        if all {
            args.push("--all");
        }
        let source = self.cached(reference);
        args.extend([source.as_str(), destination.as_str()]);
        skopeo(&self.home, &args);
        out
    }

    /// A `/v2` request to the cache as [`USER`]: the status, headers and body.
    fn v2(&self, method: &str, path: &str) -> (u16, String, String) {
        let url = format!("http://{}/v2/hub/library/{path}", self.quay.address);
        let accept = format!("Accept: {OCI_MANIFEST}, {OCI_INDEX}");
        let mut args = vec!["-s", "-i", "-u", CREDS, "-H", &accept];
        if method == "HEAD" {
            args.push("-I");
        } else {
            args.extend(["-X", method]);
        }
        args.push(&url);
        let output = run("curl", &args);
        let (head, body) = output
            .split_once("\r\n\r\n")
            .unwrap_or((output.as_str(), ""));
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_ascii_lowercase(), body.to_string())
    }
}

fn digest_of(descriptor: &Value) -> String {
    descriptor["digest"].as_str().unwrap().to_string()
}

#[test]
fn skopeo_pulls_images_lists_and_artifacts_through_the_cache() {
    let Some(mut cache) = Cache::start(86_400) else {
        return;
    };
    let image = cache
        .layout
        .image("amd64", &[noise(1, 300_000), noise(2, 5_000)]);
    cache.upstream_has("app", "v1", image.clone());
    let amd64 = cache.layout.image("amd64", &[noise(3, 20_000)]);
    let arm64 = cache.layout.image("arm64", &[noise(4, 20_000)]);
    let index = cache.layout.index(&[amd64, arm64]);
    cache.upstream_has("multi", "v1", index.clone());
    let config = cache
        .layout
        .blob("application/vnd.oci.empty.v1+json", b"{}");
    let sbom = cache
        .layout
        .blob("application/vnd.example.sbom.v1+json", br#"{"sbom":true}"#);
    let artifact = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.sbom.v1+json",
        "config": config,
        "layers": [sbom],
    });
    let artifact = cache
        .layout
        .blob(OCI_MANIFEST, artifact.to_string().as_bytes());
    cache.upstream_has("artifact", "sbom", artifact.clone());

    // By tag: the image as the upstream has it, blob for blob.
    let out = cache.pull("app:v1", "by-tag", false);
    let (blobs, digest) = layout_contents(&out, "v1");
    assert_eq!(digest, digest_of(&image));
    for blob in &blobs {
        let original = std::fs::read(cache.layout.dir.join("blobs/sha256").join(blob)).unwrap();
        let cached = std::fs::read(out.join("blobs/sha256").join(blob)).unwrap();
        assert!(original == cached, "blob {blob} differs");
    }
    // By digest, a list with every platform, an artifact.
    let by_digest = cache.pull(&format!("app@{}", digest_of(&image)), "by-digest", false);
    assert!(by_digest.join("index.json").exists());
    let out = cache.pull("multi:v1", "multi", true);
    assert_eq!(layout_contents(&out, "v1").1, digest_of(&index));
    let out = cache.pull("artifact:sbom", "artifact", false);
    assert_eq!(layout_contents(&out, "sbom").1, digest_of(&artifact));

    // Served again without the upstream: everything is in the cache.
    cache.proxy.set_fault(Fault::Down);
    let again = cache.pull("multi:v1", "multi-again", true);
    assert_eq!(layout_contents(&again, "v1").1, digest_of(&index));
    cache.proxy.set_fault(Fault::Pass);

    // The usage log names the upstream.
    let logs = api_ok(
        &cache.quay.address,
        &cache.token,
        "GET",
        "/api/v1/repository/hub/library%2Fapp/logs",
        None,
    );
    let pulls: Vec<&Value> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"] == "pull_repo")
        .collect();
    assert!(!pulls.is_empty(), "{logs}");
    let upstream = format!("{}/library/app", cache.proxy.address);
    assert!(
        pulls
            .iter()
            .all(|entry| entry["metadata"]["upstream"] == upstream.as_str()),
        "{logs}"
    );

    // Nobody pushes into a proxy cache organization.
    let refused = try_copy(
        &cache.home,
        &format!("oci:{}:app-v1", cache.layout.dir.display()),
        &cache.cached("app:v2"),
    )
    .unwrap_err();
    assert!(refused.contains("proxy cache"), "{refused}");
}

#[test]
fn a_head_by_tag_caches_the_tag_for_a_later_pull_by_digest() {
    let Some(mut cache) = Cache::start(86_400) else {
        return;
    };
    let image = cache.layout.image("amd64", &[noise(5, 10_000)]);
    cache.upstream_has("app", "v1", image.clone());
    let (status, headers, _) = cache.v2("HEAD", "app/manifests/v1");
    assert_eq!(status, 200, "{headers}");
    assert!(headers.contains(&digest_of(&image)), "{headers}");
    // The client pulls what the HEAD named, by digest (Harbor forgets the tag here).
    let out = cache.pull(&format!("app@{}", digest_of(&image)), "by-digest", false);
    assert!(out.join("index.json").exists());
    let tags = api_ok(
        &cache.quay.address,
        &cache.token,
        "GET",
        "/api/v1/repository/hub/library%2Fapp/tag/",
        None,
    );
    assert_eq!(tags["tags"][0]["name"], "v1", "{tags}");
    assert_eq!(
        tags["tags"][0]["manifest_digest"],
        digest_of(&image).as_str()
    );

    // The upstream goes away; the tag is in the cache, whole.
    cache.proxy.set_fault(Fault::Down);
    let out = cache.pull("app:v1", "by-tag", false);
    assert_eq!(layout_contents(&out, "v1").1, digest_of(&image));
}

#[test]
fn warm_pulls_stay_local_and_expired_tags_are_revalidated_or_served_stale() {
    const EXPIRATION_S: u64 = 10;
    let Some(mut cache) = Cache::start(EXPIRATION_S) else {
        return;
    };
    let image = cache.layout.image("amd64", &[noise(6, 10_000)]);
    cache.upstream_has("app", "v1", image.clone());
    cache.pull("app:v1", "first", false);
    cache.proxy.reset();
    for _ in 0..100 {
        let (status, headers, _) = cache.v2("GET", "app/manifests/v1");
        assert_eq!(status, 200, "{headers}");
        assert!(!headers.contains("warning:"), "{headers}");
    }
    assert_eq!(
        cache.proxy.requests(),
        Vec::<(String, String)>::new(),
        "warm pulls ask the upstream nothing"
    );

    // Expired: one HEAD confirms the digest, and the tag lives on.
    std::thread::sleep(Duration::from_secs(EXPIRATION_S + 1));
    let (status, _, _) = cache.v2("GET", "app/manifests/v1");
    assert_eq!(status, 200);
    assert_eq!(cache.proxy.count("HEAD", "/manifests/v1"), 1);
    assert_eq!(cache.proxy.count("GET", "/manifests/"), 0);
    let (status, _, _) = cache.v2("GET", "app/manifests/v1");
    assert_eq!(status, 200);
    assert_eq!(cache.proxy.count("HEAD", "/manifests/v1"), 1, "renewed");

    // Expired again, and the upstream rate limits, then is gone: the copy is served, saying so.
    std::thread::sleep(Duration::from_secs(EXPIRATION_S + 1));
    for (n, fault) in [Fault::Status(429), Fault::Status(503), Fault::Down]
        .into_iter()
        .enumerate()
    {
        cache.proxy.set_fault(fault);
        let (status, headers, body) = cache.v2("GET", "app/manifests/v1");
        assert_eq!(status, 200, "{fault:?}: {headers}{body}");
        assert!(headers.contains("warning: 110"), "{fault:?}: {headers}");
        assert!(headers.contains("\r\nage: "), "{fault:?}: {headers}");
        let out = cache.pull("app:v1", &format!("stale-{n}"), false);
        assert_eq!(layout_contents(&out, "v1").1, digest_of(&image));
    }
    let metrics = run(
        "curl",
        &["-sf", &format!("http://{}/metrics", cache.quay.address)],
    );
    assert!(
        metrics.contains("quay_proxy_cache_stale_served_total{reason=\"rate limited\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("quay_proxy_cache_stale_served_total{reason=\"unavailable\"}"));

    // A tag never cached fails clearly with the upstream's condition.
    cache.proxy.set_fault(Fault::Status(429));
    let (status, _, body) = cache.v2("GET", "app/manifests/never");
    assert_eq!(status, 429, "{body}");
    assert!(
        body.contains("may not exist in the upstream registry"),
        "{body}"
    );
    cache.proxy.set_fault(Fault::Down);
    let (status, _, body) = cache.v2("GET", "other/manifests/v1");
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("upstream unavailable"), "{body}");
    cache.proxy.set_fault(Fault::Pass);
    let (status, _, body) = cache.v2("GET", "app/manifests/never");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("MANIFEST_UNKNOWN"), "{body}");
}

#[test]
fn clients_that_take_the_registry_for_a_mirror_fill_the_cache_without_a_prefix() {
    let Some(mut cache) = Cache::start_with(
        86_400,
        &[
            ("PROXY_CACHE_MIRRORS", "{docker.io: hub, quay.io: hub}"),
            // What pulls cache, anyone may pull: an anonymous daemon may use the mirror.
            ("CREATE_PRIVATE_REPO_ON_PUSH", "false"),
        ],
    ) else {
        return;
    };
    if !have("podman") {
        return;
    }
    // podman unpacks what it pulls: a valid, empty tar archive.
    let image = cache.layout.image("amd64", &[vec![0; 1024]]);
    cache.upstream_has("app", "v1", image.clone());
    let address = cache.quay.address.clone();

    // Docker's `registry-mirrors`: Docker Hub's names, unchanged; the token names the
    // repository the requests are routed to.
    let inspected = skopeo(
        &cache.home,
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{address}/library/app:v1"),
        ],
    );
    assert_eq!(sha256(inspected.as_bytes()).as_str(), digest_of(&image));
    // containerd's `hosts.toml` mirror: `?ns=` names the upstream.
    let url = format!("http://{address}/v2/library/app/manifests/v1?ns=quay.io");
    let accept = format!("Accept: {OCI_MANIFEST}");
    let headers = run("curl", &["-sf", "-I", "-u", CREDS, "-H", &accept, &url]);
    assert!(headers.contains(&digest_of(&image)), "{headers}");

    // podman with a `registries.conf` mirror for docker.io.
    let registries = cache.work.path().join("registries.conf");
    std::fs::write(
        &registries,
        format!(
            "[[registry]]\nprefix = \"docker.io\"\nlocation = \"docker.io\"\n\
             [[registry.mirror]]\nlocation = \"{address}\"\ninsecure = true\n"
        ),
    )
    .unwrap();
    let root = cache.work.path().join("podman-root");
    let run_root = cache.work.path().join("podman-run");
    let podman = |args: &[&str]| {
        let output = std::process::Command::new("podman")
            .args(["--root", &root.display().to_string()])
            .args(["--runroot", &run_root.display().to_string()])
            .args(["--storage-driver", "vfs"])
            .args(args)
            .env("HOME", cache.work.path())
            .env("REGISTRY_AUTH_FILE", auth_file(&cache.home))
            .env("CONTAINERS_REGISTRIES_CONF", &registries)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    podman(&["pull", "-q", "docker.io/library/app:v1"]);
    let digest = podman(&[
        "image",
        "inspect",
        "--format",
        "{{.Digest}}",
        "docker.io/library/app:v1",
    ]);
    assert_eq!(digest.trim(), digest_of(&image));

    // An anonymous client (a Docker daemon not signed in) fills the cache as well.
    let other = cache.layout.image("amd64", &[noise(15, 2_000)]);
    cache.upstream_has("anonymous", "v1", other.clone());
    let anonymous = skopeo(
        &cache.work.path().join("nobody"),
        &[
            "inspect",
            "--raw",
            "--no-creds",
            "--tls-verify=false",
            &format!("docker://{address}/library/anonymous:v1"),
        ],
    );
    assert_eq!(sha256(anonymous.as_bytes()).as_str(), digest_of(&other));

    // All of it went into the organization's cache.
    let tags = api_ok(
        &address,
        &cache.token,
        "GET",
        "/api/v1/repository/hub/library%2Fapp/tag/",
        None,
    );
    assert_eq!(tags["tags"][0]["name"], "v1", "{tags}");
    // A local namespace keeps its names.
    let (status, _, _) = cache.v2("GET", "app/manifests/v1");
    assert_eq!(status, 200);
    let local = run(
        "curl",
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-u",
            CREDS,
            &format!("http://{address}/v2/ns/app/manifests/v1"),
        ],
    );
    assert_eq!(local, "404", "ns/app is the user's own, empty repository");
}

#[test]
fn a_refused_token_is_renewed_once_and_only_once() {
    let Some(mut cache) = Cache::start(86_400) else {
        return;
    };
    let image = cache.layout.image("amd64", &[noise(16, 5_000)]);
    cache.upstream_has("app", "v1", image.clone());
    // The upstream refuses the first request: the cache signs in again and asks once more.
    cache.proxy.set_fault(Fault::StatusOnce {
        status: 401,
        path_contains: "/manifests/",
    });
    let (status, headers, _) = cache.v2("GET", "app/manifests/v1");
    assert_eq!(status, 200, "{headers}");
    assert!(headers.contains(&digest_of(&image)), "{headers}");
    assert_eq!(
        cache.proxy.count("GET", "/manifests/v1"),
        2,
        "{:?}",
        cache.proxy.requests()
    );
    // Refused every time: one retry, then the upstream's refusal, as a missing image.
    cache.proxy.reset();
    cache.proxy.set_fault(Fault::Status(401));
    let (status, _, body) = cache.v2("GET", "app/manifests/v2");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("upstream refused"), "{body}");
    assert_eq!(cache.proxy.count("GET", "/manifests/v2"), 2);
}

#[test]
fn a_blob_that_does_not_match_its_digest_is_never_served_whole_nor_stored() {
    let Some(mut cache) = Cache::start(86_400) else {
        return;
    };
    let layer = noise(9, 2_500_000);
    let digest = sha256(&layer);
    let image = cache.layout.image("amd64", std::slice::from_ref(&layer));
    cache.upstream_has("app", "v1", image);
    let (status, _, _) = cache.v2("GET", "app/manifests/v1");
    assert_eq!(status, 200);
    // The upstream's copy goes bad: same length, other bytes.
    let data = cache.upstream.blob_data(digest.as_str());
    let mut corrupt = layer.clone();
    corrupt[2_000_000] ^= 0xff;
    std::fs::write(&data, &corrupt).unwrap();

    let url = format!(
        "http://{}/v2/hub/library/app/blobs/{digest}",
        cache.quay.address
    );
    let get = || {
        reqwest::blocking::Client::new()
            .get(&url)
            .basic_auth(USER, Some(PASSWORD))
            .timeout(Duration::from_secs(60))
            .send()
            .and_then(reqwest::blocking::Response::bytes)
    };
    let read = get();
    assert!(
        read.is_err(),
        "the body is cut short before its last part, not handed over whole"
    );
    // Nothing of it was kept: once the upstream is right again, the blob is fetched anew.
    std::fs::write(&data, &layer).unwrap();
    let body = get().unwrap();
    assert_eq!(sha256(&body), digest);
    assert_eq!(cache.proxy.count("GET", &format!("/blobs/{digest}")), 2);
}

#[test]
fn fifty_concurrent_pulls_of_a_missing_layer_make_one_upstream_request() {
    const LAYER: usize = 64 << 20;
    let Some(mut cache) = Cache::start(86_400) else {
        return;
    };
    let layer = noise(7, LAYER);
    let layer_digest = sha256(&layer);
    let image = cache.layout.image("amd64", &[layer]);
    cache.upstream_has("big", "v1", image);
    let (status, _, _) = cache.v2("GET", "big/manifests/v1");
    assert_eq!(status, 200);
    cache.proxy.reset();
    // The upstream answers slowly enough that every client asks while the first waits.
    cache.proxy.set_delay(Some(Duration::from_millis(500)));

    let url = format!(
        "http://{}/v2/hub/library/big/blobs/{layer_digest}",
        cache.quay.address
    );
    let clients: Vec<_> = (0..50)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let response = reqwest::blocking::Client::new()
                    .get(&url)
                    .basic_auth(USER, Some(PASSWORD))
                    .timeout(Duration::from_secs(120))
                    .send()
                    .unwrap();
                assert_eq!(response.status(), 200);
                let body = response.bytes().unwrap();
                (body.len(), sha256(&body))
            })
        })
        .collect();
    for client in clients {
        let (length, digest) = client.join().unwrap();
        assert_eq!(length, LAYER);
        assert_eq!(digest, layer_digest);
    }
    assert_eq!(
        cache.proxy.count("GET", &format!("/blobs/{layer_digest}")),
        1,
        "{:?}",
        cache.proxy.requests()
    );
}

#[test]
fn a_private_upstream_quay_is_pulled_from_with_robot_credentials() {
    if !have("skopeo") || !have("curl") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    // The upstream: a second registry, whose private repository a robot may read.
    let mut layout = Layout::new(&work.path().join("source"));
    let image = layout.image("amd64", &[noise(8, 50_000)]);
    layout.tag("v1", image.clone());
    let PrivateQuay {
        quay: upstream,
        token: upstream_token,
        robot_token,
    } = PrivateQuay::start(work.path(), &layout, &["v1"]);

    // The cache, with the robot's credentials for the upstream's `ns`.
    let data = work.path().join("cache");
    let mut quay = Quay::start(&data, &[], &PROXY_ENV);
    let token = access_token(&data, USER);
    api_ok(
        &quay.address,
        &token,
        "POST",
        "/api/v1/organization/",
        Some(json!({ "name": "mirror" })),
    );
    let configuration = |password: Option<&str>| {
        let mut body = json!({
            "upstream_registry": format!("{}/ns", upstream.address),
            "insecure": true,
        });
        if let Some(password) = password {
            body["upstream_registry_username"] = json!("ns+puller");
            body["upstream_registry_password"] = json!(password);
        }
        body
    };
    // Checked first, as an administrator does before saving it.
    let validate = "/api/v1/organization/mirror/validateproxycache";
    for (password, status, answer) in [
        (Some(robot_token.as_str()), 202, json!("Valid")),
        (None, 202, json!("Anonymous")),
        (
            Some("wrong"),
            400,
            json!("Failed login to remote registry. Please verify entered details and try again."),
        ),
    ] {
        let (got, body) = api(
            &quay.address,
            &token,
            "POST",
            validate,
            Some(configuration(password)),
        );
        assert_eq!(got, status, "{body}");
        let shown = if status == 202 {
            &body
        } else {
            &body["error_message"]
        };
        assert_eq!(shown, &answer, "{body}");
    }
    let (status, body) = api(
        &quay.address,
        &token,
        "POST",
        "/api/v1/organization/mirror/proxycache",
        Some(configuration(Some(&robot_token))),
    );
    assert_eq!(status, 201, "{body}");
    let home = work.path().join("home");
    skopeo_login(&home, &quay.address);
    let out = work.path().join("out");
    pull(
        &home,
        &format!("docker://{}/mirror/private:v1", quay.address),
        &format!("oci:{}:v1", out.display()),
    );
    assert_eq!(layout_contents(&out, "v1").1, digest_of(&image));
    // Without the robot's permission the upstream says no, and so does the cache.
    api_ok(
        &upstream.address,
        &upstream_token,
        "DELETE",
        "/api/v1/repository/ns/private/permissions/user/ns+puller",
        None,
    );
    let refused = skopeo_output(
        &home,
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/mirror/private:v2", quay.address),
        ],
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("manifest unknown"), "{stderr}");
    let logs = quay.logs().join("\n");
    assert!(!logs.contains(&robot_token), "{logs}");
}

#[test]
fn a_proxy_organization_over_its_quota_evicts_the_least_recently_pulled_tags() {
    let env = [
        ("FEATURE_QUOTA_MANAGEMENT", "true"),
        ("SUPER_USERS", "[root]"),
    ];
    let Some(mut cache) = Cache::start_with(86_400, &env) else {
        return;
    };
    let env: Vec<_> = PROXY_ENV.iter().chain(&env).copied().collect();
    create_user(&cache.data, &[], &env, ROOT, PASSWORD);
    let root = access_token_with(&cache.data, ROOT, &env);
    let address = cache.quay.address.clone();
    // Room for three of the images below, not four.
    let quotas = "/api/v1/superuser/organization/hub/quota";
    let (status, body) = api(
        &address,
        &root,
        "POST",
        quotas,
        Some(json!({ "limit_bytes": 350_000 })),
    );
    assert_eq!(status, 201, "{body}");
    let id = api_ok(&address, &root, "GET", quotas, None)[0]["id"]
        .as_i64()
        .unwrap();
    let (status, body) = api(
        &address,
        &root,
        "POST",
        &format!("/api/v1/organization/hub/quota/{id}/limit"),
        Some(json!({ "type": "Reject", "threshold_percent": 100 })),
    );
    assert_eq!(status, 201, "{body}");
    // Every image shares a small layer with the others.
    let shared = noise(10, 1_000);
    for (seed, name) in [(11, "a"), (12, "b"), (13, "c"), (14, "d")] {
        let image = cache
            .layout
            .image("amd64", &[shared.clone(), noise(seed, 100_000)]);
        cache.upstream_has(name, "v1", image);
    }

    for name in ["a", "b", "c"] {
        cache.pull(&format!("{name}:v1"), &format!("first-{name}"), false);
    }
    // Long enough that none of them is still being pulled; then `a` is pulled again.
    std::thread::sleep(Duration::from_secs(11));
    cache.pull("a:v1", "again-a", false);
    std::thread::sleep(Duration::from_secs(1));
    cache.pull("d:v1", "first-d", false);

    let alive = |name: &str| {
        let tags = api_ok(
            &address,
            &cache.token,
            "GET",
            &format!("/api/v1/repository/hub/library%2F{name}/tag/?onlyActiveTags=true"),
            None,
        );
        !tags["tags"].as_array().unwrap().is_empty()
    };
    assert!(!alive("b"), "b was pulled least recently");
    for name in ["a", "c", "d"] {
        assert!(alive(name), "{name} stays");
    }
    let organization = api_ok(
        &address,
        &cache.token,
        "GET",
        "/api/v1/organization/hub",
        None,
    );
    let used = organization["quota_report"]["quota_bytes"]
        .as_u64()
        .unwrap();
    assert!(used <= 350_000, "{organization}");
    // The collector takes what only `b` had, and nothing the others need.
    let collected = run_quay(
        &["gc", "--once", "--data-dir", cache.data.to_str().unwrap()],
        &env,
    );
    assert!(collected.status.success(), "{collected:?}");
    cache.proxy.set_fault(Fault::Down);
    for name in ["a", "c", "d"] {
        cache.pull(&format!("{name}:v1"), &format!("after-{name}"), false);
    }
    let verified = run_quay(
        &[
            "quota",
            "verify",
            "--data-dir",
            cache.data.to_str().unwrap(),
        ],
        &env,
    );
    assert!(
        verified.status.success(),
        "quota verify: {}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
}
