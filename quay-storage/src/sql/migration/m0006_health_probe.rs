//! A row that health checks write, so that a database that can no longer write (a full
//! disk, a read-only replica) is reported before a client's write fails on it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer};

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
            .create_table(
                Table::create()
                    .table(name("health_probe"))
                    .col(integer(name("id")).primary_key())
                    .col(big_integer(name("at_ms")))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(name("health_probe"))
                    .columns([name("id"), name("at_ms")])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await
    }
}
