//! Addresses asked to receive a repository's e-mail notifications, and whether their owners
//! confirmed (Quay's `RepositoryAuthorizedEmail`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_pk_auto, boolean, string};

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
                    .table(name("authorized_email"))
                    .col(big_pk_auto(name("id")))
                    .col(big_integer(name("repository_id")))
                    .col(string(name("email")))
                    // What the confirmation link carries.
                    .col(string(name("code")).unique_key())
                    .col(boolean(name("confirmed")).default(false))
                    .foreign_key(&mut references(
                        "authorized_email",
                        "repository_id",
                        "repository",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("authorized_email_address")
                    .table(name("authorized_email"))
                    .col(name("repository_id"))
                    .col(name("email"))
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
