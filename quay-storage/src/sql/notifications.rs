//! In-app notifications in the database: what users are told (a quota reached, and the
//! events of `quay_notification` notifications).

use async_trait::async_trait;
use quay_core::account::{AccountId, NamespaceId};
use quay_core::events::method::Target;
use quay_core::names::Namespace;
use quay_core::ports::{ClaimedDelivery, InAppNotices, Notification, NotificationStore};
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::SqlMetadata;
use crate::error::{OrStorage, StorageError};

/// Something to tell users in the app.
pub(super) struct Notice<'a> {
    /// What it is about: an event's name.
    pub(super) kind: &'a str,
    /// The namespace it concerns.
    pub(super) namespace: NamespaceId,
    /// What makes two notices the same one: a user is told once until they dismiss it.
    pub(super) lookup: &'a str,
    /// Its details, JSON.
    pub(super) metadata: &'a str,
}

impl SqlMetadata {
    /// Tells each of `accounts` about `notice`, unless it waits undismissed for them; how
    /// many were newly told.
    pub(super) async fn tell(
        &self,
        conn: &impl ConnectionTrait,
        accounts: &[AccountId],
        notice: &Notice<'_>,
        now_ms: i64,
    ) -> quay_core::Result<u64> {
        let mut told = 0;
        for account in accounts {
            told += self
                .execute(
                    conn,
                    "INSERT INTO notification
                         (uuid, account_id, kind, namespace_id, lookup, metadata, created_ms, dismissed)
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8
                     WHERE NOT EXISTS (SELECT 1 FROM notification
                                       WHERE account_id = $2 AND lookup = $5 AND NOT dismissed)",
                    [
                        uuid::Uuid::new_v4().to_string().into(),
                        (*account).into(),
                        notice.kind.into(),
                        notice.namespace.into(),
                        notice.lookup.into(),
                        notice.metadata.into(),
                        now_ms.into(),
                        false.into(),
                    ],
                )
                .await?;
        }
        Ok(told)
    }

    /// A namespace's admins: the user, or the members of the organization's admin teams.
    pub(super) async fn namespace_admins(
        &self,
        conn: &impl ConnectionTrait,
        namespace: NamespaceId,
    ) -> quay_core::Result<Vec<AccountId>> {
        self.ids(
            conn,
            "SELECT a.id AS id FROM account a WHERE a.namespace_id = $1 AND a.kind = 'user'
             UNION
             SELECT tm.account_id AS id FROM team_member tm JOIN team t ON t.id = tm.team_id
             WHERE t.namespace_id = $1 AND t.role = 'admin'",
            [namespace.into()],
        )
        .await
    }
}

#[async_trait]
impl InAppNotices for SqlMetadata {
    async fn notify_in_app(
        &self,
        target: &Target,
        namespace: &Namespace,
        delivery: &ClaimedDelivery,
        now_ms: i64,
    ) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        let namespace_id = self
            .ids(
                &txn,
                "SELECT id FROM namespace WHERE name = $1",
                [namespace.as_str().into()],
            )
            .await?
            .first()
            .copied()
            .ok_or_else(|| quay_core::Error::NotFound {
                what: "namespace",
                name: namespace.as_str().into(),
            })?;
        let (accounts, what, name) = match target {
            Target::User(name) => (
                self.ids(
                    &txn,
                    "SELECT id FROM account WHERE name = $1 AND kind = 'user'",
                    [name.as_str().into()],
                )
                .await?,
                "user",
                name,
            ),
            Target::Organization(name) => (
                self.namespace_admins(&txn, namespace_id).await?,
                "organization",
                name,
            ),
            Target::Team(name) => (
                self.ids(
                    &txn,
                    "SELECT tm.account_id AS id FROM team_member tm
                     JOIN team t ON t.id = tm.team_id
                     JOIN account a ON a.id = tm.account_id AND a.kind = 'user'
                     WHERE t.namespace_id = $1 AND t.name = $2",
                    [namespace_id.into(), name.as_str().into()],
                )
                .await?,
                "team",
                name,
            ),
        };
        if accounts.is_empty() {
            return Err(quay_core::Error::NotFound {
                what,
                name: name.clone(),
            });
        }
        let notice = Notice {
            kind: delivery.event.kind.name(),
            namespace: namespace_id,
            lookup: &format!("event:{}", delivery.event_id),
            metadata: &delivery.event.data.to_string(),
        };
        self.tell(&txn, &accounts, &notice, now_ms).await?;
        txn.commit().await.or_storage()
    }
}

#[derive(FromQueryResult)]
struct NotificationRow {
    uuid: String,
    kind: String,
    organization: Option<String>,
    metadata: String,
    created_ms: i64,
    dismissed: bool,
}

#[async_trait]
impl NotificationStore for SqlMetadata {
    async fn notifications(&self, account: AccountId) -> quay_core::Result<Vec<Notification>> {
        let rows = NotificationRow::find_by_statement(self.statement(
            "SELECT n.uuid AS uuid, n.kind AS kind,
                    CASE WHEN ns.kind = 'org' THEN ns.name END AS organization,
                    n.metadata AS metadata, n.created_ms AS created_ms, n.dismissed AS dismissed
             FROM notification n LEFT JOIN namespace ns ON ns.id = n.namespace_id
             WHERE n.account_id = $1 ORDER BY n.id DESC",
            [account.into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| {
                Ok(Notification {
                    metadata: serde_json::from_str(&row.metadata).map_err(|_| {
                        StorageError::CorruptMetadata(format!("notification {}", row.uuid))
                    })?,
                    uuid: row.uuid,
                    kind: row.kind,
                    organization: row.organization,
                    created_ms: row.created_ms,
                    dismissed: row.dismissed,
                })
            })
            .collect()
    }

    async fn dismiss_notification(
        &self,
        account: AccountId,
        uuid: &str,
        dismissed: bool,
    ) -> quay_core::Result<bool> {
        let changed = self
            .execute(
                &self.db,
                "UPDATE notification SET dismissed = $3 WHERE account_id = $1 AND uuid = $2",
                [account.into(), uuid.into(), dismissed.into()],
            )
            .await?;
        Ok(changed > 0)
    }
}
