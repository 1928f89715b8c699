//! Upstream registries for the pull-through proxy cache to pull from: a real one (the CNCF
//! distribution registry, as Debian packages it) and a pass-through proxy in front of it
//! that counts the requests it sees and fails them as a test tells it to.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Body;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use reqwest::redirect::Policy;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::support::{
    Layout, OCI_INDEX, OCI_MANIFEST, Quay, USER, access_token, api_ok, have, layout_contents,
    noise, sha256, skopeo, skopeo_login,
};

/// A running `docker-registry serve` (distribution 2.8): plain HTTP, no authentication,
/// deletes enabled, its storage in a directory of its own, killed when dropped.
pub struct DockerRegistry {
    /// `127.0.0.1:PORT`.
    pub address: String,
    child: Child,
    // Dropped after the child is killed (fields drop after `Drop::drop`).
    dir: tempfile::TempDir,
}

impl DockerRegistry {
    /// Starts a registry on a free port and waits until it answers; `None` (the test
    /// skips) where `docker-registry` is not installed.
    pub fn start() -> Option<Self> {
        if !have("docker-registry") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let address = format!("127.0.0.1:{}", free_port());
        let config = dir.path().join("config.yml");
        // The access log bypasses the log level, hence turned off on its own; without a
        // secret the registry warns that it made one up, on every start.
        std::fs::write(
            &config,
            format!(
                "version: 0.1\n\
                 log:\n  level: warn\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 http:\n  addr: {address}\n  secret: quay-rs-e2e\n",
                dir.path().join("storage").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let mut command = Command::new("docker-registry");
        command
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        // The registry reads `REGISTRY_*` variables as configuration (`REGISTRY_AUTH_FILE`,
        // meant for skopeo, would be taken for `auth.file`).
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("REGISTRY_") {
                command.env_remove(name);
            }
        }
        let child = command.spawn().unwrap();
        let mut registry = Self {
            address,
            child,
            dir,
        };
        registry.wait_until_serving();
        Some(registry)
    }

    fn wait_until_serving(&mut self) {
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let url = format!("http://{}/v2/", self.address);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("docker-registry exited ({status}): {}", self.log());
            }
            if http
                .get(&url)
                .send()
                .is_ok_and(|response| response.status() == StatusCode::OK)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "docker-registry did not answer on {} within 10 s: {}",
            self.address,
            self.log()
        );
    }

    /// Where the registry keeps the bytes of blob `digest` (`sha256:<hex>`): a test that
    /// changes them makes the registry serve content that does not match its digest.
    pub fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// What the registry logged (warnings and errors only).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Copies the image `tag_in_layout` of the OCI layout `layout_dir` (all of an index's
    /// platforms, digests kept) to `repo_and_tag` (`library/app:v1`) in this registry.
    pub fn push(&self, layout_dir: &Path, tag_in_layout: &str, repo_and_tag: &str) {
        // A skopeo home of the registry's own: no credentials or blob caches of the user's
        // or of other tests.
        let cache = self.dir.path().join("skopeo-home");
        skopeo(
            &cache,
            &[
                "copy",
                "-q",
                "--all",
                "--preserve-digests",
                "--dest-tls-verify=false",
                &format!("oci:{}:{tag_in_layout}", layout_dir.display()),
                &format!("docker://{}/{repo_and_tag}", self.address),
            ],
        );
    }
}

impl Drop for DockerRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on just now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// How [`FaultyProxy`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwards requests to the upstream, and its answers back.
    Pass,
    /// Answers every request with this status and an OCI error body (`Retry-After: 1` with
    /// a 429).
    Status(u16),
    /// Answers the next request whose path contains `path_contains` with `status`, as
    /// [`Fault::Status`] does, and passes every other request on.
    StatusOnce {
        /// The status.
        status: u16,
        /// What the failed request's path contains.
        path_contains: &'static str,
    },
    /// Accepts requests and answers none until the fault changes (then as it says).
    Hang,
    /// Does not listen: connecting is refused, and open connections are closed.
    Down,
}

/// An HTTP pass-through proxy between a registry under test and its upstream: it records
/// the requests it sees and fails them as told ([`FaultyProxy::set_fault`]). Bodies stream
/// both ways, nothing is decompressed, redirects are passed back, not followed. Stopped when
/// dropped.
///
/// It runs on a runtime of its own and blocks on it in its methods, so it is for
/// synchronous tests (as all of these are).
pub struct FaultyProxy {
    /// `127.0.0.1:PORT`, the same whatever the faults.
    pub address: String,
    shared: Arc<Shared>,
    serving: Mutex<Option<Serving>>,
    runtime: tokio::runtime::Runtime,
}

/// What the proxy's connections share with it.
struct Shared {
    upstream: String,
    address: String,
    client: reqwest::Client,
    fault: watch::Sender<Fault>,
    delay: Mutex<Option<Duration>>,
    requests: Mutex<Vec<(String, String)>>,
}

/// The accept loop, while the proxy listens.
struct Serving {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl FaultyProxy {
    /// Starts passing requests through to `upstream` (`127.0.0.1:PORT`, plain HTTP), on a
    /// free port.
    pub fn start(upstream: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let shared = Arc::new(Shared {
            upstream: upstream.to_string(),
            address: address.clone(),
            client,
            fault: watch::Sender::new(Fault::Pass),
            delay: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
        });
        let serving = Serving::start(&runtime, listener, &shared);
        Self {
            address,
            shared,
            serving: Mutex::new(Some(serving)),
            runtime,
        }
    }

    /// Answers from now on as `fault` says. [`Fault::Down`] has stopped listening when this
    /// returns; any other fault after it listens again, on the same address.
    pub fn set_fault(&self, fault: Fault) {
        let mut serving = lock(&self.serving);
        self.shared.fault.send_replace(fault);
        if fault == Fault::Down {
            if let Some(serving) = serving.take() {
                serving.stop(&self.runtime);
            }
        } else if serving.is_none() {
            // Rebinding a port just closed works: Tokio sets SO_REUSEADDR.
            let listener = self
                .runtime
                .block_on(TcpListener::bind(&self.address))
                .unwrap();
            *serving = Some(Serving::start(&self.runtime, listener, &self.shared));
        }
    }

    /// Holds every request this long before forwarding it, so that concurrent requests
    /// overlap upstream; `None` forwards at once.
    pub fn set_delay(&self, delay: Option<Duration>) {
        *lock(&self.shared.delay) = delay;
    }

    /// Every request seen, faulted or not, as (method, path and query), in order of arrival.
    pub fn requests(&self) -> Vec<(String, String)> {
        lock(&self.shared.requests).clone()
    }

    /// How many requests with `method` had a path (and query) containing `path_contains`.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        lock(&self.shared.requests)
            .iter()
            .filter(|(seen, path)| seen == method && path.contains(path_contains))
            .count()
    }

    /// Forgets the requests seen so far.
    pub fn reset(&self) {
        lock(&self.shared.requests).clear();
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        if let Some(serving) = lock(&self.serving).take() {
            serving.stop(&self.runtime);
        }
    }
}

/// A lock, whether or not a panicking test thread poisoned it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Serving {
    fn start(
        runtime: &tokio::runtime::Runtime,
        listener: TcpListener,
        shared: &Arc<Shared>,
    ) -> Self {
        let (stop, stopped) = oneshot::channel();
        let task = runtime.spawn(accept(listener, Arc::clone(shared), stopped));
        Self { stop, task }
    }

    /// Closes the listener and every connection, and waits until they are closed: a client
    /// connecting afterwards is refused, one on a kept-alive connection sees it closed.
    fn stop(self, runtime: &tokio::runtime::Runtime) {
        let _ = self.stop.send(());
        let _ = runtime.block_on(self.task);
    }
}

/// Serves each connection `listener` accepts until `stop`.
async fn accept(listener: TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<()>) {
    // The connections are the loop's, so that stopping it closes them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors, say: do not spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        forward(Arc::clone(&shared), request)
                    });
                    // Errors are the client's going away, or a fault closing it.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// Headers that are the connection's, not the message's (RFC 9110, 7.6.1), and `Host`,
/// which the forwarded request sets for the upstream.
fn hop_by_hop(name: &HeaderName) -> bool {
    [
        header::CONNECTION,
        header::HOST,
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ]
    .contains(name)
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

/// Answers one request as the fault says: the upstream's answer, an error, or none.
async fn forward(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Box<dyn std::error::Error + Send + Sync>> {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str())
        .to_string();
    lock(&shared.requests).push((request.method().to_string(), path.clone()));
    let mut faults = shared.fault.subscribe();
    let fault = loop {
        let fault = *faults.borrow_and_update();
        if fault != Fault::Hang {
            break fault;
        }
        // The sender lives as long as the proxy, which ends this task before it goes.
        if faults.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    match fault {
        Fault::Pass | Fault::Hang => {}
        Fault::Status(status) => return Ok(error_response(status)),
        Fault::StatusOnce {
            status,
            path_contains,
        } if path.contains(path_contains) => {
            // Of requests arriving together, the one that turns the fault off fails.
            let first = shared.fault.send_if_modified(|current| {
                let once = *current == fault;
                if once {
                    *current = Fault::Pass;
                }
                once
            });
            if first {
                return Ok(error_response(status));
            }
        }
        Fault::StatusOnce { .. } => {}
        // Only a request racing the listener's closing gets here: closing its connection
        // is what a stopped server would have done.
        Fault::Down => return Err("the proxy is down".into()),
    }
    let delay = *lock(&shared.delay);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }

    let (parts, body) = request.into_parts();
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            headers.append(name, value.clone());
        }
    }
    let mut upstream = shared
        .client
        .request(parts.method, format!("http://{}{path}", shared.upstream))
        .headers(headers);
    // A request without a body is sent without one (a stream, even empty, would be sent
    // chunked).
    if !hyper::body::Body::is_end_stream(&body) {
        upstream = upstream.body(reqwest::Body::wrap_stream(
            Body::new(body).into_data_stream(),
        ));
    }
    let Ok(answer) = upstream.send().await else {
        // What a reverse proxy answers when its upstream does not.
        return Ok(error_response(502));
    };

    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if hop_by_hop(name) {
            continue;
        }
        // Redirects (blob downloads, uploads) keep going through the proxy.
        let value = match (name == header::LOCATION, value.to_str()) {
            (true, Ok(location)) => {
                HeaderValue::from_str(&location.replace(&shared.upstream, &shared.address))?
            }
            _ => value.clone(),
        };
        response = response.header(name, value);
    }
    Ok(response.body(Body::from_stream(answer.bytes_stream()))?)
}

/// A registry's error answer (the OCI distribution error format) with `status`.
fn error_response(status: u16) -> Response<Body> {
    let code = match status {
        401 => "UNAUTHORIZED",
        403 => "DENIED",
        404 => "NAME_UNKNOWN",
        429 => "TOOMANYREQUESTS",
        503 => "UNAVAILABLE",
        _ => "UNKNOWN",
    };
    let body = serde_json::json!({ "errors": [{ "code": code, "message": "injected" }] });
    let mut response = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json");
    if status == 429 {
        response = response.header(header::RETRY_AFTER, "1");
    }
    response.body(Body::from(body.to_string())).unwrap()
}

#[test]
fn the_test_upstreams_serve_and_fail_as_told() {
    if !have("skopeo") {
        return;
    }
    let Some(registry) = DockerRegistry::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let mut layout = Layout::new(&work.path().join("source"));
    let big = noise(31, 8 << 20);
    let image = layout.image("amd64", &[big.clone(), noise(32, 1000)]);
    layout.tag("v1", image);
    registry.push(&layout.dir, "v1", "library/app:v1");
    let (_, digest) = layout_contents(&layout.dir, "v1");

    let proxy = FaultyProxy::start(&registry.address);
    let base = format!("http://{}/v2/library/app", proxy.address);
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let accept = format!("{OCI_MANIFEST}, {OCI_INDEX}");
    let manifest = http
        .get(format!("{base}/manifests/v1"))
        .header("Accept", &accept)
        .send()
        .unwrap();
    assert_eq!(manifest.status(), StatusCode::OK);
    assert_eq!(manifest.headers()["docker-content-digest"], digest.as_str());
    let manifest = manifest.bytes().unwrap();
    assert_eq!(sha256(&manifest).as_str(), digest);
    let layer = sha256(&big);
    let blob = http
        .get(format!("{base}/blobs/{}", layer.as_str()))
        .send()
        .unwrap();
    assert_eq!(blob.status(), StatusCode::OK);
    assert!(blob.bytes().unwrap() == big, "the blob differs");
    // A HEAD keeps the length of the body it does not have.
    let head = http
        .head(format!("{base}/blobs/{}", layer.as_str()))
        .send()
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()["content-length"],
        big.len().to_string().as_str()
    );
    assert_eq!(proxy.count("GET", "/manifests/"), 1);
    assert_eq!(
        proxy.requests()[0],
        (
            "GET".to_string(),
            "/v2/library/app/manifests/v1".to_string()
        )
    );

    // A push through the proxy: request bodies stream, upload locations name the proxy.
    skopeo(
        &work.path().join("skopeo-home"),
        &[
            "copy",
            "-q",
            "--preserve-digests",
            "--dest-tls-verify=false",
            &format!("oci:{}:v1", layout.dir.display()),
            &format!("docker://{}/library/copy:v1", proxy.address),
        ],
    );
    assert!(
        proxy.count("PATCH", "/library/copy/blobs/uploads/")
            + proxy.count("PUT", "/library/copy/blobs/uploads/")
            > 0
    );
    let copied = http
        .get(format!(
            "http://{}/v2/library/copy/manifests/v1",
            registry.address
        ))
        .header("Accept", &accept)
        .send()
        .unwrap();
    assert_eq!(copied.status(), StatusCode::OK);
    assert_eq!(sha256(&copied.bytes().unwrap()).as_str(), digest);

    // Concurrent requests are served concurrently.
    proxy.reset();
    proxy.set_delay(Some(Duration::from_millis(200)));
    let started = Instant::now();
    std::thread::scope(|threads| {
        for _ in 0..50 {
            threads.spawn(|| {
                let blob = http
                    .get(format!("{base}/blobs/{}", layer.as_str()))
                    .send()
                    .unwrap();
                assert_eq!(blob.status(), StatusCode::OK);
                assert_eq!(blob.bytes().unwrap().len(), big.len());
            });
        }
    });
    assert_eq!(proxy.count("GET", "/blobs/"), 50);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    proxy.set_delay(None);

    proxy.set_fault(Fault::Status(429));
    let limited = http.get(format!("{base}/manifests/v1")).send().unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "1");
    let errors: serde_json::Value = limited.json().unwrap();
    assert_eq!(errors["errors"][0]["code"], "TOOMANYREQUESTS");
    assert_eq!(proxy.count("GET", "/manifests/"), 1);

    proxy.set_fault(Fault::Down);
    let refused = std::net::TcpStream::connect(&proxy.address).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let failed = http.get(format!("{base}/manifests/v1")).send().unwrap_err();
    assert!(failed.is_connect(), "{failed:?}");

    proxy.set_fault(Fault::Pass);
    let again = http
        .get(format!("{base}/manifests/v1"))
        .header("Accept", &accept)
        .send()
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(sha256(&again.bytes().unwrap()).as_str(), digest);

    proxy.set_fault(Fault::Hang);
    let impatient = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let hung = impatient
        .get(format!("{base}/manifests/v1"))
        .send()
        .unwrap_err();
    assert!(hung.is_timeout(), "{hung:?}");
    // Seen, though not answered (the one refused was not).
    assert_eq!(proxy.count("GET", "/manifests/"), 3);
    proxy.set_fault(Fault::Pass);
    let answered = impatient
        .get(format!("{base}/manifests/v1"))
        .header("Accept", &accept)
        .send()
        .unwrap();
    assert_eq!(answered.status(), StatusCode::OK);
}

/// A second `quay-bin` as an upstream with token authentication, whose private repository
/// `ns/private` the robot `ns+puller` may read.
pub struct PrivateQuay {
    pub quay: Quay,
    /// The owner's (`ns`) API token.
    pub token: String,
    /// The robot's token.
    pub robot_token: String,
}

impl PrivateQuay {
    /// Starts it under `work` with `tags` of `layout` pushed to `ns/private` (an index with
    /// every platform).
    pub fn start(work: &Path, layout: &Layout, tags: &[&str]) -> Self {
        let data = work.join("upstream");
        let quay = Quay::start(&data, &[], &[]);
        let token = access_token(&data, USER);
        let home = work.join("upstream-home");
        skopeo_login(&home, &quay.address);
        for tag in tags {
            skopeo(
                &home,
                &[
                    "copy",
                    "-q",
                    "--all",
                    "--preserve-digests",
                    "--dest-tls-verify=false",
                    &format!("oci:{}:{tag}", layout.dir.display()),
                    &format!("docker://{}/ns/private:{tag}", quay.address),
                ],
            );
        }
        let robot = api_ok(
            &quay.address,
            &token,
            "PUT",
            "/api/v1/user/robots/puller",
            Some(json!({ "description": "a downstream registry" })),
        );
        api_ok(
            &quay.address,
            &token,
            "PUT",
            "/api/v1/repository/ns/private/permissions/user/ns+puller",
            Some(json!({ "role": "read" })),
        );
        let robot_token = robot["token"].as_str().unwrap().to_string();
        Self {
            quay,
            token,
            robot_token,
        }
    }
}
