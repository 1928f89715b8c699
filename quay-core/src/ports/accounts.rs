//! Ports of tenancy: accounts, teams, permissions, credentials and the usage log.
//!
//! Every method that changes something takes the [`AuditEntry`] (or entries) describing the
//! change and records it in the same transaction.

use async_trait::async_trait;

use super::log_exports::LogExports;
use super::proxy::ProxyCacheStore;
use super::quota::{NotificationStore, QuotaStore};
use crate::account::{
    AccountId, AccountRecord, Grantee, NamespaceId, NamespaceRecord, PermissionRecord,
    PrototypeRecord, TeamId, TeamRecord,
};
use crate::audit::{AuditEntry, LogCount, LogQuery, LogRecord};
use crate::error::Result;
use crate::names::{Namespace, RepositoryPath};
use crate::permission::{NamespaceFacts, RepositoryFacts, Role, TeamRole, Visibility};
use crate::repository::{Repository, RepositoryDetails, RepositoryId};

/// A user to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    /// The username (also the user's namespace).
    pub name: Namespace,
    /// Contact address.
    pub email: Option<String>,
    /// The password's hash.
    pub password_hash: String,
    /// Whether the user is a superuser (besides those `SUPER_USERS` names).
    pub superuser: bool,
    /// When, epoch milliseconds.
    pub now_ms: i64,
}

/// Changes to a user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserChange {
    /// A new password hash.
    pub password_hash: Option<String>,
    /// A new contact address.
    pub email: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// A robot to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRobot {
    /// The namespace it belongs to.
    pub owner: NamespaceId,
    /// Its full name, `owner+short`.
    pub name: String,
    /// The token's hash.
    pub token_hash: String,
    /// Free text.
    pub description: Option<String>,
    /// Free-form metadata (JSON).
    pub metadata: Option<String>,
    /// When, epoch milliseconds.
    pub now_ms: i64,
}

/// Users, organizations and robots.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The namespace named `name`.
    async fn namespace(&self, name: &Namespace) -> Result<Option<NamespaceRecord>>;

    /// The user or robot named `name`.
    async fn account(&self, name: &str) -> Result<Option<AccountRecord>>;

    /// The user or robot with id `id`.
    async fn account_by_id(&self, id: AccountId) -> Result<Option<AccountRecord>>;

    /// The user or robot named `name`, with the hash of its password (users) or token
    /// (robots): what a login checks, in one read.
    async fn account_with_secret(&self, name: &str) -> Result<Option<(AccountRecord, String)>>;

    /// The user or robot with id `id`, with the hash of its secret.
    async fn account_by_id_with_secret(
        &self,
        id: AccountId,
    ) -> Result<Option<(AccountRecord, String)>>;

    /// How many users exist (robots excluded).
    async fn count_users(&self) -> Result<u64>;

    /// Creates a user and their namespace; the entry is filed under the new namespace. A
    /// taken name is [`crate::Error::AlreadyExists`].
    async fn create_user(&self, user: NewUser, audit: AuditEntry) -> Result<AccountRecord>;

    /// Changes a user.
    async fn update_user(
        &self,
        account: AccountId,
        change: UserChange,
        audit: Vec<AuditEntry>,
    ) -> Result<()>;

    /// Creates an organization with its `owners` team (role admin) holding `creator`; the
    /// entry is filed under the new namespace.
    async fn create_organization(
        &self,
        name: &Namespace,
        email: Option<&str>,
        creator: Option<AccountId>,
        audit: AuditEntry,
        now_ms: i64,
    ) -> Result<NamespaceRecord>;

    /// Changes an organization's contact address.
    async fn set_namespace_email(
        &self,
        namespace: NamespaceId,
        email: &str,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Changes a namespace's time-machine window.
    async fn set_tag_expiration(
        &self,
        namespace: NamespaceId,
        seconds: i64,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Users in name order, at most `limit` after `after`.
    async fn users(&self, after: Option<&str>, limit: u32) -> Result<Vec<AccountRecord>>;

    /// Organizations in name order, at most `limit` after `after`.
    async fn organizations(&self, after: Option<&str>, limit: u32) -> Result<Vec<NamespaceRecord>>;

    /// The organizations a user belongs to (through teams), by name, with the highest role
    /// of their teams in each.
    async fn organizations_of(
        &self,
        account: AccountId,
    ) -> Result<Vec<(NamespaceRecord, TeamRole)>>;

    /// Creates a robot. A taken name is [`crate::Error::AlreadyExists`].
    async fn create_robot(&self, robot: NewRobot, audit: AuditEntry) -> Result<AccountRecord>;

    /// The robots of a namespace, by name.
    async fn robots(&self, owner: NamespaceId) -> Result<Vec<AccountRecord>>;

    /// Replaces a robot's token hash.
    async fn set_account_secret(
        &self,
        account: AccountId,
        secret_hash: &str,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Deletes a robot (its permissions and team memberships go with it).
    async fn delete_account(&self, account: AccountId, audit: AuditEntry) -> Result<()>;
}

/// A team's new state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamChange {
    /// The organization.
    pub organization: NamespaceId,
    /// The team's name.
    pub name: Namespace,
    /// Its role.
    pub role: TeamRole,
    /// Its description.
    pub description: String,
    /// When, epoch milliseconds (the creation time of a new team).
    pub now_ms: i64,
}

/// Teams of organizations and their members.
#[async_trait]
pub trait TeamStore: Send + Sync {
    /// The teams of an organization, by name.
    async fn teams(&self, organization: NamespaceId) -> Result<Vec<TeamRecord>>;

    /// One team.
    async fn team(&self, organization: NamespaceId, name: &Namespace)
    -> Result<Option<TeamRecord>>;

    /// Creates or changes a team.
    async fn save_team(&self, team: TeamChange, audit: Vec<AuditEntry>) -> Result<TeamRecord>;

    /// Deletes a team.
    async fn delete_team(&self, team: TeamId, audit: AuditEntry) -> Result<()>;

    /// A team's members (users and robots), by name.
    async fn team_members(&self, team: TeamId) -> Result<Vec<AccountRecord>>;

    /// Adds a member (no change if already one).
    async fn add_team_member(
        &self,
        team: TeamId,
        account: AccountId,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Removes a member; whether it was one.
    async fn remove_team_member(
        &self,
        team: TeamId,
        account: AccountId,
        audit: AuditEntry,
    ) -> Result<bool>;

    /// Removes `account` from every team of `organization` and every permission on its
    /// repositories; whether it held any.
    async fn remove_organization_member(
        &self,
        organization: NamespaceId,
        account: AccountId,
        audit: AuditEntry,
    ) -> Result<bool>;

    /// The teams of `organization` that `account` is in.
    async fn teams_of(
        &self,
        organization: NamespaceId,
        account: AccountId,
    ) -> Result<Vec<TeamRecord>>;
}

/// Where an account stands with a repository path, gathered in one query: whether the
/// namespace and repository exist, and every fact the permission rules need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryAccess {
    /// The namespace, if it exists.
    pub namespace: Option<NamespaceRecord>,
    /// The repository and its visibility, if it exists.
    pub repository: Option<(Repository, Visibility)>,
    /// The account's standing in the namespace.
    pub namespace_facts: NamespaceFacts,
    /// The account's own permission on the repository.
    pub direct_role: Option<Role>,
    /// The highest permission on it of a team the account is in.
    pub team_role: Option<Role>,
}

/// Which repositories a listing considers, before the permission rules decide on each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListingScope {
    /// Every repository (for those who may read everything).
    Everything,
    /// Public repositories.
    Public,
    /// Repositories the account has a standing with: a permission of its own or of a team,
    /// its own namespace, an admin team of the organization; and public ones with `public`.
    Standing {
        /// Public repositories too.
        public: bool,
    },
}

/// A page of a repository listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryListing {
    /// Whose standing to gather (`None`: anonymous).
    pub account: Option<AccountId>,
    /// Only this namespace's repositories.
    pub namespace: Option<NamespaceId>,
    /// Which repositories.
    pub scope: ListingScope,
    /// Continue after this path.
    pub after: Option<RepositoryPath>,
    /// At most this many.
    pub limit: u32,
}

/// A repository of a listing, with the facts the permission rules need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedRepository {
    /// The repository.
    pub details: RepositoryDetails,
    /// Where the listing's account stands with it.
    pub facts: RepositoryFacts,
}

/// A default permission to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPrototype {
    /// The organization.
    pub organization: NamespaceId,
    /// The creator it applies to; `None` for every creator.
    pub activating_account: Option<AccountId>,
    /// Who receives the permission.
    pub delegate: Grantee,
    /// The role given.
    pub role: Role,
}

/// Repository permissions and default permissions.
#[async_trait]
pub trait PermissionStore: Send + Sync {
    /// Where `account` (`None`: anonymous) stands with the repository at `path`.
    async fn repository_access(
        &self,
        account: Option<AccountId>,
        path: &RepositoryPath,
    ) -> Result<RepositoryAccess>;

    /// Where `account` stands in the namespace named `name`, if it exists.
    async fn namespace_access(
        &self,
        account: Option<AccountId>,
        name: &Namespace,
    ) -> Result<Option<(NamespaceRecord, NamespaceFacts)>>;

    /// Repositories in path order, with the listing account's standing on each.
    async fn list_with_standing(
        &self,
        listing: &RepositoryListing,
    ) -> Result<Vec<ListedRepository>>;

    /// The permissions on a repository.
    async fn repository_permissions(
        &self,
        repository: RepositoryId,
    ) -> Result<Vec<PermissionRecord>>;

    /// Grants (or changes) a permission.
    async fn set_permission(
        &self,
        repository: RepositoryId,
        grantee: &Grantee,
        role: Role,
        audit: AuditEntry,
    ) -> Result<()>;

    /// Removes a permission; whether there was one.
    async fn delete_permission(
        &self,
        repository: RepositoryId,
        grantee: &Grantee,
        audit: AuditEntry,
    ) -> Result<bool>;

    /// The users and robots holding a permission on a repository of the namespace, each
    /// with that repository's name, by account name.
    async fn account_grants_in(
        &self,
        namespace: NamespaceId,
    ) -> Result<Vec<(AccountRecord, String)>>;

    /// The repositories a user, robot or team holds a permission on.
    async fn permissions_of(
        &self,
        grantee: &Grantee,
    ) -> Result<Vec<(RepositoryPath, Visibility, Role)>>;

    /// An organization's default permissions.
    async fn prototypes(&self, organization: NamespaceId) -> Result<Vec<PrototypeRecord>>;

    /// Creates a default permission with a new public id (noted in the entry as `id`).
    async fn create_prototype(
        &self,
        prototype: NewPrototype,
        audit: AuditEntry,
    ) -> Result<PrototypeRecord>;

    /// Changes a default permission's role; whether it exists.
    async fn set_prototype_role(
        &self,
        organization: NamespaceId,
        uuid: &str,
        role: Role,
        audit: AuditEntry,
    ) -> Result<bool>;

    /// Deletes a default permission; whether it existed.
    async fn delete_prototype(
        &self,
        organization: NamespaceId,
        uuid: &str,
        audit: AuditEntry,
    ) -> Result<bool>;
}

/// A stored token or session credential: found by its lookup part, verified by the hash of
/// its secret part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// What kind of credential.
    pub kind: TokenKind,
    /// Its public id.
    pub uuid: String,
    /// The account it acts for.
    pub account: AccountId,
    /// The lookup part (not secret).
    pub lookup: String,
    /// The hash of the secret part.
    pub secret_hash: String,
    /// Title (app tokens), scopes (OAuth tokens), CSRF token (sessions).
    pub detail: String,
    /// The OAuth application it was issued to (client id).
    pub application: Option<String>,
    /// When it was created, epoch milliseconds.
    pub created_ms: i64,
    /// When it expires, if ever.
    pub expires_ms: Option<i64>,
    /// When it was last used.
    pub last_used_ms: Option<i64>,
}

/// The kinds of stored credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// An app-specific token (`$app`).
    AppToken,
    /// An OAuth access token (`$oauthtoken`, `Bearer`).
    OAuthToken,
    /// A browser session.
    Session,
}

impl TokenKind {
    /// The kind's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AppToken => "app",
            Self::OAuthToken => "oauth",
            Self::Session => "session",
        }
    }
}

/// An OAuth application of an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationRecord {
    /// The organization.
    pub organization: NamespaceId,
    /// Public client id.
    pub client_id: String,
    /// The hash of the client secret.
    pub client_secret_hash: String,
    /// Name.
    pub name: String,
    /// Where tokens are sent.
    pub redirect_uri: String,
    /// The application's home page.
    pub application_uri: String,
    /// Free text.
    pub description: String,
}

/// App tokens, OAuth tokens and applications, sessions, and the token signing key.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Stores a token or session.
    async fn create_token(&self, token: TokenRecord, audit: Option<AuditEntry>) -> Result<()>;

    /// The token or session of `kind` with lookup part `lookup`.
    async fn token(&self, kind: TokenKind, lookup: &str) -> Result<Option<TokenRecord>>;

    /// The tokens of `kind` of an account.
    async fn tokens_of(&self, kind: TokenKind, account: AccountId) -> Result<Vec<TokenRecord>>;

    /// Deletes a token or session by its public id; whether it existed.
    async fn delete_token(
        &self,
        kind: TokenKind,
        uuid: &str,
        audit: Option<AuditEntry>,
    ) -> Result<bool>;

    /// Notes that a token was used (at most about once a minute per token).
    async fn touch_token(&self, kind: TokenKind, uuid: &str, now_ms: i64) -> Result<()>;

    /// Creates or replaces an application.
    async fn save_application(
        &self,
        application: ApplicationRecord,
        audit: AuditEntry,
    ) -> Result<()>;

    /// The applications of an organization.
    async fn applications(&self, organization: NamespaceId) -> Result<Vec<ApplicationRecord>>;

    /// An application by client id.
    async fn application(&self, client_id: &str) -> Result<Option<ApplicationRecord>>;

    /// Deletes an application and its tokens; whether it existed.
    async fn delete_application(&self, client_id: &str, audit: AuditEntry) -> Result<bool>;

    /// The key registry tokens are signed with: `(key id, PKCS#8 DER)`, if one exists.
    async fn signing_key(&self) -> Result<Option<(String, Vec<u8>)>>;

    /// Stores a signing key unless one exists; the key in force afterwards (of several
    /// nodes starting at once, one key wins).
    async fn store_signing_key(&self, kid: &str, pkcs8: &[u8]) -> Result<(String, Vec<u8>)>;
}

/// The usage log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Records entries (pulls, in batches). A pull through a proxy cache organization (an
    /// entry with `upstream` and `tag`) also marks when that tag was last pulled, the order
    /// in which the organization evicts tags.
    async fn append(&self, entries: &[AuditEntry]) -> Result<()>;

    /// Entries matching the query, newest first.
    async fn logs(&self, query: &LogQuery) -> Result<Vec<LogRecord>>;

    /// Entries matching the query, counted per kind and day.
    async fn log_counts(&self, query: &LogQuery) -> Result<Vec<LogCount>>;
}

/// Where pull entries go: recorded later, in batches, off the request's path.
#[async_trait]
pub trait AuditSink: Send + Sync {
    /// Queues an entry; waits only when the queue is full (the writer is behind), so that
    /// no entry is dropped and memory stays bounded.
    async fn record(&self, entry: AuditEntry);
}

/// Tenancy in the database: accounts, teams, permissions, credentials, the usage log.
pub trait AccountDirectory:
    AccountStore
    + TeamStore
    + PermissionStore
    + CredentialStore
    + AuditLog
    + QuotaStore
    + NotificationStore
    + LogExports
    + ProxyCacheStore
{
}

impl<T> AccountDirectory for T where
    T: AccountStore
        + TeamStore
        + PermissionStore
        + CredentialStore
        + AuditLog
        + QuotaStore
        + NotificationStore
        + LogExports
        + ProxyCacheStore
{
}
