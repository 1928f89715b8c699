//! The ports of event notifications: the notifications themselves, and the outbox their
//! deliveries wait in.

use async_trait::async_trait;

use crate::account::NamespaceId;
use crate::audit::AuditEntry;
use crate::error::Result;
use crate::events::delivery::{Next, Outcome, RetryPolicy};
use crate::events::method::{MethodKind, Target};
use crate::events::notification::EventNotification;
use crate::events::{Event, EventKind, Site};
use crate::names::{Namespace, RepositoryPath};
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

    /// Adds `notification` with its sealed signing key, if it has one, recording `audit`.
    async fn add_event_notification(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        notification: &EventNotification,
        signing_secret: Option<&str>,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Replaces notification `uuid`'s sealed signing key; whether it exists.
    async fn set_signing_secret(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        signing_secret: &str,
    ) -> Result<bool>;

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

    /// Queues `event` for notification `uuid` alone, due at `now_ms` (its `test`); whether
    /// the notification exists.
    async fn queue_for_notification(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        event: &Event,
        now_ms: i64,
    ) -> Result<bool>;

    /// The latest `limit` deliveries of notification `uuid`, newest first, each with its
    /// attempts; `None` when there is no such notification.
    async fn deliveries(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        limit: u32,
    ) -> Result<Option<Vec<DeliveryHistory>>>;

    /// Makes delivery `delivery` of notification `uuid` due again at `now_ms`, with its
    /// attempts counted afresh; whether there is such a delivery.
    async fn redeliver(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        delivery: i64,
        now_ms: i64,
    ) -> Result<bool>;

    /// The request to authorize `email` for the repository's e-mail notifications, if
    /// there is one.
    async fn authorized_email(
        &self,
        repository: RepositoryId,
        email: &str,
    ) -> Result<Option<AuthorizedEmail>>;

    /// Records a request to authorize `email` with `code`, unless there is one already; the
    /// request as it now is.
    async fn add_authorized_email(
        &self,
        repository: RepositoryId,
        email: &str,
        code: &str,
    ) -> Result<AuthorizedEmail>;

    /// Confirms the request whose code is `code`; its repository and address, or `None`
    /// when no request has that code.
    async fn confirm_authorized_email(
        &self,
        code: &str,
    ) -> Result<Option<(RepositoryPath, String)>>;

    /// Whether `email` is the address of the namespace (a user, an organization) or of one of
    /// its admins.
    async fn is_admin_email(&self, namespace: NamespaceId, email: &str) -> Result<bool>;
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for an attempt (or for one to finish).
    Due,
    /// Taken by the receiver.
    Delivered,
    /// Out of attempts, or dropped when its notification was disabled.
    GivenUp,
}

impl DeliveryState {
    /// As the API and the database spell it.
    pub const fn name(self) -> &'static str {
        match self {
            DeliveryState::Due => "due",
            DeliveryState::Delivered => "delivered",
            DeliveryState::GivenUp => "given_up",
        }
    }

    /// The state spelled `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Due, Self::Delivered, Self::GivenUp]
            .into_iter()
            .find(|state| state.name() == name)
    }
}

/// One delivery and what became of each attempt, for the delivery history.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryHistory {
    /// The delivery's id (for a redelivery).
    pub id: i64,
    /// The event's id, as `webhook-id` carried it.
    pub event_id: String,
    /// The event's kind.
    pub event: EventKind,
    /// When the event happened.
    pub created_ms: i64,
    /// Where it stands.
    pub state: DeliveryState,
    /// Its attempts, first first.
    pub attempts: Vec<AttemptRecord>,
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
    /// The notification's signing key, sealed, if it signs.
    pub signing_secret: Option<String>,
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

/// A request that an address receive a repository's e-mail notifications: it may once the
/// mail sent to it is confirmed (Quay's `authorizedemail`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizedEmail {
    /// The address.
    pub email: String,
    /// Whether its owner followed the link in the mail.
    pub confirmed: bool,
    /// What the link carries; a credential.
    pub code: String,
}

/// Sends mail (`FEATURE_MAILING`, through `MAIL_SERVER`).
#[async_trait]
pub trait MailSender: Send + Sync {
    /// Sends `mail`; once this answers, the mail server took it.
    async fn send(&self, mail: &Mail) -> Result<()>;
}

/// A mail to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The body, plain text.
    pub text: String,
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

    /// Emits, for each enabled `repo_image_expiry` notification, one event naming the live
    /// tags of its repository (those its tag filter passes) that expire within its `days` of
    /// `now_ms` and that it was not told about yet, with links to `site`; how many events.
    /// Each tag is told once, however often and on however many nodes this runs.
    async fn emit_expiring_tags(&self, site: &Site, now_ms: i64) -> Result<u32>;
}

/// In-app notifications as a delivery method (`quay_notification`).
#[async_trait]
pub trait InAppNotices: Send + Sync {
    /// Tells `target`, found in the namespace `namespace` names, about `delivery`'s event,
    /// once per event however often it is delivered; an error names a target that does not
    /// exist.
    async fn notify_in_app(
        &self,
        target: &Target,
        namespace: &Namespace,
        delivery: &ClaimedDelivery,
        now_ms: i64,
    ) -> Result<()>;
}

/// Keeps the secrets the registry must read back (a webhook's signing key) sealed at rest:
/// what the database holds is useless without the deployment's key.
pub trait SecretSealer: Send + Sync {
    /// `plain`, sealed.
    fn seal(&self, plain: &[u8]) -> Result<String>;
    /// What `sealed` was sealed from; an error when it was sealed with another key or
    /// changed since.
    fn open(&self, sealed: &str) -> Result<Vec<u8>>;
    /// `length` random bytes, for a new key.
    fn random(&self, length: usize) -> Result<Vec<u8>>;
}
