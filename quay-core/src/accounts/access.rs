//! The gates of tenancy, which every use case passes first, and the views that show a
//! caller what they may see: each gathers the facts about what it asks for in one query
//! and lets [`decide`] answer. A refusal is the same whether or not the thing
//! exists: [`Error::Unauthorized`] for an anonymous caller (signing in might help),
//! [`Error::Denied`] for anyone else.

use super::tenancy::{Accounts, not_found};
use crate::access::{Action, Caller, Decision, Facts, Identity, RepositoryStanding, decide};
use crate::account::{AccountRecord, NamespaceKind, NamespaceRecord, TeamRecord};
use crate::error::{Error, Result};
use crate::names::{Namespace, RepositoryPath};
use crate::permission::{NamespaceAction, NamespaceFacts, RepositoryAction, TeamRole};
use crate::ports::{Repository, RepositoryAccess, RepositoryDetails};

/// Whose settings a use case changes (auto-prune policies, notifications): the caller's own
/// namespace, an organization's, or a repository's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingsOwner {
    /// The signed-in caller's namespace (`user:admin`).
    Caller,
    /// The organization's (its administrators).
    Organization(Namespace),
    /// The repository's (its admins).
    Repository(RepositoryPath),
}

/// What a [`SettingsOwner`] names, once the caller may administer it.
pub(super) struct OwnedScope {
    pub(super) namespace: NamespaceRecord,
    pub(super) repository: Option<Repository>,
}

impl OwnedScope {
    pub(super) fn repository_id(&self) -> Option<i64> {
        self.repository.as_ref().map(|repository| repository.id)
    }
}

/// An organization as a caller may see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationOverview {
    /// The organization.
    pub organization: NamespaceRecord,
    /// The caller administers it (and the credential allows that).
    pub is_admin: bool,
    /// The caller belongs to it.
    pub is_member: bool,
    /// Its teams, in order, each with whether the caller may see its members (members
    /// only; `None` for others).
    pub teams: Option<Vec<(TeamRecord, bool)>>,
    /// The caller may read its quota and size (members and superusers).
    pub reads_quota: bool,
}

/// A repository as one of its readers sees it: its settings, and what else they may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryOverview {
    /// The repository and its settings.
    pub details: RepositoryDetails,
    /// Its namespace is an organization.
    pub in_organization: bool,
    /// The caller may push to it.
    pub can_write: bool,
    /// The caller administers it.
    pub can_admin: bool,
}

/// A team's members, as its members and the organization's administrators see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamRoster {
    /// The team.
    pub team: TeamRecord,
    /// Its members.
    pub members: Vec<AccountRecord>,
    /// The caller may change them (administers the organization).
    pub can_edit: bool,
}

/// What a caller means to do with a namespace's quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum QuotaAccess {
    /// Read the quota and its limits.
    Read,
    /// Create, change or delete them.
    Change,
}

/// The signed-in caller's own account, as they see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnAccount {
    /// Their user.
    pub user: AccountRecord,
    /// Their namespace.
    pub namespace: NamespaceRecord,
    /// The organizations they belong to, by name.
    pub memberships: Vec<Membership>,
}

/// Whose quota a request is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuotaOwner {
    /// An organization's, through `/organization/...`.
    Organization(Namespace),
    /// The signed-in caller's own namespace.
    Caller,
    /// Any namespace of this kind, for a superuser (`/superuser/...`).
    Any(Namespace, NamespaceKind),
}

/// An organization the caller belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The organization.
    pub organization: NamespaceRecord,
    /// The caller is in one of its admin teams.
    pub is_admin: bool,
}

impl Accounts {
    fn answer(
        caller: &Identity,
        decision: Decision,
        missing: impl FnOnce() -> Error,
    ) -> Result<()> {
        match decision {
            Decision::Allow => Ok(()),
            Decision::Refuse => Err(caller.refusal()),
            Decision::NotFound => Err(missing()),
        }
    }

    /// Refuses unless `caller` may do `action`, which is about the caller's own account or
    /// the whole registry.
    pub(super) fn permit(&self, caller: &Identity, action: Action) -> Result<()> {
        let decision = decide(caller, action, &Facts::Caller, self.permissions);
        Self::answer(caller, decision, || caller.refusal())
    }

    /// The namespace `name`, once `caller` may do `action` in it (a namespace action or
    /// reading its quota).
    pub(super) async fn namespace_for(
        &self,
        caller: &Identity,
        name: &Namespace,
        action: impl Into<Action>,
    ) -> Result<NamespaceRecord> {
        let (namespace, _) = self.namespace_standing(caller, name, action.into()).await?;
        Ok(namespace)
    }

    /// The namespace `name` and the caller's standing in it, once they may do `action`.
    async fn namespace_standing(
        &self,
        caller: &Identity,
        name: &Namespace,
        action: Action,
    ) -> Result<(NamespaceRecord, NamespaceFacts)> {
        let account = caller.principal().map(|principal| principal.account);
        let found = self.directory.namespace_access(account, name).await?;
        let facts = Facts::Namespace(found.as_ref().map(|(_, facts)| *facts));
        let missing = || not_found("namespace", name.as_str());
        let decision = decide(caller, action, &facts, self.permissions);
        Self::answer(caller, decision, missing)?;
        // Some superusers may act on namespaces that do not exist; they learn so now.
        found.ok_or_else(missing)
    }

    /// The organization `name`, once `caller` may administer it.
    pub(super) async fn administered(
        &self,
        caller: &Caller,
        name: &Namespace,
    ) -> Result<NamespaceRecord> {
        self.organization_for(&caller.identity, name, NamespaceAction::Administer)
            .await
    }

    /// The organization `name`, once `caller` may do `action` in it.
    pub(super) async fn organization_for(
        &self,
        caller: &Identity,
        name: &Namespace,
        action: impl Into<Action>,
    ) -> Result<NamespaceRecord> {
        let namespace = self.namespace_for(caller, name, action).await?;
        if namespace.kind != NamespaceKind::Organization {
            return Err(not_found("organization", name.as_str()));
        }
        Ok(namespace)
    }

    /// What the rules know of `caller` and the repository at `path` (which may not exist),
    /// read in one query.
    async fn repository_access(
        &self,
        caller: &Identity,
        path: &RepositoryPath,
    ) -> Result<RepositoryAccess> {
        let account = caller.principal().map(|principal| principal.account);
        self.directory.repository_access(account, path).await
    }

    /// Whether `caller` may do `action` to the repository that `access` describes (which may
    /// not exist: writing one that does not means creating it).
    fn may_on_repository(
        &self,
        caller: &Identity,
        path: &RepositoryPath,
        access: &RepositoryAccess,
        action: Action,
    ) -> bool {
        let facts = Facts::Repository {
            path,
            standing: RepositoryStanding::from(access),
        };
        decide(caller, action, &facts, self.permissions).allowed()
    }

    /// The repository at `path` with its settings, once `caller` may do `action` to it.
    pub(super) async fn repository_for(
        &self,
        caller: &Identity,
        path: &RepositoryPath,
        action: impl Into<Action>,
    ) -> Result<RepositoryDetails> {
        let access = self.repository_access(caller, path).await?;
        if !self.may_on_repository(caller, path, &access, action.into()) {
            return Err(caller.refusal());
        }
        self.repository(path).await
    }

    /// The repository at `path` as `caller`, one of its readers, sees it.
    pub async fn repository_overview(
        &self,
        caller: &Identity,
        path: &RepositoryPath,
    ) -> Result<RepositoryOverview> {
        let access = self.repository_access(caller, path).await?;
        let may =
            |action| self.may_on_repository(caller, path, &access, Action::Repository(action));
        if !may(RepositoryAction::Read) {
            return Err(caller.refusal());
        }
        Ok(RepositoryOverview {
            details: self.repository(path).await?,
            in_organization: access
                .namespace
                .as_ref()
                .is_some_and(|namespace| namespace.kind == NamespaceKind::Organization),
            can_write: may(RepositoryAction::Write),
            can_admin: may(RepositoryAction::Admin),
        })
    }

    /// The organization `name` as `caller` may see it: anyone its name, members its teams,
    /// administrators its settings.
    pub async fn organization_overview(
        &self,
        caller: &Identity,
        name: &Namespace,
    ) -> Result<OrganizationOverview> {
        let account = caller.principal().map(|principal| principal.account);
        let (organization, facts) = self
            .directory
            .namespace_access(account, name)
            .await?
            .filter(|(record, _)| record.kind == NamespaceKind::Organization)
            .ok_or_else(|| not_found("organization", name.as_str()))?;
        let facts = Facts::Namespace(Some(facts));
        let may = |action| decide(caller, Action::Namespace(action), &facts, self.permissions);
        let is_admin = may(NamespaceAction::Administer).allowed();
        let is_member = may(NamespaceAction::View).allowed();
        let reads_quota =
            decide(caller, Action::ReadNamespaceQuota, &facts, self.permissions).allowed();
        let teams = if is_member {
            let own = match account {
                Some(account) => self.directory.teams_of(organization.id, account).await?,
                None => Vec::new(),
            };
            let teams = self.directory.teams(organization.id).await?;
            Some(
                teams
                    .into_iter()
                    .map(|team| {
                        let sees_members = is_admin || own.iter().any(|own| own.id == team.id);
                        (team, sees_members)
                    })
                    .collect(),
            )
        } else {
            None
        };
        Ok(OrganizationOverview {
            organization,
            is_admin,
            is_member,
            teams,
            reads_quota,
        })
    }

    /// The namespace whose quota `owner` names, once `caller` may reach it as `access` says:
    /// an organization's members and every superuser read an organization's quota, and
    /// global read-only superusers any namespace's; only superusers change one. A user
    /// reads their own.
    pub(super) async fn quota_namespace(
        &self,
        caller: &Caller,
        owner: &QuotaOwner,
        access: QuotaAccess,
    ) -> Result<NamespaceRecord> {
        let identity = &caller.identity;
        match owner {
            QuotaOwner::Organization(name) => {
                if access == QuotaAccess::Change {
                    self.permit(identity, Action::AdministerRegistry)?;
                    return self.namespace(name).await;
                }
                let namespace = self
                    .namespace_for(identity, name, Action::ReadNamespaceQuota)
                    .await?;
                let overseer = self.permit(identity, Action::OverseeRegistry).is_ok();
                if namespace.kind != NamespaceKind::Organization && !overseer {
                    return Err(not_found("organization", name.as_str()));
                }
                Ok(namespace)
            }
            QuotaOwner::Caller => {
                if access == QuotaAccess::Change {
                    self.permit(identity, Action::AdministerRegistry)?;
                }
                self.own_namespace(identity, Action::ReadOwnAccount).await
            }
            QuotaOwner::Any(name, kind) => {
                self.permit(identity, Action::AdministerRegistry)?;
                let namespace = self.namespace(name).await?;
                if namespace.kind != *kind {
                    let what = match kind {
                        NamespaceKind::User => "user",
                        NamespaceKind::Organization => "organization",
                    };
                    return Err(not_found(what, name.as_str()));
                }
                Ok(namespace)
            }
        }
    }

    /// What `owner` names, once `caller` may administer it.
    pub(super) async fn owned_scope(
        &self,
        caller: &Caller,
        owner: &SettingsOwner,
    ) -> Result<OwnedScope> {
        Ok(match owner {
            SettingsOwner::Caller => OwnedScope {
                namespace: self
                    .own_namespace(&caller.identity, Action::AdministerOwnAccount)
                    .await?,
                repository: None,
            },
            SettingsOwner::Organization(name) => OwnedScope {
                namespace: self.administered(caller, name).await?,
                repository: None,
            },
            SettingsOwner::Repository(path) => {
                let details = self
                    .repository_for(&caller.identity, path, RepositoryAction::Admin)
                    .await?;
                OwnedScope {
                    namespace: self.namespace(&path.namespace).await?,
                    repository: Some(details.repository),
                }
            }
        })
    }

    /// The caller's own namespace, once they may do `action` to their account.
    pub(super) async fn own_namespace(
        &self,
        caller: &Identity,
        action: Action,
    ) -> Result<NamespaceRecord> {
        self.permit(caller, action)?;
        let Some(principal) = caller.principal() else {
            return Err(caller.refusal());
        };
        let name = principal.name.as_str();
        let name = Namespace::parse(name)
            .map_err(|_| Error::InvalidRequest(format!("invalid username {name:?}")))?;
        self.namespace(&name).await
    }

    /// The members of team `team` of organization `organization`: for the team's members
    /// and the organization's administrators.
    pub async fn team_roster(
        &self,
        caller: &Identity,
        organization: &Namespace,
        team: &Namespace,
    ) -> Result<TeamRoster> {
        let (organization, standing) = self
            .namespace_standing(caller, organization, NamespaceAction::View.into())
            .await?;
        if organization.kind != NamespaceKind::Organization {
            return Err(not_found("organization", organization.name.as_str()));
        }
        let team = self.team(&organization, team).await?;
        let members = self.team_members(&team).await?;
        let account = caller.principal().map(|principal| principal.account);
        let facts = Facts::Team {
            organization: Some(standing),
            member: account.is_some_and(|account| members.iter().any(|m| m.id == account)),
        };
        let decision = decide(caller, Action::ReadTeamMembers, &facts, self.permissions);
        Self::answer(caller, decision, || caller.refusal())?;
        let can_edit = decide(
            caller,
            NamespaceAction::Administer.into(),
            &Facts::Namespace(Some(standing)),
            self.permissions,
        )
        .allowed();
        Ok(TeamRoster {
            team,
            members,
            can_edit,
        })
    }

    /// The signed-in caller's own account, namespace and organizations (`user:read`).
    pub async fn own_account(&self, caller: &Caller) -> Result<OwnAccount> {
        let namespace = self
            .own_namespace(&caller.identity, Action::ReadOwnAccount)
            .await?;
        let user = self.user(namespace.name.as_str()).await?;
        let memberships = self
            .directory
            .organizations_of(user.id)
            .await?
            .into_iter()
            .map(|(organization, role)| Membership {
                organization,
                is_admin: role == TeamRole::Admin,
            })
            .collect();
        Ok(OwnAccount {
            user,
            namespace,
            memberships,
        })
    }

    /// Changes the time-machine window of the caller's own namespace (`user:admin`);
    /// `windows` are those namespaces may choose (`TAG_EXPIRATION_OPTIONS`).
    pub async fn set_own_tag_expiration(
        &self,
        caller: &Caller,
        seconds: i64,
        windows: &[i64],
    ) -> Result<()> {
        let namespace = self
            .own_namespace(&caller.identity, Action::AdministerOwnAccount)
            .await?;
        self.set_tag_expiration(&namespace, seconds, windows, &caller.actor)
            .await
    }
}
