//! Addresses that may receive a repository's e-mail notifications (Quay's
//! `authorizedemail`), and the page their owners reach from the confirmation mail
//! (`/authrepoemail`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use quay_core::ports::AuthorizedEmail;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiResult, Failures};
use super::extract::Valid;
use super::params::repository_path;
use super::state::Api;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new().routes(routes!(authorized_email, authorize_email))
}

/// Path parameters naming an address of a repository.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct AuthorizedEmailParams {
    /// The namespace.
    namespace: String,
    /// The repository's name (a nested name's `/` as `%2F`).
    repository: String,
    /// The address.
    email: String,
}

/// An address's authorization, as Quay shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuthorizedEmailView {
    email: String,
    namespace: String,
    repository: String,
    /// Whether its owner confirmed.
    confirmed: bool,
}

impl AuthorizedEmailParams {
    fn view(&self, authorized: AuthorizedEmail) -> AuthorizedEmailView {
        AuthorizedEmailView {
            email: authorized.email,
            namespace: self.namespace.clone(),
            repository: self.repository.clone(),
            confirmed: authorized.confirmed,
        }
    }
}

/// Whether an address may receive the repository's notifications (admins); 404 when it was
/// never asked for.
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/authorizedemail/{email}",
    tag = "repository", params(AuthorizedEmailParams),
    responses((status = 200, description = "The authorization", body = AuthorizedEmailView), Failures))]
async fn authorized_email(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<AuthorizedEmailParams>>,
) -> ApiResult<axum::Json<AuthorizedEmailView>> {
    let path = repository_path(&params.namespace, &params.repository)?;
    let authorized = api
        .accounts()
        .authorized_email(&caller, &path, &params.email)
        .await?;
    Ok(axum::Json(params.view(authorized)))
}

/// Asks that an address receive the repository's notifications (admins): the address gets a
/// mail with a link to confirm (`FEATURE_MAILING`).
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/authorizedemail/{email}",
    tag = "repository", params(AuthorizedEmailParams),
    responses((status = 200, description = "The authorization, confirmed or mailed", body = AuthorizedEmailView), Failures))]
async fn authorize_email(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<AuthorizedEmailParams>>,
) -> ApiResult<axum::Json<AuthorizedEmailView>> {
    let path = repository_path(&params.namespace, &params.repository)?;
    let authorized = api
        .accounts()
        .authorize_email(&caller, &path, &params.email)
        .await?;
    Ok(axum::Json(params.view(authorized)))
}

/// The confirmation link's query.
#[derive(Deserialize)]
pub(super) struct ConfirmationQuery {
    code: String,
}

/// The page the confirmation mail links to: confirms the address.
pub(super) async fn confirm(
    State(api): State<Api>,
    Query(query): Query<ConfirmationQuery>,
) -> Response {
    match api.accounts().confirm_authorized_email(&query.code).await {
        Ok((repository, email)) => Html(format!(
            "<!doctype html><title>E-mail authorized</title>\
             <p>{} will now receive the notifications of {} that are sent to it.</p>",
            escape(&email),
            escape(&repository.to_string())
        ))
        .into_response(),
        Err(error) => (
            StatusCode::BAD_REQUEST,
            Html(format!(
                "<!doctype html><title>Not authorized</title><p>{}</p>",
                escape(&error.to_string())
            )),
        )
            .into_response(),
    }
}

/// `text` for an HTML page.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
