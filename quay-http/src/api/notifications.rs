//! The signed-in user's in-app notifications (a quota limit was reached, ...).

use axum::extract::{Path, State};
use quay_core::ports::Notification;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::error::{ApiResult, Failures};
use super::extract::{Json, Valid};
use super::state::Api;

pub(super) fn routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(notifications))
        .routes(routes!(notification, dismiss_notification))
}

/// An in-app notification.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationView {
    id: String,
    kind: String,
    organization: Option<String>,
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
    /// When, epoch seconds.
    created: i64,
    dismissed: bool,
}

impl From<Notification> for NotificationView {
    fn from(notification: Notification) -> Self {
        Self {
            id: notification.uuid,
            kind: notification.kind,
            organization: notification.organization,
            metadata: notification.metadata,
            created: notification.created_ms / 1000,
            dismissed: notification.dismissed,
        }
    }
}

/// The current user's notifications.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationList {
    notifications: Vec<NotificationView>,
}

/// A change of a notification.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NotificationChange {
    dismissed: bool,
}

/// The current user's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/user/notifications", tag = "user",
    responses((status = 200, description = "The notifications", body = NotificationList), Failures))]
async fn notifications(
    State(api): State<Api>,
    caller: Caller,
) -> ApiResult<axum::Json<NotificationList>> {
    let notifications = api.accounts().notifications(&caller).await?;
    Ok(axum::Json(NotificationList {
        notifications: notifications.into_iter().map(Into::into).collect(),
    }))
}

/// One of the current user's notifications.
#[utoipa::path(get, path = "/api/v1/user/notifications/{uuid}", tag = "user",
    params(("uuid" = String, Path, description = "The notification")),
    responses((status = 200, description = "The notification", body = NotificationView), Failures))]
async fn notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
) -> ApiResult<axum::Json<NotificationView>> {
    let notification = api.accounts().notification(&caller, &uuid).await?;
    Ok(axum::Json(notification.into()))
}

/// Dismisses (or restores) one of the current user's notifications.
#[utoipa::path(put, path = "/api/v1/user/notifications/{uuid}", tag = "user",
    params(("uuid" = String, Path, description = "The notification")),
    request_body = NotificationChange,
    responses((status = 200, description = "The notification", body = NotificationView), Failures))]
async fn dismiss_notification(
    State(api): State<Api>,
    caller: Caller,
    Valid(Path(uuid)): Valid<Path<String>>,
    Json(change): Json<NotificationChange>,
) -> ApiResult<axum::Json<NotificationView>> {
    let notification = api
        .accounts()
        .dismiss_notification(&caller, &uuid, change.dismissed)
        .await?;
    Ok(axum::Json(notification.into()))
}
