//! The registry's use cases: pull, push, upload, delete and list, combining the ports.
//!
//! [`Registry`] holds no state of its own besides its settings: everything lives behind the
//! ports, so any number of `Registry` values (in one process or on many nodes) can serve the
//! same data. Every use case takes the [`Caller`](crate::access::Caller) and asks the
//! registry's [`Authorizer`](crate::access::Authorizer) before it reads or changes anything;
//! a frontend only turns credentials into the caller.

mod grants;
mod health;
mod listing;
mod mirror;
mod proxied;
mod prune;
mod pull;
mod push;
mod quota;
mod settings;
mod stores;
mod tags;
mod upload;

pub use self::health::Health;
pub use self::listing::{CatalogPage, Page, Referrers};
pub use self::proxied::{PulledManifest, Staleness};
pub use self::pull::BlobRead;
pub use self::push::PushedManifest;
pub use self::settings::RegistrySettings;
pub use self::stores::{Registry, Stores};
pub use self::tags::{TagEdit, TagHistoryPage};
pub use self::upload::{Mount, UploadStatus};
