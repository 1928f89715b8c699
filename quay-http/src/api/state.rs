//! What the API's handlers share: the application, tenancy, and the API's description.

use std::sync::{Arc, OnceLock};

use quay_auth::{AuthSettings, Authenticator};
use quay_core::account::AccountRecord;
use quay_core::account::NamespaceRecord;
use quay_core::accounts::validate_password;
use quay_core::audit::Actor;
use quay_core::permission::Superuser;
use quay_core::quota::QuotaSettings;
use quay_core::{Accounts, Error};

use super::error::ApiResult;
use crate::state::{AppState, Tenancy};

/// What the API's handlers share.
#[derive(Clone)]
pub(crate) struct Api {
    pub(super) app: AppState,
    pub(super) tenancy: Arc<Tenancy>,
    /// The API description, as JSON (made once the routes are known).
    pub(super) description: Arc<OnceLock<String>>,
}

impl Api {
    /// Changes a namespace's time-machine window, where `FEATURE_CHANGE_TAG_EXPIRATION`
    /// allows it.
    pub(super) async fn set_tag_expiration(
        &self,
        namespace: &NamespaceRecord,
        seconds: i64,
        actor: &Actor,
    ) -> ApiResult<()> {
        let settings = &self.tenancy.settings;
        if !settings.change_tag_expiration {
            return Err(Error::InvalidRequest(
                "Changing the tag expiration is disabled on this registry".into(),
            )
            .into());
        }
        self.accounts()
            .set_tag_expiration(namespace, seconds, &settings.tag_expiration_options, actor)
            .await?;
        Ok(())
    }

    pub(super) fn accounts(&self) -> &Accounts {
        &self.tenancy.accounts
    }

    pub(super) fn authenticator(&self) -> &Authenticator {
        &self.tenancy.authenticator
    }

    pub(super) fn auth_settings(&self) -> &AuthSettings {
        self.authenticator().settings()
    }

    /// The registry's quota switches: the API serves and judges quotas as pushes are.
    pub(super) fn quota(&self) -> &QuotaSettings {
        &self.app.registry.settings().quota
    }

    /// Validates and hashes a new user's password.
    pub(super) async fn password_hash(&self, password: &str) -> ApiResult<String> {
        validate_password(password)?;
        Ok(self
            .authenticator()
            .passwords()
            .hash(password)
            .await
            .map_err(Error::from)?)
    }

    pub(super) fn superuser_of(&self, account: &AccountRecord) -> Superuser {
        self.auth_settings()
            .superusers
            .of(&account.name, account.superuser)
    }
}
