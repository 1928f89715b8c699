//! The use cases of tenancy: users, organizations, teams, robots, repositories,
//! permissions, stored credentials and the usage log, with Quay's rules.
//!
//! Like [`crate::Registry`], [`Accounts`] holds no state besides its stores. It checks the
//! rules that are about the data (a name is free, a robot belongs to the namespace it is
//! granted in, an organization keeps an admin, the namespace owner stays admin) and writes
//! each change with its usage log entry. Whether the caller may ask is answered by the
//! gates in `access.rs`, which take the caller's identity, gather the facts and ask
//! [`crate::access::decide`]; a change takes the record a gate handed out. Secrets arrive
//! hashed: hashing is `quay-auth`'s, and nothing here ever sees a password.

mod access;
mod credentials;
mod logs;
mod organizations;
mod prune;
mod quota;
mod repositories;
mod robots;
mod users;

pub use self::access::{Membership, OrganizationOverview, TeamRoster};
pub use self::organizations::{OrganizationMember, TeamSettings};
pub use self::prune::PruneScope;
pub use self::quota::LimitChange;
pub use self::repositories::{Delegate, RepositoryPage};
pub use self::robots::RobotSignup;
pub use self::users::{UserSignup, validate_email, validate_password};

use std::sync::Arc;

use crate::account::{AccountRecord, NamespaceKind, NamespaceRecord};
use crate::audit::{Actor, AuditEntry, LogKind};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::names::Namespace;
use crate::permission::PermissionSettings;
use crate::ports::{AccountDirectory, MetadataStore};

/// Tenancy's use cases.
pub struct Accounts {
    directory: Arc<dyn AccountDirectory>,
    metadata: Arc<dyn MetadataStore>,
    permissions: PermissionSettings,
    clock: Arc<dyn Clock>,
}

impl Accounts {
    /// Use cases on these stores, deciding with `permissions`. `metadata` is the registry's
    /// (repository changes go through it, so that its cache sees them).
    pub fn new(
        directory: Arc<dyn AccountDirectory>,
        metadata: Arc<dyn MetadataStore>,
        permissions: PermissionSettings,
    ) -> Self {
        Self {
            directory,
            metadata,
            permissions,
            clock: Arc::new(SystemClock),
        }
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The stores, for reads that need no rule.
    pub fn directory(&self) -> &dyn AccountDirectory {
        self.directory.as_ref()
    }

    /// The time on this use case's clock, in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn entry(&self, actor: &Actor, kind: LogKind) -> AuditEntry {
        actor.entry(kind, self.now_ms())
    }

    /// The namespace named `name`, which must exist.
    pub async fn namespace(&self, name: &Namespace) -> Result<NamespaceRecord> {
        self.directory
            .namespace(name)
            .await?
            .ok_or_else(|| not_found("namespace", name.as_str()))
    }

    /// The organization named `name`, which must exist and be one.
    pub async fn organization(&self, name: &Namespace) -> Result<NamespaceRecord> {
        let namespace = self.namespace(name).await?;
        if namespace.kind != NamespaceKind::Organization {
            return Err(not_found("organization", name.as_str()));
        }
        Ok(namespace)
    }

    /// The user or robot named `name`, which must exist.
    pub async fn account(&self, name: &str) -> Result<AccountRecord> {
        self.directory
            .account(name)
            .await?
            .ok_or_else(|| not_found("user", name))
    }
}

fn not_found(what: &'static str, name: &str) -> Error {
    Error::NotFound {
        what,
        name: name.to_string(),
    }
}

/// `Ok` if a change found what it was to change, else [`Error::NotFound`].
fn found(existed: bool, what: &'static str, name: &str) -> Result<()> {
    if existed {
        Ok(())
    } else {
        Err(not_found(what, name))
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidRequest(message.into())
}
