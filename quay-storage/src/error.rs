//! Failures of the storage adapters.

/// What failed underneath the registry, by condition. Converted into
/// [`quay_core::Error::Storage`] at the ports, where the domain sees only that storage failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The metadata database failed.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The object store failed.
    #[error("object storage: {0}")]
    Objects(#[from] opendal::Error),
    /// A database URI names a database this registry cannot use.
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
        quay_core::Error::storage(error)
    }
}

/// Turns an adapter's result into the domain's.
pub(crate) trait OrStorage<T> {
    /// Wraps the failure as [`quay_core::Error::Storage`].
    fn or_storage(self) -> quay_core::Result<T>;
}

impl<T, E: Into<StorageError>> OrStorage<T> for Result<T, E> {
    fn or_storage(self) -> quay_core::Result<T> {
        self.map_err(|e| e.into().into())
    }
}
