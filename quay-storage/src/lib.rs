//! Storage adapters of the registry: the ports of `quay-core` on real storage.
//!
//! - [`ObjectStorage`]: blob and upload bytes on any [OpenDAL](opendal) service (the local
//!   filesystem for the embedded default; S3-compatible stores in production).
//! - [`SqlMetadata`]: repositories, manifests, tags with their history, uploads in progress,
//!   accounts, teams, permissions, credentials and the usage log, in SQLite (the embedded default) or PostgreSQL, through SeaORM, with migrations applied
//!   on connect.
//! - [`DistributedStorage`]: several storage locations as one store, each node preferring its
//!   own, with the [`Replicator`] copying every blob to the default locations
//!   (geo-replication).
//! - [`CachedMetadata`]: a moka cache in front of the metadata for the hot reads (a tag's
//!   manifest, a blob's link, a repository's tag list); on PostgreSQL, [`PostgresPeers`]
//!   keeps the caches of several nodes true to each other's writes.
//! - [`PullLog`]: pull entries of the usage log, written in batches off the request path.
//!
//! The crate offers adapters only: `quay-app` assembles them into the application.
//!
//! Nothing outside this crate sees SeaORM or OpenDAL types: the registry core and the HTTP
//! frontend only know the traits in [`quay_core::ports`].

mod cache;
mod error;
mod local_file;
mod local_parts;
mod locations;
mod object_storage;
mod peers;
mod pull_log;
mod sql;

pub use crate::cache::{CacheChange, CacheOptions, CachedMetadata, Peers};
pub use crate::error::StorageError;
pub use crate::locations::{
    DistributedStorage, Replicated, Replicator, StorageLocation, StorageLocations,
};
pub use crate::object_storage::{ObjectStorage, S3Location, blob_path};
pub use crate::peers::PostgresPeers;
pub use crate::pull_log::PullLog;
pub use crate::sql::{MetadataOptions, SqlMetadata, shown_database_uri};
