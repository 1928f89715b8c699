//! Metadata in SQL, through SeaORM: SQLite for the embedded default, PostgreSQL for several
//! nodes. The schema and every query are the same on both.
//!
//! Simple row operations go through SeaORM's entities; the few reads that decide what a
//! request sees in one round trip (a tag with its manifest, a blob with its links) are SQL
//! written once with `$n` parameters, which both SQLite and PostgreSQL accept.
//!
//! Writes that must not interleave (moving a tag, storing a manifest, deleting) run in a
//! transaction that holds the repository: on SQLite an `IMMEDIATE` transaction (one writer at
//! a time), on PostgreSQL a row lock on the repository (`SELECT ... FOR UPDATE`), so that
//! concurrent writers on several nodes serialize per repository and nowhere else.
//!
//! Every commit is synced before the request that made it is answered, except the few whose
//! loss in a power cut loses nothing a client was promised (an upload's start, its chunks
//! and its end, a repository created for the content a request brings, see
//! [`SqlMetadata::relaxed`]); a later synced commit makes those durable too, as both
//! databases write their log in order.

mod accounts;
mod audit;
mod authorized_emails;
mod blobs;
mod credentials;
mod entity;
mod event_notifications;
mod expiring_tags;
mod gauges;
mod gc;
mod health;
mod log_exports;
mod manifest_row;
mod manifests;
mod migration;
mod mirrors;
mod notifications;
mod outbox;
mod permissions;
mod proxy_cache;
mod prune;
mod quota;
pub(crate) mod replication;
mod repositories;
mod repository_row;
mod scoped;
mod sizes;
mod standing;
mod tags;
mod teams;
mod uploads;

use std::str::FromStr;
use std::time::Duration;

use quay_core::quota::QuotaSettings;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};
use sea_orm_migration::MigratorTrait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::StorageError;

/// How to connect to the metadata database.
#[derive(Clone, Debug)]
pub struct MetadataOptions {
    /// Connections in the pool (`DB_CONNECTION_POOLING` sizing).
    pub max_connections: u32,
    /// How long a request waits for a connection or a lock.
    pub busy_timeout: Duration,
    /// The time-machine window of new namespaces, seconds (`DEFAULT_TAG_EXPIRATION`).
    pub default_window_s: u64,
}

impl Default for MetadataOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            busy_timeout: Duration::from_secs(10),
            default_window_s: 14 * 86_400,
        }
    }
}

/// Connections of the pool for commits that need not be synced ([`SqlMetadata::relaxed`]).
const RELAXED_CONNECTIONS: u32 = 2;

/// The registry's metadata in a SQL database.
#[derive(Clone)]
pub struct SqlMetadata {
    db: DatabaseConnection,
    /// A small pool on the same database whose commits do not wait for the disk (SQLite's
    /// `synchronous=NORMAL`, PostgreSQL's `synchronous_commit=off`), for writes that a power
    /// cut may undo without harm, as none is a blob a client was told is stored: an upload
    /// that started and vanishes is restarted by its client (which is told it is unknown);
    /// a chunk whose record vanishes fails the upload at its next step (its client is told
    /// the offset the upload is back at, or that the digest does not match) and its part is
    /// collected as a leftover; an upload that finished and reappears is abandoned and
    /// collected. (Nor was a chunk's part durable before: its name in the upload's directory
    /// is not synced.) They save three of a blob upload's six syncs; the finishing link, a
    /// synced commit, makes them durable with it. A repository created on the way to
    /// content ([`Creation::ForContent`]: a push's first upload or manifest, a proxy cache's
    /// first pull) is committed here too, saving a sync per pushed image: until its content
    /// is stored nothing promised it, and a power cut that undoes it undoes that request's
    /// unfinished work with it (an upload in it is unknown, the client starts again).
    ///
    /// [`Creation::ForContent`]: quay_core::ports::Creation::ForContent
    relaxed: DatabaseConnection,
    default_window_s: i64,
    quota: QuotaSettings,
}

impl SqlMetadata {
    /// Connects to `uri` (`sqlite://PATH` or `postgresql://...`, Quay's `DB_URI`) and applies
    /// pending migrations. `quota` (the registry's own settings) says whether sizes are kept
    /// and quotas enforced: opening a database without keeping sizes forgets the stored ones,
    /// which would go stale; the backfill computes them again once sizes are kept again.
    pub async fn connect(
        uri: &str,
        options: &MetadataOptions,
        quota: QuotaSettings,
    ) -> Result<Self, StorageError> {
        let (db, relaxed) = if uri.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(uri)
                .map_err(sqlx_error)?
                .create_if_missing(true)
                // WAL lets readers go on while one writer commits. FULL syncs the log at
                // every commit: a request is answered only after its change would survive a
                // power loss too (NORMAL survives a crash of the process but may lose the
                // last commits of the machine).
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(options.busy_timeout)
                .foreign_keys(true);
            // Like the file itself, its directory is created on first start.
            if let Some(directory) = connect.get_filename().parent()
                && !directory.as_os_str().is_empty()
            {
                std::fs::create_dir_all(directory).map_err(|e| sqlx_error(e.into()))?;
            }
            let pool = |size: u32, connect: SqliteConnectOptions| {
                SqlitePoolOptions::new()
                    .max_connections(size)
                    .acquire_timeout(options.busy_timeout)
                    // A connection to a file in this process cannot have gone away while
                    // idle: pinging it before each use only cost a round trip to its thread
                    // per statement. (Returning it still pings, off the request's path.)
                    .test_before_acquire(false)
                    .after_connect(|connection, _| Box::pin(plan_once(connection)))
                    .before_acquire(|connection, _| {
                        Box::pin(async move { Ok(at_rest(connection)) })
                    })
                    .connect_with(connect)
            };
            let db = pool(options.max_connections, connect.clone())
                .await
                .map_err(sqlx_error)?;
            let relaxed = pool(
                RELAXED_CONNECTIONS,
                connect.synchronous(SqliteSynchronous::Normal),
            )
            .await
            .map_err(sqlx_error)?;
            (
                sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(db),
                sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(relaxed),
            )
        } else if uri.starts_with("postgres://") || uri.starts_with("postgresql://") {
            let connect = PgConnectOptions::from_str(uri).map_err(sqlx_error)?;
            let pool = |size: u32, connect: PgConnectOptions| {
                PgPoolOptions::new()
                    .max_connections(size)
                    .acquire_timeout(options.busy_timeout)
                    .before_acquire(|connection, _| {
                        Box::pin(async move { Ok(at_rest(connection)) })
                    })
                    .connect_with(connect)
            };
            let db = pool(options.max_connections, connect.clone())
                .await
                .map_err(sqlx_error)?;
            let relaxed = pool(
                RELAXED_CONNECTIONS,
                connect.options([("synchronous_commit", "off")]),
            )
            .await
            .map_err(sqlx_error)?;
            (
                sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(db),
                sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(relaxed),
            )
        } else {
            return Err(StorageError::UnsupportedDatabase(shown_database_uri(uri)));
        };
        let metadata = Self {
            db,
            relaxed,
            default_window_s: i64::try_from(options.default_window_s).unwrap_or(i64::MAX),
            quota,
        };
        metadata.migrate().await?;
        if !metadata.quota.management {
            metadata.forget_sizes().await?;
        }
        Ok(metadata)
    }

    /// Applies pending migrations. On PostgreSQL an advisory lock makes nodes that start
    /// together take turns.
    async fn migrate(&self) -> Result<(), StorageError> {
        if self.backend() == DbBackend::Postgres {
            let txn = self.db.begin().await?;
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(7151831771)")
                .await?;
            migration::Migrator::up(&txn, None).await?;
            txn.commit().await?;
        } else {
            migration::Migrator::up(&self.db, None).await?;
        }
        Ok(())
    }

    /// The connection pool, on PostgreSQL.
    pub(crate) fn postgres_pool(&self) -> Option<sqlx::PgPool> {
        (self.backend() == DbBackend::Postgres)
            .then(|| self.db.get_postgres_connection_pool().clone())
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// A transaction that writes: on SQLite it takes the write lock at once (a deferred one
    /// could fail to upgrade while another process writes), on PostgreSQL it is a plain one.
    async fn write_transaction(&self) -> Result<DatabaseTransaction, DbErr> {
        match self.backend() {
            DbBackend::Sqlite => {
                self.db
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await
            }
            _ => self.db.begin().await,
        }
    }

    /// A transaction for a change to repository `repository` that must not interleave with
    /// another change to it.
    async fn lock_repository(&self, repository: i64) -> Result<DatabaseTransaction, DbErr> {
        let txn = self.write_transaction().await?;
        if self.backend() == DbBackend::Postgres {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT id FROM repository WHERE id = $1 FOR UPDATE",
                [repository.into()],
            ))
            .await?;
        }
        Ok(txn)
    }

    /// A statement in the portable `$n` dialect.
    fn statement(&self, sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
        Statement::from_sql_and_values(self.backend(), sql, values)
    }
}

/// Makes SQLite plan each statement once per connection, whatever values are bound to it.
///
/// SQLite reads a bound `LIMIT` while planning, and a statement so planned is parsed and
/// planned again every time that value is bound anew: every SeaORM `one()` ends in `LIMIT ?`,
/// so most single-row reads were compiled afresh at each execution (3.7 % of the server's
/// CPU in a push of small images). The planner's stability guarantee
/// (`SQLITE_DBCONFIG_ENABLE_QPSG`) keeps the first plan. No plan here depends on a bound
/// value: no statistics are gathered, and the only `LIKE` with a bound pattern compares
/// `LOWER(name)`, which no index serves.
async fn plan_once(connection: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let refused = match planner_stability(&mut handle, 1) {
        Ok(1) => return Ok(()),
        Ok(left) => format!("SQLite left its planner's stability guarantee at {left}"),
        Err(code) => format!("SQLite refused its planner setting (code {code})"),
    };
    Err(sqlx::Error::Configuration(refused.into()))
}

/// Sets the connection's planner stability guarantee (`1` on, `0` off; a negative `setting`
/// changes nothing) and reports it as it then stands, or SQLite's error code.
#[allow(unsafe_code)]
fn planner_stability(
    handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>,
    setting: std::ffi::c_int,
) -> Result<std::ffi::c_int, std::ffi::c_int> {
    let mut enabled: std::ffi::c_int = -1;
    // SAFETY: the connection's open handle, locked for this thread while `handle` lives;
    // this option takes an `int` and an `int *` into which SQLite writes the setting.
    let code = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            handle.as_raw_handle().as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            setting,
            &raw mut enabled,
        )
    };
    if code == libsqlite3_sys::SQLITE_OK {
        Ok(enabled)
    } else {
        Err(code)
    }
}

/// Whether a pooled connection may serve the next request: it holds no transaction.
///
/// A transaction whose commit or rollback failed (a full disk makes both fail) can leave
/// the connection inside it, or with sqlx's count of open transactions wrong. Handed out
/// again, such a connection kept SQLite's write lock forever ("database is locked" for
/// every other writer) and turned the next request's transaction into a savepoint of the
/// dead one, so that its commit answered success and wrote nothing. Closing the connection
/// instead rolls back whatever it held; the pool opens a fresh one.
fn at_rest(connection: &impl sqlx::Connection) -> bool {
    let in_transaction = connection.is_in_transaction();
    if in_transaction {
        tracing::warn!("a database connection still inside a failed transaction is closed");
    }
    !in_transaction
}

/// A database URI as logs and errors show it: without the password, be it written as
/// `user:password@` or as a parameter, and without any parameter at all.
pub fn shown_database_uri(uri: &str) -> String {
    let uri = match uri.split_once('?') {
        Some((base, _parameters)) => format!("{base}?***"),
        None => uri.to_string(),
    };
    match (uri.find("://"), uri.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &uri[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &uri[..scheme_end + 3], &uri[at..])
                }
                None => uri,
            }
        }
        _ => uri,
    }
}

fn sqlx_error(error: sqlx::Error) -> StorageError {
    StorageError::Database(DbErr::Conn(sea_orm::RuntimeErr::SqlxError(error.into())))
}

/// `$first, $first+1, ...`: placeholders for a list of `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A repository path read back from its two stored columns.
fn stored_path(namespace: &str, name: &str) -> Result<quay_core::RepositoryPath, StorageError> {
    quay_core::RepositoryPath::parse(&format!("{namespace}/{name}"))
        .map_err(|_| StorageError::CorruptMetadata(format!("stored repository {namespace}/{name}")))
}

/// A stored count or size as the domain's unsigned type.
fn unsigned(value: i64, what: &str) -> Result<u64, StorageError> {
    u64::try_from(value)
        .map_err(|_| StorageError::CorruptMetadata(format!("negative {what}: {value}")))
}

/// An unsigned size as a database integer.
fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use sea_orm::QueryResult;

    use super::*;

    async fn sqlite_in(dir: &tempfile::TempDir) -> SqlMetadata {
        let uri = format!("sqlite://{}", dir.path().join("quay.db").display());
        SqlMetadata::connect(&uri, &MetadataOptions::default(), Default::default())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn only_the_relaxed_pool_commits_without_syncing() {
        let dir = tempfile::tempdir().unwrap();
        let metadata = sqlite_in(&dir).await;
        let synchronous = |connection: DatabaseConnection| async move {
            let row: QueryResult = connection
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "PRAGMA synchronous",
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i32>(0).unwrap()
        };
        // SQLite's FULL is 2, NORMAL 1.
        assert_eq!(synchronous(metadata.db.clone()).await, 2);
        assert_eq!(synchronous(metadata.relaxed.clone()).await, 1);
    }

    #[tokio::test]
    async fn every_sqlite_connection_keeps_its_first_plans() {
        let dir = tempfile::tempdir().unwrap();
        let metadata = sqlite_in(&dir).await;
        for pool in [&metadata.db, &metadata.relaxed] {
            let mut connection = pool.get_sqlite_connection_pool().acquire().await.unwrap();
            let mut handle = connection.lock_handle().await.unwrap();
            assert_eq!(
                planner_stability(&mut handle, -1),
                Ok(1),
                "the planner's stability guarantee is on"
            );
        }
    }

    #[test]
    fn a_shown_database_uri_has_no_password() {
        for (uri, shown) in [
            (
                "postgresql://quay:s3cr3t@db.internal:5432/quay",
                "postgresql://quay:***@db.internal:5432/quay",
            ),
            (
                "postgres://quay@db/quay?password=s3cr3t&sslmode=require",
                "postgres://quay@db/quay?***",
            ),
            ("mysql://root:p@ss@db/quay", "mysql://root:***@db/quay"),
            (
                "sqlite:///var/lib/quay/quay.db",
                "sqlite:///var/lib/quay/quay.db",
            ),
        ] {
            assert_eq!(shown_database_uri(uri), shown);
        }
    }
}
