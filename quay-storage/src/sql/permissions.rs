//! Repository permissions, default permissions (prototypes), and the facts the permission
//! rules decide on, gathered in one query.

use std::collections::HashMap;

use async_trait::async_trait;
use quay_core::RepositoryPath;
use quay_core::account::{
    AccountId, AccountRecord, Grantee, NamespaceId, NamespaceRecord, PermissionRecord,
    PrototypeRecord,
};
use quay_core::audit::AuditEntry;
use quay_core::names::Namespace;
use quay_core::permission::{NamespaceFacts, RepositoryFacts, Role, Visibility};
use quay_core::ports::{
    ListedRepository, ListingScope, NewPrototype, PermissionStore, Repository, RepositoryAccess,
    RepositoryId, RepositoryListing,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    TransactionTrait,
};

use super::accounts::account_record;
use super::entity::{account, permission_prototype, repository_permission};
use super::repository_row::{REPOSITORY_COLUMNS, stored_state};
use super::standing::{
    AccessRow, ListedRow, access_sql, role_of_rank, standing_columns, team_role_of_rank,
};
use super::{SqlMetadata, audit, stored_path};
use crate::error::{OrStorage, StorageError};

pub(super) fn stored_role(role: &str) -> Result<Role, StorageError> {
    Role::from_name(role).ok_or_else(|| StorageError::CorruptMetadata(format!("role {role:?}")))
}

/// Grants `role` to `grantee` on a repository (replacing any role it had).
pub(super) async fn grant(
    conn: &impl ConnectionTrait,
    repository: RepositoryId,
    grantee: &Grantee,
    role: Role,
) -> quay_core::Result<()> {
    let (account_id, team_id, column) = match grantee {
        Grantee::Account(id) => (Some(*id), None, repository_permission::Column::AccountId),
        Grantee::Team(id) => (None, Some(*id), repository_permission::Column::TeamId),
    };
    repository_permission::Entity::insert(repository_permission::ActiveModel {
        repository_id: Set(repository),
        account_id: Set(account_id),
        team_id: Set(team_id),
        role: Set(role.as_str().to_string()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([repository_permission::Column::RepositoryId, column])
            .update_column(repository_permission::Column::Role)
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await
    .or_storage()?;
    Ok(())
}

/// Applies the organization's default permissions to a repository `creator` just created:
/// prototypes for every creator and for this creator, the creator-specific one winning for
/// the same delegate, and never a permission for the creator itself.
pub(super) async fn apply_prototypes(
    conn: &impl ConnectionTrait,
    organization: NamespaceId,
    repository: RepositoryId,
    creator: AccountId,
) -> quay_core::Result<()> {
    let prototypes = permission_prototype::Entity::find()
        .filter(permission_prototype::Column::NamespaceId.eq(organization))
        .all(conn)
        .await
        .or_storage()?;
    let mut chosen: HashMap<Grantee, (bool, Role)> = HashMap::new();
    for prototype in prototypes {
        let specific = match prototype.activating_account_id {
            None => false,
            Some(account) if account == creator => true,
            Some(_) => continue,
        };
        let delegate = match (prototype.delegate_account_id, prototype.delegate_team_id) {
            (Some(account), _) => Grantee::Account(account),
            (None, Some(team)) => Grantee::Team(team),
            (None, None) => continue,
        };
        if delegate == Grantee::Account(creator) {
            continue;
        }
        let role = stored_role(&prototype.role)?;
        let keep = chosen
            .get(&delegate)
            .is_some_and(|(was_specific, _)| *was_specific && !specific);
        if !keep {
            chosen.insert(delegate, (specific, role));
        }
    }
    for (delegate, (_, role)) in chosen {
        grant(conn, repository, &delegate, role).await?;
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct PermissionRow {
    account_id: Option<i64>,
    team_id: Option<i64>,
    name: String,
    account_kind: Option<String>,
    role: String,
}

#[derive(FromQueryResult)]
struct PermissionOfRow {
    namespace_name: String,
    repository_name: String,
    visibility: String,
    role: String,
}

#[derive(FromQueryResult)]
struct PrototypeRow {
    uuid: String,
    activating_account_id: Option<i64>,
    activating_name: Option<String>,
    delegate_account_id: Option<i64>,
    delegate_team_id: Option<i64>,
    delegate_name: Option<String>,
    role: String,
}

impl PrototypeRow {
    fn into_record(self) -> Result<PrototypeRecord, StorageError> {
        let delegate = match (self.delegate_account_id, self.delegate_team_id) {
            (Some(account), _) => Grantee::Account(account),
            (None, Some(team)) => Grantee::Team(team),
            (None, None) => {
                return Err(StorageError::CorruptMetadata(format!(
                    "prototype {} without delegate",
                    self.uuid
                )));
            }
        };
        Ok(PrototypeRecord {
            role: stored_role(&self.role)?,
            activating_account: self.activating_account_id.zip(self.activating_name),
            delegate: (delegate, self.delegate_name.unwrap_or_default()),
            uuid: self.uuid,
        })
    }
}

const PROTOTYPE_SQL: &str =
    "SELECT p.uuid AS uuid, p.activating_account_id AS activating_account_id,
        act.name AS activating_name, p.delegate_account_id AS delegate_account_id,
        p.delegate_team_id AS delegate_team_id, COALESCE(da.name, dt.name) AS delegate_name,
        p.role AS role
    FROM permission_prototype p
    LEFT JOIN account act ON act.id = p.activating_account_id
    LEFT JOIN account da ON da.id = p.delegate_account_id
    LEFT JOIN team dt ON dt.id = p.delegate_team_id";

impl SqlMetadata {
    async fn prototype_rows(
        &self,
        conn: &impl ConnectionTrait,
        condition: &str,
        values: Vec<sea_orm::Value>,
    ) -> quay_core::Result<Vec<PrototypeRecord>> {
        let sql = format!("{PROTOTYPE_SQL} WHERE {condition} ORDER BY p.id");
        let rows = PrototypeRow::find_by_statement(self.statement(&sql, values))
            .all(conn)
            .await
            .or_storage()?;
        Ok(rows
            .into_iter()
            .map(PrototypeRow::into_record)
            .collect::<Result<_, _>>()?)
    }
}

#[async_trait]
impl PermissionStore for SqlMetadata {
    async fn repository_access(
        &self,
        account: Option<AccountId>,
        path: &RepositoryPath,
    ) -> quay_core::Result<RepositoryAccess> {
        let row = AccessRow::find_by_statement(self.statement(
            &access_sql(),
            [
                path.namespace.as_str().into(),
                account.into(),
                path.name.as_str().into(),
            ],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        let Some(row) = row else {
            return Ok(RepositoryAccess {
                namespace: None,
                repository: None,
                namespace_facts: NamespaceFacts::default(),
                direct_role: None,
                team_role: None,
            });
        };
        let repository = match (
            row.repository_id,
            &row.repository_name,
            &row.visibility,
            &row.repository_state,
        ) {
            (Some(id), Some(name), Some(visibility), Some(state)) => Some((
                Repository {
                    id,
                    namespace: row.namespace_id,
                    path: stored_path(&row.namespace_name, name)?,
                    state: stored_state(id, state)?,
                },
                Visibility::from_name(visibility).unwrap_or(Visibility::Private),
            )),
            _ => None,
        };
        Ok(RepositoryAccess {
            namespace: Some(row.namespace()?),
            namespace_facts: row.namespace_facts(),
            direct_role: role_of_rank(row.direct_rank),
            team_role: role_of_rank(row.team_repository_rank),
            repository,
        })
    }

    async fn namespace_access(
        &self,
        account: Option<AccountId>,
        name: &Namespace,
    ) -> quay_core::Result<Option<(NamespaceRecord, NamespaceFacts)>> {
        let none: Option<String> = None;
        let row = AccessRow::find_by_statement(self.statement(
            &access_sql(),
            [name.as_str().into(), account.into(), none.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        row.map(|row| Ok((row.namespace()?, row.namespace_facts())))
            .transpose()
    }

    async fn list_with_standing(
        &self,
        listing: &RepositoryListing,
    ) -> quay_core::Result<Vec<ListedRepository>> {
        let (after_namespace, after_name) = listing.after.as_ref().map_or(("", ""), |path| {
            (path.namespace.as_str(), path.name.as_str())
        });
        let mut values: Vec<sea_orm::Value> = vec![
            listing.account.into(),
            after_namespace.into(),
            after_name.into(),
            i64::from(listing.limit).into(),
        ];
        let in_namespace = match listing.namespace {
            Some(namespace) => {
                values.push(namespace.into());
                "AND r.namespace_id = $5"
            }
            None => "",
        };
        let standing = "(owner OR team_rank = 3 OR direct_rank IS NOT NULL
                         OR team_repository_rank IS NOT NULL
                         OR (proxy_cache AND team_rank IS NOT NULL))";
        let candidates = match listing.scope {
            ListingScope::Everything => "1 = 1".to_string(),
            ListingScope::Public => "visibility = 'public'".to_string(),
            ListingScope::Standing { public: false } => standing.to_string(),
            ListingScope::Standing { public: true } => {
                format!("(visibility = 'public' OR {standing})")
            }
        };
        let sql = format!(
            "SELECT * FROM (
                 SELECT {columns}, {standing_columns}
                 FROM repository r JOIN namespace n ON n.id = r.namespace_id
                 WHERE (n.name > $2 OR (n.name = $2 AND r.name > $3)) {in_namespace}
             ) listed
             WHERE {candidates}
             ORDER BY namespace_name, name LIMIT $4",
            columns = REPOSITORY_COLUMNS,
            standing_columns = standing_columns("$1"),
        );
        let rows = ListedRow::find_by_statement(self.statement(&sql, values))
            .all(&self.db)
            .await
            .or_storage()?;
        rows.into_iter()
            .map(|row| {
                let details = row.repository.into_details()?;
                Ok(ListedRepository {
                    facts: RepositoryFacts {
                        visibility: details.visibility,
                        namespace: NamespaceFacts {
                            owner: row.owner.unwrap_or(false),
                            team_role: team_role_of_rank(row.team_rank),
                            proxy_cache: row.proxy_cache.unwrap_or(false),
                        },
                        direct_role: role_of_rank(row.direct_rank),
                        team_role: role_of_rank(row.team_repository_rank),
                    },
                    details,
                })
            })
            .collect()
    }

    async fn repository_permissions(
        &self,
        repository: RepositoryId,
    ) -> quay_core::Result<Vec<PermissionRecord>> {
        let rows = PermissionRow::find_by_statement(self.statement(
            "SELECT p.account_id AS account_id, p.team_id AS team_id,
                    COALESCE(a.name, t.name) AS name, a.kind AS account_kind, p.role AS role
             FROM repository_permission p
             LEFT JOIN account a ON a.id = p.account_id
             LEFT JOIN team t ON t.id = p.team_id
             WHERE p.repository_id = $1 ORDER BY name",
            [repository.into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| {
                let grantee = match (row.account_id, row.team_id) {
                    (Some(account), _) => Grantee::Account(account),
                    (None, Some(team)) => Grantee::Team(team),
                    (None, None) => {
                        return Err(StorageError::CorruptMetadata(
                            "permission without grantee".into(),
                        )
                        .into());
                    }
                };
                Ok(PermissionRecord {
                    grantee,
                    is_robot: row.account_kind.as_deref() == Some("robot"),
                    role: stored_role(&row.role)?,
                    name: row.name,
                })
            })
            .collect()
    }

    async fn set_permission(
        &self,
        repository: RepositoryId,
        grantee: &Grantee,
        role: Role,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.db.begin().await.or_storage()?;
        grant(&txn, repository, grantee, role).await?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }

    async fn delete_permission(
        &self,
        repository: RepositoryId,
        grantee: &Grantee,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        let txn = self.db.begin().await.or_storage()?;
        let condition = match grantee {
            Grantee::Account(id) => repository_permission::Column::AccountId.eq(*id),
            Grantee::Team(id) => repository_permission::Column::TeamId.eq(*id),
        };
        let deleted = repository_permission::Entity::delete_many()
            .filter(repository_permission::Column::RepositoryId.eq(repository))
            .filter(condition)
            .exec(&txn)
            .await
            .or_storage()?
            .rows_affected;
        if deleted > 0 {
            audit::record(&txn, [audit]).await?;
        }
        txn.commit().await.or_storage()?;
        Ok(deleted > 0)
    }

    async fn account_grants_in(
        &self,
        namespace: NamespaceId,
    ) -> quay_core::Result<Vec<(AccountRecord, String)>> {
        #[derive(FromQueryResult)]
        struct GrantRow {
            account_id: i64,
            repository_name: String,
        }
        let grants = GrantRow::find_by_statement(self.statement(
            "SELECT p.account_id AS account_id, r.name AS repository_name
             FROM repository_permission p
             JOIN repository r ON r.id = p.repository_id
             WHERE r.namespace_id = $1 AND p.account_id IS NOT NULL
             ORDER BY r.name",
            [namespace.into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        let accounts: HashMap<i64, AccountRecord> = account::Entity::find()
            .filter(account::Column::Id.is_in(grants.iter().map(|grant| grant.account_id)))
            .all(&self.db)
            .await
            .or_storage()?
            .into_iter()
            .map(|row| (row.id, account_record(row)))
            .collect();
        let mut held: Vec<(AccountRecord, String)> = grants
            .into_iter()
            .filter_map(|grant| {
                let account = accounts.get(&grant.account_id)?.clone();
                Some((account, grant.repository_name))
            })
            .collect();
        held.sort_by(|(a, _), (b, _)| a.name.cmp(&b.name));
        Ok(held)
    }

    async fn permissions_of(
        &self,
        grantee: &Grantee,
    ) -> quay_core::Result<Vec<(RepositoryPath, Visibility, Role)>> {
        let (column, id) = match grantee {
            Grantee::Account(id) => ("p.account_id", *id),
            Grantee::Team(id) => ("p.team_id", *id),
        };
        let rows = PermissionOfRow::find_by_statement(self.statement(
            &format!(
                "SELECT n.name AS namespace_name, r.name AS repository_name,
                        r.visibility AS visibility, p.role AS role
                 FROM repository_permission p
                 JOIN repository r ON r.id = p.repository_id
                 JOIN namespace n ON n.id = r.namespace_id
                 WHERE {column} = $1 ORDER BY n.name, r.name"
            ),
            [id.into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| {
                Ok((
                    stored_path(&row.namespace_name, &row.repository_name)?,
                    Visibility::from_name(&row.visibility).unwrap_or(Visibility::Private),
                    stored_role(&row.role)?,
                ))
            })
            .collect()
    }

    async fn prototypes(
        &self,
        organization: NamespaceId,
    ) -> quay_core::Result<Vec<PrototypeRecord>> {
        self.prototype_rows(&self.db, "p.namespace_id = $1", vec![organization.into()])
            .await
    }

    async fn create_prototype(
        &self,
        prototype: NewPrototype,
        audit: AuditEntry,
    ) -> quay_core::Result<PrototypeRecord> {
        let uuid = uuid::Uuid::new_v4().to_string();
        let txn = self.db.begin().await.or_storage()?;
        let (delegate_account_id, delegate_team_id) = match prototype.delegate {
            Grantee::Account(id) => (Some(id), None),
            Grantee::Team(id) => (None, Some(id)),
        };
        permission_prototype::Entity::insert(permission_prototype::ActiveModel {
            namespace_id: Set(prototype.organization),
            uuid: Set(uuid.clone()),
            activating_account_id: Set(prototype.activating_account),
            delegate_account_id: Set(delegate_account_id),
            delegate_team_id: Set(delegate_team_id),
            role: Set(prototype.role.as_str().to_string()),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await
        .or_storage()?;
        audit::record(&txn, [audit.meta("id", uuid.as_str())]).await?;
        let created = self
            .prototype_rows(&txn, "p.uuid = $1", vec![uuid.as_str().into()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StorageError::CorruptMetadata("prototype vanished".into()))?;
        txn.commit().await.or_storage()?;
        Ok(created)
    }

    async fn set_prototype_role(
        &self,
        organization: NamespaceId,
        uuid: &str,
        role: Role,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        let txn = self.db.begin().await.or_storage()?;
        let updated = permission_prototype::Entity::update_many()
            .col_expr(
                permission_prototype::Column::Role,
                Expr::value(role.as_str()),
            )
            .filter(permission_prototype::Column::NamespaceId.eq(organization))
            .filter(permission_prototype::Column::Uuid.eq(uuid))
            .exec(&txn)
            .await
            .or_storage()?
            .rows_affected;
        if updated > 0 {
            audit::record(&txn, [audit]).await?;
        }
        txn.commit().await.or_storage()?;
        Ok(updated > 0)
    }

    async fn delete_prototype(
        &self,
        organization: NamespaceId,
        uuid: &str,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        let txn = self.db.begin().await.or_storage()?;
        let deleted = permission_prototype::Entity::delete_many()
            .filter(permission_prototype::Column::NamespaceId.eq(organization))
            .filter(permission_prototype::Column::Uuid.eq(uuid))
            .exec(&txn)
            .await
            .or_storage()?
            .rows_affected;
        if deleted > 0 {
            audit::record(&txn, [audit]).await?;
        }
        txn.commit().await.or_storage()?;
        Ok(deleted > 0)
    }
}
