//! No secret in any message: a database password and a storage key appear in no error the
//! server stops with (with all its causes) and in no line of the log of a server that runs,
//! at the debug level.

use crate::client::Client;
use crate::services::S3Server;
use crate::support::*;

const SECRET: &str = "s3cr3t-pa55";

#[test]
fn a_database_password_appears_in_no_error_it_causes() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let data = data.to_str().unwrap();
    for uri in [
        format!("mysql://quay:{SECRET}@127.0.0.1/quay"),
        format!("postgresql://quay:{SECRET}@127.0.0.1:1/quay"),
        format!("postgresql://quay:{SECRET}@127.0.0.1:notaport/quay"),
        format!("postgresql://quay@127.0.0.1:1/quay?password={SECRET}"),
        format!("[postgresql://quay:{SECRET}@127.0.0.1/quay]"),
    ] {
        let output = run_quay(
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", data],
            &[("DB_URI", &uri), ("RUST_LOG", "debug")],
        );
        assert!(!output.status.success(), "{uri}");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            printed.contains("DB_URI") || printed.contains("database"),
            "{printed}"
        );
        assert!(!printed.contains(SECRET), "{uri}: {printed}");
    }
}

#[test]
fn a_running_server_logs_no_password_and_no_storage_key() {
    let Some(database) = PostgresDatabase::create() else {
        return;
    };
    let s3 = match S3Server::start() {
        Ok(server) => server,
        Err(error) => {
            crate::services::unavailable("S3 (moto_server)", error);
            return;
        }
    };
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    // Trust authentication takes any password, so the URI can carry one.
    let db_uri = database
        .uri
        .replacen("postgres@", &format!("postgres:{SECRET}@"), 1);
    assert!(db_uri.contains(SECRET));
    let config = work.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "DB_URI: {db_uri}\n\
             DISTRIBUTED_STORAGE_CONFIG:\n  default:\n    - S3Storage\n    - s3_bucket: {}\n      \
             endpoint_url: {}\n      s3_access_key: quay-access\n      s3_secret_key: {SECRET}\n\
             DISTRIBUTED_STORAGE_PREFERENCE: [default]\n",
            s3.location.bucket,
            s3.location.endpoint.as_deref().unwrap(),
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    // Also where RUST_LOG asks the request signer for its debug lines, which print keys.
    let log = [("RUST_LOG", "debug,reqsign_core=trace")];
    let mut quay = Quay::start(&data, &["--config", config], &log);
    let token = access_token_with(&data, USER, &[("QUAY_CONFIG", config)]);
    let client = Client::new(&quay.address, &token);
    let digest = client.push_image("ns/app", "v1", b"a layer");
    assert_eq!(client.pull("ns/app", "v1"), digest);
    // A wrong password is no secret to keep either, but it is no one's business: unlogged.
    let refused = reqwest::blocking::Client::new()
        .get(format!("http://{}/v2/auth?service=x", quay.address))
        .basic_auth(USER, Some(SECRET))
        .send()
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    let health = client.get("/health/endtoend");
    assert!(health.status().is_success());
    let logs = quay.logs().join("\n");
    assert!(
        logs.contains("postgres:***@"),
        "the database is named: {logs}"
    );
    assert!(!logs.contains(SECRET), "{logs}");
}

#[test]
fn a_proxy_caches_upstream_password_is_sealed_and_never_shown() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let env = [("FEATURE_PROXY_CACHE", "true"), ("RUST_LOG", "debug")];
    let mut quay = Quay::start(&data, &[], &env);
    let token = access_token(&data, USER);
    let address = quay.address.clone();
    api_ok(
        &address,
        &token,
        "POST",
        "/api/v1/organization/",
        Some(serde_json::json!({"name": "hub"})),
    );
    let path = "/api/v1/organization/hub/proxycache";
    let (status, body) = api(
        &address,
        &token,
        "POST",
        path,
        Some(serde_json::json!({"upstream_registry": "quay.io/someorg",
                                "upstream_registry_username": "upstream-puller",
                                "upstream_registry_password": SECRET})),
    );
    assert_eq!(status, 201, "{body}");
    let shown = api_ok(&address, &token, "GET", path, None);
    assert_eq!(shown["upstream_registry"], "quay.io/someorg");
    // The registry's own network is out of reach unless SSRF_ALLOWED_HOSTS lists it.
    api_ok(
        &address,
        &token,
        "POST",
        "/api/v1/organization/",
        Some(serde_json::json!({"name": "inside"})),
    );
    let (status, body) = api(
        &address,
        &token,
        "POST",
        "/api/v1/organization/inside/proxycache",
        Some(serde_json::json!({"upstream_registry": "127.0.0.1:5000", "insecure": true})),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("SSRF_ALLOWED_HOSTS"), "{body}");
    let logs = api_ok(
        &address,
        &token,
        "GET",
        "/api/v1/organization/hub/logs",
        None,
    );
    let stored = sql(&data, "SELECT credentials FROM proxy_cache_config");
    assert!(!stored.is_empty(), "the credentials are kept");
    for place in [
        shown.to_string(),
        logs.to_string(),
        stored,
        quay.logs().join("\n"),
    ] {
        assert!(!place.contains(SECRET), "{place}");
        assert!(!place.contains("upstream-puller"), "{place}");
    }
}
