//! Every combination of subject, standing, visibility, action and settings, against the
//! rules restated as the spec's table (one predicate per row), plus the rows themselves as
//! readable cases.

use super::*;

const SUBJECTS: [Subject; 5] = [
    Subject::Anonymous,
    Subject::User(Superuser::No),
    Subject::User(Superuser::ReadOnly),
    Subject::User(Superuser::Yes),
    Subject::Robot,
];
const ACTIONS: [RepositoryAction; 3] = [
    RepositoryAction::Read,
    RepositoryAction::Write,
    RepositoryAction::Admin,
];

fn optional<T: Copy>(all: &[T]) -> Vec<Option<T>> {
    std::iter::once(None)
        .chain(all.iter().copied().map(Some))
        .collect()
}

fn all_settings() -> Vec<PermissionSettings> {
    let mut all = Vec::new();
    for anonymous_access in [false, true] {
        for superusers_full_access in [false, true] {
            all.push(PermissionSettings {
                anonymous_access,
                superusers_full_access,
            });
        }
    }
    all
}

/// Every repository situation a subject can be in. Only users own namespaces; anonymous
/// callers hold no grants.
fn all_facts(subject: Subject) -> Vec<RepositoryFacts> {
    let mut all = Vec::new();
    for visibility in [Visibility::Public, Visibility::Private] {
        for owner in [false, true] {
            if owner && !matches!(subject, Subject::User(_)) {
                continue;
            }
            for org_role in optional(&TeamRole::ALL) {
                for direct_role in optional(&Role::ALL) {
                    for team_role in optional(&Role::ALL) {
                        if subject == Subject::Anonymous
                            && (org_role.is_some() || direct_role.is_some() || team_role.is_some())
                        {
                            continue;
                        }
                        all.push(RepositoryFacts {
                            visibility,
                            namespace: NamespaceFacts {
                                owner,
                                team_role: org_role,
                            },
                            direct_role,
                            team_role,
                        });
                    }
                }
            }
        }
    }
    all
}

/// The spec's table, one row per predicate: whether some source satisfies `need`.
fn expected(subject: Subject, need: Role, f: &RepositoryFacts, s: PermissionSettings) -> bool {
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
    own_permission
        || team_permission
        || org_admin_team
        || namespace_owner
        || public_read
        || read_only_superuser
        || full_access
}

#[test]
fn every_repository_combination() {
    let mut cases = 0;
    for subject in SUBJECTS {
        for facts in all_facts(subject) {
            for settings in all_settings() {
                for action in ACTIONS {
                    let need = action.required_role();
                    assert_eq!(
                        may_on_repository(subject, action, &facts, settings),
                        expected(subject, need, &facts, settings),
                        "{subject:?} {action:?} {facts:?} {settings:?}"
                    );
                    cases += 1;
                }
            }
        }
    }
    // Anonymous: 2 visibilities; users: also own or not; robots: never own. Then 4 org
    // roles, 4 direct roles, 4 team roles, 4 settings and 3 actions.
    let anonymous = 2 * 4 * 3;
    let user = 2 * 2 * 4 * 4 * 4 * 4 * 3;
    let robot = 2 * 4 * 4 * 4 * 4 * 3;
    assert_eq!(cases, anonymous + 3 * user + robot);
}

fn private() -> RepositoryFacts {
    RepositoryFacts {
        visibility: Visibility::Private,
        namespace: NamespaceFacts::default(),
        direct_role: None,
        team_role: None,
    }
}

const USER: Subject = Subject::User(Superuser::No);
const DEFAULTS: PermissionSettings = PermissionSettings {
    anonymous_access: true,
    superusers_full_access: false,
};

#[test]
fn the_spec_rows() {
    use RepositoryAction::{Admin, Read, Write};
    let may = |subject, action, facts: RepositoryFacts| {
        may_on_repository(subject, action, &facts, DEFAULTS)
    };
    let public = RepositoryFacts {
        visibility: Visibility::Public,
        ..private()
    };
    // Public repositories are readable by everyone, writable by nobody for that reason.
    assert!(may(Subject::Anonymous, Read, public));
    assert!(!may(Subject::Anonymous, Write, public));
    assert!(may(Subject::Robot, Read, public));
    assert!(!may(USER, Write, public));
    // Private repositories need a grant; anonymous callers never have one.
    assert!(!may(Subject::Anonymous, Read, private()));
    assert!(!may(USER, Read, private()));
    let with_role = |role| RepositoryFacts {
        direct_role: Some(role),
        ..private()
    };
    assert!(may(Subject::Robot, Read, with_role(Role::Read)));
    assert!(!may(Subject::Robot, Write, with_role(Role::Read)));
    assert!(may(Subject::Robot, Write, with_role(Role::Write)));
    assert!(!may(USER, Admin, with_role(Role::Write)));
    // A team's permission on the repository counts for its members.
    let via_team = RepositoryFacts {
        team_role: Some(Role::Write),
        ..private()
    };
    assert!(may(USER, Write, via_team));
    assert!(!may(USER, Admin, via_team));
    // Admin teams administer every repository of the organization; creators and members
    // get nothing from their team role alone.
    let in_org = |role| RepositoryFacts {
        namespace: NamespaceFacts {
            owner: false,
            team_role: Some(role),
        },
        ..private()
    };
    assert!(may(USER, Admin, in_org(TeamRole::Admin)));
    assert!(!may(USER, Read, in_org(TeamRole::Creator)));
    assert!(!may(USER, Read, in_org(TeamRole::Member)));
    // A user owns their namespace.
    let own = RepositoryFacts {
        namespace: NamespaceFacts {
            owner: true,
            team_role: None,
        },
        ..private()
    };
    assert!(may(USER, Admin, own));
    // Superusers read only with full access; global read-only superusers read anything.
    assert!(!may(Subject::User(Superuser::Yes), Read, private()));
    assert!(may_on_repository(
        Subject::User(Superuser::Yes),
        Admin,
        &private(),
        PermissionSettings {
            superusers_full_access: true,
            ..DEFAULTS
        }
    ));
    assert!(may(Subject::User(Superuser::ReadOnly), Read, private()));
    assert!(!may(Subject::User(Superuser::ReadOnly), Write, private()));
    // Without anonymous access, public repositories need a login.
    let closed = PermissionSettings {
        anonymous_access: false,
        ..DEFAULTS
    };
    assert!(!may_on_repository(
        Subject::Anonymous,
        Read,
        &public,
        closed
    ));
    assert!(may_on_repository(USER, Read, &public, closed));
}

#[test]
fn every_namespace_combination() {
    let actions = [
        NamespaceAction::View,
        NamespaceAction::CreateRepository,
        NamespaceAction::Administer,
    ];
    for subject in SUBJECTS {
        for owner in [false, true] {
            for team_role in optional(&TeamRole::ALL) {
                let facts = NamespaceFacts { owner, team_role };
                for settings in all_settings() {
                    for action in actions {
                        let full = subject == Subject::User(Superuser::Yes)
                            && settings.superusers_full_access;
                        let expected = subject != Subject::Anonymous
                            && (full
                                || owner
                                || match action {
                                    NamespaceAction::View => team_role.is_some(),
                                    NamespaceAction::CreateRepository => matches!(
                                        team_role,
                                        Some(TeamRole::Creator | TeamRole::Admin)
                                    ),
                                    NamespaceAction::Administer => {
                                        team_role == Some(TeamRole::Admin)
                                    }
                                });
                        assert_eq!(
                            may_in_namespace(subject, action, &facts, settings),
                            expected,
                            "{subject:?} {action:?} {facts:?} {settings:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn names_round_trip() {
    for role in Role::ALL {
        assert_eq!(Role::from_name(role.as_str()), Some(role));
    }
    for role in TeamRole::ALL {
        assert_eq!(TeamRole::from_name(role.as_str()), Some(role));
    }
    for visibility in [Visibility::Public, Visibility::Private] {
        assert_eq!(Visibility::from_name(visibility.as_str()), Some(visibility));
    }
    assert_eq!(Role::from_name("owner"), None);
}
