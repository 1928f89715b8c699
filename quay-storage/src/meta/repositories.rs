//! Namespaces and repositories.

use async_trait::async_trait;
use quay_core::RepositoryPath;
use quay_core::ports::{Repository, RepositoryStore};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{namespace, repository};
use super::{SqlMetadata, stored_path};
use crate::error::{OrStorage, StorageError};

#[async_trait]
impl RepositoryStore for SqlMetadata {
    async fn find_repository(
        &self,
        path: &RepositoryPath,
    ) -> quay_core::Result<Option<Repository>> {
        let id: Option<i64> = repository::Entity::find()
            .select_only()
            .column(repository::Column::Id)
            .inner_join(namespace::Entity)
            .filter(namespace::Column::Name.eq(path.namespace.as_str()))
            .filter(repository::Column::Name.eq(path.name.as_str()))
            .into_tuple()
            .one(&self.db)
            .await
            .or_storage()?;
        Ok(id.map(|id| Repository {
            id,
            path: path.clone(),
        }))
    }

    async fn create_repository(
        &self,
        path: &RepositoryPath,
        now_ms: i64,
    ) -> quay_core::Result<Repository> {
        // Both inserts are idempotent, so nodes creating the same repository at once agree.
        namespace::Entity::insert(namespace::ActiveModel {
            name: Set(path.namespace.to_string()),
            created_ms: Set(now_ms),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(namespace::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await
        .or_storage()?;
        let namespace_id: i64 = namespace::Entity::find()
            .select_only()
            .column(namespace::Column::Id)
            .filter(namespace::Column::Name.eq(path.namespace.as_str()))
            .into_tuple()
            .one(&self.db)
            .await
            .or_storage()?
            .ok_or_else(|| {
                StorageError::CorruptMetadata(format!("namespace {} vanished", path.namespace))
            })?;
        repository::Entity::insert(repository::ActiveModel {
            namespace_id: Set(namespace_id),
            name: Set(path.name.to_string()),
            visibility: Set("private".to_string()),
            created_ms: Set(now_ms),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([repository::Column::NamespaceId, repository::Column::Name])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await
        .or_storage()?;
        self.find_repository(path).await?.ok_or_else(|| {
            StorageError::CorruptMetadata(format!("repository {path} vanished")).into()
        })
    }

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
