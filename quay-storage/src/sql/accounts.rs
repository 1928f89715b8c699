//! Users, organizations and robots.

use std::collections::HashMap;

use async_trait::async_trait;
use quay_core::Error;
use quay_core::account::{
    AccountId, AccountKind, AccountRecord, NamespaceId, NamespaceKind, NamespaceRecord,
};
use quay_core::audit::AuditEntry;
use quay_core::names::Namespace;
use quay_core::permission::TeamRole;
use quay_core::ports::{AccountStore, NewRobot, NewUser, UserChange};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use super::entity::{account, namespace, team, team_member};
use super::{SqlMetadata, audit};
use crate::error::{OrStorage, StorageError};

/// A namespace's kind as stored (`user`, else an organization).
pub(super) fn namespace_kind(kind: &str) -> NamespaceKind {
    if kind == NamespaceKind::User.as_str() {
        NamespaceKind::User
    } else {
        NamespaceKind::Organization
    }
}

const TAKEN: &str = "A user or organization with this name already exists";

pub(super) fn account_record(row: account::Model) -> AccountRecord {
    AccountRecord {
        id: row.id,
        kind: if row.kind == "robot" {
            AccountKind::Robot
        } else {
            AccountKind::User
        },
        name: row.name,
        namespace: row.namespace_id,
        email: row.email,
        enabled: row.enabled,
        superuser: row.superuser,
        description: row.description,
        metadata: row.metadata,
        created_ms: row.created_ms,
    }
}

fn account_with_secret(mut row: account::Model) -> (AccountRecord, String) {
    let secret = std::mem::take(&mut row.secret_hash);
    (account_record(row), secret)
}

pub(super) fn namespace_record(row: namespace::Model) -> Result<NamespaceRecord, StorageError> {
    Ok(NamespaceRecord {
        id: row.id,
        name: Namespace::parse(&row.name)
            .map_err(|_| StorageError::CorruptMetadata(format!("namespace {:?}", row.name)))?,
        kind: namespace_kind(&row.kind),
        enabled: row.enabled,
        email: row.email,
        tag_expiration_s: row.tag_expiration_s,
    })
}

impl SqlMetadata {
    /// Sets one column of a namespace, with its log entry, in one transaction.
    async fn set_namespace_column(
        &self,
        namespace_id: NamespaceId,
        column: namespace::Column,
        value: impl Into<sea_orm::Value>,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        namespace::Entity::update_many()
            .col_expr(column, Expr::value(value.into()))
            .filter(namespace::Column::Id.eq(namespace_id))
            .exec(&txn)
            .await
            .or_storage()?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }
}

impl SqlMetadata {
    /// Inserts a namespace of `kind`, with the default window and, where sizes are kept, its
    /// size (nothing yet, and known); a taken name is [`Error::AlreadyExists`].
    async fn insert_namespace(
        &self,
        conn: &impl ConnectionTrait,
        name: &Namespace,
        kind: &str,
        email: Option<&str>,
        now_ms: i64,
    ) -> quay_core::Result<NamespaceRecord> {
        let inserted = namespace::Entity::insert(namespace::ActiveModel {
            name: Set(name.to_string()),
            kind: Set(kind.to_string()),
            enabled: Set(true),
            email: Set(email.map(str::to_string)),
            tag_expiration_s: Set(self.default_window_s),
            created_ms: Set(now_ms),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(namespace::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await
        .or_storage()?;
        if inserted == 0 {
            return Err(Error::AlreadyExists(TAKEN.to_string()));
        }
        let row = namespace::Entity::find()
            .filter(namespace::Column::Name.eq(name.as_str()))
            .one(conn)
            .await
            .or_storage()?
            .ok_or_else(|| StorageError::CorruptMetadata(format!("namespace {name} vanished")))?;
        self.start_namespace_size(conn, row.id).await?;
        Ok(namespace_record(row)?)
    }
}

/// Inserts an account; a taken name is [`Error::AlreadyExists`] with `taken` as message.
async fn insert_account(
    conn: &impl ConnectionTrait,
    row: account::ActiveModel,
    name: &str,
    taken: String,
) -> quay_core::Result<AccountRecord> {
    let inserted = account::Entity::insert(row)
        .on_conflict(
            OnConflict::column(account::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await
        .or_storage()?;
    if inserted == 0 {
        return Err(Error::AlreadyExists(taken));
    }
    let row = account::Entity::find()
        .filter(account::Column::Name.eq(name))
        .one(conn)
        .await
        .or_storage()?
        .ok_or_else(|| StorageError::CorruptMetadata(format!("account {name} vanished")))?;
    Ok(account_record(row))
}

#[async_trait]
impl AccountStore for SqlMetadata {
    async fn namespace(&self, name: &Namespace) -> quay_core::Result<Option<NamespaceRecord>> {
        let row = namespace::Entity::find()
            .filter(namespace::Column::Name.eq(name.as_str()))
            .one(&self.db)
            .await
            .or_storage()?;
        Ok(row.map(namespace_record).transpose()?)
    }

    async fn account(&self, name: &str) -> quay_core::Result<Option<AccountRecord>> {
        let found = self.account_with_secret(name).await?;
        Ok(found.map(|(account, _secret)| account))
    }

    async fn account_by_id(&self, id: AccountId) -> quay_core::Result<Option<AccountRecord>> {
        let found = self.account_by_id_with_secret(id).await?;
        Ok(found.map(|(account, _secret)| account))
    }

    async fn account_with_secret(
        &self,
        name: &str,
    ) -> quay_core::Result<Option<(AccountRecord, String)>> {
        let row = account::Entity::find()
            .filter(account::Column::Name.eq(name))
            .one(&self.db)
            .await
            .or_storage()?;
        Ok(row.map(account_with_secret))
    }

    async fn account_by_id_with_secret(
        &self,
        id: AccountId,
    ) -> quay_core::Result<Option<(AccountRecord, String)>> {
        let row = account::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .or_storage()?;
        Ok(row.map(account_with_secret))
    }

    async fn count_users(&self) -> quay_core::Result<u64> {
        #[derive(FromQueryResult)]
        struct Count {
            count: i64,
        }
        let count = Count::find_by_statement(self.statement(
            "SELECT COUNT(*) AS count FROM account WHERE kind = 'user'",
            [],
        ))
        .one(&self.db)
        .await
        .or_storage()?
        .map_or(0, |row| row.count);
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn create_user(
        &self,
        user: NewUser,
        audit: AuditEntry,
    ) -> quay_core::Result<AccountRecord> {
        let txn = self.db.begin().await.or_storage()?;
        let namespace = self
            .insert_namespace(&txn, &user.name, "user", user.email.as_deref(), user.now_ms)
            .await?;
        let row = account::ActiveModel {
            kind: Set("user".to_string()),
            name: Set(user.name.to_string()),
            namespace_id: Set(namespace.id),
            email: Set(user.email),
            secret_hash: Set(user.password_hash),
            enabled: Set(true),
            superuser: Set(user.superuser),
            created_ms: Set(user.now_ms),
            ..Default::default()
        };
        let created = insert_account(&txn, row, user.name.as_str(), TAKEN.to_string()).await?;
        let audit = AuditEntry {
            namespace: audit.namespace.or(Some(namespace.id)),
            ..audit
        };
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()?;
        Ok(created)
    }

    async fn update_user(
        &self,
        account_id: AccountId,
        change: UserChange,
        audit: Vec<AuditEntry>,
    ) -> quay_core::Result<()> {
        let txn = self.db.begin().await.or_storage()?;
        let mut update = account::Entity::update_many().filter(account::Column::Id.eq(account_id));
        if let Some(hash) = change.password_hash {
            update = update.col_expr(account::Column::SecretHash, Expr::value(hash));
        }
        if let Some(email) = &change.email {
            update = update.col_expr(account::Column::Email, Expr::value(email.clone()));
        }
        if let Some(enabled) = change.enabled {
            update = update.col_expr(account::Column::Enabled, Expr::value(enabled));
        }
        update.exec(&txn).await.or_storage()?;
        // A user's namespace shares their contact address and their enabled state.
        let owned = account::Entity::find_by_id(account_id)
            .select_only()
            .column(account::Column::NamespaceId)
            .into_tuple::<i64>()
            .one(&txn)
            .await
            .or_storage()?;
        if let Some(namespace_id) = owned {
            let mut namespace_update =
                namespace::Entity::update_many().filter(namespace::Column::Id.eq(namespace_id));
            let mut touched = false;
            if let Some(email) = change.email {
                namespace_update =
                    namespace_update.col_expr(namespace::Column::Email, Expr::value(email));
                touched = true;
            }
            if let Some(enabled) = change.enabled {
                namespace_update =
                    namespace_update.col_expr(namespace::Column::Enabled, Expr::value(enabled));
                touched = true;
            }
            if touched {
                namespace_update.exec(&txn).await.or_storage()?;
            }
        }
        audit::record(&txn, audit).await?;
        txn.commit().await.or_storage()
    }

    async fn create_organization(
        &self,
        name: &Namespace,
        email: Option<&str>,
        creator: Option<AccountId>,
        audit: AuditEntry,
        now_ms: i64,
    ) -> quay_core::Result<NamespaceRecord> {
        let txn = self.db.begin().await.or_storage()?;
        // An organization cannot take a robot's or a user's name either.
        let namespace = self
            .insert_namespace(&txn, name, "org", email, now_ms)
            .await?;
        let owners = team::Entity::insert(team::ActiveModel {
            namespace_id: Set(namespace.id),
            name: Set("owners".to_string()),
            role: Set(TeamRole::Admin.as_str().to_string()),
            description: Set(String::new()),
            created_ms: Set(now_ms),
            ..Default::default()
        })
        .exec(&txn)
        .await
        .or_storage()?
        .last_insert_id;
        if let Some(creator) = creator {
            team_member::Entity::insert(team_member::ActiveModel {
                team_id: Set(owners),
                account_id: Set(creator),
                ..Default::default()
            })
            .exec_without_returning(&txn)
            .await
            .or_storage()?;
        }
        let audit = AuditEntry {
            namespace: audit.namespace.or(Some(namespace.id)),
            ..audit
        };
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()?;
        Ok(namespace)
    }

    async fn set_namespace_email(
        &self,
        namespace_id: NamespaceId,
        email: &str,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        self.set_namespace_column(namespace_id, namespace::Column::Email, email, audit)
            .await
    }

    async fn set_tag_expiration(
        &self,
        namespace_id: NamespaceId,
        seconds: i64,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        self.set_namespace_column(
            namespace_id,
            namespace::Column::TagExpirationS,
            seconds,
            audit,
        )
        .await
    }

    async fn users(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> quay_core::Result<Vec<AccountRecord>> {
        let rows = account::Entity::find()
            .filter(account::Column::Kind.eq("user"))
            .filter(account::Column::Name.gt(after.unwrap_or("")))
            .order_by_asc(account::Column::Name)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows.into_iter().map(account_record).collect())
    }

    async fn organizations(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> quay_core::Result<Vec<NamespaceRecord>> {
        let rows = namespace::Entity::find()
            .filter(namespace::Column::Kind.eq(NamespaceKind::Organization.as_str()))
            .filter(namespace::Column::Name.gt(after.unwrap_or("")))
            .order_by_asc(namespace::Column::Name)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows
            .into_iter()
            .map(namespace_record)
            .collect::<Result<_, _>>()?)
    }

    async fn organizations_of(
        &self,
        account_id: AccountId,
    ) -> quay_core::Result<Vec<(NamespaceRecord, TeamRole)>> {
        #[derive(FromQueryResult)]
        struct Membership {
            id: i64,
            role: String,
        }
        let memberships = Membership::find_by_statement(self.statement(
            "SELECT t.namespace_id AS id, t.role AS role FROM team t
             JOIN team_member m ON m.team_id = t.id WHERE m.account_id = $1",
            [account_id.into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        let mut highest: HashMap<i64, TeamRole> = HashMap::new();
        for membership in memberships {
            let role = TeamRole::from_name(&membership.role).ok_or_else(|| {
                StorageError::CorruptMetadata(format!("team role {:?}", membership.role))
            })?;
            let held = highest.entry(membership.id).or_insert(role);
            *held = (*held).max(role);
        }
        let rows = namespace::Entity::find()
            .filter(namespace::Column::Id.is_in(highest.keys().copied()))
            .order_by_asc(namespace::Column::Name)
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let role = highest[&row.id];
                Ok((namespace_record(row)?, role))
            })
            .collect::<Result<_, StorageError>>()?)
    }

    async fn create_robot(
        &self,
        robot: NewRobot,
        audit: AuditEntry,
    ) -> quay_core::Result<AccountRecord> {
        let txn = self.db.begin().await.or_storage()?;
        let name = robot.name.clone();
        let row = account::ActiveModel {
            kind: Set("robot".to_string()),
            name: Set(robot.name),
            namespace_id: Set(robot.owner),
            secret_hash: Set(robot.token_hash),
            enabled: Set(true),
            superuser: Set(false),
            description: Set(robot.description),
            metadata: Set(robot.metadata),
            created_ms: Set(robot.now_ms),
            ..Default::default()
        };
        let created = insert_account(
            &txn,
            row,
            &name,
            format!("Existing robot with name: {name}"),
        )
        .await?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()?;
        Ok(created)
    }

    async fn robots(&self, owner: NamespaceId) -> quay_core::Result<Vec<AccountRecord>> {
        let rows = account::Entity::find()
            .filter(account::Column::Kind.eq("robot"))
            .filter(account::Column::NamespaceId.eq(owner))
            .order_by_asc(account::Column::Name)
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows.into_iter().map(account_record).collect())
    }

    async fn set_account_secret(
        &self,
        account_id: AccountId,
        secret_hash: &str,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.db.begin().await.or_storage()?;
        account::Entity::update_many()
            .col_expr(account::Column::SecretHash, Expr::value(secret_hash))
            .filter(account::Column::Id.eq(account_id))
            .exec(&txn)
            .await
            .or_storage()?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }

    async fn delete_account(
        &self,
        account_id: AccountId,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        // A mirror's robot is kept while the mirror needs it (Quay's rule too).
        let mirrored = MirroredBy::find_by_statement(self.statement(
            "SELECT n.name AS namespace, r.name AS repository
             FROM repo_mirror m JOIN repository r ON r.id = m.repository_id
             JOIN namespace n ON n.id = r.namespace_id
             WHERE m.robot_id = $1 LIMIT 1",
            [account_id.into()],
        ))
        .one(&txn)
        .await
        .or_storage()?;
        if let Some(mirrored) = mirrored {
            return Err(quay_core::Error::InvalidRequest(format!(
                "the robot syncs the mirror of {}/{}: give the mirror another robot first",
                mirrored.namespace, mirrored.repository
            )));
        }
        account::Entity::delete_by_id(account_id)
            .exec(&txn)
            .await
            .or_storage()?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }
}

/// A repository whose mirror a robot syncs.
#[derive(FromQueryResult)]
struct MirroredBy {
    namespace: String,
    repository: String,
}
