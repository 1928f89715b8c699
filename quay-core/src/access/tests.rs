//! Every combination of caller, credential, action, facts and settings, against the rules
//! restated as the spec's tables (one predicate per row), plus the rows themselves as
//! readable cases.

use std::sync::Arc;

use super::*;
use crate::RepositoryPath;
use crate::audit::CredentialKind;
use crate::permission::{
    NamespaceAction, NamespaceFacts, PermissionSettings, RepositoryAction, RepositoryFacts, Role,
    Subject, Superuser, TeamRole, Visibility,
};

const SUBJECTS: [Subject; 5] = [
    Subject::Anonymous,
    Subject::User(Superuser::No),
    Subject::User(Superuser::ReadOnly),
    Subject::User(Superuser::Yes),
    Subject::Robot,
];
const REPOSITORY_ACTIONS: [RepositoryAction; 3] = [
    RepositoryAction::Read,
    RepositoryAction::Write,
    RepositoryAction::Admin,
];
const NAMESPACE_ACTIONS: [NamespaceAction; 3] = [
    NamespaceAction::View,
    NamespaceAction::CreateRepository,
    NamespaceAction::Administer,
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
            for create_namespace_on_push in [false, true] {
                all.push(PermissionSettings {
                    anonymous_access,
                    superusers_full_access,
                    create_namespace_on_push,
                });
            }
        }
    }
    all
}

/// Every scope set a token can carry: each repository role or none, and each of the five
/// other scopes on or off.
fn all_scopes() -> Vec<Scopes> {
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
fn identity(subject: Subject, scopes: Option<Scopes>) -> Identity {
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
fn all_identities() -> Vec<(Subject, Option<Scopes>)> {
    let mut all: Vec<_> = SUBJECTS.iter().map(|&subject| (subject, None)).collect();
    for standing in [Superuser::No, Superuser::ReadOnly, Superuser::Yes] {
        for scopes in all_scopes() {
            all.push((Subject::User(standing), Some(scopes)));
        }
    }
    all
}

fn all_namespace_facts(subject: Subject) -> Vec<NamespaceFacts> {
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
            all.push(NamespaceFacts { owner, team_role });
        }
    }
    all
}

/// Every repository situation a subject can be in. Anonymous callers hold no grants.
fn all_facts(subject: Subject) -> Vec<RepositoryFacts> {
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
fn standing(subject: Subject, scopes: Option<Scopes>) -> Subject {
    match subject {
        Subject::User(_) if scopes.is_some_and(|scopes| !scopes.super_user) => {
            Subject::User(Superuser::No)
        }
        other => other,
    }
}

/// The spec's role table, one row per predicate: whether some source satisfies `need`.
fn role_table(subject: Subject, need: Role, f: &RepositoryFacts, s: PermissionSettings) -> bool {
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

/// The namespace table: who may view, create repositories in, and administer a namespace.
fn namespace_table(
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

fn allow_if(allowed: bool) -> Decision {
    if allowed {
        Decision::Allow
    } else {
        Decision::Refuse
    }
}

fn path() -> RepositoryPath {
    RepositoryPath::parse("acme/app").unwrap()
}

fn repository(standing: RepositoryStanding) -> Facts<'static> {
    static PATH: std::sync::LazyLock<RepositoryPath> = std::sync::LazyLock::new(path);
    Facts::Repository {
        path: &PATH,
        standing,
    }
}

#[test]
fn every_existing_repository_combination() {
    let mut cases = 0;
    for (subject, scopes) in all_identities() {
        let caller = identity(subject, scopes);
        let counted = standing(subject, scopes);
        for facts in all_facts(subject) {
            let target = repository(RepositoryStanding::Exists(facts));
            for settings in all_settings() {
                for action in REPOSITORY_ACTIONS {
                    let need = action.required_role();
                    let scoped = scopes.is_none_or(|scopes| scopes.repo >= Some(need));
                    let expected = scoped && role_table(counted, need, &facts, settings);
                    assert_eq!(
                        decide(&caller, Action::Repository(action), &target, settings).allowed(),
                        expected,
                        "{subject:?} {scopes:?} {action:?} {facts:?} {settings:?}"
                    );
                    cases += 1;
                }
            }
        }
    }
    assert!(cases > 1_000_000, "{cases} cases");
}

#[test]
fn every_missing_repository_combination() {
    for (subject, scopes) in all_identities() {
        let caller = identity(subject, scopes);
        let counted = standing(subject, scopes);
        let namespaces = all_namespace_facts(subject)
            .into_iter()
            .map(Some)
            .chain([None]);
        for namespace in namespaces {
            let target = repository(RepositoryStanding::Missing(namespace));
            for settings in all_settings() {
                for action in REPOSITORY_ACTIONS {
                    let need = action.required_role();
                    let scoped = scopes.is_none_or(|scopes| scopes.repo >= Some(need));
                    let may_create = scopes.is_none_or(|scopes| scopes.repo_create);
                    let expected = scoped
                        && match (namespace, action) {
                            // Pushing creates the repository, or also its namespace.
                            (Some(namespace), RepositoryAction::Write) => {
                                may_create
                                    && namespace_table(
                                        counted,
                                        NamespaceAction::CreateRepository,
                                        namespace,
                                        settings,
                                    )
                            }
                            (None, RepositoryAction::Write) => {
                                may_create
                                    && settings.create_namespace_on_push
                                    && matches!(subject, Subject::User(_))
                            }
                            // Reading a missing repository is allowed to those who could
                            // read a private one, so that only they learn it is missing.
                            (Some(namespace), _) => {
                                let private = RepositoryFacts {
                                    visibility: Visibility::Private,
                                    namespace,
                                    direct_role: None,
                                    team_role: None,
                                };
                                role_table(counted, need, &private, settings)
                            }
                            (None, _) => false,
                        };
                    let decision = decide(&caller, Action::Repository(action), &target, settings);
                    assert_eq!(
                        decision.allowed(),
                        expected,
                        "{subject:?} {scopes:?} {action:?} {namespace:?} {settings:?}"
                    );
                    assert_ne!(decision, Decision::NotFound);
                }
            }
        }
    }
}

#[test]
fn every_namespace_combination() {
    for (subject, scopes) in all_identities() {
        let caller = identity(subject, scopes);
        let counted = standing(subject, scopes);
        let namespaces = all_namespace_facts(subject)
            .into_iter()
            .map(Some)
            .chain([None]);
        for namespace in namespaces {
            let target = Facts::Namespace(namespace);
            for settings in all_settings() {
                for action in NAMESPACE_ACTIONS {
                    let scoped = scopes.is_none_or(|scopes| match action {
                        NamespaceAction::View => true,
                        NamespaceAction::CreateRepository => scopes.repo_create,
                        NamespaceAction::Administer => scopes.org_admin,
                    });
                    let full =
                        counted == Subject::User(Superuser::Yes) && settings.superusers_full_access;
                    let expected = match namespace {
                        _ if !scoped => Decision::Refuse,
                        // Only whoever may act anywhere learns that a namespace is missing.
                        None if full => Decision::NotFound,
                        None => Decision::Refuse,
                        Some(facts) if namespace_table(counted, action, facts, settings) => {
                            Decision::Allow
                        }
                        Some(_) => Decision::Refuse,
                    };
                    assert_eq!(
                        decide(&caller, Action::Namespace(action), &target, settings),
                        expected,
                        "{subject:?} {scopes:?} {action:?} {namespace:?} {settings:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_team_members_combination() {
    for (subject, scopes) in all_identities() {
        let caller = identity(subject, scopes);
        let counted = standing(subject, scopes);
        let namespaces = all_namespace_facts(subject)
            .into_iter()
            .map(Some)
            .chain([None]);
        for organization in namespaces {
            for member in [false, true] {
                // Nobody is in a team of an organization that does not exist, or is anonymous.
                if member && (subject == Subject::Anonymous || organization.is_none()) {
                    continue;
                }
                let facts = Facts::Team {
                    organization,
                    member,
                };
                for settings in all_settings() {
                    let org_admin = scopes.is_none_or(|scopes| scopes.org_admin);
                    let full =
                        counted == Subject::User(Superuser::Yes) && settings.superusers_full_access;
                    let expected = match organization {
                        None if full && org_admin => Decision::NotFound,
                        None => Decision::Refuse,
                        Some(facts) => allow_if(
                            (org_admin
                                && namespace_table(
                                    counted,
                                    NamespaceAction::Administer,
                                    facts,
                                    settings,
                                ))
                                || (member
                                    && namespace_table(
                                        counted,
                                        NamespaceAction::View,
                                        facts,
                                        settings,
                                    )),
                        ),
                    };
                    assert_eq!(
                        decide(&caller, Action::ReadTeamMembers, &facts, settings),
                        expected,
                        "{subject:?} {scopes:?} {organization:?} {member} {settings:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_usage_log_and_quota_combination() {
    for (subject, scopes) in all_identities() {
        let caller = identity(subject, scopes);
        let counted = standing(subject, scopes);
        for settings in all_settings() {
            let overseer = counted == Subject::User(Superuser::ReadOnly)
                || (counted == Subject::User(Superuser::Yes) && settings.superusers_full_access);
            for facts in all_facts(subject) {
                // A repository's log: its admins (with `repo:admin`), and overseers.
                let target = repository(RepositoryStanding::Exists(facts));
                let admin = scopes.is_none_or(|scopes| scopes.repo == Some(Role::Admin))
                    && role_table(counted, Role::Admin, &facts, settings);
                assert_eq!(
                    decide(&caller, Action::ReadRepositoryLogs, &target, settings).allowed(),
                    overseer || admin,
                    "{subject:?} {scopes:?} {facts:?} {settings:?}"
                );
            }
            for namespace in all_namespace_facts(subject) {
                // A namespace's quota: its members, and every superuser.
                let member = namespace_table(counted, NamespaceAction::View, namespace, settings);
                let superuser =
                    matches!(counted, Subject::User(Superuser::Yes | Superuser::ReadOnly));
                assert_eq!(
                    decide(
                        &caller,
                        Action::ReadNamespaceQuota,
                        &Facts::Namespace(Some(namespace)),
                        settings
                    )
                    .allowed(),
                    member || superuser,
                    "{subject:?} {scopes:?} {namespace:?} {settings:?}"
                );
            }
        }
    }
}

#[test]
fn every_own_account_and_registry_combination() {
    for (subject, scopes) in all_identities() {
        let caller = identity(subject, scopes);
        let counted = standing(subject, scopes);
        let is_user = matches!(subject, Subject::User(_));
        let cases = [
            (
                Action::ListRepositories,
                scopes.is_none_or(|scopes| scopes.repo.is_some()),
            ),
            (
                Action::ReadOwnAccount,
                is_user && scopes.is_none_or(|scopes| scopes.user_read || scopes.user_admin),
            ),
            (
                Action::AdministerOwnAccount,
                is_user && scopes.is_none_or(|scopes| scopes.user_admin),
            ),
            (
                Action::OverseeRegistry,
                matches!(counted, Subject::User(Superuser::Yes | Superuser::ReadOnly)),
            ),
            (
                Action::AdministerRegistry,
                counted == Subject::User(Superuser::Yes),
            ),
        ];
        for settings in all_settings() {
            for (action, expected) in cases {
                assert_eq!(
                    decide(&caller, action, &Facts::Caller, settings).allowed(),
                    expected,
                    "{subject:?} {scopes:?} {action:?} {settings:?}"
                );
            }
        }
    }
}

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
        },
        ..private()
    };
    assert!(may(USER, Admin, in_org(TeamRole::Admin), DEFAULTS));
    assert!(!may(USER, Read, in_org(TeamRole::Creator), DEFAULTS));
    assert!(!may(USER, Read, in_org(TeamRole::Member), DEFAULTS));
    // A user owns their namespace.
    let own = RepositoryFacts {
        namespace: NamespaceFacts {
            owner: true,
            team_role: None,
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
