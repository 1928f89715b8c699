//! The OCI distribution API.
//!
//! Repository names contain slashes, which axum's router cannot match in the middle of a
//! path, so everything under `/v2/<name>/` reaches [`dispatch`], which recognises the
//! endpoint ([`route`]) and calls its handler.

mod blobs;
pub(crate) mod listing;
mod manifests;
mod route;
mod uploads;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, TryStreamExt};
use quay_core::RepositoryPath;
use quay_core::access::Identity;
use quay_core::audit::Actor;
use quay_core::permission::RepositoryAction;
use quay_core::ports::ByteStream;

use self::route::Route;
use crate::AppState;
use crate::error::{HttpError, HttpResult};
use crate::headers::{API_VERSION, API_VERSION_VALUE};

/// `GET /v2/`: the API is here.
pub(crate) async fn api_version() -> Response {
    with_api_version(axum::Json(serde_json::json!({})).into_response())
}

/// Every `/v2/<name>/...` request.
pub(crate) async fn dispatch(
    State(state): State<AppState>,
    method: Method,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = caller(&headers);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|agent| agent.to_str().ok())
        .map(str::to_string);
    let request = Request {
        actor: caller.actor(None, user_agent),
        state,
        caller,
        query: Query::parse(query.as_deref()),
        headers,
    };
    let response = match request.handle(&method, &path, body).await {
        Ok(response) => response,
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

/// Who is calling. Every caller is anonymous until accounts exist.
fn caller(_headers: &HeaderMap) -> Identity {
    Identity::Anonymous
}

/// One `/v2` request, parsed.
pub(crate) struct Request {
    state: AppState,
    caller: Identity,
    /// The caller as the usage log records it.
    actor: Actor,
    query: Query,
    headers: HeaderMap,
}

impl Request {
    async fn handle(&self, method: &Method, path: &str, body: Body) -> HttpResult<Response> {
        let route = Route::parse(path)?;
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

    /// Asks the authorizer; every handler does before it touches the registry.
    async fn authorize(
        &self,
        repository: &RepositoryPath,
        action: RepositoryAction,
    ) -> HttpResult<()> {
        self.state
            .authorizer
            .authorize(&self.caller, repository, action)
            .await
            .map_err(HttpError::from)
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

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
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
