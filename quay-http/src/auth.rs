//! Who a request comes from: its credentials, the identity they resolve to, the client's
//! address, and the challenge that tells a registry client where to get a token.

use axum::http::{Extensions, HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quay_core::access::Identity;
use quay_core::{Error, RepositoryPath};

use crate::client::client_ip;
use crate::error::HttpError;
use crate::state::AppState;
use crate::text::NUL_REFUSED;

/// The credentials of a request's `Authorization` header.
pub(crate) enum Credentials {
    /// None given.
    None,
    /// `Basic`, decoded.
    Basic {
        /// The username part.
        username: String,
        /// The password part.
        password: String,
    },
    /// `Bearer`.
    Bearer(String),
}

impl Credentials {
    /// Reads the `Authorization` header; a malformed one is invalid credentials, one with a
    /// NUL an invalid request.
    pub(crate) fn of(headers: &HeaderMap) -> Result<Self, Error> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(Self::None);
        };
        let malformed = || Error::InvalidCredentials("malformed Authorization header".into());
        let value = value.to_str().map_err(|_| malformed())?;
        let (scheme, rest) = value.split_once(' ').ok_or_else(malformed)?;
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = STANDARD.decode(rest.trim()).map_err(|_| malformed())?;
            let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
            if decoded.contains('\0') {
                return Err(Error::InvalidRequest(NUL_REFUSED.into()));
            }
            let (username, password) = decoded.split_once(':').ok_or_else(malformed)?;
            Ok(Self::Basic {
                username: username.to_string(),
                password: password.to_string(),
            })
        } else if scheme.eq_ignore_ascii_case("bearer") {
            Ok(Self::Bearer(rest.trim().to_string()))
        } else {
            Err(malformed())
        }
    }
}

impl AppState {
    /// The host clients use: `SERVER_HOSTNAME`, else the request's `Host`.
    pub(crate) fn host(&self, headers: &HeaderMap) -> String {
        match &self.public {
            Some(public) => public.host.to_string(),
            None => headers
                .get(header::HOST)
                .and_then(|host| host.to_str().ok())
                .unwrap_or("localhost")
                .to_string(),
        }
    }

    /// The `WWW-Authenticate` challenge of a registry request, naming the scope it needs.
    pub(crate) fn challenge(
        &self,
        headers: &HeaderMap,
        scopes: &[(&RepositoryPath, &str)],
    ) -> String {
        let host = self.host(headers);
        let scheme = &self.scheme;
        let mut challenge =
            format!("Bearer realm=\"{scheme}://{host}/v2/auth\",service=\"{host}\"");
        if !scopes.is_empty() {
            let scopes: Vec<String> = scopes
                .iter()
                .map(|(repository, actions)| format!("repository:{repository}:{actions}"))
                .collect();
            challenge.push_str(&format!(",scope=\"{}\"", scopes.join(" ")));
        }
        challenge
    }

    /// Who a registry request comes from (also told to its access-log line). Without
    /// tenancy everyone is anonymous.
    pub(crate) async fn registry_identity(
        &self,
        headers: &HeaderMap,
        extensions: &Extensions,
    ) -> Result<Identity, HttpError> {
        let identity = self.credentials_identity(headers, extensions).await?;
        crate::observe::identified(&identity);
        Ok(identity)
    }

    async fn credentials_identity(
        &self,
        headers: &HeaderMap,
        extensions: &Extensions,
    ) -> Result<Identity, HttpError> {
        let Some(tenancy) = &self.tenancy else {
            return Ok(Identity::Anonymous);
        };
        let unauthorized = |error: Error| HttpError::Unauthorized {
            challenge: self.challenge(headers, &[]),
            message: error.to_string(),
        };
        let credentials = match Credentials::of(headers) {
            Ok(credentials) => credentials,
            Err(error @ Error::InvalidCredentials(_)) => return Err(unauthorized(error)),
            Err(other) => return Err(other.into()),
        };
        match credentials {
            Credentials::None => Ok(Identity::Anonymous),
            Credentials::Bearer(token) => tenancy
                .authenticator
                .registry_token(&token, &self.host(headers))
                .await
                .map_err(unauthorized),
            Credentials::Basic { username, password } => {
                let client = client_ip(headers, extensions);
                let authenticator = &tenancy.authenticator;
                match authenticator
                    .basic(&username, &password, client.as_deref())
                    .await
                {
                    Ok(principal) => Ok(Identity::Account(principal)),
                    Err(error @ Error::InvalidCredentials(_)) => Err(unauthorized(error)),
                    Err(other) => Err(other.into()),
                }
            }
        }
    }
}
