//! Turning credentials into an [`Identity`].
//!
//! | credential | where | resolves to |
//! |---|---|---|
//! | username + password | Basic (registry, token endpoint) | the user |
//! | `<ns>+<robot>` + robot token | Basic | the robot |
//! | `$app` + app-specific token | Basic | the token's user |
//! | `$oauthtoken` + OAuth token | Basic | the token's user, limited to its scopes |
//! | OAuth token | `Authorization: Bearer` (API) | the same |
//! | registry token | `Authorization: Bearer` (registry) | exactly its grants |
//! | session cookie | API | the session's user |
//!
//! Every refusal is [`Error::InvalidCredentials`] with a message that never repeats a secret.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use quay_core::Error;
use quay_core::access::{Principal, PrincipalKind, Scopes};
use quay_core::account::{AccountId, AccountKind, AccountRecord, RobotName, Superusers};
use quay_core::audit::{Actor, CredentialKind, LogKind};
use quay_core::clock::Clock;
use quay_core::ports::{AccountDirectory, TokenKind, TokenRecord};

use crate::credentials::{
    APP_TOKEN_LENGTH, APP_TOKEN_LOOKUP, OAUTH_TOKEN_LENGTH, OAUTH_TOKEN_LOOKUP, SESSION_LENGTH,
    SESSION_LOOKUP,
};
use crate::jwt::TokenKeys;
use crate::password::{PasswordLimits, Passwords};
use crate::secrets::{split_token, verify_secret};
use crate::standing::{STANDING_READ_STRIPES, STANDING_TTL, Standing, VerifiedToken};
use crate::throttle::{Attempt, LoginThrottle};

/// Deployment settings of authentication, with Quay's defaults.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Issuer of registry tokens (`INSTANCE_SERVICE_KEY_SERVICE`, `quay`).
    pub issuer: String,
    /// Lifetime of registry tokens (`TOKEN_VALIDITY_LIFETIME_S`, 3600 s).
    pub token_lifetime_s: i64,
    /// Longest registry token lifetime accepted (`REGISTRY_JWT_AUTH_MAX_FRESH_S`, 3660 s).
    pub max_token_lifetime_s: i64,
    /// `SUPER_USERS` and `GLOBAL_READONLY_SUPER_USERS`.
    pub superusers: Superusers,
    /// `ROBOTS_DISALLOW`: robots cannot log in...
    pub robots_disallow: bool,
    /// ... except these (`ROBOTS_WHITELIST`).
    pub robots_whitelist: Vec<String>,
    /// `FEATURE_APP_SPECIFIC_TOKENS`.
    pub app_specific_tokens: bool,
    /// `ACTION_LOG_AUDIT_LOGINS`: log successful logins to the token endpoint.
    pub audit_logins: bool,
    /// `ACTION_LOG_AUDIT_LOGIN_FAILURES`: log failed ones (on; Quay: off), in the log of the
    /// account they tried.
    pub audit_login_failures: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: "quay".into(),
            token_lifetime_s: 3600,
            max_token_lifetime_s: 3660,
            superusers: Superusers::default(),
            robots_disallow: false,
            robots_whitelist: Vec::new(),
            app_specific_tokens: true,
            audit_logins: true,
            audit_login_failures: true,
        }
    }
}

/// A signed-in browser session.
#[derive(Clone, Debug)]
pub struct Session {
    /// Its user.
    pub principal: Principal,
    /// What requests that change something must send in `X-CSRF-Token`.
    pub csrf_token: String,
    /// Its public id.
    pub uuid: String,
    /// When the user signed in, epoch milliseconds.
    pub created_ms: i64,
}

const INVALID_LOGIN: &str = "Invalid Username or Password";

/// How long a login refused by the throttle waits before it is answered.
const THROTTLED_ANSWER_DELAY: Duration = Duration::from_secs(1);

pub(crate) fn refuse(message: &str) -> Error {
    Error::InvalidCredentials(message.to_string())
}

/// Resolves credentials to identities and issues registry tokens.
pub struct Authenticator {
    pub(crate) directory: Arc<dyn AccountDirectory>,
    pub(crate) passwords: Passwords,
    pub(crate) keys: TokenKeys,
    pub(crate) settings: AuthSettings,
    pub(crate) clock: Arc<dyn Clock>,
    /// Registry tokens already verified, with their audience: the same token arrives with
    /// every request of a pull, and an RSA verification costs more than the rest of a
    /// manifest GET.
    pub(crate) verified_tokens: Cache<String, Arc<VerifiedToken>>,
    /// Accounts' standings, for [`STANDING_TTL`].
    pub(crate) standings: Cache<AccountId, Standing>,
    /// Held while an expired standing is read again, by account (striped): the requests in
    /// flight with the account's tokens wait for that read instead of each making their own.
    pub(crate) standing_reads: [tokio::sync::Mutex<()>; STANDING_READ_STRIPES],
    /// Recent failed logins.
    pub(crate) throttle: LoginThrottle,
}

impl Authenticator {
    /// An authenticator over `directory`, loading (or creating) the token signing key.
    pub async fn new(
        directory: Arc<dyn AccountDirectory>,
        settings: AuthSettings,
        clock: Arc<dyn Clock>,
    ) -> quay_core::Result<Self> {
        let keys = TokenKeys::load_or_create(directory.as_ref()).await?;
        let verified_tokens = Cache::builder()
            .max_capacity(10_000)
            .time_to_live(Duration::from_secs(60))
            .build();
        let standings = Cache::builder()
            .max_capacity(10_000)
            .time_to_live(STANDING_TTL)
            .build();
        Ok(Self {
            directory,
            passwords: Passwords::new(PasswordLimits::default())?,
            keys,
            settings,
            clock,
            verified_tokens,
            standings,
            standing_reads: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            throttle: LoginThrottle::default(),
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Password hashing.
    pub fn passwords(&self) -> &Passwords {
        &self.passwords
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn user_principal(
        &self,
        account: &AccountRecord,
        credential: CredentialKind,
        scopes: Option<Scopes>,
    ) -> Principal {
        Principal {
            account: account.id,
            name: account.name.clone(),
            kind: PrincipalKind::User(
                self.settings
                    .superusers
                    .of(&account.name, account.superuser),
            ),
            credential,
            scopes,
        }
    }

    /// Who Basic credentials, sent from the client address `client`, belong to. Failures
    /// slow down further attempts for the same account and from the same address
    /// ([`LoginThrottle`]).
    pub async fn basic(
        &self,
        username: &str,
        password: &str,
        client: Option<&str>,
    ) -> quay_core::Result<Principal> {
        let attempt = Attempt {
            account: (!username.starts_with('$')).then_some(username),
            address: client,
        };
        let now_ms = self.now_ms();
        if let Some(retry_after_s) = self.throttle.wait_s(&attempt, now_ms) {
            // The answer itself comes late: a guesser that ignores Retry-After gets one
            // answer a second per connection instead of thousands, at the cost of a
            // sleeping task.
            tokio::time::sleep(THROTTLED_ANSWER_DELAY.min(Duration::from_secs(retry_after_s)))
                .await;
            return Err(Error::TooManyAttempts {
                reason: "too many failed logins for this account or from this address",
                retry_after_s,
            });
        }
        let resolved = match username {
            "$app" => self.app_token(password).await,
            "$oauthtoken" => self.oauth_token(password).await,
            robot if robot.contains('+') => self.robot(robot, password).await,
            user => self.user(user, password).await,
        };
        match &resolved {
            Ok(_) => self.throttle.succeeded(&attempt),
            Err(Error::InvalidCredentials(_)) => self.throttle.failed(&attempt, now_ms),
            Err(_) => {}
        }
        resolved
    }

    async fn user(&self, username: &str, password: &str) -> quay_core::Result<Principal> {
        let account = self.directory.account_with_secret(username).await?;
        let Some((account, secret)) = account.filter(|(a, _)| a.kind == AccountKind::User) else {
            return Err(refuse(INVALID_LOGIN));
        };
        if !self.passwords.verify(password, &secret).await? {
            return Err(refuse(INVALID_LOGIN));
        }
        if !account.enabled {
            return Err(refuse(
                "This user has been disabled. Please contact your administrator.",
            ));
        }
        Ok(self.user_principal(&account, CredentialKind::Password, None))
    }

    async fn robot(&self, name: &str, token: &str) -> quay_core::Result<Principal> {
        if RobotName::parse(name).is_err() {
            return Err(refuse(INVALID_LOGIN));
        }
        if self.settings.robots_disallow
            && !self.settings.robots_whitelist.iter().any(|r| r == name)
        {
            return Err(refuse("Robot account logins are disabled"));
        }
        let account = self.directory.account_with_secret(name).await?;
        let Some((account, secret)) = account.filter(|(a, _)| a.kind == AccountKind::Robot) else {
            return Err(refuse(INVALID_LOGIN));
        };
        if !token.is_ascii() || !verify_secret(token, &secret) || !account.enabled {
            return Err(refuse(INVALID_LOGIN));
        }
        Ok(Principal {
            account: account.id,
            name: account.name,
            kind: PrincipalKind::Robot,
            credential: CredentialKind::RobotToken,
            scopes: None,
        })
    }

    /// The stored credential of `kind` that `secret` is, if valid now, and its user.
    async fn stored_token(
        &self,
        kind: TokenKind,
        secret: &str,
        (lookup_length, length): (usize, usize),
    ) -> quay_core::Result<(TokenRecord, AccountRecord)> {
        let (lookup, hidden) =
            split_token(secret, lookup_length, length).ok_or_else(|| refuse(INVALID_LOGIN))?;
        let record = self
            .directory
            .token(kind, lookup)
            .await?
            .ok_or_else(|| refuse(INVALID_LOGIN))?;
        let now_ms = self.now_ms();
        if !verify_secret(hidden, &record.secret_hash)
            || record.expires_ms.is_some_and(|end| end <= now_ms)
        {
            return Err(refuse(INVALID_LOGIN));
        }
        let account = self
            .directory
            .account_by_id(record.account)
            .await?
            .filter(|account| account.enabled)
            .ok_or_else(|| {
                refuse("This user has been disabled. Please contact your administrator.")
            })?;
        self.directory
            .touch_token(kind, &record.uuid, now_ms)
            .await?;
        Ok((record, account))
    }

    async fn app_token(&self, token: &str) -> quay_core::Result<Principal> {
        if !self.settings.app_specific_tokens {
            return Err(refuse(INVALID_LOGIN));
        }
        let (record, account) = self
            .stored_token(
                TokenKind::AppToken,
                token,
                (APP_TOKEN_LOOKUP, APP_TOKEN_LENGTH),
            )
            .await?;
        let credential = CredentialKind::AppToken {
            uuid: record.uuid,
            title: record.detail,
        };
        Ok(self.user_principal(&account, credential, None))
    }

    /// Who an OAuth access token belongs to, limited to its scopes.
    pub async fn oauth_token(&self, token: &str) -> quay_core::Result<Principal> {
        let (record, account) = self
            .stored_token(
                TokenKind::OAuthToken,
                token,
                (OAUTH_TOKEN_LOOKUP, OAUTH_TOKEN_LENGTH),
            )
            .await?;
        let scopes = Scopes::parse(&record.detail)?;
        let credential = CredentialKind::OAuthToken {
            uuid: record.uuid,
            application: record.application.unwrap_or_default(),
        };
        Ok(self.user_principal(&account, credential, Some(scopes)))
    }

    /// The session a cookie carries, if it is valid now.
    pub async fn session(&self, cookie: &str) -> quay_core::Result<Session> {
        let (record, account) = self
            .stored_token(TokenKind::Session, cookie, (SESSION_LOOKUP, SESSION_LENGTH))
            .await?;
        Ok(Session {
            principal: self.user_principal(&account, CredentialKind::Session, None),
            csrf_token: record.detail,
            uuid: record.uuid,
            created_ms: record.created_ms,
        })
    }

    /// Records a login in the usage log, as configured: `via` is `v2auth` (the registry
    /// token endpoint) or `quayauth` (a sign-in). A successful sign-in is recorded with its
    /// session instead, in the same transaction.
    pub async fn record_login(
        &self,
        outcome: Result<&Principal, (&str, &str)>,
        via: &str,
        actor: &Actor,
    ) -> quay_core::Result<()> {
        let now_ms = self.now_ms();
        let entry = match outcome {
            Ok(principal) if self.settings.audit_logins => {
                let account = self.directory.account_by_id(principal.account).await?;
                let kind = match (&principal.kind, &principal.credential) {
                    (PrincipalKind::Robot, _) => "robot",
                    (_, CredentialKind::AppToken { .. }) => "app_specific_token",
                    _ => "user",
                };
                let entry = actor
                    .entry(LogKind::LoginSuccess, now_ms)
                    .meta("kind", kind)
                    .meta("type", via)
                    .meta("useragent", actor.user_agent.clone().unwrap_or_default());
                match account {
                    Some(account) => entry.namespace(account.namespace),
                    None => entry,
                }
            }
            Err((username, message)) if self.settings.audit_login_failures => {
                let entry = actor
                    .entry(LogKind::LoginFailure, now_ms)
                    .meta("type", via)
                    .meta("username", username)
                    .meta("message", message)
                    .meta("useragent", actor.user_agent.clone().unwrap_or_default());
                // In the log of the account it tried, so that its owner sees the attempts.
                match self.directory.account(username).await? {
                    Some(account) => entry.namespace(account.namespace),
                    None => entry,
                }
            }
            _ => return Ok(()),
        };
        self.directory.append(&[entry]).await
    }
}
