//! Event notifications: added, listed, deleted and reset by a repository's admins (repository
//! events) or a namespace's (quota events), each change in the usage log as Quay logs it.

use super::access::{OwnedScope, SettingsOwner};
use super::tenancy::Accounts;
use crate::access::Caller;
use crate::audit::{AuditEntry, LogKind};
use crate::error::{Error, Result};
use crate::events::method::{MethodConfig, MethodKind};
use crate::events::notification::{EventNotification, NotificationRequest};
use crate::events::signature::secret_from_key;
use crate::events::{Event, EventScope};
use crate::ports::{DeliveryHistory, SecretSealer};

/// Deliveries a history shows.
const HISTORY: u32 = 100;

/// The length of a signing key: 192 bits, as Standard Webhooks' examples.
const SIGNING_KEY_BYTES: usize = 24;

/// A change to a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Add,
    Delete,
    Reset,
}

/// The usage log's kind for `change` to a notification of `scope`.
fn log_kind(scope: &OwnedScope, change: Change) -> LogKind {
    match (scope.repository.is_some(), change) {
        (true, Change::Add) => LogKind::AddRepoNotification,
        (true, Change::Delete) => LogKind::DeleteRepoNotification,
        (true, Change::Reset) => LogKind::ResetRepoNotification,
        (false, Change::Add) => LogKind::CreateNamespaceNotification,
        (false, Change::Delete) => LogKind::DeleteNamespaceNotification,
        (false, Change::Reset) => LogKind::ResetNamespaceNotification,
    }
}

impl Accounts {
    /// The notifications of `owner`, oldest first.
    pub async fn event_notifications(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
    ) -> Result<Vec<EventNotification>> {
        let scope = self.owned_scope(caller, owner).await?;
        self.notifications_of(&scope).await
    }

    /// Notification `uuid` of `owner`.
    pub async fn event_notification(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
        uuid: &str,
    ) -> Result<EventNotification> {
        let scope = self.owned_scope(caller, owner).await?;
        self.notification_in(&scope, uuid).await
    }

    /// Adds the notification `request` asks for to `owner`'s, as `uuid`; refused with the
    /// reason when the request is wrong. A webhook gets a signing key, shown only now (and
    /// when it is rotated), where the deployment can seal it.
    pub async fn add_event_notification(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
        uuid: String,
        request: NotificationRequest,
    ) -> Result<(EventNotification, Option<String>)> {
        let scope = self.owned_scope(caller, owner).await?;
        let event_scope = match scope.repository {
            Some(_) => EventScope::Repository,
            None => EventScope::Namespace,
        };
        let notification =
            EventNotification::new(uuid, request, event_scope, &scope.namespace.name)?;
        if let MethodConfig::Email { address } = notification
            .method
            .config(&notification.config, &scope.namespace.name)?
        {
            self.mailer()?;
            if !self.may_email(&scope, &address).await? {
                return Err(Error::InvalidRequest(match &scope.repository {
                    Some(repository) => format!(
                        "The e-mail address `{address}` is not authorized to receive \
                         notifications for this repository: authorize it first (POST \
                         /api/v1/repository/{}/authorizedemail/{address})",
                        repository.path
                    ),
                    None => format!(
                        "The e-mail address `{address}` is neither this namespace's nor one \
                         of its admins' addresses"
                    ),
                }));
            }
        }
        let signing = match (&self.sealer, notification.method) {
            (Some(sealer), MethodKind::Webhook) => Some(new_signing_secret(sealer.as_ref())?),
            _ => None,
        };
        let audit = self
            .notification_entry(caller, &scope, Change::Add, &notification.uuid)
            .meta("event", notification.event.name())
            .meta("method", notification.method.name());
        self.event_notifications
            .add_event_notification(
                scope.namespace.id,
                scope.repository_id(),
                &notification,
                signing.as_ref().map(|(_, sealed)| sealed.as_str()),
                audit,
            )
            .await?;
        Ok((notification, signing.map(|(shown, _)| shown)))
    }

    /// Gives webhook notification `uuid` of `owner` a new signing key; the key, shown this
    /// once.
    pub async fn rotate_signing_secret(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
        uuid: &str,
    ) -> Result<String> {
        let scope = self.owned_scope(caller, owner).await?;
        let Some(sealer) = &self.sealer else {
            return Err(Error::InvalidRequest(
                "this registry has no key to seal signing keys with (DATABASE_SECRET_KEY)".into(),
            ));
        };
        let notification = self.notification_in(&scope, uuid).await?;
        if notification.method != MethodKind::Webhook {
            return Err(Error::InvalidRequest(format!(
                "only webhooks are signed; this notification's method is {}",
                notification.method.name()
            )));
        }
        let (shown, sealed) = new_signing_secret(sealer.as_ref())?;
        self.event_notifications
            .set_signing_secret(scope.namespace.id, scope.repository_id(), uuid, &sealed)
            .await?
            .then_some(shown)
            .ok_or_else(|| notification_not_found(uuid))
    }

    /// Deletes notification `uuid` of `owner`.
    pub async fn delete_event_notification(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
        uuid: &str,
    ) -> Result<()> {
        let scope = self.owned_scope(caller, owner).await?;
        let audit = self.notification_entry(caller, &scope, Change::Delete, uuid);
        self.event_notifications
            .delete_event_notification(scope.namespace.id, scope.repository_id(), uuid, audit)
            .await?
            .then_some(())
            .ok_or_else(|| notification_not_found(uuid))
    }

    /// Sets notification `uuid`'s failures back to zero, which enables it again.
    pub async fn reset_event_notification(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
        uuid: &str,
    ) -> Result<()> {
        let scope = self.owned_scope(caller, owner).await?;
        let audit = self.notification_entry(caller, &scope, Change::Reset, uuid);
        self.event_notifications
            .reset_event_notification(scope.namespace.id, scope.repository_id(), uuid, audit)
            .await?
            .then_some(())
            .ok_or_else(|| notification_not_found(uuid))
    }

    /// Queues the event of notification `uuid` of `owner` with sample data, for it alone.
    pub async fn test_event_notification(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
        uuid: &str,
    ) -> Result<()> {
        let scope = self.owned_scope(caller, owner).await?;
        let notification = self.notification_in(&scope, uuid).await?;
        let sample = Event::sample(
            notification.event,
            &self.site,
            scope.repository.as_ref().map(|repository| &repository.path),
            &scope.namespace.name,
            scope.namespace.kind,
        );
        self.event_notifications
            .queue_for_notification(
                scope.namespace.id,
                scope.repository_id(),
                uuid,
                &sample,
                self.now_ms(),
            )
            .await?
            .then_some(())
            .ok_or_else(|| notification_not_found(uuid))
    }

    /// The latest deliveries of notification `uuid` of `owner`, newest first.
    pub async fn notification_deliveries(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
        uuid: &str,
    ) -> Result<Vec<DeliveryHistory>> {
        let scope = self.owned_scope(caller, owner).await?;
        self.event_notifications
            .deliveries(scope.namespace.id, scope.repository_id(), uuid, HISTORY)
            .await?
            .ok_or_else(|| notification_not_found(uuid))
    }

    /// Sends delivery `delivery` of notification `uuid` of `owner` again, with its attempts
    /// counted afresh.
    pub async fn redeliver(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
        uuid: &str,
        delivery: i64,
    ) -> Result<()> {
        let scope = self.owned_scope(caller, owner).await?;
        self.event_notifications
            .redeliver(
                scope.namespace.id,
                scope.repository_id(),
                uuid,
                delivery,
                self.now_ms(),
            )
            .await?
            .then_some(())
            .ok_or_else(|| Error::NotFound {
                what: "delivery",
                name: delivery.to_string(),
            })
    }

    /// Notification `uuid` of `scope`.
    async fn notification_in(&self, scope: &OwnedScope, uuid: &str) -> Result<EventNotification> {
        self.notifications_of(scope)
            .await?
            .into_iter()
            .find(|notification| notification.uuid == uuid)
            .ok_or_else(|| notification_not_found(uuid))
    }

    async fn notifications_of(&self, scope: &OwnedScope) -> Result<Vec<EventNotification>> {
        self.event_notifications
            .event_notifications(scope.namespace.id, scope.repository_id())
            .await
    }

    /// The usage log entry of `change` to notification `uuid` of `scope`, with Quay's
    /// metadata.
    fn notification_entry(
        &self,
        caller: &Caller,
        scope: &OwnedScope,
        change: Change,
        uuid: &str,
    ) -> AuditEntry {
        let mut entry = self
            .entry(&caller.actor, log_kind(scope, change))
            .namespace(scope.namespace.id)
            .meta("namespace", scope.namespace.name.as_str())
            .meta("notification_id", uuid);
        if let Some(repository) = &scope.repository {
            entry = entry.repository(repository);
        }
        entry
    }
}

/// A new signing key: as shown to the user (`whsec_...`), and sealed for the database.
fn new_signing_secret(sealer: &dyn SecretSealer) -> Result<(String, String)> {
    let shown = secret_from_key(&sealer.random(SIGNING_KEY_BYTES)?);
    let sealed = sealer.seal(shown.as_bytes())?;
    Ok((shown, sealed))
}

fn notification_not_found(uuid: &str) -> Error {
    Error::NotFound {
        what: "notification",
        name: uuid.to_string(),
    }
}
