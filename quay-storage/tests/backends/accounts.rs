//! Tenancy's use cases ([`quay_core::Accounts`]) on real stores: the rules that are about
//! the data, and what each change leaves in the usage log.

use quay_core::access::{Caller, Identity, Principal, PrincipalKind};
use quay_core::account::{AccountRecord, NamespaceRecord};
use quay_core::accounts::{Delegate, RobotOwner, RobotSignup, TeamSettings, UserSignup};
use quay_core::audit::{Actor, CredentialKind, LogQuery};
use quay_core::names::Namespace;
use quay_core::permission::{Role, Superuser, TeamRole, Visibility};
use quay_core::ports::AuditLog;
use quay_core::{Error, RepositoryPath};

use crate::support::*;

fn name(text: &str) -> Namespace {
    Namespace::parse(text).unwrap()
}

fn signup(username: &str) -> UserSignup {
    UserSignup {
        name: name(username),
        email: Some(format!("{username}@example.com")),
        password_hash: format!("hash-of-{username}"),
        superuser: false,
    }
}

/// `account`, a user signed in with a session, calling from 127.0.0.1.
fn acting(account: &AccountRecord) -> Caller {
    let principal = Principal {
        account: account.id,
        name: account.name.clone(),
        kind: PrincipalKind::User(Superuser::No),
        credential: CredentialKind::Session,
        scopes: None,
    };
    Caller::new(Identity::Account(principal), Some("127.0.0.1".into()), None)
}

fn invalid_request(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::InvalidRequest(message)) => message,
        other => panic!("expected an invalid request, got {other:?}"),
    }
}

/// Alice, acting as herself, and the organization `acme` she created.
async fn alice_of_acme(h: &Harness) -> (AccountRecord, Caller, NamespaceRecord) {
    let alice = h
        .accounts
        .create_user(signup("alice"), &Actor::system())
        .await
        .unwrap();
    let as_alice = acting(&alice);
    let acme = h
        .accounts
        .create_organization(&as_alice, &name("acme"), None)
        .await
        .unwrap();
    (alice, as_alice, acme)
}

async fn kinds_logged(h: &Harness, namespace: i64) -> Vec<String> {
    let query = LogQuery {
        namespace: Some(namespace),
        from_ms: 0,
        until_ms: i64::MAX,
        limit: 100,
        ..LogQuery::default()
    };
    let mut kinds: Vec<String> = h
        .directory
        .logs(&query)
        .await
        .unwrap()
        .into_iter()
        .map(|record| record.kind)
        .collect();
    kinds.reverse();
    kinds
}

pub(crate) async fn the_first_user_and_no_other(h: &Harness) {
    let root = h
        .accounts
        .initialize(signup("root"), &Actor::system())
        .await
        .unwrap();
    assert_eq!(root.name, "root");
    let again = h
        .accounts
        .initialize(signup("other"), &Actor::system())
        .await;
    assert!(invalid_request(again).contains("non-empty"));
    assert!(matches!(
        h.accounts
            .create_user(signup("root"), &Actor::system())
            .await,
        Err(Error::AlreadyExists(_))
    ));
    let bad_email = UserSignup {
        email: Some("not-an-address".into()),
        ..signup("bob")
    };
    invalid_request(h.accounts.create_user(bad_email, &Actor::system()).await);
}

pub(crate) async fn organizations_keep_an_admin(h: &Harness) {
    let (_, as_alice, acme) = alice_of_acme(h).await;
    let bob = h
        .accounts
        .create_user(signup("bob"), &Actor::system())
        .await
        .unwrap();
    let owners = h
        .accounts
        .team_roster(&as_alice.identity, &name("acme"), &name("owners"))
        .await
        .unwrap();
    assert_eq!(owners.team.role, TeamRole::Admin);
    let members: Vec<&str> = owners.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(members, ["alice"]);

    // Alice is the only admin: she can neither demote, delete nor leave the owners team.
    let demote = TeamSettings {
        role: Some(TeamRole::Member),
        description: None,
    };
    let refused = h
        .accounts
        .save_team(&as_alice, &name("acme"), &name("owners"), demote.clone())
        .await;
    assert!(invalid_request(refused).contains("would no longer have admin"));
    let refused = h
        .accounts
        .delete_team(&as_alice, &name("acme"), &name("owners"))
        .await;
    assert!(invalid_request(refused).contains("would no longer have admin"));
    let refused = h
        .accounts
        .remove_team_member(&as_alice, &name("acme"), &name("owners"), "alice")
        .await;
    assert!(invalid_request(refused).contains("only admin team"));
    let refused = h
        .accounts
        .remove_organization_member(&as_alice, &name("acme"), "alice")
        .await;
    assert!(invalid_request(refused).contains("only organization admin"));

    // A second admin team for alice lifts the first restriction.
    let (admins, new) = h
        .accounts
        .save_team(
            &as_alice,
            &name("acme"),
            &name("admins"),
            TeamSettings {
                role: Some(TeamRole::Admin),
                description: Some("second".into()),
            },
        )
        .await
        .unwrap();
    assert!(new);
    assert_eq!(admins.description, "second");
    h.accounts
        .add_team_member(&as_alice, &name("acme"), &name("admins"), "alice")
        .await
        .unwrap();
    h.accounts
        .add_team_member(&as_alice, &name("acme"), &name("admins"), "bob")
        .await
        .unwrap();
    let (owners, new) = h
        .accounts
        .save_team(&as_alice, &name("acme"), &name("owners"), demote)
        .await
        .unwrap();
    assert!(!new);
    assert_eq!(owners.role, TeamRole::Member);
    invalid_request(
        h.accounts
            .add_team_member(&as_alice, &name("acme"), &name("admins"), "nobody")
            .await,
    );

    let members = h
        .accounts
        .organization_members(&as_alice, &name("acme"))
        .await
        .unwrap();
    let names: Vec<(&str, &[String])> = members
        .iter()
        .map(|member| (member.account.name.as_str(), member.teams.as_slice()))
        .collect();
    assert_eq!(
        names,
        [
            ("alice", &["admins".to_string(), "owners".to_string()][..]),
            ("bob", &["admins".to_string()][..])
        ]
    );
    // With bob as a second admin, alice may go.
    h.accounts
        .remove_organization_member(&acting(&bob), &name("acme"), "alice")
        .await
        .unwrap();
    assert!(matches!(
        h.accounts
            .organization_member(&acting(&bob), &name("acme"), "alice")
            .await,
        Err(Error::NotFound { .. })
    ));

    assert_eq!(
        kinds_logged(h, acme.id).await,
        [
            "org_create",
            "org_create_team",
            "org_add_team_member",
            "org_add_team_member",
            "org_set_team_role",
            "org_remove_team_member",
        ]
    );
}

pub(crate) async fn robots_and_permissions_stay_in_their_namespace(h: &Harness) {
    let (_, as_alice, acme) = alice_of_acme(h).await;
    h.accounts
        .create_organization(&as_alice, &name("other"), None)
        .await
        .unwrap();
    let robot = |short: &str| RobotSignup {
        short: name(short),
        token_hash: "hash".into(),
        description: Some("deploys".into()),
        metadata: None,
    };
    let acme_robots = RobotOwner::Organization(name("acme"));
    let deployer = h
        .accounts
        .create_robot(&as_alice, &acme_robots, robot("deployer"))
        .await
        .unwrap();
    assert_eq!(deployer.name, "acme+deployer");
    let taken = h
        .accounts
        .create_robot(&as_alice, &acme_robots, robot("deployer"))
        .await;
    assert!(invalid_request(taken).contains("Existing robot with name: acme+deployer"));
    let long = RobotSignup {
        description: Some("x".repeat(256)),
        ..robot("verbose")
    };
    invalid_request(h.accounts.create_robot(&as_alice, &acme_robots, long).await);
    let stranger = h
        .accounts
        .create_robot(
            &as_alice,
            &RobotOwner::Organization(name("other")),
            robot("stranger"),
        )
        .await
        .unwrap();

    let path = RepositoryPath::parse("acme/app").unwrap();
    h.accounts
        .create_repository(&as_alice, &path, Visibility::Private, None)
        .await
        .unwrap();
    let again = h
        .accounts
        .create_repository(&as_alice, &path, Visibility::Private, None)
        .await;
    assert_eq!(invalid_request(again), "Repository already exists");

    h.accounts
        .set_user_permission(&as_alice, &path, "acme+deployer", Role::Write)
        .await
        .unwrap();
    let foreign = h
        .accounts
        .set_user_permission(&as_alice, &path, &stranger.name, Role::Read)
        .await;
    assert!(invalid_request(foreign).contains("another namespace"));
    let owner = h
        .accounts
        .set_user_permission(&as_alice, &path, "acme", Role::Read)
        .await;
    assert_eq!(
        invalid_request(owner),
        "Namespace owner must always be admin."
    );
    let foreign_team = h
        .accounts
        .add_team_member(&as_alice, &name("acme"), &name("owners"), &stranger.name)
        .await;
    assert!(invalid_request(foreign_team).contains("does not belong"));
    let unknown_team = h
        .accounts
        .set_team_permission(&as_alice, &path, &name("ghosts"), Role::Read)
        .await;
    assert!(invalid_request(unknown_team).contains("No team named ghosts"));

    let permissions = h
        .accounts
        .repository_permissions(&as_alice, &path)
        .await
        .unwrap();
    let granted: Vec<(&str, Role, bool)> = permissions
        .iter()
        .map(|p| (p.name.as_str(), p.role, p.is_robot))
        .collect();
    assert_eq!(
        granted,
        [
            ("acme+deployer", Role::Write, true),
            ("alice", Role::Admin, false)
        ]
    );

    // A default permission gives the robot read on the next repository alice creates.
    let prototype = h
        .accounts
        .create_prototype(
            &as_alice,
            &name("acme"),
            Some("alice"),
            &Delegate::Account("acme+deployer".into()),
            Role::Read,
        )
        .await
        .unwrap();
    let next = RepositoryPath::parse("acme/next").unwrap();
    h.accounts
        .create_repository(
            &as_alice,
            &next,
            Visibility::Public,
            Some("the next one".into()),
        )
        .await
        .unwrap();
    let robot_roles: Vec<Role> = h
        .accounts
        .repository_permissions(&as_alice, &next)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.is_robot)
        .map(|p| p.role)
        .collect();
    assert_eq!(robot_roles, [Role::Read]);
    h.accounts
        .set_prototype_role(&as_alice, &name("acme"), &prototype.uuid, Role::Write)
        .await
        .unwrap();
    h.accounts
        .delete_prototype(&as_alice, &name("acme"), &prototype.uuid)
        .await
        .unwrap();
    assert!(matches!(
        h.accounts
            .delete_prototype(&as_alice, &name("acme"), &prototype.uuid)
            .await,
        Err(Error::NotFound { .. })
    ));

    h.accounts
        .regenerate_robot(&as_alice, &acme_robots, &name("deployer"), "new-hash")
        .await
        .unwrap();
    h.accounts
        .delete_robot(&as_alice, &acme_robots, &name("deployer"))
        .await
        .unwrap();
    assert!(
        h.accounts
            .repository_permissions(&as_alice, &path)
            .await
            .unwrap()
            .len()
            == 1
    );

    assert_eq!(
        kinds_logged(h, acme.id).await,
        [
            "org_create",
            "create_robot",
            "create_repo",
            "change_repo_permission",
            "create_prototype_permission",
            "create_repo",
            "modify_prototype_permission",
            "delete_prototype_permission",
            "regenerate_robot_token",
            "delete_robot",
        ]
    );
}

pub(crate) async fn listings_show_what_the_viewer_may_read(h: &Harness) {
    let (alice, as_alice, acme) = alice_of_acme(h).await;
    let bob = h
        .accounts
        .create_user(signup("bob"), &Actor::system())
        .await
        .unwrap();
    for (path, visibility) in [
        ("acme/a-private", Visibility::Private),
        ("acme/b-public", Visibility::Public),
        ("acme/c-granted", Visibility::Private),
        ("alice/own", Visibility::Private),
    ] {
        h.accounts
            .create_repository(
                &as_alice,
                &RepositoryPath::parse(path).unwrap(),
                visibility,
                None,
            )
            .await
            .unwrap();
    }
    let granted = RepositoryPath::parse("acme/c-granted").unwrap();
    h.accounts
        .set_user_permission(&as_alice, &granted, "bob", Role::Read)
        .await
        .unwrap();

    let viewer = |standing, account: &AccountRecord| {
        Identity::Account(Principal {
            account: account.id,
            name: account.name.clone(),
            kind: PrincipalKind::User(standing),
            credential: CredentialKind::Password,
            scopes: None,
        })
    };
    let names = |page: quay_core::accounts::RepositoryPage| -> Vec<(String, Role)> {
        page.repositories
            .into_iter()
            .map(|(details, role)| (details.repository.path.to_string(), role))
            .collect()
    };
    let list = async |viewer: &Identity, namespace, public| {
        h.accounts
            .visible_repositories(viewer, namespace, public, None, 100)
            .await
            .unwrap()
    };

    assert_eq!(
        names(list(&Identity::Anonymous, Some(&acme), false).await),
        [("acme/b-public".to_string(), Role::Read)]
    );
    let as_bob = &viewer(Superuser::No, &bob);
    assert_eq!(
        names(list(as_bob, Some(&acme), false).await),
        [("acme/c-granted".to_string(), Role::Read)]
    );
    assert_eq!(
        names(list(as_bob, None, true).await),
        [
            ("acme/b-public".to_string(), Role::Read),
            ("acme/c-granted".to_string(), Role::Read)
        ]
    );
    let as_alice_viewer = &viewer(Superuser::No, &alice);
    assert_eq!(
        list(as_alice_viewer, None, false).await.repositories.len(),
        4
    );
    let auditor = &viewer(Superuser::ReadOnly, &bob);
    assert_eq!(list(auditor, None, false).await.repositories.len(), 4);

    // Pages continue where the last one ended.
    let first = h
        .accounts
        .visible_repositories(as_alice_viewer, None, false, None, 3)
        .await
        .unwrap();
    assert_eq!(first.repositories.len(), 3);
    let rest = h
        .accounts
        .visible_repositories(as_alice_viewer, None, false, first.next, 3)
        .await
        .unwrap();
    assert_eq!(
        names(rest.clone()),
        [("alice/own".to_string(), Role::Admin)]
    );
    assert_eq!(rest.next, None);
}

pub(crate) async fn deleting_a_namespace_reaches_the_registry(h: &Harness) {
    let (_, as_alice, _) = alice_of_acme(h).await;
    let path = RepositoryPath::parse("acme/app").unwrap();
    push_image(&h.registry, &path, "v1", b"config", &[b"layer"]).await;
    // The registry has looked the repository up (and cached it, where it caches).
    h.registry
        .manifest(&path, &tag("v1"), &ANYONE)
        .await
        .unwrap();
    h.accounts
        .delete_organization(&as_alice, &name("acme"))
        .await
        .unwrap();
    assert!(matches!(
        h.registry.manifest(&path, &tag("v1"), &ANYONE).await,
        Err(Error::RepositoryUnknown)
    ));
    assert!(matches!(
        h.accounts.organization(&name("acme")).await,
        Err(Error::NotFound { .. })
    ));
    // What it held goes with the next collection, once its upload links lapse.
    h.clock.advance_ms(2 * 3_600_000);
    let reclaimed = h.collector().collect().await.unwrap();
    assert_eq!(reclaimed.blobs, 2, "{reclaimed:?}");
    assert!(h.stored_objects("sha256/").await.is_empty());
}
