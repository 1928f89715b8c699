//! The signed-in user's app-specific tokens (`FEATURE_APP_SPECIFIC_TOKENS`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use quay_auth::credentials;
use quay_core::Error;
use quay_core::ports::TokenRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures, switched_on};
use super::extract::{Json, Valid};
use super::format::rfc2822;
use super::state::Api;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(app_tokens, create_app_token))
        .routes(routes!(app_token, revoke_app_token))
}

/// An app-specific token.
#[derive(Serialize, ToSchema)]
pub(crate) struct AppTokenView {
    uuid: String,
    title: String,
    last_accessed: Option<String>,
    created: String,
    expiration: Option<String>,
    /// The token: shown only when it is created (only its hash is kept).
    token_code: Option<String>,
}

impl AppTokenView {
    fn of(token: TokenRecord, token_code: Option<String>) -> Self {
        Self {
            uuid: token.uuid,
            title: token.detail,
            last_accessed: token.last_used_ms.map(rfc2822),
            created: rfc2822(token.created_ms),
            expiration: token.expires_ms.map(rfc2822),
            token_code,
        }
    }
}

/// One app-specific token.
#[derive(Serialize, ToSchema)]
pub(crate) struct AppTokenEnvelope {
    token: AppTokenView,
}

/// The current user's app-specific tokens.
#[derive(Serialize, ToSchema)]
pub(crate) struct AppTokenList {
    tokens: Vec<AppTokenView>,
}

/// A new app-specific token's title.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewAppToken {
    title: String,
}

/// Refuses unless app-specific tokens are enabled (`FEATURE_APP_SPECIFIC_TOKENS`).
fn require_app_tokens(api: &Api) -> ApiResult<()> {
    switched_on(
        "FEATURE_APP_SPECIFIC_TOKENS",
        api.auth_settings().app_specific_tokens,
    )
}

/// The current user's app-specific tokens (`FEATURE_APP_SPECIFIC_TOKENS`).
#[utoipa::path(get, path = "/api/v1/user/apptoken", tag = "user",
    responses((status = 200, description = "The tokens", body = AppTokenList), Failures))]
async fn app_tokens(State(api): State<Api>, caller: Caller) -> ApiResult<axum::Json<AppTokenList>> {
    require_app_tokens(&api)?;
    let tokens = api
        .accounts()
        .app_tokens(&caller)
        .await?
        .into_iter()
        .map(|token| AppTokenView::of(token, None))
        .collect();
    Ok(axum::Json(AppTokenList { tokens }))
}

/// Creates an app-specific token: a password for `docker login` with username `$app`.
#[utoipa::path(post, path = "/api/v1/user/apptoken", tag = "user",
    request_body = NewAppToken,
    responses((status = 200, description = "The token, with its code", body = AppTokenEnvelope), Failures))]
async fn create_app_token(
    State(api): State<Api>,
    caller: Caller,
    Json(request): Json<NewAppToken>,
) -> ApiResult<axum::Json<AppTokenEnvelope>> {
    require_app_tokens(&api)?;
    caller.fresh(&api)?;
    let title = request.title.trim();
    if title.is_empty() || title.chars().count() > 255 {
        return Err(ApiError::invalid("The title must have 1 to 255 characters"));
    }
    let account = caller.signed_in()?.account;
    let minted = credentials::app_token(account, title, api.accounts().now_ms(), None)
        .map_err(Error::from)?;
    let record = minted.record.clone();
    api.accounts()
        .create_app_token(&caller, minted.record)
        .await?;
    Ok(axum::Json(AppTokenEnvelope {
        token: AppTokenView::of(record, Some(minted.secret)),
    }))
}

/// One app-specific token (without its code).
#[utoipa::path(get, path = "/api/v1/user/apptoken/{uuid}", tag = "user",
    params(("uuid" = String, Path, description = "The token's id")),
    responses((status = 200, description = "The token", body = AppTokenEnvelope), Failures))]
async fn app_token(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<axum::Json<AppTokenEnvelope>> {
    require_app_tokens(&api)?;
    let token = api.accounts().app_token(&caller, &uuid).await?;
    Ok(axum::Json(AppTokenEnvelope {
        token: AppTokenView::of(token, None),
    }))
}

/// Revokes an app-specific token.
#[utoipa::path(delete, path = "/api/v1/user/apptoken/{uuid}", tag = "user",
    params(("uuid" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked"), Failures))]
async fn revoke_app_token(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<StatusCode> {
    require_app_tokens(&api)?;
    caller.fresh(&api)?;
    api.accounts().revoke_app_token(&caller, &uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}
