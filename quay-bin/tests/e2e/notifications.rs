//! Notifications end to end: skopeo pushes to the real binary, and a webhook receiver
//! written here takes what the registry sends, or refuses it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use quay_core::events::signature::sign;
use serde_json::{Value, json};

use crate::support::*;

/// One request the receiver took.
struct Received {
    headers: HashMap<String, String>,
    body: Value,
    /// The body as sent, for its signature.
    raw: Vec<u8>,
}

impl Received {
    /// Whether `webhook-signature` is the Standard Webhooks signature of this request with
    /// `secret`.
    fn signed_with(&self, secret: &str) -> bool {
        let timestamp: i64 = self.headers["webhook-timestamp"].parse().unwrap();
        let expected = sign(secret, &self.headers["webhook-id"], timestamp, &self.raw).unwrap();
        self.headers.get("webhook-signature") == Some(&expected.signature)
    }
}

/// A status for [`Receiver::start`]: take the request and never answer it.
const HANG: u16 = 0;

/// An HTTP receiver on 127.0.0.1 that answers each request with the next of `statuses`
/// (then 200; [`HANG`] holds it unanswered) and hands what it received to the test.
struct Receiver {
    url: String,
    received: mpsc::Receiver<Received>,
}

impl Receiver {
    fn start(statuses: &[u16]) -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), statuses)
    }

    /// [`Receiver::start`] on `listener`.
    fn start_on(listener: TcpListener, statuses: &[u16]) -> Self {
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (sender, received) = mpsc::channel();
        let mut statuses = Vec::from(statuses).into_iter();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = HashMap::new();
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    let Some((name, value)) = line.trim_end().split_once(": ") else {
                        break;
                    };
                    headers.insert(name.to_ascii_lowercase(), value.to_string());
                }
                let length: usize = headers["content-length"].parse().unwrap();
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let status = statuses.next().unwrap_or(200);
                if status == HANG {
                    held.push(stream);
                } else {
                    write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .unwrap();
                }
                let received = Received {
                    headers,
                    body: serde_json::from_slice(&body).unwrap(),
                    raw: body,
                };
                if sender.send(received).is_err() {
                    return;
                }
            }
        });
        Self { url, received }
    }

    /// The next request, within `seconds`.
    fn next(&self, seconds: u64) -> Option<Received> {
        self.received
            .recv_timeout(Duration::from_secs(seconds))
            .ok()
    }
}

/// A registry that may send to 127.0.0.1 and retries after a second, whose `ns/app` has a
/// webhook notification to a receiver answering `statuses`.
struct Scene {
    work: tempfile::TempDir,
    env: Vec<(&'static str, &'static str)>,
    /// The node; `None` only while it is replaced.
    quay: Option<Quay>,
    token: String,
    receiver: Receiver,
    /// The notification's API path.
    notification: String,
    /// Its signing key, as its creation showed it.
    signing_secret: String,
}

impl Scene {
    fn start(statuses: &[u16]) -> Self {
        Self::start_with(statuses, &[])
    }

    /// [`Scene::start`], with more of the registry's configuration.
    fn start_with(statuses: &[u16], env: &[(&'static str, &'static str)]) -> Self {
        let work = tempfile::tempdir().unwrap();
        let data = work.path().join("data");
        let mut env = env.to_vec();
        env.extend([
            ("SSRF_ALLOWED_HOSTS", "[127.0.0.1]"),
            ("NOTIFICATION_RETRY_SECONDS", "1"),
        ]);
        let quay = Quay::start(&data, &[], &env);
        let token = access_token(&data, USER);
        let receiver = Receiver::start(statuses);
        let (notification, signing_secret) =
            watched_repository(&quay.address, &token, &receiver.url);
        Self {
            work,
            env,
            quay: Some(quay),
            token,
            receiver,
            notification,
            signing_secret,
        }
    }

    /// kill -9 of the node, and a new one on the same data.
    fn kill_and_restart(&mut self) {
        // Dropped, the process gets SIGKILL.
        drop(self.quay.take());
        let data = self.work.path().join("data");
        self.quay = Some(Quay::start(&data, &[], &self.env));
    }

    fn address(&self) -> &str {
        &self.quay.as_ref().unwrap().address
    }

    fn push(&self, tag: &str) {
        push(self.work.path(), self.address(), "ns/app", tag);
    }

    fn notification(&self) -> Value {
        self.api("GET", "")
    }

    /// Calls the notification's path followed by `rest`, expecting success.
    fn api(&self, method: &str, rest: &str) -> Value {
        let path = format!("{}{rest}", self.notification);
        api_ok(self.address(), &self.token, method, &path, None)
    }
}

/// Pushes a small image as `<repository>:<tag>` with skopeo.
fn push(work: &Path, address: &str, repository: &str, tag: &str) {
    let mut layout = Layout::new(&work.join(format!("layout-{tag}")));
    let image = layout.image("amd64", &[noise(tag.len() as u8, 2048)]);
    layout.tag(tag, image);
    let cache = work.join("skopeo");
    skopeo_login(&cache, address);
    skopeo(
        &cache,
        &[
            "copy",
            "--dest-tls-verify=false",
            &format!("oci:{}:{tag}", layout.dir.display()),
            &format!("docker://{address}/{repository}:{tag}"),
        ],
    );
}

/// `ns/app`, with a webhook notification to `url`; the notification's API path and signing
/// key.
fn watched_repository(address: &str, token: &str, url: &str) -> (String, String) {
    api_ok(
        address,
        token,
        "POST",
        "/api/v1/repository",
        Some(
            json!({"namespace": "ns", "repository": "app", "visibility": "private",
                    "description": ""}),
        ),
    );
    let added = api_ok(
        address,
        token,
        "POST",
        "/api/v1/repository/ns/app/notification/",
        Some(
            json!({"event": "repo_push", "method": "webhook", "config": {"url": url},
                    "eventConfig": {}}),
        ),
    );
    let path = format!(
        "/api/v1/repository/ns/app/notification/{}",
        added["uuid"].as_str().unwrap()
    );
    let secret = added["signing_secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{added}");
    (path, secret.to_string())
}

#[test]
fn a_push_reaches_a_webhook_once_with_its_event() {
    if !have("skopeo") {
        return;
    }
    let scene = Scene::start(&[]);
    scene.push("v1");
    let received = scene.receiver.next(30).expect("no delivery of the push");
    assert_eq!(received.body["updated_tags"], json!(["v1"]));
    assert_eq!(received.body["repository"], "ns/app");
    assert_eq!(received.body["name"], "app");
    assert_eq!(received.headers["content-type"], "application/json");
    assert!(!received.headers["webhook-id"].is_empty());
    let sent_at: i64 = received.headers["webhook-timestamp"].parse().unwrap();
    assert!(sent_at > 1_700_000_000);
    assert!(
        received.signed_with(&scene.signing_secret),
        "{:?}",
        received.headers
    );
    assert!(
        scene.notification().get("signing_secret").is_none(),
        "the key is shown once"
    );
    assert!(scene.receiver.next(3).is_none(), "a push is delivered once");

    // The history shows it; a redelivery sends the same event again.
    let history = scene.api("GET", "/deliveries")["deliveries"].clone();
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    let delivery = &history[0];
    assert_eq!(delivery["state"], "delivered");
    assert_eq!(delivery["event"], "repo_push");
    assert_eq!(
        delivery["event_id"],
        received.headers["webhook-id"].as_str()
    );
    assert_eq!(delivery["attempts"][0]["status_code"], 200);
    let redeliver = format!("/deliveries/{}/redeliver", delivery["id"]);
    scene.api("POST", &redeliver);
    let again = scene.receiver.next(30).expect("no redelivery");
    assert_eq!(again.headers["webhook-id"], received.headers["webhook-id"]);
    assert_eq!(again.body, received.body);

    // A test sends the event's sample data.
    assert_eq!(scene.api("POST", "/test"), json!({}));
    let sample = scene.receiver.next(30).expect("no test delivery");
    assert_eq!(sample.body["updated_tags"], json!(["latest"]));
    assert_eq!(sample.body["pruned_image_count"], 3);
    assert_eq!(sample.body["repository"], "ns/app");

    // A rotated key signs what follows; the old one no longer does.
    let rotated = scene.api("POST", "/secret")["signing_secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(rotated, scene.signing_secret);
    scene.api("POST", "/test");
    let signed = scene.receiver.next(30).expect("no test delivery");
    assert!(signed.signed_with(&rotated));
    assert!(!signed.signed_with(&scene.signing_secret));
}

#[test]
fn three_failures_disable_a_webhook_until_it_is_reset() {
    if !have("skopeo") {
        return;
    }
    let scene = Scene::start(&[500, 502, 503]);
    scene.push("v1");
    // The same event three times (a second apart), then nothing: the notification is off.
    let ids: Vec<String> = (0..3)
        .map(|_| scene.receiver.next(30).expect("no retry").headers["webhook-id"].clone())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(scene.receiver.next(3).is_none());
    assert_eq!(scene.notification()["number_of_failures"], 3);
    let history = scene.api("GET", "/deliveries");
    let delivery = &history["deliveries"][0];
    assert_eq!(delivery["state"], "given_up");
    let statuses: Vec<&Value> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| &attempt["status_code"])
        .collect();
    assert_eq!(statuses, [500, 502, 503]);
    assert_eq!(
        delivery["attempts"][2]["error"],
        "the receiver answered 503"
    );

    scene.push("v2");
    assert!(
        scene.receiver.next(3).is_none(),
        "a disabled notification sends nothing"
    );

    scene.api("POST", "");
    assert_eq!(scene.notification()["number_of_failures"], 0);
    scene.push("v3");
    let received = scene
        .receiver
        .next(30)
        .expect("no delivery after the reset");
    assert_eq!(received.body["updated_tags"], json!(["v3"]));
}

#[test]
fn a_delivery_survives_kill_9_of_the_node_sending_it() {
    if !have("skopeo") {
        return;
    }
    // The receiver holds the first request unanswered, and the node is killed while it
    // waits: the delivery was claimed and never finished.
    let mut scene = Scene::start_with(&[HANG], &[("NOTIFICATION_SEND_TIMEOUT", "2")]);
    scene.push("v1");
    let first = scene.receiver.next(30).expect("no first attempt");
    scene.kill_and_restart();
    // Its lease lapses, and the new node sends it again: the same event, the same id.
    let again = scene.receiver.next(30).expect("nothing after the restart");
    assert_eq!(again.headers["webhook-id"], first.headers["webhook-id"]);
    assert_eq!(again.body, first.body);
    let history = scene.api("GET", "/deliveries");
    let delivery = &history["deliveries"][0];
    assert_eq!(delivery["state"], "delivered");
    // The attempt the killed node made was never recorded; the one that worked was.
    assert_eq!(
        delivery["attempts"].as_array().unwrap().len(),
        1,
        "{history}"
    );
}

#[test]
fn a_thousand_pushes_through_two_nodes_on_postgresql_are_each_delivered() {
    if !have("skopeo") {
        return;
    }
    let Some(database) = PostgresDatabase::create() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    // Nodes that share a database share the key that seals signing keys.
    let env = [
        ("DB_URI", database.uri.as_str()),
        ("DATABASE_SECRET_KEY", "one key for the whole deployment"),
        ("SSRF_ALLOWED_HOSTS", "[127.0.0.1]"),
    ];
    let nodes = [
        Quay::start(&work.path().join("a"), &[], &env),
        Quay::start(&work.path().join("b"), &[], &env),
    ];
    let token = access_token_with(&work.path().join("a"), USER, &env);
    push(work.path(), &nodes[0].address, "ns/app", "base");
    let receiver = Receiver::start(&[]);
    let added = api_ok(
        &nodes[0].address,
        &token,
        "POST",
        "/api/v1/repository/ns/app/notification/",
        Some(json!({"event": "repo_push", "method": "webhook",
                    "config": {"url": receiver.url}, "eventConfig": {}})),
    );
    let secret = added["signing_secret"].as_str().unwrap().to_string();

    // The same manifest under a thousand tags, half through each node.
    let http = reqwest::blocking::Client::new();
    let manifest = http
        .get(format!(
            "http://{}/v2/ns/app/manifests/base",
            nodes[0].address
        ))
        .header("Authorization", basic_auth())
        .header("Accept", OCI_MANIFEST)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    const PUSHES: usize = 1000;
    for n in 0..PUSHES {
        let status = http
            .put(format!(
                "http://{}/v2/ns/app/manifests/t{n}",
                nodes[n % 2].address
            ))
            .header("Authorization", basic_auth())
            .header("Content-Type", OCI_MANIFEST)
            .body(manifest.clone())
            .send()
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 201, "push {n}");
    }

    // Every push arrives, signed, with an id of its own; none is lost.
    let mut events = HashMap::new();
    while events.len() < PUSHES {
        let received = receiver
            .next(60)
            .unwrap_or_else(|| panic!("{} of {PUSHES} delivered", events.len()));
        assert!(received.signed_with(&secret));
        let tag = received.body["updated_tags"][0]
            .as_str()
            .unwrap()
            .to_string();
        if let Some(earlier) = events.insert(received.headers["webhook-id"].clone(), tag.clone()) {
            assert_eq!(earlier, tag, "one id, one event");
        }
    }
    let mut tags: Vec<&String> = events.values().collect();
    tags.sort_unstable();
    tags.dedup();
    assert_eq!(tags.len(), PUSHES, "each push its own event");
}

#[test]
fn notify_once_sends_what_is_due_and_says_how_much() {
    if !have("skopeo") {
        return;
    }
    // A receiver that is not there yet: its port is free, so connections are refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let env = [
        ("SSRF_ALLOWED_HOSTS", "[127.0.0.1]"),
        ("NOTIFICATION_RETRY_SECONDS", "5"),
    ];
    let quay = Quay::start(&data, &[], &env);
    let token = access_token(&data, USER);
    let (notification, secret) = watched_repository(&quay.address, &token, &url);
    push(work.path(), &quay.address, "ns/app", "v1");
    // The node's attempt fails; it is stopped before the retry is due.
    let history = format!("{notification}/deliveries");
    let attempted = || {
        let history = api_ok(&quay.address, &token, "GET", &history, None);
        history["deliveries"][0]["attempts"]
            .as_array()
            .is_some_and(|attempts| !attempts.is_empty())
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !attempted() {
        assert!(std::time::Instant::now() < deadline, "no first attempt");
        std::thread::sleep(Duration::from_millis(100));
    }
    let failed_at = std::time::Instant::now();
    quay.terminate();

    let receiver = Receiver::start_on(TcpListener::bind(("127.0.0.1", port)).unwrap(), &[]);
    std::thread::sleep(Duration::from_secs(5).saturating_sub(failed_at.elapsed()));
    let data_dir = data.to_str().unwrap();
    let output = run_quay(&["notify", "--once", "--data-dir", data_dir], &env);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "delivered 1"
    );
    let received = receiver.next(5).expect("notify sent nothing");
    assert_eq!(received.body["updated_tags"], json!(["v1"]));
    assert!(received.signed_with(&secret));
}

#[test]
fn a_quota_warning_reaches_namespace_notifications_once_per_crossing() {
    if !have("skopeo") {
        return;
    }
    let scene = Scene::start_with(
        &[],
        &[
            ("FEATURE_QUOTA_MANAGEMENT", "true"),
            ("SUPER_USERS", "[root]"),
        ],
    );
    let data = scene.work.path().join("data");
    create_user(&data, &[], &scene.env, ROOT, PASSWORD);
    let root = access_token(&data, ROOT);
    let call = |token: &str, method: &str, path: &str, body: Value| {
        api_ok(scene.address(), token, method, path, Some(body))
    };
    call(
        &scene.token,
        "POST",
        "/api/v1/organization/",
        json!({"name": "team"}),
    );
    // A warning from 1 % of 100 KiB: any image crosses it.
    call(
        &root,
        "POST",
        "/api/v1/superuser/organization/team/quota",
        json!({"limit": "100 KiB"}),
    );
    let quotas = api_ok(
        scene.address(),
        &root,
        "GET",
        "/api/v1/superuser/organization/team/quota",
        None,
    );
    call(
        &root,
        "POST",
        &format!("/api/v1/organization/team/quota/{}/limit", quotas[0]["id"]),
        json!({"type": "Warning", "threshold_percent": 1}),
    );
    call(
        &scene.token,
        "POST",
        "/api/v1/organization/team/notifications",
        json!({"event": "quota_warning", "method": "webhook",
               "config": {"url": scene.receiver.url}, "eventConfig": {}}),
    );
    // The organization's pushes tell the superuser in the app, through a notification.
    call(
        &scene.token,
        "POST",
        "/api/v1/repository",
        json!({"namespace": "team", "repository": "app", "visibility": "private",
               "description": ""}),
    );
    call(
        &scene.token,
        "POST",
        "/api/v1/repository/team/app/notification/",
        json!({"event": "repo_push", "method": "quay_notification",
               "config": {"target": {"kind": "user", "name": ROOT}}, "eventConfig": {}}),
    );

    push(scene.work.path(), scene.address(), "team/app", "v1");
    let warning = scene.receiver.next(30).expect("no quota warning");
    assert_eq!(warning.body["namespace"], "team", "{}", warning.body);
    assert_eq!(warning.body["threshold_percent"], 1);
    assert_eq!(warning.body["limit_bytes"], 100 * 1024);
    assert!(warning.body["usage_bytes"].as_u64().unwrap() > 1024);
    assert_eq!(warning.body["limit_bytes_formatted"], "100.0 KiB");
    assert!(
        warning.body["homepage"]
            .as_str()
            .unwrap()
            .ends_with("/organization/team"),
        "{}",
        warning.body
    );
    // Still over the threshold: not crossed again, not sent again.
    push(scene.work.path(), scene.address(), "team/app", "v2");
    assert!(
        scene.receiver.next(3).is_none(),
        "the warning was sent twice"
    );

    let told = |kind: &str| -> Vec<Value> {
        let listed = api_ok(
            scene.address(),
            &root,
            "GET",
            "/api/v1/user/notifications",
            None,
        );
        listed["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|notice| notice["kind"] == kind)
            .cloned()
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while told("repo_push").len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            told("repo_push")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut tags: Vec<Value> = told("repo_push")
        .iter()
        .map(|notice| notice["metadata"]["updated_tags"][0].clone())
        .collect();
    tags.sort_by_key(|tag| tag.to_string());
    assert_eq!(tags, [json!("v1"), json!("v2")]);
    assert_eq!(told("repo_push")[0]["organization"], "team");
    // The superuser is no admin of the organization: quota warnings are not theirs.
    assert!(told("quota_warning").is_empty());
}

#[test]
fn an_expiring_tag_is_told_once() {
    if !have("skopeo") {
        return;
    }
    let scene = Scene::start_with(&[], &[("NOTIFICATION_EXPIRY_SCAN_SECONDS", "1")]);
    scene.push("v1");
    scene.push("v2");
    for _ in 0..2 {
        scene.receiver.next(30).expect("no delivery of a push");
    }
    let address = scene.address();
    api_ok(
        address,
        &scene.token,
        "POST",
        "/api/v1/repository/ns/app/notification/",
        Some(json!({"event": "repo_image_expiry", "method": "webhook",
                    "config": {"url": scene.receiver.url}, "eventConfig": {"days": 2}})),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expire = |tag: &str, in_seconds: u64| {
        api_ok(
            address,
            &scene.token,
            "PUT",
            &format!("/api/v1/repository/ns/app/tag/{tag}"),
            Some(json!({ "expiration": now + in_seconds })),
        );
    };
    // Within the two days, and not.
    expire("v1", 86_400);
    expire("v2", 5 * 86_400);
    let told = scene.receiver.next(30).expect("no expiry event");
    assert_eq!(told.body["tags"], json!(["v1"]), "{}", told.body);
    assert_eq!(told.body["expiring_in"], "2 days");
    assert_eq!(told.body["repository"], "ns/app");
    assert!(scene.receiver.next(3).is_none(), "v1 was told twice");

    // v2 comes within the window: only it is told.
    expire("v2", 86_400);
    let told = scene.receiver.next(30).expect("no expiry event for v2");
    assert_eq!(told.body["tags"], json!(["v2"]), "{}", told.body);
}

/// An SMTP server on 127.0.0.1 (`aiosmtpd`) that keeps what it receives in a maildir.
struct SmtpSink {
    child: std::process::Child,
    maildir: tempfile::TempDir,
    port: u16,
    /// The messages already taken.
    taken: std::cell::RefCell<std::collections::HashSet<std::ffi::OsString>>,
}

impl SmtpSink {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            // A directory of its own making: it refuses one that is not a maildir yet.
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            maildir,
            port,
            taken: Default::default(),
        }
    }

    /// The next message to arrive within `seconds`, its soft line breaks undone.
    fn next(&self, seconds: u64) -> Option<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let arrived = std::fs::read_dir(self.maildir.path().join("mail/new"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path())
                .find(|path| !self.taken.borrow().contains(path.as_os_str()));
            if let Some(path) = arrived {
                self.taken
                    .borrow_mut()
                    .insert(path.clone().into_os_string());
                let raw = std::fs::read_to_string(&path).unwrap();
                return Some(
                    raw.replace("=\r\n", "")
                        .replace("=\n", "")
                        .replace("=3D", "="),
                );
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn email_goes_to_authorized_addresses_and_a_quota_warning_reaches_email_and_webhook() {
    if !have("skopeo") || !have_python_module("aiosmtpd") {
        return;
    }
    let smtp = SmtpSink::start();
    let port: &'static str = Box::leak(smtp.port.to_string().into_boxed_str());
    let scene = Scene::start_with(
        &[],
        &[
            ("FEATURE_MAILING", "true"),
            ("MAIL_SERVER", "127.0.0.1"),
            ("MAIL_PORT", port),
            ("MAIL_USE_TLS", "false"),
            ("MAIL_DEFAULT_SENDER", "registry@example.com"),
            ("FEATURE_QUOTA_MANAGEMENT", "true"),
            ("SUPER_USERS", "[root]"),
        ],
    );
    let address = scene.address();
    let by_mail = |event: &str, email: &str| {
        json!({"event": event, "method": "email", "config": {"email": email},
               "eventConfig": {}})
    };
    let add = "/api/v1/repository/ns/app/notification/";
    // An address nobody confirmed is refused.
    let (status, body) = api(
        address,
        &scene.token,
        "POST",
        add,
        Some(by_mail("repo_push", "dev@example.com")),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error_message"]
            .as_str()
            .unwrap()
            .contains("authorizedemail"),
        "{body}"
    );

    // The address is mailed a link; following it confirms it.
    let authorize = "/api/v1/repository/ns/app/authorizedemail/dev@example.com";
    let asked = api_ok(address, &scene.token, "POST", authorize, None);
    assert_eq!(asked["confirmed"], false, "{asked}");
    let mail = smtp.next(20).expect("no confirmation mail");
    assert!(mail.contains("To: dev@example.com"), "{mail}");
    assert!(mail.contains("From: registry@example.com"), "{mail}");
    let code = mail
        .split("authrepoemail?code=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no link in {mail}"));
    let page = exchange(
        address,
        &format!("GET /authrepoemail?code={code} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        b"",
    );
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("dev@example.com"), "{page}");
    assert_eq!(
        api_ok(address, &scene.token, "GET", authorize, None)["confirmed"],
        true
    );

    // Now the address takes the repository's pushes.
    api_ok(
        address,
        &scene.token,
        "POST",
        add,
        Some(by_mail("repo_push", "dev@example.com")),
    );
    scene.push("v1");
    let pushed = smtp.next(30).expect("no mail of the push");
    assert!(pushed.contains("To: dev@example.com"), "{pushed}");
    assert!(pushed.contains("ns/app"), "{pushed}");
    assert!(pushed.contains("v1"), "{pushed}");
    scene.receiver.next(30).expect("no webhook of the push");

    // A quota warning reaches the organization's address and its webhook.
    let data = scene.work.path().join("data");
    create_user(&data, &[], &scene.env, ROOT, PASSWORD);
    let root = access_token(&data, ROOT);
    api_ok(
        address,
        &scene.token,
        "POST",
        "/api/v1/organization/",
        Some(json!({"name": "team", "email": "team@example.com"})),
    );
    api_ok(
        address,
        &root,
        "POST",
        "/api/v1/superuser/organization/team/quota",
        Some(json!({"limit": "100 KiB"})),
    );
    let quotas = api_ok(
        address,
        &root,
        "GET",
        "/api/v1/superuser/organization/team/quota",
        None,
    );
    api_ok(
        address,
        &root,
        "POST",
        &format!("/api/v1/organization/team/quota/{}/limit", quotas[0]["id"]),
        Some(json!({"type": "Warning", "threshold_percent": 1})),
    );
    let notifications = "/api/v1/organization/team/notifications";
    let (status, body) = api(
        address,
        &scene.token,
        "POST",
        notifications,
        Some(by_mail("quota_warning", "someone@example.com")),
    );
    assert_eq!(
        status, 400,
        "only the namespace's or its admins' addresses: {body}"
    );
    api_ok(
        address,
        &scene.token,
        "POST",
        notifications,
        Some(by_mail("quota_warning", "team@example.com")),
    );
    api_ok(
        address,
        &scene.token,
        "POST",
        notifications,
        Some(json!({"event": "quota_warning", "method": "webhook",
                    "config": {"url": scene.receiver.url}, "eventConfig": {}})),
    );
    push(scene.work.path(), address, "team/app", "v1");
    let warned = smtp.next(30).expect("no mail of the quota warning");
    assert!(warned.contains("To: team@example.com"), "{warned}");
    assert!(warned.contains("team"), "{warned}");
    let hooked = scene
        .receiver
        .next(30)
        .expect("no webhook of the quota warning");
    assert_eq!(hooked.body["namespace"], "team");
    assert_eq!(hooked.body["threshold_percent"], 1);

    // An export of the organization's log mails its link.
    api_ok(
        address,
        &scene.token,
        "POST",
        "/api/v1/organization/team/exportlogs",
        Some(json!({"callback_email": "team@example.com"})),
    );
    let ready = smtp.next(30).expect("no mail of the export");
    assert!(ready.contains("To: team@example.com"), "{ready}");
    assert!(ready.contains("/exportedlogs/"), "{ready}");
}

#[test]
fn an_export_of_ten_thousand_entries_arrives_complete_and_ordered() {
    if !have("curl") {
        return;
    }
    let scene = Scene::start(&[]);
    let data = scene.work.path().join("data");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    // Ten thousand pulls of ns/app, a second apart, the last a minute ago.
    sql(
        &data,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
             INSERT INTO log_entry (kind, namespace_id, repository_id, metadata, at_ms)
             SELECT 'pull_repo', r.namespace_id, r.id, '{{\"i\": ' || i || '}}',
                    {} - (10000 - i) * 1000
             FROM n, repository r WHERE r.name = 'app'",
            now_ms - 60_000
        ),
    );
    let address = scene.address();
    let export = "/api/v1/repository/ns/app/exportlogs";
    let (status, body) = api(
        address,
        &scene.token,
        "POST",
        export,
        Some(json!({"callback_url": "ftp://example.com/x"})),
    );
    assert_eq!(
        (status, body["error_message"].as_str()),
        (400, Some("Invalid callback URL"))
    );
    let queued = api_ok(
        address,
        &scene.token,
        "POST",
        export,
        Some(json!({"callback_url": scene.receiver.url})),
    );
    let export_id = queued["export_id"].as_str().unwrap();

    let called = scene.receiver.next(60).expect("no callback");
    assert_eq!(called.body["export_id"], export_id, "{}", called.body);
    assert_eq!(called.body["status"], "success");
    assert_eq!(called.body["namespace"], "ns");
    assert_eq!(called.body["repository"], "app");
    let link = served_link(address, &called);
    let document: Value = serde_json::from_str(&run("curl", &["-sf", &link])).unwrap();
    assert_eq!(document["export_id"], export_id);
    let logs = document["logs"].as_array().unwrap();
    assert_eq!(logs.last().unwrap(), &json!({"terminator": true}));
    let pulls: Vec<u64> = logs
        .iter()
        .filter(|entry| entry["kind"] == "pull_repo")
        .map(|entry| entry["metadata"]["i"].as_u64().unwrap())
        .collect();
    let newest_first: Vec<u64> = (1..=10_000).rev().collect();
    assert_eq!(pulls, newest_first, "complete, newest first");
    assert!(logs.iter().any(|entry| entry["kind"] == "create_repo"));

    // The link is the document's only key.
    let wrong = link.replace("token=", "token=0");
    let refused = std::process::Command::new("curl")
        .args(["-sf", &wrong])
        .status()
        .unwrap();
    assert!(!refused.success(), "a wrong token reads nothing");
    // And the export is in the usage log.
    let logged = api_ok(
        address,
        &scene.token,
        "GET",
        "/api/v1/repository/ns/app/logs",
        None,
    );
    assert!(
        logged["logs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["kind"] == "export_logs_success"
                && entry["metadata"]["export_id"] == export_id),
        "{logged}"
    );
}

/// The link of an export's success callback, on the test's node.
fn served_link(address: &str, called: &Received) -> String {
    let link = called.body["exported_data_url"].as_str().unwrap();
    let path = &link[link.find("/exportedlogs/").expect(link)..];
    format!("http://{address}{path}")
}

/// An export is recorded before anyone is told its link: while the callback that carries it
/// still waits for its answer, the link already downloads the document.
#[test]
fn an_exports_link_works_while_its_callback_still_waits() {
    if !have("curl") {
        return;
    }
    let scene = Scene::start(&[HANG]);
    let address = scene.address();
    let queued = api_ok(
        address,
        &scene.token,
        "POST",
        "/api/v1/repository/ns/app/exportlogs",
        Some(json!({"callback_url": scene.receiver.url})),
    );
    let called = scene.receiver.next(60).expect("no callback");
    assert_eq!(called.body["export_id"], queued["export_id"]);
    let link = served_link(address, &called);
    let document: Value = serde_json::from_str(&run("curl", &["-sf", &link])).unwrap();
    assert_eq!(document["export_id"], queued["export_id"]);
    let logs = document["logs"].as_array().unwrap();
    assert_eq!(logs.last().unwrap(), &json!({"terminator": true}));
}

#[test]
fn an_export_whose_callback_keeps_failing_is_given_up_and_says_so() {
    let scene = Scene::start(&[500, 500, 500, 500, 500]);
    let queued = api_ok(
        scene.address(),
        &scene.token,
        "POST",
        "/api/v1/user/exportlogs",
        Some(json!({"callback_url": scene.receiver.url})),
    );
    // Five attempts a second apart, each told the link; then the failure.
    for _ in 0..5 {
        let called = scene.receiver.next(30).expect("no callback");
        assert_eq!(called.body["status"], "success", "{}", called.body);
    }
    let failed = scene.receiver.next(30).expect("no failure callback");
    assert_eq!(failed.body["export_id"], queued["export_id"]);
    assert_eq!(failed.body["status"], "failed");
    assert_eq!(failed.body["exported_data_url"], Value::Null);
    assert!(scene.receiver.next(3).is_none(), "given up once");
}
