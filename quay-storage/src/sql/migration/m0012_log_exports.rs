//! Usage-log exports: queued by the API, written by a worker on any node (which claims one
//! by moving `due_ms` past its lease), downloadable until `expires_ms`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, boolean, integer, string, string_null, text_null,
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
                    .table(name("log_export"))
                    .col(big_pk_auto(name("id")))
                    .col(string(name("uuid")).unique_key())
                    .col(big_integer_null(name("namespace_id")))
                    .col(big_integer_null(name("repository_id")))
                    .col(big_integer(name("from_ms")))
                    .col(big_integer(name("until_ms")))
                    .col(boolean(name("with_namespace")))
                    // The names the document's details show, as they were when asked.
                    .col(string_null(name("namespace_name")))
                    .col(string_null(name("repository_name")))
                    .col(text_null(name("callback_url")))
                    .col(string_null(name("callback_email")))
                    .col(string(name("token")))
                    // `due`, `done` or `failed`.
                    .col(string(name("state")))
                    .col(big_integer(name("due_ms")))
                    .col(integer(name("attempts")).default(0))
                    // The document's parts, JSON, once written.
                    .col(text_null(name("parts")))
                    .col(big_integer_null(name("expires_ms")))
                    .col(big_integer(name("created_ms")))
                    .foreign_key(&mut references("log_export", "namespace_id", "namespace"))
                    .foreign_key(&mut references("log_export", "repository_id", "repository"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                name("log_export"),
                "log_export_due",
                &["state", "due_ms"],
            ))
            .await
    }
}
