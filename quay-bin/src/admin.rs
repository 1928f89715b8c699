//! Administration commands: `quay-bin user create` and `quay-bin token create`.

use std::io::Read;

use anyhow::{Context, bail};
use quay_auth::credentials;
use quay_core::access::Scopes;
use quay_core::audit::{Actor, LogKind};
use quay_core::clock::{Clock, SystemClock};
use quay_core::names::Namespace;
use quay_core::ports::NewUser;

use crate::deployment::Deployment;
use crate::{TokenCreateArgs, UserCreateArgs};

pub(crate) async fn create_user(args: UserCreateArgs) -> anyhow::Result<()> {
    let name = Namespace::parse(&args.name)
        .with_context(|| format!("invalid username {:?}", args.name))?;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']);
    if password.len() < 8 {
        bail!("the password must have at least 8 characters");
    }
    let deployment = Deployment::open(&args.location).await?;
    let now_ms = SystemClock.now_ms();
    let user = NewUser {
        name: name.clone(),
        email: args.email,
        password_hash: deployment
            .app
            .authenticator
            .passwords()
            .hash(password)
            .await?,
        superuser: args.superuser,
        now_ms,
    };
    let audit = Actor::system()
        .entry(LogKind::UserCreate, now_ms)
        .meta("username", name.as_str())
        .meta("superuser", args.superuser);
    deployment.app.directory.create_user(user, audit).await?;
    deployment.app.close().await;
    tracing::info!(user = %name, superuser = args.superuser, "user created");
    Ok(())
}

pub(crate) async fn create_token(args: TokenCreateArgs) -> anyhow::Result<()> {
    let scopes = if args.scopes.is_empty() {
        Scopes::ALL_NAMES.join(" ")
    } else {
        Scopes::parse(&args.scopes.join(" "))?.names()
    };
    let deployment = Deployment::open(&args.location).await?;
    let directory = &deployment.app.directory;
    let account = directory
        .account(&args.user)
        .await?
        .with_context(|| format!("no user {:?}", args.user))?;
    let now_ms = SystemClock.now_ms();
    let lifetime_ms = i64::from(args.days) * 86_400_000;
    let minted = credentials::oauth_token(account.id, "quay-bin", &scopes, now_ms, lifetime_ms)?;
    let audit = Actor::system()
        .entry(LogKind::OauthTokenAssigned, now_ms)
        .namespace(account.namespace)
        .meta("username", account.name.as_str())
        .meta("scope", scopes.as_str());
    directory.create_token(minted.record, Some(audit)).await?;
    deployment.app.close().await;
    // The one place a secret is printed: for the operator who asked for it.
    #[allow(clippy::print_stdout)]
    {
        println!("{}", minted.secret);
    }
    Ok(())
}
