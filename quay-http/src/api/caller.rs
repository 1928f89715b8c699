//! Who calls `/api/v1`, and the checks handlers make before they act.
//!
//! The API accepts an OAuth access token (`Authorization: Bearer`) or a session cookie,
//! never Basic credentials (as Quay). A session's requests that change something must carry
//! its CSRF token in `X-CSRF-Token`, so that another site cannot make a signed-in browser
//! act. A refusal is 401 for anonymous callers and 403 for authenticated ones, whether or
//! not the thing exists, so that nobody learns what they may not see.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use quay_core::access::{Identity, PrincipalKind, Scopes};
use quay_core::audit::Actor;
use quay_core::names::Namespace;
use quay_core::permission::{NamespaceAction, RepositoryAction, Superuser};
use quay_core::{Error, RepositoryPath};

use super::error::{ApiError, ApiResult};
use super::state::Api;
use crate::auth::{Credentials, client_ip, user_agent};
use crate::error::HttpError;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "quay_session";

/// How recent a session's sign-in must be for sensitive actions (`FRESH_LOGIN_TIMEOUT`).
const FRESH_LOGIN_MS: i64 = 10 * 60 * 1000;

/// The caller of an API request.
pub(crate) struct Caller {
    /// Who they are.
    pub(crate) identity: Identity,
    /// As the usage log records them.
    pub(crate) actor: Actor,
    /// When they signed in, if they came with a session.
    signed_in_ms: Option<i64>,
    /// Their session's public id.
    pub(crate) session: Option<String>,
}

/// The value of cookie `name`, if the request has it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

impl FromRequestParts<Api> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> ApiResult<Self> {
        let authenticator = &api.tenancy.authenticator;
        let mut signed_in_ms = None;
        let mut session = None;
        let identity = match Credentials::of(&parts.headers) {
            Ok(Credentials::Bearer(token)) => {
                Identity::Account(authenticator.oauth_token(&token).await?)
            }
            // Basic credentials are not for the API; a malformed header is no better.
            Ok(Credentials::Basic { .. } | Credentials::None) | Err(_) => {
                match cookie(&parts.headers, SESSION_COOKIE) {
                    // A stale cookie is no session: the browser is simply signed out.
                    Some(value) => match authenticator.session(value).await {
                        Ok(found) => {
                            let safe = matches!(parts.method, Method::GET | Method::HEAD);
                            let sent = parts
                                .headers
                                .get("x-csrf-token")
                                .and_then(|value| value.to_str().ok());
                            if !safe && sent != Some(found.csrf_token.as_str()) {
                                return Err(HttpError::CsrfTokenInvalid.into());
                            }
                            signed_in_ms = Some(found.created_ms);
                            session = Some(found.uuid);
                            Identity::Account(found.principal)
                        }
                        Err(Error::InvalidCredentials(_)) => Identity::Anonymous,
                        Err(other) => return Err(other.into()),
                    },
                    None => Identity::Anonymous,
                }
            }
        };
        let actor = identity.actor(
            client_ip(&parts.headers, &parts.extensions),
            user_agent(&parts.headers),
        );
        Ok(Self {
            identity,
            actor,
            signed_in_ms,
            session,
        })
    }
}

impl Caller {
    /// The refusal for this caller: 401 when anonymous, else 403.
    pub(crate) fn refusal(&self) -> ApiError {
        match self.identity {
            Identity::Anonymous => Error::Unauthorized.into(),
            _ => Error::Denied.into(),
        }
    }

    /// The authenticated user (robots cannot use the user's own endpoints).
    pub(crate) fn user(&self) -> ApiResult<&quay_core::access::Principal> {
        match self.identity.principal() {
            Some(principal) if matches!(principal.kind, PrincipalKind::User(_)) => Ok(principal),
            _ => Err(self.refusal()),
        }
    }

    /// The account's id, if authenticated.
    pub(crate) fn account(&self) -> Option<i64> {
        self.identity.principal().map(|principal| principal.account)
    }

    /// Refuses unless the credential carries `scope` (sessions carry every scope).
    pub(crate) fn scope(&self, scope: impl Fn(&Scopes) -> bool) -> ApiResult<()> {
        match self
            .identity
            .principal()
            .and_then(|principal| principal.scopes)
        {
            Some(scopes) if !scope(&scopes) => Err(self.refusal()),
            _ => Ok(()),
        }
    }

    /// Refuses a session that signed in more than ten minutes ago; tokens pass.
    pub(crate) fn fresh(&self, api: &Api) -> ApiResult<()> {
        match self.signed_in_ms {
            Some(at) if api.now_ms() - at > FRESH_LOGIN_MS => {
                Err(HttpError::FreshLoginRequired.into())
            }
            _ => Ok(()),
        }
    }

    /// The caller's standing among superusers (with the `super:user` scope, if a token).
    pub(crate) fn superuser(&self) -> Superuser {
        let scoped = self
            .identity
            .principal()
            .and_then(|principal| principal.scopes)
            .is_none_or(|scopes| scopes.super_user);
        match self.identity.principal().map(|principal| principal.kind) {
            Some(PrincipalKind::User(standing)) if scoped => standing,
            _ => Superuser::No,
        }
    }

    /// Refuses anyone but a superuser (or, with `read_only`, a global read-only one too).
    pub(crate) fn require_superuser(&self, read_only: bool) -> ApiResult<()> {
        match self.superuser() {
            Superuser::Yes => Ok(()),
            Superuser::ReadOnly if read_only => Ok(()),
            _ => Err(self.refusal()),
        }
    }

    /// Refuses unless the caller may do `action` to the repository at `path` (for a
    /// missing repository, the refusal is the same as for a private one).
    pub(crate) async fn may_repository(
        &self,
        api: &Api,
        path: &RepositoryPath,
        action: RepositoryAction,
    ) -> ApiResult<()> {
        match api
            .app
            .authorizer
            .authorize(&self.identity, path, action)
            .await
        {
            Ok(()) => Ok(()),
            Err(Error::Denied) => Err(self.refusal()),
            Err(other) => Err(other.into()),
        }
    }

    /// Refuses unless the caller may do `action` in the namespace (a missing one is
    /// refused like any other, except to a superuser who may do anything anywhere).
    pub(crate) async fn may_namespace(
        &self,
        api: &Api,
        namespace: &Namespace,
        action: NamespaceAction,
    ) -> ApiResult<()> {
        match api
            .app
            .authorizer
            .authorize_namespace(&self.identity, namespace, action)
            .await
        {
            Ok(()) => Ok(()),
            Err(error @ Error::NotFound { .. })
                if self.superuser() == Superuser::Yes
                    && api.permissions().superusers_full_access =>
            {
                Err(error.into())
            }
            Err(Error::Denied | Error::NotFound { .. }) => Err(self.refusal()),
            Err(other) => Err(other.into()),
        }
    }
}
