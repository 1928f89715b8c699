//! Registry tokens (`/v2/auth`): issued for what the authorizer allowed, verified once and
//! then remembered, and refused soon after their account stops standing.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use quay_core::RepositoryPath;
use quay_core::access::{Grant, GrantedActions, Identity, Principal, PrincipalKind};
use quay_core::account::AccountId;
use quay_core::audit::CredentialKind;

use crate::authenticator::{Authenticator, refuse};
use crate::jwt::{AccessClaim, ContextClaim, Expectations, RegistryClaims};
use crate::standing::{
    STANDING_READ_STRIPES, STANDING_TTL_MS, Standing, VerifiedToken, credential_fingerprint,
};

impl Authenticator {
    /// An account's standing, read now (and remembered for [`STANDING_TTL`]).
    async fn read_standing(&self, account: AccountId) -> quay_core::Result<Standing> {
        let read_ms = self.now_ms();
        let standing = match self.directory.account_by_id_with_secret(account).await? {
            Some((record, secret)) => Standing {
                read_ms,
                account: Some((record.name, record.enabled, credential_fingerprint(&secret))),
            },
            None => Standing {
                read_ms,
                account: None,
            },
        };
        self.standings.insert(account, standing.clone());
        Ok(standing)
    }

    /// Whether a registry token issued at `issued_s` to `principal` for `credential` still
    /// stands (its account exists, may log in, and has that credential still), and if so,
    /// when the standing that says so was read. The remembered standing answers, unless it
    /// disagrees and was read no later than the second the token was issued in (the account
    /// changed since, and the token may be the newer one).
    async fn still_stands(
        &self,
        principal: &Principal,
        credential: Option<&str>,
        issued_s: i64,
    ) -> quay_core::Result<Option<i64>> {
        let trusted = || {
            self.standings.get(&principal.account).filter(|known| {
                known.admits(&principal.name, credential) || known.read_ms >= (issued_s + 1) * 1000
            })
        };
        let standing = match trusted() {
            Some(known) => known,
            None => {
                // Every request in flight with the account's tokens finds its standing
                // expired at once (32 connections of pulls made 64 queries every three
                // seconds): the first reads it again, the others wait and use that read.
                let stripe = principal.account.unsigned_abs() as usize % STANDING_READ_STRIPES;
                let _reading = self.standing_reads[stripe].lock().await;
                match trusted() {
                    Some(known) => known,
                    None => self.read_standing(principal.account).await?,
                }
            }
        };
        Ok(standing
            .admits(&principal.name, credential)
            .then_some(standing.read_ms))
    }

    /// A registry token for `principal` (`None`: anonymous) granting `grants`, for
    /// `service`.
    pub async fn issue_registry_token(
        &self,
        principal: Option<&Principal>,
        service: &str,
        grants: &[(String, GrantedActions)],
    ) -> quay_core::Result<String> {
        let credential = match principal {
            Some(principal) => self
                .read_standing(principal.account)
                .await?
                .account
                .map(|(_, _, credential)| credential),
            None => None,
        };
        let now_s = self.now_ms() / 1000;
        let (entity_kind, kind) = match principal.map(|p| (&p.kind, &p.credential)) {
            None => ("anonymous", "anonymous"),
            Some((PrincipalKind::Robot, _)) => ("robot", "user"),
            Some((_, CredentialKind::AppToken { .. })) => ("appspecifictoken", "user"),
            Some((_, CredentialKind::OAuthToken { .. })) => ("oauthtoken", "oauth"),
            Some(_) => ("user", "user"),
        };
        let claims = RegistryClaims {
            iss: self.settings.issuer.clone(),
            aud: service.to_string(),
            nbf: now_s,
            iat: now_s,
            exp: now_s + self.settings.token_lifetime_s,
            sub: principal.map_or_else(|| "(anonymous)".to_string(), |p| p.name.clone()),
            access: grants
                .iter()
                .map(|(name, actions)| AccessClaim {
                    kind: "repository".into(),
                    name: name.clone(),
                    actions: actions.names().into_iter().map(str::to_string).collect(),
                })
                .collect(),
            context: ContextClaim {
                version: 2,
                entity_kind: entity_kind.into(),
                entity_reference: principal.map(|p| p.account.to_string()),
                kind: kind.into(),
                user: principal.map(|p| p.name.clone()),
                trust_root: "$disabled".into(),
                credential,
            },
        };
        Ok(self.keys.sign(&claims)?)
    }

    /// The identity a registry token carries, if it is valid now for `service` and its
    /// account still stands as when it was issued.
    pub async fn registry_token(&self, token: &str, service: &str) -> quay_core::Result<Identity> {
        let verified = self.verify_registry_token(token, service)?;
        if let Identity::Token {
            principal: Some(principal),
            ..
        } = &verified.identity
        {
            let admitted_at_ms = verified.admitted_at_ms.load(Ordering::Relaxed);
            if self.now_ms().saturating_sub(admitted_at_ms) >= STANDING_TTL_MS {
                let Some(read_ms) = self
                    .still_stands(principal, verified.credential.as_deref(), verified.issued_s)
                    .await?
                else {
                    return Err(refuse(
                        "invalid registry token: its account or credential has changed",
                    ));
                };
                verified
                    .admitted_at_ms
                    .fetch_max(read_ms, Ordering::Relaxed);
            }
        }
        Ok(verified.identity.clone())
    }

    /// A registry token's signature and claims, checked (or remembered as checked).
    fn verify_registry_token(
        &self,
        token: &str,
        service: &str,
    ) -> quay_core::Result<Arc<VerifiedToken>> {
        let now_s = self.now_ms() / 1000;
        if let Some(verified) = self.verified_tokens.get(token)
            && verified.audience == service
            && verified.expires_s > now_s
        {
            return Ok(verified);
        }
        let claims = self.keys.verify(
            token,
            &Expectations {
                issuer: &self.settings.issuer,
                service,
                now_s,
                max_lifetime_s: self.settings.max_token_lifetime_s,
            },
        )?;
        let principal = match (
            claims.context.entity_kind.as_str(),
            &claims.context.entity_reference,
        ) {
            ("anonymous", _) | (_, None) => None,
            (kind, Some(reference)) => Some(Principal {
                account: reference
                    .parse()
                    .map_err(|_| refuse("invalid registry token"))?,
                name: claims.sub.clone(),
                kind: if kind == "robot" {
                    PrincipalKind::Robot
                } else {
                    PrincipalKind::User(self.settings.superusers.of(&claims.sub, false))
                },
                credential: CredentialKind::RegistryToken,
                scopes: None,
            }),
        };
        let grants: Vec<Grant> = claims
            .access
            .iter()
            .filter_map(|access| {
                let repository = RepositoryPath::parse(&access.name).ok()?;
                let has = |action: &str| access.actions.iter().any(|a| a == action);
                Some(Grant {
                    repository,
                    actions: GrantedActions {
                        pull: has("pull"),
                        push: has("push"),
                        all: has("*"),
                    },
                })
            })
            .collect();
        let identity = Identity::Token {
            principal,
            grants: grants.into(),
        };
        let verified = Arc::new(VerifiedToken {
            audience: claims.aud,
            issued_s: claims.iat,
            expires_s: claims.exp,
            identity,
            credential: claims.context.credential,
            admitted_at_ms: AtomicI64::new(i64::MIN),
        });
        self.verified_tokens
            .insert(token.to_string(), verified.clone());
        Ok(verified)
    }
}
