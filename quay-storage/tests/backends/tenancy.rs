//! Tenancy: accounts, organizations, teams, robots, permissions, stored credentials and the
//! usage log, through the ports the authorizer and the API use.

use quay_core::access::{Caller, Identity};
use quay_core::account::{AccountKind, Grantee, NamespaceKind};
use quay_core::audit::{Actor, AuditEntry, LogKind, LogQuery};
use quay_core::names::Namespace;
use quay_core::permission::{Role, TeamRole, Visibility};
use quay_core::ports::{
    AccountStore, ApplicationRecord, AuditLog, Creation, CredentialStore, ListingScope,
    NewPrototype, NewRepository, NewRobot, NewUser, PermissionStore, RepositoryListing,
    RepositorySettings, RepositoryStore, TeamChange, TeamStore, TokenKind, TokenRecord, UserChange,
};
use quay_core::{Error, RepositoryPath};

use crate::support::*;

const NOW: i64 = 1_700_000_000_000;

fn entry(kind: LogKind) -> AuditEntry {
    Actor::system().entry(kind, NOW)
}

fn name(text: &str) -> Namespace {
    Namespace::parse(text).unwrap()
}

async fn user(h: &Harness, username: &str) -> quay_core::account::AccountRecord {
    let new = NewUser {
        name: name(username),
        email: Some(format!("{username}@example.com")),
        password_hash: format!("hash-of-{username}"),
        superuser: false,
        now_ms: NOW,
    };
    h.directory
        .create_user(new, entry(LogKind::UserCreate))
        .await
        .unwrap()
}

pub(crate) async fn users_and_organizations(h: &Harness) {
    let alice = user(h, "alice").await;
    assert_eq!(alice.kind, AccountKind::User);
    assert_eq!(h.directory.count_users().await.unwrap(), 1);
    let namespace = h
        .directory
        .namespace(&name("alice"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (namespace.id, namespace.kind),
        (alice.namespace, NamespaceKind::User)
    );
    assert_eq!(
        h.directory
            .account_with_secret("alice")
            .await
            .unwrap()
            .map(|(account, secret)| (account.id, secret)),
        Some((alice.id, "hash-of-alice".to_string()))
    );

    let again = NewUser {
        name: name("alice"),
        email: None,
        password_hash: String::new(),
        superuser: false,
        now_ms: NOW,
    };
    let taken = h
        .directory
        .create_user(again, entry(LogKind::UserCreate))
        .await;
    assert!(matches!(taken, Err(Error::AlreadyExists(_))));

    let acme = h
        .directory
        .create_organization(
            &name("acme"),
            Some("ops@acme.test"),
            Some(alice.id),
            entry(LogKind::OrgCreate),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(acme.kind, NamespaceKind::Organization);
    // An organization cannot take a user's name, nor a user an organization's.
    let clash = h
        .directory
        .create_organization(&name("alice"), None, None, entry(LogKind::OrgCreate), NOW)
        .await;
    assert!(matches!(clash, Err(Error::AlreadyExists(_))));
    // The creator is in the owners team, which administers the organization.
    let teams = h.directory.teams_of(acme.id, alice.id).await.unwrap();
    assert_eq!(teams.len(), 1);
    assert_eq!(
        (teams[0].name.as_str(), teams[0].role),
        ("owners", TeamRole::Admin)
    );
    let (_, facts) = h
        .directory
        .namespace_access(Some(alice.id), &name("acme"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(facts.team_role, Some(TeamRole::Admin));
    assert!(!facts.owner);
    let (_, own) = h
        .directory
        .namespace_access(Some(alice.id), &name("alice"))
        .await
        .unwrap()
        .unwrap();
    assert!(own.owner);
    let organizations = h.directory.organizations_of(alice.id).await.unwrap();
    assert_eq!(
        organizations
            .iter()
            .map(|(o, role)| (o.name.as_str(), *role))
            .collect::<Vec<_>>(),
        [("acme", TeamRole::Admin)]
    );

    let change = UserChange {
        enabled: Some(false),
        email: Some("new@example.com".into()),
        ..Default::default()
    };
    h.directory
        .update_user(alice.id, change, vec![entry(LogKind::UserDisable)])
        .await
        .unwrap();
    let alice = h.directory.account("alice").await.unwrap().unwrap();
    assert!(!alice.enabled);
    assert_eq!(alice.email.as_deref(), Some("new@example.com"));
    let users = h.directory.users(None, 10).await.unwrap();
    assert_eq!(users.len(), 1);

    // Deleting the organization takes its teams and repositories along.
    let path = RepositoryPath::parse("acme/app").unwrap();
    let new = NewRepository {
        visibility: Visibility::Private,
        description: None,
        creator: Some(alice.id),
        creation: Creation::Requested,
    };
    h.directory
        .create_repository(acme.id, &path, new, None, NOW)
        .await
        .unwrap();
    h.metadata
        .repositories
        .delete_namespace(acme.id, entry(LogKind::OrgDelete))
        .await
        .unwrap();
    assert!(
        h.directory
            .namespace(&name("acme"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(h.directory.find_repository(&path).await.unwrap().is_none());
    assert!(
        h.directory
            .teams_of(acme.id, alice.id)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn robots_and_their_tokens(h: &Harness) {
    let alice = user(h, "alice").await;
    let robot = NewRobot {
        owner: alice.namespace,
        name: "alice+builder".into(),
        token_hash: "first".into(),
        description: Some("CI".into()),
        metadata: None,
        now_ms: NOW,
    };
    let builder = h
        .directory
        .create_robot(robot.clone(), entry(LogKind::CreateRobot))
        .await
        .unwrap();
    assert_eq!(builder.kind, AccountKind::Robot);
    assert_eq!(builder.namespace, alice.namespace);
    let duplicate = h
        .directory
        .create_robot(robot, entry(LogKind::CreateRobot))
        .await;
    assert!(
        matches!(duplicate, Err(Error::AlreadyExists(message)) if message.contains("alice+builder"))
    );
    h.directory
        .set_account_secret(builder.id, "second", entry(LogKind::RegenerateRobotToken))
        .await
        .unwrap();
    assert_eq!(
        h.directory
            .account_by_id_with_secret(builder.id)
            .await
            .unwrap()
            .map(|(account, secret)| (account.name, secret)),
        Some(("alice+builder".to_string(), "second".to_string()))
    );
    assert_eq!(h.directory.robots(alice.namespace).await.unwrap().len(), 1);
    // Robots are accounts but not users.
    assert_eq!(h.directory.count_users().await.unwrap(), 1);
    h.directory
        .delete_account(builder.id, entry(LogKind::DeleteRobot))
        .await
        .unwrap();
    assert!(
        h.directory
            .account("alice+builder")
            .await
            .unwrap()
            .is_none()
    );
}

pub(crate) async fn teams_and_members(h: &Harness) {
    let alice = user(h, "alice").await;
    let bob = user(h, "bob").await;
    let acme = h
        .directory
        .create_organization(
            &name("acme"),
            None,
            Some(alice.id),
            entry(LogKind::OrgCreate),
            NOW,
        )
        .await
        .unwrap();
    let change = TeamChange {
        organization: acme.id,
        name: name("devs"),
        role: TeamRole::Creator,
        description: "developers".into(),
        now_ms: NOW,
    };
    let devs = h
        .directory
        .save_team(change.clone(), vec![entry(LogKind::OrgCreateTeam)])
        .await
        .unwrap();
    assert_eq!((devs.role, devs.member_count), (TeamRole::Creator, 0));
    let promoted = TeamChange {
        role: TeamRole::Admin,
        ..change
    };
    let devs = h
        .directory
        .save_team(promoted, vec![entry(LogKind::OrgSetTeamRole)])
        .await
        .unwrap();
    assert_eq!(devs.role, TeamRole::Admin);
    assert_eq!(h.directory.teams(acme.id).await.unwrap().len(), 2);

    h.directory
        .add_team_member(devs.id, bob.id, entry(LogKind::OrgAddTeamMember))
        .await
        .unwrap();
    h.directory
        .add_team_member(devs.id, bob.id, entry(LogKind::OrgAddTeamMember))
        .await
        .unwrap();
    let members = h.directory.team_members(devs.id).await.unwrap();
    assert_eq!(
        members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["bob"]
    );
    let (_, facts) = h
        .directory
        .namespace_access(Some(bob.id), &name("acme"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(facts.team_role, Some(TeamRole::Admin));
    assert!(
        h.directory
            .remove_team_member(devs.id, bob.id, entry(LogKind::OrgRemoveTeamMember))
            .await
            .unwrap()
    );
    assert!(
        !h.directory
            .remove_team_member(devs.id, bob.id, entry(LogKind::OrgRemoveTeamMember))
            .await
            .unwrap()
    );
    let (_, facts) = h
        .directory
        .namespace_access(Some(bob.id), &name("acme"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(facts.team_role, None);
    h.directory
        .delete_team(devs.id, entry(LogKind::OrgDeleteTeam))
        .await
        .unwrap();
    assert!(
        h.directory
            .team(acme.id, &name("devs"))
            .await
            .unwrap()
            .is_none()
    );
}

pub(crate) async fn permissions_facts_and_default_permissions(h: &Harness) {
    let alice = user(h, "alice").await;
    let bob = user(h, "bob").await;
    let carol = user(h, "carol").await;
    let acme = h
        .directory
        .create_organization(
            &name("acme"),
            None,
            Some(alice.id),
            entry(LogKind::OrgCreate),
            NOW,
        )
        .await
        .unwrap();
    let team = |team_name: &str, role| TeamChange {
        organization: acme.id,
        name: name(team_name),
        role,
        description: String::new(),
        now_ms: NOW,
    };
    let creators = h
        .directory
        .save_team(team("creators", TeamRole::Creator), vec![])
        .await
        .unwrap();
    let readers = h
        .directory
        .save_team(team("readers", TeamRole::Member), vec![])
        .await
        .unwrap();
    h.directory
        .add_team_member(creators.id, bob.id, entry(LogKind::OrgAddTeamMember))
        .await
        .unwrap();
    h.directory
        .add_team_member(readers.id, carol.id, entry(LogKind::OrgAddTeamMember))
        .await
        .unwrap();

    // Every new repository gives the readers team read; repositories bob creates give carol
    // write, which overrides nothing else.
    let prototype = |activating, delegate, role| NewPrototype {
        organization: acme.id,
        activating_account: activating,
        delegate,
        role,
    };
    let p1 = h
        .directory
        .create_prototype(
            prototype(None, Grantee::Team(readers.id), Role::Read),
            entry(LogKind::CreatePrototypePermission),
        )
        .await
        .unwrap()
        .uuid;
    let p2 = h
        .directory
        .create_prototype(
            prototype(Some(bob.id), Grantee::Account(carol.id), Role::Write),
            entry(LogKind::CreatePrototypePermission),
        )
        .await
        .unwrap()
        .uuid;
    assert_ne!(p1, p2);
    // A prototype for the creator itself never applies.
    h.directory
        .create_prototype(
            prototype(None, Grantee::Account(bob.id), Role::Read),
            entry(LogKind::CreatePrototypePermission),
        )
        .await
        .unwrap();
    assert_eq!(h.directory.prototypes(acme.id).await.unwrap().len(), 3);

    let path = RepositoryPath::parse("acme/app").unwrap();
    let new = NewRepository {
        visibility: Visibility::Private,
        description: Some("the app".into()),
        creator: Some(bob.id),
        creation: Creation::Requested,
    };
    let (repository, created) = h
        .directory
        .create_repository(
            acme.id,
            &path,
            new.clone(),
            Some(entry(LogKind::CreateRepo)),
            NOW,
        )
        .await
        .unwrap();
    assert!(created);
    let (_, again) = h
        .directory
        .create_repository(acme.id, &path, new, None, NOW)
        .await
        .unwrap();
    assert!(!again, "creating twice is a no-op");

    let bob_access = h
        .directory
        .repository_access(Some(bob.id), &path)
        .await
        .unwrap();
    assert_eq!(bob_access.direct_role, Some(Role::Admin));
    assert_eq!(
        bob_access.namespace_facts.team_role,
        Some(TeamRole::Creator)
    );
    assert_eq!(
        bob_access.repository.as_ref().unwrap().1,
        Visibility::Private
    );
    let carol_access = h
        .directory
        .repository_access(Some(carol.id), &path)
        .await
        .unwrap();
    assert_eq!(carol_access.direct_role, Some(Role::Write));
    assert_eq!(carol_access.team_role, Some(Role::Read));
    let anonymous = h.directory.repository_access(None, &path).await.unwrap();
    assert_eq!((anonymous.direct_role, anonymous.team_role), (None, None));
    assert!(anonymous.repository.is_some());
    let missing = h
        .directory
        .repository_access(Some(bob.id), &RepositoryPath::parse("acme/none").unwrap())
        .await
        .unwrap();
    assert!(missing.namespace.is_some() && missing.repository.is_none());
    let nowhere = h
        .directory
        .repository_access(Some(bob.id), &RepositoryPath::parse("nobody/x").unwrap())
        .await
        .unwrap();
    assert!(nowhere.namespace.is_none());

    let permissions = h
        .directory
        .repository_permissions(repository.id)
        .await
        .unwrap();
    let mut listed: Vec<(&str, Role)> = permissions
        .iter()
        .map(|p| (p.name.as_str(), p.role))
        .collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        [
            ("bob", Role::Admin),
            ("carol", Role::Write),
            ("readers", Role::Read)
        ]
    );

    h.directory
        .set_permission(
            repository.id,
            &Grantee::Account(carol.id),
            Role::Admin,
            entry(LogKind::ChangeRepoPermission),
        )
        .await
        .unwrap();
    let of_carol = h
        .directory
        .permissions_of(&Grantee::Account(carol.id))
        .await
        .unwrap();
    assert_eq!(of_carol, [(path.clone(), Visibility::Private, Role::Admin)]);
    assert!(
        h.directory
            .delete_permission(
                repository.id,
                &Grantee::Account(carol.id),
                entry(LogKind::DeleteRepoPermission)
            )
            .await
            .unwrap()
    );
    assert_eq!(
        h.directory
            .repository_access(Some(carol.id), &path)
            .await
            .unwrap()
            .direct_role,
        None
    );

    h.directory
        .set_visibility(
            repository.id,
            Visibility::Public,
            entry(LogKind::ChangeRepoVisibility),
        )
        .await
        .unwrap();
    let details = h
        .directory
        .repository_details(repository.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (details.visibility, details.description.as_deref()),
        (Visibility::Public, Some("the app"))
    );
    let listing = |account, scope| RepositoryListing {
        account,
        namespace: Some(acme.id),
        scope,
        after: None,
        limit: 10,
    };
    let public = h
        .directory
        .list_with_standing(&listing(None, ListingScope::Public))
        .await
        .unwrap();
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].details.repository.path, path);
    // Carol's standing comes from her team's permission (her own was taken away).
    let carols = h
        .directory
        .list_with_standing(&listing(
            Some(carol.id),
            ListingScope::Standing { public: false },
        ))
        .await
        .unwrap();
    assert_eq!(carols.len(), 1);
    assert_eq!(carols[0].facts.team_role, Some(Role::Read));
    assert_eq!(carols[0].facts.direct_role, None);
    let after = RepositoryListing {
        after: Some(path.clone()),
        ..listing(None, ListingScope::Everything)
    };
    assert!(
        h.directory
            .list_with_standing(&after)
            .await
            .unwrap()
            .is_empty()
    );

    // A repository a push creates is committed without waiting for the disk, and is seen at
    // once, with its creator's and the prototypes' permissions, like one asked for.
    let pushed = RepositoryPath::parse("acme/pushed").unwrap();
    let for_content = NewRepository {
        visibility: Visibility::Private,
        description: None,
        creator: Some(bob.id),
        creation: Creation::ForContent,
    };
    let (created_for_push, created) = h
        .directory
        .create_repository(acme.id, &pushed, for_content, None, NOW)
        .await
        .unwrap();
    assert!(created);
    assert_eq!(
        h.directory.find_repository(&pushed).await.unwrap(),
        Some(created_for_push)
    );
    let bob_pushed = h
        .directory
        .repository_access(Some(bob.id), &pushed)
        .await
        .unwrap();
    assert_eq!(bob_pushed.direct_role, Some(Role::Admin));
    let carol_pushed = h
        .directory
        .repository_access(Some(carol.id), &pushed)
        .await
        .unwrap();
    assert_eq!(carol_pushed.direct_role, Some(Role::Write));

    assert!(
        h.directory
            .set_prototype_role(
                acme.id,
                &p1,
                Role::Write,
                entry(LogKind::ModifyPrototypePermission)
            )
            .await
            .unwrap()
    );
    assert!(
        h.directory
            .delete_prototype(acme.id, &p2, entry(LogKind::DeletePrototypePermission))
            .await
            .unwrap()
    );
    assert!(
        !h.directory
            .delete_prototype(acme.id, &p2, entry(LogKind::DeletePrototypePermission))
            .await
            .unwrap()
    );
}

pub(crate) async fn stored_credentials_and_the_signing_key(h: &Harness) {
    let alice = user(h, "alice").await;
    let token = TokenRecord {
        kind: TokenKind::AppToken,
        uuid: "uuid-1".into(),
        account: alice.id,
        lookup: "L".repeat(60),
        secret_hash: "hash".into(),
        detail: "laptop".into(),
        application: None,
        created_ms: NOW,
        expires_ms: None,
        last_used_ms: None,
    };
    h.directory
        .create_token(token.clone(), Some(entry(LogKind::CreateAppSpecificToken)))
        .await
        .unwrap();
    assert_eq!(
        h.directory
            .token(TokenKind::AppToken, &token.lookup)
            .await
            .unwrap(),
        Some(token.clone())
    );
    assert!(
        h.directory
            .token(TokenKind::OAuthToken, &token.lookup)
            .await
            .unwrap()
            .is_none()
    );
    h.directory
        .touch_token(TokenKind::AppToken, "uuid-1", NOW + 1)
        .await
        .unwrap();
    let tokens = h
        .directory
        .tokens_of(TokenKind::AppToken, alice.id)
        .await
        .unwrap();
    assert_eq!(tokens[0].last_used_ms, Some(NOW + 1));
    assert!(
        h.directory
            .delete_token(TokenKind::AppToken, "uuid-1", None)
            .await
            .unwrap()
    );
    assert!(
        h.directory
            .token(TokenKind::AppToken, &token.lookup)
            .await
            .unwrap()
            .is_none()
    );

    let acme = h
        .directory
        .create_organization(
            &name("acme"),
            None,
            Some(alice.id),
            entry(LogKind::OrgCreate),
            NOW,
        )
        .await
        .unwrap();
    let application = ApplicationRecord {
        organization: acme.id,
        client_id: "client".into(),
        client_secret_hash: "secret".into(),
        name: "deployer".into(),
        redirect_uri: "http://localhost/cb".into(),
        application_uri: String::new(),
        description: String::new(),
    };
    h.directory
        .save_application(application.clone(), entry(LogKind::CreateApplication))
        .await
        .unwrap();
    assert_eq!(
        h.directory.application("client").await.unwrap(),
        Some(application)
    );
    let oauth = TokenRecord {
        kind: TokenKind::OAuthToken,
        uuid: "uuid-2".into(),
        lookup: "O".repeat(20),
        application: Some("client".into()),
        ..token
    };
    h.directory.create_token(oauth.clone(), None).await.unwrap();
    assert!(
        h.directory
            .delete_application("client", entry(LogKind::DeleteApplication))
            .await
            .unwrap()
    );
    assert!(
        h.directory
            .token(TokenKind::OAuthToken, &oauth.lookup)
            .await
            .unwrap()
            .is_none()
    );

    assert!(h.directory.signing_key().await.unwrap().is_none());
    let first = h
        .directory
        .store_signing_key("kid-1", b"key one")
        .await
        .unwrap();
    let second = h
        .directory
        .store_signing_key("kid-2", b"key two")
        .await
        .unwrap();
    assert_eq!(first, ("kid-1".to_string(), b"key one".to_vec()));
    assert_eq!(second, first, "the first key stored wins");
}

pub(crate) async fn the_usage_log_records_and_pages(h: &Harness) {
    // Pushes, pulls and deletes through the registry write their entries.
    let path = repo("acme/app");
    let caller = Caller {
        identity: Identity::Anonymous,
        actor: Actor {
            ip: Some("192.0.2.1".into()),
            ..Actor::default()
        },
    };
    push_image(&h.registry, &path, "v1", b"{}", &[b"layer"]).await;
    h.clock.advance_ms(1);
    h.registry
        .manifest(&path, &tag("v1"), &caller)
        .await
        .unwrap();
    h.clock.advance_ms(1);
    h.registry
        .delete_manifest(&path, &tag("v1"), &caller)
        .await
        .unwrap();
    h.pull_log.close().await;
    let acme = h.directory.namespace(&name("acme")).await.unwrap().unwrap();
    let query = LogQuery {
        namespace: Some(acme.id),
        from_ms: 0,
        until_ms: i64::MAX,
        limit: 100,
        ..Default::default()
    };
    let logs = h.directory.logs(&query).await.unwrap();
    let kinds: Vec<&str> = logs.iter().map(|entry| entry.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["delete_tag", "pull_repo", "push_repo", "org_create"]
    );
    assert_eq!(logs[1].ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(logs[1].metadata["tag"], "v1");
    assert_eq!(logs[1].metadata["repo"], "app");
    assert_eq!(
        logs[1].namespace,
        Some(("acme".into(), NamespaceKind::Organization))
    );

    // Pages of two, newest first, each entry once.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = h
            .directory
            .logs(&LogQuery {
                after,
                limit: 2,
                ..query.clone()
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|entry| (entry.at_ms, entry.id));
        seen.extend(page.into_iter().map(|entry| entry.kind));
    }
    assert_eq!(seen, kinds);
    let counts = h.directory.log_counts(&query).await.unwrap();
    assert_eq!(counts.iter().map(|c| c.count).sum::<u64>(), 4);
    let window = LogQuery {
        from_ms: i64::MAX - 1,
        ..query
    };
    assert!(h.directory.logs(&window).await.unwrap().is_empty());

    // A large batch (as the pull log writes them) keeps every entry, in order.
    let batch: Vec<AuditEntry> = (0..137)
        .map(|n| {
            Actor::system()
                .entry(LogKind::PullRepo, NOW + 10)
                .namespace(acme.id)
                .meta("n", n)
        })
        .collect();
    h.directory.append(&batch).await.unwrap();
    let written = h
        .directory
        .logs(&LogQuery {
            from_ms: NOW + 10,
            limit: 1000,
            ..query
        })
        .await
        .unwrap();
    let order: Vec<i64> = written
        .iter()
        .map(|entry| entry.metadata["n"].as_i64().unwrap())
        .collect();
    assert_eq!(order, (0..137).rev().collect::<Vec<_>>());
}
