//! Repositories through the API: creation, settings, listing, permissions and the
//! organization's default permissions.

use super::tenancy::{Accounts, found, invalid, not_found};
use crate::access::{self, Action, Caller, Identity, ListingReach};
use crate::account::{
    AccountKind, Grantee, NamespaceKind, NamespaceRecord, PermissionRecord, PrototypeRecord,
    TeamRecord,
};
use crate::audit::{Actor, AuditEntry, LogKind};
use crate::error::{Error, Result};
use crate::names::{Namespace, RepositoryPath};
use crate::permission::{NamespaceAction, RepositoryAction, Role, Visibility};
use crate::ports::{
    Creation, ListingScope, NewPrototype, NewRepository, Repository, RepositoryDetails,
    RepositoryListing,
};

/// A page of repositories the caller may read, with the role each gives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryPage {
    /// The repositories, in path order.
    pub repositories: Vec<(RepositoryDetails, Role)>,
    /// Where the next page starts, if there may be one.
    pub next: Option<RepositoryPath>,
}

/// Who receives a default permission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delegate {
    /// A user or robot, by name.
    Account(String),
    /// A team of the organization, by name.
    Team(Namespace),
}

impl Accounts {
    /// Creates a repository through the API (`repo:create`, where the caller may create
    /// repositories): the creator becomes its admin and the organization's default
    /// permissions apply.
    pub async fn create_repository(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        visibility: Visibility,
        description: Option<String>,
    ) -> Result<Repository> {
        let namespace = self
            .namespace_for(
                &caller.identity,
                &path.namespace,
                NamespaceAction::CreateRepository,
            )
            .await?;
        let actor = &caller.actor;
        let audit = self
            .entry(actor, LogKind::CreateRepo)
            .namespace(namespace.id)
            .meta("namespace", path.namespace.as_str())
            .meta("repo", path.name.as_str());
        let new = NewRepository {
            visibility,
            description,
            creator: actor.account(),
            creation: Creation::Requested,
        };
        let (repository, created) = self
            .repositories
            .create_repository(namespace.id, path, new, Some(audit), self.now_ms())
            .await?;
        if !created {
            return Err(invalid("Repository already exists"));
        }
        Ok(repository)
    }

    /// The repository at `path` with its settings, which must exist.
    pub async fn repository(&self, path: &RepositoryPath) -> Result<RepositoryDetails> {
        let repository = self
            .repositories
            .find_repository(path)
            .await?
            .ok_or(Error::RepositoryUnknown)?;
        self.repository_settings
            .repository_details(repository.id)
            .await?
            .ok_or(Error::RepositoryUnknown)
    }

    fn repository_entry(
        &self,
        actor: &Actor,
        kind: LogKind,
        repository: &Repository,
    ) -> AuditEntry {
        self.entry(actor, kind).repository(repository)
    }

    /// Makes a repository public or private.
    pub async fn set_visibility(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        visibility: Visibility,
    ) -> Result<()> {
        let repository = &self
            .repository_for(&caller.identity, path, RepositoryAction::Admin)
            .await?
            .repository;
        let actor = &caller.actor;
        let audit = self
            .repository_entry(actor, LogKind::ChangeRepoVisibility, repository)
            .meta("visibility", visibility.as_str());
        self.repository_settings
            .set_visibility(repository.id, visibility, audit)
            .await
    }

    /// Changes a repository's description.
    pub async fn set_description(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        description: &str,
    ) -> Result<()> {
        let repository = &self
            .repository_for(&caller.identity, path, RepositoryAction::Write)
            .await?
            .repository;
        let actor = &caller.actor;
        let audit = self
            .repository_entry(actor, LogKind::SetRepoDescription, repository)
            .meta("description", description);
        self.repository_settings
            .set_description(repository.id, description, audit)
            .await
    }

    /// Deletes a repository's tags, manifests and permissions.
    pub async fn delete_repository(&self, caller: &Caller, path: &RepositoryPath) -> Result<()> {
        let repository = &self
            .repository_for(&caller.identity, path, RepositoryAction::Admin)
            .await?
            .repository;
        let audit = self.repository_entry(&caller.actor, LogKind::DeleteRepo, repository);
        self.repositories
            .delete_repository(repository.id, audit)
            .await
    }

    /// A page of the repositories `caller` may read: of one namespace or of all, and with
    /// `public` also every public one (Quay's `GET /api/v1/repository`).
    pub async fn visible_repositories(
        &self,
        caller: &Identity,
        namespace: Option<&NamespaceRecord>,
        public: bool,
        after: Option<RepositoryPath>,
        limit: u32,
    ) -> Result<RepositoryPage> {
        self.permit(caller, Action::ListRepositories)?;
        let account = caller.principal().map(|principal| principal.account);
        let scope = match access::listing_reach(caller, self.permissions) {
            ListingReach::Everything => ListingScope::Everything,
            ListingReach::Public if public || namespace.is_some() => ListingScope::Public,
            ListingReach::Public => {
                return Ok(RepositoryPage {
                    repositories: Vec::new(),
                    next: None,
                });
            }
            ListingReach::Standing => ListingScope::Standing { public },
        };
        let listing = RepositoryListing {
            account,
            namespace: namespace.map(|namespace| namespace.id),
            scope,
            after,
            limit,
        };
        let listed = self.directory.list_with_standing(&listing).await?;
        let next = (listed.len() == limit as usize)
            .then(|| {
                listed
                    .last()
                    .map(|last| last.details.repository.path.clone())
            })
            .flatten();
        let repositories = listed
            .into_iter()
            .filter_map(|listed| {
                access::listed_role(caller, &listed.facts, self.permissions)
                    .map(|role| (listed.details, role))
            })
            .collect();
        Ok(RepositoryPage { repositories, next })
    }

    /// The permissions on a repository.
    pub async fn repository_permissions(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
    ) -> Result<Vec<PermissionRecord>> {
        let repository = &self
            .repository_for(&caller.identity, path, RepositoryAction::Admin)
            .await?
            .repository;
        self.directory.repository_permissions(repository.id).await
    }

    /// Gives a user or robot `role` on a repository. The namespace's own user is always its
    /// admin, and a robot can only be given roles in its own namespace.
    pub async fn set_user_permission(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        name: &str,
        role: Role,
    ) -> Result<PermissionRecord> {
        let repository = &self
            .repository_for(&caller.identity, path, RepositoryAction::Admin)
            .await?
            .repository;
        let actor = &caller.actor;
        let account = self.grantable_account(repository, name).await?;
        let audit = self
            .repository_entry(actor, LogKind::ChangeRepoPermission, repository)
            .meta("username", account.name.as_str())
            .meta("role", role.as_str());
        self.directory
            .set_permission(repository.id, &Grantee::Account(account.id), role, audit)
            .await?;
        Ok(PermissionRecord {
            grantee: Grantee::Account(account.id),
            name: account.name,
            is_robot: account.kind == AccountKind::Robot,
            role,
        })
    }

    /// Takes a user's or robot's own permission on a repository away.
    pub async fn delete_user_permission(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        name: &str,
    ) -> Result<()> {
        let repository = &self
            .repository_for(&caller.identity, path, RepositoryAction::Admin)
            .await?
            .repository;
        let actor = &caller.actor;
        let account = self.grantable_account(repository, name).await?;
        let audit = self
            .repository_entry(actor, LogKind::DeleteRepoPermission, repository)
            .meta("username", account.name.as_str());
        let grantee = Grantee::Account(account.id);
        let existed = self
            .directory
            .delete_permission(repository.id, &grantee, audit)
            .await?;
        found(existed, "permission for user", name)
    }

    async fn grantable_account(
        &self,
        repository: &Repository,
        name: &str,
    ) -> Result<crate::account::AccountRecord> {
        if name == repository.path.namespace.as_str() {
            return Err(invalid("Namespace owner must always be admin."));
        }
        let account = self
            .directory
            .account(name)
            .await?
            .ok_or_else(|| invalid(format!("Invalid username: {name}")))?;
        if account.kind == AccountKind::Robot && account.namespace != repository.namespace {
            return Err(invalid(format!(
                "Cannot add robot {name} to a repository of another namespace"
            )));
        }
        Ok(account)
    }

    /// Gives a team of the repository's organization `role` on it.
    pub async fn set_team_permission(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        team: &Namespace,
        role: Role,
    ) -> Result<TeamRecord> {
        let repository = &self
            .repository_for(&caller.identity, path, RepositoryAction::Admin)
            .await?
            .repository;
        let actor = &caller.actor;
        let team = self.repository_team(repository, team).await?;
        let audit = self
            .repository_entry(actor, LogKind::ChangeRepoPermission, repository)
            .meta("team", team.name.as_str())
            .meta("role", role.as_str());
        self.directory
            .set_permission(repository.id, &Grantee::Team(team.id), role, audit)
            .await?;
        Ok(team)
    }

    /// Takes a team's permission on a repository away.
    pub async fn delete_team_permission(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        team: &Namespace,
    ) -> Result<()> {
        let repository = &self
            .repository_for(&caller.identity, path, RepositoryAction::Admin)
            .await?
            .repository;
        let actor = &caller.actor;
        let team = self.repository_team(repository, team).await?;
        let audit = self
            .repository_entry(actor, LogKind::DeleteRepoPermission, repository)
            .meta("team", team.name.as_str());
        let existed = self
            .directory
            .delete_permission(repository.id, &Grantee::Team(team.id), audit)
            .await?;
        found(existed, "permission for team", team.name.as_str())
    }

    /// The team named `name` of the repository's organization.
    async fn repository_team(
        &self,
        repository: &Repository,
        name: &Namespace,
    ) -> Result<TeamRecord> {
        let namespace = self.namespace(&repository.path.namespace).await?;
        if namespace.kind != NamespaceKind::Organization {
            return Err(invalid(format!(
                "{} is not an organization: only organization repositories have team permissions",
                namespace.name
            )));
        }
        self.directory
            .team(namespace.id, name)
            .await?
            .ok_or_else(|| {
                invalid(format!(
                    "No team named {name} in organization {}",
                    namespace.name
                ))
            })
    }

    /// An organization's default permissions.
    pub async fn prototypes(
        &self,
        caller: &Caller,
        organization: &Namespace,
    ) -> Result<Vec<PrototypeRecord>> {
        let organization = &self.administered(caller, organization).await?;
        self.directory.prototypes(organization.id).await
    }

    /// Creates a default permission: `role` for `delegate` on every repository created in
    /// the organization (only by `activating_user`, when given).
    pub async fn create_prototype(
        &self,
        caller: &Caller,
        organization: &Namespace,
        activating_user: Option<&str>,
        delegate: &Delegate,
        role: Role,
    ) -> Result<PrototypeRecord> {
        let organization = &self.administered(caller, organization).await?;
        let actor = &caller.actor;
        let activating = match activating_user {
            Some(name) => {
                let account = self
                    .directory
                    .account(name)
                    .await?
                    .ok_or_else(|| invalid(format!("Unknown user: {name}")))?;
                Some(account)
            }
            None => None,
        };
        let (grantee, delegate_name, kind) = match delegate {
            Delegate::Account(name) => {
                let account = self
                    .directory
                    .account(name)
                    .await?
                    .ok_or_else(|| invalid(format!("Unknown user: {name}")))?;
                if account.kind == AccountKind::Robot && account.namespace != organization.id {
                    return Err(invalid(format!(
                        "Robot {name} does not belong to organization {}",
                        organization.name
                    )));
                }
                (Grantee::Account(account.id), account.name, "user")
            }
            Delegate::Team(name) => {
                let team = self
                    .directory
                    .team(organization.id, name)
                    .await?
                    .ok_or_else(|| invalid(format!("Unknown team: {name}")))?;
                (Grantee::Team(team.id), team.name.to_string(), "team")
            }
        };
        let audit = self
            .entry(actor, LogKind::CreatePrototypePermission)
            .namespace(organization.id)
            .meta("role", role.as_str())
            .meta(&format!("delegate_{kind}"), delegate_name.as_str())
            .meta(
                "activating_username",
                activating.as_ref().map(|account| account.name.clone()),
            );
        let prototype = NewPrototype {
            organization: organization.id,
            activating_account: activating.map(|account| account.id),
            delegate: grantee,
            role,
        };
        self.directory.create_prototype(prototype, audit).await
    }

    /// Changes a default permission's role.
    pub async fn set_prototype_role(
        &self,
        caller: &Caller,
        organization: &Namespace,
        uuid: &str,
        role: Role,
    ) -> Result<PrototypeRecord> {
        let organization = &self.administered(caller, organization).await?;
        let actor = &caller.actor;
        let audit = self
            .entry(actor, LogKind::ModifyPrototypePermission)
            .namespace(organization.id)
            .meta("id", uuid)
            .meta("role", role.as_str());
        let existed = self
            .directory
            .set_prototype_role(organization.id, uuid, role, audit)
            .await?;
        found(existed, "default permission", uuid)?;
        self.directory
            .prototypes(organization.id)
            .await?
            .into_iter()
            .find(|prototype| prototype.uuid == uuid)
            .ok_or_else(|| not_found("default permission", uuid))
    }

    /// Deletes a default permission.
    pub async fn delete_prototype(
        &self,
        caller: &Caller,
        organization: &Namespace,
        uuid: &str,
    ) -> Result<()> {
        let organization = &self.administered(caller, organization).await?;
        let actor = &caller.actor;
        let audit = self
            .entry(actor, LogKind::DeletePrototypePermission)
            .namespace(organization.id)
            .meta("id", uuid);
        let existed = self
            .directory
            .delete_prototype(organization.id, uuid, audit)
            .await?;
        found(existed, "default permission", uuid)
    }
}
