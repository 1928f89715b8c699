//! Geo-replication: which storage locations hold each blob (Quay's `ImageStoragePlacement`),
//! and the blobs waiting to be copied to the default locations (Quay's
//! `imagestoragereplication` queue).
//!
//! Both follow their blob: when the collector deletes a blob's row, its placements and its
//! place in the queue go with it, in the same transaction.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, string};

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
                    .table(name("blob_placement"))
                    .col(big_integer(name("blob_id")))
                    .col(string(name("location")))
                    .primary_key(Index::create().col(name("blob_id")).col(name("location")))
                    .foreign_key(&mut references("blob_placement", "blob_id", "blob"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("blob_replication"))
                    .col(big_integer(name("blob_id")).primary_key())
                    .col(string(name("digest")))
                    // When a replicator may take it next: now, or when a claim lapses or a
                    // retry is due.
                    .col(big_integer(name("available_ms")))
                    .col(integer(name("attempts")).default(0))
                    .foreign_key(&mut references("blob_replication", "blob_id", "blob"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                name("blob_replication"),
                "blob_replication_available",
                &["available_ms"],
            ))
            .await
    }
}
