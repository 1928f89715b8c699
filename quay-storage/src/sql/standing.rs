//! Where an account stands with a namespace and its repositories: the facts the permission
//! rules decide on, read in one query (`access_sql`, `standing_columns`).

use quay_core::account::NamespaceRecord;
use quay_core::names::Namespace;
use quay_core::permission::{NamespaceFacts, Role, TeamRole};
use sea_orm::FromQueryResult;

use super::accounts::namespace_kind;
use super::repository_row::RepositoryRow;
use crate::error::StorageError;

/// Ranks of roles in SQL, so that `MAX` finds the highest (cast to `BIGINT` where read:
/// PostgreSQL's `CASE` yields a 32-bit integer).
pub(super) const ROLE_RANK: &str =
    "CASE {} WHEN 'admin' THEN 3 WHEN 'write' THEN 2 WHEN 'read' THEN 1 END";
pub(super) const TEAM_ROLE_RANK: &str =
    "CASE {} WHEN 'admin' THEN 3 WHEN 'creator' THEN 2 WHEN 'member' THEN 1 END";

pub(super) fn rank(template: &str, column: &str) -> String {
    template.replace("{}", column)
}

pub(super) fn role_of_rank(rank: Option<i64>) -> Option<Role> {
    match rank {
        Some(3) => Some(Role::Admin),
        Some(2) => Some(Role::Write),
        Some(1) => Some(Role::Read),
        _ => None,
    }
}

pub(super) fn team_role_of_rank(rank: Option<i64>) -> Option<TeamRole> {
    match rank {
        Some(3) => Some(TeamRole::Admin),
        Some(2) => Some(TeamRole::Creator),
        Some(1) => Some(TeamRole::Member),
        _ => None,
    }
}

/// A namespace with where an account stands in it, and optionally a repository in it.
#[derive(FromQueryResult)]
pub(super) struct AccessRow {
    pub(super) namespace_id: i64,
    pub(super) namespace_name: String,
    pub(super) namespace_kind: String,
    pub(super) namespace_enabled: bool,
    pub(super) namespace_email: Option<String>,
    pub(super) namespace_tag_expiration_s: i64,
    pub(super) owner: Option<bool>,
    pub(super) team_rank: Option<i64>,
    pub(super) proxy_cache: Option<bool>,
    pub(super) repository_id: Option<i64>,
    pub(super) repository_name: Option<String>,
    pub(super) visibility: Option<String>,
    pub(super) repository_state: Option<String>,
    pub(super) direct_rank: Option<i64>,
    pub(super) team_repository_rank: Option<i64>,
}

impl AccessRow {
    pub(super) fn namespace(&self) -> Result<NamespaceRecord, StorageError> {
        Ok(NamespaceRecord {
            id: self.namespace_id,
            name: Namespace::parse(&self.namespace_name).map_err(|_| {
                StorageError::CorruptMetadata(format!("namespace {:?}", self.namespace_name))
            })?,
            kind: namespace_kind(&self.namespace_kind),
            enabled: self.namespace_enabled,
            email: self.namespace_email.clone(),
            tag_expiration_s: self.namespace_tag_expiration_s,
        })
    }

    pub(super) fn namespace_facts(&self) -> NamespaceFacts {
        NamespaceFacts {
            owner: self.owner.unwrap_or(false),
            team_role: team_role_of_rank(self.team_rank),
            proxy_cache: self.proxy_cache.unwrap_or(false),
        }
    }
}

/// A repository of a listing with the account's standing.
#[derive(FromQueryResult)]
pub(super) struct ListedRow {
    #[sea_orm(nested)]
    pub(super) repository: RepositoryRow,
    pub(super) owner: Option<bool>,
    pub(super) team_rank: Option<i64>,
    pub(super) proxy_cache: Option<bool>,
    pub(super) direct_rank: Option<i64>,
    pub(super) team_repository_rank: Option<i64>,
}

/// Where the account `account` (a placeholder) stands with repository `r` of namespace `n`:
/// columns `owner`, `team_rank`, `proxy_cache`, `direct_rank`, `team_repository_rank`.
pub(super) fn standing_columns(account: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM account a
                 WHERE a.id = {account} AND a.kind = 'user' AND a.namespace_id = n.id) AS owner,
         (SELECT CAST(MAX({team_rank}) AS BIGINT) FROM team t
          JOIN team_member m ON m.team_id = t.id
          WHERE t.namespace_id = n.id AND m.account_id = {account}) AS team_rank,
         EXISTS (SELECT 1 FROM proxy_cache_config pc WHERE pc.namespace_id = n.id) AS proxy_cache,
         (SELECT CAST(MAX({direct_rank}) AS BIGINT) FROM repository_permission p
          WHERE p.repository_id = r.id AND p.account_id = {account}) AS direct_rank,
         (SELECT CAST(MAX({direct_rank}) AS BIGINT) FROM repository_permission p
          JOIN team_member m ON m.team_id = p.team_id
          WHERE p.repository_id = r.id AND m.account_id = {account}) AS team_repository_rank",
        team_rank = rank(TEAM_ROLE_RANK, "t.role"),
        direct_rank = rank(ROLE_RANK, "p.role"),
    )
}

/// `$1` namespace name, `$2` account (or NULL), `$3` repository name (or NULL).
pub(super) fn access_sql() -> String {
    format!(
        "SELECT n.id AS namespace_id, n.name AS namespace_name, n.kind AS namespace_kind,
                n.enabled AS namespace_enabled, n.email AS namespace_email,
                n.tag_expiration_s AS namespace_tag_expiration_s,
                r.id AS repository_id, r.name AS repository_name, r.visibility AS visibility,
                r.state AS repository_state,
                {standing}
         FROM namespace n
         LEFT JOIN repository r ON r.namespace_id = n.id AND r.name = $3
         WHERE n.name = $1",
        standing = standing_columns("$2"),
    )
}
