//! Views that more than one area of the API shows: a team in an organization's view and
//! in the team API, the permissions held by a team or a robot, a namespace's quota and size
//! in organization, repository and quota answers.

use quay_core::account::TeamRecord;
use quay_core::names::RepositoryPath;
use quay_core::permission::{Role, Visibility};
use serde::Serialize;
use utoipa::ToSchema;

/// A team, named.
#[derive(Serialize, ToSchema)]
pub(crate) struct TeamName {
    pub(crate) name: String,
}

/// A team of an organization.
#[derive(Serialize, ToSchema)]
pub(crate) struct TeamView {
    name: String,
    description: String,
    /// `member`, `creator` or `admin`.
    role: String,
    /// Whether the caller may see its members.
    can_view: bool,
    repo_count: u64,
    member_count: u64,
    is_synced: bool,
}

impl TeamView {
    pub(crate) fn of(team: TeamRecord, can_view: bool) -> Self {
        Self {
            name: team.name.to_string(),
            description: team.description,
            role: team.role.as_str().into(),
            can_view,
            repo_count: team.repository_count,
            member_count: team.member_count,
            is_synced: false,
        }
    }
}

/// A repository, named within its namespace.
#[derive(Serialize, ToSchema)]
pub(crate) struct RepositoryName {
    name: String,
    is_public: bool,
}

/// A permission held on a repository.
#[derive(Serialize, ToSchema)]
pub(crate) struct HeldPermission {
    repository: RepositoryName,
    role: String,
}

/// The permissions a team or robot holds.
#[derive(Serialize, ToSchema)]
pub(crate) struct HeldPermissions {
    permissions: Vec<HeldPermission>,
}

impl HeldPermissions {
    pub(crate) fn of(held: Vec<(RepositoryPath, Visibility, Role)>) -> Self {
        Self {
            permissions: held
                .into_iter()
                .map(|(path, visibility, role)| HeldPermission {
                    repository: RepositoryName {
                        name: path.name.to_string(),
                        is_public: visibility == Visibility::Public,
                    },
                    role: role.as_str().into(),
                })
                .collect(),
        }
    }
}

/// A limit as the API shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct LimitView {
    /// Its id (`null` for the system default's).
    pub(super) id: Option<i64>,
    /// `Warning` or `Reject`.
    #[serde(rename = "type")]
    pub(super) kind: String,
    /// Its threshold, percent of the quota.
    pub(super) limit_percent: u8,
}

/// A quota as the API shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct QuotaView {
    /// Its id (`null` for the system default).
    pub(super) id: Option<i64>,
    pub(super) limit_bytes: u64,
    /// The size, human (`10.0 GiB`).
    pub(super) limit: String,
    /// Whether this is the registry's default rather than the namespace's own.
    pub(super) default_config: bool,
    pub(super) limits: Vec<LimitView>,
    /// Whether the registry has a default quota.
    pub(super) default_config_exists: bool,
}

/// A namespace's size and quota, as organization and repository views report them.
#[derive(Serialize, ToSchema)]
pub(crate) struct QuotaReport {
    /// Bytes used.
    pub(super) quota_bytes: u64,
    /// The quota (`null` for none).
    pub(super) configured_quota: Option<u64>,
    /// `waiting`, `running` or `complete` (namespaces only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) running_backfill: Option<&'static str>,
    /// The same, under its newer name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) backfill_status: Option<&'static str>,
}
