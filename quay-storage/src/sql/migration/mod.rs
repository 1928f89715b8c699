//! Schema migrations, applied on start. The same migrations build the schema on SQLite and
//! PostgreSQL; each one is a transaction, so a failed start leaves the previous schema.
//!
//! Add a migration for every change; never edit one that has shipped. A migration's name is
//! its module's name.

mod m0001_registry_core;
mod m0002_accounts;
mod m0003_time_machine;
mod m0004_quota;
mod m0005_replication;
mod m0006_health_probe;
mod m0007_event_notifications;
mod m0008_event_outbox;
mod m0009_signing_secrets;
mod m0010_tag_expiry_notices;
mod m0011_authorized_emails;
mod m0012_log_exports;
mod m0013_proxy_cache;
mod m0014_proxy_tag_pulls;
mod m0015_repo_mirror;

use sea_orm_migration::prelude::*;

/// The registry's migrations, in order.
pub(crate) struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_registry_core::Migration),
            Box::new(m0002_accounts::Migration),
            Box::new(m0003_time_machine::Migration),
            Box::new(m0004_quota::Migration),
            Box::new(m0005_replication::Migration),
            Box::new(m0006_health_probe::Migration),
            Box::new(m0007_event_notifications::Migration),
            Box::new(m0008_event_outbox::Migration),
            Box::new(m0009_signing_secrets::Migration),
            Box::new(m0010_tag_expiry_notices::Migration),
            Box::new(m0011_authorized_emails::Migration),
            Box::new(m0012_log_exports::Migration),
            Box::new(m0013_proxy_cache::Migration),
            Box::new(m0014_proxy_tag_pulls::Migration),
            Box::new(m0015_repo_mirror::Migration),
        ]
    }
}

/// A foreign key whose rows go with the row they point to.
fn foreign_key(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A table or column named `name`.
fn name(name: &str) -> Alias {
    Alias::new(name)
}

/// A cascade foreign key `table.column -> target.id`.
fn references(table: &str, column: &str, target: &str) -> ForeignKeyCreateStatement {
    foreign_key((name(table), name(column)), (name(target), name("id")))
}

/// An index named `name` on `columns` of `table`.
fn index(table: impl IntoIden, name: &str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut statement = Index::create();
    statement.name(name).table(table);
    for column in columns {
        statement.col(Alias::new(*column));
    }
    statement.to_owned()
}
