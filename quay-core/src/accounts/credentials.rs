//! Stored credentials: app-specific tokens, OAuth applications and their tokens, sessions.
//!
//! They arrive minted by `quay-auth` (only the hash of the secret part is in the record);
//! here they are stored with their usage log entries.

use super::tenancy::{Accounts, not_found};
use crate::account::{AccountRecord, NamespaceRecord};
use crate::audit::{Actor, LogKind};
use crate::error::Result;
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

    /// The credentials of `kind` of an account.
    pub async fn tokens(
        &self,
        kind: TokenKind,
        account: &AccountRecord,
    ) -> Result<Vec<TokenRecord>> {
        self.directory.tokens_of(kind, account.id).await
    }

    /// Revokes an account's app-specific token.
    pub async fn revoke_app_token(
        &self,
        account: &AccountRecord,
        uuid: &str,
        actor: &Actor,
    ) -> Result<()> {
        let token = self
            .tokens(TokenKind::AppToken, account)
            .await?
            .into_iter()
            .find(|token| token.uuid == uuid)
            .ok_or_else(|| not_found("app-specific token", uuid))?;
        let audit = self
            .entry(actor, LogKind::RevokeAppSpecificToken)
            .namespace(account.namespace)
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

    /// Creates or changes an OAuth application of an organization.
    pub async fn save_application(
        &self,
        organization: &NamespaceRecord,
        application: ApplicationRecord,
        actor: &Actor,
    ) -> Result<()> {
        let existing = self.directory.application(&application.client_id).await?;
        let kind = if existing.is_some() {
            LogKind::UpdateApplication
        } else {
            LogKind::CreateApplication
        };
        let audit = self
            .entry(actor, kind)
            .namespace(organization.id)
            .meta("application_name", application.name.as_str())
            .meta("client_id", application.client_id.as_str());
        self.directory.save_application(application, audit).await
    }

    /// An application of the organization, which must exist.
    pub async fn application(
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

    /// The application a user is asked to grant a token to, whichever organization has it.
    pub async fn application_to_grant(&self, client_id: &str) -> Result<Option<ApplicationRecord>> {
        self.directory.application(client_id).await
    }

    /// The applications of an organization.
    pub async fn applications(
        &self,
        organization: &NamespaceRecord,
    ) -> Result<Vec<ApplicationRecord>> {
        self.directory.applications(organization.id).await
    }

    /// Deletes an application and the tokens issued to it.
    pub async fn delete_application(
        &self,
        organization: &NamespaceRecord,
        client_id: &str,
        actor: &Actor,
    ) -> Result<()> {
        let application = self.application(organization, client_id).await?;
        let audit = self
            .entry(actor, LogKind::DeleteApplication)
            .namespace(organization.id)
            .meta("application_name", application.name.as_str())
            .meta("client_id", client_id);
        self.directory.delete_application(client_id, audit).await?;
        Ok(())
    }
}
