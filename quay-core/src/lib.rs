//! The rules of a Quay-compatible container registry, without any I/O.
//!
//! This crate is the registry's domain: what names are valid, what a manifest says, how a
//! tag's history is kept, and the use cases that combine storage into a registry. It talks to
//! the world only through the traits in [`ports`], which `quay-storage` implements on real
//! databases and object stores; it never imports a runtime, an HTTP stack, SQL or an object
//! store client. That keeps the rules testable as plain functions, and lets a service embed
//! the registry on whatever storage it already has.
//!
//! A tour:
//! - [`names`]: validated newtypes ([`RepositoryPath`], [`TagName`], [`Digest`], ...). Parse
//!   once at the edge; a value of these types is valid by construction.
//! - [`manifest`]: one pure parser for OCI and Docker manifests (the fuzz target).
//! - [`tag`]: the time machine's rules for moving and deleting tags.
//! - [`hash`] and [`range`]: resumable hashing of uploads, and the byte-range headers.
//! - [`permission`]: who may do what, as pure functions of facts; [`account`]: users,
//!   organizations, robots and teams; [`audit`]: the usage log's entries.
//! - [`ports`]: the storage traits; [`access`]: identities and the authorizer trait;
//!   [`secret`]: values that never print.
//! - [`events`]: what notifications carry and the rules of their delivery.
//! - [`registry`]: the use cases of the distribution API, on top of the ports;
//!   [`accounts`]: those of tenancy (users, organizations, teams, robots, permissions).
//!
//! Errors are one enum, [`Error`], whose variants name conditions, not HTTP statuses.

pub mod access;
pub mod account;
pub mod accounts;
pub mod audit;
pub mod clock;
pub mod duration;
mod error;
pub mod events;
pub mod gc;
pub mod hash;
pub mod manifest;
pub mod mirror;
pub mod names;
pub mod permission;
pub mod ports;
pub mod proxy;
pub mod prune;
pub mod quota;
pub mod range;
pub mod registry;
pub mod repository;
pub mod secret;
pub mod tag;
pub mod upstream;

pub use crate::accounts::Accounts;
pub use crate::error::{BoxError, Error, Result};
pub use crate::names::{Digest, DigestAlgorithm, Reference, RepositoryPath, TagName};
pub use crate::registry::{Registry, RegistrySettings, Stores};
