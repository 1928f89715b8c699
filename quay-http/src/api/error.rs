//! Failures of `/api/v1`, in Quay's shape:
//! `{"detail","error_message","error_type","title","type","status"}`.
//!
//! The conditions are the crate's [`HttpError`]; only their presentation differs from
//! `/v2`. Whether a refusal is 401 or 403 is decided before it gets here: the use cases'
//! gates refuse anonymous callers with [`Error::Unauthorized`], others with
//! [`Error::Denied`].

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quay_core::Error;
use serde::Serialize;
use utoipa::openapi::{self, RefOr};
use utoipa::{IntoResponses, ToSchema};

use crate::error::HttpError;
use crate::observe;

/// An `/api/v1` failure.
#[derive(Debug)]
pub(crate) struct ApiError(pub(crate) HttpError);

impl From<HttpError> for ApiError {
    fn from(error: HttpError) -> Self {
        Self(error)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self(HttpError::Registry(error))
    }
}

/// Goes on only if the configuration's `switch` is `on`; otherwise the endpoint answers 404
/// and says which switch serves it.
pub(crate) fn switched_on(switch: &'static str, on: bool) -> ApiResult<()> {
    if on {
        Ok(())
    } else {
        Err(HttpError::SwitchedOff(switch).into())
    }
}

impl ApiError {
    /// A malformed request.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self(HttpError::InvalidRequest(message.into()))
    }

    fn classify(&self) -> (StatusCode, &'static str) {
        use StatusCode as S;
        match &self.0 {
            HttpError::Registry(error) => match error {
                Error::Unauthorized | Error::InvalidCredentials(_) => {
                    (S::UNAUTHORIZED, "invalid_token")
                }
                Error::Denied => (S::FORBIDDEN, "insufficient_scope"),
                Error::NotFound { .. }
                | Error::RepositoryUnknown
                | Error::ManifestUnknown
                | Error::BlobUnknown(_)
                | Error::TagExpired(_) => (S::NOT_FOUND, "not_found"),
                Error::TagImmutable(_) => (S::CONFLICT, "tag_immutable"),
                // Quay answers tag writes to a read-only or mirrored repository so.
                Error::RepositoryNotWritable { .. } => {
                    (S::SERVICE_UNAVAILABLE, "service_unavailable")
                }
                Error::Internal(_) | Error::Storage(_) => {
                    (S::INTERNAL_SERVER_ERROR, "server_error")
                }
                Error::StorageUnavailable { .. } => (S::SERVICE_UNAVAILABLE, "service_unavailable"),
                Error::TooManyAttempts { .. } => (S::TOO_MANY_REQUESTS, "too_many_requests"),
                _ => (S::BAD_REQUEST, "invalid_request"),
            },
            HttpError::Unauthorized { .. } => (S::UNAUTHORIZED, "invalid_token"),
            HttpError::FreshLoginRequired => (S::UNAUTHORIZED, "fresh_login_required"),
            HttpError::InsufficientScope { .. } => (S::FORBIDDEN, "insufficient_scope"),
            HttpError::CsrfTokenInvalid => (S::FORBIDDEN, "csrf_token_invalid"),
            HttpError::UnknownEndpoint | HttpError::SwitchedOff(_) => (S::NOT_FOUND, "not_found"),
            HttpError::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "method_not_allowed"),
            HttpError::BodyTooLarge => (S::PAYLOAD_TOO_LARGE, "request_too_large"),
            HttpError::ResponseInvalid(_) => (S::INTERNAL_SERVER_ERROR, "server_error"),
            _ => (S::BAD_REQUEST, "invalid_request"),
        }
    }
}

/// The body of every `/api/v1` failure.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong, for people.
    detail: String,
    /// The same (older clients read this).
    error_message: String,
    /// The condition, e.g. `invalid_request`, `not_found`, `insufficient_scope`.
    error_type: String,
    /// The same.
    title: String,
    /// Where the condition is described: `/api/v1/error/<error_type>`.
    #[serde(rename = "type")]
    kind: String,
    /// The HTTP status.
    status: u16,
    /// The request's id (`X-Request-Id`), to find its log lines by.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error_type) = self.classify();
        let request_id = observe::request_id();
        let message = match &self.0 {
            _ if status == StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(error = %self.0, request_id, "API request failed");
                "Internal server error".to_string()
            }
            HttpError::Registry(Error::Unauthorized) => "Requires authentication".to_string(),
            HttpError::Registry(Error::Denied) => "Unauthorized".to_string(),
            other => other.to_string(),
        };
        let body = ErrorBody {
            detail: message.clone(),
            error_message: message,
            error_type: error_type.to_string(),
            title: error_type.to_string(),
            kind: format!("/api/v1/error/{error_type}"),
            status: status.as_u16(),
            request_id,
        };
        let mut response = (status, axum::Json(body)).into_response();
        self.0.common_headers(response.headers_mut());
        response
    }
}

/// Results of `/api/v1` handlers.
pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// The failures every operation can answer with, for the API description.
pub(crate) struct Failures;

impl IntoResponses for Failures {
    fn responses() -> BTreeMap<String, RefOr<openapi::response::Response>> {
        [
            ("400", "The request is malformed or breaks a rule"),
            (
                "401",
                "The caller must authenticate, or its credentials are invalid",
            ),
            ("403", "The caller may not do this"),
            ("404", "Nothing by that name that the caller may see"),
            ("413", "The request body is too large"),
            (
                "429",
                "Too many failed logins, or too many at once; try again after Retry-After",
            ),
            (
                "503",
                "Storage cannot work now (full, unreachable or busy); try again later",
            ),
        ]
        .into_iter()
        .map(|(status, description)| {
            let content = openapi::ContentBuilder::new()
                .schema(Some(openapi::Ref::from_schema_name(ErrorBody::name())))
                .build();
            let response = openapi::ResponseBuilder::new()
                .description(description)
                .content("application/json", content)
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
    }
}
