//! OAuth: an organization's applications, and the implicit grant at `/oauth/authorize`
//! through which a signed-in user (a browser, or a script holding a session) mints a
//! scoped access token for an application.
//!
//! The grant is a `POST` carrying the session's CSRF token, so that another site cannot
//! make a signed-in browser hand a token to an application it registered; `GET` only
//! describes what would be granted.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use quay_auth::credentials;
use quay_core::Error;
use quay_core::access::Scopes;
use quay_core::accounts::ApplicationDetails;
use quay_core::ports::ApplicationRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures};
use super::extract::{Json, Valid};
use super::params::name;
use super::state::Api;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(applications, create_application))
        .routes(routes!(application, update_application, delete_application))
}

/// An OAuth application.
#[derive(Serialize, ToSchema)]
pub(crate) struct ApplicationView {
    name: String,
    description: String,
    application_uri: String,
    client_id: String,
    /// Shown only when the application is created (only its hash is kept).
    client_secret: Option<String>,
    redirect_uri: String,
}

impl ApplicationView {
    fn of(application: ApplicationRecord, client_secret: Option<String>) -> Self {
        Self {
            name: application.name,
            description: application.description,
            application_uri: application.application_uri,
            client_id: application.client_id,
            client_secret,
            redirect_uri: application.redirect_uri,
        }
    }
}

/// An organization's applications.
#[derive(Serialize, ToSchema)]
pub(crate) struct ApplicationList {
    applications: Vec<ApplicationView>,
}

/// An application's settings.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ApplicationRequest {
    name: String,
    /// Where granted tokens are sent: an absolute `http` or `https` URL without a fragment,
    /// which a grant's `redirect_uri` must match exactly.
    redirect_uri: Option<String>,
    /// The application's home page.
    application_uri: Option<String>,
    description: Option<String>,
}

impl ApplicationRequest {
    /// The fields, checked.
    fn details(self) -> ApiResult<ApplicationDetails> {
        Ok(ApplicationDetails {
            name: application_name(&self.name)?,
            redirect_uri: registered_redirect(self.redirect_uri)?,
            application_uri: self.application_uri,
            description: self.description,
        })
    }
}

/// An organization's OAuth applications (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/applications", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 200, description = "The applications", body = ApplicationList), Failures))]
async fn applications(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
) -> ApiResult<axum::Json<ApplicationList>> {
    let applications = api
        .accounts()
        .applications(&caller, &name(&organization)?)
        .await?;
    Ok(axum::Json(ApplicationList {
        applications: applications
            .into_iter()
            .map(|application| ApplicationView::of(application, None))
            .collect(),
    }))
}

/// Creates an OAuth application; the response has its client secret (administrators).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/applications", tag = "organization",
    params(("orgname" = String, Path, description = "The organization")),
    request_body = ApplicationRequest,
    responses((status = 200, description = "The application", body = ApplicationView), Failures))]
async fn create_application(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
    Json(request): Json<ApplicationRequest>,
) -> ApiResult<axum::Json<ApplicationView>> {
    let details = request.details()?;
    let (client_id, secret, client_secret_hash) =
        credentials::application_credentials().map_err(Error::from)?;
    let application = api
        .accounts()
        .create_application(
            &caller,
            &name(&organization)?,
            (client_id, client_secret_hash),
            details,
        )
        .await?;
    Ok(axum::Json(ApplicationView::of(application, Some(secret))))
}

/// An application's redirect URI as registered: absolute, `http` or `https`, without
/// credentials or a fragment (RFC 6749 §3.1.2). Empty is allowed: the application then
/// takes no grants until it has one.
fn registered_redirect(uri: Option<String>) -> ApiResult<Option<String>> {
    match uri {
        Some(uri) if !uri.is_empty() => {
            redirect_target(&uri).ok_or_else(|| {
                ApiError::invalid(
                    "redirect_uri must be an absolute http or https URL without credentials or a fragment",
                )
            })?;
            Ok(Some(uri))
        }
        other => Ok(other),
    }
}

/// A redirect URI that tokens may be sent to: an absolute `http` or `https` URL with a
/// host, without credentials (`user@`) or a fragment.
fn redirect_target(uri: &str) -> Option<url::Url> {
    let url = url::Url::parse(uri).ok()?;
    let acceptable = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none();
    acceptable.then_some(url)
}

/// Whether a grant's `redirect_uri` is the registered one: the same scheme, host, port,
/// path and query, compared exactly (OAuth 2.1 §4.1.3; a prefix match sent tokens to
/// `http://app.example.evil.com` for `http://app.example`). Only the notation may differ
/// (`HTTP://App.Example:80` is `http://app.example`).
fn redirect_matches(registered: &str, given: &str) -> bool {
    match (redirect_target(registered), redirect_target(given)) {
        (Some(registered), Some(given)) => {
            registered.scheme() == given.scheme()
                && registered.host() == given.host()
                && registered.port_or_known_default() == given.port_or_known_default()
                && registered.path() == given.path()
                && registered.query() == given.query()
        }
        _ => false,
    }
}

fn application_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(ApiError::invalid("The name must have 1 to 255 characters"));
    }
    Ok(name.to_string())
}

/// An OAuth application (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/applications/{client_id}", tag = "organization",
    params(("orgname" = String, Path, description = "The organization"),
           ("client_id" = String, Path, description = "The application's client id")),
    responses((status = 200, description = "The application", body = ApplicationView), Failures))]
async fn application(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, client_id))): Valid<Path<(String, String)>>,
) -> ApiResult<axum::Json<ApplicationView>> {
    let application = api
        .accounts()
        .application(&caller, &name(&organization)?, &client_id)
        .await?;
    Ok(axum::Json(ApplicationView::of(application, None)))
}

/// Changes an OAuth application (administrators).
#[utoipa::path(put, path = "/api/v1/organization/{orgname}/applications/{client_id}", tag = "organization",
    params(("orgname" = String, Path, description = "The organization"),
           ("client_id" = String, Path, description = "The application's client id")),
    request_body = ApplicationRequest,
    responses((status = 200, description = "The application", body = ApplicationView), Failures))]
async fn update_application(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, client_id))): Valid<Path<(String, String)>>,
    Json(request): Json<ApplicationRequest>,
) -> ApiResult<axum::Json<ApplicationView>> {
    let details = request.details()?;
    let application = api
        .accounts()
        .update_application(&caller, &name(&organization)?, &client_id, details)
        .await?;
    Ok(axum::Json(ApplicationView::of(application, None)))
}

/// Deletes an OAuth application and the tokens granted to it (administrators).
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}/applications/{client_id}", tag = "organization",
    params(("orgname" = String, Path, description = "The organization"),
           ("client_id" = String, Path, description = "The application's client id")),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_application(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path((organization, client_id))): Valid<Path<(String, String)>>,
) -> ApiResult<StatusCode> {
    api.accounts()
        .delete_application(&caller, &name(&organization)?, &client_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An implicit grant's parameters (RFC 6749 §4.2).
#[derive(Deserialize)]
pub(crate) struct GrantRequest {
    /// Must be `token`.
    response_type: String,
    client_id: String,
    redirect_uri: Option<String>,
    /// Space-separated scopes.
    scope: String,
    /// Returned as given.
    state: Option<String>,
}

/// What a grant would give, for the user to confirm.
#[derive(Serialize)]
pub(crate) struct GrantDescription {
    application: String,
    client_id: String,
    scopes: Vec<String>,
    redirect_uri: String,
}

/// The application and the validated scopes and redirect of a grant request.
async fn validate(
    api: &Api,
    caller: &Caller,
    request: &GrantRequest,
) -> ApiResult<(ApplicationRecord, Scopes, String)> {
    if request.response_type != "token" {
        return Err(ApiError::invalid(
            "response_type must be token (the implicit grant)",
        ));
    }
    let application = api
        .accounts()
        .application_to_grant(caller, &request.client_id)
        .await?
        .ok_or_else(|| ApiError::invalid("Unknown client_id"))?;
    let redirect = request
        .redirect_uri
        .clone()
        .unwrap_or_else(|| application.redirect_uri.clone());
    if !redirect_matches(&application.redirect_uri, &redirect) {
        return Err(ApiError::invalid(
            "redirect_uri does not match the application's redirect URI",
        ));
    }
    let scopes = Scopes::parse(&request.scope)?;
    if scopes == Scopes::default() {
        return Err(ApiError::invalid("At least one scope is required"));
    }
    Ok((application, scopes, redirect))
}

/// `GET /oauth/authorize`: what the grant would give (a signed-in user only).
pub(crate) async fn describe_grant(
    State(api): State<Api>,
    caller: Caller,
    Valid(Query(request)): Valid<Query<GrantRequest>>,
) -> ApiResult<axum::Json<GrantDescription>> {
    let (application, scopes, redirect_uri) = validate(&api, &caller, &request).await?;
    Ok(axum::Json(GrantDescription {
        application: application.name,
        client_id: application.client_id,
        scopes: scopes.names().split(' ').map(str::to_string).collect(),
        redirect_uri,
    }))
}

/// `POST /oauth/authorize`: grants the token, redirecting to the application with it in
/// the fragment. Only a session may grant (with its CSRF token), as in Quay.
pub(crate) async fn grant(
    State(api): State<Api>,
    caller: Caller,
    Valid(Query(request)): Valid<Query<GrantRequest>>,
) -> ApiResult<Response> {
    if caller.session.is_none() {
        return Err(caller.identity.refusal().into());
    }
    let (application, scopes, redirect_uri) = validate(&api, &caller, &request).await?;
    let scope = scopes.names();
    let lifetime_s = api.tenancy.settings.implicit_token_lifetime_s;
    let minted = credentials::oauth_token(
        caller.signed_in()?.account,
        &application.client_id,
        &scope,
        api.accounts().now_ms(),
        lifetime_s.saturating_mul(1000),
    )
    .map_err(Error::from)?;
    api.accounts()
        .grant_oauth_token(&caller, minted.record)
        .await?;
    let mut fragment = form_urlencoded::Serializer::new(String::new());
    fragment
        .append_pair("access_token", &minted.secret)
        .append_pair("token_type", "Bearer")
        .append_pair("expires_in", &lifetime_s.to_string())
        .append_pair("scope", &scope);
    if let Some(state) = &request.state {
        fragment.append_pair("state", state);
    }
    // The registered URI has no fragment (and the given one matches it), so the token's
    // fragment is the only one.
    let location = format!("{redirect_uri}#{}", fragment.finish());
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_match_the_registered_uri_exactly() {
        let registered = "http://app.example";
        for same in [
            "http://app.example",
            "http://app.example/",
            "HTTP://APP.example:80/",
        ] {
            assert!(redirect_matches(registered, same), "{same}");
        }
        for other in [
            "http://app.example.evil.com/steal",
            "http://app.example@evil.com/",
            "http://user:pass@app.example/",
            "http://app.example/callback",
            "http://app.example:8080/",
            "https://app.example/",
            "http://app.example/?next=evil",
            "http://app.example/#fragment",
            "//app.example/",
            "javascript:alert(1)",
            "",
        ] {
            assert!(!redirect_matches(registered, other), "{other}");
        }
        assert!(redirect_matches(
            "https://app.example/cb?x=1",
            "https://app.example/cb?x=1"
        ));
        assert!(!redirect_matches("", "http://app.example/"));
    }

    #[test]
    fn registered_redirects_are_absolute_web_urls() {
        for fine in [None, Some(""), Some("https://app.example/cb")] {
            assert!(
                registered_redirect(fine.map(str::to_string)).is_ok(),
                "{fine:?}"
            );
        }
        for bad in [
            "app.example",
            "ftp://app.example/",
            "http://app.example/#x",
            "http://u@app.example/",
        ] {
            assert!(registered_redirect(Some(bad.into())).is_err(), "{bad}");
        }
    }
}
