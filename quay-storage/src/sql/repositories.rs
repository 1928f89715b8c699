//! Repositories: creation (with the creator's and the organization's default permissions),
//! settings, listings and deletion.

use async_trait::async_trait;
use quay_core::RepositoryPath;
use quay_core::account::{Grantee, NamespaceId};
use quay_core::audit::AuditEntry;
use quay_core::permission::{Role, Visibility};
use quay_core::ports::{
    Creation, NewRepository, Repository, RepositoryCatalog, RepositoryDetails, RepositoryId,
    RepositorySettings, RepositoryStore,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait, Value,
};

use super::entity::{namespace, repository};
use super::repository_row::{REPOSITORY_COLUMNS, RepositoryRow};
use super::{SqlMetadata, audit, permissions, stored_path};
use crate::error::{OrStorage, StorageError};

impl SqlMetadata {
    async fn repository_rows(
        &self,
        conn: &impl ConnectionTrait,
        condition: &str,
        values: Vec<Value>,
    ) -> quay_core::Result<Vec<RepositoryDetails>> {
        let sql = format!(
            "SELECT {REPOSITORY_COLUMNS} FROM repository r
             JOIN namespace n ON n.id = r.namespace_id WHERE {condition}"
        );
        let rows = RepositoryRow::find_by_statement(self.statement(&sql, values))
            .all(conn)
            .await
            .or_storage()?;
        Ok(rows
            .into_iter()
            .map(RepositoryRow::into_details)
            .collect::<Result<_, _>>()?)
    }

    /// Applies `change` to the repository's row and records `audit`, in one transaction.
    async fn change_repository(
        &self,
        repository: RepositoryId,
        column: repository::Column,
        value: Value,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.db.begin().await.or_storage()?;
        repository::Entity::update_many()
            .col_expr(column, Expr::value(value))
            .filter(repository::Column::Id.eq(repository))
            .exec(&txn)
            .await
            .or_storage()?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }
}

#[async_trait]
impl RepositoryStore for SqlMetadata {
    async fn find_repository(
        &self,
        path: &RepositoryPath,
    ) -> quay_core::Result<Option<Repository>> {
        let found = self
            .repository_rows(
                &self.db,
                "n.name = $1 AND r.name = $2",
                vec![path.namespace.as_str().into(), path.name.as_str().into()],
            )
            .await?;
        Ok(found.into_iter().next().map(|details| details.repository))
    }

    async fn create_repository(
        &self,
        namespace: NamespaceId,
        path: &RepositoryPath,
        new: NewRepository,
        audit: Option<AuditEntry>,
        now_ms: i64,
    ) -> quay_core::Result<(Repository, bool)> {
        let pool = match new.creation {
            Creation::Requested => &self.db,
            Creation::ForContent => &self.relaxed,
        };
        let txn = pool.begin().await.or_storage()?;
        // Idempotent, so that nodes creating the same repository at once agree.
        let inserted = repository::Entity::insert(repository::ActiveModel {
            namespace_id: Set(namespace),
            name: Set(path.name.to_string()),
            visibility: Set(new.visibility.as_str().to_string()),
            description: Set(new.description),
            created_ms: Set(now_ms),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([repository::Column::NamespaceId, repository::Column::Name])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await
        .or_storage()?;
        let created = inserted == 1;
        let repository = self
            .repository_rows(
                &txn,
                "r.namespace_id = $1 AND r.name = $2",
                vec![namespace.into(), path.name.as_str().into()],
            )
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StorageError::CorruptMetadata(format!("repository {path} vanished")))?
            .repository;
        if created {
            if let Some(creator) = new.creator {
                permissions::grant(&txn, repository.id, &Grantee::Account(creator), Role::Admin)
                    .await?;
                permissions::apply_prototypes(&txn, namespace, repository.id, creator).await?;
            }
            // The entry belongs to the repository it announces.
            let audit = audit.map(|entry| entry.repository(&repository));
            audit::record(&txn, audit).await?;
        }
        txn.commit().await.or_storage()?;
        Ok((repository, created))
    }

    async fn delete_repository(
        &self,
        repository: RepositoryId,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.lock_repository(repository).await.or_storage()?;
        self.uncount_repository(&txn, repository).await?;
        self.orphan_contents(&txn, "$1", repository).await?;
        repository::Entity::delete_by_id(repository)
            .exec(&txn)
            .await
            .or_storage()?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }

    async fn delete_namespace(
        &self,
        namespace_id: NamespaceId,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        self.orphan_contents(
            &txn,
            "SELECT id FROM repository WHERE namespace_id = $1",
            namespace_id,
        )
        .await?;
        // Repositories, teams, robots and the user's account go with it (foreign keys).
        namespace::Entity::delete_by_id(namespace_id)
            .exec(&txn)
            .await
            .or_storage()?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }
}

#[async_trait]
impl RepositoryCatalog for SqlMetadata {
    async fn list_repositories(
        &self,
        after: Option<&RepositoryPath>,
        limit: u32,
    ) -> quay_core::Result<Vec<RepositoryPath>> {
        let mut query = repository::Entity::find()
            .select_only()
            .column_as(namespace::Column::Name, "namespace_name")
            .column_as(repository::Column::Name, "repository_name")
            .inner_join(namespace::Entity)
            .order_by_asc(namespace::Column::Name)
            .order_by_asc(repository::Column::Name)
            .limit(u64::from(limit));
        if let Some(after) = after {
            query = query.filter(
                Condition::any()
                    .add(namespace::Column::Name.gt(after.namespace.as_str()))
                    .add(
                        Condition::all()
                            .add(namespace::Column::Name.eq(after.namespace.as_str()))
                            .add(repository::Column::Name.gt(after.name.as_str())),
                    ),
            );
        }
        let rows: Vec<(String, String)> = query.into_tuple().all(&self.db).await.or_storage()?;
        rows.into_iter()
            .map(|(namespace, name)| Ok(stored_path(&namespace, &name)?))
            .collect()
    }
}

#[async_trait]
impl RepositorySettings for SqlMetadata {
    async fn repository_details(
        &self,
        repository: RepositoryId,
    ) -> quay_core::Result<Option<RepositoryDetails>> {
        let found = self
            .repository_rows(&self.db, "r.id = $1", vec![repository.into()])
            .await?;
        Ok(found.into_iter().next())
    }

    async fn set_visibility(
        &self,
        repository: RepositoryId,
        visibility: Visibility,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let value = visibility.as_str().into();
        self.change_repository(repository, repository::Column::Visibility, value, audit)
            .await
    }

    async fn set_description(
        &self,
        repository: RepositoryId,
        description: &str,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let value = description.into();
        self.change_repository(repository, repository::Column::Description, value, audit)
            .await
    }
}
