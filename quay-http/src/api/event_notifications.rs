//! Event notifications: a repository's (`/repository/.../notification/`), and the quota
//! notifications of organizations (`/organization/.../notifications`) and of the current
//! user's namespace (`/user/namespacenotifications`). Every scope has the same five
//! operations; the handlers differ only in how they name the scope.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use quay_core::Error;
use quay_core::accounts::SettingsOwner;
use quay_core::events::notification::{EventNotification, NotificationRequest};
use quay_core::ports::DeliveryHistory;
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
        .routes(routes!(test_repository_notification))
        .routes(routes!(test_organization_notification))
        .routes(routes!(test_user_notification))
        .routes(routes!(repository_deliveries))
        .routes(routes!(organization_deliveries))
        .routes(routes!(user_deliveries))
        .routes(routes!(redeliver_repository))
        .routes(routes!(redeliver_organization))
        .routes(routes!(redeliver_user))
        .routes(routes!(rotate_repository_secret))
        .routes(routes!(rotate_organization_secret))
        .routes(routes!(rotate_user_secret))
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
    /// A webhook's signing key (`whsec_...`): shown when the notification is created, never
    /// again.
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_secret: Option<String>,
}

/// A new signing key, shown this once.
#[derive(Serialize, ToSchema)]
pub(crate) struct SigningSecret {
    signing_secret: String,
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
            signing_secret: None,
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

/// One attempt of a delivery.
#[derive(Serialize, ToSchema)]
pub(crate) struct AttemptView {
    /// When it started, in seconds since the epoch.
    started: f64,
    duration_ms: i64,
    /// The receiver's status, if one answered.
    status_code: Option<u16>,
    /// Why it failed, if it did.
    error: Option<String>,
}

/// A delivery and its attempts.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    id: i64,
    /// The event's id, as `webhook-id` carried it.
    event_id: String,
    event: &'static str,
    /// When the event happened, in seconds since the epoch.
    created: f64,
    /// `due`, `delivered` or `given_up`.
    state: &'static str,
    attempts: Vec<AttemptView>,
}

/// A notification's latest deliveries, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryList {
    deliveries: Vec<DeliveryView>,
}

impl From<DeliveryHistory> for DeliveryView {
    fn from(delivery: DeliveryHistory) -> Self {
        Self {
            id: delivery.id,
            event_id: delivery.event_id,
            event: delivery.event.name(),
            created: seconds(delivery.created_ms),
            state: delivery.state.name(),
            attempts: delivery
                .attempts
                .into_iter()
                .map(|attempt| AttemptView {
                    started: seconds(attempt.started_ms),
                    duration_ms: attempt.duration_ms,
                    status_code: attempt.status_code,
                    error: attempt.error,
                })
                .collect(),
        }
    }
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Path parameters naming a delivery of a repository's notification.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct RepositoryDeliveryParams {
    /// The namespace.
    namespace: String,
    /// The repository's name (a nested name's `/` as `%2F`).
    repository: String,
    /// The notification.
    uuid: String,
    /// The delivery.
    delivery: i64,
}

/// Path parameters naming a delivery of an organization's notification.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct OrganizationDeliveryParams {
    /// The organization.
    orgname: String,
    /// The notification.
    uuid: String,
    /// The delivery.
    delivery: i64,
}

/// Path parameters naming a delivery of one of the current user's notifications.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct UserDeliveryParams {
    /// The notification.
    uuid: String,
    /// The delivery.
    delivery: i64,
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
        let (notification, signing_secret) = self
            .accounts()
            .add_event_notification(
                caller,
                &owner,
                uuid::Uuid::new_v4().to_string(),
                body.into(),
            )
            .await?;
        let view = NotificationView {
            signing_secret,
            ..notification.into()
        };
        Ok((StatusCode::CREATED, axum::Json(view)))
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

    /// Quay answers `{}`.
    async fn test_notification(
        &self,
        owner: SettingsOwner,
        caller: &Caller,
        uuid: &str,
    ) -> ApiResult<axum::Json<serde_json::Value>> {
        self.accounts()
            .test_event_notification(caller, &owner, uuid)
            .await?;
        Ok(axum::Json(serde_json::json!({})))
    }

    async fn rotate_secret(
        &self,
        owner: SettingsOwner,
        caller: &Caller,
        uuid: &str,
    ) -> ApiResult<axum::Json<SigningSecret>> {
        let signing_secret = self
            .accounts()
            .rotate_signing_secret(caller, &owner, uuid)
            .await?;
        Ok(axum::Json(SigningSecret { signing_secret }))
    }

    async fn list_deliveries(
        &self,
        owner: SettingsOwner,
        caller: &Caller,
        uuid: &str,
    ) -> ApiResult<axum::Json<DeliveryList>> {
        let deliveries = self
            .accounts()
            .notification_deliveries(caller, &owner, uuid)
            .await?;
        Ok(axum::Json(DeliveryList {
            deliveries: deliveries.into_iter().map(Into::into).collect(),
        }))
    }

    async fn redeliver(
        &self,
        owner: SettingsOwner,
        caller: &Caller,
        uuid: &str,
        delivery: i64,
    ) -> ApiResult<StatusCode> {
        self.accounts()
            .redeliver(caller, &owner, uuid, delivery)
            .await?;
        Ok(StatusCode::ACCEPTED)
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

/// Sends a repository notification's event with sample data (admins).
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/notification/{uuid}/test",
    tag = "notification", params(RepositoryNotificationParams),
    responses((status = 200, description = "Queued", body = Object), Failures))]
async fn test_repository_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryNotificationParams>>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    api.test_notification(repository(&params)?, &caller, &params.uuid)
        .await
}

/// Sends an organization notification's event with sample data (administrators).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/notifications/{uuid}/test",
    tag = "notification", params(OrganizationNotificationParams),
    responses((status = 200, description = "Queued", body = Object), Failures))]
async fn test_organization_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationNotificationParams>>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    api.test_notification(organization(&params.orgname)?, &caller, &params.uuid)
        .await
}

/// Sends one of the current user's namespace notifications' event with sample data.
#[utoipa::path(post, path = "/api/v1/user/namespacenotifications/{uuid}/test",
    tag = "notification", params(("uuid" = String, Path, description = "The notification")),
    responses((status = 200, description = "Queued", body = Object), Failures))]
async fn test_user_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    api.test_notification(SettingsOwner::Caller, &caller, &uuid)
        .await
}

/// A repository notification's latest deliveries and their attempts (admins).
#[utoipa::path(get, path = "/api/v1/repository/{namespace}/{repository}/notification/{uuid}/deliveries",
    tag = "notification", params(RepositoryNotificationParams),
    responses((status = 200, description = "Deliveries", body = DeliveryList), Failures))]
async fn repository_deliveries(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryNotificationParams>>,
) -> ApiResult<axum::Json<DeliveryList>> {
    api.list_deliveries(repository(&params)?, &caller, &params.uuid)
        .await
}

/// An organization notification's latest deliveries and their attempts (administrators).
#[utoipa::path(get, path = "/api/v1/organization/{orgname}/notifications/{uuid}/deliveries",
    tag = "notification", params(OrganizationNotificationParams),
    responses((status = 200, description = "Deliveries", body = DeliveryList), Failures))]
async fn organization_deliveries(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationNotificationParams>>,
) -> ApiResult<axum::Json<DeliveryList>> {
    api.list_deliveries(organization(&params.orgname)?, &caller, &params.uuid)
        .await
}

/// The latest deliveries of one of the current user's namespace notifications.
#[utoipa::path(get, path = "/api/v1/user/namespacenotifications/{uuid}/deliveries",
    tag = "notification", params(("uuid" = String, Path, description = "The notification")),
    responses((status = 200, description = "Deliveries", body = DeliveryList), Failures))]
async fn user_deliveries(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<axum::Json<DeliveryList>> {
    api.list_deliveries(SettingsOwner::Caller, &caller, &uuid)
        .await
}

/// Sends a delivery of a repository notification again (admins).
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/notification/{uuid}/deliveries/{delivery}/redeliver",
    tag = "notification", params(RepositoryDeliveryParams),
    responses((status = 202, description = "Due again"), Failures))]
async fn redeliver_repository(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryDeliveryParams>>,
) -> ApiResult<StatusCode> {
    let owner = SettingsOwner::Repository(repository_path(&params.namespace, &params.repository)?);
    api.redeliver(owner, &caller, &params.uuid, params.delivery)
        .await
}

/// Sends a delivery of an organization notification again (administrators).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/notifications/{uuid}/deliveries/{delivery}/redeliver",
    tag = "notification", params(OrganizationDeliveryParams),
    responses((status = 202, description = "Due again"), Failures))]
async fn redeliver_organization(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationDeliveryParams>>,
) -> ApiResult<StatusCode> {
    api.redeliver(
        organization(&params.orgname)?,
        &caller,
        &params.uuid,
        params.delivery,
    )
    .await
}

/// Sends a delivery of one of the current user's namespace notifications again.
#[utoipa::path(post, path = "/api/v1/user/namespacenotifications/{uuid}/deliveries/{delivery}/redeliver",
    tag = "notification", params(UserDeliveryParams),
    responses((status = 202, description = "Due again"), Failures))]
async fn redeliver_user(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<UserDeliveryParams>>,
) -> ApiResult<StatusCode> {
    api.redeliver(
        SettingsOwner::Caller,
        &caller,
        &params.uuid,
        params.delivery,
    )
    .await
}

/// Gives a repository's webhook a new signing key, shown this once (admins).
#[utoipa::path(post, path = "/api/v1/repository/{namespace}/{repository}/notification/{uuid}/secret",
    tag = "notification", params(RepositoryNotificationParams),
    responses((status = 200, description = "The new key", body = SigningSecret), Failures))]
async fn rotate_repository_secret(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<RepositoryNotificationParams>>,
) -> ApiResult<axum::Json<SigningSecret>> {
    api.rotate_secret(repository(&params)?, &caller, &params.uuid)
        .await
}

/// Gives an organization's webhook a new signing key, shown this once (administrators).
#[utoipa::path(post, path = "/api/v1/organization/{orgname}/notifications/{uuid}/secret",
    tag = "notification", params(OrganizationNotificationParams),
    responses((status = 200, description = "The new key", body = SigningSecret), Failures))]
async fn rotate_organization_secret(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(params)): Valid<Path<OrganizationNotificationParams>>,
) -> ApiResult<axum::Json<SigningSecret>> {
    api.rotate_secret(organization(&params.orgname)?, &caller, &params.uuid)
        .await
}

/// Gives one of the current user's webhooks a new signing key, shown this once.
#[utoipa::path(post, path = "/api/v1/user/namespacenotifications/{uuid}/secret",
    tag = "notification", params(("uuid" = String, Path, description = "The notification")),
    responses((status = 200, description = "The new key", body = SigningSecret), Failures))]
async fn rotate_user_secret(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<axum::Json<SigningSecret>> {
    api.rotate_secret(SettingsOwner::Caller, &caller, &uuid)
        .await
}
