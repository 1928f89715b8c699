//! Which expiring tags each `repo_image_expiry` notification was told about: a tag is
//! notified once, however often the scan runs and on however many nodes. A notice goes with
//! its notification and with its tag's row (a tag pushed again is a new row, notified anew).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::big_integer;

use super::{index, name, references};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(name("tag_expiry_notice"))
                    .col(big_integer(name("notification_id")))
                    .col(big_integer(name("tag_id")))
                    .primary_key(
                        Index::create()
                            .col(name("notification_id"))
                            .col(name("tag_id")),
                    )
                    .foreign_key(&mut references(
                        "tag_expiry_notice",
                        "notification_id",
                        "event_notification",
                    ))
                    .foreign_key(&mut references("tag_expiry_notice", "tag_id", "tag"))
                    .to_owned(),
            )
            .await?;
        // A tag's row is deleted by the collector: its notices are found by the tag.
        manager
            .create_index(index(
                name("tag_expiry_notice"),
                "tag_expiry_notice_tag",
                &["tag_id"],
            ))
            .await
    }
}
