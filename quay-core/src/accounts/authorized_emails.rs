//! Addresses that may receive a repository's e-mail notifications (Quay's
//! `authorizedemail`): a repository admin asks, the registry mails the address a link, and
//! its owner confirms by following it. An address is never mailed notifications its owner
//! did not agree to, except the namespace's own and its admins' addresses.

use super::access::{OwnedScope, SettingsOwner};
use super::tenancy::Accounts;
use crate::access::Caller;
use crate::error::{Error, Result};
use crate::events::method::looks_like_address;
use crate::names::RepositoryPath;
use crate::ports::{AuthorizedEmail, Mail, SecretSealer};

/// Random bytes in a confirmation code.
const CODE_BYTES: usize = 24;

impl Accounts {
    /// The request to authorize `email` for `repository`'s notifications.
    pub async fn authorized_email(
        &self,
        caller: &Caller,
        repository: &RepositoryPath,
        email: &str,
    ) -> Result<AuthorizedEmail> {
        let scope = self
            .owned_scope(caller, &SettingsOwner::Repository(repository.clone()))
            .await?;
        self.event_notifications
            .authorized_email(repository_id(&scope)?, email)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "authorized e-mail",
                name: email.into(),
            })
    }

    /// Asks that `email` receive `repository`'s notifications: mails the address a link to
    /// confirm, unless it is confirmed already; the request.
    pub async fn authorize_email(
        &self,
        caller: &Caller,
        repository: &RepositoryPath,
        email: &str,
    ) -> Result<AuthorizedEmail> {
        let scope = self
            .owned_scope(caller, &SettingsOwner::Repository(repository.clone()))
            .await?;
        let mailer = self.mailer()?;
        if !looks_like_address(email) {
            return Err(Error::InvalidRequest(format!(
                "`{email}` is not an e-mail address"
            )));
        }
        let sealer = self.sealer.as_ref().ok_or_else(|| {
            Error::InvalidRequest("this registry has no key to make codes with".into())
        })?;
        let request = self
            .event_notifications
            .add_authorized_email(repository_id(&scope)?, email, &new_code(sealer.as_ref())?)
            .await?;
        if !request.confirmed {
            mailer
                .send(&Mail {
                    to: email.into(),
                    subject: format!("E-mail notifications for {repository}"),
                    text: format!(
                        "{admin} asks that this address receive the notifications of the \
                         repository {repository}.\n\nTo agree, open\n{scheme}://{host}/authrepoemail?code={code}\n\n\
                         If you did not expect this, ignore it: nothing is sent to you unless \
                         you open the link.\n",
                        admin = caller
                            .actor
                            .performer
                            .as_ref()
                            .map_or("An administrator", |performer| performer.name.as_str()),
                        scheme = self.site.scheme,
                        host = self.site.hostname,
                        code = request.code,
                    ),
                })
                .await?;
        }
        Ok(request)
    }

    /// Confirms the request whose link carried `code`; the repository and the address.
    pub async fn confirm_authorized_email(&self, code: &str) -> Result<(RepositoryPath, String)> {
        self.event_notifications
            .confirm_authorized_email(code)
            .await?
            .ok_or_else(|| {
                Error::InvalidRequest("this confirmation link is not valid (any more)".into())
            })
    }

    /// Whether notifications of `scope` may be mailed to `email`: a confirmed request of the
    /// repository, or the namespace's own or an admin's address.
    pub(super) async fn may_email(&self, scope: &OwnedScope, email: &str) -> Result<bool> {
        if let Some(repository) = scope.repository_id()
            && self
                .event_notifications
                .authorized_email(repository, email)
                .await?
                .is_some_and(|request| request.confirmed)
        {
            return Ok(true);
        }
        self.event_notifications
            .is_admin_email(scope.namespace.id, email)
            .await
    }

    /// What sends mail, or the switch that is off.
    pub(super) fn mailer(&self) -> Result<&dyn crate::ports::MailSender> {
        self.mailer.as_deref().ok_or_else(|| {
            Error::InvalidRequest(
                "FEATURE_MAILING is off: this registry sends no mail (set MAIL_SERVER)".into(),
            )
        })
    }
}

fn repository_id(scope: &OwnedScope) -> Result<i64> {
    scope
        .repository_id()
        .ok_or_else(|| Error::InvalidRequest("not a repository".into()))
}

/// A code for a confirmation link: random, URL-safe.
fn new_code(sealer: &dyn SecretSealer) -> Result<String> {
    Ok(hex::encode(sealer.random(CODE_BYTES)?))
}
