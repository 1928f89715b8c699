//! The ports of event notifications: the notifications themselves, and the outbox their
//! deliveries wait in.

use async_trait::async_trait;

use crate::account::NamespaceId;
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::events::Event;
use crate::events::delivery::{Next, Outcome, RetryPolicy};
use crate::events::method::MethodKind;
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

/// A delivery a worker has claimed: what to send, where, and which attempt this is.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedDelivery {
    /// The delivery's row.
    pub id: i64,
    /// The event's id, the same on every attempt: receivers de-duplicate by it.
    pub event_id: String,
    /// The event.
    pub event: Event,
    /// When the event happened (ms since the epoch).
    pub created_ms: i64,
    /// The notification it is for.
    pub notification: EventNotification,
    /// This attempt's number, the first is 1.
    pub attempt: u32,
}

/// What became of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRecord {
    /// When it started (ms since the epoch).
    pub started_ms: i64,
    /// How long it took.
    pub duration_ms: i64,
    /// The receiver's HTTP status, if one answered.
    pub status_code: Option<u16>,
    /// Why it failed, if it did: a refusal, a timeout, an unreachable host.
    pub error: Option<String>,
}

impl AttemptRecord {
    /// Delivered when nothing failed.
    pub fn outcome(&self) -> Outcome {
        if self.error.is_none() {
            Outcome::Delivered
        } else {
            Outcome::Failed
        }
    }
}

/// The outbox the delivery workers of every node take from.
#[async_trait]
pub trait EventOutbox: Send + Sync {
    /// Claims up to `limit` deliveries by one of `methods` that are due at `now_ms` and whose
    /// notification is enabled, each for `lease_ms`: a worker that stops leaves them due
    /// again when the lease lapses. Deliveries another worker is claiming are skipped, not
    /// waited for.
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
        methods: &[MethodKind],
    ) -> Result<Vec<ClaimedDelivery>>;

    /// Records `record` for `delivery`, counts its failure or success on the notification,
    /// and applies `policy`: done, due again, or given up (with everything queued for a
    /// notification it disables). What becomes of the delivery.
    async fn finish_delivery(
        &self,
        delivery: &ClaimedDelivery,
        record: &AttemptRecord,
        policy: &RetryPolicy,
    ) -> Result<Next>;
}
