//! Finding users, robots and teams by the start of their name: the typeahead behind granting
//! a permission, adding a team member or a default permission (Quay's `/entities/{prefix}`).
//!
//! Anyone signed in finds users (as in Quay: user names are not secret to other users).
//! Robots and teams are found only where the caller could use them: the robots of their own
//! namespace or of an organization they administer, the teams of an organization they are in.

use super::tenancy::Accounts;
use crate::access::{Action, Caller};
use crate::account::{AccountKind, AccountRecord, NamespaceRecord};
use crate::error::{Error, Result};
use crate::names::Namespace;
use crate::permission::NamespaceAction;

/// The most names one search answers.
const MOST_FOUND: usize = 20;

/// What a found name stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityKind {
    /// A person.
    User,
    /// A robot account (`namespace+name`).
    Robot,
    /// A team of the organization searched in.
    Team,
}

/// A user, robot or team whose name starts with what was typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundEntity {
    /// Its name (a robot's full `namespace+name`).
    pub name: String,
    /// What it is.
    pub kind: EntityKind,
}

impl Accounts {
    /// Up to 20 users, robots and teams whose names start with `prefix`: robots and teams of
    /// `namespace` first (teams only with `include_teams`), then users.
    pub async fn find_entities(
        &self,
        caller: &Caller,
        prefix: &str,
        namespace: Option<&Namespace>,
        include_teams: bool,
    ) -> Result<Vec<FoundEntity>> {
        self.permit(&caller.identity, Action::ReadOwnAccount)?;
        let prefix = prefix.trim().to_lowercase();
        if prefix.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        if let Some(namespace) = namespace {
            if let Some(owner) = self.robot_namespace(caller, namespace).await? {
                found.extend(self.robots_named(&owner, &prefix).await?);
            }
            if include_teams {
                found.extend(self.teams_named(caller, namespace, &prefix).await?);
            }
        }
        found.extend(self.users_named(&prefix).await?);
        found.truncate(MOST_FOUND);
        Ok(found)
    }

    /// The namespace whose robots the caller may hand out: their own, or an organization
    /// they administer.
    async fn robot_namespace(
        &self,
        caller: &Caller,
        namespace: &Namespace,
    ) -> Result<Option<NamespaceRecord>> {
        let own = caller
            .identity
            .principal()
            .is_some_and(|principal| principal.name == namespace.as_str());
        if own {
            return self
                .own_namespace(&caller.identity, Action::ReadOwnAccount)
                .await
                .map(Some);
        }
        unless_refused(
            self.organization_for(&caller.identity, namespace, NamespaceAction::Administer)
                .await,
        )
    }

    async fn robots_named(
        &self,
        owner: &NamespaceRecord,
        prefix: &str,
    ) -> Result<Vec<FoundEntity>> {
        let robots = self.directory.robots(owner.id).await?;
        Ok(robots
            .into_iter()
            .filter(|robot| {
                let short = robot.name.split_once('+').map_or("", |(_, short)| short);
                robot.name.starts_with(prefix) || short.starts_with(prefix)
            })
            .map(|robot| FoundEntity {
                name: robot.name,
                kind: EntityKind::Robot,
            })
            .collect())
    }

    async fn teams_named(
        &self,
        caller: &Caller,
        namespace: &Namespace,
        prefix: &str,
    ) -> Result<Vec<FoundEntity>> {
        let Some(organization) = unless_refused(
            self.organization_for(&caller.identity, namespace, NamespaceAction::View)
                .await,
        )?
        else {
            return Ok(Vec::new());
        };
        Ok(self
            .directory
            .teams(organization.id)
            .await?
            .into_iter()
            .filter(|team| team.name.as_str().starts_with(prefix))
            .map(|team| FoundEntity {
                name: team.name.to_string(),
                kind: EntityKind::Team,
            })
            .collect())
    }

    /// Enabled users named `prefix` or a name starting with it, the exact match first.
    async fn users_named(&self, prefix: &str) -> Result<Vec<FoundEntity>> {
        let exact = self.directory.account(prefix).await?;
        // Names after `prefix` in order: those starting with it come first.
        let following = self
            .directory
            .users(Some(prefix), MOST_FOUND as u32)
            .await?
            .into_iter()
            .take_while(|user| user.name.starts_with(prefix));
        Ok(exact
            .into_iter()
            .chain(following)
            .filter(|account: &AccountRecord| account.kind == AccountKind::User && account.enabled)
            .map(|user| FoundEntity {
                name: user.name,
                kind: EntityKind::User,
            })
            .collect())
    }
}

/// `Ok(None)` where the caller may not (or the namespace does not exist): a search then
/// finds nothing there rather than failing.
fn unless_refused<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Error::Denied | Error::Unauthorized | Error::NotFound { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}
