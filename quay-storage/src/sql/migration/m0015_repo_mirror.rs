//! Repository mirrors: a repository's state (`NORMAL`, `READ_ONLY`, `MIRROR`), and one mirror
//! configuration per mirrored repository with the schedule its syncs are claimed from.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, integer, string, string_null, text, text_null,
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
                    .table(name("repository"))
                    .add_column(string(name("state")).default("NORMAL"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("repo_mirror"))
                    .col(big_integer(name("repository_id")).primary_key())
                    .col(boolean(name("is_enabled")))
                    // `host[:port]/path`.
                    .col(string(name("external_reference")))
                    .col(string_null(name("username")))
                    // `{"username", "password"}`, sealed.
                    .col(text_null(name("credentials")))
                    // The robot's account; checked when a sync runs (a robot may be deleted).
                    .col(big_integer(name("robot_id")))
                    // JSON: the tag globs.
                    .col(text(name("tag_patterns")))
                    .col(big_integer(name("sync_interval_s")))
                    .col(boolean(name("verify_tls")))
                    .col(boolean(name("unsigned_images")))
                    // JSON: `{"http_proxy", "https_proxy", "no_proxy"}`.
                    .col(text(name("proxy")))
                    .col(big_integer(name("timeout_s")))
                    // JSON: `["linux/amd64", ...]`.
                    .col(text(name("platforms")))
                    .col(boolean(name("remove_stale_tags")))
                    .col(boolean(name("copy_referrers")))
                    // The schedule: Quay's numbers for the status.
                    .col(integer(name("sync_status")))
                    .col(big_integer_null(name("sync_start_ms")))
                    .col(big_integer_null(name("sync_expiration_ms")))
                    .col(integer(name("sync_retries_remaining")))
                    // The token of the node holding the sync.
                    .col(string(name("sync_transaction_id")))
                    // JSON: the last sync's report.
                    .col(text_null(name("last_sync")))
                    .col(big_integer(name("created_ms")))
                    .foreign_key(&mut references(
                        "repo_mirror",
                        "repository_id",
                        "repository",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                name("repo_mirror"),
                "repo_mirror_due",
                &["sync_status", "sync_start_ms"],
            ))
            .await
    }
}
