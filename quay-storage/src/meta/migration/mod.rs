//! Schema migrations, applied on start. The same migrations build the schema on SQLite and
//! PostgreSQL; each one is a transaction, so a failed start leaves the previous schema.
//!
//! Add a migration for every change; never edit one that has shipped. A migration's name is
//! its module's name.

mod m0001_registry_core;

use sea_orm_migration::prelude::*;

/// The registry's migrations, in order.
pub(crate) struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m0001_registry_core::Migration)]
    }
}
