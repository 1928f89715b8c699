//! Proxy cache configurations: one per organization, its upstream credentials sealed under
//! the deployment's key.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, boolean, string, text_null,
};

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
                    .table(name("proxy_cache_config"))
                    .col(big_pk_auto(name("id")))
                    .col(big_integer(name("namespace_id")).unique_key())
                    .col(string(name("upstream_registry")))
                    // `{"username", "password"}`, sealed.
                    .col(text_null(name("credentials")))
                    // Seconds; null: cached tags never expire.
                    .col(big_integer_null(name("expiration_s")))
                    .col(boolean(name("insecure")))
                    .foreign_key(&mut references(
                        "proxy_cache_config",
                        "namespace_id",
                        "namespace",
                    ))
                    .to_owned(),
            )
            .await
    }
}
