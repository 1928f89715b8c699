//! Robot accounts of users and organizations.

use super::tenancy::{Accounts, invalid, not_found};
use crate::RepositoryPath;
use crate::account::{AccountKind, AccountRecord, Grantee, NamespaceRecord, RobotName, TeamRecord};
use crate::audit::{Actor, LogKind};
use crate::error::{Error, Result};
use crate::names::Namespace;
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

impl Accounts {
    /// Creates a robot in `owner`.
    pub async fn create_robot(
        &self,
        owner: &NamespaceRecord,
        signup: RobotSignup,
        actor: &Actor,
    ) -> Result<AccountRecord> {
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
            .entry(actor, LogKind::CreateRobot)
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
    pub async fn robot(&self, owner: &NamespaceRecord, short: &Namespace) -> Result<AccountRecord> {
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

    /// The robots of a namespace, by name.
    pub async fn robots(&self, owner: &NamespaceRecord) -> Result<Vec<AccountRecord>> {
        self.directory.robots(owner.id).await
    }

    /// Replaces a robot's token: the old one stops working at once.
    pub async fn regenerate_robot(
        &self,
        robot: &AccountRecord,
        token_hash: &str,
        actor: &Actor,
    ) -> Result<()> {
        let audit = self
            .entry(actor, LogKind::RegenerateRobotToken)
            .namespace(robot.namespace)
            .meta("robot", robot.name.as_str());
        self.directory
            .set_account_secret(robot.id, token_hash, audit)
            .await
    }

    /// Deletes a robot with its permissions and team memberships.
    pub async fn delete_robot(&self, robot: &AccountRecord, actor: &Actor) -> Result<()> {
        let audit = self
            .entry(actor, LogKind::DeleteRobot)
            .namespace(robot.namespace)
            .meta("robot", robot.name.as_str());
        self.directory.delete_account(robot.id, audit).await
    }

    /// The repositories an account (a robot, or a user) holds a permission on.
    pub async fn account_permissions(
        &self,
        account: &AccountRecord,
    ) -> Result<Vec<(RepositoryPath, Visibility, Role)>> {
        self.directory
            .permissions_of(&Grantee::Account(account.id))
            .await
    }

    /// The teams of `organization` that `account` is in.
    pub async fn teams_of(
        &self,
        organization: &NamespaceRecord,
        account: &AccountRecord,
    ) -> Result<Vec<TeamRecord>> {
        self.directory.teams_of(organization.id, account.id).await
    }
}
