//! The time machine and garbage collection on the real binary: collection in a tight loop
//! on two processes while clients push, retag and delete, and nothing live is lost.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::support::*;

pub(crate) const CLIENTS: u8 = 3;
const ROUNDS: u8 = 6;
/// Upload links and untagged manifests live this long: short, so that the final
/// collection may reclaim everything a deleted image uploaded.
pub(crate) const LINK_SECONDS: &str = "3";

/// What a tag was pushed with: the manifest's digest and the layout's blobs.
pub(crate) type Pushed = (String, Vec<String>);

/// `quay-bin gc` collecting in a loop, stopped on drop.
struct CollectorLoop(Child);

impl CollectorLoop {
    fn start(data: &Path) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_quay-bin"))
            .args(["gc", "--data-dir"])
            .arg(data)
            .env_remove("QUAY_CONFIG")
            .env("GARBAGE_COLLECTION_FREQUENCY", "0")
            .env("PUSH_TEMP_TAG_EXPIRATION_SEC", LINK_SECONDS)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self(child)
    }
}

impl Drop for CollectorLoop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Pushes with skopeo, retrying: a layer the registry had a moment ago may have been
/// collected between skopeo's check and its manifest push, which skopeo reports as an
/// error; pushing again uploads it.
fn push(cache: &Path, source: &str, destination: &str) {
    for attempt in 1..=4 {
        let Err(stderr) = try_copy(cache, source, destination) else {
            return;
        };
        assert!(
            attempt < 4,
            "push of {destination} failed 4 times: {stderr}"
        );
        report(&format!("push retried after: {}", stderr.trim()));
    }
}

#[test]
fn collection_on_two_processes_while_clients_push_loses_nothing() {
    if !have("skopeo") || !have("python3") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let env = [
        ("GARBAGE_COLLECTION_FREQUENCY", "1"),
        ("PUSH_TEMP_TAG_EXPIRATION_SEC", LINK_SECONDS),
    ];
    let quay = Quay::start(&data, &[], &env);
    let token = access_token(&data, USER);
    api_ok(
        &quay.address,
        &token,
        "PUT",
        "/api/v1/user/",
        Some(json!({ "tag_expiration_s": 0 })),
    );
    let collector = CollectorLoop::start(&data);

    let live = push_retag_and_delete(work.path(), &[&quay.address]);
    drop(collector);

    // A last collection once every upload link of the run has lapsed.
    std::thread::sleep(Duration::from_secs(5));
    let output = run_quay(
        &["gc", "--once", "--data-dir", data.to_str().unwrap()],
        &[("PUSH_TEMP_TAG_EXPIRATION_SEC", LINK_SECONDS)],
    );
    assert!(output.status.success(), "{output:?}");
    let expected_blobs = live_tags_pull_whole(work.path(), &quay.address, &live);

    // Nothing is left that nothing references: in storage, only the live images' blobs;
    // in the database, only manifests a tag holds.
    let mut stored = BTreeSet::new();
    for prefix in std::fs::read_dir(data.join("storage/sha256")).unwrap() {
        for blob in std::fs::read_dir(prefix.unwrap().path()).unwrap() {
            stored.insert(blob.unwrap().file_name().to_string_lossy().into_owned());
        }
    }
    assert_eq!(stored, expected_blobs);
    let counts = run(
        "python3",
        &[
            "-c",
            "import sqlite3, sys\n\
             db = sqlite3.connect(sys.argv[1])\n\
             q = lambda sql: db.execute(sql).fetchone()[0]\n\
             print(q('SELECT COUNT(*) FROM manifest m WHERE NOT EXISTS \
                      (SELECT 1 FROM tag t WHERE t.manifest_id = m.id)'),\n\
                   q('SELECT COUNT(*) FROM blob'),\n\
                   q('SELECT COUNT(*) FROM tag'))",
            data.join("quay.db").to_str().unwrap(),
        ],
    );
    let counts: Vec<usize> = counts
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(counts[0], 0, "manifests without a tag remain");
    assert_eq!(counts[1], expected_blobs.len(), "blob rows");
    assert_eq!(counts[2], live.len(), "tag rows: only the alive ones");
}

/// [`CLIENTS`] skopeo clients push images sharing layers with everybody's through the
/// registries at `addresses` (client *n* through the *n*th, round robin), move their two
/// tags between them and delete one now and then; what each tag should hold at the end.
pub(crate) fn push_retag_and_delete(work: &Path, addresses: &[&str]) -> BTreeMap<String, Pushed> {
    let live: Arc<Mutex<BTreeMap<String, Pushed>>> = Arc::default();
    let shared: Vec<Vec<u8>> = (0..3).map(|i| noise(100 + i, 50_000)).collect();
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            let address = addresses[usize::from(client) % addresses.len()];
            let (live, shared) = (&live, &shared);
            scope.spawn(move || {
                let cache = work.join(format!("skopeo-{client}"));
                skopeo_login(&cache, address);
                for round in 0..ROUNDS {
                    let name = format!("c{client}-{}", round % 2);
                    let dir = work.join(format!("layout-{client}-{round}"));
                    let mut layout = Layout::new(&dir);
                    let own = noise(client * 16 + round, 20_000);
                    let image =
                        layout.image("amd64", &[shared[usize::from(round % 3)].clone(), own]);
                    layout.tag(&name, image);
                    let destination = format!("docker://{address}/ns/app:{name}");
                    push(
                        &cache,
                        &format!("oci:{}:{name}", dir.display()),
                        &destination,
                    );
                    let (blobs, digest) = layout_contents(&dir, &name);
                    let deleted = round % 4 == 3;
                    if deleted {
                        let url = format!("http://{address}/v2/ns/app/manifests/{name}");
                        run("curl", &["-sf", "-X", "DELETE", "-u", CREDS, &url]);
                    }
                    let mut live = live.lock().unwrap();
                    if deleted {
                        live.remove(&name);
                    } else {
                        live.insert(name, (digest, blobs));
                    }
                }
            });
        }
    });
    let live = live.lock().unwrap().clone();
    assert!(!live.is_empty());
    live
}

/// Every tag of `live` pulls completely from `address`, with the digests it was pushed
/// with; the blobs (configs and layers) that storage must hold for them.
pub(crate) fn live_tags_pull_whole(
    work: &Path,
    address: &str,
    live: &BTreeMap<String, Pushed>,
) -> BTreeSet<String> {
    let cache = work.join("skopeo-check");
    skopeo_login(&cache, address);
    let mut expected_blobs = BTreeSet::new();
    for (name, (digest, blobs)) in live {
        let out = work.join(format!("pulled-{name}"));
        pull(
            &cache,
            &format!("docker://{address}/ns/app:{name}"),
            &format!("oci:{}:{name}", out.display()),
        );
        let (pulled, pulled_digest) = layout_contents(&out, name);
        assert_eq!(&pulled_digest, digest, "{name}");
        for blob in &pulled {
            let bytes = std::fs::read(out.join("blobs/sha256").join(blob)).unwrap();
            assert_eq!(sha256(&bytes).hex(), blob.as_str(), "{name}: {blob}");
        }
        // The layout holds the manifest too; storage holds only configs and layers.
        expected_blobs.extend(blobs.iter().filter(|blob| **blob != digest[7..]).cloned());
    }
    expected_blobs
}

/// `skopeo copy` of tag `from` of `layout` to the registry's `destination` (`host/repo:tag`).
fn copy_to(cache: &Path, layout: &Layout, from: &str, destination: &str) -> String {
    skopeo(
        cache,
        &[
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "--preserve-digests",
            &format!("oci:{}:{from}", layout.dir.display()),
            &format!("docker://{destination}"),
        ],
    )
}

/// An image whose configuration carries `labels`; its manifest's descriptor.
fn labelled_image(layout: &Layout, labels: &serde_json::Value, layer: &[u8]) -> serde_json::Value {
    let layer = layout.blob("application/vnd.oci.image.layer.v1.tar", layer);
    let config = json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Labels": labels },
        "rootfs": { "type": "layers", "diff_ids": [layer["digest"]] },
    });
    let config = layout.blob(
        "application/vnd.oci.image.config.v1+json",
        config.to_string().as_bytes(),
    );
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": [layer],
    });
    layout.blob(OCI_MANIFEST, manifest.to_string().as_bytes())
}

#[test]
fn restore_expiration_and_immutability_through_the_api() {
    if !have("skopeo") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let quay = Quay::start(
        &data,
        &[],
        &[
            ("FEATURE_IMMUTABLE_TAGS", "true"),
            ("PERMANENTLY_DELETE_TAGS", "true"),
        ],
    );
    let token = access_token(&data, USER);
    let address = quay.address.clone();
    let call = |method: &str, path: &str, body: Option<serde_json::Value>| {
        api(&address, &token, method, path, body)
    };
    let mut layout = Layout::new(&work.path().join("source"));
    let expiring = labelled_image(
        &layout,
        &json!({ "quay.expires-after": "2h" }),
        &noise(1, 1000),
    );
    let plain = labelled_image(&layout, &json!({}), &noise(2, 1000));
    let frozen = labelled_image(
        &layout,
        &json!({ "quay.immutable": "true" }),
        &noise(3, 1000),
    );
    layout.tag("expiring", expiring.clone());
    layout.tag("plain", plain.clone());
    layout.tag("frozen", frozen);
    let cache = work.path().join("skopeo-home");
    skopeo_login(&cache, &address);
    let copy =
        |from: &str, to: &str| copy_to(&cache, &layout, from, &format!("{address}/ns/tm:{to}"));
    let tags = "/api/v1/repository/ns/tm/tag/";
    let history = |query: &str| call("GET", &format!("{tags}?{query}"), None).1["tags"].clone();

    // The label makes the pushed tag expire two hours after it starts.
    copy("expiring", "expiring");
    let row = &history("specificTag=expiring")[0];
    let expiring_digest = expiring["digest"].as_str().unwrap();
    let (_, manifest) = call(
        "GET",
        &format!("/api/v1/repository/ns/tm/manifest/{expiring_digest}"),
        None,
    );
    assert_eq!(manifest["digest"], expiring_digest);
    assert_eq!(manifest["is_manifest_list"], false);
    let (_, labels) = call(
        "GET",
        &format!("/api/v1/repository/ns/tm/manifest/{expiring_digest}/labels?filter=quay."),
        None,
    );
    assert_eq!(labels["labels"][0]["key"], "quay.expires-after");
    assert_eq!(labels["labels"][0]["value"], "2h");
    // The image configuration, as pushed, for the web UI's tag comparison.
    let (status, config) = call(
        "GET",
        &format!("/api/v1/repository/ns/tm/manifest/{expiring_digest}/config"),
        None,
    );
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["config"]["Labels"]["quay.expires-after"], "2h");
    assert_eq!(config["os"], "linux");
    assert_eq!(
        row["end_ts"].as_i64().unwrap() - row["start_ts"].as_i64().unwrap(),
        7200
    );
    assert!(row["expiration"].is_string());

    // Move `latest` from one image to another, then restore the first.
    copy("plain", "latest");
    copy("expiring", "latest");
    let plain_digest = plain["digest"].as_str().unwrap();
    let (status, _) = call(
        "POST",
        &format!("{tags}latest/restore"),
        Some(json!({ "manifest_digest": plain_digest })),
    );
    assert_eq!(status, 200);
    let rows = history("specificTag=latest");
    assert_eq!(rows.as_array().unwrap().len(), 3, "{rows}");
    assert_eq!(rows[0]["manifest_digest"], plain_digest);
    assert_eq!(rows[0]["reversion"], true);
    let raw = skopeo(
        &cache,
        &[
            "inspect",
            "--tls-verify=false",
            "--raw",
            &format!("docker://{address}/ns/tm:latest"),
        ],
    );
    assert_eq!(sha256(raw.as_bytes()).as_str(), plain_digest);
    let (status, body) = call("POST", &format!("{tags}latest/restore"), Some(json!({})));
    assert_eq!(
        (status, body["error_message"].as_str()),
        (400, Some("Missing manifest_digest"))
    );

    // An expiration through the API is clamped to at least an hour after the start.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (status, _) = call(
        "PUT",
        &format!("{tags}latest"),
        Some(json!({ "expiration": now + 10 })),
    );
    assert_eq!(status, 201);
    let row = &history("specificTag=latest&onlyActiveTags=true")[0];
    assert_eq!(
        row["end_ts"].as_i64().unwrap() - row["start_ts"].as_i64().unwrap(),
        3600
    );
    let (status, _) = call(
        "PUT",
        &format!("{tags}latest"),
        Some(json!({ "expiration": now - 10 })),
    );
    assert_eq!(status, 400);
    call(
        "PUT",
        &format!("{tags}latest"),
        Some(json!({ "expiration": null })),
    );
    assert!(
        history("specificTag=latest&onlyActiveTags=true")[0]
            .get("end_ts")
            .is_none()
    );

    // Immutable tags refuse every change, on the API and on /v2, until made mutable.
    copy("frozen", "frozen");
    assert_eq!(history("specificTag=frozen")[0]["immutable"], true);
    call(
        "PUT",
        &format!("{tags}latest"),
        Some(json!({ "immutable": true })),
    );
    let (status, body) = call("DELETE", &format!("{tags}latest"), None);
    assert_eq!(
        (status, body["error_type"].as_str()),
        (409, Some("tag_immutable"))
    );
    let deleted = run(
        "curl",
        &[
            "-s",
            "-X",
            "DELETE",
            "-u",
            CREDS,
            "-w",
            "%{http_code}",
            &format!("http://{address}/v2/ns/tm/manifests/latest"),
        ],
    );
    assert!(
        deleted.contains("TAG_IMMUTABLE") && deleted.ends_with("409"),
        "{deleted}"
    );
    let (status, _) = call(
        "PUT",
        &format!("{tags}latest"),
        Some(json!({ "expiration": now + 7200 })),
    );
    assert_eq!(status, 409);
    let (status, _) = call(
        "PUT",
        &format!("{tags}latest"),
        Some(json!({ "manifest_digest": expiring["digest"] })),
    );
    assert_eq!(status, 409);
    call(
        "PUT",
        &format!("{tags}latest"),
        Some(json!({ "immutable": false })),
    );
    let (status, _) = call("DELETE", &format!("{tags}latest"), None);
    assert_eq!(status, 204);

    // A deleted tag answers TAG_EXPIRED on /v2; past a window of zero and a collection,
    // restoring it is refused.
    let pulled = run(
        "curl",
        &[
            "-s",
            "-u",
            CREDS,
            "-H",
            &format!("Accept: {OCI_MANIFEST}"),
            &format!("http://{address}/v2/ns/tm/manifests/latest"),
        ],
    );
    assert!(
        pulled.contains("TAG_EXPIRED") && pulled.contains("revive via time machine"),
        "{pulled}"
    );
    let (status, body) = call(
        "PUT",
        "/api/v1/user/",
        Some(json!({ "tag_expiration_s": 12345 })),
    );
    assert_eq!(
        (status, body["error_message"].as_str()),
        (400, Some("Invalid tag expiration option"))
    );
    call(
        "PUT",
        "/api/v1/user/",
        Some(json!({ "tag_expiration_s": 0 })),
    );
    let output = run_quay(&["gc", "--once", "--data-dir", data.to_str().unwrap()], &[]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("reclaimed "));
    let (status, _) = call(
        "POST",
        &format!("{tags}latest/restore"),
        Some(json!({ "manifest_digest": expiring["digest"] })),
    );
    assert_eq!(status, 200, "expiring is still tagged, so still restorable");
    // Taken out of the time machine, a tag's old lifetimes go with the next collection.
    copy("plain", "short");
    let (status, _) = call(
        "POST",
        &format!("{tags}short/expire"),
        Some(json!({ "is_alive": true })),
    );
    assert_eq!(status, 200);
    assert!(
        history("specificTag=short&onlyActiveTags=true")
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (_, logs) = call("GET", "/api/v1/repository/ns/tm/logs", None);
    let kinds: Vec<&str> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "revert_tag",
        "change_tag_expiration",
        "change_tag_immutability",
        "delete_tag",
        "permanently_delete_tag",
    ] {
        assert!(kinds.contains(&kind), "{kind} not in {kinds:?}");
    }
    // Past the window (zero) and a collection, the image nothing holds any more is gone,
    // and restoring it is refused with a clear 404.
    let output = run_quay(&["gc", "--once", "--data-dir", data.to_str().unwrap()], &[]);
    assert!(output.status.success());
    let (status, body) = call(
        "POST",
        &format!("{tags}latest/restore"),
        Some(json!({ "manifest_digest": plain_digest })),
    );
    assert_eq!(
        (status, body["error_type"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
}

#[test]
fn auto_prune_policies_by_count_and_by_age() {
    if !have("skopeo") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let quay = Quay::start(&data, &[], &[("FEATURE_AUTO_PRUNE", "true")]);
    let token = access_token(&data, USER);
    let address = quay.address.clone();
    let call = |method: &str, path: &str, body: Option<serde_json::Value>| {
        api(&address, &token, method, path, body)
    };
    let mut layout = Layout::new(&work.path().join("source"));
    for (n, name) in ["a", "b", "old-1"].iter().enumerate() {
        let image = layout.image("amd64", &[noise(40 + n as u8, 500)]);
        layout.tag(name, image);
    }
    let cache = work.path().join("skopeo-home");
    skopeo_login(&cache, &address);
    let copy = |from: &str, to: &str| copy_to(&cache, &layout, from, &format!("{address}/{to}"));
    let prune = || {
        let output = run_quay(
            &["prune", "--data-dir", data.to_str().unwrap()],
            &[("FEATURE_AUTO_PRUNE", "true")],
        );
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let alive = |repository: &str| alive_tags(&address, &token, repository);

    // By count, on one repository: keep the newest tag.
    copy("a", "ns/count:a");
    std::thread::sleep(Duration::from_millis(20));
    copy("b", "ns/count:b");
    let (status, body) = call(
        "POST",
        "/api/v1/repository/ns/count/autoprunepolicy/",
        Some(json!({ "method": "number_of_tags", "value": 1 })),
    );
    assert_eq!(status, 201, "{body}");
    let uuid = body["uuid"].as_str().unwrap().to_string();
    let (_, listed) = call("GET", "/api/v1/repository/ns/count/autoprunepolicy/", None);
    assert_eq!(listed["policies"][0]["method"], "number_of_tags");
    assert_eq!(prune().trim(), "pruned 1 tags");
    assert_eq!(alive("count"), ["b"]);

    // By age, for the whole namespace, only for tags matching a pattern.
    copy("old-1", "ns/age:old-1");
    copy("a", "ns/age:keep");
    let (status, _) = call(
        "POST",
        "/api/v1/user/autoprunepolicy/",
        Some(json!({ "method": "creation_date", "value": "1s", "tagPattern": "^old-" })),
    );
    assert_eq!(status, 201);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(prune().trim(), "pruned 1 tags");
    assert_eq!(alive("age"), ["keep"]);

    // Bad policies are refused; a deleted policy prunes nothing more.
    for bad in [
        json!({ "method": "number_of_tags", "value": 0 }),
        json!({ "method": "creation_date", "value": "soon" }),
        json!({ "method": "whenever", "value": 1 }),
        json!({ "method": "number_of_tags", "value": 1, "tagPattern": "(" }),
    ] {
        let (status, _) = call("POST", "/api/v1/user/autoprunepolicy/", Some(bad.clone()));
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = call(
        "DELETE",
        &format!("/api/v1/repository/ns/count/autoprunepolicy/{uuid}"),
        None,
    );
    assert_eq!(status, 200);
    let (status, _) = call(
        "GET",
        &format!("/api/v1/repository/ns/count/autoprunepolicy/{uuid}"),
        None,
    );
    assert_eq!(status, 404);
}
