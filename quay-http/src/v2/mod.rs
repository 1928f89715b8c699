//! The OCI distribution API.
//!
//! Repository names contain slashes, which axum's router cannot match in the middle of a
//! path, so everything under `/v2/<name>/` reaches [`dispatch`], which recognises the
//! endpoint ([`route`]) and calls its handler.

mod blobs;
pub(crate) mod listing;
mod manifests;
mod route;
pub(crate) mod token;
mod uploads;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, TryStreamExt};
use quay_core::access::{Caller, Identity};
use quay_core::ports::ByteStream;
use quay_core::{Error, RepositoryPath};

use self::route::Route;
use crate::client::{client_ip, user_agent};
use crate::error::{HttpError, HttpResult};
use crate::headers::{API_VERSION, API_VERSION_VALUE};
use crate::state::AppState;

/// `GET /v2/`: the API is here. With accounts, an anonymous caller is challenged, so that
/// clients fetch a token before anything else (as Quay and the reference registry do).
pub(crate) async fn api_version(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let headers = &parts.headers;
    let response = match state.registry_identity(headers, &parts.extensions).await {
        Ok(Identity::Anonymous) if state.tenancy.is_some() => HttpError::Unauthorized {
            challenge: state.challenge(headers, &[]),
            message: "access to the requested resource is not authorized".into(),
        }
        .into_response(),
        Ok(_) => axum::Json(serde_json::json!({})).into_response(),
        Err(error) => error.into_response(),
    };
    with_api_version(response)
}

/// Every `/v2/<name>/...` request.
pub(crate) async fn dispatch(
    State(state): State<AppState>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let response = match state
        .registry_identity(&parts.headers, &parts.extensions)
        .await
    {
        Ok(identity) => {
            let request = Request {
                caller: Caller::new(
                    identity,
                    client_ip(&parts.headers, &parts.extensions),
                    user_agent(&parts.headers),
                ),
                state,
                query: Query::parse(query.as_deref()),
                headers: parts.headers,
            };
            request
                .handle(&parts.method, &path, body)
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
        Err(error) => error.into_response(),
    };
    with_api_version(response)
}

fn with_api_version(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(API_VERSION, HeaderValue::from_static(API_VERSION_VALUE));
    response
}

/// One `/v2` request, parsed.
pub(crate) struct Request {
    state: AppState,
    caller: Caller,
    query: Query,
    headers: HeaderMap,
}

impl Request {
    async fn handle(&self, method: &Method, path: &str, body: Body) -> HttpResult<Response> {
        let mut route = Route::parse(path)?;
        crate::observe::routed(route.template());
        if let Some(repository) = route.repository_mut()
            && let Some(mirrored) = self
                .registry()
                .mirrored(repository, self.query.get("ns"))
                .await?
        {
            *repository = mirrored;
        }
        let head = method == Method::HEAD;
        match (route, method.clone()) {
            (Route::Manifest(repo, reference), Method::GET | Method::HEAD) => {
                self.get_manifest(&repo, &reference, head).await
            }
            (Route::Manifest(repo, reference), Method::PUT) => {
                self.put_manifest(&repo, &reference, body).await
            }
            (Route::Manifest(repo, reference), Method::DELETE) => {
                self.delete_manifest(&repo, &reference).await
            }
            // A reference that cannot exist names nothing: reading or deleting it finds
            // nothing, the same for every repository; pushing to it is refused with why.
            (Route::ImpossibleManifest(_), Method::GET | Method::HEAD | Method::DELETE) => {
                Err(Error::ManifestUnknown.into())
            }
            (Route::ImpossibleManifest(error), Method::PUT) => Err(error.into()),
            (Route::Blob(repo, digest), Method::GET | Method::HEAD) => {
                self.get_blob(&repo, &digest, head).await
            }
            (Route::Blob(repo, digest), Method::DELETE) => self.delete_blob(&repo, &digest).await,
            (Route::Uploads(repo), Method::POST) => self.start_upload(&repo, body).await,
            (Route::Upload(repo, id), Method::GET) => self.upload_status(&repo, &id).await,
            (Route::Upload(repo, id), Method::PATCH) => self.upload_chunk(&repo, &id, body).await,
            (Route::Upload(repo, id), Method::PUT) => self.finish_upload(&repo, &id, body).await,
            (Route::Upload(repo, id), Method::DELETE) => self.cancel_upload(&repo, &id).await,
            (Route::Tags(repo), Method::GET) => self.tags(&repo).await,
            (Route::Referrers(repo, digest), Method::GET) => self.referrers(&repo, &digest).await,
            _ => Err(HttpError::MethodNotAllowed),
        }
    }

    fn registry(&self) -> &quay_core::Registry {
        &self.state.registry
    }

    /// What a registry refusal reads like, for a request that needs `scopes` (a repository
    /// and `pull`, `pull,push` or `*`): whether a repository is private or missing,
    /// 401 with a challenge naming the scope, so nobody learns which private repositories
    /// exist; or, to an authenticated holder of a valid registry token that lacks the
    /// grant, 403 `insufficient_scope` (RFC 6750). Quay answers 401 there too, but a client
    /// that caches its token (oras-py) only fetches one with the scope named after a 403:
    /// with 401 it could never push.
    fn refused(&self, error: Error, scopes: &[(&RepositoryPath, &str)]) -> HttpError {
        if !matches!(error, Error::Denied | Error::Unauthorized) {
            return error.into();
        }
        let challenge = self.state.challenge(&self.headers, scopes);
        match &self.caller.identity {
            Identity::Token {
                principal: Some(_), ..
            } => HttpError::InsufficientScope {
                challenge: format!("{challenge},error=\"insufficient_scope\""),
            },
            _ => HttpError::Unauthorized {
                challenge,
                message: "access to the requested resource is not authorized".into(),
            },
        }
    }

    fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Whether the request carries a body (a declared length above zero, or chunked).
    fn has_body(&self) -> bool {
        match self.header(header::CONTENT_LENGTH) {
            Some(length) => length.trim() != "0",
            None => self.headers.contains_key(header::TRANSFER_ENCODING),
        }
    }

    /// `Content-Length`, if the client declared one.
    fn content_length(&self) -> HttpResult<Option<u64>> {
        self.header(header::CONTENT_LENGTH)
            .map(|length| {
                length.trim().parse().map_err(|_| {
                    HttpError::InvalidRequest(format!("invalid Content-Length {length:?}"))
                })
            })
            .transpose()
    }
}

/// The request body as a stream of bytes for the registry.
fn byte_stream(body: Body) -> ByteStream {
    body.into_data_stream()
        .map_err(std::io::Error::other)
        .boxed()
}

/// Query parameters, in order.
#[derive(Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: Option<&str>) -> Self {
        Self(
            query
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        )
    }

    fn get<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.all(name).next()
    }

    /// Every value of a parameter that may repeat.
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A page size parameter `n`.
    fn page_size(&self) -> HttpResult<Option<u32>> {
        self.get("n")
            .map(|n| {
                n.parse()
                    .map_err(|_| HttpError::InvalidRequest(format!("invalid page size n={n:?}")))
            })
            .transpose()
    }
}
