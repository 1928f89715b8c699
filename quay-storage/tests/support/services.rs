//! The servers the storage tests run against: PostgreSQL (the machine's server; a database
//! per test) and an S3-compatible server (`moto_server` from PyPI, one per test, on
//! 127.0.0.1). Shared with `quay-bin`'s end-to-end tests, so it needs nothing beyond std,
//! `quay-storage` and `sea-orm`.
//!
//! Where a server is not reachable its tests are skipped, unless `QUAY_REQUIRE_SERVICES=1`
//! (as in CI), which turns the skip into a failure.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::atomic::{AtomicU32, Ordering};

use quay_storage::ObjectStorage;
use sea_orm::ConnectionTrait;

const REQUIRE_SERVICES: &str = "QUAY_REQUIRE_SERVICES";

pub fn postgres_admin_uri() -> String {
    std::env::var("QUAY_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Reports a missing service: a skip, or a failure where services are required.
pub fn unavailable(service: &str, error: impl std::fmt::Display) {
    if std::env::var(REQUIRE_SERVICES).as_deref() == Ok("1") {
        panic!("{service} is required ({REQUIRE_SERVICES}=1) but not reachable: {error}");
    }
    // Tests report to their runner on stderr.
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{service} not reachable, skipped: {error}");
    }
}

static DATABASES: AtomicU32 = AtomicU32::new(0);

/// Creates an empty database for one test, after dropping those left behind by test
/// processes that are gone.
pub async fn create_postgres_database() -> Result<String, sea_orm::DbErr> {
    let admin = sea_orm::Database::connect(postgres_admin_uri()).await?;
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'quay_test_%'",
        ))
        .await?;
    for row in rows {
        let name: String = row.try_get("", "datname")?;
        let pid = name
            .split('_')
            .nth(2)
            .and_then(|pid| pid.parse::<u32>().ok());
        if pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()) {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
        }
    }
    let name = format!(
        "quay_test_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    Ok(name)
}

/// Drops a database [`create_postgres_database`] made.
pub async fn drop_postgres_database(name: &str) {
    let admin = sea_orm::Database::connect(postgres_admin_uri())
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}

/// The URI of database `name` on the server of [`postgres_admin_uri`].
pub fn postgres_uri(name: &str) -> String {
    let base = postgres_admin_uri();
    let base = base
        .rsplit_once('/')
        .map_or(base.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// An S3-compatible server (`moto_server` from PyPI) on 127.0.0.1 for one test, with one
/// bucket; stopped when dropped, and by itself after ten minutes should the test process
/// die first.
pub struct S3Server {
    child: std::process::Child,
    pub location: quay_storage::S3Location,
}

impl S3Server {
    pub fn start() -> Result<Self, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = std::process::Command::new("timeout")
            .args([
                "600",
                "moto_server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("moto_server: {e}"))?;
        let server = Self {
            child,
            location: quay_storage::S3Location {
                bucket: "quay".into(),
                root: "/registry".into(),
                endpoint: Some(format!("http://127.0.0.1:{port}")),
                region: None,
                access_key: Some("test-access".into()),
                secret_key: Some("test-secret".into()),
            },
        };
        // moto takes a second or two to import; the bucket is created once it answers.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !server.create_bucket(&server.location.bucket) {
            if std::time::Instant::now() > deadline {
                return Err(format!("moto_server did not answer on port {port}"));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Ok(server)
    }

    /// Another bucket on the same server (another region, say), and its location.
    pub fn another_bucket(&self, bucket: &str) -> quay_storage::S3Location {
        assert!(self.create_bucket(bucket), "creating bucket {bucket}");
        quay_storage::S3Location {
            bucket: bucket.into(),
            ..self.location.clone()
        }
    }

    fn create_bucket(&self, bucket: &str) -> bool {
        use std::io::{Read, Write};
        let host = self
            .location
            .endpoint
            .as_deref()
            .and_then(|endpoint| endpoint.strip_prefix("http://"))
            .unwrap_or_default();
        let Ok(mut stream) = std::net::TcpStream::connect(host) else {
            return false;
        };
        let request = format!(
            "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let mut answer = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut answer).is_ok()
            && answer.starts_with("HTTP/1.1 200")
    }

    pub fn storage(&self) -> ObjectStorage {
        ObjectStorage::s3(&self.location).unwrap()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        // SIGTERM, which `timeout` passes on to moto; a SIGKILL would kill `timeout` alone
        // and leave moto running.
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
