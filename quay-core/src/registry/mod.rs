//! The registry's use cases: pull, push, upload, delete and list, combining the ports.
//!
//! [`Registry`] holds no state of its own besides its settings: everything lives behind the
//! ports, so any number of `Registry` values (in one process or on many nodes) can serve the
//! same data. Authorization is not done here: the frontend asks its
//! [`Authorizer`](crate::access::Authorizer) before calling a use case.

mod health;
mod listing;
mod prune;
mod pull;
mod push;
mod quota;
mod settings;
mod stores;
mod tags;
mod upload;

pub use self::health::Health;
pub use self::listing::{Page, Referrers};
pub use self::pull::BlobRead;
pub use self::push::PushedManifest;
pub use self::settings::RegistrySettings;
pub use self::stores::{Registry, Stores};
pub use self::tags::TagHistoryPage;
pub use self::upload::UploadStatus;
