//! Running the real `quay-bin` binary, the client tools users run against it, and OCI
//! image layouts to copy from.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use quay_core::hash::digest_of;
use quay_core::{Digest, DigestAlgorithm};
use serde_json::{Value, json};

use crate::services::{
    create_postgres_database, drop_postgres_database, postgres_uri, unavailable,
};

const REQUIRE_SERVICES: &str = "QUAY_REQUIRE_SERVICES";

/// Whether `tool` can be run.
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|output| output.status.success());
    required(tool, found)
}

/// Whether Python can import `module`.
pub fn have_python_module(module: &str) -> bool {
    let found = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|output| output.status.success());
    required(&format!("the Python module {module}"), found)
}

/// A missing tool skips its test, unless tools are required (`QUAY_REQUIRE_SERVICES=1`, as
/// in CI), which makes it a failure.
fn required(what: &str, found: bool) -> bool {
    if !found {
        if std::env::var(REQUIRE_SERVICES).as_deref() == Ok("1") {
            panic!("{what} is required ({REQUIRE_SERVICES}=1) but not installed");
        }
        report(&format!("{what} not installed, skipped"));
    }
    found
}

/// Tests talk to their runner on stderr.
#[allow(clippy::print_stderr)]
pub fn report(message: &str) {
    eprintln!("{message}");
}

/// The user every test pushes as; it owns the namespace `ns`.
pub const USER: &str = "ns";
/// A superuser, where a test makes one (`SUPER_USERS: [root]`): it sets quotas.
pub const ROOT: &str = "root";
/// Its password, and [`ROOT`]'s.
pub const PASSWORD: &str = "correct-horse-battery";
/// `USER:PASSWORD`, as skopeo's `--creds` take it.
pub const CREDS: &str = "ns:correct-horse-battery";

/// A running `quay-bin serve`.
pub struct Quay {
    child: Child,
    pub address: String,
    logs: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Quay {
    /// Starts the binary on a free port with `data_dir` and any extra arguments and
    /// environment, and waits until it listens. The user [`USER`] exists (it is created
    /// the first time).
    pub fn start(data_dir: &Path, extra_args: &[&str], env: &[(&str, &str)]) -> Self {
        create_user(data_dir, extra_args, env, USER, PASSWORD);
        let mut command = Command::new(env!("CARGO_BIN_EXE_quay-bin"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra_args)
            .env("RUST_LOG", "info")
            .env_remove("QUAY_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, logs) = mpsc::channel();
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut quay = Self {
            child,
            address: String::new(),
            logs,
            seen: Vec::new(),
        };
        let listening = quay.wait_for_log("registry listening");
        // `address=...` in text, `"address":"..."` in JSON.
        quay.address = listening
            .split([' ', ','])
            .find_map(|field| {
                field
                    .strip_prefix("address=")
                    .or_else(|| field.strip_prefix("\"address\":"))
            })
            .unwrap_or_else(|| panic!("no address in {listening:?}"))
            .trim_matches('"')
            .to_string();
        quay
    }

    /// Waits for a log line containing `needle`; returns it.
    pub fn wait_for_log(&mut self, needle: &str) -> String {
        loop {
            match self.logs.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => {
                    let status = self.child.try_wait().unwrap();
                    panic!("no log line with {needle:?} (process status {status:?})");
                }
            }
        }
    }

    /// Every log line so far.
    pub fn logs(&mut self) -> &[String] {
        self.seen.extend(self.logs.try_iter());
        &self.seen
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> ExitStatus {
        signal_terminate(self.child.id());
        self.wait()
    }

    fn wait(&mut self) -> ExitStatus {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("quay-bin did not exit within 30 s of SIGTERM");
    }
}

impl Drop for Quay {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Creates a user with `quay-bin user create`, unless it exists.
pub fn create_user(
    data_dir: &Path,
    extra_args: &[&str],
    env: &[(&str, &str)],
    name: &str,
    password: &str,
) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quay-bin"));
    command
        .args(["user", "create", name, "--password-stdin", "--data-dir"])
        .arg(data_dir)
        .args(extra_args)
        .env_remove("QUAY_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() || stderr.contains("already exists"),
        "creating user {name}: {stderr}"
    );
}

/// A request on a connection of its own, which the request closes: the whole answer.
pub fn exchange(address: &str, head: &str, body: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    answer
}

/// Starts an upload to `ns/app` as [`USER`]; its URL.
pub fn start_upload(address: &str) -> String {
    let auth = basic_auth();
    let answer = exchange(
        address,
        &format!(
            "POST /v2/ns/app/blobs/uploads/ HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\n\
             content-length: 0\r\nconnection: close\r\n\r\n"
        ),
        b"",
    );
    answer
        .lines()
        .find_map(|line| line.strip_prefix("location: "))
        .unwrap_or_else(|| panic!("no upload: {answer}"))
        .trim()
        .to_string()
}

/// A connection on which a chunk of `length` bytes for `upload` has begun: the request head
/// is sent, the body is the caller's to send.
pub fn begin_chunk(address: &str, upload: &str, length: usize) -> std::net::TcpStream {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "PATCH {upload} HTTP/1.1\r\nhost: x\r\nauthorization: {}\r\n\
         content-length: {length}\r\nconnection: close\r\n\r\n",
        basic_auth()
    )
    .unwrap();
    stream
}

/// `Authorization: Basic` for [`USER`].
pub fn basic_auth() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(CREDS)
    )
}

pub fn signal_terminate(pid: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs `quay-bin` to completion (for commands that must fail).
pub fn run_quay(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quay-bin"));
    command.args(args).env_remove("QUAY_CONFIG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// Runs a client tool and returns its stdout; fails the test with its stderr otherwise.
pub fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The credentials file of the test's skopeo and podman (what `skopeo login` writes).
pub fn auth_file(cache: &Path) -> PathBuf {
    cache.join("auth.json")
}

/// `skopeo login` as [`USER`], as a user does before pushing.
pub fn skopeo_login(cache: &Path, address: &str) {
    skopeo(
        cache,
        &[
            "login",
            "--tls-verify=false",
            "-u",
            USER,
            "-p",
            PASSWORD,
            address,
        ],
    );
}

/// skopeo against a plain-HTTP registry, with its own empty caches so that earlier runs do
/// not turn uploads into mounts, and its own credentials file.
pub fn skopeo(cache: &Path, args: &[&str]) -> String {
    let output = skopeo_output(cache, args);
    assert!(
        output.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs skopeo with the caches and credentials under `cache`, whatever the outcome.
pub fn skopeo_output(cache: &Path, args: &[&str]) -> std::process::Output {
    Command::new("skopeo")
        .args(args)
        .env("XDG_DATA_HOME", cache)
        .env("HOME", cache)
        .env("REGISTRY_AUTH_FILE", auth_file(cache))
        .output()
        .unwrap()
}

/// `skopeo copy` of `source` to the plain-HTTP registry `destination`, digests kept;
/// skopeo's error output if it fails.
pub fn try_copy(cache: &Path, source: &str, destination: &str) -> Result<(), String> {
    let output = skopeo_output(
        cache,
        &[
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "--preserve-digests",
            source,
            destination,
        ],
    );
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// `skopeo copy` from the plain-HTTP registry `source` to `destination`, digests kept.
pub fn pull(cache: &Path, source: &str, destination: &str) {
    skopeo(
        cache,
        &[
            "copy",
            "-q",
            "--src-tls-verify=false",
            "--preserve-digests",
            source,
            destination,
        ],
    );
}

pub fn sha256(bytes: &[u8]) -> Digest {
    digest_of(DigestAlgorithm::Sha256, bytes)
}

/// Deterministic bytes that do not compress.
pub fn noise(seed: u8, len: usize) -> Vec<u8> {
    let mut state = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// An OCI image layout on disk (`oci:DIR:TAG` for skopeo).
pub struct Layout {
    pub dir: PathBuf,
    entries: Vec<Value>,
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

impl Layout {
    pub fn new(dir: &Path) -> Self {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Self {
            dir: dir.to_path_buf(),
            entries: Vec::new(),
        }
    }

    /// Stores a blob; its descriptor.
    pub fn blob(&self, media_type: &str, bytes: &[u8]) -> Value {
        let digest = sha256(bytes);
        std::fs::write(self.dir.join("blobs/sha256").join(digest.hex()), bytes).unwrap();
        json!({ "mediaType": media_type, "digest": digest.as_str(), "size": bytes.len() })
    }

    /// Stores an image for `arch` with the given layers; its manifest's descriptor.
    pub fn image(&self, arch: &str, layers: &[Vec<u8>]) -> Value {
        let layers: Vec<Value> = layers
            .iter()
            .map(|layer| self.blob("application/vnd.oci.image.layer.v1.tar", layer))
            .collect();
        let diff_ids: Vec<&Value> = layers.iter().map(|layer| &layer["digest"]).collect();
        let config = json!({
            "architecture": arch,
            "os": "linux",
            "config": { "Labels": { "org.example.arch": arch } },
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
        });
        let config = self.blob(
            "application/vnd.oci.image.config.v1+json",
            config.to_string().as_bytes(),
        );
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config,
            "layers": layers,
        });
        let mut descriptor = self.blob(OCI_MANIFEST, manifest.to_string().as_bytes());
        descriptor["platform"] = json!({ "architecture": arch, "os": "linux" });
        descriptor
    }

    /// Stores an index of `manifests`; its descriptor.
    pub fn index(&self, manifests: &[Value]) -> Value {
        let index = json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests });
        self.blob(OCI_INDEX, index.to_string().as_bytes())
    }

    /// Names `descriptor` `tag` in the layout's `index.json`.
    pub fn tag(&mut self, tag: &str, mut descriptor: Value) {
        descriptor["annotations"] = json!({ "org.opencontainers.image.ref.name": tag });
        self.entries.push(descriptor);
        let index = json!({ "schemaVersion": 2, "manifests": self.entries });
        std::fs::write(self.dir.join("index.json"), index.to_string()).unwrap();
    }
}

/// The blobs (by file name) of a layout, and the digest its `index.json` gives `tag`.
pub fn layout_contents(dir: &Path, tag: &str) -> (Vec<String>, String) {
    let mut blobs: Vec<String> = std::fs::read_dir(dir.join("blobs/sha256"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    blobs.sort();
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no {tag} in {index}"));
    (blobs, entry["digest"].as_str().unwrap().to_string())
}

/// An OAuth access token for `user`, from `quay-bin token create` (as an operator would).
pub fn access_token(data_dir: &Path, user: &str) -> String {
    access_token_with(data_dir, user, &[])
}

/// [`access_token`] of a registry configured by `env`.
pub fn access_token_with(data_dir: &Path, user: &str, env: &[(&str, &str)]) -> String {
    let data_dir = data_dir.to_str().unwrap();
    let output = run_quay(
        &["token", "create", "--user", user, "--data-dir", data_dir],
        env,
    );
    assert!(
        output.status.success(),
        "token create: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// Calls `/api/v1` with curl as a bearer of `token`; the status and the JSON body.
pub fn api(
    address: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("http://{address}{path}");
    let authorization = format!("Authorization: Bearer {token}");
    let mut args = vec![
        "-s",
        "-X",
        method,
        "-H",
        &authorization,
        "-w",
        "\n%{http_code}",
    ];
    let body = body.map(|body| body.to_string());
    if let Some(body) = &body {
        args.extend(["-H", "Content-Type: application/json", "--data", body]);
    }
    args.push(&url);
    let output = run("curl", &args);
    let (text, status) = output.rsplit_once('\n').unwrap();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text).unwrap_or_else(|_| panic!("{method} {path}: {text}"))
    };
    (status.parse().unwrap(), json)
}

/// [`api`], expecting a 2xx status; the body.
/// The names of the alive tags of `ns/<repository>`, sorted (at most 100).
pub fn alive_tags(address: &str, token: &str, repository: &str) -> Vec<String> {
    let (_, body) = api(
        address,
        token,
        "GET",
        &format!("/api/v1/repository/ns/{repository}/tag/?onlyActiveTags=true&limit=100"),
        None,
    );
    let mut names: Vec<String> = body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

pub fn api_ok(address: &str, token: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, json) = api(address, token, method, path, body);
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {json}"
    );
    json
}

/// A PostgreSQL database of one test on the machine's server, dropped with it.
pub struct PostgresDatabase {
    runtime: tokio::runtime::Runtime,
    name: String,
    /// Its `DB_URI`.
    pub uri: String,
}

impl PostgresDatabase {
    /// A new database, or `None` where PostgreSQL is not reachable (and not required).
    pub fn create() -> Option<Self> {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        match runtime.block_on(create_postgres_database()) {
            Ok(name) => Some(Self {
                uri: postgres_uri(&name),
                runtime,
                name,
            }),
            Err(error) => {
                unavailable("PostgreSQL", error);
                None
            }
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        self.runtime.block_on(drop_postgres_database(&self.name));
    }
}

/// Runs `query` on the embedded database of `data` (SQLite, through Python); the first
/// column of its first row.
pub fn sql(data: &Path, query: &str) -> String {
    run(
        "python3",
        &[
            "-c",
            "import sqlite3, sys\n\
             db = sqlite3.connect(sys.argv[1])\n\
             row = db.execute(sys.argv[2]).fetchone()\n\
             db.commit()\n\
             print('' if row is None else row[0])",
            data.join("quay.db").to_str().unwrap(),
            query,
        ],
    )
    .trim()
    .to_string()
}
