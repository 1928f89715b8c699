//! The time machine's window per namespace, auto-prune policies, and garbage collection's
//! bookkeeping: blobs that lost a reference and await a check, uploads of deleted
//! repositories, and blobs whose bytes are being deleted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, boolean, string, string_null, text,
};

use super::{foreign_key, index};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Namespace {
    Table,
    Id,
    TagExpirationS,
}

#[derive(DeriveIden)]
enum Tag {
    Table,
}

#[derive(DeriveIden)]
enum GcBlobCandidate {
    Table,
    Id,
    BlobId,
}

#[derive(DeriveIden)]
enum GcOrphanUpload {
    Table,
    Id,
    Parts,
}

#[derive(DeriveIden)]
enum AutoprunePolicy {
    Table,
    Id,
    Uuid,
    NamespaceId,
    RepositoryId,
    Method,
    Value,
    TagPattern,
    PatternMatches,
}

#[derive(DeriveIden)]
enum Repository {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum BlobDeletion {
    Table,
    Digest,
    StartedMs,
}

/// Quay's default window, two weeks (`DEFAULT_TAG_EXPIRATION`).
const DEFAULT_WINDOW_S: i64 = 14 * 86_400;

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
                    .table(Namespace::Table)
                    .add_column(big_integer(Namespace::TagExpirationS).default(DEFAULT_WINDOW_S))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                Namespace::Table,
                "namespace_tag_expiration",
                &["tag_expiration_s"],
            ))
            .await?;
        // Garbage collection looks for a repository's ended tags without reading its live ones.
        manager
            .create_index(index(
                Tag::Table,
                "tag_repository_end",
                &["repository_id", "lifetime_end_ms"],
            ))
            .await?;
        // Not a foreign key: the blob row may be gone by the time the candidate is checked.
        manager
            .create_table(
                Table::create()
                    .table(GcBlobCandidate::Table)
                    .col(big_pk_auto(GcBlobCandidate::Id))
                    .col(big_integer(GcBlobCandidate::BlobId))
                    .to_owned(),
            )
            .await?;
        // Uploads of deleted repositories, whose parts are still to be discarded.
        manager
            .create_table(
                Table::create()
                    .table(GcOrphanUpload::Table)
                    .col(string(GcOrphanUpload::Id).primary_key())
                    .col(text(GcOrphanUpload::Parts))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BlobDeletion::Table)
                    .col(string(BlobDeletion::Digest).primary_key())
                    .col(big_integer(BlobDeletion::StartedMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AutoprunePolicy::Table)
                    .col(big_pk_auto(AutoprunePolicy::Id))
                    .col(string(AutoprunePolicy::Uuid).unique_key())
                    .col(big_integer(AutoprunePolicy::NamespaceId))
                    .col(big_integer_null(AutoprunePolicy::RepositoryId))
                    .col(string(AutoprunePolicy::Method))
                    .col(text(AutoprunePolicy::Value))
                    .col(string_null(AutoprunePolicy::TagPattern))
                    .col(boolean(AutoprunePolicy::PatternMatches))
                    .foreign_key(&mut foreign_key(
                        (AutoprunePolicy::Table, AutoprunePolicy::NamespaceId),
                        (Namespace::Table, Namespace::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        (AutoprunePolicy::Table, AutoprunePolicy::RepositoryId),
                        (Repository::Table, Repository::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                AutoprunePolicy::Table,
                "autoprune_policy_namespace",
                &["namespace_id"],
            ))
            .await?;
        Ok(())
    }
}
