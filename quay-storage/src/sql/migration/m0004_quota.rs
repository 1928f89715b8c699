//! Storage quota: the sizes of namespaces and repositories, quotas with their limits, the
//! registry's total, and in-app notifications.
//!
//! Sizes are not computed here: namespaces that existed before have no size row, which is
//! what "waiting for the backfill" means, and the backfill computes them in the background
//! so that the migration stays quick on a large registry.
//!
//! A manifest's blob references learn their namespace: whether another manifest of the
//! namespace has a blob is then one probe of an index, however many namespaces share the
//! blob.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, boolean, integer, string, text,
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
            .alter_table(
                Table::alter()
                    .table(name("manifest_blob"))
                    .add_column(big_integer_null(name("namespace_id")))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE manifest_blob SET namespace_id =
                     (SELECT namespace_id FROM repository WHERE repository.id = manifest_blob.repository_id)",
            )
            .await?;
        manager
            .create_index(index(
                name("manifest_blob"),
                "manifest_blob_namespace_blob",
                &["namespace_id", "blob_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("quota_namespace_size"))
                    .col(big_integer(name("namespace_id")).primary_key())
                    .col(big_integer(name("size_bytes")).default(0))
                    .col(big_integer_null(name("backfill_start_ms")))
                    .col(boolean(name("backfill_complete")).default(false))
                    .foreign_key(&mut references(
                        "quota_namespace_size",
                        "namespace_id",
                        "namespace",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("quota_repository_size"))
                    .col(big_integer(name("repository_id")).primary_key())
                    .col(big_integer(name("size_bytes")).default(0))
                    .foreign_key(&mut references(
                        "quota_repository_size",
                        "repository_id",
                        "repository",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("quota"))
                    .col(big_pk_auto(name("id")))
                    .col(big_integer(name("namespace_id")).unique_key())
                    .col(big_integer(name("limit_bytes")))
                    .foreign_key(&mut references("quota", "namespace_id", "namespace"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("quota_limit"))
                    .col(big_pk_auto(name("id")))
                    .col(big_integer(name("quota_id")))
                    .col(string(name("kind")))
                    .col(integer(name("threshold_percent")))
                    .foreign_key(&mut references("quota_limit", "quota_id", "quota"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    name("quota_limit"),
                    "quota_limit_unique",
                    &["quota_id", "kind", "threshold_percent"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("quota_registry_size"))
                    .col(big_integer(name("id")).primary_key())
                    .col(big_integer(name("size_bytes")))
                    .col(big_integer(name("computed_ms")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("notification"))
                    .col(big_pk_auto(name("id")))
                    .col(string(name("uuid")).unique_key())
                    .col(big_integer(name("account_id")))
                    .col(string(name("kind")))
                    .col(big_integer_null(name("namespace_id")))
                    // What makes two notifications the same one, for deduplication.
                    .col(string(name("lookup")))
                    .col(text(name("metadata")))
                    .col(big_integer(name("created_ms")))
                    .col(boolean(name("dismissed")).default(false))
                    .foreign_key(&mut references("notification", "account_id", "account"))
                    .foreign_key(&mut references("notification", "namespace_id", "namespace"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                name("notification"),
                "notification_account_lookup",
                &["account_id", "lookup"],
            ))
            .await?;
        Ok(())
    }
}
