//! The spec's rows and the special cases, one by one.

use std::sync::Arc;

use super::super::*;
use super::*;
use crate::names::RepositoryPath;
use crate::permission::{
    NamespaceAction, NamespaceFacts, PermissionSettings, RepositoryAction, RepositoryFacts, Role,
    Subject, Superuser, TeamRole, Visibility,
};

fn token(actions: GrantedActions) -> Identity {
    Identity::Token {
        principal: None,
        grants: Arc::from([Grant {
            repository: path(),
            actions,
        }]),
    }
}

#[test]
fn a_registry_token_allows_its_grants_and_nothing_else() {
    let pull = GrantedActions {
        pull: true,
        ..Default::default()
    };
    let push = GrantedActions {
        push: true,
        ..Default::default()
    };
    let all = GrantedActions {
        all: true,
        ..Default::default()
    };
    let other = RepositoryPath::parse("acme/other").unwrap();
    // Whatever the repository's facts say: the token was decided when it was issued.
    let public = RepositoryStanding::Exists(RepositoryFacts {
        visibility: Visibility::Public,
        namespace: NamespaceFacts::default(),
        direct_role: None,
        team_role: None,
    });
    let settings = PermissionSettings::default();
    for (grant, allowed) in [
        (pull, [true, false, false]),
        (push, [true, true, false]),
        (all, [true, true, true]),
    ] {
        let caller = token(grant);
        for (action, allowed) in REPOSITORY_ACTIONS.into_iter().zip(allowed) {
            let action = Action::Repository(action);
            assert_eq!(
                decide(&caller, action, &repository(public), settings).allowed(),
                allowed
            );
            let elsewhere = Facts::Repository {
                path: &other,
                standing: public,
            };
            assert!(!decide(&caller, action, &elsewhere, settings).allowed());
        }
        for action in [
            Action::Namespace(NamespaceAction::View),
            Action::ReadOwnAccount,
            Action::OverseeRegistry,
        ] {
            let facts = match action {
                Action::Namespace(_) => Facts::Namespace(Some(NamespaceFacts::default())),
                _ => Facts::Caller,
            };
            assert_eq!(decide(&caller, action, &facts, settings), Decision::Refuse);
        }
    }
}

#[test]
fn an_action_on_the_wrong_kind_of_target_is_refused() {
    let root = identity(Subject::User(Superuser::Yes), None);
    let settings = PermissionSettings {
        superusers_full_access: true,
        ..PermissionSettings::default()
    };
    let namespace = Facts::Namespace(Some(NamespaceFacts::default()));
    let read = Action::Repository(RepositoryAction::Read);
    assert_eq!(decide(&root, read, &namespace, settings), Decision::Refuse);
    assert_eq!(
        decide(&root, Action::OverseeRegistry, &namespace, settings),
        Decision::Refuse
    );
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
    create_namespace_on_push: false,
    public_catalog: false,
    push_visibility: Visibility::Private,
};

fn may(
    subject: Subject,
    action: RepositoryAction,
    facts: RepositoryFacts,
    settings: PermissionSettings,
) -> bool {
    let target = repository(RepositoryStanding::Exists(facts));
    decide(
        &identity(subject, None),
        Action::Repository(action),
        &target,
        settings,
    )
    .allowed()
}

#[test]
fn the_spec_rows() {
    use RepositoryAction::{Admin, Read, Write};
    let public = RepositoryFacts {
        visibility: Visibility::Public,
        ..private()
    };
    // Public repositories are readable by everyone, writable by nobody for that reason.
    assert!(may(Subject::Anonymous, Read, public, DEFAULTS));
    assert!(!may(Subject::Anonymous, Write, public, DEFAULTS));
    assert!(may(Subject::Robot, Read, public, DEFAULTS));
    assert!(!may(USER, Write, public, DEFAULTS));
    // Private repositories need a grant; anonymous callers never have one.
    assert!(!may(Subject::Anonymous, Read, private(), DEFAULTS));
    assert!(!may(USER, Read, private(), DEFAULTS));
    let with_role = |role| RepositoryFacts {
        direct_role: Some(role),
        ..private()
    };
    assert!(may(Subject::Robot, Read, with_role(Role::Read), DEFAULTS));
    assert!(!may(Subject::Robot, Write, with_role(Role::Read), DEFAULTS));
    assert!(may(Subject::Robot, Write, with_role(Role::Write), DEFAULTS));
    assert!(!may(USER, Admin, with_role(Role::Write), DEFAULTS));
    // A team's permission on the repository counts for its members.
    let via_team = RepositoryFacts {
        team_role: Some(Role::Write),
        ..private()
    };
    assert!(may(USER, Write, via_team, DEFAULTS));
    assert!(!may(USER, Admin, via_team, DEFAULTS));
    // Admin teams administer every repository of the organization; creators and members
    // get nothing from their team role alone.
    let in_org = |role| RepositoryFacts {
        namespace: NamespaceFacts {
            owner: false,
            team_role: Some(role),
            proxy_cache: false,
        },
        ..private()
    };
    assert!(may(USER, Admin, in_org(TeamRole::Admin), DEFAULTS));
    assert!(!may(USER, Read, in_org(TeamRole::Creator), DEFAULTS));
    assert!(!may(USER, Read, in_org(TeamRole::Member), DEFAULTS));
    // ... except in a proxy cache organization, whose members pull anything it caches.
    let in_proxy_cache = |role| RepositoryFacts {
        namespace: NamespaceFacts {
            proxy_cache: true,
            ..in_org(role).namespace
        },
        ..private()
    };
    assert!(may(USER, Read, in_proxy_cache(TeamRole::Member), DEFAULTS));
    assert!(!may(
        USER,
        Write,
        in_proxy_cache(TeamRole::Member),
        DEFAULTS
    ));
    // A user owns their namespace.
    let own = RepositoryFacts {
        namespace: NamespaceFacts {
            owner: true,
            team_role: None,
            proxy_cache: false,
        },
        ..private()
    };
    assert!(may(USER, Admin, own, DEFAULTS));
    // Superusers read only with full access; global read-only superusers read anything.
    let full_access = PermissionSettings {
        superusers_full_access: true,
        ..DEFAULTS
    };
    assert!(!may(
        Subject::User(Superuser::Yes),
        Read,
        private(),
        DEFAULTS
    ));
    assert!(may(
        Subject::User(Superuser::Yes),
        Admin,
        private(),
        full_access
    ));
    assert!(may(
        Subject::User(Superuser::ReadOnly),
        Read,
        private(),
        DEFAULTS
    ));
    assert!(!may(
        Subject::User(Superuser::ReadOnly),
        Write,
        private(),
        DEFAULTS
    ));
    // Without anonymous access, public repositories need a login.
    let closed = PermissionSettings {
        anonymous_access: false,
        ..DEFAULTS
    };
    assert!(!may(Subject::Anonymous, Read, public, closed));
    assert!(may(USER, Read, public, closed));
}

#[test]
fn an_oauth_token_without_super_user_carries_no_superuser_powers() {
    let scopes = Scopes::parse("repo:admin org:admin user:admin").unwrap();
    let root = identity(Subject::User(Superuser::Yes), Some(scopes));
    let full_access = PermissionSettings {
        superusers_full_access: true,
        ..DEFAULTS
    };
    let target = repository(RepositoryStanding::Exists(private()));
    let admin = Action::Repository(RepositoryAction::Admin);
    assert_eq!(decide(&root, admin, &target, full_access), Decision::Refuse);
    assert_eq!(
        decide(&root, Action::OverseeRegistry, &Facts::Caller, full_access),
        Decision::Refuse
    );
    let with_super_user = Scopes {
        super_user: true,
        ..scopes
    };
    let root = identity(Subject::User(Superuser::Yes), Some(with_super_user));
    assert_eq!(decide(&root, admin, &target, full_access), Decision::Allow);
}

#[test]
fn listings_reach_as_far_as_the_caller_reads() {
    let full_access = PermissionSettings {
        superusers_full_access: true,
        ..DEFAULTS
    };
    let reach = |subject, settings| listing_reach(&identity(subject, None), settings);
    assert_eq!(reach(Subject::Anonymous, full_access), ListingReach::Public);
    assert_eq!(reach(USER, full_access), ListingReach::Standing);
    assert_eq!(reach(Subject::Robot, full_access), ListingReach::Standing);
    assert_eq!(
        reach(Subject::User(Superuser::ReadOnly), DEFAULTS),
        ListingReach::Everything
    );
    assert_eq!(
        reach(Subject::User(Superuser::Yes), DEFAULTS),
        ListingReach::Standing
    );
    assert_eq!(
        reach(Subject::User(Superuser::Yes), full_access),
        ListingReach::Everything
    );
    // Each listed repository shows the caller's role from the same table.
    for subject in SUBJECTS {
        for facts in all_facts(subject) {
            for settings in all_settings() {
                let role = listed_role(&identity(subject, None), &facts, settings);
                for need in Role::ALL {
                    assert_eq!(
                        role >= Some(need),
                        role_table(subject, need, &facts, settings),
                        "{subject:?} {need:?} {facts:?} {settings:?}"
                    );
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
