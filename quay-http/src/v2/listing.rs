//! Listings: `/v2/<name>/tags/list`, `/v2/_catalog` and `/v2/<name>/referrers/<digest>`.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use quay_core::access::Identity;
use quay_core::permission::RepositoryAction;
use quay_core::{Digest, Error, RepositoryPath};
use serde::Serialize;

use super::{Query, Request, with_api_version};
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
        self.authorize(repo, RepositoryAction::Read).await?;
        let n = self.query.page_size()?;
        let page = self
            .registry()
            .tags(repo, n, self.query.get("last"))
            .await?;
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
        self.authorize(repo, RepositoryAction::Read).await?;
        let artifact_type = self.query.get("artifactType");
        let referrers = self
            .registry()
            .referrers(repo, digest, artifact_type)
            .await?;
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
    // A registry token grants the repositories it names; the catalog shows what its
    // holder may read.
    let who = match state
        .registry_identity(&request.headers, &request.extensions)
        .await?
    {
        Identity::Token { principal, .. } => {
            principal.map_or(Identity::Anonymous, Identity::Account)
        }
        other => other,
    };
    let public_catalog = state
        .tenancy
        .as_ref()
        .is_none_or(|tenancy| tenancy.settings.public_catalog);
    if who == Identity::Anonymous && !public_catalog {
        let empty = CatalogBody {
            repositories: Vec::new(),
        };
        return json_with_link(&empty, None);
    }
    let n = query.page_size()?;
    let page = state.registry.catalog(n, query.get("last")).await?;
    let mut repositories = Vec::with_capacity(page.items.len());
    for path in &page.items {
        if state
            .authorizer
            .authorize(&who, path, RepositoryAction::Read)
            .await
            .is_ok()
        {
            repositories.push(path.to_string());
        }
    }
    let link = match (page.more, page.items.last()) {
        (true, Some(last)) => {
            let n = n.unwrap_or(state.registry.settings().max_page_size);
            Some(next_link(state, "/v2/_catalog", n, &last.to_string()))
        }
        _ => None,
    };
    json_with_link(&CatalogBody { repositories }, link)
}
