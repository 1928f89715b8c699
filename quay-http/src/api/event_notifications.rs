//! Event notifications: a repository's (`/repository/.../notification/`), and the quota
//! notifications of organizations (`/organization/.../notifications`) and of the current
//! user's namespace (`/user/namespacenotifications`). Every scope has the same five
//! operations; the handlers differ only in how they name the scope.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use quay_core::Error;
use quay_core::accounts::SettingsOwner;
use quay_core::events::notification::{EventNotification, NotificationRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiResult, Failures};
use super::extract::{Json, Valid};
use super::params::{RepositoryParams, name, repository_path};
use super::state::Api;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(
            repository_notifications,
            add_repository_notification
        ))
        .routes(routes!(
            repository_notification,
            delete_repository_notification,
            reset_repository_notification
        ))
        .routes(routes!(
            organization_notifications,
            add_organization_notification
        ))
        .routes(routes!(
            organization_notification,
            delete_organization_notification,
            reset_organization_notification
        ))
        .routes(routes!(user_notifications, add_user_notification))
        .routes(routes!(
            user_notification,
            delete_user_notification,
            reset_user_notification
        ))
}

/// A notification as the API takes it.
#[derive(Deserialize, ToSchema)]
#[allow(non_snake_case)]
pub(crate) struct NotificationBody {
    /// The event: `repo_push`, `repo_image_expiry` (repositories); `quota_warning`,
    /// `quota_error` (namespaces).
    event: String,
    /// `quay_notification`, `email`, `webhook`, `slack` or `teams`.
    method: String,
    /// The method's settings (`url`, `template`, `format`, `email`, `target`).
    #[schema(value_type = Object)]
    config: serde_json::Value,
    /// The event's settings (`days`, `tag_patterns`).
    #[schema(value_type = Object)]
    eventConfig: Option<serde_json::Value>,
    /// A title.
    title: Option<String>,
}

impl From<NotificationBody> for NotificationRequest {
    fn from(body: NotificationBody) -> Self {
        Self {
            event: body.event,
            method: body.method,
            config: body.config,
            event_config: body.eventConfig.unwrap_or_default(),
            title: body.title,
        }
    }
}

/// A notification as the API shows it (Quay's view).
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationView {
    uuid: String,
    title: Option<String>,
    event: &'static str,
    method: &'static str,
    #[schema(value_type = Object)]
    config: serde_json::Value,
    #[schema(value_type = Object)]
    event_config: serde_json::Value,
    number_of_failures: u32,
}

impl From<EventNotification> for NotificationView {
    fn from(notification: EventNotification) -> Self {
        Self {
            uuid: notification.uuid,
            title: notification.title,
            event: notification.event.name(),
            method: notification.method.name(),
            config: notification.config,
            event_config: notification.event_config,
            number_of_failures: notification.number_of_failures,
        }
    }
}

/// A scope's notifications.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationList {
    notifications: Vec<NotificationView>,
}

/// Path parameters naming a repository's notification.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct RepositoryNotificationParams {
    /// The namespace.
    namespace: String,
    /// The repository's name (a nested name's `/` as `%2F`).
    repository: String,
    /// The notification.
    uuid: String,
}

/// Path parameters naming an organization's notification.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct OrganizationNotificationParams {
    /// The organization.
    orgname: String,
    /// The notification.
    uuid: String,
}

type View = ApiResult<axum::Json<NotificationView>>;
type List = ApiResult<axum::Json<NotificationList>>;
type Created = ApiResult<(StatusCode, axum::Json<NotificationView>)>;

impl Api {
    async fn list_notifications(&self, owner: SettingsOwner, caller: &Caller) -> List {
        let notifications = self.accounts().event_notifications(caller, &owner).await?;
        Ok(axum::Json(NotificationList {
            notifications: notifications.into_iter().map(Into::into).collect(),
        }))
    }

    async fn add_notification(
        &self,
        owner: SettingsOwner,
        caller: &Caller,
        body: NotificationBody,
    ) -> Created {
        let notification = self
            .accounts()
            .add_event_notification(
                caller,
                &owner,
                uuid::Uuid::new_v4().to_string(),
                body.into(),
            )
            .await?;
        Ok((StatusCode::CREATED, axum::Json(notification.into())))
    }

    async fn find_notification(&self, owner: SettingsOwner, caller: &Caller, uuid: &str) -> View {
        let notification = self
            .accounts()
            .event_notification(caller, &owner, uuid)
            .await?;
        Ok(axum::Json(notification.into()))
    }

    /// Quay answers 400 for a notification it cannot find to delete.
    async fn delete_notification(
        &self,
        owner: SettingsOwner,
        caller: &Caller,
        uuid: &str,
    ) -> ApiResult<StatusCode> {
        match self
            .accounts()
            .delete_event_notification(caller, &owner, uuid)
            .await
        {
            Ok(()) => Ok(StatusCode::NO_CONTENT),
            Err(Error::NotFound { .. }) => {
                Err(Error::InvalidRequest(format!("no notification {uuid} to delete")).into())
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn reset_notification(
        &self,
        owner: SettingsOwner,
        caller: &Caller,
        uuid: &str,
    ) -> ApiResult<StatusCode> {
        self.accounts()
            .reset_event_notification(caller, &owner, uuid)
            .await?;
        Ok(StatusCode::NO_CONTENT)
    }
}

fn repository(params: &RepositoryNotificationParams) -> ApiResult<SettingsOwner> {
    Ok(SettingsOwner::Repository(repository_path(
        &params.namespace,
        &params.repository,
    )?))
}

fn organization(orgname: &str) -> ApiResult<SettingsOwner> {
    Ok(SettingsOwner::Organization(name(orgname)?))
}

/// A repository's notifications (admins).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/notification/",
    tag = "notification", params(RepositoryParams),
    responses((status = 200, description = "Notifications", body = NotificationList), Failures))]
async fn repository_notifications(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
) -> List {
    let owner = SettingsOwner::Repository(params.path()?);
    api.list_notifications(owner, &caller).await
}

/// Adds a notification to a repository (admins).
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/notification/",
    tag = "notification", params(RepositoryParams), request_body = NotificationBody,
    responses((status = 201, description = "Created", body = NotificationView), Failures))]
async fn add_repository_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryParams>>,
    Json(body): Json<NotificationBody>,
) -> Created {
    let owner = SettingsOwner::Repository(params.path()?);
    api.add_notification(owner, &caller, body).await
}

/// One of a repository's notifications (admins).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/notification/{uuid}",
    tag = "notification", params(RepositoryNotificationParams),
    responses((status = 200, description = "The notification", body = NotificationView), Failures))]
async fn repository_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryNotificationParams>>,
) -> View {
    api.find_notification(repository(&params)?, &caller, &params.uuid)
        .await
}

/// Deletes one of a repository's notifications (admins).
#[utoipa::path(delete, path = "/api/v1/repository/{namespace}/{repository}/notification/{uuid}",
    tag = "notification", params(RepositoryNotificationParams),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_repository_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryNotificationParams>>,
) -> ApiResult<StatusCode> {
    api.delete_notification(repository(&params)?, &caller, &params.uuid)
        .await
}

/// Sets a repository notification's failures back to zero, enabling it again (admins).
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/notification/{uuid}",
    tag = "notification", params(RepositoryNotificationParams),
    responses((status = 204, description = "Reset"), Failures))]
async fn reset_repository_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryNotificationParams>>,
) -> ApiResult<StatusCode> {
    api.reset_notification(repository(&params)?, &caller, &params.uuid)
        .await
}

/// An organization's notifications (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/notifications", tag = "notification",
    params(("orgname" = String, Path, description = "The organization")),
    responses((status = 200, description = "Notifications", body = NotificationList), Failures))]
async fn organization_notifications(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(orgname)): Valid<Path<String>>,
) -> List {
    api.list_notifications(organization(&orgname)?, &caller)
        .await
}

/// Adds a notification to an organization (administrators).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/notifications", tag = "notification",
    params(("orgname" = String, Path, description = "The organization")),
    request_body = NotificationBody,
    responses((status = 201, description = "Created", body = NotificationView), Failures))]
async fn add_organization_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(orgname)): Valid<Path<String>>,
    Json(body): Json<NotificationBody>,
) -> Created {
    api.add_notification(organization(&orgname)?, &caller, body)
        .await
}

/// One of an organization's notifications (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/notifications/{uuid}",
    tag = "notification", params(OrganizationNotificationParams),
    responses((status = 200, description = "The notification", body = NotificationView), Failures))]
async fn organization_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationNotificationParams>>,
) -> View {
    api.find_notification(organization(&params.orgname)?, &caller, &params.uuid)
        .await
}

/// Deletes one of an organization's notifications (administrators).
#[utoipa::path(delete, path = "/api/v1/organization/{orgname}/notifications/{uuid}",
    tag = "notification", params(OrganizationNotificationParams),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_organization_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationNotificationParams>>,
) -> ApiResult<StatusCode> {
    api.delete_notification(organization(&params.orgname)?, &caller, &params.uuid)
        .await
}

/// Sets an organization notification's failures back to zero (administrators).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/notifications/{uuid}",
    tag = "notification", params(OrganizationNotificationParams),
    responses((status = 204, description = "Reset"), Failures))]
async fn reset_organization_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationNotificationParams>>,
) -> ApiResult<StatusCode> {
    api.reset_notification(organization(&params.orgname)?, &caller, &params.uuid)
        .await
}

/// The notifications of the current user's namespace.
#[utoipa::path(get, path = "/api/v1/user/namespacenotifications", tag = "notification",
    responses((status = 200, description = "Notifications", body = NotificationList), Failures))]
async fn user_notifications(State(api): State<Api>, caller: Caller) -> List {
    api.list_notifications(SettingsOwner::Caller, &caller).await
}

/// Adds a notification to the current user's namespace.
#[utoipa::path(post, path = "/api/v1/user/namespacenotifications", tag = "notification",
    request_body = NotificationBody,
    responses((status = 201, description = "Created", body = NotificationView), Failures))]
async fn add_user_notification(
    State(api): State<Api>,
    caller: Caller,
    Json(body): Json<NotificationBody>,
) -> Created {
    api.add_notification(SettingsOwner::Caller, &caller, body)
        .await
}

/// One of the current user's namespace notifications.
#[utoipa::path(get, path = "/api/v1/user/namespacenotifications/{uuid}", tag = "notification",
    params(("uuid" = String, Path, description = "The notification")),
    responses((status = 200, description = "The notification", body = NotificationView), Failures))]
async fn user_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> View {
    api.find_notification(SettingsOwner::Caller, &caller, &uuid)
        .await
}

/// Deletes one of the current user's namespace notifications.
#[utoipa::path(delete, path = "/api/v1/user/namespacenotifications/{uuid}", tag = "notification",
    params(("uuid" = String, Path, description = "The notification")),
    responses((status = 204, description = "Deleted"), Failures))]
async fn delete_user_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<StatusCode> {
    api.delete_notification(SettingsOwner::Caller, &caller, &uuid)
        .await
}

/// Sets one of the current user's namespace notifications' failures back to zero.
#[utoipa::path(post, path = "/api/v1/user/namespacenotifications/{uuid}", tag = "notification",
    params(("uuid" = String, Path, description = "The notification")),
    responses((status = 204, description = "Reset"), Failures))]
async fn reset_user_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<StatusCode> {
    api.reset_notification(SettingsOwner::Caller, &caller, &uuid)
        .await
}
