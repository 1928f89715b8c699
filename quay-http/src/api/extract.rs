//! Extractors whose refusals are `/api/v1` errors (axum's own answer in plain text).
//!
//! JSON bodies are read here whole, up to [`JSON_BODY_LIMIT`] (beyond which the answer is 413,
//! before any of the body is read when its length is declared), and refused with a 400 when
//! they hold text the registry cannot store (a NUL character), so that no handler sees such
//! text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use http_body_util::LengthLimitError;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::error::HttpError;
use crate::text::{NUL_REFUSED, json_has_nul};

/// A JSON request body.
pub(crate) struct Json<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::invalid(
                "Expected request with `Content-Type: application/json`",
            ));
        }
        let body = body(request).await?;
        axum::Json::<T>::from_bytes(&body)
            .map(|axum::Json(value)| Self(value))
            .map_err(|rejection| ApiError::invalid(rejection.body_text()))
    }
}

/// Another extractor (a query, path parameters), refused as an invalid request.
pub(crate) struct Valid<E>(pub(crate) E);

impl<S: Send + Sync, E> FromRequestParts<S> for Valid<E>
where
    E: FromRequestParts<S>,
    E::Rejection: std::fmt::Display,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        E::from_request_parts(parts, state)
            .await
            .map(Self)
            .map_err(|rejection| ApiError::invalid(rejection.to_string()))
    }
}

/// A JSON body that may be absent: an empty body is the default value.
pub(crate) struct OptionalJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let body = body(request).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        serde_json::from_slice(&body)
            .map(Self)
            .map_err(|error| ApiError::invalid(format!("Invalid JSON body: {error}")))
    }
}

/// The most a JSON body may hold: Quay's documents are a few kilobytes at most.
const JSON_BODY_LIMIT: usize = 2 << 20;

/// A JSON body's bytes: 413 beyond the limit, 400 with a NUL in its text.
async fn body(request: Request) -> Result<Bytes, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > JSON_BODY_LIMIT as u64) {
        return Err(HttpError::BodyTooLarge.into());
    }
    let body = axum::body::to_bytes(request.into_body(), JSON_BODY_LIMIT)
        .await
        .map_err(|error| {
            let error = error.into_inner();
            if error.is::<LengthLimitError>() {
                ApiError::from(HttpError::BodyTooLarge)
            } else {
                ApiError::invalid(format!("Failed to read the request body: {error}"))
            }
        })?;
    if json_has_nul(&body) {
        return Err(ApiError::invalid(NUL_REFUSED));
    }
    Ok(body)
}

/// Whether the body is declared JSON: `application/json`, or a `+json` type.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}
