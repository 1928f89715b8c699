//! The outbox of events: written with the change that caused them, claimed and finished by
//! the delivery workers of every node.

use async_trait::async_trait;
use quay_core::account::NamespaceId;
use quay_core::events::delivery::{DISABLE_AT_FAILURES, Next, Outcome, RetryPolicy};
use quay_core::events::method::MethodKind;
use quay_core::events::{Event, EventKind, Site};
use quay_core::ports::{
    AttemptRecord, ClaimedDelivery, DeliveryHistory, DeliveryState, EventOutbox, RepositoryId,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, FromQueryResult, Value};

use super::event_notifications::NotificationRow;
use super::scoped::scope;
use super::{SqlMetadata, placeholders};
use crate::error::{OrStorage, StorageError};

const DUE: &str = DeliveryState::Due.name();
const DELIVERED: &str = DeliveryState::Delivered.name();
const GIVEN_UP: &str = DeliveryState::GivenUp.name();

#[derive(FromQueryResult)]
struct Listener {
    id: i64,
    event_config: String,
}

#[derive(FromQueryResult)]
struct ClaimedRow {
    id: i64,
    attempts: i32,
    signing_secret: Option<String>,
    event_uuid: String,
    kind: String,
    data: String,
    created_ms: i64,
    #[sea_orm(nested)]
    notification: NotificationRow,
}

#[derive(FromQueryResult)]
struct Failures {
    id: i64,
    number_of_failures: i32,
}

/// Whose notifications an event goes to.
#[derive(Clone, Copy, Debug)]
pub(super) enum EventSource {
    /// A repository's (a push, an expiring tag).
    Repository(RepositoryId),
    /// A namespace's own (a quota threshold).
    Namespace(NamespaceId),
}

impl SqlMetadata {
    /// Writes `event` of `source` into the outbox of `txn`, with a delivery for every
    /// enabled notification of the source that wants it (its event, its tags); nothing
    /// when none does.
    pub(super) async fn emit(
        &self,
        txn: &DatabaseTransaction,
        source: EventSource,
        event: &Event,
        now_ms: i64,
    ) -> quay_core::Result<()> {
        let (whose, id) = match source {
            EventSource::Repository(repository) => ("repository_id = $1", repository),
            EventSource::Namespace(namespace) => {
                ("namespace_id = $1 AND repository_id IS NULL", namespace)
            }
        };
        let listeners = Listener::find_by_statement(self.statement(
            &format!(
                "SELECT id, event_config FROM event_notification
                 WHERE {whose} AND event = $2 AND number_of_failures < $3"
            ),
            [
                id.into(),
                event.kind.name().into(),
                i64::from(DISABLE_AT_FAILURES).into(),
            ],
        ))
        .all(txn)
        .await
        .or_storage()?;
        let tags = event.tags();
        let mut wanted = Vec::with_capacity(listeners.len());
        for listener in listeners {
            let config: serde_json::Value =
                serde_json::from_str(&listener.event_config).map_err(|_| {
                    StorageError::CorruptMetadata(format!("notification {}", listener.id))
                })?;
            if quay_core::events::filter::passes(&config, &tags)? {
                wanted.push(listener.id);
            }
        }
        self.write_event(txn, source, event, &wanted, now_ms).await
    }

    /// Writes `event` of `source` into the outbox of `txn` with a delivery, due now, for
    /// each of `notifications`; nothing when there are none.
    pub(super) async fn write_event(
        &self,
        txn: &DatabaseTransaction,
        source: EventSource,
        event: &Event,
        notifications: &[i64],
        now_ms: i64,
    ) -> quay_core::Result<()> {
        if notifications.is_empty() {
            return Ok(());
        }
        let (insert, id) = match source {
            EventSource::Repository(repository) => (
                "INSERT INTO event (uuid, kind, namespace_id, repository_id, data, created_ms)
                 SELECT $1, $2, namespace_id, id, $3, $4 FROM repository WHERE id = $5",
                repository,
            ),
            EventSource::Namespace(namespace) => (
                "INSERT INTO event (uuid, kind, namespace_id, repository_id, data, created_ms)
                 VALUES ($1, $2, $5, NULL, $3, $4)",
                namespace,
            ),
        };
        let event_values: [Value; 5] = [
            uuid::Uuid::new_v4().to_string().into(),
            event.kind.name().into(),
            event.data.to_string().into(),
            now_ms.into(),
            id.into(),
        ];
        // A push pays for its event in round trips: on PostgreSQL the event and its
        // deliveries are one statement.
        if self.backend() == DbBackend::Postgres {
            let listed = placeholders(7, notifications.len());
            let values: Vec<Value> = event_values
                .into_iter()
                .chain([DUE.into()])
                .chain(notifications.iter().map(|id| (*id).into()))
                .collect();
            txn.execute_raw(self.statement(
                &format!(
                    "WITH e AS ({insert} RETURNING id)
                     INSERT INTO event_delivery (event_id, notification_id, state, due_ms)
                     SELECT e.id, n.id, $6, $4 FROM e, event_notification n
                     WHERE n.id IN ({listed})"
                ),
                values,
            ))
            .await
            .or_storage()?;
            return Ok(());
        }
        let event_id = EventId::find_by_statement(
            self.statement(&format!("{insert} RETURNING id"), event_values),
        )
        .one(txn)
        .await
        .or_storage()?
        .ok_or_else(|| StorageError::CorruptMetadata(format!("{source:?}")))?
        .id;
        let values: Vec<Value> = [event_id.into(), DUE.into(), now_ms.into()]
            .into_iter()
            .chain(notifications.iter().map(|id| (*id).into()))
            .collect();
        txn.execute_raw(self.statement(
            &format!(
                "INSERT INTO event_delivery (event_id, notification_id, state, due_ms)
                 SELECT $1, n.id, $2, $3 FROM event_notification n WHERE n.id IN ({})",
                placeholders(4, notifications.len())
            ),
            values,
        ))
        .await
        .or_storage()?;
        Ok(())
    }
}

#[derive(FromQueryResult)]
struct EventId {
    id: i64,
}

#[async_trait]
impl EventOutbox for SqlMetadata {
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
        methods: &[MethodKind],
    ) -> quay_core::Result<Vec<ClaimedDelivery>> {
        if methods.is_empty() {
            return Ok(Vec::new());
        }
        let lock = match self.backend() {
            DbBackend::Postgres => " FOR UPDATE OF d SKIP LOCKED",
            _ => "",
        };
        let values: Vec<Value> = [
            now_ms.into(),
            now_ms.saturating_add(lease_ms).into(),
            i64::from(limit).into(),
            DUE.into(),
            i64::from(DISABLE_AT_FAILURES).into(),
        ]
        .into_iter()
        .chain(methods.iter().map(|method| method.name().into()))
        .collect();
        let txn = self.write_transaction().await.or_storage()?;
        let claimed = EventId::find_by_statement(self.statement(
            &format!(
                "UPDATE event_delivery SET due_ms = $2, attempts = attempts + 1
                 WHERE id IN (SELECT d.id FROM event_delivery d
                              JOIN event_notification n ON n.id = d.notification_id
                              WHERE d.state = $4 AND d.due_ms <= $1
                                    AND n.number_of_failures < $5 AND n.method IN ({})
                              ORDER BY d.due_ms, d.id LIMIT $3{lock})
                 RETURNING id",
                placeholders(6, methods.len())
            ),
            values,
        ))
        .all(&txn)
        .await
        .or_storage()?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Value> = claimed.iter().map(|row| row.id.into()).collect();
        let rows = ClaimedRow::find_by_statement(self.statement(
            &format!(
                "SELECT d.id AS id, d.attempts AS attempts, e.uuid AS event_uuid,
                        e.kind AS kind, e.data AS data, e.created_ms AS created_ms,
                        n.uuid AS uuid, n.title AS title, n.event AS event,
                        n.method AS method, n.config AS config,
                        n.event_config AS event_config,
                        n.number_of_failures AS number_of_failures,
                        n.signing_secret AS signing_secret
                 FROM event_delivery d JOIN event e ON e.id = d.event_id
                 JOIN event_notification n ON n.id = d.notification_id
                 WHERE d.id IN ({}) ORDER BY d.due_ms, d.id",
                placeholders(1, ids.len())
            ),
            ids,
        ))
        .all(&txn)
        .await
        .or_storage()?;
        txn.commit().await.or_storage()?;
        rows.into_iter()
            .map(|row| {
                let corrupt = || StorageError::CorruptMetadata(format!("event {}", row.event_uuid));
                Ok(ClaimedDelivery {
                    id: row.id,
                    attempt: u32::try_from(row.attempts).map_err(|_| corrupt())?,
                    event: Event {
                        kind: EventKind::parse(&row.kind).ok_or_else(corrupt)?,
                        data: serde_json::from_str(&row.data).map_err(|_| corrupt())?,
                    },
                    created_ms: row.created_ms,
                    notification: row.notification.into_notification()?,
                    signing_secret: row.signing_secret,
                    event_id: row.event_uuid,
                })
            })
            .collect()
    }

    async fn finish_delivery(
        &self,
        delivery: &ClaimedDelivery,
        record: &AttemptRecord,
        policy: &RetryPolicy,
    ) -> quay_core::Result<Next> {
        let outcome = record.outcome();
        let txn = self.write_transaction().await.or_storage()?;
        txn.execute_raw(self.statement(
            "INSERT INTO event_delivery_attempt
                 (delivery_id, attempt, started_ms, duration_ms, status_code, error)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE EXISTS (SELECT 1 FROM event_delivery WHERE id = $1)",
            [
                delivery.id.into(),
                i64::from(delivery.attempt).into(),
                record.started_ms.into(),
                record.duration_ms.into(),
                record.status_code.map(i32::from).into(),
                record.error.clone().into(),
            ],
        ))
        .await
        .or_storage()?;
        let failures = match outcome {
            // A success sets the count to zero; most of the time it is zero already, and a
            // write that changes nothing is not made.
            Outcome::Delivered => {
                txn.execute_raw(self.statement(
                    "UPDATE event_notification SET number_of_failures = 0
                     WHERE uuid = $1 AND number_of_failures > 0",
                    [delivery.notification.uuid.as_str().into()],
                ))
                .await
                .or_storage()?;
                None
            }
            // The count as it is now, not as it was when the delivery was claimed:
            // deliveries of one notification finish concurrently.
            Outcome::Failed => {
                let failures = Failures::find_by_statement(self.statement(
                    "UPDATE event_notification SET number_of_failures = number_of_failures + 1
                     WHERE uuid = $1 RETURNING id, number_of_failures",
                    [delivery.notification.uuid.as_str().into()],
                ))
                .one(&txn)
                .await
                .or_storage()?;
                let Some(failures) = failures else {
                    // The notification was deleted meanwhile, and its deliveries with it.
                    txn.commit().await.or_storage()?;
                    return Ok(Next::GiveUp);
                };
                Some(failures)
            }
        };
        let now_failures = failures.as_ref().map_or(0, |failures| {
            u32::try_from(failures.number_of_failures).unwrap_or(u32::MAX)
        });
        let before = now_failures.saturating_sub(1);
        let after = policy.after_attempt(
            delivery.attempt,
            before,
            outcome,
            record.started_ms + record.duration_ms,
        );
        let (state, due_ms) = match after.next {
            Next::Done => (DELIVERED, record.started_ms),
            Next::RetryAt(at_ms) => (DUE, at_ms),
            Next::GiveUp => (GIVEN_UP, record.started_ms),
        };
        txn.execute_raw(self.statement(
            "UPDATE event_delivery SET state = $2, due_ms = $3 WHERE id = $1",
            [delivery.id.into(), state.into(), due_ms.into()],
        ))
        .await
        .or_storage()?;
        if let Some(failures) = failures
            && !quay_core::events::delivery::enabled(now_failures)
        {
            // Disabled until reset: what is queued for it is dropped, as Quay does.
            txn.execute_raw(self.statement(
                "UPDATE event_delivery SET state = $2 WHERE notification_id = $1 AND state = $3",
                [failures.id.into(), GIVEN_UP.into(), DUE.into()],
            ))
            .await
            .or_storage()?;
        }
        txn.commit().await.or_storage()?;
        Ok(after.next)
    }

    async fn emit_expiring_tags(&self, site: &Site, now_ms: i64) -> quay_core::Result<u32> {
        self.tell_expiring_tags(site, now_ms).await
    }
}

#[derive(FromQueryResult)]
struct HistoryRow {
    id: i64,
    state: String,
    event_uuid: String,
    kind: String,
    created_ms: i64,
}

#[derive(FromQueryResult)]
struct AttemptRow {
    delivery_id: i64,
    started_ms: i64,
    duration_ms: i64,
    status_code: Option<i32>,
    error: Option<String>,
}

impl SqlMetadata {
    /// The id of notification `uuid` in the scope, if there is one.
    async fn notification_id(
        &self,
        connection: &impl ConnectionTrait,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
    ) -> quay_core::Result<Option<i64>> {
        let (condition, scope_values) = scope(namespace, repository, 2);
        let values: Vec<Value> = std::iter::once(uuid.into()).chain(scope_values).collect();
        Ok(EventId::find_by_statement(self.statement(
            &format!("SELECT id FROM event_notification WHERE uuid = $1 AND {condition}"),
            values,
        ))
        .one(connection)
        .await
        .or_storage()?
        .map(|row| row.id))
    }

    /// [`EventNotificationStore::queue_for_notification`].
    pub(super) async fn queue_test(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        event: &Event,
        now_ms: i64,
    ) -> quay_core::Result<bool> {
        let txn = self.write_transaction().await.or_storage()?;
        let Some(notification) = self
            .notification_id(&txn, namespace, repository, uuid)
            .await?
        else {
            return Ok(false);
        };
        let source = match repository {
            Some(repository) => EventSource::Repository(repository),
            None => EventSource::Namespace(namespace),
        };
        self.write_event(&txn, source, event, &[notification], now_ms)
            .await?;
        txn.commit().await.or_storage()?;
        Ok(true)
    }

    /// [`EventNotificationStore::deliveries`].
    pub(super) async fn delivery_history(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        limit: u32,
    ) -> quay_core::Result<Option<Vec<DeliveryHistory>>> {
        let Some(notification) = self
            .notification_id(&self.db, namespace, repository, uuid)
            .await?
        else {
            return Ok(None);
        };
        let rows = HistoryRow::find_by_statement(self.statement(
            "SELECT d.id AS id, d.state AS state, e.uuid AS event_uuid, e.kind AS kind,
                    e.created_ms AS created_ms
             FROM event_delivery d JOIN event e ON e.id = d.event_id
             WHERE d.notification_id = $1 ORDER BY d.id DESC LIMIT $2",
            [notification.into(), i64::from(limit).into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        if rows.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let ids: Vec<Value> = rows.iter().map(|row| row.id.into()).collect();
        let attempts = AttemptRow::find_by_statement(self.statement(
            &format!(
                "SELECT delivery_id, started_ms, duration_ms, status_code, error
                 FROM event_delivery_attempt WHERE delivery_id IN ({}) ORDER BY id",
                placeholders(1, ids.len())
            ),
            ids,
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        let history = rows
            .into_iter()
            .map(|row| {
                let corrupt = || StorageError::CorruptMetadata(format!("delivery {}", row.id));
                Ok(DeliveryHistory {
                    id: row.id,
                    event: EventKind::parse(&row.kind).ok_or_else(corrupt)?,
                    state: DeliveryState::parse(&row.state).ok_or_else(corrupt)?,
                    created_ms: row.created_ms,
                    attempts: attempts
                        .iter()
                        .filter(|attempt| attempt.delivery_id == row.id)
                        .map(|attempt| AttemptRecord {
                            started_ms: attempt.started_ms,
                            duration_ms: attempt.duration_ms,
                            status_code: attempt
                                .status_code
                                .and_then(|code| u16::try_from(code).ok()),
                            error: attempt.error.clone(),
                        })
                        .collect(),
                    event_id: row.event_uuid,
                })
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
        Ok(Some(history))
    }

    /// [`EventNotificationStore::redeliver`].
    pub(super) async fn make_due_again(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        delivery: i64,
        now_ms: i64,
    ) -> quay_core::Result<bool> {
        let txn = self.write_transaction().await.or_storage()?;
        let Some(notification) = self
            .notification_id(&txn, namespace, repository, uuid)
            .await?
        else {
            return Ok(false);
        };
        let changed = txn
            .execute_raw(self.statement(
                "UPDATE event_delivery SET state = $3, due_ms = $4, attempts = 0
                 WHERE id = $1 AND notification_id = $2",
                [
                    delivery.into(),
                    notification.into(),
                    DUE.into(),
                    now_ms.into(),
                ],
            ))
            .await
            .or_storage()?
            .rows_affected();
        txn.commit().await.or_storage()?;
        Ok(changed == 1)
    }
}
