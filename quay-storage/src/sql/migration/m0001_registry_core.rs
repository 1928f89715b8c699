//! Namespaces, repositories, blobs, uploads, manifests and tags with their history.

use sea_orm_migration::prelude::*;

use super::{foreign_key, index};
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, binary, boolean, string, string_null, text,
};

/// The schema of the registry core.
#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Namespace {
    Table,
    Id,
    Name,
    CreatedMs,
}

#[derive(DeriveIden)]
enum Repository {
    Table,
    Id,
    NamespaceId,
    Name,
    Visibility,
    CreatedMs,
}

#[derive(DeriveIden)]
enum Blob {
    Table,
    Id,
    Digest,
    Size,
    CreatedMs,
}

#[derive(DeriveIden)]
enum BlobLink {
    Table,
    Id,
    RepositoryId,
    BlobId,
    CreatedMs,
    ExpiresMs,
}

#[derive(DeriveIden)]
enum BlobUpload {
    Table,
    Id,
    RepositoryId,
    Size,
    HashState,
    Parts,
    CreatedMs,
    UpdatedMs,
}

#[derive(DeriveIden)]
enum Manifest {
    Table,
    Id,
    RepositoryId,
    Digest,
    MediaType,
    Bytes,
    ConfigMediaType,
    ArtifactType,
    Subject,
    LayersSize,
    CreatedMs,
}

#[derive(DeriveIden)]
enum ManifestBlob {
    Table,
    Id,
    RepositoryId,
    ManifestId,
    BlobId,
}

#[derive(DeriveIden)]
enum ManifestChild {
    Table,
    Id,
    RepositoryId,
    ManifestId,
    ChildManifestId,
}

#[derive(DeriveIden)]
enum ManifestLabel {
    Table,
    Id,
    ManifestId,
    Key,
    Value,
    Source,
}

#[derive(DeriveIden)]
enum Tag {
    Table,
    Id,
    RepositoryId,
    Name,
    ManifestId,
    LifetimeStartMs,
    LifetimeEndMs,
    Hidden,
    Reversion,
    Immutable,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    // The trait elides the lifetime, and `async_trait` needs the impl to match it exactly.
    #[allow(elided_lifetimes_in_paths)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Namespace::Table)
                    .col(big_pk_auto(Namespace::Id))
                    .col(string(Namespace::Name).unique_key())
                    .col(big_integer(Namespace::CreatedMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Repository::Table)
                    .col(big_pk_auto(Repository::Id))
                    .col(big_integer(Repository::NamespaceId))
                    .col(string(Repository::Name))
                    .col(string(Repository::Visibility).default("private"))
                    .col(big_integer(Repository::CreatedMs))
                    .foreign_key(&mut foreign_key(
                        (Repository::Table, Repository::NamespaceId),
                        (Namespace::Table, Namespace::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    Repository::Table,
                    "repository_path",
                    &["namespace_id", "name"],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Blob::Table)
                    .col(big_pk_auto(Blob::Id))
                    .col(string(Blob::Digest).unique_key())
                    .col(big_integer(Blob::Size))
                    .col(big_integer(Blob::CreatedMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BlobLink::Table)
                    .col(big_pk_auto(BlobLink::Id))
                    .col(big_integer(BlobLink::RepositoryId))
                    .col(big_integer(BlobLink::BlobId))
                    .col(big_integer(BlobLink::CreatedMs))
                    .col(big_integer(BlobLink::ExpiresMs))
                    .foreign_key(&mut foreign_key(
                        (BlobLink::Table, BlobLink::RepositoryId),
                        (Repository::Table, Repository::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        (BlobLink::Table, BlobLink::BlobId),
                        (Blob::Table, Blob::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    BlobLink::Table,
                    "blob_link_repository_blob",
                    &["repository_id", "blob_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(BlobLink::Table, "blob_link_blob", &["blob_id"]))
            .await?;
        manager
            .create_index(index(BlobLink::Table, "blob_link_expires", &["expires_ms"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BlobUpload::Table)
                    .col(string(BlobUpload::Id).primary_key())
                    .col(big_integer(BlobUpload::RepositoryId))
                    .col(big_integer(BlobUpload::Size))
                    .col(binary(BlobUpload::HashState))
                    .col(text(BlobUpload::Parts))
                    .col(big_integer(BlobUpload::CreatedMs))
                    .col(big_integer(BlobUpload::UpdatedMs))
                    .foreign_key(&mut foreign_key(
                        (BlobUpload::Table, BlobUpload::RepositoryId),
                        (Repository::Table, Repository::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                BlobUpload::Table,
                "blob_upload_updated",
                &["updated_ms"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Manifest::Table)
                    .col(big_pk_auto(Manifest::Id))
                    .col(big_integer(Manifest::RepositoryId))
                    .col(string(Manifest::Digest))
                    .col(string(Manifest::MediaType))
                    .col(binary(Manifest::Bytes))
                    .col(string_null(Manifest::ConfigMediaType))
                    .col(string_null(Manifest::ArtifactType))
                    .col(string_null(Manifest::Subject))
                    .col(big_integer(Manifest::LayersSize))
                    .col(big_integer(Manifest::CreatedMs))
                    .foreign_key(&mut foreign_key(
                        (Manifest::Table, Manifest::RepositoryId),
                        (Repository::Table, Repository::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    Manifest::Table,
                    "manifest_repository_digest",
                    &["repository_id", "digest"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                Manifest::Table,
                "manifest_repository_subject",
                &["repository_id", "subject"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ManifestBlob::Table)
                    .col(big_pk_auto(ManifestBlob::Id))
                    .col(big_integer(ManifestBlob::RepositoryId))
                    .col(big_integer(ManifestBlob::ManifestId))
                    .col(big_integer(ManifestBlob::BlobId))
                    .foreign_key(&mut foreign_key(
                        (ManifestBlob::Table, ManifestBlob::ManifestId),
                        (Manifest::Table, Manifest::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        (ManifestBlob::Table, ManifestBlob::BlobId),
                        (Blob::Table, Blob::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    ManifestBlob::Table,
                    "manifest_blob_manifest_blob",
                    &["manifest_id", "blob_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                ManifestBlob::Table,
                "manifest_blob_repository_blob",
                &["repository_id", "blob_id"],
            ))
            .await?;
        manager
            .create_index(index(
                ManifestBlob::Table,
                "manifest_blob_blob",
                &["blob_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ManifestChild::Table)
                    .col(big_pk_auto(ManifestChild::Id))
                    .col(big_integer(ManifestChild::RepositoryId))
                    .col(big_integer(ManifestChild::ManifestId))
                    .col(big_integer(ManifestChild::ChildManifestId))
                    .foreign_key(&mut foreign_key(
                        (ManifestChild::Table, ManifestChild::ManifestId),
                        (Manifest::Table, Manifest::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        (ManifestChild::Table, ManifestChild::ChildManifestId),
                        (Manifest::Table, Manifest::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    ManifestChild::Table,
                    "manifest_child_manifest_child",
                    &["manifest_id", "child_manifest_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                ManifestChild::Table,
                "manifest_child_child",
                &["child_manifest_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ManifestLabel::Table)
                    .col(big_pk_auto(ManifestLabel::Id))
                    .col(big_integer(ManifestLabel::ManifestId))
                    .col(string(ManifestLabel::Key))
                    .col(text(ManifestLabel::Value))
                    .col(string(ManifestLabel::Source))
                    .foreign_key(&mut foreign_key(
                        (ManifestLabel::Table, ManifestLabel::ManifestId),
                        (Manifest::Table, Manifest::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                ManifestLabel::Table,
                "manifest_label_manifest",
                &["manifest_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tag::Table)
                    .col(big_pk_auto(Tag::Id))
                    .col(big_integer(Tag::RepositoryId))
                    .col(string(Tag::Name))
                    .col(big_integer(Tag::ManifestId))
                    .col(big_integer(Tag::LifetimeStartMs))
                    .col(big_integer_null(Tag::LifetimeEndMs))
                    .col(boolean(Tag::Hidden).default(false))
                    .col(boolean(Tag::Reversion).default(false))
                    .col(boolean(Tag::Immutable).default(false))
                    .foreign_key(&mut foreign_key(
                        (Tag::Table, Tag::RepositoryId),
                        (Repository::Table, Repository::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        (Tag::Table, Tag::ManifestId),
                        (Manifest::Table, Manifest::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                Tag::Table,
                "tag_repository_name",
                &["repository_id", "name"],
            ))
            .await?;
        // At most one row of a tag is open-ended: a partial unique index, in the same syntax
        // on both databases.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX tag_open_row ON tag (repository_id, name) \
                 WHERE lifetime_end_ms IS NULL",
            )
            .await?;
        manager
            .create_index(index(Tag::Table, "tag_manifest", &["manifest_id"]))
            .await?;
        manager
            .create_index(index(Tag::Table, "tag_lifetime_end", &["lifetime_end_ms"]))
            .await?;
        Ok(())
    }
}
