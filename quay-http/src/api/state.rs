//! What the API's handlers share: the application, tenancy, and the API's description.

use std::sync::{Arc, OnceLock};

use quay_auth::{AuthSettings, Authenticator};
use quay_core::account::AccountRecord;
use quay_core::accounts::validate_password;
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
    /// The time-machine windows a namespace may choose (`TAG_EXPIRATION_OPTIONS`), once
    /// `FEATURE_CHANGE_TAG_EXPIRATION` allows the window `asked` for.
    pub(super) fn tag_windows(&self, asked: Option<i64>) -> ApiResult<&[i64]> {
        let settings = &self.tenancy.settings;
        if asked.is_some() && !settings.change_tag_expiration {
            return Err(Error::InvalidRequest(
                "Changing the tag expiration is disabled on this registry".into(),
            )
            .into());
        }
        Ok(&settings.tag_expiration_options)
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

    /// The hash of a new password, if one is given (checked against the password rules).
    pub(super) async fn new_password_hash(
        &self,
        password: Option<&str>,
    ) -> ApiResult<Option<String>> {
        match password {
            Some(password) => self.password_hash(password).await.map(Some),
            None => Ok(None),
        }
    }

    pub(super) fn superuser_of(&self, account: &AccountRecord) -> Superuser {
        self.auth_settings()
            .superusers
            .of(&account.name, account.superuser)
    }
}
