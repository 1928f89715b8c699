//! What an operator sees of a running registry: `/metrics` in Prometheus' text format, the
//! access log's JSON lines, with the request id a client can quote, and its memory.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::*;

/// The samples of a scrape, parsed by Prometheus' own Python client (which refuses text that
/// breaks the format): `name{label="value",...}` (labels sorted) to value.
fn scrape(address: &str) -> BTreeMap<String, f64> {
    let text = reqwest::blocking::get(format!("http://{address}/metrics"))
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .unwrap();
    let parser = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
        print(f"{sample.name}{{{labels}}} {sample.value}")
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", parser])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "not Prometheus' text format: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (sample, value) = line.rsplit_once(' ').unwrap();
            (sample.to_string(), value.parse().unwrap())
        })
        .collect()
}

fn value(samples: &BTreeMap<String, f64>, sample: &str) -> f64 {
    samples.get(sample).copied().unwrap_or(0.0)
}

#[test]
fn metrics_count_a_push_and_a_pull() {
    if !have("skopeo") || !have_python_module("prometheus_client") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let quay = Quay::start(&work.path().join("data"), &[], &[]);
    let before = scrape(&quay.address);
    assert_eq!(
        value(&before, r#"quay_build_info{version="0.1.0"}"#),
        1.0,
        "{before:?}"
    );

    let mut layout = Layout::new(&work.path().join("source"));
    let image = layout.image("amd64", &[noise(1, 200_000), noise(2, 10)]);
    layout.tag("v1", image);
    let cache = work.path().join("skopeo-home");
    skopeo_login(&cache, &quay.address);
    let registry = format!("docker://{}/ns/app:v1", quay.address);
    let source = format!("oci:{}:v1", layout.dir.display());
    skopeo(
        &cache,
        &["copy", "-q", "--dest-tls-verify=false", &source, &registry],
    );
    pull(
        &cache,
        &registry,
        &format!("oci:{}:v1", work.path().join("copy").display()),
    );

    let after = scrape(&quay.address);
    let moved = |sample: &str| value(&after, sample) - value(&before, sample);
    assert_eq!(moved("quay_manifest_pushes_total{}"), 1.0);
    assert!(moved("quay_manifest_pulls_total{}") >= 1.0);
    let manifests = "/v2/{name}/manifests/{reference}";
    assert_eq!(
        moved(&format!(
            r#"quay_http_requests_total{{method="PUT",route="{manifests}",status="201"}}"#
        )),
        1.0,
        "{after:?}"
    );
    assert!(
        moved(&format!(
            r#"quay_http_request_duration_seconds_count{{method="GET",route="{manifests}"}}"#
        )) >= 1.0
    );
    // The layers went in and came out again.
    assert!(moved("quay_http_received_bytes_total{}") >= 200_000.0);
    assert!(moved("quay_http_sent_bytes_total{}") >= 200_000.0);
    assert!(moved(r#"quay_cache_lookups_total{cache="repositories",result="hit"}"#) >= 1.0);
    assert!(
        after.contains_key(r#"quay_db_pool_max_connections{}"#) || {
            // The gauges are read every ten seconds; the first reading may still be on its way.
            std::thread::sleep(std::time::Duration::from_secs(11));
            scrape(&quay.address).contains_key("quay_db_pool_max_connections{}")
        }
    );
}

#[test]
fn the_access_log_has_a_json_line_per_request_with_its_id() {
    let work = tempfile::tempdir().unwrap();
    let mut quay = Quay::start(&work.path().join("data"), &["--log-format", "json"], &[]);
    let http = reqwest::blocking::Client::new();
    let refused = http
        .get(format!("http://{}/v2/ns/app/manifests/v1", quay.address))
        .basic_auth(USER, Some(PASSWORD))
        .header("X-Request-Id", "client-chosen-42")
        .send()
        .unwrap();
    assert_eq!(refused.status(), 404);
    assert_eq!(refused.headers()["x-request-id"], "client-chosen-42");
    let body: Value = refused.json().unwrap();
    assert_eq!(body["request_id"], "client-chosen-42");
    assert_eq!(body["errors"][0]["code"], "NAME_UNKNOWN");
    let made = http
        .get(format!("http://{}/api/v1/user/", quay.address))
        .send()
        .unwrap();
    let made_id = made.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(made_id.len() >= 16, "{made_id}");
    let body: Value = made.json().unwrap();
    assert_eq!(body["request_id"], made_id.as_str());

    // A line is written once its response has been sent, maybe after the client read it.
    let logged = |quay: &mut Quay| {
        let logs = quay.logs();
        ["client-chosen-42", made_id.as_str()]
            .iter()
            .all(|id| logs.iter().any(|line| line.contains(id)))
    };
    for _ in 0..100 {
        if logged(&mut quay) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let lines: Vec<Value> = quay
        .logs()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let access = |id: &str| {
        lines
            .iter()
            .find(|line| line["target"] == "quay::access" && line["fields"]["request_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id} in {lines:?}"))["fields"]
            .clone()
    };
    let line = access("client-chosen-42");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/v2/ns/app/manifests/v1");
    assert_eq!(line["route"], "/v2/{name}/manifests/{reference}");
    assert_eq!(line["status"], 404);
    assert_eq!(line["user"], USER);
    assert_eq!(line["client"], "127.0.0.1");
    assert!(line["bytes_sent"].as_u64().unwrap() > 0);
    assert!(line["micros"].as_u64().is_some());
    assert_eq!(line["complete"], true);
    let line = access(&made_id);
    assert_eq!(line["route"], "/api/v1/user/");
    assert_eq!(line["status"], 401);
    assert_eq!(line["user"], "-");
}

/// Starting allocates far more than a running server keeps (the OpenAPI document above all);
/// the server gives those pages back before it listens. Without that it held 13 to 15 MiB
/// of private memory here, with it 5 to 6.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_started_server_has_given_back_what_starting_took() {
    let work = tempfile::tempdir().unwrap();
    let quay = Quay::start(&work.path().join("data"), &[], &[]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", quay.pid())).unwrap();
    let private_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no RssAnon in {status}"));
    assert!(
        private_kib < 9 * 1024,
        "{private_kib} KiB of private memory right after start"
    );
}
