//! The registry assembled: the one place where the adapters of `quay-storage`, the use cases
//! of `quay-core` and the authentication of `quay-auth` are put together, and where the
//! background tasks are started. `quay-bin` serves an [`App`]; a service embedding the
//! registry opens one the same way and mounts `quay_http::router` on it.
//!
//! - [`App::open`] (a database URI and storage locations) and [`App::embedded`] (SQLite
//!   and blobs in one directory) build the stores, the cache in front of the metadata, the
//!   use cases, the authenticator and the authorizer.
//! - [`App::start`] spawns the background tasks a [`Tasks`] asks for, the delivery of
//!   notifications among them ([`Deliveries`]) and the syncs of repository mirrors
//!   ([`MirrorWorker`]).

mod app;
mod deliveries;
mod error;
mod exports;
mod mail;
mod mirrors;
mod outbound;
mod tasks;
mod upstream;

pub use crate::app::{App, AppSettings};
pub use crate::deliveries::{Deliveries, DeliverySettings};
pub use crate::error::AppError;
pub use crate::exports::{ExportSettings, LogExporter};
pub use crate::mail::MailSettings;
pub use crate::mirrors::MirrorWorker;
pub use crate::outbound::OutboundPolicy;
pub use crate::tasks::{SizeBackfill, Tasks};
