//! A repository as queries read it: the columns to select, joined with its namespace, and
//! the row they fill. Shared by the repository, permission and standing queries.

use quay_core::permission::Visibility;
use quay_core::ports::{Repository, RepositoryDetails, RepositoryState};
use sea_orm::FromQueryResult;

use super::stored_path;
use crate::error::StorageError;

pub(super) const REPOSITORY_COLUMNS: &str = "r.id AS id, r.namespace_id AS namespace_id, \
    n.name AS namespace_name, r.name AS name, r.visibility AS visibility, \
    r.description AS description, r.created_ms AS created_ms, r.state AS state";

#[derive(FromQueryResult)]
pub(super) struct RepositoryRow {
    pub(super) id: i64,
    pub(super) namespace_id: i64,
    pub(super) namespace_name: String,
    pub(super) name: String,
    pub(super) visibility: String,
    pub(super) description: Option<String>,
    pub(super) created_ms: i64,
    pub(super) state: String,
}

impl RepositoryRow {
    pub(super) fn into_details(self) -> Result<RepositoryDetails, StorageError> {
        let visibility = Visibility::from_name(&self.visibility).ok_or_else(|| {
            StorageError::CorruptMetadata(format!(
                "visibility {:?} of repository {}",
                self.visibility, self.id
            ))
        })?;
        Ok(RepositoryDetails {
            repository: Repository {
                id: self.id,
                namespace: self.namespace_id,
                path: stored_path(&self.namespace_name, &self.name)?,
                state: stored_state(self.id, &self.state)?,
            },
            visibility,
            description: self.description,
            created_ms: self.created_ms,
        })
    }
}

/// A repository's `state` column.
pub(super) fn stored_state(repository: i64, state: &str) -> Result<RepositoryState, StorageError> {
    RepositoryState::parse(state).ok_or_else(|| {
        StorageError::CorruptMetadata(format!("state {state:?} of repository {repository}"))
    })
}
