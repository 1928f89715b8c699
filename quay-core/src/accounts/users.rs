//! Users: the first one, sign-up, changes by superusers, deletion.

use super::tenancy::{Accounts, invalid, not_found};
use crate::access::{Action, Caller};
use crate::account::{AccountKind, AccountRecord, Superusers};
use crate::audit::{Actor, LogKind};
use crate::error::Result;
use crate::names::Namespace;
use crate::permission::Superuser;
use crate::ports::{NewUser, UserChange};

/// Checks a new password against Quay's rule: at least 8 characters, no whitespace. Done
/// before hashing, so by the caller that hashes.
pub fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < 8 || password.chars().any(char::is_whitespace) {
        return Err(invalid(
            "Invalid password, password must be at least 8 characters and contain no whitespace.",
        ));
    }
    Ok(())
}

/// Checks a contact address: one `@` between a non-empty local part and a dotted domain.
pub fn validate_email(email: &str) -> Result<()> {
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain.contains('.')
            && !domain.contains('@')
            && !email.chars().any(char::is_whitespace)
    });
    if valid {
        Ok(())
    } else {
        Err(invalid("Invalid email address"))
    }
}

/// A user to create: the name and address as given, the password already hashed.
#[derive(Clone, Debug)]
pub struct UserSignup {
    /// The username.
    pub name: Namespace,
    /// Contact address.
    pub email: Option<String>,
    /// The password's hash.
    pub password_hash: String,
    /// Whether the user is made a superuser in the database.
    pub superuser: bool,
}

impl Accounts {
    /// Creates the first user of an empty registry (`POST /api/v1/user/initialize`).
    pub async fn initialize(&self, signup: UserSignup, actor: &Actor) -> Result<AccountRecord> {
        if self.directory.count_users().await? > 0 {
            return Err(invalid("Cannot initialize user in a non-empty database"));
        }
        self.create_user(signup, actor).await
    }

    /// Creates a user and their namespace.
    pub async fn create_user(&self, signup: UserSignup, actor: &Actor) -> Result<AccountRecord> {
        if let Some(email) = &signup.email {
            validate_email(email)?;
        }
        let now_ms = self.now_ms();
        let audit = self
            .entry(actor, LogKind::UserCreate)
            .meta("username", signup.name.as_str())
            .meta("superuser", signup.superuser);
        let user = NewUser {
            name: signup.name,
            email: signup.email,
            password_hash: signup.password_hash,
            superuser: signup.superuser,
            now_ms,
        };
        self.directory.create_user(user, audit).await
    }

    /// The user named `name` (not a robot), which must exist.
    pub async fn user(&self, name: &str) -> Result<AccountRecord> {
        let account = self.account(name).await?;
        if account.kind != AccountKind::User {
            return Err(not_found("user", name));
        }
        Ok(account)
    }

    /// The users after `after`, by name, at most `limit` (superusers, global read-only ones
    /// too).
    pub async fn users(
        &self,
        caller: &Caller,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccountRecord>> {
        self.permit(&caller.identity, Action::OverseeRegistry)?;
        self.directory.users(after, limit).await
    }

    /// Creates a user (superusers).
    pub async fn add_user(&self, caller: &Caller, signup: UserSignup) -> Result<AccountRecord> {
        self.permit(&caller.identity, Action::AdministerRegistry)?;
        self.create_user(signup, &caller.actor).await
    }

    /// The user named `name` (superusers, global read-only ones too).
    pub async fn managed_user(&self, caller: &Caller, name: &str) -> Result<AccountRecord> {
        self.permit(&caller.identity, Action::OverseeRegistry)?;
        self.user(name).await
    }

    /// The user named `name`, once `caller` may change them: superusers may, but not a
    /// fellow superuser (as `superusers`, the deployment's, and the account say).
    async fn changeable_user(
        &self,
        caller: &Caller,
        name: &str,
        superusers: &Superusers,
        doing: &str,
    ) -> Result<AccountRecord> {
        self.permit(&caller.identity, Action::AdministerRegistry)?;
        let user = self.user(name).await?;
        if superusers.of(&user.name, user.superuser) != Superuser::No {
            return Err(invalid(format!("Cannot {doing} a superuser")));
        }
        Ok(user)
    }

    /// Changes user `name`'s password, address or enabled state, logging each change
    /// (superusers; not of a superuser). The user as they are then.
    pub async fn update_user(
        &self,
        caller: &Caller,
        name: &str,
        change: UserChange,
        superusers: &Superusers,
    ) -> Result<AccountRecord> {
        let user = &self
            .changeable_user(caller, name, superusers, "update")
            .await?;
        self.change_user(user, change, &caller.actor).await?;
        self.user(name).await
    }

    /// Changes the signed-in user's own password or address (`user:admin`), logging each
    /// change. The user as they are then.
    pub async fn update_own_account(
        &self,
        caller: &Caller,
        change: UserChange,
    ) -> Result<AccountRecord> {
        self.permit(&caller.identity, Action::AdministerOwnAccount)?;
        let Some(principal) = caller.identity.principal() else {
            return Err(caller.identity.refusal());
        };
        if change.enabled.is_some() {
            return Err(invalid("Users cannot enable or disable themselves"));
        }
        let user = &self.user(&principal.name).await?;
        self.change_user(user, change, &caller.actor).await?;
        self.user(&principal.name).await
    }

    /// Applies `change` to `user` with one log entry per changed field.
    async fn change_user(
        &self,
        user: &AccountRecord,
        change: UserChange,
        actor: &Actor,
    ) -> Result<()> {
        if let Some(email) = &change.email {
            validate_email(email)?;
        }
        let base = |kind| {
            self.entry(actor, kind)
                .namespace(user.namespace)
                .meta("username", user.name.as_str())
        };
        let mut audit = Vec::new();
        if change.password_hash.is_some() {
            audit.push(base(LogKind::UserChangePassword));
        }
        if let Some(email) = &change.email {
            audit.push(
                base(LogKind::UserChangeEmail)
                    .meta("email", email.as_str())
                    .meta("old_email", user.email.clone()),
            );
        }
        match change.enabled {
            Some(true) if !user.enabled => audit.push(base(LogKind::UserEnable)),
            Some(false) if user.enabled => audit.push(base(LogKind::UserDisable)),
            _ => {}
        }
        self.directory.update_user(user.id, change, audit).await
    }

    /// Deletes user `name` with their namespace and everything in it (superusers; not a
    /// superuser).
    pub async fn delete_user(
        &self,
        caller: &Caller,
        name: &str,
        superusers: &Superusers,
    ) -> Result<()> {
        let user = self
            .changeable_user(caller, name, superusers, "delete")
            .await?;
        let audit = self
            .entry(&caller.actor, LogKind::UserDelete)
            .meta("username", user.name.as_str());
        self.repositories
            .delete_namespace(user.namespace, audit)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_eight_characters_and_no_whitespace() {
        assert!(validate_password("correct-horse").is_ok());
        assert!(validate_password("short").is_err());
        assert!(validate_password("has a space").is_err());
        assert!(validate_password("ünïcödé!").is_ok());
    }

    #[test]
    fn emails() {
        for good in ["a@b.io", "first.last+tag@example.co.uk"] {
            assert!(validate_email(good).is_ok(), "{good}");
        }
        for bad in [
            "", "a", "a@", "@b.io", "a@b", "a@.io", "a@b.", "a b@c.io", "a@b@c.io",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }
}
