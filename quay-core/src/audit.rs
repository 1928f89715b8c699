//! The usage log: every action, who did it, from where, on what.
//!
//! Use cases build an [`AuditEntry`] from the [`Actor`] of the request and hand it to the
//! store together with the change, which records both in one transaction: a change without
//! its entry never happens. Pulls change nothing in the database, so their entries go to an
//! `AuditSink` port that writes them in batches off the request path.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::account::{AccountId, NamespaceId};
use crate::repository::{Repository, RepositoryId};

macro_rules! log_kinds {
    ($($variant:ident => $name:literal,)*) => {
        /// The kinds of usage log entries this registry writes, with Quay's names.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum LogKind {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl LogKind {
            /// Every kind.
            pub const ALL: &[Self] = &[$(Self::$variant),*];

            /// Quay's name for the kind.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

log_kinds! {
    UserCreate => "user_create",
    UserDelete => "user_delete",
    UserEnable => "user_enable",
    UserDisable => "user_disable",
    UserChangeEmail => "user_change_email",
    UserChangePassword => "user_change_password",
    LoginSuccess => "login_success",
    LoginFailure => "login_failure",
    CreateAppSpecificToken => "create_app_specific_token",
    RevokeAppSpecificToken => "revoke_app_specific_token",
    CreateRobot => "create_robot",
    DeleteRobot => "delete_robot",
    RegenerateRobotToken => "regenerate_robot_token",
    CreateRepo => "create_repo",
    DeleteRepo => "delete_repo",
    PushRepo => "push_repo",
    PullRepo => "pull_repo",
    ChangeRepoVisibility => "change_repo_visibility",
    SetRepoDescription => "set_repo_description",
    DeleteTag => "delete_tag",
    CreateTag => "create_tag",
    MoveTag => "move_tag",
    RevertTag => "revert_tag",
    ChangeTagExpiration => "change_tag_expiration",
    ChangeTagImmutability => "change_tag_immutability",
    PermanentlyDeleteTag => "permanently_delete_tag",
    AutopruneTagDelete => "autoprune_tag_delete",
    UserChangeTagExpiration => "user_change_tag_expiration",
    OrgChangeTagExpiration => "org_change_tag_expiration",
    CreateNamespaceAutoprunePolicy => "create_namespace_autoprune_policy",
    UpdateNamespaceAutoprunePolicy => "update_namespace_autoprune_policy",
    DeleteNamespaceAutoprunePolicy => "delete_namespace_autoprune_policy",
    CreateRepositoryAutoprunePolicy => "create_repository_autoprune_policy",
    UpdateRepositoryAutoprunePolicy => "update_repository_autoprune_policy",
    DeleteRepositoryAutoprunePolicy => "delete_repository_autoprune_policy",
    ChangeRepoPermission => "change_repo_permission",
    DeleteRepoPermission => "delete_repo_permission",
    CreatePrototypePermission => "create_prototype_permission",
    ModifyPrototypePermission => "modify_prototype_permission",
    DeletePrototypePermission => "delete_prototype_permission",
    OrgCreate => "org_create",
    OrgDelete => "org_delete",
    OrgChangeEmail => "org_change_email",
    OrgCreateTeam => "org_create_team",
    OrgDeleteTeam => "org_delete_team",
    OrgSetTeamDescription => "org_set_team_description",
    OrgSetTeamRole => "org_set_team_role",
    OrgAddTeamMember => "org_add_team_member",
    OrgRemoveTeamMember => "org_remove_team_member",
    CreateApplication => "create_application",
    UpdateApplication => "update_application",
    DeleteApplication => "delete_application",
    OauthTokenAssigned => "oauth_token_assigned",
    OrgCreateQuota => "org_create_quota",
    OrgChangeQuota => "org_change_quota",
    OrgDeleteQuota => "org_delete_quota",
    OrgCreateQuotaLimit => "org_create_quota_limit",
    OrgChangeQuotaLimit => "org_change_quota_limit",
    OrgDeleteQuotaLimit => "org_delete_quota_limit",
    AddRepoNotification => "add_repo_notification",
    DeleteRepoNotification => "delete_repo_notification",
    ResetRepoNotification => "reset_repo_notification",
    CreateNamespaceNotification => "create_namespace_notification",
    DeleteNamespaceNotification => "delete_namespace_notification",
    ResetNamespaceNotification => "reset_namespace_notification",
    QuotaWarning => "quota_warning",
    QuotaError => "quota_error",
    ExportLogsSuccess => "export_logs_success",
    ExportLogsFailure => "export_logs_failure",
    CreateProxyCacheConfig => "create_proxy_cache_config",
    DeleteProxyCacheConfig => "delete_proxy_cache_config",
    RepoMirrorEnabled => "repo_mirror_enabled",
    RepoMirrorConfigChanged => "repo_mirror_config_changed",
    RepoMirrorSyncStarted => "repo_mirror_sync_started",
    RepoMirrorSyncSuccess => "repo_mirror_sync_success",
    RepoMirrorSyncFailed => "repo_mirror_sync_failed",
    RepoMirrorSyncTagSuccess => "repo_mirror_sync_tag_success",
    RepoMirrorSyncTagFailed => "repo_mirror_sync_tag_failed",
    ChangeRepoState => "change_repo_state",
}

/// How the performer proved who they are; recorded in the entry's metadata, as Quay does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// A user's password (Basic authentication or sign-in).
    Password,
    /// A browser session.
    Session,
    /// A robot's token.
    RobotToken,
    /// An app-specific token.
    AppToken {
        /// The token's public id.
        uuid: String,
        /// Its title.
        title: String,
    },
    /// An OAuth access token.
    OAuthToken {
        /// The token's public id.
        uuid: String,
        /// The application it was issued to.
        application: String,
    },
    /// A registry bearer token issued by `/v2/auth`.
    RegistryToken,
}

/// The account acting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Performer {
    /// Its id.
    pub account: AccountId,
    /// The username or robot name.
    pub name: String,
    /// Whether it is a robot.
    pub is_robot: bool,
    /// How it authenticated.
    pub credential: CredentialKind,
}

/// Who is acting, and from where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Actor {
    /// The authenticated account, if any.
    pub performer: Option<Performer>,
    /// The client's address.
    pub ip: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
}

impl Actor {
    /// Whoever is acting inside the registry itself (workers, command-line tools).
    pub fn system() -> Self {
        Self::default()
    }

    /// The id of the acting account.
    pub fn account(&self) -> Option<AccountId> {
        self.performer.as_ref().map(|p| p.account)
    }

    /// A new entry of `kind` at `at_ms`, with the performer's fields filled in.
    pub fn entry(&self, kind: LogKind, at_ms: i64) -> AuditEntry {
        let mut metadata = Map::new();
        if let Some(performer) = &self.performer {
            metadata.insert("username".into(), performer.name.clone().into());
            if performer.is_robot {
                metadata.insert("is_robot".into(), true.into());
            }
            match &performer.credential {
                CredentialKind::AppToken { uuid, title } => {
                    metadata.insert("app_specific_token".into(), uuid.clone().into());
                    metadata.insert("app_specific_token_title".into(), title.clone().into());
                }
                CredentialKind::OAuthToken { uuid, application } => {
                    metadata.insert("oauth_token_id".into(), uuid.clone().into());
                    metadata.insert("oauth_token_application".into(), application.clone().into());
                }
                _ => {}
            }
        }
        if let Some(agent) = &self.user_agent {
            metadata.insert("user-agent".into(), agent.clone().into());
        }
        AuditEntry {
            kind,
            namespace: None,
            performer: self.account(),
            repository: None,
            ip: self.ip.clone(),
            metadata,
            at_ms,
        }
    }
}

/// One usage log entry, to be written.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    /// What happened.
    pub kind: LogKind,
    /// The namespace the entry belongs to; a store that creates the namespace in the same
    /// change fills it in.
    pub namespace: Option<NamespaceId>,
    /// Who did it.
    pub performer: Option<AccountId>,
    /// The repository it happened to.
    pub repository: Option<RepositoryId>,
    /// The client's address.
    pub ip: Option<String>,
    /// Details, by kind.
    pub metadata: Map<String, Value>,
    /// When, epoch milliseconds.
    pub at_ms: i64,
}

impl AuditEntry {
    /// Files the entry under a namespace.
    pub fn namespace(mut self, namespace: NamespaceId) -> Self {
        self.namespace = Some(namespace);
        self
    }

    /// Files the entry under a repository (and its namespace), naming it in the metadata.
    pub fn repository(mut self, repository: &Repository) -> Self {
        self.namespace = Some(repository.namespace);
        self.repository = Some(repository.id);
        self.metadata.insert(
            "namespace".into(),
            repository.path.namespace.as_str().into(),
        );
        self.metadata
            .insert("repo".into(), repository.path.name.as_str().into());
        self
    }

    /// Adds a detail.
    pub fn meta(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.to_string(), value.into());
        self
    }
}

/// A usage log entry as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    /// Database id (ascending with time).
    pub id: i64,
    /// The kind's name.
    pub kind: String,
    /// The namespace it belongs to: name and kind, if it still exists.
    pub namespace: Option<(String, crate::account::NamespaceKind)>,
    /// The performer's name and whether it is a robot, if it still exists.
    pub performer: Option<(String, bool)>,
    /// The client's address.
    pub ip: Option<String>,
    /// Details.
    pub metadata: Value,
    /// When, epoch milliseconds.
    pub at_ms: i64,
}

impl LogRecord {
    /// The entry as Quay's API shows it; with its namespace where entries of several
    /// namespaces are read together (a user's, everyone's).
    pub fn view(self, with_namespace: bool) -> LogView {
        LogView {
            kind: self.kind,
            metadata: self.metadata,
            ip: self.ip,
            datetime: rfc2822(self.at_ms),
            performer: self.performer.map(|(name, is_robot)| PerformerView {
                kind: "user",
                name,
                is_robot,
            }),
            namespace: self
                .namespace
                .filter(|_| with_namespace)
                .map(|(name, kind)| LogNamespace {
                    kind: kind.as_str(),
                    name,
                }),
        }
    }
}

/// A usage log entry as Quay shows it, in the API and in exports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogView {
    /// What happened (`push_repo`, `create_robot`, ...).
    pub kind: String,
    /// Details, by kind.
    pub metadata: Value,
    /// The client's address.
    pub ip: Option<String>,
    /// When (RFC 2822).
    pub datetime: String,
    /// Who, if anyone authenticated (and the account still exists).
    pub performer: Option<PerformerView>,
    /// Where (user and superuser logs only).
    pub namespace: Option<LogNamespace>,
}

/// The performer of an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PerformerView {
    /// Always `user`.
    pub kind: &'static str,
    /// The user's or robot's name.
    pub name: String,
    /// Whether it is a robot.
    pub is_robot: bool,
}

/// The namespace of an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogNamespace {
    /// `user` or `org`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
}

/// `ms` since the epoch as Quay writes times in logs: RFC 2822, UTC.
pub fn rfc2822(ms: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] -0000"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&format).ok())
        .unwrap_or_default()
}

/// Which entries to read, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// Only this namespace's.
    pub namespace: Option<NamespaceId>,
    /// Only this repository's.
    pub repository: Option<RepositoryId>,
    /// Only by this performer.
    pub performer: Option<AccountId>,
    /// From (inclusive), epoch milliseconds.
    pub from_ms: i64,
    /// Until (exclusive), epoch milliseconds.
    pub until_ms: i64,
    /// Continue after this entry, `(at_ms, id)` of the previous page's last: entries are
    /// ordered by time, then by id (pulls are written a little after they happen).
    pub after: Option<(i64, i64)>,
    /// At most this many.
    pub limit: u32,
}

/// How many entries of a kind a day saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogCount {
    /// The kind's name.
    pub kind: String,
    /// Start of the day (UTC), epoch milliseconds.
    pub day_ms: i64,
    /// Entries that day.
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RepositoryPath;

    #[test]
    fn entries_carry_the_performer_and_the_repository() {
        let actor = Actor {
            performer: Some(Performer {
                account: 7,
                name: "acme+ci".into(),
                is_robot: true,
                credential: CredentialKind::RobotToken,
            }),
            ip: Some("10.0.0.1".into()),
            user_agent: Some("skopeo/1.9".into()),
        };
        let repository = Repository {
            id: 3,
            namespace: 2,
            path: RepositoryPath::parse("acme/app").unwrap(),
            state: Default::default(),
        };
        let entry = actor
            .entry(LogKind::PushRepo, 1000)
            .repository(&repository)
            .meta("tag", "v1");
        assert_eq!(entry.performer, Some(7));
        assert_eq!((entry.namespace, entry.repository), (Some(2), Some(3)));
        assert_eq!(entry.metadata["username"], "acme+ci");
        assert_eq!(entry.metadata["is_robot"], true);
        assert_eq!(entry.metadata["repo"], "app");
        assert_eq!(entry.metadata["namespace"], "acme");
        assert_eq!(entry.metadata["tag"], "v1");
        assert_eq!(entry.metadata["user-agent"], "skopeo/1.9");
        assert_eq!(entry.ip.as_deref(), Some("10.0.0.1"));
    }

    #[test]
    fn kind_names_are_unique() {
        let mut names: Vec<&str> = LogKind::ALL.iter().map(|kind| kind.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), LogKind::ALL.len());
    }
}
