//! Ports: what the use cases need from the outside world, one small trait per concern.
//!
//! Adapters (`quay-storage`) implement them; nothing here knows about SQL, object stores or
//! HTTP. Time is always passed in (`now_ms`), so that a store never reads a clock of its own
//! and tests can move time freely. Answers that stop being true merely because time passes
//! (a tag that expires, an upload link that lapses) say until when they hold
//! (`fresh_until_ms`), so that a cache can keep them exactly that long.
//!
//! The metadata's traits are cut along what a cache keeps: a trait holds reads that a cache
//! may answer together with every write that makes them stale (`RepositoryStore`,
//! `BlobIndex`, `ManifestStore`, `TagStore`, `RepositoryCollection`); the other reads and
//! writes are traits of their own, so that a cache implements only what it caches and each
//! use case holds only the traits it calls ([`MetadataStores`]).
//!
//! Changes carry their usage log entries ([`crate::audit::AuditEntry`]), which the store
//! records in the same transaction as the change.

mod accounts;
mod blobs;
mod events;
mod gc;
mod log_exports;
mod manifests;
mod metadata;
mod mirror;
mod proxy;
mod prune;
mod quota;
mod repositories;
mod tags;
mod uploads;
mod upstream;

pub use self::accounts::*;
pub use self::blobs::*;
pub use self::events::*;
pub use self::gc::*;
pub use self::log_exports::*;
pub use self::manifests::*;
pub use self::metadata::*;
pub use self::mirror::*;
pub use self::proxy::*;
pub use self::prune::*;
pub use self::quota::*;
pub use self::repositories::*;
pub use self::tags::*;
pub use self::uploads::*;
pub use self::upstream::*;
pub use crate::repository::{
    Creation, NewRepository, Repository, RepositoryDetails, RepositoryId, RepositoryState,
};
