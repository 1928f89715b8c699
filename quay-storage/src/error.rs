//! Failures of the storage adapters.

use std::io;

use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

/// What failed underneath the registry, by condition. Converted into a
/// [`quay_core::Error`] at the ports: [`quay_core::Error::StorageUnavailable`] where the
/// condition passes (a full disk, a server away, a pool exhausted), so that clients are
/// told why and to try again; [`quay_core::Error::Storage`] otherwise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The metadata database failed.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The object store failed.
    #[error("object storage: {0}")]
    Objects(#[from] opendal::Error),
    /// A file in a local directory failed: a blob's, read, or an upload part's, written.
    #[error("blob file: {0}")]
    Files(#[from] io::Error),
    /// A database URI names a database this registry cannot use (shown without its
    /// password).
    #[error("unsupported database URI {0:?}: use sqlite://PATH or postgresql://...")]
    UnsupportedDatabase(String),
    /// The storage locations cannot work as configured.
    #[error("storage locations: {0}")]
    InvalidLocations(String),
    /// A row holds a value the registry never writes.
    #[error("corrupt metadata: {0}")]
    CorruptMetadata(String),
}

impl From<StorageError> for quay_core::Error {
    fn from(error: StorageError) -> Self {
        match error.unavailability() {
            Some(reason) => quay_core::Error::StorageUnavailable {
                reason,
                cause: Box::new(error),
            },
            None => quay_core::Error::storage(error),
        }
    }
}

/// Why a store cannot work now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Condition {
    /// Its disk (or its service's quota) is full.
    Full,
    /// It does not answer, or its device fails.
    Failing,
    /// It answers, but cannot take more now.
    Busy,
}

impl StorageError {
    /// The reason to give clients, when the failure is a condition that passes rather than
    /// a fault of the registry or of its data.
    fn unavailability(&self) -> Option<&'static str> {
        use Condition::*;
        match self {
            Self::Database(error) => Some(match database_condition(error)? {
                Full => "no space left for the database",
                Failing => "the database is unreachable or failing",
                Busy => "the database is busy",
            }),
            Self::Objects(error) => Some(blob_storage(objects_condition(error)?)),
            Self::Files(error) => Some(blob_storage(io_condition(error)?)),
            _ => None,
        }
    }
}

fn blob_storage(condition: Condition) -> &'static str {
    match condition {
        Condition::Full => "no space left in blob storage",
        Condition::Failing => "blob storage is unreachable or failing",
        Condition::Busy => "blob storage is busy",
    }
}

fn database_condition(error: &DbErr) -> Option<Condition> {
    match error {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => Some(Condition::Busy),
        DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) => Some(Condition::Failing),
        DbErr::Conn(RuntimeErr::SqlxError(error))
        | DbErr::Exec(RuntimeErr::SqlxError(error))
        | DbErr::Query(RuntimeErr::SqlxError(error)) => sqlx_condition(error),
        _ => None,
    }
}

fn sqlx_condition(error: &sqlx::Error) -> Option<Condition> {
    match error {
        sqlx::Error::Database(error) => {
            let code = error.code()?;
            if error
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                sqlite_condition(code.parse().ok()?)
            } else {
                postgres_condition(&code)
            }
        }
        sqlx::Error::Io(error) => Some(io_condition(error).unwrap_or(Condition::Failing)),
        sqlx::Error::PoolTimedOut => Some(Condition::Busy),
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => Some(Condition::Failing),
        _ => None,
    }
}

/// A condition from SQLite's extended result code, whose low byte is the primary one.
fn sqlite_condition(extended: i32) -> Option<Condition> {
    match extended & 0xff {
        13 => Some(Condition::Full),         // SQLITE_FULL
        5 | 6 => Some(Condition::Busy),      // SQLITE_BUSY, SQLITE_LOCKED
        10 | 14 => Some(Condition::Failing), // SQLITE_IOERR, SQLITE_CANTOPEN
        _ => None,
    }
}

/// A condition from PostgreSQL's SQLSTATE.
fn postgres_condition(sqlstate: &str) -> Option<Condition> {
    match sqlstate {
        "53100" => Some(Condition::Full), // disk_full
        // Out of memory or connections, a serialization failure or a deadlock: retriable.
        "53200" | "53300" | "40001" | "40P01" => Some(Condition::Busy),
        // The server shuts down or is not ready, or the connection broke.
        _ if sqlstate.starts_with("57P") || sqlstate.starts_with("08") => Some(Condition::Failing),
        _ => None,
    }
}

fn objects_condition(error: &opendal::Error) -> Option<Condition> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(condition) = current.downcast_ref::<io::Error>().and_then(io_condition) {
            return Some(condition);
        }
        source = current.source();
    }
    match error.kind() {
        opendal::ErrorKind::RateLimited => Some(Condition::Busy),
        // What OpenDAL's retries gave up on: a service that keeps failing or is away, or a
        // device that fails.
        _ if error.is_temporary() => Some(Condition::Failing),
        _ => None,
    }
}

fn io_condition(error: &io::Error) -> Option<Condition> {
    match error.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => Some(Condition::Full),
        _ => None,
    }
}

/// Turns an adapter's result into the domain's.
pub(crate) trait OrStorage<T> {
    /// Wraps the failure as a [`quay_core::Error`].
    fn or_storage(self) -> quay_core::Result<T>;
}

impl<T, E: Into<StorageError>> OrStorage<T> for Result<T, E> {
    fn or_storage(self) -> quay_core::Result<T> {
        self.map_err(|e| e.into().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_codes_name_conditions_that_pass() {
        for (code, condition) in [
            (13, Some(Condition::Full)),
            (5, Some(Condition::Busy)),
            (517, Some(Condition::Busy)),    // SQLITE_BUSY_SNAPSHOT
            (266, Some(Condition::Failing)), // SQLITE_IOERR_READ
            (2067, None),                    // SQLITE_CONSTRAINT_UNIQUE: a fault
        ] {
            assert_eq!(sqlite_condition(code), condition, "{code}");
        }
        for (sqlstate, condition) in [
            ("53100", Some(Condition::Full)),
            ("08006", Some(Condition::Failing)),
            ("57P01", Some(Condition::Failing)),
            ("40P01", Some(Condition::Busy)),
            ("23505", None),
            ("42P01", None),
        ] {
            assert_eq!(postgres_condition(sqlstate), condition, "{sqlstate}");
        }
    }

    #[test]
    fn a_full_device_is_named_wherever_it_is_in_the_causes() {
        let full = io::Error::from(io::ErrorKind::StorageFull);
        let objects =
            opendal::Error::new(opendal::ErrorKind::Unexpected, "write failed").set_source(full);
        let error: quay_core::Error = StorageError::from(objects).into();
        assert_eq!(
            error.to_string(),
            "no space left in blob storage; try again later"
        );

        // A refusal of the store is a fault to fix, not a condition that passes.
        let other = opendal::Error::new(opendal::ErrorKind::PermissionDenied, "denied");
        let error: quay_core::Error = StorageError::from(other).into();
        assert!(matches!(error, quay_core::Error::Storage(_)), "{error}");
    }
}
