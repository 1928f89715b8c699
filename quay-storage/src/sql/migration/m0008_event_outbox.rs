//! The outbox of events: an event is written in the transaction of the change that caused
//! it, with one delivery per notification that wants it, so that an event exists exactly
//! when its change committed and no delivery is lost when a node dies.
//!
//! A delivery is `due` until it is delivered or given up. A worker claims it by moving
//! `due_ms` past the lease it needs, so that a worker that dies leaves it due again when the
//! lease lapses; each attempt is kept, for the delivery history.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, integer, integer_null, string, text, text_null,
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
                    .table(name("event"))
                    .col(big_pk_auto(name("id")))
                    .col(string(name("uuid")).unique_key())
                    .col(string(name("kind")))
                    .col(big_integer(name("namespace_id")))
                    .col(big_integer_null(name("repository_id")))
                    .col(text(name("data")))
                    .col(big_integer(name("created_ms")))
                    .foreign_key(&mut references("event", "namespace_id", "namespace"))
                    .foreign_key(&mut references("event", "repository_id", "repository"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("event_delivery"))
                    .col(big_pk_auto(name("id")))
                    .col(big_integer(name("event_id")))
                    .col(big_integer(name("notification_id")))
                    // `due`, `delivered` or `given_up`.
                    .col(string(name("state")))
                    .col(integer(name("attempts")).default(0))
                    // When a worker may take it: now, when a retry is due, or when a claim
                    // lapses.
                    .col(big_integer(name("due_ms")))
                    .foreign_key(&mut references("event_delivery", "event_id", "event"))
                    .foreign_key(&mut references(
                        "event_delivery",
                        "notification_id",
                        "event_notification",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                name("event_delivery"),
                "event_delivery_due",
                &["state", "due_ms"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(name("event_delivery_attempt"))
                    .col(big_pk_auto(name("id")))
                    .col(big_integer(name("delivery_id")))
                    .col(integer(name("attempt")))
                    .col(big_integer(name("started_ms")))
                    .col(big_integer(name("duration_ms")))
                    .col(integer_null(name("status_code")))
                    .col(text_null(name("error")))
                    .foreign_key(&mut references(
                        "event_delivery_attempt",
                        "delivery_id",
                        "event_delivery",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                name("event_delivery_attempt"),
                "event_delivery_attempt_delivery",
                &["delivery_id"],
            ))
            .await
    }
}
