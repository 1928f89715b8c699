//! The usage log: a repository's, an organization's, the current user's and everyone's
//! (superusers), newest first, 20 entries a page, and counted per kind and day.

use axum::extract::{Path, Query, State};
use quay_core::accounts::LogOwner;
use quay_core::audit::{LogQuery, LogRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiError, ApiResult, Failures};
use super::extract::Valid;
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

/// The performer of an entry.
#[derive(Serialize, ToSchema)]
pub(crate) struct PerformerView {
    /// Always `user`.
    kind: String,
    name: String,
    is_robot: bool,
}

/// The namespace of an entry.
#[derive(Serialize, ToSchema)]
pub(crate) struct LogNamespace {
    /// `user` or `org`.
    kind: String,
    name: String,
}

/// A usage log entry.
#[derive(Serialize, ToSchema)]
pub(crate) struct LogView {
    /// What happened (`push_repo`, `create_robot`, ...).
    kind: String,
    /// Details, by kind.
    #[schema(value_type = Object)]
    metadata: Value,
    /// The client's address.
    ip: Option<String>,
    /// When (RFC 2822).
    datetime: String,
    /// Who, if anyone authenticated (and the account still exists).
    performer: Option<PerformerView>,
    /// Where (user and superuser logs only).
    namespace: Option<LogNamespace>,
}

/// A page of entries.
#[derive(Serialize, ToSchema)]
pub(crate) struct LogList {
    start_time: String,
    end_time: String,
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
                .map(|record| log_view(record, with_namespace))
                .collect(),
            next_page,
        })
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

fn log_view(record: LogRecord, with_namespace: bool) -> LogView {
    LogView {
        kind: record.kind,
        metadata: record.metadata,
        ip: record.ip,
        datetime: rfc2822(record.at_ms),
        performer: record.performer.map(|(name, is_robot)| PerformerView {
            kind: "user".into(),
            name,
            is_robot,
        }),
        namespace: record
            .namespace
            .filter(|_| with_namespace)
            .map(|(name, kind)| LogNamespace {
                kind: kind.as_str().into(),
                name,
            }),
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
