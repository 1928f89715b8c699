//! The port of event notifications.

use async_trait::async_trait;

use crate::account::NamespaceId;
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::events::notification::EventNotification;
use crate::repository::RepositoryId;

/// The notifications of namespaces (`repository: None`) and of repositories.
#[async_trait]
pub trait EventNotificationStore: Send + Sync {
    /// The notifications of a namespace (`repository: None`) or of one of its repositories,
    /// oldest first.
    async fn event_notifications(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
    ) -> Result<Vec<EventNotification>>;

    /// Adds `notification`, recording `audit`.
    async fn add_event_notification(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        notification: &EventNotification,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Deletes notification `uuid`, recording `audit`; whether it existed.
    async fn delete_event_notification(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        audit: AuditEntry,
    ) -> Result<bool>;

    /// Sets notification `uuid`'s failures back to zero, which enables it again, recording
    /// `audit`; whether it exists.
    async fn reset_event_notification(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        audit: AuditEntry,
    ) -> Result<bool>;
}
