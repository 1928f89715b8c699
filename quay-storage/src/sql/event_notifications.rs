//! Event notifications of namespaces and repositories.

use async_trait::async_trait;
use quay_core::account::NamespaceId;
use quay_core::audit::AuditEntry;
use quay_core::events::method::MethodKind;
use quay_core::events::notification::EventNotification;
use quay_core::events::{Event, EventKind};
use quay_core::names::RepositoryPath;
use quay_core::ports::{AuthorizedEmail, DeliveryHistory, EventNotificationStore, RepositoryId};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::scoped::scope;
use super::{SqlMetadata, audit};
use crate::error::{OrStorage, StorageError};

#[derive(FromQueryResult)]
pub(super) struct NotificationRow {
    uuid: String,
    title: Option<String>,
    event: String,
    method: String,
    config: String,
    event_config: String,
    number_of_failures: i32,
}

impl NotificationRow {
    pub(super) fn into_notification(self) -> Result<EventNotification, StorageError> {
        let corrupt = |what: &str| {
            StorageError::CorruptMetadata(format!("notification {}: {what}", self.uuid))
        };
        Ok(EventNotification {
            event: EventKind::parse(&self.event).ok_or_else(|| corrupt("event"))?,
            method: MethodKind::parse(&self.method).map_err(|_| corrupt("method"))?,
            config: serde_json::from_str(&self.config).map_err(|_| corrupt("config"))?,
            event_config: serde_json::from_str(&self.event_config)
                .map_err(|_| corrupt("event_config"))?,
            number_of_failures: u32::try_from(self.number_of_failures)
                .map_err(|_| corrupt("number_of_failures"))?,
            title: self.title,
            uuid: self.uuid,
        })
    }
}

#[async_trait]
impl EventNotificationStore for SqlMetadata {
    async fn event_notifications(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
    ) -> quay_core::Result<Vec<EventNotification>> {
        let (condition, values) = scope(namespace, repository, 1);
        let rows = NotificationRow::find_by_statement(self.statement(
            &format!(
                "SELECT uuid, title, event, method, config, event_config, number_of_failures
                 FROM event_notification WHERE {condition} ORDER BY id"
            ),
            values,
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        Ok(rows
            .into_iter()
            .map(NotificationRow::into_notification)
            .collect::<Result<_, _>>()?)
    }

    async fn add_event_notification(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        notification: &EventNotification,
        signing_secret: Option<&str>,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let created_ms = audit.at_ms;
        let values: Vec<Value> = vec![
            notification.uuid.as_str().into(),
            namespace.into(),
            repository.into(),
            notification.event.name().into(),
            notification.method.name().into(),
            notification.config.to_string().into(),
            notification.event_config.to_string().into(),
            notification.title.clone().into(),
            created_ms.into(),
            signing_secret.into(),
        ];
        let txn = self.write_transaction().await.or_storage()?;
        txn.execute_raw(self.statement(
            "INSERT INTO event_notification (uuid, namespace_id, repository_id, event, method,
                 config, event_config, title, created_ms, signing_secret)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            values,
        ))
        .await
        .or_storage()?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }

    async fn delete_event_notification(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        self.change_scoped(
            "DELETE FROM event_notification",
            namespace,
            repository,
            uuid,
            audit,
        )
        .await
    }

    async fn reset_event_notification(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        self.change_scoped(
            "UPDATE event_notification SET number_of_failures = 0",
            namespace,
            repository,
            uuid,
            audit,
        )
        .await
    }

    async fn set_signing_secret(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        signing_secret: &str,
    ) -> quay_core::Result<bool> {
        let (condition, scope_values) = scope(namespace, repository, 3);
        let values: Vec<Value> = [uuid.into(), signing_secret.into()]
            .into_iter()
            .chain(scope_values)
            .collect();
        let changed = self
            .execute(
                &self.db,
                &format!(
                    "UPDATE event_notification SET signing_secret = $2
                     WHERE uuid = $1 AND {condition}"
                ),
                values,
            )
            .await?;
        Ok(changed == 1)
    }

    async fn queue_for_notification(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        event: &Event,
        now_ms: i64,
    ) -> quay_core::Result<bool> {
        self.queue_test(namespace, repository, uuid, event, now_ms)
            .await
    }

    async fn deliveries(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        limit: u32,
    ) -> quay_core::Result<Option<Vec<DeliveryHistory>>> {
        self.delivery_history(namespace, repository, uuid, limit)
            .await
    }

    async fn redeliver(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        delivery: i64,
        now_ms: i64,
    ) -> quay_core::Result<bool> {
        self.make_due_again(namespace, repository, uuid, delivery, now_ms)
            .await
    }

    async fn authorized_email(
        &self,
        repository: RepositoryId,
        email: &str,
    ) -> quay_core::Result<Option<AuthorizedEmail>> {
        self.find_authorized_email(repository, email).await
    }

    async fn add_authorized_email(
        &self,
        repository: RepositoryId,
        email: &str,
        code: &str,
    ) -> quay_core::Result<AuthorizedEmail> {
        self.ask_authorized_email(repository, email, code).await
    }

    async fn confirm_authorized_email(
        &self,
        code: &str,
    ) -> quay_core::Result<Option<(RepositoryPath, String)>> {
        self.confirm_email_code(code).await
    }

    async fn is_admin_email(&self, namespace: NamespaceId, email: &str) -> quay_core::Result<bool> {
        self.namespace_admin_email(namespace, email).await
    }
}
