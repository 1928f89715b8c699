//! Robot accounts of users and organizations.

use super::tenancy::{Accounts, invalid, not_found};
use crate::access::{Action, Caller};
use crate::account::{AccountKind, AccountRecord, Grantee, NamespaceRecord, RobotName, TeamRecord};
use crate::audit::LogKind;
use crate::error::{Error, Result};
use crate::names::{Namespace, RepositoryPath};
use crate::permission::{Role, Visibility};
use crate::ports::NewRobot;

/// Longest robot description (Quay's column).
const MAX_DESCRIPTION: usize = 255;

/// A robot to create: its namespace and short name, the hash of its token.
#[derive(Clone, Debug)]
pub struct RobotSignup {
    /// Its name inside the namespace.
    pub short: Namespace,
    /// The token's hash.
    pub token_hash: String,
    /// Free text, at most 255 characters.
    pub description: Option<String>,
    /// Free-form metadata (a JSON object, as text).
    pub metadata: Option<String>,
}

/// Whose robots: the caller's own, or an organization's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RobotOwner {
    /// The signed-in caller's (`user:admin`).
    Caller,
    /// The organization's (its administrators).
    Organization(Namespace),
}

/// A robot with, when asked for, the teams it is in and the repositories it holds a
/// permission on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RobotListing {
    /// The robot.
    pub robot: AccountRecord,
    /// Its teams and repositories, by name.
    pub held: Option<(Vec<TeamRecord>, Vec<RepositoryPath>)>,
}

impl Accounts {
    /// The namespace whose robots `caller` manages as `owner`.
    async fn robot_owner(&self, caller: &Caller, owner: &RobotOwner) -> Result<NamespaceRecord> {
        match owner {
            RobotOwner::Caller => {
                self.own_namespace(&caller.identity, Action::AdministerOwnAccount)
                    .await
            }
            RobotOwner::Organization(name) => self.administered(caller, name).await,
        }
    }

    /// Creates a robot of `owner`.
    pub async fn create_robot(
        &self,
        caller: &Caller,
        owner: &RobotOwner,
        signup: RobotSignup,
    ) -> Result<AccountRecord> {
        let owner = self.robot_owner(caller, owner).await?;
        if signup
            .description
            .as_ref()
            .is_some_and(|text| text.chars().count() > MAX_DESCRIPTION)
        {
            return Err(invalid(format!(
                "The description must be at most {MAX_DESCRIPTION} characters"
            )));
        }
        let name = RobotName {
            owner: owner.name.clone(),
            short: signup.short,
        }
        .to_string();
        let audit = self
            .entry(&caller.actor, LogKind::CreateRobot)
            .namespace(owner.id)
            .meta("robot", name.as_str())
            .meta("description", signup.description.clone())
            .meta("unstructured_metadata", signup.metadata.clone());
        let robot = NewRobot {
            owner: owner.id,
            name: name.clone(),
            token_hash: signup.token_hash,
            description: signup.description,
            metadata: signup.metadata,
            now_ms: self.now_ms(),
        };
        match self.directory.create_robot(robot, audit).await {
            Err(Error::AlreadyExists(_)) => {
                Err(invalid(format!("Existing robot with name: {name}")))
            }
            other => other,
        }
    }

    /// The robot `short` of `owner`, which must exist.
    pub async fn robot(
        &self,
        caller: &Caller,
        owner: &RobotOwner,
        short: &Namespace,
    ) -> Result<AccountRecord> {
        let owner = self.robot_owner(caller, owner).await?;
        let name = RobotName {
            owner: owner.name.clone(),
            short: short.clone(),
        }
        .to_string();
        match self.directory.account(&name).await? {
            Some(robot) if robot.kind == AccountKind::Robot && robot.namespace == owner.id => {
                Ok(robot)
            }
            _ => Err(not_found("robot", &name)),
        }
    }

    /// The first `limit` robots of `owner` by name, with their teams and repositories when
    /// `held` is asked for.
    pub async fn robots(
        &self,
        caller: &Caller,
        owner: &RobotOwner,
        limit: Option<usize>,
        held: bool,
    ) -> Result<Vec<RobotListing>> {
        let owner = self.robot_owner(caller, owner).await?;
        let mut robots = self.directory.robots(owner.id).await?;
        if let Some(limit) = limit {
            robots.truncate(limit);
        }
        let mut listings = Vec::with_capacity(robots.len());
        for robot in robots {
            let held = if held {
                let teams = self.directory.teams_of(owner.id, robot.id).await?;
                let repositories = self
                    .permissions_held(&robot)
                    .await?
                    .into_iter()
                    .map(|(path, _, _)| path)
                    .collect();
                Some((teams, repositories))
            } else {
                None
            };
            listings.push(RobotListing { robot, held });
        }
        Ok(listings)
    }

    /// Replaces the token of robot `short` of `owner`: the old one stops working at once.
    pub async fn regenerate_robot(
        &self,
        caller: &Caller,
        owner: &RobotOwner,
        short: &Namespace,
        token_hash: &str,
    ) -> Result<AccountRecord> {
        let robot = self.robot(caller, owner, short).await?;
        let audit = self
            .entry(&caller.actor, LogKind::RegenerateRobotToken)
            .namespace(robot.namespace)
            .meta("robot", robot.name.as_str());
        self.directory
            .set_account_secret(robot.id, token_hash, audit)
            .await?;
        Ok(robot)
    }

    /// Deletes robot `short` of `owner` with its permissions and team memberships.
    pub async fn delete_robot(
        &self,
        caller: &Caller,
        owner: &RobotOwner,
        short: &Namespace,
    ) -> Result<()> {
        let robot = self.robot(caller, owner, short).await?;
        let audit = self
            .entry(&caller.actor, LogKind::DeleteRobot)
            .namespace(robot.namespace)
            .meta("robot", robot.name.as_str());
        self.directory.delete_account(robot.id, audit).await
    }

    /// The repositories robot `short` of `owner` holds a permission on.
    pub async fn robot_permissions(
        &self,
        caller: &Caller,
        owner: &RobotOwner,
        short: &Namespace,
    ) -> Result<Vec<(RepositoryPath, Visibility, Role)>> {
        let robot = self.robot(caller, owner, short).await?;
        self.permissions_held(&robot).await
    }

    async fn permissions_held(
        &self,
        account: &AccountRecord,
    ) -> Result<Vec<(RepositoryPath, Visibility, Role)>> {
        self.directory
            .permissions_of(&Grantee::Account(account.id))
            .await
    }
}
