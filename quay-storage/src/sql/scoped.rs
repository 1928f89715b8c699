//! Rows that belong to a namespace or to one of its repositories, found by their uuid inside
//! that scope: auto-prune policies and event notifications.

use quay_core::account::NamespaceId;
use quay_core::audit::AuditEntry;
use quay_core::ports::RepositoryId;
use sea_orm::{ConnectionTrait, Value};

use super::{SqlMetadata, audit};
use crate::error::OrStorage;

/// `namespace_id = $first AND repository_id = $first+1` (or `IS NULL` for the namespace's
/// own rows), with its values.
pub(super) fn scope(
    namespace: NamespaceId,
    repository: Option<RepositoryId>,
    first: usize,
) -> (String, Vec<Value>) {
    let condition = match repository {
        Some(_) => format!("namespace_id = ${first} AND repository_id = ${}", first + 1),
        None => format!("namespace_id = ${first} AND repository_id IS NULL"),
    };
    let values = std::iter::once(namespace.into())
        .chain(repository.map(Value::from))
        .collect();
    (condition, values)
}

impl SqlMetadata {
    /// Runs `change` (an `UPDATE` or `DELETE` without its `WHERE`) on row `uuid` of the scope,
    /// in one transaction with `audit`; whether there was such a row.
    pub(super) async fn change_scoped(
        &self,
        change: &str,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        let (condition, scope_values) = scope(namespace, repository, 2);
        let values: Vec<Value> = std::iter::once(uuid.into()).chain(scope_values).collect();
        let sql = format!("{change} WHERE uuid = $1 AND {condition}");
        let txn = self.write_transaction().await.or_storage()?;
        let changed = txn
            .execute_raw(self.statement(&sql, values))
            .await
            .or_storage()?
            .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()?;
        Ok(true)
    }
}
