//! Accounts and what they belong to: users and organizations own namespaces, robots belong
//! to a namespace, teams to an organization.
//!
//! Users, robots, organizations and teams are all named by the namespace grammar
//! ([`Namespace`]); a robot's full name is `<namespace>+<short name>`.

use crate::names::Namespace;
pub use crate::names::RobotName;
use crate::permission::{Role, Superuser, TeamRole};

/// Database id of an account (a user or a robot).
pub type AccountId = i64;
/// Database id of a namespace (a user's or an organization's).
pub type NamespaceId = i64;
/// Database id of a team.
pub type TeamId = i64;

/// Whether a namespace is a user's or an organization's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NamespaceKind {
    /// A user's own namespace.
    User,
    /// An organization.
    Organization,
}

impl NamespaceKind {
    /// The kind's name, as stored and as Quay's API shows it (`user` or `org`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Organization => "org",
        }
    }
}

/// A namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceRecord {
    /// Database id.
    pub id: NamespaceId,
    /// Its name.
    pub name: Namespace,
    /// User or organization.
    pub kind: NamespaceKind,
    /// Disabled namespaces can neither log in nor be used.
    pub enabled: bool,
    /// Contact address.
    pub email: Option<String>,
    /// The time-machine window: how long deleted and expired tags stay restorable.
    pub tag_expiration_s: i64,
}

/// Whether an account is a person or a robot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccountKind {
    /// A person with a password.
    User,
    /// A robot with a token.
    Robot,
}

/// An account that can log in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRecord {
    /// Database id.
    pub id: AccountId,
    /// User or robot.
    pub kind: AccountKind,
    /// The username, or the robot's full name.
    pub name: String,
    /// A user's own namespace; a robot's owner.
    pub namespace: NamespaceId,
    /// Contact address (users).
    pub email: Option<String>,
    /// Disabled accounts cannot log in.
    pub enabled: bool,
    /// Made a superuser in the database (`quay-bin user create --superuser`), besides
    /// those `SUPER_USERS` names.
    pub superuser: bool,
    /// A robot's description.
    pub description: Option<String>,
    /// A robot's free-form metadata (JSON).
    pub metadata: Option<String>,
    /// When it was created, epoch milliseconds.
    pub created_ms: i64,
}

/// A team of an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamRecord {
    /// Database id.
    pub id: TeamId,
    /// The organization.
    pub organization: NamespaceId,
    /// The team's name.
    pub name: Namespace,
    /// What the team may do in the organization.
    pub role: TeamRole,
    /// Free text.
    pub description: String,
    /// Members (users and robots).
    pub member_count: u64,
    /// Repositories the team has a permission on.
    pub repository_count: u64,
}

/// Who holds a permission on a repository, or is a default permission's delegate.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Grantee {
    /// A user or robot.
    Account(AccountId),
    /// A team.
    Team(TeamId),
}

/// A permission on a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionRecord {
    /// Who holds it.
    pub grantee: Grantee,
    /// Its display name: the username, robot name or team name.
    pub name: String,
    /// Whether a robot holds it.
    pub is_robot: bool,
    /// The role granted.
    pub role: Role,
}

/// A default permission of an organization: applied to every repository created in it
/// (by `activating_user` only, when set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrototypeRecord {
    /// Its public id.
    pub uuid: String,
    /// The creator it applies to; `None` for every creator.
    pub activating_account: Option<(AccountId, String)>,
    /// Who receives the permission, with its display name.
    pub delegate: (Grantee, String),
    /// The role given.
    pub role: Role,
}

/// The superusers and global read-only superusers of the deployment (`SUPER_USERS`,
/// `GLOBAL_READONLY_SUPER_USERS`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Superusers {
    /// Full superusers.
    pub full: Vec<String>,
    /// Read-only superusers (they take precedence when a user is in both).
    pub read_only: Vec<String>,
}

impl Superusers {
    /// The standing of `username`; `flagged` when the account is a superuser in the
    /// database.
    pub fn of(&self, username: &str, flagged: bool) -> Superuser {
        if self.read_only.iter().any(|name| name == username) {
            Superuser::ReadOnly
        } else if flagged || self.full.iter().any(|name| name == username) {
            Superuser::Yes
        } else {
            Superuser::No
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_superusers_take_precedence() {
        let superusers = Superusers {
            full: vec!["root".into(), "both".into()],
            read_only: vec!["auditor".into(), "both".into()],
        };
        assert_eq!(superusers.of("root", false), Superuser::Yes);
        assert_eq!(superusers.of("auditor", false), Superuser::ReadOnly);
        assert_eq!(superusers.of("auditor", true), Superuser::ReadOnly);
        assert_eq!(superusers.of("both", false), Superuser::ReadOnly);
        assert_eq!(superusers.of("someone", false), Superuser::No);
        assert_eq!(superusers.of("flagged", true), Superuser::Yes);
    }
}
