//! Teams of organizations and their members.

use async_trait::async_trait;
use quay_core::account::{AccountId, AccountRecord, NamespaceId, TeamId, TeamRecord};
use quay_core::audit::AuditEntry;
use quay_core::names::Namespace;
use quay_core::permission::TeamRole;
use quay_core::ports::{TeamChange, TeamStore};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, TransactionTrait, Value,
};

use super::accounts::account_record;
use super::entity::{account, team, team_member};
use super::{SqlMetadata, audit};
use crate::error::{OrStorage, StorageError};

#[derive(FromQueryResult)]
struct TeamRow {
    id: i64,
    namespace_id: i64,
    name: String,
    role: String,
    description: String,
    member_count: i64,
    repository_count: i64,
}

impl TeamRow {
    fn into_record(self) -> Result<TeamRecord, StorageError> {
        Ok(TeamRecord {
            id: self.id,
            organization: self.namespace_id,
            name: Namespace::parse(&self.name)
                .map_err(|_| StorageError::CorruptMetadata(format!("team {:?}", self.name)))?,
            role: TeamRole::from_name(&self.role).ok_or_else(|| {
                StorageError::CorruptMetadata(format!("team role {:?}", self.role))
            })?,
            description: self.description,
            member_count: u64::try_from(self.member_count).unwrap_or_default(),
            repository_count: u64::try_from(self.repository_count).unwrap_or_default(),
        })
    }
}

impl SqlMetadata {
    async fn team_rows(
        &self,
        conn: &impl ConnectionTrait,
        condition: &str,
        values: Vec<Value>,
    ) -> quay_core::Result<Vec<TeamRecord>> {
        let sql = format!(
            "SELECT t.id AS id, t.namespace_id AS namespace_id, t.name AS name, t.role AS role,
                    t.description AS description,
                    (SELECT COUNT(*) FROM team_member m WHERE m.team_id = t.id) AS member_count,
                    (SELECT COUNT(*) FROM repository_permission p WHERE p.team_id = t.id)
                        AS repository_count
             FROM team t WHERE {condition} ORDER BY t.name"
        );
        let rows = TeamRow::find_by_statement(self.statement(&sql, values))
            .all(conn)
            .await
            .or_storage()?;
        Ok(rows
            .into_iter()
            .map(TeamRow::into_record)
            .collect::<Result<_, _>>()?)
    }
}

#[async_trait]
impl TeamStore for SqlMetadata {
    async fn teams(&self, organization: NamespaceId) -> quay_core::Result<Vec<TeamRecord>> {
        self.team_rows(&self.db, "t.namespace_id = $1", vec![organization.into()])
            .await
    }

    async fn team(
        &self,
        organization: NamespaceId,
        name: &Namespace,
    ) -> quay_core::Result<Option<TeamRecord>> {
        let found = self
            .team_rows(
                &self.db,
                "t.namespace_id = $1 AND t.name = $2",
                vec![organization.into(), name.as_str().into()],
            )
            .await?;
        Ok(found.into_iter().next())
    }

    async fn save_team(
        &self,
        change: TeamChange,
        audit: Vec<AuditEntry>,
    ) -> quay_core::Result<TeamRecord> {
        let txn = self.db.begin().await.or_storage()?;
        team::Entity::insert(team::ActiveModel {
            namespace_id: Set(change.organization),
            name: Set(change.name.to_string()),
            role: Set(change.role.as_str().to_string()),
            description: Set(change.description),
            created_ms: Set(change.now_ms),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([team::Column::NamespaceId, team::Column::Name])
                .update_columns([team::Column::Role, team::Column::Description])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await
        .or_storage()?;
        audit::record(&txn, audit).await?;
        let saved = self
            .team_rows(
                &txn,
                "t.namespace_id = $1 AND t.name = $2",
                vec![change.organization.into(), change.name.as_str().into()],
            )
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                StorageError::CorruptMetadata(format!("team {} vanished", change.name))
            })?;
        txn.commit().await.or_storage()?;
        Ok(saved)
    }

    async fn delete_team(&self, team_id: TeamId, audit: AuditEntry) -> quay_core::Result<()> {
        let txn = self.db.begin().await.or_storage()?;
        team::Entity::delete_by_id(team_id)
            .exec(&txn)
            .await
            .or_storage()?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }

    async fn team_members(&self, team_id: TeamId) -> quay_core::Result<Vec<AccountRecord>> {
        let members = team_member::Entity::find()
            .filter(team_member::Column::TeamId.eq(team_id))
            .all(&self.db)
            .await
            .or_storage()?;
        let ids: Vec<AccountId> = members
            .into_iter()
            .map(|member| member.account_id)
            .collect();
        let rows = account::Entity::find()
            .filter(account::Column::Id.is_in(ids))
            .order_by_asc(account::Column::Name)
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows.into_iter().map(account_record).collect())
    }

    async fn add_team_member(
        &self,
        team_id: TeamId,
        account_id: AccountId,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.db.begin().await.or_storage()?;
        let added = team_member::Entity::insert(team_member::ActiveModel {
            team_id: Set(team_id),
            account_id: Set(account_id),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([team_member::Column::TeamId, team_member::Column::AccountId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await
        .or_storage()?;
        if added > 0 {
            audit::record(&txn, [audit]).await?;
        }
        txn.commit().await.or_storage()
    }

    async fn remove_team_member(
        &self,
        team_id: TeamId,
        account_id: AccountId,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        let txn = self.db.begin().await.or_storage()?;
        let removed = team_member::Entity::delete_many()
            .filter(team_member::Column::TeamId.eq(team_id))
            .filter(team_member::Column::AccountId.eq(account_id))
            .exec(&txn)
            .await
            .or_storage()?
            .rows_affected;
        if removed > 0 {
            audit::record(&txn, [audit]).await?;
        }
        txn.commit().await.or_storage()?;
        Ok(removed > 0)
    }

    async fn remove_organization_member(
        &self,
        organization: NamespaceId,
        account_id: AccountId,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        let txn = self.db.begin().await.or_storage()?;
        let mut removed = 0;
        for sql in [
            "DELETE FROM team_member WHERE account_id = $1
               AND team_id IN (SELECT id FROM team WHERE namespace_id = $2)",
            "DELETE FROM repository_permission WHERE account_id = $1
               AND repository_id IN (SELECT id FROM repository WHERE namespace_id = $2)",
        ] {
            removed += txn
                .execute_raw(self.statement(sql, [account_id.into(), organization.into()]))
                .await
                .or_storage()?
                .rows_affected();
        }
        if removed > 0 {
            audit::record(&txn, [audit]).await?;
        }
        txn.commit().await.or_storage()?;
        Ok(removed > 0)
    }

    async fn teams_of(
        &self,
        organization: NamespaceId,
        account_id: AccountId,
    ) -> quay_core::Result<Vec<TeamRecord>> {
        self.team_rows(
            &self.db,
            "t.namespace_id = $1 AND EXISTS (SELECT 1 FROM team_member m
                                          WHERE m.team_id = t.id AND m.account_id = $2)",
            vec![organization.into(), account_id.into()],
        )
        .await
    }
}
