//! `repo_image_expiry`: the scan that tells each notification about the tags of its
//! repository that expire within its `days`, each tag once.

use quay_core::events::filter::TagFilter;
use quay_core::events::{Event, Site};
use quay_core::names::{RepositoryPath, TagName};
use sea_orm::FromQueryResult;

use super::SqlMetadata;
use super::event_notifications::NotificationRow;
use super::outbox::EventSource;
use crate::error::{OrStorage, StorageError};

/// An enabled `repo_image_expiry` notification and its repository.
#[derive(FromQueryResult)]
struct Watcher {
    id: i64,
    repository_id: i64,
    namespace: String,
    repository: String,
    #[sea_orm(nested)]
    notification: NotificationRow,
}

#[derive(FromQueryResult)]
struct ExpiringTag {
    id: i64,
    name: String,
}

impl SqlMetadata {
    /// [`quay_core::ports::EventOutbox::emit_expiring_tags`]: one transaction per
    /// notification, in which the tags it is told about are marked, so that two nodes
    /// scanning at once tell each tag once.
    pub(super) async fn tell_expiring_tags(
        &self,
        site: &Site,
        now_ms: i64,
    ) -> quay_core::Result<u32> {
        let watchers = Watcher::find_by_statement(self.statement(
            "SELECT n.id AS id, n.repository_id AS repository_id,
                        ns.name AS namespace, r.name AS repository,
                        n.uuid AS uuid, n.title AS title, n.event AS event,
                        n.method AS method, n.config AS config,
                        n.event_config AS event_config,
                        n.number_of_failures AS number_of_failures
                 FROM event_notification n JOIN repository r ON r.id = n.repository_id
                 JOIN namespace ns ON ns.id = r.namespace_id
                 WHERE n.event = $1 AND n.number_of_failures < $2",
            [
                "repo_image_expiry".into(),
                i64::from(quay_core::events::delivery::DISABLE_AT_FAILURES).into(),
            ],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        let mut events = 0;
        for watcher in watchers {
            let corrupt = || StorageError::CorruptMetadata(format!("notification {}", watcher.id));
            let notification = watcher.notification.into_notification()?;
            let days = notification.expiry_days().map_err(|_| corrupt())?;
            let filter = TagFilter::of_config(&notification.event_config).map_err(|_| corrupt())?;
            let path =
                RepositoryPath::parse(&format!("{}/{}", watcher.namespace, watcher.repository))
                    .map_err(|_| corrupt())?;
            let txn = self.write_transaction().await.or_storage()?;
            let expiring = ExpiringTag::find_by_statement(self.statement(
                "SELECT t.id AS id, t.name AS name FROM tag t
                 WHERE t.repository_id = $1 AND NOT t.hidden
                       AND t.lifetime_end_ms > $2 AND t.lifetime_end_ms <= $3
                       AND NOT EXISTS (SELECT 1 FROM tag_expiry_notice x
                                       WHERE x.notification_id = $4 AND x.tag_id = t.id)
                 ORDER BY t.name",
                [
                    watcher.repository_id.into(),
                    now_ms.into(),
                    now_ms.saturating_add(i64::from(days) * 86_400_000).into(),
                    watcher.id.into(),
                ],
            ))
            .all(&txn)
            .await
            .or_storage()?;
            let mut tags = Vec::new();
            for tag in expiring {
                if filter
                    .as_ref()
                    .is_some_and(|filter| !filter.passes([tag.name.as_str()]))
                {
                    continue;
                }
                // Another node's scan may have told it since this one looked.
                let marked = self
                    .execute(
                        &txn,
                        "INSERT INTO tag_expiry_notice (notification_id, tag_id) VALUES ($1, $2)
                         ON CONFLICT DO NOTHING",
                        [watcher.id.into(), tag.id.into()],
                    )
                    .await?;
                if marked == 1 {
                    tags.push(TagName::parse(&tag.name).map_err(|_| corrupt())?);
                }
            }
            if !tags.is_empty() {
                let event = Event::repo_image_expiry(site, &path, &tags, days);
                self.write_event(
                    &txn,
                    EventSource::Repository(watcher.repository_id),
                    &event,
                    &[watcher.id],
                    now_ms,
                )
                .await?;
                events += 1;
            }
            txn.commit().await.or_storage()?;
        }
        Ok(events)
    }
}
