//! The delivery worker: every node takes due deliveries from the outbox, sends them, and
//! records each attempt, so that a delivery survives the death of the node sending it (its
//! lease lapses and another node takes it) and the receiver de-duplicates by the event id.

mod send;

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use quay_core::clock::Clock;
use quay_core::events::delivery::{Next, RetryPolicy};
use quay_core::events::method::{MethodConfig, MethodKind};
use quay_core::events::{Event, Site};
use quay_core::names::Namespace;
use quay_core::ports::{
    AttemptRecord, ClaimedDelivery, EventOutbox, InAppNotices, Mail, MailSender, SecretSealer,
};

pub(crate) use self::send::HttpSender;
use crate::error::AppError;
use crate::outbound::OutboundPolicy;

/// The methods every worker sends; e-mail too where a mail server is configured, and
/// elsewhere its deliveries wait in the outbox.
const METHODS: [MethodKind; 4] = [
    MethodKind::QuayNotification,
    MethodKind::Webhook,
    MethodKind::Slack,
    MethodKind::Teams,
];

/// Deliveries taken at once, sent concurrently.
const BATCH: u32 = 16;

/// How deliveries are sent and retried.
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// When a failed attempt is tried again, how often, and when a notification is disabled.
    pub policy: RetryPolicy,
    /// How long one request may take (`NOTIFICATION_SEND_TIMEOUT`, 10 s).
    pub send_timeout: Duration,
    /// Where requests may go besides public addresses (`SSRF_ALLOWED_HOSTS`).
    pub outbound: OutboundPolicy,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            policy: RetryPolicy::default(),
            send_timeout: Duration::from_secs(10),
            outbound: OutboundPolicy::default(),
        }
    }
}

/// Takes due deliveries from the outbox and sends them.
pub struct Deliveries {
    outbox: Arc<dyn EventOutbox>,
    sender: HttpSender,
    in_app: Arc<dyn InAppNotices>,
    /// Sends e-mail, where a mail server is configured.
    mailer: Option<Arc<dyn MailSender>>,
    /// The methods this worker sends.
    methods: Vec<MethodKind>,
    /// Where the registry is reached, for the links in the events the worker raises.
    site: Site,
    /// Opens the notifications' signing keys.
    sealer: Option<Arc<dyn SecretSealer>>,
    policy: RetryPolicy,
    /// Longer than a batch can take: a claim outlives the requests it was made for.
    lease_ms: i64,
    clock: Arc<dyn Clock>,
}

impl Deliveries {
    /// A worker on `outbox` with `settings`, telling users in the app through `in_app`,
    /// linking to `site`, mailing with `mailer` if there is one,
    /// opening signing keys with `sealer`, reading time from `clock`.
    pub fn new(
        outbox: Arc<dyn EventOutbox>,
        in_app: Arc<dyn InAppNotices>,
        site: Site,
        settings: &DeliverySettings,
        sealer: Option<Arc<dyn SecretSealer>>,
        mailer: Option<Arc<dyn MailSender>>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AppError> {
        let mut methods = METHODS.to_vec();
        if mailer.is_some() {
            methods.push(MethodKind::Email);
        }
        Ok(Self {
            mailer,
            methods,
            outbox,
            in_app,
            site,
            sealer,
            sender: HttpSender::new(settings.outbound.clone(), settings.send_timeout)?,
            policy: settings.policy,
            lease_ms: i64::try_from(settings.send_timeout.as_millis())
                .unwrap_or(i64::MAX)
                .saturating_mul(3),
            clock,
        })
    }

    /// Queues the events of `repo_image_expiry` notifications whose tags now expire within
    /// their days; how many.
    pub async fn emit_expiring_tags(&self) -> quay_core::Result<u32> {
        self.outbox
            .emit_expiring_tags(&self.site, self.clock.now_ms())
            .await
    }

    /// Sends what is due now, batch after batch until nothing is; how many were sent
    /// successfully.
    pub async fn deliver_due(&self) -> quay_core::Result<usize> {
        let mut delivered = 0;
        loop {
            let claimed = self
                .outbox
                .claim_deliveries(self.clock.now_ms(), self.lease_ms, BATCH, &self.methods)
                .await?;
            if claimed.is_empty() {
                return Ok(delivered);
            }
            let results = join_all(claimed.iter().map(|delivery| self.deliver(delivery))).await;
            for result in results {
                if result? == Next::Done {
                    delivered += 1;
                }
            }
        }
    }

    /// One attempt of `delivery`, recorded.
    async fn deliver(&self, delivery: &ClaimedDelivery) -> quay_core::Result<Next> {
        let started_ms = self.clock.now_ms();
        let sent = self.send(delivery, started_ms / 1000).await;
        let duration_ms = self.clock.now_ms().saturating_sub(started_ms);
        let method = delivery.notification.method.name();
        let record = match sent {
            Ok(status) => AttemptRecord {
                started_ms,
                duration_ms,
                status_code: status,
                error: None,
            },
            Err(error) => {
                tracing::info!(
                    notification = %delivery.notification.uuid,
                    event = %delivery.event_id,
                    attempt = delivery.attempt,
                    %error,
                    "a notification was not delivered"
                );
                AttemptRecord {
                    started_ms,
                    duration_ms,
                    status_code: match error {
                        AppError::Status(status) => Some(status),
                        _ => None,
                    },
                    error: Some(error.to_string()),
                }
            }
        };
        let outcome = if record.error.is_none() {
            "delivered"
        } else {
            "failed"
        };
        metrics::counter!("quay_notification_deliveries_total", "method" => method, "outcome" => outcome)
            .increment(1);
        self.outbox
            .finish_delivery(delivery, &record, &self.policy)
            .await
    }

    /// Sends `delivery` at `now_s`; the receiver's HTTP status, if it was sent over HTTP.
    async fn send(&self, delivery: &ClaimedDelivery, now_s: i64) -> Result<Option<u16>, AppError> {
        let notification = &delivery.notification;
        // The config was checked when saved; checked again, it may only have gone stale.
        let namespace = delivery.event.data["namespace"]
            .as_str()
            .and_then(|name| Namespace::parse(name).ok())
            .ok_or_else(|| AppError::Unavailable("the event names no namespace".into()))?;
        let method = notification
            .method
            .config(&notification.config, &namespace)
            .map_err(|error| AppError::Unavailable(error.to_string()))?;
        match &method {
            MethodConfig::QuayNotification { target } => {
                self.in_app
                    .notify_in_app(target, &namespace, delivery, self.clock.now_ms())
                    .await
                    .map_err(|error| AppError::Unavailable(error.to_string()))?;
                return Ok(None);
            }
            MethodConfig::Email { address } => {
                let mailer = self
                    .mailer
                    .as_ref()
                    .ok_or_else(|| AppError::Unavailable("this node has no MAIL_SERVER".into()))?;
                mailer
                    .send(&event_mail(address, &delivery.event))
                    .await
                    .map_err(|error| AppError::Request(error.to_string()))?;
                return Ok(None);
            }
            _ => {}
        }
        let signing_secret = match (&delivery.signing_secret, &self.sealer) {
            (None, _) => None,
            (Some(sealed), Some(sealer)) => Some(
                sealer
                    .open(sealed)
                    .map_err(|error| AppError::Unavailable(error.to_string()))?,
            ),
            (Some(_), None) => {
                return Err(AppError::Unavailable(
                    "the notification signs, and this node has no DATABASE_SECRET_KEY".into(),
                ));
            }
        };
        let signing_secret = signing_secret
            .map(String::from_utf8)
            .transpose()
            .map_err(|_| AppError::Unavailable("a signing key that is not text".into()))?;
        self.sender
            .send(delivery, &method, now_s, signing_secret.as_deref())
            .await
            .map(Some)
    }
}

/// The mail that tells `address` about `event`: its summary, and its data.
fn event_mail(address: &str, event: &Event) -> Mail {
    let data = serde_json::to_string_pretty(&event.data).unwrap_or_default();
    let link = event.data["homepage"].as_str().unwrap_or_default();
    Mail {
        to: address.into(),
        subject: event.summary(),
        text: format!(
            "{}\n\n{link}\n\nEvent {}:\n{data}\n",
            event.summary(),
            event.kind.name()
        ),
    }
}

/// Looks for expiring tags every `every`, until the runtime ends.
pub(crate) async fn scan_expiring_tags(deliveries: Arc<Deliveries>, every: Duration) {
    loop {
        if let Err(error) = deliveries.emit_expiring_tags().await {
            tracing::warn!(%error, "looking for expiring tags failed; trying again");
        }
        tokio::time::sleep(every).await;
    }
}

/// Delivers what is due every `poll`, until the runtime ends.
pub(crate) async fn deliver(deliveries: Arc<Deliveries>, poll: Duration) {
    loop {
        if let Err(error) = deliveries.deliver_due().await {
            tracing::warn!(%error, "delivering notifications failed; trying again");
        }
        tokio::time::sleep(poll).await;
    }
}
