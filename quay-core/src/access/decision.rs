//! The one place that decides who may do what: [`decide`], a pure function of the caller,
//! the action and the facts about its target.
//!
//! The rules are Quay's (`auth/permissions.py`, `auth/scopes.py`). A subject's effective
//! role on a repository is the highest role any source gives it:
//!
//! | source | role |
//! |---|---|
//! | a permission on the repository, for the subject itself | that role |
//! | a permission on the repository, for a team the subject is in | that role |
//! | membership of a team with the `admin` team role in the owning organization | admin |
//! | owning the namespace (a user's own namespace) | admin |
//! | a public repository (anyone; anonymous only with `FEATURE_ANONYMOUS_ACCESS`) | read |
//! | a global read-only superuser | read |
//! | a superuser, with `FEATURE_SUPERUSERS_FULL_ACCESS` | admin |
//!
//! Reading needs read, pushing and deleting need write, administering needs admin. A
//! repository that does not exist yet may be created (by a push) by whoever may create
//! repositories in its namespace: the namespace's owner, members of an organization team
//! with the `creator` or `admin` team role, and full-access superusers; a namespace that
//! does not exist, by a user's push where `CREATE_NAMESPACE_ON_PUSH` allows it.
//!
//! The credential limits what its holder may do: a registry token allows exactly its
//! grants and nothing else; an OAuth token allows at most its scopes (`repo:*` caps the
//! role, `repo:create`, `org:admin`, `user:read`, `user:admin` open the matching actions);
//! superuser powers need the `super:user` scope or a credential that is not a token.
//! Robots have no account of their own to read or administer.
//!
//! A refusal looks the same whether or not the target exists, so that nobody learns what
//! they may not see; only a caller who could act on anything, a full-access superuser,
//! learns that a namespace is missing ([`Decision::NotFound`]).

use super::identity::{Identity, PrincipalKind, Scopes};
use crate::names::RepositoryPath;
use crate::permission::{
    NamespaceAction, NamespaceFacts, PermissionSettings, RepositoryAction, RepositoryFacts, Role,
    Subject, Superuser, TeamRole, Visibility,
};
use crate::ports::RepositoryAccess;

/// What a caller wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Something to a repository.
    Repository(RepositoryAction),
    /// Read a repository's usage log: its admins, and superusers who oversee everything.
    ReadRepositoryLogs,
    /// List the repositories one may read (an OAuth token needs a `repo:` scope).
    ListRepositories,
    /// See the registry's catalog (`/v2/_catalog`), which shows only what one may read:
    /// anyone authenticated, anonymous callers with `FEATURE_PUBLIC_CATALOG`.
    ListCatalog,
    /// Something in a namespace.
    Namespace(NamespaceAction),
    /// Read a namespace's quota: its members, and every superuser.
    ReadNamespaceQuota,
    /// Read a team's members: the team's own members, and the organization's admins.
    ReadTeamMembers,
    /// Read the caller's own account (`user:read`).
    ReadOwnAccount,
    /// Change the caller's own account, robots, tokens and organizations (`user:admin`).
    AdministerOwnAccount,
    /// Read anything a superuser may read: users, every log, every quota. Global
    /// read-only superusers too.
    OverseeRegistry,
    /// Change anything a superuser may change: users, quotas.
    AdministerRegistry,
}

impl From<RepositoryAction> for Action {
    fn from(action: RepositoryAction) -> Self {
        Self::Repository(action)
    }
}

impl From<NamespaceAction> for Action {
    fn from(action: NamespaceAction) -> Self {
        Self::Namespace(action)
    }
}

/// What the rules know about an action's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Facts<'a> {
    /// A repository, as the caller stands with it.
    Repository {
        /// Its path (what a registry token's grants name).
        path: &'a RepositoryPath,
        /// Whether it exists, and the caller's standing.
        standing: RepositoryStanding,
    },
    /// A namespace, with the caller's standing in it; `None` when it does not exist.
    Namespace(Option<NamespaceFacts>),
    /// A team of an organization (whose facts are as for [`Facts::Namespace`]).
    Team {
        /// The caller's standing in the organization.
        organization: Option<NamespaceFacts>,
        /// Whether the caller is in the team.
        member: bool,
    },
    /// Nothing to know: the caller's own account, or the whole registry.
    Caller,
}

/// Where a caller stands with a repository that exists or does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RepositoryStanding {
    /// The repository exists.
    Exists(RepositoryFacts),
    /// It does not; its namespace does (with the caller's standing in it) or not (`None`).
    Missing(Option<NamespaceFacts>),
}

impl From<&RepositoryAccess> for RepositoryStanding {
    fn from(access: &RepositoryAccess) -> Self {
        match (&access.repository, &access.namespace) {
            (Some((_, visibility)), _) => Self::Exists(RepositoryFacts {
                visibility: *visibility,
                namespace: access.namespace_facts,
                direct_role: access.direct_role,
                team_role: access.team_role,
            }),
            (None, Some(_)) => Self::Missing(Some(access.namespace_facts)),
            (None, None) => Self::Missing(None),
        }
    }
}

/// The answer to "may this caller do this?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Yes.
    Allow,
    /// No: answer as for a target the caller may not see, whether or not it exists.
    Refuse,
    /// The caller could, but the target does not exist, and the caller may know that.
    NotFound,
}

impl Decision {
    /// Whether the answer is yes.
    pub fn allowed(self) -> bool {
        self == Self::Allow
    }

    fn of(allowed: bool) -> Self {
        if allowed { Self::Allow } else { Self::Refuse }
    }
}

/// Whether `identity` may do `action` to the target described by `facts`.
pub fn decide(
    identity: &Identity,
    action: Action,
    facts: &Facts<'_>,
    settings: PermissionSettings,
) -> Decision {
    let principal = match identity {
        Identity::Anonymous => None,
        Identity::Account(principal) => Some(principal),
        // A registry token allows its grants and nothing else.
        Identity::Token { grants, .. } => {
            let granted = match (action, facts) {
                (Action::Repository(action), Facts::Repository { path, .. }) => grants
                    .iter()
                    .any(|grant| grant.repository == **path && grant.actions.allow(action)),
                _ => false,
            };
            return Decision::of(granted);
        }
    };
    let scopes = principal.and_then(|principal| principal.scopes);
    if let Some(scopes) = scopes
        && !scopes_allow(&scopes, action)
    {
        return Decision::Refuse;
    }
    let subject = subject(identity);
    let is_user = matches!(subject, Subject::User(_));
    let full_access = subject == Subject::User(Superuser::Yes) && settings.superusers_full_access;
    let overseer = subject == Subject::User(Superuser::ReadOnly) || full_access;
    let admin = Action::Repository(RepositoryAction::Admin);
    match (action, facts) {
        (Action::Repository(action), Facts::Repository { standing, .. }) => {
            // Writing a missing repository creates it, which a token may only with
            // `repo:create`.
            let creates = action == RepositoryAction::Write
                && matches!(standing, RepositoryStanding::Missing(_));
            if creates && scopes.is_some_and(|scopes| !scopes.repo_create) {
                Decision::Refuse
            } else {
                on_repository(subject, action, *standing, settings)
            }
        }
        (Action::ReadRepositoryLogs, Facts::Repository { standing, .. }) => {
            if overseer {
                Decision::Allow
            } else if scopes.is_some_and(|scopes| !scopes_allow(&scopes, admin)) {
                Decision::Refuse
            } else {
                on_repository(subject, RepositoryAction::Admin, *standing, settings)
            }
        }
        (Action::Namespace(action), Facts::Namespace(namespace)) => {
            in_namespace(subject, action, *namespace, settings)
        }
        (Action::ReadNamespaceQuota, Facts::Namespace(namespace)) => {
            if matches!(subject, Subject::User(Superuser::Yes | Superuser::ReadOnly)) {
                Decision::Allow
            } else {
                in_namespace(subject, NamespaceAction::View, *namespace, settings)
            }
        }
        (
            Action::ReadTeamMembers,
            Facts::Team {
                organization,
                member,
            },
        ) => {
            let as_admin = if scopes.is_none_or(|scopes| scopes.org_admin) {
                in_namespace(
                    subject,
                    NamespaceAction::Administer,
                    *organization,
                    settings,
                )
            } else {
                Decision::Refuse
            };
            match as_admin {
                Decision::Refuse if *member => {
                    in_namespace(subject, NamespaceAction::View, *organization, settings)
                }
                decision => decision,
            }
        }
        (Action::ListRepositories, Facts::Caller) => Decision::Allow,
        (Action::ListCatalog, Facts::Caller) => {
            Decision::of(subject != Subject::Anonymous || settings.public_catalog)
        }
        (Action::ReadOwnAccount | Action::AdministerOwnAccount, Facts::Caller) => {
            Decision::of(is_user)
        }
        (Action::OverseeRegistry, Facts::Caller) => Decision::of(matches!(
            subject,
            Subject::User(Superuser::Yes | Superuser::ReadOnly)
        )),
        (Action::AdministerRegistry, Facts::Caller) => {
            Decision::of(subject == Subject::User(Superuser::Yes))
        }
        // An action asked about the wrong kind of target is a caller's mistake; refusing
        // is the safe answer.
        _ => Decision::Refuse,
    }
}

/// The most a credential's OAuth scopes allow, whatever the caller's standing.
fn scopes_allow(scopes: &Scopes, action: Action) -> bool {
    match action {
        Action::Repository(action) => scopes.repo >= Some(action.required_role()),
        // Overseers read them with `super:user`, admins with `repo:admin`: `decide` knows which.
        Action::ReadRepositoryLogs
        | Action::Namespace(NamespaceAction::View)
        | Action::ReadNamespaceQuota
        | Action::ReadTeamMembers
        | Action::ListCatalog => true,
        Action::Namespace(NamespaceAction::CreateRepository) => scopes.repo_create,
        Action::Namespace(NamespaceAction::Administer) => scopes.org_admin,
        Action::ListRepositories => scopes.repo.is_some(),
        Action::ReadOwnAccount => scopes.user_read || scopes.user_admin,
        Action::AdministerOwnAccount => scopes.user_admin,
        Action::OverseeRegistry | Action::AdministerRegistry => scopes.super_user,
    }
}

/// The identity as the role rules see it: superuser powers need the `super:user` scope
/// when the credential is an OAuth token.
fn subject(identity: &Identity) -> Subject {
    let Some(principal) = identity.principal() else {
        return Subject::Anonymous;
    };
    match principal.kind {
        PrincipalKind::Robot => Subject::Robot,
        PrincipalKind::User(standing) => {
            let scoped = principal.scopes.is_none_or(|scopes| scopes.super_user);
            Subject::User(if scoped { standing } else { Superuser::No })
        }
    }
}

fn on_repository(
    subject: Subject,
    action: RepositoryAction,
    standing: RepositoryStanding,
    settings: PermissionSettings,
) -> Decision {
    let facts = match standing {
        RepositoryStanding::Exists(facts) => facts,
        // Writing a missing repository creates it.
        RepositoryStanding::Missing(Some(namespace)) if action == RepositoryAction::Write => {
            return in_namespace(
                subject,
                NamespaceAction::CreateRepository,
                Some(namespace),
                settings,
            );
        }
        // Only those who could read anything in the namespace learn that it is missing;
        // everyone else is refused as for a private repository. A proxy cache
        // organization's missing repository is made by the pull, with the visibility new
        // repositories get: whoever could read it then may pull it now.
        RepositoryStanding::Missing(Some(namespace)) => RepositoryFacts {
            visibility: if namespace.proxy_cache {
                settings.push_visibility
            } else {
                Visibility::Private
            },
            namespace,
            direct_role: None,
            team_role: None,
        },
        // A missing namespace may be created by a user's push, where configured. Otherwise
        // only a superuser with full access learns that it is missing.
        RepositoryStanding::Missing(None) => {
            let creates = action == RepositoryAction::Write
                && settings.create_namespace_on_push
                && matches!(subject, Subject::User(_));
            let full_access =
                subject == Subject::User(Superuser::Yes) && settings.superusers_full_access;
            return match (creates, full_access) {
                (true, _) => Decision::Allow,
                (false, true) => Decision::NotFound,
                (false, false) => Decision::Refuse,
            };
        }
    };
    Decision::of(
        effective_role(subject, &facts, settings)
            .is_some_and(|role| role >= action.required_role()),
    )
}

fn in_namespace(
    subject: Subject,
    action: NamespaceAction,
    namespace: Option<NamespaceFacts>,
    settings: PermissionSettings,
) -> Decision {
    let full_access = subject == Subject::User(Superuser::Yes) && settings.superusers_full_access;
    let Some(facts) = namespace else {
        return if full_access {
            Decision::NotFound
        } else {
            Decision::Refuse
        };
    };
    if subject == Subject::Anonymous {
        return Decision::Refuse;
    }
    Decision::of(
        full_access
            || facts.owner
            || match action {
                NamespaceAction::View => facts.team_role.is_some(),
                NamespaceAction::CreateRepository => facts.team_role >= Some(TeamRole::Creator),
                NamespaceAction::Administer => facts.team_role == Some(TeamRole::Admin),
            },
    )
}

/// The highest role `subject` has on an existing repository, if any.
fn effective_role(
    subject: Subject,
    facts: &RepositoryFacts,
    settings: PermissionSettings,
) -> Option<Role> {
    let public_read = (facts.visibility == Visibility::Public
        && (subject != Subject::Anonymous || settings.anonymous_access))
        .then_some(Role::Read);
    // Anonymous callers hold nothing but what public visibility gives everyone.
    if subject == Subject::Anonymous {
        return public_read;
    }
    let full_access_superuser =
        subject == Subject::User(Superuser::Yes) && settings.superusers_full_access;
    [
        facts.direct_role,
        facts.team_role,
        (facts.namespace.team_role == Some(TeamRole::Admin)).then_some(Role::Admin),
        facts.namespace.owner.then_some(Role::Admin),
        full_access_superuser.then_some(Role::Admin),
        (subject == Subject::User(Superuser::ReadOnly)).then_some(Role::Read),
        public_read,
        // A proxy cache organization's members pull whatever it caches, or will cache on
        // that pull (Quay's rule), without a permission on each repository.
        (facts.namespace.proxy_cache && facts.namespace.team_role.is_some()).then_some(Role::Read),
    ]
    .into_iter()
    .flatten()
    .max()
}

/// Which repositories a listing for `identity` needs to consider before
/// [`listed_role`] decides on each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListingReach {
    /// Every repository: the caller may read them all.
    Everything,
    /// Those the caller has a standing with (and public ones, if asked).
    Standing,
    /// Public ones only: the caller is anonymous.
    Public,
}

/// How far a repository listing for `identity` reaches.
pub fn listing_reach(identity: &Identity, settings: PermissionSettings) -> ListingReach {
    match subject(identity) {
        Subject::Anonymous => ListingReach::Public,
        Subject::User(Superuser::ReadOnly) => ListingReach::Everything,
        Subject::User(Superuser::Yes) if settings.superusers_full_access => {
            ListingReach::Everything
        }
        _ => ListingReach::Standing,
    }
}

/// The role a listing shows `identity` for a repository it found, or `None` when the caller
/// may not see it.
pub fn listed_role(
    identity: &Identity,
    facts: &RepositoryFacts,
    settings: PermissionSettings,
) -> Option<Role> {
    effective_role(subject(identity), facts, settings)
}
