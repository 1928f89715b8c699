//! Every combination, against the tables.

use super::super::*;
use super::*;
use crate::permission::{
    NamespaceAction, RepositoryAction, RepositoryFacts, Role, Subject, Superuser, Visibility,
};

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
        let namespaces = all_namespaces(subject);
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
                            // In a proxy cache organization, the pull would make it
                            // with the visibility new repositories get.
                            (Some(namespace), _) => {
                                let missing = RepositoryFacts {
                                    visibility: if namespace.proxy_cache {
                                        settings.push_visibility
                                    } else {
                                        Visibility::Private
                                    },
                                    namespace,
                                    direct_role: None,
                                    team_role: None,
                                };
                                role_table(counted, need, &missing, settings)
                            }
                            (None, _) => false,
                        };
                    let decision = decide(&caller, Action::Repository(action), &target, settings);
                    assert_eq!(
                        decision.allowed(),
                        expected,
                        "{subject:?} {scopes:?} {action:?} {namespace:?} {settings:?}"
                    );
                    // Only a superuser with full access learns that a namespace is missing.
                    let told = namespace.is_none()
                        && !expected
                        && scoped
                        && (action != RepositoryAction::Write || may_create)
                        && counted == Subject::User(Superuser::Yes)
                        && settings.superusers_full_access;
                    assert_eq!(
                        decision == Decision::NotFound,
                        told,
                        "{subject:?} {scopes:?} {action:?} {settings:?}"
                    );
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
        let namespaces = all_namespaces(subject);
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
        let namespaces = all_namespaces(subject);
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
            let catalog = subject != Subject::Anonymous || settings.public_catalog;
            for (action, expected) in cases.into_iter().chain([(Action::ListCatalog, catalog)]) {
                assert_eq!(
                    decide(&caller, action, &Facts::Caller, settings).allowed(),
                    expected,
                    "{subject:?} {scopes:?} {action:?} {settings:?}"
                );
            }
        }
    }
}
