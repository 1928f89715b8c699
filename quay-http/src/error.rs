//! The one place where failures become HTTP responses.
//!
//! On `/v2` every error is the OCI error envelope,
//! `{"errors":[{"code","message","detail"}]}`, with the status the distribution
//! specification (or, where it is silent, Quay) gives the condition. On `/api/v1` the same
//! conditions take Quay's shape instead (the API's `ApiError`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quay_core::Error;
use quay_core::upstream::UpstreamProblem;
use serde_json::json;

use crate::headers::{API_VERSION, API_VERSION_VALUE, DOCKER_UPLOAD_UUID};
use crate::{metrics, observe};

/// What a request can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// A use case refused or failed.
    #[error(transparent)]
    Registry(#[from] Error),
    /// No endpoint has this path.
    #[error("unknown endpoint")]
    UnknownEndpoint,
    /// The endpoint is served only with this switch of the configuration on.
    #[error("{0} is off on this registry")]
    SwitchedOff(&'static str),
    /// The endpoint exists, but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A query parameter or header is malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// A request body is larger than the endpoint takes.
    #[error("the request body is too large")]
    BodyTooLarge,
    /// A response could not be built (a header value the registry made is not a valid
    /// one): a fault of the registry, answered 500.
    #[error("building the response failed: {0}")]
    ResponseInvalid(#[source] http::Error),
    /// A registry request needs (other) credentials; the challenge says where to get a
    /// token.
    #[error("{message}")]
    Unauthorized {
        /// The `WWW-Authenticate` header.
        challenge: String,
        /// What went wrong.
        message: String,
    },
    /// A registry token is valid but does not grant this request (RFC 6750's
    /// `insufficient_scope`: 403, so that clients fetch a token with the scope named).
    #[error("the token does not grant this")]
    InsufficientScope {
        /// The `WWW-Authenticate` header, with `error="insufficient_scope"`.
        challenge: String,
    },
    /// The action needs a sign-in of the last few minutes (`FRESH_LOGIN_TIMEOUT`).
    #[error("The action requires a fresh login to succeed.")]
    FreshLoginRequired,
    /// A session's request that changes something lacks the session's CSRF token.
    #[error("CSRF token was invalid or missing.")]
    CsrfTokenInvalid,
    /// A chunk does not start where the upload ends; the client learns where it does.
    #[error("chunk out of order: the upload has {size} bytes")]
    ChunkOutOfOrder {
        /// The upload's URL.
        location: String,
        /// The upload's id.
        id: String,
        /// Bytes the upload holds.
        size: u64,
    },
}

impl HttpError {
    /// Status, OCI code and detail of the condition.
    fn classify(&self) -> (StatusCode, &'static str, serde_json::Value) {
        use StatusCode as S;
        let none = serde_json::Value::Null;
        match self {
            Self::UnknownEndpoint | Self::SwitchedOff(_) => (S::NOT_FOUND, "UNSUPPORTED", none),
            Self::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "UNSUPPORTED", none),
            Self::InvalidRequest(_) => (S::BAD_REQUEST, "INVALID_REQUEST", none),
            Self::BodyTooLarge => (S::PAYLOAD_TOO_LARGE, "SIZE_INVALID", none),
            Self::ResponseInvalid(_) => (S::INTERNAL_SERVER_ERROR, "UNKNOWN", none),
            Self::Unauthorized { .. } => (S::UNAUTHORIZED, "UNAUTHORIZED", none),
            Self::InsufficientScope { .. } | Self::CsrfTokenInvalid => {
                (S::FORBIDDEN, "DENIED", none)
            }
            Self::FreshLoginRequired => (S::UNAUTHORIZED, "UNAUTHORIZED", none),
            Self::ChunkOutOfOrder { size, .. } => (
                S::RANGE_NOT_SATISFIABLE,
                "BLOB_UPLOAD_INVALID",
                json!({ "size": size }),
            ),
            Self::Registry(error) => match error {
                Error::NameInvalid(_) => (S::BAD_REQUEST, "NAME_INVALID", none),
                Error::TagInvalid(_) => (S::BAD_REQUEST, "TAG_INVALID", none),
                Error::DigestInvalid(_) => (S::BAD_REQUEST, "DIGEST_INVALID", none),
                Error::DigestMismatch { expected, actual } => (
                    S::BAD_REQUEST,
                    "DIGEST_INVALID",
                    json!({ "digest": expected.as_str(), "actual": actual.as_str() }),
                ),
                Error::RepositoryUnknown => (S::NOT_FOUND, "NAME_UNKNOWN", none),
                Error::BlobUnknown(digest) => (
                    S::NOT_FOUND,
                    "BLOB_UNKNOWN",
                    json!({ "digest": digest.as_str() }),
                ),
                Error::UploadUnknown => (S::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN", none),
                Error::UploadOutOfOrder { .. } => {
                    (S::RANGE_NOT_SATISFIABLE, "BLOB_UPLOAD_INVALID", none)
                }
                Error::UploadInvalid(_) | Error::BlobTooLarge { .. } => {
                    (S::BAD_REQUEST, "BLOB_UPLOAD_INVALID", none)
                }
                Error::SizeInvalid(_) => (S::BAD_REQUEST, "SIZE_INVALID", none),
                Error::ManifestInvalid(_) => (S::BAD_REQUEST, "MANIFEST_INVALID", none),
                Error::ManifestUnsupported(_) => {
                    (S::UNSUPPORTED_MEDIA_TYPE, "MANIFEST_INVALID", none)
                }
                Error::ManifestTooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "MANIFEST_INVALID", none),
                Error::ManifestBlobUnknown(digest) => (
                    S::BAD_REQUEST,
                    "MANIFEST_BLOB_UNKNOWN",
                    json!({ "digest": digest.as_str() }),
                ),
                Error::ManifestReferenceUnknown(digest) => (
                    S::BAD_REQUEST,
                    "MANIFEST_UNKNOWN",
                    json!({ "digest": digest.as_str() }),
                ),
                Error::ManifestUnknown => (S::NOT_FOUND, "MANIFEST_UNKNOWN", none),
                Error::TagExpired(_) => (S::NOT_FOUND, "TAG_EXPIRED", none),
                Error::TagImmutable(_) => (S::CONFLICT, "TAG_IMMUTABLE", none),
                Error::BlobInUse(_) | Error::ManifestInUse(_) => {
                    (S::METHOD_NOT_ALLOWED, "UNSUPPORTED", none)
                }
                Error::Denied => (S::FORBIDDEN, "DENIED", none),
                Error::QuotaExceeded(_) => (S::FORBIDDEN, "DENIED", json!({})),
                Error::Unauthorized | Error::InvalidCredentials(_) => {
                    (S::UNAUTHORIZED, "UNAUTHORIZED", none)
                }
                Error::InvalidRequest(_) => (S::BAD_REQUEST, "INVALID_REQUEST", none),
                Error::AlreadyExists(_) => (S::CONFLICT, "DENIED", none),
                Error::NotFound { .. } => (S::NOT_FOUND, "NAME_UNKNOWN", none),
                Error::StorageUnavailable { .. } => (S::SERVICE_UNAVAILABLE, "UNAVAILABLE", none),
                Error::TooManyAttempts { .. } => (S::TOO_MANY_REQUESTS, "TOOMANYREQUESTS", none),
                Error::Upstream(failure) => {
                    let detail = json!({ "upstream": failure.reason() });
                    match failure.problem {
                        UpstreamProblem::NotFound | UpstreamProblem::Refused => {
                            (S::NOT_FOUND, "MANIFEST_UNKNOWN", detail)
                        }
                        UpstreamProblem::RateLimited => {
                            (S::TOO_MANY_REQUESTS, "TOOMANYREQUESTS", detail)
                        }
                        UpstreamProblem::Unavailable | UpstreamProblem::Invalid => {
                            (S::BAD_GATEWAY, "UNAVAILABLE", detail)
                        }
                    }
                }
                Error::ProxyCacheReadOnly { .. } | Error::RepositoryNotWritable { .. } => {
                    (S::FORBIDDEN, "DENIED", none)
                }
                // Storage failures and conditions added later are the server's problem.
                _ => (S::INTERNAL_SERVER_ERROR, "UNKNOWN", none),
            },
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, code, detail) = self.classify();
        let request_id = observe::request_id();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, request_id, "request failed");
            "internal server error".to_string()
        } else {
            self.to_string()
        };
        let mut error = json!({ "code": code, "message": message });
        if !detail.is_null() {
            error["detail"] = detail;
        }
        let body = json!({ "errors": [error], "request_id": request_id });
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(API_VERSION, HeaderValue::from_static(API_VERSION_VALUE));
        if let Self::Unauthorized { challenge, .. } | Self::InsufficientScope { challenge } = &self
            && let Ok(challenge) = HeaderValue::from_str(challenge)
        {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        self.common_headers(headers);
        if let Self::ChunkOutOfOrder { location, id, size } = &self {
            let range = crate::headers::upload_range(*size);
            for (name, value) in [
                (header::LOCATION.as_str(), location.as_str()),
                (DOCKER_UPLOAD_UUID, id),
                ("range", &range),
            ] {
                if let Ok(value) = HeaderValue::from_str(value) {
                    headers.insert(name, value);
                }
            }
        }
        response
    }
}

/// How long clients are asked to wait before trying again when storage is unavailable.
const STORAGE_RETRY_AFTER_S: u64 = 30;

impl HttpError {
    /// For a failure that passes, when the client may try again (`Retry-After`).
    fn retry_after_s(&self) -> Option<u64> {
        match self {
            Self::Registry(Error::StorageUnavailable { .. }) => Some(STORAGE_RETRY_AFTER_S),
            Self::Registry(Error::TooManyAttempts { retry_after_s, .. }) => Some(*retry_after_s),
            _ => None,
        }
    }

    /// The headers every rendering of the failure carries: `Retry-After`, and for storage
    /// that cannot work now the operator's log line of what it answered.
    /// What every error response of this error has, whichever API answers: its headers,
    /// its warning, its count.
    pub(crate) fn common_headers(&self, headers: &mut axum::http::HeaderMap) {
        match self {
            Self::Registry(Error::StorageUnavailable { reason, cause }) => {
                tracing::warn!(reason, %cause, request_id = observe::request_id(), "request refused: storage unavailable");
            }
            Self::Registry(Error::QuotaExceeded(_)) => metrics::quota_rejected(),
            _ => {}
        }
        if let Some(seconds) = self.retry_after_s() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
}

/// Results of handlers.
pub type HttpResult<T> = Result<T, HttpError>;

impl From<http::Error> for HttpError {
    fn from(error: http::Error) -> Self {
        Self::ResponseInvalid(error)
    }
}

impl From<http::header::InvalidHeaderValue> for HttpError {
    fn from(error: http::header::InvalidHeaderValue) -> Self {
        Self::ResponseInvalid(error.into())
    }
}
