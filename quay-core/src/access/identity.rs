//! Who is asking: the identity a frontend resolves a request's credentials to.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::account::AccountId;
use crate::audit::{Actor, CredentialKind, Performer};
use crate::error::{Error, Result};
use crate::names::RepositoryPath;
use crate::permission::{RepositoryAction, Role, Superuser};

/// Whether an authenticated account is a person or a robot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// A user, with their standing among superusers.
    User(Superuser),
    /// A robot.
    Robot,
}

/// An authenticated account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Its id.
    pub account: AccountId,
    /// Username or robot name.
    pub name: String,
    /// User or robot.
    pub kind: PrincipalKind,
    /// How it authenticated.
    pub credential: CredentialKind,
    /// The limits of an OAuth token; `None` when the credential carries all of the
    /// account's powers (a password, a session, a robot or app token).
    pub scopes: Option<Scopes>,
}

/// The OAuth scopes of a token (Quay's `auth/scopes.py`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scopes {
    /// `repo:read`, `repo:write`, `repo:admin`: the highest role on repositories.
    pub repo: Option<Role>,
    /// `repo:create`.
    pub repo_create: bool,
    /// `org:admin`.
    pub org_admin: bool,
    /// `user:read`.
    pub user_read: bool,
    /// `user:admin`.
    pub user_admin: bool,
    /// `super:user`.
    pub super_user: bool,
}

impl Scopes {
    /// Every scope.
    pub const ALL_NAMES: [&'static str; 8] = [
        "repo:read",
        "repo:write",
        "repo:admin",
        "repo:create",
        "user:read",
        "user:admin",
        "org:admin",
        "super:user",
    ];

    /// Parses a space- or comma-separated scope list.
    pub fn parse(text: &str) -> Result<Self> {
        let mut scopes = Self::default();
        for scope in text.split([' ', ',']).filter(|s| !s.is_empty()) {
            let role = |role| Some(role).max(scopes.repo);
            match scope {
                "repo:read" => scopes.repo = role(Role::Read),
                "repo:write" => scopes.repo = role(Role::Write),
                "repo:admin" => scopes.repo = role(Role::Admin),
                "repo:create" => scopes.repo_create = true,
                "user:read" => scopes.user_read = true,
                "user:admin" => scopes.user_admin = true,
                "org:admin" => scopes.org_admin = true,
                "super:user" => scopes.super_user = true,
                other => {
                    return Err(Error::InvalidRequest(format!(
                        "unknown scope {other:?}; the scopes are {}",
                        Self::ALL_NAMES.join(", ")
                    )));
                }
            }
        }
        Ok(scopes)
    }

    /// The scope list, space-separated.
    pub fn names(&self) -> String {
        let mut names = BTreeSet::new();
        for role in Role::ALL {
            if self.repo >= Some(role) {
                names.insert(format!("repo:{}", role.as_str()));
            }
        }
        for (granted, name) in [
            (self.repo_create, "repo:create"),
            (self.user_read, "user:read"),
            (self.user_admin, "user:admin"),
            (self.org_admin, "org:admin"),
            (self.super_user, "super:user"),
        ] {
            if granted {
                names.insert(name.to_string());
            }
        }
        names.into_iter().collect::<Vec<_>>().join(" ")
    }
}

/// Actions a registry bearer token grants on one repository.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GrantedActions {
    /// `pull`.
    pub pull: bool,
    /// `push`.
    pub push: bool,
    /// `*`: everything, including deletion.
    pub all: bool,
}

impl GrantedActions {
    /// Whether the grant allows `action` (`*` is admin, push is write, pull is read).
    pub fn allow(&self, action: RepositoryAction) -> bool {
        match action {
            RepositoryAction::Read => self.pull || self.push || self.all,
            RepositoryAction::Write => self.push || self.all,
            RepositoryAction::Admin => self.all,
        }
    }

    /// The action names, in Quay's order.
    pub fn names(&self) -> Vec<&'static str> {
        [(self.push, "push"), (self.pull, "pull"), (self.all, "*")]
            .into_iter()
            .filter_map(|(granted, name)| granted.then_some(name))
            .collect()
    }
}

/// What a registry bearer token grants on one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The repository.
    pub repository: RepositoryPath,
    /// The actions.
    pub actions: GrantedActions,
}

/// The caller of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// Nobody authenticated.
    Anonymous,
    /// An account, with a credential that carries its own powers.
    Account(Principal),
    /// A registry bearer token: its grants are all its holder may do.
    Token {
        /// The account the token was issued to; `None` for an anonymous token.
        principal: Option<Principal>,
        /// What it grants.
        grants: Arc<[Grant]>,
    },
}

impl Identity {
    /// The authenticated account behind the identity.
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Self::Anonymous => None,
            Self::Account(principal) => Some(principal),
            Self::Token { principal, .. } => principal.as_ref(),
        }
    }

    /// The actor of use cases for this identity, from `ip` with `user_agent`.
    pub fn actor(&self, ip: Option<String>, user_agent: Option<String>) -> Actor {
        Actor {
            performer: self.principal().map(|principal| Performer {
                account: principal.account,
                name: principal.name.clone(),
                is_robot: principal.kind == PrincipalKind::Robot,
                credential: principal.credential.clone(),
            }),
            ip,
            user_agent,
        }
    }

    /// How a refusal reads to this identity: "authenticate" to nobody, "denied" to anyone
    /// else, whether or not the thing exists.
    pub fn refusal(&self) -> Error {
        match self {
            Self::Anonymous => Error::Unauthorized,
            _ => Error::Denied,
        }
    }
}

/// The caller of a use case: the identity that access is decided for, and the actor that
/// the usage log names for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Who they are.
    pub identity: Identity,
    /// As the usage log records them.
    pub actor: Actor,
}

impl Caller {
    /// `identity`, calling from `ip` with `user_agent`.
    pub fn new(identity: Identity, ip: Option<String>, user_agent: Option<String>) -> Self {
        let actor = identity.actor(ip, user_agent);
        Self { identity, actor }
    }

    /// Nobody in particular, from nowhere: an open registry's caller when who calls does
    /// not matter (an embedding service's own calls, benchmarks, tests).
    pub const ANONYMOUS: Self = Self {
        identity: Identity::Anonymous,
        actor: Actor {
            performer: None,
            ip: None,
            user_agent: None,
        },
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_imply_lower_repository_roles() {
        let scopes = Scopes::parse("repo:write,user:read org:admin").unwrap();
        assert_eq!(scopes.repo, Some(Role::Write));
        assert!(scopes.user_read && scopes.org_admin && !scopes.super_user);
        assert_eq!(scopes.names(), "org:admin repo:read repo:write user:read");
        assert_eq!(
            Scopes::parse("repo:admin repo:read").unwrap().repo,
            Some(Role::Admin)
        );
        let unknown = Scopes::parse("repo:everything").unwrap_err().to_string();
        assert!(
            unknown.contains("\"repo:everything\"") && unknown.contains("repo:read, repo:write"),
            "{unknown}"
        );
    }

    #[test]
    fn granted_actions() {
        let pull = GrantedActions {
            pull: true,
            ..Default::default()
        };
        assert!(pull.allow(RepositoryAction::Read));
        assert!(!pull.allow(RepositoryAction::Write));
        let push = GrantedActions {
            push: true,
            ..Default::default()
        };
        assert!(push.allow(RepositoryAction::Read) && push.allow(RepositoryAction::Write));
        assert!(!push.allow(RepositoryAction::Admin));
        let all = GrantedActions {
            all: true,
            ..Default::default()
        };
        assert!(all.allow(RepositoryAction::Admin));
        assert_eq!(all.names(), ["*"]);
    }
}
