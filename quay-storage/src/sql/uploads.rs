//! Upload sessions: offset, hash state and parts of every upload in progress, in the database
//! so that any node can continue any upload.

use async_trait::async_trait;
use quay_core::ports::{RepositoryId, UploadSession, UploadSessions};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::entity::blob_upload;
use super::{SqlMetadata, signed, unsigned};
use crate::error::{OrStorage, StorageError};

fn session(row: blob_upload::Model) -> Result<UploadSession, StorageError> {
    let parts = serde_json::from_str(&row.parts)
        .map_err(|e| StorageError::CorruptMetadata(format!("parts of upload {}: {e}", row.id)))?;
    Ok(UploadSession {
        size: unsigned(row.size, "upload size")?,
        id: row.id,
        repository: row.repository_id,
        hash_state: row.hash_state,
        parts,
    })
}

#[async_trait]
impl UploadSessions for SqlMetadata {
    async fn create_upload(
        &self,
        repository: RepositoryId,
        now_ms: i64,
    ) -> quay_core::Result<UploadSession> {
        let row = blob_upload::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            repository_id: Set(repository),
            size: Set(0),
            hash_state: Set(Vec::new()),
            parts: Set("[]".to_string()),
            created_ms: Set(now_ms),
            updated_ms: Set(now_ms),
        };
        let row = blob_upload::Entity::insert(row)
            .exec_with_returning(&self.relaxed)
            .await
            .or_storage()?;
        Ok(session(row)?)
    }

    async fn find_upload(
        &self,
        repository: RepositoryId,
        id: &str,
    ) -> quay_core::Result<Option<UploadSession>> {
        let row = blob_upload::Entity::find_by_id(id)
            .filter(blob_upload::Column::RepositoryId.eq(repository))
            .one(&self.db)
            .await
            .or_storage()?;
        Ok(row.map(session).transpose()?)
    }

    async fn record_part(
        &self,
        session: &UploadSession,
        part: &str,
        new_size: u64,
        hash_state: &[u8],
        now_ms: i64,
    ) -> quay_core::Result<bool> {
        let mut parts = session.parts.clone();
        parts.push(part.to_string());
        let parts = serde_json::to_string(&parts).map_err(quay_core::Error::storage)?;
        let updated = blob_upload::Entity::update_many()
            .col_expr(blob_upload::Column::Size, Expr::value(signed(new_size)))
            .col_expr(
                blob_upload::Column::HashState,
                Expr::value(hash_state.to_vec()),
            )
            .col_expr(blob_upload::Column::Parts, Expr::value(parts))
            .col_expr(blob_upload::Column::UpdatedMs, Expr::value(now_ms))
            .filter(blob_upload::Column::Id.eq(session.id.as_str()))
            .filter(blob_upload::Column::Size.eq(signed(session.size)))
            .exec(&self.relaxed)
            .await
            .or_storage()?;
        Ok(updated.rows_affected == 1)
    }

    async fn remove_upload(&self, repository: RepositoryId, id: &str) -> quay_core::Result<bool> {
        let deleted = blob_upload::Entity::delete_many()
            .filter(blob_upload::Column::Id.eq(id))
            .filter(blob_upload::Column::RepositoryId.eq(repository))
            .exec(&self.relaxed)
            .await
            .or_storage()?;
        Ok(deleted.rows_affected > 0)
    }
}
