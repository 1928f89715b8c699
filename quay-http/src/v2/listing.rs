//! Listings: `/v2/<name>/tags/list`, `/v2/_catalog` and `/v2/<name>/referrers/<digest>`.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use quay_core::access::Caller;
use quay_core::{Digest, Error, RepositoryPath};
use serde::Serialize;

use super::{Query, Request, with_api_version};
use crate::client::{client_ip, user_agent};
use crate::error::HttpResult;
use crate::headers::OCI_FILTERS_APPLIED;
use crate::state::AppState;

#[derive(Serialize)]
struct TagsBody<'a> {
    name: String,
    tags: Vec<&'a str>,
}

#[derive(Serialize)]
struct CatalogBody {
    repositories: Vec<String>,
}

/// `Link: <...?n=N&last=LAST>; rel="next"`.
fn next_link(state: &AppState, path: &str, n: u32, last: &str) -> String {
    let last: String = form_urlencoded::byte_serialize(last.as_bytes()).collect();
    format!("<{}?n={n}&last={last}>; rel=\"next\"", state.url(path))
}

fn json_with_link(body: &impl Serialize, link: Option<String>) -> HttpResult<Response> {
    let mut response = axum::Json(body).into_response();
    if let Some(link) = link {
        let link = link.parse().map_err(Error::storage)?;
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

impl Request {
    pub(super) async fn tags(&self, repo: &RepositoryPath) -> HttpResult<Response> {
        let n = self.query.page_size()?;
        let page = self
            .registry()
            .tags(repo, n, self.query.get("last"), &self.caller)
            .await
            .map_err(|error| self.refused(error, &[(repo, "pull")]))?;
        let link = match (page.more, page.items.last()) {
            (true, Some(last)) => {
                let n = n.unwrap_or(self.registry().settings().max_page_size);
                Some(next_link(
                    &self.state,
                    &format!("/v2/{repo}/tags/list"),
                    n,
                    last.as_str(),
                ))
            }
            _ => None,
        };
        let body = TagsBody {
            name: repo.to_string(),
            tags: page.items.iter().map(|tag| tag.as_str()).collect(),
        };
        json_with_link(&body, link)
    }

    pub(super) async fn referrers(
        &self,
        repo: &RepositoryPath,
        digest: &Digest,
    ) -> HttpResult<Response> {
        let artifact_type = self.query.get("artifactType");
        let referrers = self
            .registry()
            .referrers(repo, digest, artifact_type, &self.caller)
            .await
            .map_err(|error| self.refused(error, &[(repo, "pull")]))?;
        let mut response = Response::builder().status(StatusCode::OK).header(
            header::CONTENT_TYPE,
            "application/vnd.oci.image.index.v1+json",
        );
        if referrers.filtered {
            response = response.header(OCI_FILTERS_APPLIED, "artifactType");
        }
        Ok(response
            .body(axum::body::Body::from(referrers.index))
            .map_err(Error::storage)?)
    }
}

/// `GET /v2/_catalog`: the repositories the caller may read.
pub(crate) async fn catalog(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    request: axum::extract::Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let response = match list_catalog(&state, &Query::parse(query.as_deref()), &parts).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    with_api_version(response)
}

async fn list_catalog(
    state: &AppState,
    query: &Query,
    request: &axum::http::request::Parts,
) -> HttpResult<Response> {
    let identity = state
        .registry_identity(&request.headers, &request.extensions)
        .await?;
    let caller = Caller::new(
        identity,
        client_ip(&request.headers, &request.extensions),
        user_agent(&request.headers),
    );
    let n = query.page_size()?;
    let page = state
        .registry
        .catalog(n, query.get("last"), &caller)
        .await?;
    let link = page.next_after.map(|last| {
        let n = n.unwrap_or(state.registry.settings().max_page_size);
        next_link(state, "/v2/_catalog", n, &last.to_string())
    });
    let repositories = page.items.iter().map(ToString::to_string).collect();
    json_with_link(&CatalogBody { repositories }, link)
}
