//! Every combination of caller, credential, action, facts and settings, against the rules
//! restated as the spec's tables (one predicate per row) in `combinations.rs`; the rows
//! themselves and the special cases, as readable cases, in `cases.rs`. What both use: every
//! value of each input, and the tables.

mod cases;
mod combinations;

use super::*;
use crate::audit::CredentialKind;
use crate::names::RepositoryPath;
use crate::permission::{
    NamespaceAction, NamespaceFacts, PermissionSettings, RepositoryAction, RepositoryFacts, Role,
    Subject, Superuser, TeamRole, Visibility,
};

pub(super) const SUBJECTS: [Subject; 5] = [
    Subject::Anonymous,
    Subject::User(Superuser::No),
    Subject::User(Superuser::ReadOnly),
    Subject::User(Superuser::Yes),
    Subject::Robot,
];
pub(super) const REPOSITORY_ACTIONS: [RepositoryAction; 3] = [
    RepositoryAction::Read,
    RepositoryAction::Write,
    RepositoryAction::Admin,
];
pub(super) const NAMESPACE_ACTIONS: [NamespaceAction; 3] = [
    NamespaceAction::View,
    NamespaceAction::CreateRepository,
    NamespaceAction::Administer,
];

pub(super) fn optional<T: Copy>(all: &[T]) -> Vec<Option<T>> {
    std::iter::once(None)
        .chain(all.iter().copied().map(Some))
        .collect()
}

pub(super) fn all_settings() -> Vec<PermissionSettings> {
    let mut all = Vec::new();
    for anonymous_access in [false, true] {
        for superusers_full_access in [false, true] {
            for create_namespace_on_push in [false, true] {
                for public_catalog in [false, true] {
                    for push_visibility in [Visibility::Private, Visibility::Public] {
                        all.push(PermissionSettings {
                            anonymous_access,
                            superusers_full_access,
                            create_namespace_on_push,
                            public_catalog,
                            push_visibility,
                        });
                    }
                }
            }
        }
    }
    all
}

/// Every scope set a token can carry: each repository role or none, and each of the five
/// other scopes on or off.
pub(super) fn all_scopes() -> Vec<Scopes> {
    let mut all = Vec::new();
    for repo in optional(&Role::ALL) {
        for bits in 0..32u8 {
            all.push(Scopes {
                repo,
                repo_create: bits & 1 != 0,
                org_admin: bits & 2 != 0,
                user_read: bits & 4 != 0,
                user_admin: bits & 8 != 0,
                super_user: bits & 16 != 0,
            });
        }
    }
    all
}

/// The identity of `subject`, with `scopes` when it came with an OAuth token.
pub(super) fn identity(subject: Subject, scopes: Option<Scopes>) -> Identity {
    let kind = match subject {
        Subject::Anonymous => return Identity::Anonymous,
        Subject::User(standing) => PrincipalKind::User(standing),
        Subject::Robot => PrincipalKind::Robot,
    };
    Identity::Account(Principal {
        account: 7,
        name: "someone".into(),
        kind,
        credential: CredentialKind::Password,
        scopes,
    })
}

/// Every identity: each subject with a full credential, and users with every scope set
/// (robots and anonymous callers have no OAuth tokens).
pub(super) fn all_identities() -> Vec<(Subject, Option<Scopes>)> {
    let mut all: Vec<_> = SUBJECTS.iter().map(|&subject| (subject, None)).collect();
    for standing in [Superuser::No, Superuser::ReadOnly, Superuser::Yes] {
        for scopes in all_scopes() {
            all.push((Subject::User(standing), Some(scopes)));
        }
    }
    all
}

/// Every namespace `subject` may stand in, and a missing one (`None`).
pub(super) fn all_namespaces(subject: Subject) -> impl Iterator<Item = Option<NamespaceFacts>> {
    all_namespace_facts(subject)
        .into_iter()
        .map(Some)
        .chain([None])
}

pub(super) fn all_namespace_facts(subject: Subject) -> Vec<NamespaceFacts> {
    let mut all = Vec::new();
    for owner in [false, true] {
        // Only users own namespaces; anonymous callers belong to no team.
        if owner && !matches!(subject, Subject::User(_)) {
            continue;
        }
        for team_role in optional(&TeamRole::ALL) {
            if subject == Subject::Anonymous && team_role.is_some() {
                continue;
            }
            for proxy_cache in [false, true] {
                all.push(NamespaceFacts {
                    owner,
                    team_role,
                    proxy_cache,
                });
            }
        }
    }
    all
}

/// Every repository situation a subject can be in. Anonymous callers hold no grants.
pub(super) fn all_facts(subject: Subject) -> Vec<RepositoryFacts> {
    let mut all = Vec::new();
    for visibility in [Visibility::Public, Visibility::Private] {
        for namespace in all_namespace_facts(subject) {
            for direct_role in optional(&Role::ALL) {
                for team_role in optional(&Role::ALL) {
                    if subject == Subject::Anonymous
                        && (direct_role.is_some() || team_role.is_some())
                    {
                        continue;
                    }
                    all.push(RepositoryFacts {
                        visibility,
                        namespace,
                        direct_role,
                        team_role,
                    });
                }
            }
        }
    }
    all
}

/// The subject's superuser standing, as far as the credential lets it count.
pub(super) fn standing(subject: Subject, scopes: Option<Scopes>) -> Subject {
    match subject {
        Subject::User(_) if scopes.is_some_and(|scopes| !scopes.super_user) => {
            Subject::User(Superuser::No)
        }
        other => other,
    }
}

/// The spec's role table, one row per predicate: whether some source satisfies `need`.
pub(super) fn role_table(
    subject: Subject,
    need: Role,
    f: &RepositoryFacts,
    s: PermissionSettings,
) -> bool {
    let public = f.visibility == Visibility::Public;
    if subject == Subject::Anonymous {
        return need == Role::Read && public && s.anonymous_access;
    }
    let own_permission = f.direct_role.is_some_and(|role| role >= need);
    let team_permission = f.team_role.is_some_and(|role| role >= need);
    let org_admin_team = f.namespace.team_role == Some(TeamRole::Admin);
    let namespace_owner = f.namespace.owner;
    let public_read = need == Role::Read && public;
    let read_only_superuser = need == Role::Read && subject == Subject::User(Superuser::ReadOnly);
    let full_access = subject == Subject::User(Superuser::Yes) && s.superusers_full_access;
    let proxy_cache_member =
        need == Role::Read && f.namespace.proxy_cache && f.namespace.team_role.is_some();
    own_permission
        || team_permission
        || org_admin_team
        || namespace_owner
        || public_read
        || read_only_superuser
        || full_access
        || proxy_cache_member
}

/// The namespace table: who may view, create repositories in, and administer a namespace.
pub(super) fn namespace_table(
    subject: Subject,
    action: NamespaceAction,
    f: NamespaceFacts,
    s: PermissionSettings,
) -> bool {
    let full = subject == Subject::User(Superuser::Yes) && s.superusers_full_access;
    subject != Subject::Anonymous
        && (full
            || f.owner
            || match action {
                NamespaceAction::View => f.team_role.is_some(),
                NamespaceAction::CreateRepository => {
                    matches!(f.team_role, Some(TeamRole::Creator | TeamRole::Admin))
                }
                NamespaceAction::Administer => f.team_role == Some(TeamRole::Admin),
            })
}

pub(super) fn allow_if(allowed: bool) -> Decision {
    if allowed {
        Decision::Allow
    } else {
        Decision::Refuse
    }
}

pub(super) fn path() -> RepositoryPath {
    RepositoryPath::parse("acme/app").unwrap()
}

pub(super) fn repository(standing: RepositoryStanding) -> Facts<'static> {
    static PATH: std::sync::LazyLock<RepositoryPath> = std::sync::LazyLock::new(path);
    Facts::Repository {
        path: &PATH,
        standing,
    }
}
