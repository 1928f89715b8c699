//! Tenancy: users and robots (`account`), organizations (namespaces of kind `org`), teams,
//! repository and default permissions, stored credentials, the token signing key, and the
//! usage log.
//!
//! Secrets are never stored: passwords as argon2 hashes, tokens as a lookup part plus the
//! hash of their secret part.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, binary, boolean, string, string_null, text,
    text_null,
};

use super::{index, name, references};

/// The schema of accounts, permissions, credentials and the usage log.
#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    // The trait elides the lifetime, and `async_trait` needs the impl to match it exactly.
    #[allow(elided_lifetimes_in_paths)]
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Namespaces become users' or organizations'; those created by pushes before
        // accounts existed are organizations without members (superusers administer them).
        for column in [
            string(name("kind")).default("org").to_owned(),
            boolean(name("enabled")).default(true).to_owned(),
            string_null(name("email")).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(name("namespace"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(name("repository"))
                    .add_column(text_null(name("description")))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            // Listings page by name: compare names by bytes, as SQLite does.
            for (table, column) in [
                ("namespace", "name"),
                ("repository", "name"),
                ("tag", "name"),
            ] {
                manager
                    .get_connection()
                    .execute_unprepared(&format!(
                        "ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar COLLATE \"C\""
                    ))
                    .await?;
            }
        }

        manager
            .create_table(
                Table::create()
                    .table(name("account"))
                    .col(big_pk_auto(name("id")))
                    .col(string(name("kind")))
                    .col(string(name("name")).unique_key())
                    .col(big_integer(name("namespace_id")))
                    .col(string_null(name("email")))
                    .col(string(name("secret_hash")))
                    .col(boolean(name("enabled")).default(true))
                    .col(boolean(name("superuser")).default(false))
                    .col(string_null(name("description")))
                    .col(text_null(name("metadata")))
                    .col(big_integer(name("created_ms")))
                    .foreign_key(&mut references("account", "namespace_id", "namespace"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                name("account"),
                "account_namespace",
                &["namespace_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(name("team"))
                    .col(big_pk_auto(name("id")))
                    .col(big_integer(name("namespace_id")))
                    .col(string(name("name")))
                    .col(string(name("role")))
                    .col(text(name("description")).default(""))
                    .col(big_integer(name("created_ms")))
                    .foreign_key(&mut references("team", "namespace_id", "namespace"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    name("team"),
                    "team_namespace_name",
                    &["namespace_id", "name"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("team_member"))
                    .col(big_pk_auto(name("id")))
                    .col(big_integer(name("team_id")))
                    .col(big_integer(name("account_id")))
                    .foreign_key(&mut references("team_member", "team_id", "team"))
                    .foreign_key(&mut references("team_member", "account_id", "account"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    name("team_member"),
                    "team_member_team_account",
                    &["team_id", "account_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                name("team_member"),
                "team_member_account",
                &["account_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(name("repository_permission"))
                    .col(big_pk_auto(name("id")))
                    .col(big_integer(name("repository_id")))
                    .col(big_integer_null(name("account_id")))
                    .col(big_integer_null(name("team_id")))
                    .col(string(name("role")))
                    .foreign_key(&mut references(
                        "repository_permission",
                        "repository_id",
                        "repository",
                    ))
                    .foreign_key(&mut references(
                        "repository_permission",
                        "account_id",
                        "account",
                    ))
                    .foreign_key(&mut references("repository_permission", "team_id", "team"))
                    .to_owned(),
            )
            .await?;
        for (index_name, column) in [
            ("repository_permission_account", "account_id"),
            ("repository_permission_team", "team_id"),
        ] {
            manager
                .create_index(
                    index(
                        name("repository_permission"),
                        index_name,
                        &["repository_id", column],
                    )
                    .unique()
                    .to_owned(),
                )
                .await?;
            manager
                .create_index(index(
                    name("repository_permission"),
                    &format!("{index_name}_only"),
                    &[column],
                ))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(name("permission_prototype"))
                    .col(big_pk_auto(name("id")))
                    .col(big_integer(name("namespace_id")))
                    .col(string(name("uuid")).unique_key())
                    .col(big_integer_null(name("activating_account_id")))
                    .col(big_integer_null(name("delegate_account_id")))
                    .col(big_integer_null(name("delegate_team_id")))
                    .col(string(name("role")))
                    .foreign_key(&mut references(
                        "permission_prototype",
                        "namespace_id",
                        "namespace",
                    ))
                    .foreign_key(&mut references(
                        "permission_prototype",
                        "activating_account_id",
                        "account",
                    ))
                    .foreign_key(&mut references(
                        "permission_prototype",
                        "delegate_account_id",
                        "account",
                    ))
                    .foreign_key(&mut references(
                        "permission_prototype",
                        "delegate_team_id",
                        "team",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                name("permission_prototype"),
                "permission_prototype_namespace",
                &["namespace_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(name("oauth_application"))
                    .col(big_pk_auto(name("id")))
                    .col(big_integer(name("namespace_id")))
                    .col(string(name("client_id")).unique_key())
                    .col(string(name("client_secret_hash")))
                    .col(string(name("name")))
                    .col(text(name("redirect_uri")))
                    .col(text(name("application_uri")))
                    .col(text(name("description")))
                    .foreign_key(&mut references(
                        "oauth_application",
                        "namespace_id",
                        "namespace",
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(name("credential_token"))
                    .col(big_pk_auto(name("id")))
                    .col(string(name("kind")))
                    .col(string(name("uuid")).unique_key())
                    .col(big_integer(name("account_id")))
                    .col(string(name("lookup")))
                    .col(string(name("secret_hash")))
                    .col(text(name("detail")))
                    .col(string_null(name("application")))
                    .col(big_integer(name("created_ms")))
                    .col(big_integer_null(name("expires_ms")))
                    .col(big_integer_null(name("last_used_ms")))
                    .foreign_key(&mut references("credential_token", "account_id", "account"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    name("credential_token"),
                    "credential_token_lookup",
                    &["kind", "lookup"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                name("credential_token"),
                "credential_token_account",
                &["account_id", "kind"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(name("signing_key"))
                    .col(big_pk_auto(name("id")))
                    .col(string(name("purpose")).unique_key())
                    .col(string(name("kid")))
                    .col(binary(name("pkcs8")))
                    .col(big_integer(name("created_ms")))
                    .to_owned(),
            )
            .await?;

        // The usage log outlives what it names: no foreign keys.
        manager
            .create_table(
                Table::create()
                    .table(name("log_entry"))
                    .col(big_pk_auto(name("id")))
                    .col(string(name("kind")))
                    .col(big_integer_null(name("namespace_id")))
                    .col(big_integer_null(name("performer_id")))
                    .col(big_integer_null(name("repository_id")))
                    .col(string_null(name("ip")))
                    .col(text(name("metadata")))
                    .col(big_integer(name("at_ms")))
                    .to_owned(),
            )
            .await?;
        for (index_name, column) in [
            ("log_entry_namespace", "namespace_id"),
            ("log_entry_repository", "repository_id"),
            ("log_entry_performer", "performer_id"),
        ] {
            manager
                .create_index(index(name("log_entry"), index_name, &[column, "at_ms"]))
                .await?;
        }
        manager
            .create_index(index(name("log_entry"), "log_entry_at", &["at_ms"]))
            .await?;
        Ok(())
    }
}
