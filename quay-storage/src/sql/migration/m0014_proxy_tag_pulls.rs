//! When each tag of a proxy cache organization was last pulled: the order in which an
//! organization over its quota evicts tags (the least recently pulled first). Kept by tag
//! name, since a tag's renewal opens a new row; it goes with its repository.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string};

use super::{name, references};

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
                    .table(name("proxy_tag_pull"))
                    .col(big_integer(name("repository_id")))
                    .col(string(name("name")))
                    .col(big_integer(name("pulled_ms")))
                    .primary_key(Index::create().col(name("repository_id")).col(name("name")))
                    .foreign_key(&mut references(
                        "proxy_tag_pull",
                        "repository_id",
                        "repository",
                    ))
                    .to_owned(),
            )
            .await
    }
}
