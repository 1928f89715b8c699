//! Several `quay-bin` nodes on PostgreSQL and S3-compatible storage, as Quay is deployed
//! beyond one machine: what one node is given, the other serves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quay_storage::{ObjectStorage, S3Location};
use sea_orm::ConnectionTrait;

use crate::services::{
    S3Server, create_postgres_database, drop_postgres_database, postgres_uri, unavailable,
};
use crate::support::*;
use crate::time_machine::{LINK_SECONDS, live_tags_pull_whole, push_retag_and_delete};

/// A PostgreSQL database and an S3 bucket of one test, and the Quay config naming them
/// (the bucket as a `RadosGWStorage` location, as a Ceph deployment would).
struct Services {
    runtime: tokio::runtime::Runtime,
    database: String,
    s3: S3Server,
    config: PathBuf,
}

impl Services {
    /// The services, or `None` when one, or a client the tests drive, is missing (and not
    /// required).
    fn start(work: &Path) -> Option<Self> {
        if !have("skopeo") || !have("curl") {
            return None;
        }
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let database = match runtime.block_on(create_postgres_database()) {
            Ok(name) => name,
            Err(error) => {
                unavailable("PostgreSQL", error);
                return None;
            }
        };
        let s3 = match S3Server::start() {
            Ok(server) => server,
            Err(error) => {
                unavailable("S3 (moto_server)", error);
                runtime.block_on(drop_postgres_database(&database));
                return None;
            }
        };
        let config = work.join("config.yaml");
        std::fs::write(
            &config,
            format!(
                "DB_URI: {}\n\
                 DISTRIBUTED_STORAGE_CONFIG:\n{}\
                 DISTRIBUTED_STORAGE_PREFERENCE: [ceph]\n",
                postgres_uri(&database),
                radosgw_location("ceph", &s3.location),
            ),
        )
        .unwrap();
        Some(Self {
            runtime,
            database,
            s3,
            config,
        })
    }

    /// A node on these services, with its own (unused) data directory.
    fn node(&self, data_dir: &Path) -> Quay {
        Quay::start(data_dir, &["--config", self.config.to_str().unwrap()], &[])
    }
}

/// A `DISTRIBUTED_STORAGE_CONFIG` entry for `location` as a `RadosGWStorage`, as a Ceph
/// deployment would name it.
fn radosgw_location(name: &str, location: &S3Location) -> String {
    let endpoint = location.endpoint.as_deref().unwrap();
    let (host, port) = endpoint
        .trim_start_matches("http://")
        .rsplit_once(':')
        .unwrap();
    format!(
        "  {name}:\n    - RadosGWStorage\n    - hostname: {host}\n      port: '{port}'\n      is_secure: 'false'\n      access_key: {}\n      secret_key: {}\n      bucket_name: {}\n      storage_path: {}\n",
        location.access_key.as_ref().unwrap().expose(),
        location.secret_key.as_ref().unwrap().expose(),
        location.bucket,
        location.root,
    )
}

/// The hex digests of the blobs in `storage`.
fn stored_blobs(runtime: &tokio::runtime::Runtime, storage: &ObjectStorage) -> BTreeSet<String> {
    runtime.block_on(async {
        let listed = storage
            .operator()
            .list_with("sha256/")
            .recursive(true)
            .await
            .unwrap();
        listed
            .iter()
            .filter(|entry| entry.metadata().is_file())
            .filter_map(|entry| entry.path().rsplit('/').next().map(str::to_string))
            .collect()
    })
}

impl Services {
    /// The hex digests of the blobs in the bucket.
    fn stored_blobs(&self) -> BTreeSet<String> {
        stored_blobs(&self.runtime, &self.s3.storage())
    }

    /// Manifests without a tag, blobs and tags in the database.
    fn counts(&self) -> [usize; 3] {
        let uri = postgres_uri(&self.database);
        self.runtime.block_on(async {
            let db = sea_orm::Database::connect(&uri).await.unwrap();
            let mut counts = [0; 3];
            for (count, sql) in counts.iter_mut().zip([
                "SELECT COUNT(*) AS n FROM manifest m \
                 WHERE NOT EXISTS (SELECT 1 FROM tag t WHERE t.manifest_id = m.id)",
                "SELECT COUNT(*) AS n FROM blob",
                "SELECT COUNT(*) AS n FROM tag",
            ]) {
                let row = db
                    .query_one_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Postgres,
                        sql,
                    ))
                    .await
                    .unwrap()
                    .unwrap();
                let n: i64 = row.try_get("", "n").unwrap();
                *count = usize::try_from(n).unwrap();
            }
            counts
        })
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        self.runtime
            .block_on(drop_postgres_database(&self.database));
    }
}

/// `curl` on the registry with [`USER`]'s credentials: the response's headers and body.
fn curl(method: &str, url: &str, extra: &[&str]) -> String {
    let mut args = vec!["-s", "-D", "-", "-u", CREDS, "-X", method];
    args.extend_from_slice(extra);
    args.push(url);
    run("curl", &args)
}

fn header<'a>(response: &'a str, name: &str) -> &'a str {
    response
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
        .unwrap_or_else(|| panic!("no {name} in {response}"))
}

/// Logs skopeo in to both nodes and pushes, through the first, an image of a 3 MiB and a
/// 20 kB layer (made from `seed`) as `{USER}/{repository}:v1`; skopeo's home and the layout
/// the image came from.
fn push_two_layers(
    work: &Path,
    nodes: [&Quay; 2],
    repository: &str,
    seed: u8,
) -> (PathBuf, Layout) {
    let cache = work.join("skopeo-home");
    for node in nodes {
        skopeo_login(&cache, &node.address);
    }
    let mut layout = Layout::new(&work.join("source"));
    let image = layout.image("amd64", &[noise(seed, 3 << 20), noise(seed + 1, 20_000)]);
    layout.tag("v1", image);
    try_copy(
        &cache,
        &format!("oci:{}:v1", layout.dir.display()),
        &format!("docker://{}/{USER}/{repository}:v1", nodes[0].address),
    )
    .unwrap();
    (cache, layout)
}

#[test]
fn two_nodes_on_postgresql_and_s3_serve_each_others_pushes_and_uploads() {
    let work = tempfile::tempdir().unwrap();
    let Some(services) = Services::start(work.path()) else {
        return;
    };
    let first = services.node(&work.path().join("first"));
    let second = services.node(&work.path().join("second"));
    for node in [&first.address, &second.address] {
        for check in ["instance", "endtoend"] {
            let health = curl("GET", &format!("http://{node}/health/{check}"), &[]);
            assert!(
                health.starts_with("HTTP/1.1 200")
                    && health.contains(r#""services":{"database":true,"storage":true}"#),
                "{health}"
            );
        }
    }

    // An image pushed through one node pulls, identical, through the other.
    let (cache, mut layout) = push_two_layers(work.path(), [&first, &second], "app", 60);
    let out = work.path().join("out");
    pull(
        &cache,
        &format!("docker://{}/{USER}/app:v1", second.address),
        &format!("oci:{}:v1", out.display()),
    );
    assert_eq!(
        layout_contents(&out, "v1"),
        layout_contents(&layout.dir, "v1")
    );

    // Blob downloads go to the bucket itself, at a URL the registry signed.
    let (layers, _) = layout_contents(&layout.dir, "v1");
    let redirected = curl(
        "GET",
        &format!(
            "http://{}/v2/{USER}/app/blobs/sha256:{}",
            second.address, layers[0]
        ),
        &[],
    );
    assert!(redirected.starts_with("HTTP/1.1 307"), "{redirected}");
    let bucket = services.s3.location.endpoint.as_deref().unwrap();
    assert!(
        header(&redirected, "location").starts_with(bucket),
        "{redirected}"
    );

    // A tag moved through one node is seen by the other, whose cache had the old target.
    let digest_on = |node: &str| {
        let url = format!("http://{node}/v2/{USER}/app/manifests/v1");
        let answer = curl(
            "HEAD",
            &url,
            &[
                "-H",
                "Accept: application/vnd.oci.image.manifest.v1+json",
                "-I",
            ],
        );
        header(&answer, "docker-content-digest").to_string()
    };
    let before = digest_on(&second.address);
    assert_eq!(before, digest_on(&second.address), "cached");
    let moved = layout.image("amd64", &[noise(62, 10_000)]);
    layout.tag("v2", moved);
    try_copy(
        &cache,
        &format!("oci:{}:v2", layout.dir.display()),
        &format!("docker://{}/{USER}/app:v1", first.address),
    )
    .unwrap();
    let after = layout_contents(&layout.dir, "v2").1;
    assert_ne!(before, after);
    assert_eq!(
        digest_on(&second.address),
        after,
        "the second node's next request"
    );

    // A chunked upload whose chunks alternate between the nodes.
    let chunks: [&[u8]; 3] = [b"first chunk, ", b"second chunk, ", b"third chunk"];
    let content: Vec<u8> = chunks.concat();
    let nodes = [&first.address, &second.address];
    let started = curl(
        "POST",
        &format!("http://{}/v2/{USER}/app/blobs/uploads/", first.address),
        &[],
    );
    let mut location = header(&started, "location").to_string();
    let mut offset = 0;
    for (n, chunk) in chunks.iter().enumerate() {
        let node = nodes[(n + 1) % 2];
        let range = format!("Content-Range: {offset}-{}", offset + chunk.len() - 1);
        let body = String::from_utf8(chunk.to_vec()).unwrap();
        let url = format!("http://{node}{location}");
        let answer = curl(
            "PATCH",
            &url,
            &[
                "-H",
                &range,
                "-H",
                "Content-Type: application/octet-stream",
                "--data-binary",
                &body,
            ],
        );
        assert!(
            answer.starts_with("HTTP/1.1 202"),
            "chunk {n} on {node}: {answer}"
        );
        location = header(&answer, "location").to_string();
        offset += chunk.len();
    }
    let digest = sha256(&content);
    let separator = if location.contains('?') { '&' } else { '?' };
    let finished = curl(
        "PUT",
        &format!(
            "http://{}{location}{separator}digest={digest}",
            first.address
        ),
        &[],
    );
    assert!(finished.starts_with("HTTP/1.1 201"), "{finished}");
    for node in nodes {
        let blob = curl(
            "GET",
            &format!("http://{node}/v2/{USER}/app/blobs/{digest}"),
            &["-L"],
        );
        assert!(blob.ends_with("third chunk"), "{node}: {blob}");
    }
}

/// Makes a certificate authority and, signed by it, a certificate for 127.0.0.1 as Quay
/// expects it next to its config (`ssl.cert`, `ssl.key`); the authority's certificate goes
/// into `trust` as `ca.crt`, where skopeo looks for it.
fn test_certificates(config_dir: &Path, trust: &Path) {
    std::fs::create_dir_all(trust).unwrap();
    let ca_key = config_dir.join("ca.key");
    let ca = trust.join("ca.crt");
    let request = config_dir.join("server.csr");
    let extensions = config_dir.join("san.cnf");
    std::fs::write(&extensions, "subjectAltName=IP:127.0.0.1\n").unwrap();
    let path = |path: &Path| path.to_str().unwrap().to_string();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut authority = vec!["req", "-x509", "-days", "1", "-subj", "/CN=quay test CA"];
    authority.extend(ec);
    let (ca_key_path, ca_path) = (path(&ca_key), path(&ca));
    authority.extend(["-keyout", &ca_key_path, "-out", &ca_path]);
    run("openssl", &authority);
    let (key_path, request_path) = (path(&config_dir.join("ssl.key")), path(&request));
    let mut server = vec!["req", "-subj", "/CN=127.0.0.1"];
    server.extend(ec);
    server.extend(["-keyout", &key_path, "-out", &request_path]);
    run("openssl", &server);
    let (cert_path, extensions_path) = (path(&config_dir.join("ssl.cert")), path(&extensions));
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-days",
            "1",
            "-in",
            &request_path,
            "-CA",
            &ca_path,
            "-CAkey",
            &ca_key_path,
            "-CAcreateserial",
            "-extfile",
            &extensions_path,
            "-out",
            &cert_path,
        ],
    );
}

#[test]
fn https_with_quays_ssl_files_serves_skopeo_trusting_the_ca() {
    if !have("skopeo") || !have("openssl") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let config_dir = work.path().join("conf");
    let trust = work.path().join("trust");
    std::fs::create_dir_all(&config_dir).unwrap();
    test_certificates(&config_dir, &trust);
    let config = config_dir.join("config.yaml");
    std::fs::write(&config, "PREFERRED_URL_SCHEME: https\n").unwrap();
    let quay = Quay::start(
        &work.path().join("data"),
        &["--config", config.to_str().unwrap()],
        &[],
    );

    let mut layout = Layout::new(&work.path().join("source"));
    let image = layout.image("amd64", &[noise(70, 50_000)]);
    layout.tag("v1", image);
    let remote = format!("docker://{}/{USER}/secure:v1", quay.address);
    let trust_dir = trust.to_str().unwrap();
    let cache = work.path().join("skopeo-home");
    skopeo(
        &cache,
        &[
            "copy",
            "-q",
            "--dest-cert-dir",
            trust_dir,
            "--dest-creds",
            CREDS,
            "--preserve-digests",
            &format!("oci:{}:v1", layout.dir.display()),
            &remote,
        ],
    );
    let out = work.path().join("out");
    skopeo(
        &cache,
        &[
            "copy",
            "-q",
            "--src-cert-dir",
            trust_dir,
            "--src-creds",
            CREDS,
            "--preserve-digests",
            &remote,
            &format!("oci:{}:v1", out.display()),
        ],
    );
    assert_eq!(
        layout_contents(&out, "v1"),
        layout_contents(&layout.dir, "v1")
    );
    // The certificate is checked: without the authority, skopeo refuses the server.
    let untrusted = skopeo_output(&cache, &["inspect", "--creds", CREDS, &remote]);
    assert!(!untrusted.status.success());
    assert!(
        String::from_utf8_lossy(&untrusted.stderr).contains("certificate"),
        "{}",
        String::from_utf8_lossy(&untrusted.stderr)
    );
}

#[test]
fn collection_on_both_nodes_while_clients_push_loses_nothing() {
    let work = tempfile::tempdir().unwrap();
    let Some(services) = Services::start(work.path()) else {
        return;
    };
    let config = services.config.to_str().unwrap();
    let env = [
        ("GARBAGE_COLLECTION_FREQUENCY", "1"),
        ("PUSH_TEMP_TAG_EXPIRATION_SEC", LINK_SECONDS),
    ];
    let (first_dir, second_dir) = (work.path().join("first"), work.path().join("second"));
    let first = Quay::start(&first_dir, &["--config", config], &env);
    let second = Quay::start(&second_dir, &["--config", config], &env);
    let token = run_quay(
        &[
            "token",
            "create",
            "--user",
            USER,
            "--config",
            config,
            "--data-dir",
            first_dir.to_str().unwrap(),
        ],
        &[],
    );
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    api_ok(
        &first.address,
        &token,
        "PUT",
        "/api/v1/user/",
        Some(serde_json::json!({ "tag_expiration_s": 0 })),
    );

    // Both nodes collect every second while the clients push through both.
    let live = push_retag_and_delete(work.path(), &[&first.address, &second.address]);
    std::thread::sleep(Duration::from_secs(5));
    let collected = run_quay(
        &[
            "gc",
            "--once",
            "--config",
            config,
            "--data-dir",
            first_dir.to_str().unwrap(),
        ],
        &[("PUSH_TEMP_TAG_EXPIRATION_SEC", LINK_SECONDS)],
    );
    assert!(collected.status.success(), "{collected:?}");
    let expected = live_tags_pull_whole(work.path(), &second.address, &live);

    // The bucket holds exactly the live images' blobs; the database only tagged manifests.
    let stored = services.stored_blobs();
    assert_eq!(stored, expected);
    let counts = services.counts();
    assert_eq!(
        counts,
        [0, expected.len(), live.len()],
        "untagged manifests, blobs, tags"
    );
}

/// Concurrent clients of the bounded load test, and images each pushes.
const LOAD_CLIENTS: usize = 6;
const LOAD_IMAGES: usize = 4;
/// Manifest reads per node in the load test, over one connection each.
const LOAD_READS: usize = 500;

#[test]
fn a_bounded_load_across_both_nodes_loses_nothing() {
    let work = tempfile::tempdir().unwrap();
    let Some(services) = Services::start(work.path()) else {
        return;
    };
    let nodes = [
        services.node(&work.path().join("first")),
        services.node(&work.path().join("second")),
    ];
    let addresses: Vec<&str> = nodes.iter().map(|node| node.address.as_str()).collect();
    let shared = noise(90, 200_000);
    let timed = |what: &str, count: usize, work: &dyn Fn()| {
        let started = std::time::Instant::now();
        work();
        let seconds = started.elapsed().as_secs_f64();
        report(&format!(
            "load: {count} {what} in {seconds:.2} s, {:.1}/s",
            count as f64 / seconds
        ));
    };

    // Every client pushes its images through one node and pulls them through the other.
    let pushed = std::sync::Mutex::new(Vec::new());
    timed("pushes", LOAD_CLIENTS * LOAD_IMAGES, &|| {
        std::thread::scope(|scope| {
            for client in 0..LOAD_CLIENTS {
                let (work, shared, pushed) = (work.path(), &shared, &pushed);
                let address = addresses[client % 2];
                scope.spawn(move || {
                    let cache = work.join(format!("load-{client}"));
                    skopeo_login(&cache, address);
                    let mut layout = Layout::new(&work.join(format!("load-layout-{client}")));
                    for image in 0..LOAD_IMAGES {
                        let own = noise(u8::try_from(client * 16 + image).unwrap(), 30_000);
                        let descriptor = layout.image("amd64", &[shared.clone(), own]);
                        let tag = format!("c{client}-{image}");
                        layout.tag(&tag, descriptor);
                        try_copy(
                            &cache,
                            &format!("oci:{}:{tag}", layout.dir.display()),
                            &format!("docker://{address}/{USER}/load:{tag}"),
                        )
                        .unwrap();
                        let digest = layout_contents(&layout.dir, &tag).1;
                        pushed.lock().unwrap().push((client, tag, digest));
                    }
                });
            }
        });
    });
    let pushed = pushed.into_inner().unwrap();
    timed("pulls", pushed.len(), &|| {
        std::thread::scope(|scope| {
            for chunk in pushed.chunks(LOAD_IMAGES) {
                let (work, addresses) = (work.path(), &addresses);
                scope.spawn(move || {
                    for (client, tag, digest) in chunk {
                        let address = addresses[(client + 1) % 2];
                        let cache = work.join(format!("load-pull-{client}"));
                        skopeo_login(&cache, address);
                        let out = work.join(format!("load-out-{tag}"));
                        pull(
                            &cache,
                            &format!("docker://{address}/{USER}/load:{tag}"),
                            &format!("oci:{}:{tag}", out.display()),
                        );
                        assert_eq!(&layout_contents(&out, tag).1, digest, "{tag}");
                    }
                });
            }
        });
    });

    // Manifest reads on both nodes at once, every answer a 200.
    let (_, tag, _) = &pushed[0];
    timed("manifest GETs", 2 * LOAD_READS, &|| {
        std::thread::scope(|scope| {
            for address in &addresses {
                scope.spawn(move || {
                    let url = format!("http://{address}/v2/{USER}/load/manifests/{tag}");
                    // One connection for all of them; each answer's body is discarded.
                    let mut args = vec!["-s", "-u", CREDS, "-w", "%{http_code}\n"];
                    for _ in 0..LOAD_READS {
                        args.extend(["-o", "/dev/null", url.as_str()]);
                    }
                    let codes = run("curl", &args);
                    assert_eq!(
                        codes.lines().filter(|code| *code == "200").count(),
                        LOAD_READS
                    );
                });
            }
        });
    });
}

#[test]
fn geo_replication_serves_what_the_first_location_lost() {
    let work = tempfile::tempdir().unwrap();
    let Some(services) = Services::start(work.path()) else {
        return;
    };
    // Two regions, as two buckets; each node prefers its own.
    let us = services.s3.location.clone();
    let eu = services.s3.another_bucket("quay-eu");
    let config = |preference: &str| {
        let path = work.path().join(format!("{preference}.yaml"));
        std::fs::write(
            &path,
            format!(
                "DB_URI: {}\n\
                 DISTRIBUTED_STORAGE_CONFIG:\n{}{}\
                 DISTRIBUTED_STORAGE_PREFERENCE: [{preference}]\n\
                 DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: [us, eu]\n\
                 FEATURE_STORAGE_REPLICATION: true\n",
                postgres_uri(&services.database),
                radosgw_location("us", &us),
                radosgw_location("eu", &eu),
            ),
        )
        .unwrap();
        path
    };
    let (us_config, eu_config) = (config("us"), config("eu"));
    let node = |name: &str, config: &Path| {
        Quay::start(
            &work.path().join(name),
            &["--config", config.to_str().unwrap()],
            &[],
        )
    };
    let us_node = node("us-node", &us_config);
    let eu_node = node("eu-node", &eu_config);
    for node in [&us_node.address, &eu_node.address] {
        let health = curl("GET", &format!("http://{node}/health/endtoend"), &[]);
        assert!(
            health.starts_with("HTTP/1.1 200")
                && health.contains(r#""storage_locations":{"eu":true,"us":true}"#),
            "{health}"
        );
    }

    // Pushed through the node in `us`, stored there, and replicated to `eu` by itself.
    let (cache, layout) = push_two_layers(work.path(), [&us_node, &eu_node], "geo", 70);
    let (us_bucket, eu_bucket) = (
        ObjectStorage::s3(&us).unwrap(),
        ObjectStorage::s3(&eu).unwrap(),
    );
    let pushed = stored_blobs(&services.runtime, &us_bucket);
    assert_eq!(pushed.len(), 3, "two layers and a config: {pushed:?}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while stored_blobs(&services.runtime, &eu_bucket) != pushed {
        assert!(
            std::time::Instant::now() < deadline,
            "not replicated to eu within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // `us` loses every blob: both nodes still pull the image whole, from `eu`.
    services.runtime.block_on(async {
        us_bucket
            .operator()
            .delete_with("sha256/")
            .recursive(true)
            .await
            .unwrap();
    });
    assert!(stored_blobs(&services.runtime, &us_bucket).is_empty());
    for (name, node) in [("us", &us_node), ("eu", &eu_node)] {
        let out = work.path().join(format!("out-{name}"));
        pull(
            &cache,
            &format!("docker://{}/{USER}/geo:v1", node.address),
            &format!("oci:{}:v1", out.display()),
        );
        assert_eq!(
            layout_contents(&out, "v1"),
            layout_contents(&layout.dir, "v1"),
            "pulled through the node in {name}"
        );
    }

    // `quay-bin replicate --all` puts back what `us` lost (the nodes stopped, so that their
    // replicators take no part).
    assert!(us_node.terminate().success() && eu_node.terminate().success());
    let replicated = run_quay(
        &[
            "replicate",
            "--all",
            "--config",
            us_config.to_str().unwrap(),
            "--data-dir",
            work.path().join("us-node").to_str().unwrap(),
        ],
        &[],
    );
    let printed = String::from_utf8_lossy(&replicated.stdout);
    assert!(
        replicated.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&replicated.stderr)
    );
    assert!(
        printed.contains("queued 3 blobs; replicated 3 blobs (3 copies,"),
        "{printed}"
    );
    assert_eq!(stored_blobs(&services.runtime, &us_bucket), pushed);
}
