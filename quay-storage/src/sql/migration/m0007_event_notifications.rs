//! Event notifications of repositories and namespaces (Quay's `RepositoryNotification`): what
//! event, delivered how, and how many deliveries failed since the last success or reset.
//! They go with their namespace or repository.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, integer, string, string_null, text,
};

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
                    .table(name("event_notification"))
                    .col(big_pk_auto(name("id")))
                    .col(string(name("uuid")).unique_key())
                    .col(big_integer(name("namespace_id")))
                    .col(big_integer_null(name("repository_id")))
                    .col(string(name("event")))
                    .col(string(name("method")))
                    .col(text(name("config")))
                    .col(text(name("event_config")))
                    .col(string_null(name("title")))
                    .col(integer(name("number_of_failures")).default(0))
                    .col(big_integer(name("created_ms")))
                    .foreign_key(&mut references(
                        "event_notification",
                        "namespace_id",
                        "namespace",
                    ))
                    .foreign_key(&mut references(
                        "event_notification",
                        "repository_id",
                        "repository",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                name("event_notification"),
                "event_notification_scope",
                &["namespace_id", "repository_id"],
            ))
            .await
    }
}
