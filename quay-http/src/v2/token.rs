//! `GET /v2/auth`: the registry token endpoint of the docker token flow.
//!
//! A client sends Basic credentials (or none) and the scopes it needs; it gets a token
//! granting the part of each scope it may have. Denied actions are dropped silently, as the
//! flow expects: the registry then refuses the request the token does not cover.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use quay_auth::scope::{RequestedScope, parse_scope};
use quay_core::Error;
use quay_core::access::{Caller, Identity, Principal};
use serde_json::json;

use super::{Query, with_api_version};
use crate::auth::Credentials;
use crate::client::user_agent;
use crate::error::{HttpError, HttpResult};
use crate::state::AppState;

/// Issues a registry token.
pub(crate) async fn issue(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let ip = crate::client::client_ip(&parts.headers, &parts.extensions);
    let response = match token(&state, &Query::parse(query.as_deref()), &parts.headers, ip).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    with_api_version(response)
}

/// A 401 of the token endpoint: no challenge, the reason in the message.
fn unauthorized(message: String) -> HttpError {
    HttpError::Registry(Error::InvalidCredentials(message))
}

async fn token(
    state: &AppState,
    query: &Query,
    headers: &HeaderMap,
    ip: Option<String>,
) -> HttpResult<Response> {
    let Some(tenancy) = &state.tenancy else {
        return Err(HttpError::UnknownEndpoint);
    };
    let authenticator = &tenancy.authenticator;
    let principal: Option<Principal> = match Credentials::of(headers)? {
        Credentials::Basic { username, password } => {
            let actor = Identity::Anonymous.actor(ip.clone(), user_agent(headers));
            match authenticator
                .basic(&username, &password, ip.as_deref())
                .await
            {
                Ok(principal) => Some(principal),
                Err(Error::InvalidCredentials(message)) => {
                    authenticator
                        .record_login(Err((&username, &message)), "v2auth", &actor)
                        .await?;
                    return Err(unauthorized(message));
                }
                Err(other) => return Err(other.into()),
            }
        }
        // Only Basic credentials are read here, as in Quay.
        Credentials::None | Credentials::Bearer(_) => None,
    };
    let scopes: Vec<RequestedScope> = query
        .all("scope")
        .flat_map(|scope| scope.split(' ').filter(|s| !s.is_empty()))
        .map(|scope| parse_scope(scope, state.public.as_ref().map(|p| &*p.host)))
        .collect::<quay_core::Result<_>>()?;
    if principal.is_none() && scopes.is_empty() {
        return Err(unauthorized("Specified credentials are invalid".into()));
    }
    let identity = principal
        .clone()
        .map_or(Identity::Anonymous, Identity::Account);
    crate::observe::identified(&identity);
    let caller = Caller::new(identity, ip, user_agent(headers));
    let mut grants = Vec::with_capacity(scopes.len());
    for scope in &scopes {
        // A mirror's client names the upstream's repository; the token names the one its
        // requests are routed to.
        let (name, repository) = match state.registry.mirrored(&scope.repository, None).await? {
            Some(mirrored) => (mirrored.to_string(), mirrored),
            None => (scope.name.clone(), scope.repository.clone()),
        };
        let granted = state
            .registry
            .grantable(&repository, scope.actions, &caller)
            .await?;
        grants.push((name, granted));
    }
    if let Some(principal) = &principal
        && scopes.is_empty()
    {
        authenticator
            .record_login(Ok(principal), "v2auth", &caller.actor)
            .await?;
    }
    let service = query
        .get("service")
        .map_or_else(|| state.host(headers), str::to_string);
    let token = authenticator
        .issue_registry_token(principal.as_ref(), &service, &grants)
        .await?;
    Ok((StatusCode::OK, axum::Json(json!({ "token": token }))).into_response())
}
