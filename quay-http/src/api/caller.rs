//! Who calls `/api/v1`: their credentials turned into the use cases' caller.
//!
//! The API accepts an OAuth access token (`Authorization: Bearer`) or a session cookie,
//! never Basic credentials (as Quay). A session's requests that change something must carry
//! its CSRF token in `X-CSRF-Token`, so that another site cannot make a signed-in browser
//! act. Whether the caller may do what they ask is the use cases' question.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use quay_core::Error;
use quay_core::access::{self, Identity, Principal};

use super::error::{ApiError, ApiResult};
use super::state::Api;
use crate::auth::Credentials;
use crate::client::{client_ip, user_agent};
use crate::error::HttpError;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "quay_session";

/// How recent a session's sign-in must be for sensitive actions (`FRESH_LOGIN_TIMEOUT`).
const FRESH_LOGIN_MS: i64 = 10 * 60 * 1000;

/// The caller of an API request: the use cases' [`access::Caller`] (which it dereferences
/// to), and their session.
pub(crate) struct Caller {
    caller: access::Caller,
    /// When they signed in, if they came with a session.
    signed_in_ms: Option<i64>,
    /// Their session's public id.
    pub(crate) session: Option<String>,
    /// What their session's changing requests send in `X-CSRF-Token`.
    pub(crate) csrf_token: Option<String>,
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
        let mut csrf_token = None;
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
                            csrf_token = Some(found.csrf_token);
                            Identity::Account(found.principal)
                        }
                        Err(Error::InvalidCredentials(_)) => Identity::Anonymous,
                        Err(other) => return Err(other.into()),
                    },
                    None => Identity::Anonymous,
                }
            }
        };
        crate::observe::identified(&identity);
        let caller = access::Caller::new(
            identity,
            client_ip(&parts.headers, &parts.extensions),
            user_agent(&parts.headers),
        );
        Ok(Self {
            caller,
            signed_in_ms,
            session,
            csrf_token,
        })
    }
}

impl std::ops::Deref for Caller {
    type Target = access::Caller;

    fn deref(&self) -> &access::Caller {
        &self.caller
    }
}

impl Caller {
    /// The signed-in account (whatever it may do).
    pub(crate) fn signed_in(&self) -> ApiResult<&Principal> {
        self.identity
            .principal()
            .ok_or_else(|| Error::Unauthorized.into())
    }

    /// Refuses a session that signed in more than ten minutes ago; tokens pass.
    pub(crate) fn fresh(&self, api: &Api) -> ApiResult<()> {
        match self.signed_in_ms {
            Some(at) if api.accounts().now_ms() - at > FRESH_LOGIN_MS => {
                Err(HttpError::FreshLoginRequired.into())
            }
            _ => Ok(()),
        }
    }
}
