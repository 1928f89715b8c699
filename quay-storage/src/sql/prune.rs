//! Auto-prune policies of namespaces and repositories.

use async_trait::async_trait;
use quay_core::account::NamespaceId;
use quay_core::audit::AuditEntry;
use quay_core::ports::{PruneStore, PruneTargets, Repository, RepositoryId};
use quay_core::prune::PrunePolicy;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::repository_row::stored_state;
use super::scoped::scope;
use super::{SqlMetadata, audit, stored_path};
use crate::error::{OrStorage, StorageError};

#[derive(FromQueryResult)]
struct PolicyRow {
    uuid: String,
    method: String,
    value: String,
    tag_pattern: Option<String>,
    pattern_matches: bool,
}

impl PolicyRow {
    fn into_policy(self) -> Result<PrunePolicy, StorageError> {
        let corrupt =
            |what: &str| StorageError::CorruptMetadata(format!("policy {}: {what}", self.uuid));
        let value = serde_json::from_str(&self.value).map_err(|_| corrupt("value"))?;
        PrunePolicy::parse(
            self.uuid.clone(),
            &self.method,
            &value,
            self.tag_pattern.clone(),
            Some(self.pattern_matches),
        )
        .map_err(|_| corrupt("method"))
    }
}

#[derive(FromQueryResult)]
struct TargetRow {
    #[sea_orm(nested)]
    policy: PolicyRow,
    repository_id: i64,
    namespace_id: i64,
    namespace_name: String,
    repository_name: String,
    repository_state: String,
}

#[async_trait]
impl PruneStore for SqlMetadata {
    async fn prune_policies(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
    ) -> quay_core::Result<Vec<PrunePolicy>> {
        let (condition, values) = scope(namespace, repository, 1);
        let sql = format!(
            "SELECT uuid, method, value, tag_pattern, pattern_matches FROM autoprune_policy
             WHERE {condition} ORDER BY id"
        );
        let rows = PolicyRow::find_by_statement(self.statement(&sql, values))
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows
            .into_iter()
            .map(PolicyRow::into_policy)
            .collect::<Result<_, _>>()?)
    }

    async fn save_prune_policy(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        policy: &PrunePolicy,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let (method, value) = policy.method_and_value();
        let txn = self.write_transaction().await.or_storage()?;
        let values: Vec<Value> = vec![
            policy.uuid.as_str().into(),
            namespace.into(),
            repository.into(),
            method.into(),
            value.to_string().into(),
            policy.tag_pattern.clone().into(),
            policy.pattern_matches.into(),
        ];
        txn.execute_raw(self.statement(
            "INSERT INTO autoprune_policy
                 (uuid, namespace_id, repository_id, method, value, tag_pattern, pattern_matches)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (uuid) DO UPDATE SET method = excluded.method, value = excluded.value,
                 tag_pattern = excluded.tag_pattern, pattern_matches = excluded.pattern_matches",
            values,
        ))
        .await
        .or_storage()?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }

    async fn delete_prune_policy(
        &self,
        namespace: NamespaceId,
        repository: Option<RepositoryId>,
        uuid: &str,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        self.change_scoped(
            "DELETE FROM autoprune_policy",
            namespace,
            repository,
            uuid,
            audit,
        )
        .await
    }
}

#[async_trait]
impl PruneTargets for SqlMetadata {
    async fn prune_targets(&self) -> quay_core::Result<Vec<(PrunePolicy, Repository)>> {
        let rows = TargetRow::find_by_statement(self.statement(
            "SELECT p.uuid AS uuid, p.method AS method, p.value AS value,
                    p.tag_pattern AS tag_pattern, p.pattern_matches AS pattern_matches,
                    r.id AS repository_id, r.namespace_id AS namespace_id,
                    n.name AS namespace_name, r.name AS repository_name,
                    r.state AS repository_state
             FROM autoprune_policy p
             JOIN repository r ON r.id = p.repository_id
                 OR (p.repository_id IS NULL AND r.namespace_id = p.namespace_id)
             JOIN namespace n ON n.id = r.namespace_id
             ORDER BY p.id, r.id",
            [],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| {
                let repository = Repository {
                    id: row.repository_id,
                    namespace: row.namespace_id,
                    path: stored_path(&row.namespace_name, &row.repository_name)?,
                    state: stored_state(row.repository_id, &row.repository_state)?,
                };
                Ok((row.policy.into_policy()?, repository))
            })
            .collect()
    }
}
