//! Notifications in the database: what users are told (a quota reached).

use async_trait::async_trait;
use quay_core::account::AccountId;
use quay_core::ports::{Notification, NotificationStore};
use sea_orm::FromQueryResult;

use super::SqlMetadata;
use crate::error::{OrStorage, StorageError};

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
