//! Organizations as a superuser sees them: every one of the registry.

use axum::extract::{Query, State};
use quay_core::account::NamespaceRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures};
use super::extract::Valid;
use super::format::{page_position, page_token};
use super::state::Api;

/// Most organizations on one page of the superuser's list.
const MAX_PAGE: u32 = 100;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new().routes(routes!(superuser_organizations))
}

/// An organization, as superusers see it.
#[derive(Serialize, ToSchema)]
pub(crate) struct OrganizationSummary {
    name: String,
    email: Option<String>,
    /// Whether it may be used (a disabled namespace cannot).
    enabled: bool,
}

impl From<NamespaceRecord> for OrganizationSummary {
    fn from(organization: NamespaceRecord) -> Self {
        Self {
            name: organization.name.to_string(),
            email: organization.email,
            enabled: organization.enabled,
        }
    }
}

/// A page of organizations.
#[derive(Serialize, ToSchema)]
pub(crate) struct OrganizationList {
    organizations: Vec<OrganizationSummary>,
    /// Pass back as `next_page` for the next page.
    next_page: Option<String>,
}

/// Which organizations to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OrganizationListParams {
    /// At most this many (1 to 100; default 100).
    limit: Option<u32>,
    /// The token of the previous page.
    next_page: Option<String>,
}

/// Every organization, by name (superusers, including global read-only ones).
#[utoipa::path(get, path = "/api/v1/superuser/organizations/", tag = "superuser",
    params(OrganizationListParams),
    responses((status = 200, description = "A page of organizations", body = OrganizationList), Failures))]
async fn superuser_organizations(
    State(api): State<Api>,
    caller: Caller,
    Valid(Query(params)): Valid<Query<OrganizationListParams>>,
) -> ApiResult<axum::Json<OrganizationList>> {
    let limit = params.limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 100"));
    }
    let after: Option<String> = params.next_page.as_deref().map(page_position).transpose()?;
    let organizations = api
        .accounts()
        .organizations(&caller, after.as_deref(), limit)
        .await?;
    let next_page = (organizations.len() == limit as usize)
        .then(|| {
            organizations
                .last()
                .map(|last| page_token(&last.name.as_str()))
        })
        .flatten();
    Ok(axum::Json(OrganizationList {
        organizations: organizations.into_iter().map(Into::into).collect(),
        next_page,
    }))
}
