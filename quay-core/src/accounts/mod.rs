//! The use cases of tenancy: users, organizations, teams, robots, repositories,
//! permissions, stored credentials and the usage log, with Quay's rules.
//!
//! Like [`crate::Registry`], [`Accounts`] holds no state besides its stores. It checks the
//! rules that are about the data (a name is free, a robot belongs to the namespace it is
//! granted in, an organization keeps an admin, the namespace owner stays admin) and writes
//! each change with its usage log entry. Every use case takes the
//! [`Caller`](crate::access::Caller) and the names of what it acts on; it first passes a
//! gate in `access.rs`, which gathers the facts and asks [`crate::access::decide`], and works
//! on the record the gate hands it. Secrets arrive hashed: hashing is `quay-auth`'s, and
//! nothing here ever sees a password.

mod access;
mod authorized_emails;
mod credentials;
mod entities;
mod event_notifications;
mod logs;
mod mirror;
mod organizations;
mod proxy_cache;
mod prune;
mod quota;
mod repositories;
mod robots;
mod tenancy;
mod users;

pub use self::access::{
    Membership, OrganizationOverview, OwnAccount, QuotaOwner, RepositoryOverview, SettingsOwner,
    TeamRoster,
};
pub use self::credentials::ApplicationDetails;
pub use self::entities::{EntityKind, FoundEntity};
pub use self::logs::{ExportRequest, LogOwner, export_object};
pub use self::organizations::{NamespaceChange, OrganizationMember, TeamSettings};
pub use self::quota::LimitChange;
pub use self::repositories::{Delegate, RepositoryPage};
pub use self::robots::{RobotListing, RobotOwner, RobotSignup};
pub use self::tenancy::Accounts;
pub use self::users::{UserSignup, validate_email, validate_password};
