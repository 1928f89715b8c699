//! Storage quota on the real binary: skopeo pushes into an organization whose quota a
//! superuser set, the pushes a Reject limit refuses leave nothing counted, a Warning tells
//! the admins, garbage collection gives the space back, and `quay-bin quota verify` and the
//! backfill keep the stored sizes true.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

const MIB: u64 = 1 << 20;
/// The organization every test pushes into; [`USER`] creates it and so administers it.
const ORG: &str = "acme";
/// What the client reads when a push is refused for the quota.
const QUOTA_EXCEEDED: &str = "Quota has been exceeded on namespace";

/// Storage quota on, with `root` a superuser. `gc` and `quota verify` get it too: they
/// must keep the sizes the server keeps.
fn quota_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("FEATURE_QUOTA_MANAGEMENT", "true"),
        ("SUPER_USERS", "[root]"),
    ]
}

/// A registry with storage quota on and the organization [`ORG`]; skopeo is signed in as
/// its admin [`USER`].
struct Fixture {
    work: tempfile::TempDir,
    data: PathBuf,
    quay: Quay,
    /// [`USER`]'s token: the organization's admin.
    owner: String,
    /// [`ROOT`]'s token: the superuser.
    root: String,
    cache: PathBuf,
}

impl Fixture {
    fn start() -> Self {
        Self::start_with(&quota_env())
    }

    /// The same with the server's environment `env`.
    fn start_with(env: &[(&str, &str)]) -> Self {
        let work = tempfile::tempdir().unwrap();
        let data = work.path().join("data");
        let quay = Quay::start(&data, &[], env);
        create_user(&data, &[], env, ROOT, PASSWORD);
        let owner = access_token(&data, USER);
        let root = access_token(&data, ROOT);
        api_ok(
            &quay.address,
            &owner,
            "POST",
            "/api/v1/organization/",
            Some(json!({ "name": ORG })),
        );
        let cache = work.path().join("skopeo-home");
        skopeo_login(&cache, &quay.address);
        Self {
            work,
            data,
            quay,
            owner,
            root,
            cache,
        }
    }

    /// Gives [`ORG`] a quota of `limit` (as the API takes it, `10 MiB`) with `limits`
    /// (type, percent); the quota's id.
    fn set_quota(&self, limit: &str, limits: &[(&str, u8)]) -> i64 {
        let path = format!("/api/v1/superuser/organization/{ORG}/quota");
        let (status, body) = api(
            &self.quay.address,
            &self.root,
            "POST",
            &path,
            Some(json!({ "limit": limit })),
        );
        assert_eq!(status, 201, "{body}");
        let quotas = api_ok(&self.quay.address, &self.root, "GET", &path, None);
        let id = quotas[0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{quotas}"));
        for (kind, percent) in limits {
            let (status, body) = api(
                &self.quay.address,
                &self.root,
                "POST",
                &format!("/api/v1/organization/{ORG}/quota/{id}/limit"),
                Some(json!({ "type": kind, "threshold_percent": percent })),
            );
            assert_eq!(status, 201, "{body}");
        }
        id
    }

    /// The organization's `quota_report`, as its admin sees it.
    fn report(&self) -> Value {
        org_report(&self.quay.address, &self.owner)
    }

    fn used(&self) -> u64 {
        let report = self.report();
        report["quota_bytes"]
            .as_u64()
            .unwrap_or_else(|| panic!("no quota_bytes in {report}"))
    }

    /// Pushes tag `tag` of `layout` to `ORG/destination`.
    fn push(&self, layout: &Layout, tag: &str, destination: &str) -> Result<(), String> {
        try_push(&self.cache, layout, tag, &self.quay.address, destination)
    }

    /// The organization's usage log entries of `kind`.
    fn logged(&self, kind: &str) -> Vec<Value> {
        let path = format!("/api/v1/organization/{ORG}/logs");
        self.listed(&self.owner, &path, "logs", kind)
    }

    /// The in-app notifications of kind `kind` that the bearer of `token` has.
    fn notifications(&self, token: &str, kind: &str) -> Vec<Value> {
        self.listed(token, "/api/v1/user/notifications", "notifications", kind)
    }

    /// The items of kind `kind` in the list `key` that `GET path` answers.
    fn listed(&self, token: &str, path: &str, key: &str, kind: &str) -> Vec<Value> {
        let answer = api_ok(&self.quay.address, token, "GET", path, None);
        answer[key]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .filter(|item| item["kind"] == kind)
            .cloned()
            .collect()
    }

    fn sql(&self, query: &str) -> String {
        sql(&self.data, query)
    }
}

/// `GET /api/v1/organization/ORG`'s `quota_report`.
fn org_report(address: &str, token: &str) -> Value {
    let organization = api_ok(
        address,
        token,
        "GET",
        &format!("/api/v1/organization/{ORG}"),
        None,
    );
    organization["quota_report"].clone()
}

/// `skopeo copy` of tag `tag` of `layout` to `ORG/destination`; skopeo's error output if
/// it fails.
fn try_push(
    cache: &Path,
    layout: &Layout,
    tag: &str,
    address: &str,
    destination: &str,
) -> Result<(), String> {
    try_copy(
        cache,
        &format!("oci:{}:{tag}", layout.dir.display()),
        &format!("docker://{address}/{ORG}/{destination}"),
    )
}

/// What an image counts towards a quota: its config's and its layers' sizes.
fn image_bytes(layout: &Layout, descriptor: &Value) -> u64 {
    image_blobs(layout, descriptor)
        .iter()
        .map(|(_, size)| size)
        .sum()
}

/// The config's and the layers' digests (hex) and sizes of an image of `layout`.
fn image_blobs(layout: &Layout, descriptor: &Value) -> Vec<(String, u64)> {
    let digest = descriptor["digest"].as_str().unwrap();
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(layout.dir.join("blobs/sha256").join(&digest[7..])).unwrap(),
    )
    .unwrap();
    std::iter::once(&manifest["config"])
        .chain(manifest["layers"].as_array().unwrap())
        .map(|blob| {
            (
                blob["digest"].as_str().unwrap()[7..].to_string(),
                blob["size"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The blobs (hex digests) the registry stores.
fn stored_blobs(data: &Path) -> BTreeSet<String> {
    let mut stored = BTreeSet::new();
    let Ok(prefixes) = std::fs::read_dir(data.join("storage/sha256")) else {
        return stored;
    };
    for prefix in prefixes {
        for blob in std::fs::read_dir(prefix.unwrap().path()).unwrap() {
            stored.insert(blob.unwrap().file_name().to_string_lossy().into_owned());
        }
    }
    stored
}

/// The files under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// `quay-bin quota verify [--repair]` on `data`, with storage quota on.
fn quota_verify(data: &Path, repair: bool) -> Output {
    let mut args = vec!["quota", "verify", "--data-dir", data.to_str().unwrap()];
    if repair {
        args.push("--repair");
    }
    run_quay(&args, &quota_env())
}

/// Asserts that `quota verify` finds every stored size right.
fn assert_sizes_verified(data: &Path) {
    let output = quota_verify(data, false);
    assert!(
        output.status.success(),
        "quota verify: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_push_over_the_reject_limit_fails_and_leaves_nothing_counted() {
    if !have("skopeo") || !have("python3") {
        return;
    }
    let fixture = Fixture::start();
    // Reject at 80 % of 10 MiB.
    fixture.set_quota("10 MiB", &[("Reject", 80)]);
    let reject_at = 8 * MIB;

    let mut layout = Layout::new(&fixture.work.path().join("source"));
    let a = layout.image(
        "amd64",
        &[noise(1, 2 * MIB as usize), noise(2, MIB as usize)],
    );
    layout.tag("a", a.clone());
    let a_bytes = image_bytes(&layout, &a);
    // B's layers alone stay under the limit with A, so that they upload (even at the same
    // time); its config takes the namespace over it, so the manifest is what is refused.
    let b_layers = reject_at - a_bytes - 64;
    let half = (b_layers / 2) as usize;
    let b = layout.image(
        "amd64",
        &[noise(3, half), noise(4, b_layers as usize - half)],
    );
    layout.tag("b", b.clone());
    let b_bytes = image_bytes(&layout, &b);
    assert!(a_bytes + b_bytes >= reject_at && a_bytes + b_layers < reject_at);

    fixture.push(&layout, "a", "a:v1").unwrap();
    assert_eq!(fixture.used(), a_bytes);

    let refused = fixture
        .push(&layout, "b", "b:v1")
        .expect_err("a push over the Reject limit must fail");
    assert!(refused.contains(QUOTA_EXCEEDED), "{refused}");
    // Nothing of B counts, and nothing of it is left but its uploaded blobs: no manifest,
    // no tag.
    assert_eq!(fixture.used(), a_bytes);
    assert_eq!(fixture.sql("SELECT COUNT(*) FROM manifest"), "1");
    let (status, tags) = api(
        &fixture.quay.address,
        &fixture.owner,
        "GET",
        &format!("/api/v1/repository/{ORG}/b/tag/"),
        None,
    );
    assert!(
        status == 404 || tags["tags"].as_array().is_some_and(Vec::is_empty),
        "{status} {tags}"
    );
    let stored = stored_blobs(&fixture.data);
    for (layer, _) in &image_blobs(&layout, &b)[1..] {
        assert!(
            stored.contains(layer),
            "B's layers must have uploaded; the manifest is what the quota refuses"
        );
    }
    let errors = fixture.logged("quota_error");
    assert!(!errors.is_empty(), "a refusal is logged");
    assert_eq!(errors[0]["metadata"]["namespace"], ORG, "{}", errors[0]);
    assert_sizes_verified(&fixture.data);

    // Again, with B's layers already there: only the manifest is pushed, and refused.
    // Every refusal is logged; the admin is told once.
    let refused = fixture
        .push(&layout, "b", "b:v1")
        .expect_err("a push over the Reject limit must fail");
    assert!(refused.contains(QUOTA_EXCEEDED), "{refused}");
    assert_eq!(fixture.used(), a_bytes);
    assert_eq!(fixture.sql("SELECT COUNT(*) FROM manifest"), "1");
    assert!(fixture.logged("quota_error").len() > errors.len());
    let told = fixture.notifications(&fixture.owner, "quota_error");
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["metadata"]["namespace"], ORG, "{}", told[0]);

    // A's tag deleted and collected at once (a time-machine window of zero), its space is
    // free again, and B fits.
    let (status, body) = api(
        &fixture.quay.address,
        &fixture.owner,
        "DELETE",
        &format!("/api/v1/repository/{ORG}/a/tag/v1"),
        None,
    );
    assert_eq!(status, 204, "{body}");
    assert_eq!(fixture.used(), a_bytes, "only collection frees space");
    api_ok(
        &fixture.quay.address,
        &fixture.owner,
        "PUT",
        &format!("/api/v1/organization/{ORG}"),
        Some(json!({ "tag_expiration_s": 0 })),
    );
    let collected = run_quay(
        &["gc", "--once", "--data-dir", fixture.data.to_str().unwrap()],
        &quota_env(),
    );
    assert!(collected.status.success(), "{collected:?}");
    assert_eq!(fixture.used(), 0);
    assert_sizes_verified(&fixture.data);

    fixture.push(&layout, "b", "b:v1").unwrap();
    assert_eq!(fixture.used(), b_bytes);
    assert_sizes_verified(&fixture.data);
}

#[test]
fn a_warning_limit_notifies_the_admins_and_lets_the_push_through() {
    if !have("skopeo") {
        return;
    }
    let fixture = Fixture::start();
    // Warn from 1 MiB on.
    fixture.set_quota("10 MiB", &[("Warning", 10)]);
    let mut layout = Layout::new(&fixture.work.path().join("source"));
    let first = layout.image("amd64", &[noise(10, 2 * MIB as usize)]);
    layout.tag("first", first.clone());
    let second = layout.image("amd64", &[noise(11, 100_000)]);
    layout.tag("second", second.clone());
    let third = layout.image("amd64", &[noise(12, 100_000)]);
    layout.tag("third", third);

    fixture.push(&layout, "first", "app:v1").unwrap();
    assert_eq!(fixture.used(), image_bytes(&layout, &first));
    let warnings = |token: &str| fixture.notifications(token, "quota_warning");
    let told = warnings(&fixture.owner);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["metadata"]["namespace"], ORG, "{}", told[0]);
    assert_eq!(told[0]["dismissed"], false);
    // Only the organization's admins are told, not the superuser who set the quota.
    assert!(warnings(&fixture.root).is_empty());
    let logged = fixture.logged("quota_warning");
    assert!(!logged.is_empty(), "a warning is logged");
    assert_eq!(logged[0]["metadata"]["namespace"], ORG, "{}", logged[0]);

    // Still over the Warning limit: the push goes through, and the admin is not told twice.
    fixture.push(&layout, "second", "other:v1").unwrap();
    assert_eq!(
        fixture.used(),
        image_bytes(&layout, &first) + image_bytes(&layout, &second)
    );
    assert_eq!(warnings(&fixture.owner).len(), 1);

    // Once dismissed, the next push over the limit tells the admin again.
    let uuid = told[0]["id"].as_str().unwrap();
    api_ok(
        &fixture.quay.address,
        &fixture.owner,
        "PUT",
        &format!("/api/v1/user/notifications/{uuid}"),
        Some(json!({ "dismissed": true })),
    );
    fixture.push(&layout, "third", "other:v2").unwrap();
    let told = warnings(&fixture.owner);
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(
        told.iter()
            .filter(|notification| notification["dismissed"] == false)
            .count(),
        1,
        "{told:?}"
    );
}

#[test]
fn a_layer_larger_than_the_limit_is_refused_while_it_uploads() {
    if !have("skopeo") || !have("python3") {
        return;
    }
    let fixture = Fixture::start();
    fixture.set_quota("1 MiB", &[("Reject", 100)]);
    let mut layout = Layout::new(&fixture.work.path().join("source"));
    let big = layout.image("amd64", &[noise(20, 3 * MIB as usize)]);
    layout.tag("big", big.clone());

    let refused = fixture
        .push(&layout, "big", "big:v1")
        .expect_err("a layer over the Reject limit must be refused");
    assert!(refused.contains(QUOTA_EXCEEDED), "{refused}");

    // The upload was cancelled: no upload, none of its bytes, no blob, nothing counted.
    assert_eq!(fixture.used(), 0);
    assert_eq!(fixture.sql("SELECT COUNT(*) FROM blob_upload"), "0");
    let leftovers = files_under(&fixture.data.join("storage/uploads"));
    assert!(leftovers.is_empty(), "upload parts left: {leftovers:?}");
    let (layer, _) = &image_blobs(&layout, &big)[1];
    assert!(!stored_blobs(&fixture.data).contains(layer));
    assert!(!fixture.logged("quota_error").is_empty());
    let told = fixture.notifications(&fixture.owner, "quota_error");
    assert_eq!(told.len(), 1, "{told:?}");
    assert_sizes_verified(&fixture.data);
}

#[test]
fn quota_verify_reports_and_repairs_a_drifted_size() {
    if !have("skopeo") || !have("python3") {
        return;
    }
    let fixture = Fixture::start();
    let mut layout = Layout::new(&fixture.work.path().join("source"));
    let image = layout.image("amd64", &[noise(30, 300_000), noise(31, 20_000)]);
    layout.tag("v1", image.clone());
    fixture.push(&layout, "v1", "app:v1").unwrap();
    let bytes = image_bytes(&layout, &image);
    assert_eq!(fixture.used(), bytes);
    let Fixture { quay, data, .. } = fixture;
    assert!(quay.terminate().success());
    assert_sizes_verified(&data);

    let namespace = sql(
        &data,
        &format!("SELECT id FROM namespace WHERE name = '{ORG}'"),
    );
    sql(
        &data,
        &format!(
            "UPDATE quota_namespace_size SET size_bytes = size_bytes + 7 \
             WHERE namespace_id = {namespace}"
        ),
    );
    let drifted = quota_verify(&data, false);
    let report = String::from_utf8_lossy(&drifted.stdout);
    assert_eq!(drifted.status.code(), Some(1), "{report}");
    let line = format!("{ORG}: stored {} bytes, actual {bytes} bytes", bytes + 7);
    assert!(
        report.lines().any(|l| l == line),
        "{line:?} not in {report}"
    );
    assert!(report.contains("1 sizes differ"), "{report}");

    let repaired = quota_verify(&data, true);
    let report = String::from_utf8_lossy(&repaired.stdout);
    assert!(repaired.status.success(), "{report}");
    assert!(report.lines().any(|l| l == line), "{report}");
    assert_sizes_verified(&data);
    assert_eq!(
        sql(
            &data,
            &format!(
                "SELECT size_bytes FROM quota_namespace_size WHERE namespace_id = {namespace}"
            )
        ),
        bytes.to_string()
    );
}

#[test]
fn sizes_of_an_existing_registry_are_backfilled() {
    if !have("skopeo") {
        return;
    }
    let fixture = Fixture::start_with(&[]);
    let mut layout = Layout::new(&fixture.work.path().join("source"));
    let image = layout.image("amd64", &[noise(40, 400_000), noise(41, 30_000)]);
    layout.tag("v1", image.clone());
    fixture.push(&layout, "v1", "app:v1").unwrap();
    // Without quota management, nothing reports a size.
    assert_eq!(fixture.report(), Value::Null);
    // The working directory stays until the end: the data and the layout are in it.
    let Fixture {
        work: _work,
        quay,
        data,
        owner,
        ..
    } = fixture;
    assert!(quay.terminate().success());

    let mut env = quota_env();
    env.extend([
        ("QUOTA_TOTAL_DELAY_SECONDS", "0"),
        ("QUOTA_BACKFILL_POLL_PERIOD", "1"),
    ]);
    let quay = Quay::start(&data, &[], &env);
    let deadline = Instant::now() + Duration::from_secs(15);
    let report = loop {
        let report = org_report(&quay.address, &owner);
        if report["backfill_status"] == "complete" {
            break report;
        }
        assert!(
            Instant::now() < deadline,
            "the backfill did not complete: {report}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(report["running_backfill"], "complete");
    assert_eq!(
        report["quota_bytes"].as_u64(),
        Some(image_bytes(&layout, &image)),
        "{report}"
    );
    assert_sizes_verified(&data);
}

#[test]
fn a_namespace_over_its_reject_limit_refuses_pushes_that_add_no_bytes() {
    if !have("skopeo") {
        return;
    }
    let fixture = Fixture::start();
    let id = fixture.set_quota("10 MiB", &[("Reject", 100)]);
    let mut layout = Layout::new(&fixture.work.path().join("source"));
    let image = layout.image("amd64", &[noise(50, 2 * MIB as usize)]);
    layout.tag("v1", image.clone());
    let fresh = layout.image("amd64", &[noise(51, 10_000)]);
    layout.tag("fresh", fresh);
    fixture.push(&layout, "v1", "app:v1").unwrap();
    let bytes = image_bytes(&layout, &image);
    assert_eq!(fixture.used(), bytes);

    // /v2 by hand, as the user: the status and the body.
    let v2 = |method: &str, path: &str, extra: &[&str]| {
        let url = format!("http://{}/v2/{ORG}/{path}", fixture.quay.address);
        let mut args = vec!["-s", "-X", method, "-u", CREDS, "-w", "\n%{http_code}"];
        args.extend(extra);
        args.push(&url);
        let output = run("curl", &args);
        let (body, status) = output.rsplit_once('\n').unwrap();
        (status.to_string(), body.to_string())
    };
    let mount = |blob: &str, into: &str| {
        v2(
            "POST",
            &format!("{into}/blobs/uploads/?mount=sha256:{blob}&from={ORG}/app"),
            &[],
        )
    };
    // While there is room, the image's blobs are mounted into `copy`, ready for a manifest
    // that brings the namespace nothing new.
    let blobs = image_blobs(&layout, &image);
    for (blob, _) in &blobs {
        let (status, body) = mount(blob, "copy");
        assert_eq!(status, "201", "{body}");
    }

    // The superuser lowers the quota below what the organization already uses. From now on
    // every push is refused: Quay judges the namespace's total at every upload start
    // (mounts included) and every manifest put by tag, whether or not it brings new bytes.
    api_ok(
        &fixture.quay.address,
        &fixture.root,
        "PUT",
        &format!("/api/v1/superuser/organization/{ORG}/quota/{id}"),
        Some(json!({ "limit": "1 MiB" })),
    );
    let mut accepted = Vec::new();
    for (tag, destination, what) in [
        ("fresh", "app:fresh", "skopeo: a new image"),
        ("v1", "app:v2", "skopeo: the same image under another tag"),
    ] {
        match fixture.push(&layout, tag, destination) {
            Ok(()) => accepted.push(what.to_string()),
            Err(output) => assert!(output.contains(QUOTA_EXCEEDED), "{what}: {output}"),
        }
    }
    let (status, body) = mount(&blobs[1].0, "copy2");
    if !(status == "403" && body.contains(QUOTA_EXCEEDED)) {
        accepted.push(format!("a mount from another repository ({status})"));
    }
    let digest = image["digest"].as_str().unwrap();
    let manifest = format!(
        "@{}",
        layout.dir.join("blobs/sha256").join(&digest[7..]).display()
    );
    let content_type = format!("Content-Type: {OCI_MANIFEST}");
    let (status, body) = v2(
        "PUT",
        "copy/manifests/v1",
        &["-H", &content_type, "--data-binary", &manifest],
    );
    if !(status == "403" && body.contains(QUOTA_EXCEEDED)) {
        accepted.push(format!(
            "a new manifest whose blobs the namespace counts ({status})"
        ));
    }
    assert_eq!(fixture.used(), bytes);
    assert!(
        accepted.is_empty(),
        "accepted over the Reject limit: {accepted:?}"
    );
    let (_, tags) = api(
        &fixture.quay.address,
        &fixture.owner,
        "GET",
        &format!("/api/v1/repository/{ORG}/app/tag/?onlyActiveTags=true"),
        None,
    );
    let names: Vec<&str> = tags["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("{tags}"))
        .iter()
        .map(|tag| tag["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["v1"]);
}
