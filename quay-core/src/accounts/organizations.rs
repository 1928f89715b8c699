//! Organizations, their teams and members.
//!
//! An organization always keeps an administrator it can be managed by: nobody may demote,
//! delete or leave their own last admin team, and the last admin cannot be removed from the
//! organization (Quay's `data/model/team.py` and `organization.py`). These checks read and
//! then write; two admins removing each other at the same instant can both succeed, which
//! a superuser can repair and which Quay allows too.

use std::collections::{BTreeMap, BTreeSet};

use super::tenancy::{Accounts, found, invalid, not_found};
use super::users::validate_email;
use crate::access::{Action, Caller};
use crate::account::{
    AccountKind, AccountRecord, Grantee, NamespaceKind, NamespaceRecord, TeamRecord,
};
use crate::audit::{Actor, LogKind};
use crate::error::Result;
use crate::names::{Namespace, RepositoryPath};
use crate::permission::{Role, TeamRole, Visibility};
use crate::ports::TeamChange;

/// A user who is in at least one team of an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationMember {
    /// The account.
    pub account: AccountRecord,
    /// The teams of the organization they are in, by name.
    pub teams: Vec<String>,
    /// The organization's repositories they hold a permission on, by name.
    pub repositories: Vec<String>,
}

/// What to change about a namespace; `None` keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespaceChange {
    /// The contact address (organizations).
    pub email: Option<String>,
    /// The time-machine window, seconds.
    pub tag_expiration_s: Option<i64>,
}

/// A team's new role and description; `None` keeps the current one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TeamSettings {
    /// The role in the organization (new teams default to `member`).
    pub role: Option<TeamRole>,
    /// Free text.
    pub description: Option<String>,
}

impl Accounts {
    /// Creates an organization with an `owners` team holding the caller (`user:admin`).
    pub async fn create_organization(
        &self,
        caller: &Caller,
        name: &Namespace,
        email: Option<&str>,
    ) -> Result<NamespaceRecord> {
        self.permit(&caller.identity, Action::AdministerOwnAccount)?;
        if let Some(email) = email {
            validate_email(email)?;
        }
        let actor = &caller.actor;
        let now_ms = self.now_ms();
        let audit = self
            .entry(actor, LogKind::OrgCreate)
            .meta("namespace", name.as_str())
            .meta("email", email);
        self.directory
            .create_organization(name, email, actor.account(), audit, now_ms)
            .await
    }

    /// Changes an organization's contact address and time-machine window (administrators).
    /// `windows` are the windows, in seconds, that namespaces may choose
    /// (`TAG_EXPIRATION_OPTIONS`).
    pub async fn update_organization(
        &self,
        caller: &Caller,
        name: &Namespace,
        change: NamespaceChange,
        windows: &[i64],
    ) -> Result<()> {
        let organization = self.administered(caller, name).await?;
        if let Some(email) = &change.email
            && organization.email.as_deref() != Some(email.as_str())
        {
            validate_email(email)?;
            let audit = self
                .entry(&caller.actor, LogKind::OrgChangeEmail)
                .namespace(organization.id)
                .meta("namespace", organization.name.as_str())
                .meta("email", email.as_str())
                .meta("old_email", organization.email.clone());
            self.directory
                .set_namespace_email(organization.id, email, audit)
                .await?;
        }
        if let Some(seconds) = change.tag_expiration_s {
            self.set_tag_expiration(&organization, seconds, windows, &caller.actor)
                .await?;
        }
        Ok(())
    }

    /// Changes how long the namespace's deleted and expired tags stay restorable. `options`
    /// are the windows, in seconds, that namespaces may choose (`TAG_EXPIRATION_OPTIONS`).
    pub(super) async fn set_tag_expiration(
        &self,
        namespace: &NamespaceRecord,
        seconds: i64,
        options: &[i64],
        actor: &Actor,
    ) -> Result<()> {
        if !options.contains(&seconds) {
            return Err(invalid("Invalid tag expiration option"));
        }
        if seconds == namespace.tag_expiration_s {
            return Ok(());
        }
        let kind = match namespace.kind {
            NamespaceKind::Organization => LogKind::OrgChangeTagExpiration,
            NamespaceKind::User => LogKind::UserChangeTagExpiration,
        };
        let audit = self
            .entry(actor, kind)
            .namespace(namespace.id)
            .meta("namespace", namespace.name.as_str())
            .meta("tag_expiration", seconds);
        self.directory
            .set_tag_expiration(namespace.id, seconds, audit)
            .await
    }

    /// Deletes an organization with its repositories, teams and robots.
    pub async fn delete_organization(
        &self,
        caller: &Caller,
        organization: &Namespace,
    ) -> Result<()> {
        let organization = &self.administered(caller, organization).await?;
        let actor = &caller.actor;
        let audit = self
            .entry(actor, LogKind::OrgDelete)
            .meta("namespace", organization.name.as_str());
        self.repositories
            .delete_namespace(organization.id, audit)
            .await
    }

    /// The team named `name` of the organization, which must exist.
    pub(super) async fn team(
        &self,
        organization: &NamespaceRecord,
        name: &Namespace,
    ) -> Result<TeamRecord> {
        self.directory
            .team(organization.id, name)
            .await?
            .ok_or_else(|| not_found("team", name.as_str()))
    }

    /// Creates a team or changes its role and description (administrators). Returns the
    /// team and whether it is new.
    pub async fn save_team(
        &self,
        caller: &Caller,
        organization: &Namespace,
        name: &Namespace,
        settings: TeamSettings,
    ) -> Result<(TeamRecord, bool)> {
        let organization = &self.administered(caller, organization).await?;
        let actor = &caller.actor;
        let existing = self.directory.team(organization.id, name).await?;
        let base = |kind| {
            self.entry(actor, kind)
                .namespace(organization.id)
                .meta("team", name.as_str())
        };
        let mut audit = Vec::new();
        let change = match &existing {
            None => {
                audit.push(base(LogKind::OrgCreateTeam));
                TeamChange {
                    organization: organization.id,
                    name: name.clone(),
                    role: settings.role.unwrap_or(TeamRole::Member),
                    description: settings.description.unwrap_or_default(),
                    now_ms: self.now_ms(),
                }
            }
            Some(team) => {
                let role = settings.role.unwrap_or(team.role);
                if role != team.role {
                    if team.role == TeamRole::Admin {
                        self.keep_an_admin_team(organization, team, actor, "remove admin from")
                            .await?;
                    }
                    audit.push(base(LogKind::OrgSetTeamRole).meta("role", role.as_str()));
                }
                let description = settings.description.unwrap_or(team.description.clone());
                if description != team.description {
                    audit.push(
                        base(LogKind::OrgSetTeamDescription)
                            .meta("description", description.as_str()),
                    );
                }
                TeamChange {
                    organization: organization.id,
                    name: name.clone(),
                    role,
                    description,
                    now_ms: self.now_ms(),
                }
            }
        };
        let saved = self.directory.save_team(change, audit).await?;
        Ok((saved, existing.is_none()))
    }

    /// Deletes a team (administrators).
    pub async fn delete_team(
        &self,
        caller: &Caller,
        organization: &Namespace,
        name: &Namespace,
    ) -> Result<()> {
        let organization = &self.administered(caller, organization).await?;
        let actor = &caller.actor;
        let team = self.team(organization, name).await?;
        if team.role == TeamRole::Admin {
            self.keep_an_admin_team(organization, &team, actor, "remove")
                .await?;
        }
        let audit = self
            .entry(actor, LogKind::OrgDeleteTeam)
            .namespace(organization.id)
            .meta("team", name.as_str());
        self.directory.delete_team(team.id, audit).await
    }

    /// Refuses a change that would leave the acting user without an admin team in the
    /// organization.
    async fn keep_an_admin_team(
        &self,
        organization: &NamespaceRecord,
        team: &TeamRecord,
        actor: &Actor,
        doing: &str,
    ) -> Result<()> {
        let Some(account) = actor.account() else {
            return Ok(());
        };
        let admin_teams = self.admin_teams_of(organization, account).await?;
        if admin_teams.contains(&team.name) && admin_teams.len() <= 1 {
            return Err(invalid(format!(
                "Cannot {doing} team '{}' because calling user would no longer have admin on \
                 org '{}'",
                team.name, organization.name
            )));
        }
        Ok(())
    }

    async fn admin_teams_of(
        &self,
        organization: &NamespaceRecord,
        account: i64,
    ) -> Result<BTreeSet<Namespace>> {
        Ok(self
            .directory
            .teams_of(organization.id, account)
            .await?
            .into_iter()
            .filter(|team| team.role == TeamRole::Admin)
            .map(|team| team.name)
            .collect())
    }

    /// A team's members, by name.
    pub(super) async fn team_members(&self, team: &TeamRecord) -> Result<Vec<AccountRecord>> {
        self.directory.team_members(team.id).await
    }

    /// The permissions a team holds on repositories (administrators).
    pub async fn team_permissions(
        &self,
        caller: &Caller,
        organization: &Namespace,
        team: &Namespace,
    ) -> Result<Vec<(RepositoryPath, Visibility, Role)>> {
        let organization = self.administered(caller, organization).await?;
        let team = self.team(&organization, team).await?;
        self.directory.permissions_of(&Grantee::Team(team.id)).await
    }

    /// Adds a user, or a robot of the organization, to a team (administrators).
    pub async fn add_team_member(
        &self,
        caller: &Caller,
        organization: &Namespace,
        team: &Namespace,
        member: &str,
    ) -> Result<AccountRecord> {
        let organization = &self.administered(caller, organization).await?;
        let team = &self.team(organization, team).await?;
        let actor = &caller.actor;
        let account = self
            .directory
            .account(member)
            .await?
            .ok_or_else(|| invalid("Unknown user"))?;
        if account.kind == AccountKind::Robot && account.namespace != organization.id {
            return Err(invalid(format!(
                "Cannot add robot {member} to team {}: it does not belong to organization {}",
                team.name, organization.name
            )));
        }
        let audit = self
            .entry(actor, LogKind::OrgAddTeamMember)
            .namespace(organization.id)
            .meta("member", account.name.as_str())
            .meta("team", team.name.as_str());
        self.directory
            .add_team_member(team.id, account.id, audit)
            .await?;
        Ok(account)
    }

    /// Removes a member from a team (administrators). Nobody may leave their own last admin
    /// team.
    pub async fn remove_team_member(
        &self,
        caller: &Caller,
        organization: &Namespace,
        team: &Namespace,
        member: &str,
    ) -> Result<()> {
        let organization = &self.administered(caller, organization).await?;
        let team = &self.team(organization, team).await?;
        let actor = &caller.actor;
        let account = self.account(member).await?;
        if actor.account() == Some(account.id) && team.role == TeamRole::Admin {
            let admin_teams = self.admin_teams_of(organization, account.id).await?;
            if admin_teams.contains(&team.name) && admin_teams.len() <= 1 {
                return Err(invalid(
                    "User cannot remove themselves from their only admin team.",
                ));
            }
        }
        let audit = self
            .entry(actor, LogKind::OrgRemoveTeamMember)
            .namespace(organization.id)
            .meta("member", account.name.as_str())
            .meta("team", team.name.as_str());
        let removed = self
            .directory
            .remove_team_member(team.id, account.id, audit)
            .await?;
        if !removed {
            return Err(invalid(format!(
                "User {member} does not belong to team {}",
                team.name
            )));
        }
        Ok(())
    }

    /// The users in the organization's teams, with their teams and permissions, by name.
    pub async fn organization_members(
        &self,
        caller: &Caller,
        organization: &Namespace,
    ) -> Result<Vec<OrganizationMember>> {
        let organization = &self.administered(caller, organization).await?;
        let mut members: BTreeMap<String, OrganizationMember> = BTreeMap::new();
        for team in self.directory.teams(organization.id).await? {
            for account in self.directory.team_members(team.id).await? {
                if account.kind == AccountKind::Robot {
                    continue;
                }
                members
                    .entry(account.name.clone())
                    .or_insert_with(|| OrganizationMember {
                        account,
                        teams: Vec::new(),
                        repositories: Vec::new(),
                    })
                    .teams
                    .push(team.name.to_string());
            }
        }
        for member in members.values_mut() {
            member.repositories = self
                .repositories_held_in(organization, &member.account)
                .await?;
        }
        Ok(members.into_values().collect())
    }

    /// The users outside every team of the organization who hold a permission on one of its
    /// repositories (administrators), with those repositories, by name: Quay's
    /// "collaborators".
    pub async fn organization_collaborators(
        &self,
        caller: &Caller,
        organization: &Namespace,
    ) -> Result<Vec<OrganizationMember>> {
        let organization = &self.administered(caller, organization).await?;
        let mut in_teams = BTreeSet::new();
        for team in self.directory.teams(organization.id).await? {
            for account in self.directory.team_members(team.id).await? {
                in_teams.insert(account.id);
            }
        }
        let mut collaborators: BTreeMap<String, OrganizationMember> = BTreeMap::new();
        for (account, repository) in self.directory.account_grants_in(organization.id).await? {
            if account.kind == AccountKind::Robot || in_teams.contains(&account.id) {
                continue;
            }
            collaborators
                .entry(account.name.clone())
                .or_insert_with(|| OrganizationMember {
                    account,
                    teams: Vec::new(),
                    repositories: Vec::new(),
                })
                .repositories
                .push(repository);
        }
        Ok(collaborators.into_values().collect())
    }

    /// The organizations after `after`, by name, at most `limit` (superusers, global
    /// read-only ones too).
    pub async fn organizations(
        &self,
        caller: &Caller,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<NamespaceRecord>> {
        self.permit(&caller.identity, Action::OverseeRegistry)?;
        self.directory.organizations(after, limit).await
    }

    /// One member (a user or a robot) of the organization.
    pub async fn organization_member(
        &self,
        caller: &Caller,
        organization: &Namespace,
        name: &str,
    ) -> Result<OrganizationMember> {
        let organization = &self.administered(caller, organization).await?;
        let account = self.account(name).await?;
        let teams: Vec<String> = self
            .directory
            .teams_of(organization.id, account.id)
            .await?
            .into_iter()
            .map(|team| team.name.to_string())
            .collect();
        let repositories = self.repositories_held_in(organization, &account).await?;
        if teams.is_empty() && repositories.is_empty() {
            return Err(not_found("member", name));
        }
        Ok(OrganizationMember {
            account,
            teams,
            repositories,
        })
    }

    async fn repositories_held_in(
        &self,
        organization: &NamespaceRecord,
        account: &AccountRecord,
    ) -> Result<Vec<String>> {
        Ok(self
            .directory
            .permissions_of(&Grantee::Account(account.id))
            .await?
            .into_iter()
            .filter(|(path, _, _)| path.namespace == organization.name)
            .map(|(path, _, _)| path.name.to_string())
            .collect())
    }

    /// Removes a user from every team and repository permission of the organization; the
    /// organization's only admin cannot be removed.
    pub async fn remove_organization_member(
        &self,
        caller: &Caller,
        organization: &Namespace,
        name: &str,
    ) -> Result<()> {
        let organization = &self.administered(caller, organization).await?;
        let actor = &caller.actor;
        let account = self.account(name).await?;
        let mut admins = BTreeSet::new();
        for team in self.directory.teams(organization.id).await? {
            if team.role == TeamRole::Admin {
                for member in self.directory.team_members(team.id).await? {
                    if member.kind == AccountKind::User {
                        admins.insert(member.id);
                    }
                }
            }
        }
        if admins.len() == 1 && admins.contains(&account.id) {
            return Err(invalid(
                "Cannot remove user as they are the only organization admin",
            ));
        }
        let audit = self
            .entry(actor, LogKind::OrgRemoveTeamMember)
            .namespace(organization.id)
            .meta("member", account.name.as_str())
            .meta("team", "*");
        let existed = self
            .directory
            .remove_organization_member(organization.id, account.id, audit)
            .await?;
        found(existed, "member", name)
    }
}
