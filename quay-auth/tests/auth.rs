//! Authentication and authorization on a real database: every kind of credential, the
//! registry token's life (issued, verified, expired, tampered, surviving a restart), and
//! decisions on real permissions.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use quay_auth::{AuthSettings, Authenticator, PermissionAuthorizer, credentials};
use quay_core::access::{
    Action, Authorizer, GrantedActions, Identity, Principal, PrincipalKind, Scopes,
};
use quay_core::account::AccountRecord;
use quay_core::audit::{Actor, LogKind};
use quay_core::clock::Clock;
use quay_core::names::Namespace;
use quay_core::permission::{PermissionSettings, RepositoryAction, Role, Superuser, Visibility};
use quay_core::ports::{
    AccountStore, Creation, CredentialStore, NewRepository, NewRobot, NewUser, RepositoryStore,
    UserChange,
};
use quay_core::{Error, RepositoryPath};
use quay_storage::{MetadataOptions, SqlMetadata};

struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

struct Setup {
    directory: Arc<SqlMetadata>,
    clock: Arc<TestClock>,
    uri: String,
    _dir: tempfile::TempDir,
}

const NOW: i64 = 1_700_000_000_000;

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("sqlite://{}", dir.path().join("auth.db").display());
    let directory = Arc::new(
        SqlMetadata::connect(&uri, &MetadataOptions::default(), Default::default())
            .await
            .unwrap(),
    );
    Setup {
        directory,
        clock: Arc::new(TestClock(AtomicI64::new(NOW))),
        uri,
        _dir: dir,
    }
}

impl Setup {
    async fn authenticator(&self, settings: AuthSettings) -> Authenticator {
        Authenticator::new(self.directory.clone(), settings, self.clock.clone())
            .await
            .unwrap()
    }

    async fn user(&self, auth: &Authenticator, name: &str, password: &str) -> AccountRecord {
        let user = NewUser {
            name: Namespace::parse(name).unwrap(),
            email: None,
            password_hash: auth.passwords().hash(password).await.unwrap(),
            superuser: false,
            now_ms: NOW,
        };
        self.directory
            .create_user(user, Actor::system().entry(LogKind::UserCreate, NOW))
            .await
            .unwrap()
    }

    async fn robot(&self, owner: &AccountRecord, short: &str) -> (AccountRecord, String) {
        let (token, hash) = credentials::robot_token().unwrap();
        let robot = NewRobot {
            owner: owner.namespace,
            name: format!("{}+{short}", owner.name),
            token_hash: hash,
            description: None,
            metadata: None,
            now_ms: NOW,
        };
        let robot = self
            .directory
            .create_robot(robot, Actor::system().entry(LogKind::CreateRobot, NOW))
            .await
            .unwrap();
        (robot, token)
    }
}

fn refused<T>(result: &quay_core::Result<T>) -> bool {
    matches!(result, Err(Error::InvalidCredentials(_)))
}

#[tokio::test]
async fn passwords_robots_and_stored_tokens() {
    let setup = setup().await;
    let auth = setup.authenticator(AuthSettings::default()).await;
    let alice = setup.user(&auth, "alice", "wonderland").await;

    let principal = auth.basic("alice", "wonderland", None).await.unwrap();
    assert_eq!(
        (principal.account, principal.kind),
        (
            alice.id,
            PrincipalKind::User(quay_core::permission::Superuser::No)
        )
    );
    assert!(refused(&auth.basic("alice", "wrong", None).await));
    assert!(refused(&auth.basic("nobody", "wonderland", None).await));

    let (robot, token) = setup.robot(&alice, "ci").await;
    assert_eq!(
        auth.basic("alice+ci", &token, None).await.unwrap().kind,
        PrincipalKind::Robot
    );
    assert!(refused(&auth.basic("alice+ci", "WRONG", None).await));
    // A regenerated token replaces the old one at once.
    let (new_token, new_hash) = credentials::robot_token().unwrap();
    setup
        .directory
        .set_account_secret(
            robot.id,
            &new_hash,
            Actor::system().entry(LogKind::RegenerateRobotToken, NOW),
        )
        .await
        .unwrap();
    assert!(refused(&auth.basic("alice+ci", &token, None).await));
    assert!(auth.basic("alice+ci", &new_token, None).await.is_ok());
    // ROBOTS_DISALLOW refuses robot logins, except the listed ones.
    let closed = setup
        .authenticator(AuthSettings {
            robots_disallow: true,
            ..AuthSettings::default()
        })
        .await;
    assert!(refused(&closed.basic("alice+ci", &new_token, None).await));
    let listed = setup
        .authenticator(AuthSettings {
            robots_disallow: true,
            robots_whitelist: vec!["alice+ci".into()],
            ..AuthSettings::default()
        })
        .await;
    assert!(listed.basic("alice+ci", &new_token, None).await.is_ok());

    // App-specific tokens stand for their user.
    let minted = credentials::app_token(alice.id, "laptop", NOW, None).unwrap();
    setup
        .directory
        .create_token(minted.record, None)
        .await
        .unwrap();
    let principal = auth.basic("$app", &minted.secret, None).await.unwrap();
    assert_eq!(principal.account, alice.id);
    let mut wrong = minted.secret.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'a' { 'b' } else { 'a' });
    assert!(refused(&auth.basic("$app", &wrong, None).await));
    // OAuth tokens carry their scopes, and expire.
    let oauth = credentials::oauth_token(alice.id, "client", "repo:read", NOW, 1000).unwrap();
    setup
        .directory
        .create_token(oauth.record, None)
        .await
        .unwrap();
    let principal = auth
        .basic("$oauthtoken", &oauth.secret, None)
        .await
        .unwrap();
    assert_eq!(
        principal.scopes.unwrap().repo,
        Some(quay_core::permission::Role::Read)
    );
    setup.clock.0.fetch_add(1000, Ordering::SeqCst);
    assert!(refused(&auth.oauth_token(&oauth.secret).await));

    // Disabled users cannot log in, by any credential.
    let change = UserChange {
        enabled: Some(false),
        ..Default::default()
    };
    setup
        .directory
        .update_user(alice.id, change, vec![])
        .await
        .unwrap();
    assert!(refused(&auth.basic("alice", "wonderland", None).await));
    assert!(refused(&auth.basic("$app", &minted.secret, None).await));
}

#[tokio::test]
async fn registry_tokens_verify_expire_and_survive_a_restart() {
    let setup = setup().await;
    let auth = setup.authenticator(AuthSettings::default()).await;
    let alice = setup.user(&auth, "alice", "wonderland").await;
    let principal = auth.basic("alice", "wonderland", None).await.unwrap();
    let grants = [(
        "alice/app".to_string(),
        GrantedActions {
            pull: true,
            push: true,
            all: false,
        },
    )];
    let token = auth
        .issue_registry_token(Some(&principal), "registry.test", &grants)
        .await
        .unwrap();

    let Identity::Token {
        principal: holder,
        grants,
    } = auth.registry_token(&token, "registry.test").await.unwrap()
    else {
        panic!("a registry token");
    };
    assert_eq!(holder.unwrap().account, alice.id);
    assert_eq!(grants[0].repository.to_string(), "alice/app");
    assert!(grants[0].actions.push && !grants[0].actions.all);
    // For another service, it is not valid.
    assert!(refused(&auth.registry_token(&token, "other.test").await));
    // Tampered: one character of the signature changed.
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(refused(
        &auth.registry_token(&tampered, "registry.test").await
    ));

    // Anonymous tokens have no principal.
    let anonymous = auth
        .issue_registry_token(None, "registry.test", &[])
        .await
        .unwrap();
    let anonymous = auth.registry_token(&anonymous, "registry.test").await;
    assert!(matches!(
        anonymous,
        Ok(Identity::Token {
            principal: None,
            ..
        })
    ));

    // A restarted server (a new authenticator on the same database) uses the same key.
    let connection = Arc::new(
        SqlMetadata::connect(&setup.uri, &MetadataOptions::default(), Default::default())
            .await
            .unwrap(),
    );
    let restarted = Authenticator::new(connection, AuthSettings::default(), setup.clock.clone())
        .await
        .unwrap();
    assert!(
        restarted
            .registry_token(&token, "registry.test")
            .await
            .is_ok()
    );
    // An hour and a minute later, it has expired.
    setup.clock.0.fetch_add(3_631_000, Ordering::SeqCst);
    assert!(refused(
        &restarted.registry_token(&token, "registry.test").await
    ));
}

#[tokio::test]
async fn decisions_on_real_permissions() {
    let setup = setup().await;
    let auth = setup.authenticator(AuthSettings::default()).await;
    let authorizer =
        PermissionAuthorizer::new(setup.directory.clone(), PermissionSettings::default());
    let alice = setup.user(&auth, "alice", "pw-alice").await;
    setup.user(&auth, "bob", "pw-bob").await;
    let path = RepositoryPath::parse("alice/secret").unwrap();
    let new = NewRepository {
        visibility: Visibility::Private,
        description: None,
        creator: Some(alice.id),
        creation: Creation::Requested,
    };
    setup
        .directory
        .create_repository(alice.namespace, &path, new, None, NOW)
        .await
        .unwrap();

    let as_identity = |principal| Identity::Account(principal);
    let alice_id = as_identity(auth.basic("alice", "pw-alice", None).await.unwrap());
    let bob_id = as_identity(auth.basic("bob", "pw-bob", None).await.unwrap());
    let decide = |identity: &Identity, path: &str, action| {
        let path = RepositoryPath::parse(path).unwrap();
        let identity = identity.clone();
        let authorizer = &authorizer;
        async move { authorizer.authorize(&identity, &path, action).await.is_ok() }
    };
    assert!(decide(&alice_id, "alice/secret", RepositoryAction::Admin).await);
    assert!(!decide(&bob_id, "alice/secret", RepositoryAction::Read).await);
    assert!(!decide(&Identity::Anonymous, "alice/secret", RepositoryAction::Read).await);
    // A missing repository: its namespace's owner may create it and learns it is missing;
    // anybody else is refused exactly as for a private one.
    assert!(decide(&alice_id, "alice/new", RepositoryAction::Write).await);
    assert!(decide(&alice_id, "alice/new", RepositoryAction::Read).await);
    assert!(!decide(&bob_id, "alice/new", RepositoryAction::Write).await);
    assert!(!decide(&bob_id, "alice/new", RepositoryAction::Read).await);
    // No namespace: no push (CREATE_NAMESPACE_ON_PUSH is off by default).
    assert!(!decide(&alice_id, "nowhere/app", RepositoryAction::Write).await);
    // The catalog: anyone signed in; anonymous callers only with FEATURE_PUBLIC_CATALOG.
    assert!(authorizer.allows(&alice_id, Action::ListCatalog));
    assert!(!authorizer.allows(&Identity::Anonymous, Action::ListCatalog));
    // A registry token is exactly its grants.
    let principal = auth.basic("bob", "pw-bob", None).await.unwrap();
    let grants = [(
        "alice/secret".to_string(),
        GrantedActions {
            pull: true,
            ..Default::default()
        },
    )];
    let token = auth
        .issue_registry_token(Some(&principal), "svc", &grants)
        .await
        .unwrap();
    let holder = auth.registry_token(&token, "svc").await.unwrap();
    assert!(decide(&holder, "alice/secret", RepositoryAction::Read).await);
    assert!(!decide(&holder, "alice/secret", RepositoryAction::Write).await);
    assert!(!decide(&holder, "alice/other", RepositoryAction::Read).await);
}

#[tokio::test]
async fn an_oauth_token_creates_a_namespace_on_push_only_with_repo_create() {
    let setup = setup().await;
    let permissions = PermissionSettings {
        create_namespace_on_push: true,
        ..PermissionSettings::default()
    };
    let auth = setup.authenticator(AuthSettings::default()).await;
    let authorizer = PermissionAuthorizer::new(setup.directory.clone(), permissions);
    setup.user(&auth, "alice", "pw-alice").await;
    let missing = RepositoryPath::parse("nowhere/app").unwrap();
    let with_scopes = async |scopes: Option<Scopes>| {
        let mut principal = auth.basic("alice", "pw-alice", None).await.unwrap();
        principal.scopes = scopes;
        authorizer
            .authorize(
                &Identity::Account(principal),
                &missing,
                RepositoryAction::Write,
            )
            .await
            .is_ok()
    };
    let write = Scopes {
        repo: Some(Role::Write),
        ..Scopes::default()
    };
    // A password may create the namespace; an OAuth token only with `repo:create`, as for a
    // repository in a namespace that exists.
    assert!(with_scopes(None).await);
    assert!(!with_scopes(Some(write)).await);
    assert!(
        with_scopes(Some(Scopes {
            repo_create: true,
            ..write
        }))
        .await
    );
}

#[tokio::test]
async fn a_push_into_a_missing_namespace_is_named_only_to_whom_may_know() {
    let setup = setup().await;
    let auth = setup.authenticator(AuthSettings::default()).await;
    setup.user(&auth, "alice", "pw-alice").await;
    let alice = auth.basic("alice", "pw-alice", None).await.unwrap();
    let root = Principal {
        kind: PrincipalKind::User(Superuser::Yes),
        ..alice.clone()
    };
    let missing = RepositoryPath::parse("nowhere/app").unwrap();
    let push = async |permissions, principal: &Principal| {
        PermissionAuthorizer::new(setup.directory.clone(), permissions)
            .authorize(
                &Identity::Account(principal.clone()),
                &missing,
                RepositoryAction::Write,
            )
            .await
    };
    let full_access = PermissionSettings {
        superusers_full_access: true,
        ..PermissionSettings::default()
    };
    // A superuser with full access may know, and is told which namespace is missing.
    let told = push(full_access, &root).await.unwrap_err();
    assert!(
        matches!(&told, Error::NotFound { what: "namespace", name } if name == "nowhere"),
        "{told:?}"
    );
    assert_eq!(told.to_string(), "namespace nowhere not found");
    // Anyone else is refused as for a private repository.
    assert!(matches!(
        push(full_access, &alice).await,
        Err(Error::Denied)
    ));
    assert!(matches!(
        push(PermissionSettings::default(), &root).await,
        Err(Error::Denied)
    ));
}
