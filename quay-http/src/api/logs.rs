//! The usage log: a repository's, an organization's, the current user's and everyone's
//! (superusers), newest first, 20 entries a page, and counted per kind and day.

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use quay_core::accounts::LogOwner;
use quay_core::audit::{LogQuery, LogView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures, switched_on};
use super::extract::{Json, Valid};
use super::format::{DAY_MS, day_start, page_position, page_token, rfc2822};
use super::params::{RepositoryParams, name};
use super::state::Api;

/// Entries on one page (Quay's).
const PAGE_SIZE: u32 = 20;
/// The longest range counted at once (`MAXIMUM_RANGE_SIZE`, 31 days).
const MAX_AGGREGATE_MS: i64 = 31 * DAY_MS;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(repository_logs))
        .routes(routes!(repository_aggregate))
        .routes(routes!(organization_logs))
        .routes(routes!(organization_aggregate))
        .routes(routes!(user_logs))
        .routes(routes!(user_aggregate))
        .routes(routes!(superuser_logs))
        .routes(routes!(superuser_aggregate))
        .routes(routes!(export_repository_logs))
        .routes(routes!(export_organization_logs))
        .routes(routes!(export_user_logs))
}

/// Where an export's link is told when it is ready; both optional.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ExportRequest {
    /// Posted `{"export_id", "start_time", "end_time", "namespace", "repository",
    /// "exported_data_url", "status"}` (no redirects followed).
    callback_url: Option<String>,
    /// Mailed the link.
    callback_email: Option<String>,
}

/// A queued export.
#[derive(Serialize, ToSchema)]
pub(crate) struct ExportQueued {
    export_id: String,
}

/// The download link's query.
#[derive(Deserialize)]
pub(super) struct DownloadQuery {
    token: String,
}

/// Which entries: a range of days (UTC, `%m/%d/%Y`, both inclusive), a performer, a page.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogParams {
    /// First day; yesterday when absent.
    starttime: Option<String>,
    /// Last day; today when absent.
    endtime: Option<String>,
    /// Only entries by this user or robot (organization and user logs).
    performer: Option<String>,
    /// The token of the previous page.
    next_page: Option<String>,
}

/// A page of entries.
#[derive(Serialize, ToSchema)]
pub(crate) struct LogList {
    start_time: String,
    end_time: String,
    /// Entries: `kind`, `metadata`, `ip`, `datetime` (RFC 2822), `performer` (`kind`,
    /// `name`, `is_robot`) and, in user and superuser logs, `namespace` (`kind`, `name`).
    #[schema(value_type = Vec<Object>)]
    logs: Vec<LogView>,
    /// Pass back as `next_page` for the next page.
    next_page: Option<String>,
}

/// Entries of a kind on a day.
#[derive(Serialize, ToSchema)]
pub(crate) struct AggregatedLog {
    kind: String,
    count: u64,
    /// The day (RFC 2822, midnight UTC).
    datetime: String,
}

/// Entries counted per kind and day.
#[derive(Serialize, ToSchema)]
pub(crate) struct AggregatedLogs {
    aggregated: Vec<AggregatedLog>,
}

impl Api {
    /// The days and page `params` ask for.
    fn log_query(&self, params: &LogParams) -> ApiResult<LogQuery> {
        let now_ms = self.accounts().now_ms();
        let today = now_ms.div_euclid(DAY_MS) * DAY_MS;
        let from_ms = match &params.starttime {
            Some(text) => day_start(text)?,
            None => now_ms - DAY_MS,
        };
        let until_ms = match &params.endtime {
            Some(text) => day_start(text)?,
            None => today,
        } + DAY_MS;
        if until_ms < from_ms {
            return Err(ApiError::invalid(
                "The end of the range is before its start",
            ));
        }
        Ok(LogQuery {
            from_ms,
            until_ms,
            after: params.next_page.as_deref().map(page_position).transpose()?,
            ..LogQuery::default()
        })
    }

    async fn log_page(
        &self,
        caller: &Caller,
        owner: LogOwner,
        params: &LogParams,
    ) -> ApiResult<LogList> {
        let query = LogQuery {
            limit: PAGE_SIZE + 1,
            ..self.log_query(params)?
        };
        let (from_ms, until_ms) = (query.from_ms, query.until_ms);
        let mut records = self
            .accounts()
            .usage_log(caller, &owner, query, params.performer.as_deref())
            .await?;
        let next_page = if records.len() > PAGE_SIZE as usize {
            records.truncate(PAGE_SIZE as usize);
            records
                .last()
                .map(|last| page_token(&(last.at_ms, last.id)))
        } else {
            None
        };
        // Entries of the caller's own namespace or of all name their namespace.
        let with_namespace = matches!(owner, LogOwner::Caller | LogOwner::Registry);
        Ok(LogList {
            start_time: rfc2822(from_ms),
            end_time: rfc2822(until_ms),
            logs: records
                .into_iter()
                .map(|record| record.view(with_namespace))
                .collect(),
            next_page,
        })
    }

    async fn export_logs(
        &self,
        caller: &Caller,
        owner: LogOwner,
        params: &LogParams,
        request: ExportRequest,
    ) -> ApiResult<axum::Json<ExportQueued>> {
        switched_on("FEATURE_LOG_EXPORT", self.tenancy.settings.log_export)?;
        let query = self.log_query(params)?;
        let request = quay_core::accounts::ExportRequest {
            from_ms: query.from_ms,
            until_ms: query.until_ms,
            callback_url: request.callback_url.filter(|url| !url.is_empty()),
            callback_email: request.callback_email.filter(|email| !email.is_empty()),
        };
        let export_id = self
            .accounts()
            .export_logs(
                caller,
                &owner,
                request,
                uuid::Uuid::new_v4().to_string(),
                uuid::Uuid::new_v4().simple().to_string(),
            )
            .await?;
        Ok(axum::Json(ExportQueued { export_id }))
    }

    async fn log_counts(
        &self,
        caller: &Caller,
        owner: LogOwner,
        params: &LogParams,
    ) -> ApiResult<AggregatedLogs> {
        let query = self.log_query(params)?;
        if query.until_ms - query.from_ms > MAX_AGGREGATE_MS {
            return Err(ApiError::invalid("Invalid date range for logs"));
        }
        let counts = self
            .accounts()
            .usage_log_counts(caller, &owner, query, params.performer.as_deref())
            .await?;
        Ok(AggregatedLogs {
            aggregated: counts
                .into_iter()
                .map(|count| AggregatedLog {
                    kind: count.kind,
                    count: count.count,
                    datetime: rfc2822(count.day_ms),
                })
                .collect(),
        })
    }
}

/// A repository's usage log (its admins).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/logs", tag = "logs",
    params(RepositoryParams, LogParams),
    responses((status = 200, description = "A page of entries", body = LogList), Failures))]
async fn repository_logs(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(repository)): Valid<Path<RepositoryParams>>,
    Valid(Query(params)): Valid<Query<LogParams>>,
) -> ApiResult<axum::Json<LogList>> {
    let owner = LogOwner::Repository(repository.path()?);
    Ok(axum::Json(api.log_page(&caller, owner, &params).await?))
}

/// A repository's usage log, counted per kind and day (its admins).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/aggregatelogs", tag = "logs",
    params(RepositoryParams, LogParams),
    responses((status = 200, description = "Counts", body = AggregatedLogs), Failures))]
async fn repository_aggregate(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(repository)): Valid<Path<RepositoryParams>>,
    Valid(Query(params)): Valid<Query<LogParams>>,
) -> ApiResult<axum::Json<AggregatedLogs>> {
    let owner = LogOwner::Repository(repository.path()?);
    Ok(axum::Json(api.log_counts(&caller, owner, &params).await?))
}

/// An organization's usage log (administrators, scope `org:admin`).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/logs", tag = "logs",
    params(("orgname" = String, Path, description = "The organization"), LogParams),
    responses((status = 200, description = "A page of entries", body = LogList), Failures))]
async fn organization_logs(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
    Valid(Query(params)): Valid<Query<LogParams>>,
) -> ApiResult<axum::Json<LogList>> {
    let owner = LogOwner::Organization(name(&organization)?);
    Ok(axum::Json(api.log_page(&caller, owner, &params).await?))
}

/// An organization's usage log, counted per kind and day (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/aggregatelogs", tag = "logs",
    params(("orgname" = String, Path, description = "The organization"), LogParams),
    responses((status = 200, description = "Counts", body = AggregatedLogs), Failures))]
async fn organization_aggregate(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
    Valid(Query(params)): Valid<Query<LogParams>>,
) -> ApiResult<axum::Json<AggregatedLogs>> {
    let owner = LogOwner::Organization(name(&organization)?);
    Ok(axum::Json(api.log_counts(&caller, owner, &params).await?))
}

/// The current user's usage log (scope `user:admin`).
#[utoipa::path(get, path = "/api/v1/user/logs", tag = "logs", params(LogParams),
    responses((status = 200, description = "A page of entries", body = LogList), Failures))]
async fn user_logs(
    State(api): State<Api>,
    caller: Caller,
    Valid(Query(params)): Valid<Query<LogParams>>,
) -> ApiResult<axum::Json<LogList>> {
    Ok(axum::Json(
        api.log_page(&caller, LogOwner::Caller, &params).await?,
    ))
}

/// The current user's usage log, counted per kind and day.
#[utoipa::path(get, path = "/api/v1/user/aggregatelogs", tag = "logs", params(LogParams),
    responses((status = 200, description = "Counts", body = AggregatedLogs), Failures))]
async fn user_aggregate(
    State(api): State<Api>,
    caller: Caller,
    Valid(Query(params)): Valid<Query<LogParams>>,
) -> ApiResult<axum::Json<AggregatedLogs>> {
    Ok(axum::Json(
        api.log_counts(&caller, LogOwner::Caller, &params).await?,
    ))
}

/// Every usage log entry (superusers).
#[utoipa::path(get, path = "/api/v1/superuser/logs", tag = "logs", params(LogParams),
    responses((status = 200, description = "A page of entries", body = LogList), Failures))]
async fn superuser_logs(
    State(api): State<Api>,
    caller: Caller,
    Valid(Query(params)): Valid<Query<LogParams>>,
) -> ApiResult<axum::Json<LogList>> {
    Ok(axum::Json(
        api.log_page(&caller, LogOwner::Registry, &params).await?,
    ))
}

/// Every usage log entry, counted per kind and day (superusers).
#[utoipa::path(get, path = "/api/v1/superuser/aggregatelogs", tag = "logs", params(LogParams),
    responses((status = 200, description = "Counts", body = AggregatedLogs), Failures))]
async fn superuser_aggregate(
    State(api): State<Api>,
    caller: Caller,
    Valid(Query(params)): Valid<Query<LogParams>>,
) -> ApiResult<axum::Json<AggregatedLogs>> {
    Ok(axum::Json(
        api.log_counts(&caller, LogOwner::Registry, &params).await?,
    ))
}

/// Exports a repository's usage log (its admins): the link is posted to `callback_url`
/// and mailed to `callback_email` when the document is written.
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/exportlogs", tag = "logs",
    params(RepositoryParams, LogParams), request_body = ExportRequest,
    responses((status = 200, description = "Queued", body = ExportQueued), Failures))]
async fn export_repository_logs(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(repository)): Valid<Path<RepositoryParams>>,
    Valid(Query(params)): Valid<Query<LogParams>>,
    Json(request): Json<ExportRequest>,
) -> ApiResult<axum::Json<ExportQueued>> {
    let owner = LogOwner::Repository(repository.path()?);
    api.export_logs(&caller, owner, &params, request).await
}

/// Exports an organization's usage log (administrators).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/exportlogs", tag = "logs",
    params(("orgname" = String, Path, description = "The organization"), LogParams),
    request_body = ExportRequest,
    responses((status = 200, description = "Queued", body = ExportQueued), Failures))]
async fn export_organization_logs(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(organization)): Valid<Path<String>>,
    Valid(Query(params)): Valid<Query<LogParams>>,
    Json(request): Json<ExportRequest>,
) -> ApiResult<axum::Json<ExportQueued>> {
    let owner = LogOwner::Organization(name(&organization)?);
    api.export_logs(&caller, owner, &params, request).await
}

/// Exports the current user's usage log.
#[utoipa::path(post, path = "/api/v1/user/exportlogs", tag = "logs",
    params(LogParams), request_body = ExportRequest,
    responses((status = 200, description = "Queued", body = ExportQueued), Failures))]
async fn export_user_logs(
    State(api): State<Api>,
    caller: Caller,
    Valid(Query(params)): Valid<Query<LogParams>>,
    Json(request): Json<ExportRequest>,
) -> ApiResult<axum::Json<ExportQueued>> {
    api.export_logs(&caller, LogOwner::Caller, &params, request)
        .await
}

/// An export's document, while its link works (`EXPORT_ACTION_LOGS_SECONDS`).
pub(super) async fn download_export(
    State(api): State<Api>,
    Path(id): Path<String>,
    Query(query): Query<DownloadQuery>,
) -> ApiResult<axum::response::Response> {
    let body = api.accounts().exported_log(&id, &query.token).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}
