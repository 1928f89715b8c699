//! Stored credentials: app-specific tokens, OAuth applications and their tokens, sessions.
//!
//! They arrive minted by `quay-auth` (only the hash of the secret part is in the record);
//! here they are stored with their usage log entries.

use super::tenancy::{Accounts, not_found};
use crate::access::{Action, Caller};
use crate::account::{AccountRecord, NamespaceRecord};
use crate::audit::{Actor, LogKind};
use crate::error::Result;
use crate::names::Namespace;
use crate::ports::{ApplicationRecord, TokenKind, TokenRecord};

impl Accounts {
    /// Stores a credential minted for `account`: an app-specific token, an OAuth token or a
    /// session (a sign-in).
    pub async fn store_token(
        &self,
        account: &AccountRecord,
        token: TokenRecord,
        actor: &Actor,
    ) -> Result<()> {
        let base = |kind| self.entry(actor, kind).namespace(account.namespace);
        let audit = match token.kind {
            TokenKind::AppToken => base(LogKind::CreateAppSpecificToken)
                .meta("app_specific_token_title", token.detail.as_str())
                .meta("app_specific_token", token.uuid.as_str()),
            TokenKind::OAuthToken => base(LogKind::OauthTokenAssigned)
                .meta("username", account.name.as_str())
                .meta("scope", token.detail.as_str())
                .meta("client_id", token.application.clone()),
            TokenKind::Session => base(LogKind::LoginSuccess)
                .meta("username", account.name.as_str())
                .meta("kind", "user")
                .meta("type", "quayauth")
                .meta("useragent", actor.user_agent.clone().unwrap_or_default()),
        };
        self.directory.create_token(token, Some(audit)).await
    }

    /// The signed-in caller's user, once they may do `action` to their account.
    async fn own_user(&self, caller: &Caller, action: Action) -> Result<AccountRecord> {
        let namespace = self.own_namespace(&caller.identity, action).await?;
        self.user(namespace.name.as_str()).await
    }

    /// The caller's app-specific tokens (`user:admin`).
    pub async fn app_tokens(&self, caller: &Caller) -> Result<Vec<TokenRecord>> {
        let user = self.own_user(caller, Action::AdministerOwnAccount).await?;
        self.directory.tokens_of(TokenKind::AppToken, user.id).await
    }

    /// The caller's app-specific token `uuid` (`user:admin`).
    pub async fn app_token(&self, caller: &Caller, uuid: &str) -> Result<TokenRecord> {
        let user = self.own_user(caller, Action::AdministerOwnAccount).await?;
        self.app_token_of(&user, uuid).await
    }

    async fn app_token_of(&self, user: &AccountRecord, uuid: &str) -> Result<TokenRecord> {
        self.directory
            .tokens_of(TokenKind::AppToken, user.id)
            .await?
            .into_iter()
            .find(|token| token.uuid == uuid)
            .ok_or_else(|| not_found("app-specific token", uuid))
    }

    /// Stores an app-specific token minted for the caller (`user:admin`).
    pub async fn create_app_token(&self, caller: &Caller, token: TokenRecord) -> Result<()> {
        let user = self.own_user(caller, Action::AdministerOwnAccount).await?;
        self.store_token(&user, token, &caller.actor).await
    }

    /// Stores an OAuth token the caller grants an application (`user:admin`).
    pub async fn grant_oauth_token(&self, caller: &Caller, token: TokenRecord) -> Result<()> {
        let user = self.own_user(caller, Action::AdministerOwnAccount).await?;
        self.store_token(&user, token, &caller.actor).await
    }

    /// Revokes the caller's app-specific token `uuid` (`user:admin`).
    pub async fn revoke_app_token(&self, caller: &Caller, uuid: &str) -> Result<()> {
        let user = self.own_user(caller, Action::AdministerOwnAccount).await?;
        let token = self.app_token_of(&user, uuid).await?;
        let audit = self
            .entry(&caller.actor, LogKind::RevokeAppSpecificToken)
            .namespace(user.namespace)
            .meta("app_specific_token_title", token.detail.as_str())
            .meta("app_specific_token", uuid);
        self.directory
            .delete_token(TokenKind::AppToken, uuid, Some(audit))
            .await?;
        Ok(())
    }

    /// Ends a session (signing out); nothing to log.
    pub async fn end_session(&self, uuid: &str) -> Result<()> {
        self.directory
            .delete_token(TokenKind::Session, uuid, None)
            .await
            .map(drop)
    }

    /// Creates an OAuth application of an organization with its client credentials
    /// (administrators).
    pub async fn create_application(
        &self,
        caller: &Caller,
        organization: &Namespace,
        (client_id, client_secret_hash): (String, String),
        details: ApplicationDetails,
    ) -> Result<ApplicationRecord> {
        let organization = self.administered(caller, organization).await?;
        let application = ApplicationRecord {
            organization: organization.id,
            client_id,
            client_secret_hash,
            name: details.name,
            redirect_uri: details.redirect_uri.unwrap_or_default(),
            application_uri: details.application_uri.unwrap_or_default(),
            description: details.description.unwrap_or_default(),
        };
        self.save_application(
            &organization,
            &application,
            LogKind::CreateApplication,
            caller,
        )
        .await?;
        Ok(application)
    }

    /// Changes an OAuth application of an organization; `None` keeps a field
    /// (administrators).
    pub async fn update_application(
        &self,
        caller: &Caller,
        organization: &Namespace,
        client_id: &str,
        details: ApplicationDetails,
    ) -> Result<ApplicationRecord> {
        let organization = self.administered(caller, organization).await?;
        let existing = self.application_of(&organization, client_id).await?;
        let application = ApplicationRecord {
            name: details.name,
            redirect_uri: details.redirect_uri.unwrap_or(existing.redirect_uri),
            application_uri: details.application_uri.unwrap_or(existing.application_uri),
            description: details.description.unwrap_or(existing.description),
            ..existing
        };
        self.save_application(
            &organization,
            &application,
            LogKind::UpdateApplication,
            caller,
        )
        .await?;
        Ok(application)
    }

    async fn save_application(
        &self,
        organization: &NamespaceRecord,
        application: &ApplicationRecord,
        kind: LogKind,
        caller: &Caller,
    ) -> Result<()> {
        let audit = self
            .entry(&caller.actor, kind)
            .namespace(organization.id)
            .meta("application_name", application.name.as_str())
            .meta("client_id", application.client_id.as_str());
        self.directory
            .save_application(application.clone(), audit)
            .await
    }

    /// An application of the organization, which must exist (administrators).
    pub async fn application(
        &self,
        caller: &Caller,
        organization: &Namespace,
        client_id: &str,
    ) -> Result<ApplicationRecord> {
        let organization = self.administered(caller, organization).await?;
        self.application_of(&organization, client_id).await
    }

    async fn application_of(
        &self,
        organization: &NamespaceRecord,
        client_id: &str,
    ) -> Result<ApplicationRecord> {
        self.directory
            .application(client_id)
            .await?
            .filter(|application| application.organization == organization.id)
            .ok_or_else(|| not_found("application", client_id))
    }

    /// The application the signed-in caller is asked to grant a token to, whichever
    /// organization has it (`user:read`).
    pub async fn application_to_grant(
        &self,
        caller: &Caller,
        client_id: &str,
    ) -> Result<Option<ApplicationRecord>> {
        self.own_namespace(&caller.identity, Action::ReadOwnAccount)
            .await?;
        self.directory.application(client_id).await
    }

    /// The applications of an organization (administrators).
    pub async fn applications(
        &self,
        caller: &Caller,
        organization: &Namespace,
    ) -> Result<Vec<ApplicationRecord>> {
        let organization = self.administered(caller, organization).await?;
        self.directory.applications(organization.id).await
    }

    /// Deletes an application and the tokens issued to it (administrators).
    pub async fn delete_application(
        &self,
        caller: &Caller,
        organization: &Namespace,
        client_id: &str,
    ) -> Result<()> {
        let organization = self.administered(caller, organization).await?;
        let application = self.application_of(&organization, client_id).await?;
        let audit = self
            .entry(&caller.actor, LogKind::DeleteApplication)
            .namespace(organization.id)
            .meta("application_name", application.name.as_str())
            .meta("client_id", client_id);
        self.directory.delete_application(client_id, audit).await?;
        Ok(())
    }
}

/// An OAuth application's fields that its administrators set; `None` leaves a field
/// empty on creation and unchanged on update.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplicationDetails {
    /// Its name.
    pub name: String,
    /// Where grants redirect to.
    pub redirect_uri: Option<String>,
    /// Its home page.
    pub application_uri: Option<String>,
    /// Free text.
    pub description: Option<String>,
}
