//! A webhook notification's signing key, sealed under the deployment's key: the registry
//! signs every request it sends with it (Standard Webhooks).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;

use super::name;

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
            .alter_table(
                Table::alter()
                    .table(name("event_notification"))
                    .add_column(text_null(name("signing_secret")))
                    .to_owned(),
            )
            .await
    }
}
