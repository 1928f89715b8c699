//! Stored credentials (app tokens, OAuth tokens, sessions), OAuth applications, and the key
//! registry tokens are signed with.

use async_trait::async_trait;
use quay_core::account::{AccountId, NamespaceId};
use quay_core::audit::AuditEntry;
use quay_core::ports::{ApplicationRecord, CredentialStore, TokenKind, TokenRecord};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use super::entity::{credential_token, oauth_application, signing_key};
use super::{SqlMetadata, audit};
use crate::error::{OrStorage, StorageError};

/// The one signing key's row.
const REGISTRY_TOKENS: &str = "registry-tokens";

/// Last-use times are only worth a write once a minute.
const TOUCH_INTERVAL_MS: i64 = 60_000;

fn token_kind(kind: &str) -> Result<TokenKind, StorageError> {
    [
        TokenKind::AppToken,
        TokenKind::OAuthToken,
        TokenKind::Session,
    ]
    .into_iter()
    .find(|known| known.as_str() == kind)
    .ok_or_else(|| StorageError::CorruptMetadata(format!("token kind {kind:?}")))
}

fn token_record(row: credential_token::Model) -> Result<TokenRecord, StorageError> {
    Ok(TokenRecord {
        kind: token_kind(&row.kind)?,
        uuid: row.uuid,
        account: row.account_id,
        lookup: row.lookup,
        secret_hash: row.secret_hash,
        detail: row.detail,
        application: row.application,
        created_ms: row.created_ms,
        expires_ms: row.expires_ms,
        last_used_ms: row.last_used_ms,
    })
}

fn application_record(row: oauth_application::Model) -> ApplicationRecord {
    ApplicationRecord {
        organization: row.namespace_id,
        client_id: row.client_id,
        client_secret_hash: row.client_secret_hash,
        name: row.name,
        redirect_uri: row.redirect_uri,
        application_uri: row.application_uri,
        description: row.description,
    }
}

#[async_trait]
impl CredentialStore for SqlMetadata {
    async fn create_token(
        &self,
        token: TokenRecord,
        audit: Option<AuditEntry>,
    ) -> quay_core::Result<()> {
        let txn = self.db.begin().await.or_storage()?;
        credential_token::Entity::insert(credential_token::ActiveModel {
            kind: Set(token.kind.as_str().to_string()),
            uuid: Set(token.uuid),
            account_id: Set(token.account),
            lookup: Set(token.lookup),
            secret_hash: Set(token.secret_hash),
            detail: Set(token.detail),
            application: Set(token.application),
            created_ms: Set(token.created_ms),
            expires_ms: Set(token.expires_ms),
            last_used_ms: Set(token.last_used_ms),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await
        .or_storage()?;
        audit::record(&txn, audit).await?;
        txn.commit().await.or_storage()
    }

    async fn token(&self, kind: TokenKind, lookup: &str) -> quay_core::Result<Option<TokenRecord>> {
        let row = credential_token::Entity::find()
            .filter(credential_token::Column::Kind.eq(kind.as_str()))
            .filter(credential_token::Column::Lookup.eq(lookup))
            .one(&self.db)
            .await
            .or_storage()?;
        Ok(row.map(token_record).transpose()?)
    }

    async fn tokens_of(
        &self,
        kind: TokenKind,
        account: AccountId,
    ) -> quay_core::Result<Vec<TokenRecord>> {
        let rows = credential_token::Entity::find()
            .filter(credential_token::Column::Kind.eq(kind.as_str()))
            .filter(credential_token::Column::AccountId.eq(account))
            .order_by_asc(credential_token::Column::CreatedMs)
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows
            .into_iter()
            .map(token_record)
            .collect::<Result<_, _>>()?)
    }

    async fn delete_token(
        &self,
        kind: TokenKind,
        uuid: &str,
        audit: Option<AuditEntry>,
    ) -> quay_core::Result<bool> {
        let txn = self.db.begin().await.or_storage()?;
        let deleted = credential_token::Entity::delete_many()
            .filter(credential_token::Column::Kind.eq(kind.as_str()))
            .filter(credential_token::Column::Uuid.eq(uuid))
            .exec(&txn)
            .await
            .or_storage()?
            .rows_affected;
        if deleted > 0 {
            audit::record(&txn, audit).await?;
        }
        txn.commit().await.or_storage()?;
        Ok(deleted > 0)
    }

    async fn touch_token(&self, kind: TokenKind, uuid: &str, now_ms: i64) -> quay_core::Result<()> {
        credential_token::Entity::update_many()
            .col_expr(credential_token::Column::LastUsedMs, Expr::value(now_ms))
            .filter(credential_token::Column::Kind.eq(kind.as_str()))
            .filter(credential_token::Column::Uuid.eq(uuid))
            .filter(
                Condition::any()
                    .add(credential_token::Column::LastUsedMs.is_null())
                    .add(credential_token::Column::LastUsedMs.lt(now_ms - TOUCH_INTERVAL_MS)),
            )
            .exec(&self.db)
            .await
            .or_storage()?;
        Ok(())
    }

    async fn save_application(
        &self,
        application: ApplicationRecord,
        audit: AuditEntry,
    ) -> quay_core::Result<()> {
        let txn = self.db.begin().await.or_storage()?;
        oauth_application::Entity::insert(oauth_application::ActiveModel {
            namespace_id: Set(application.organization),
            client_id: Set(application.client_id),
            client_secret_hash: Set(application.client_secret_hash),
            name: Set(application.name),
            redirect_uri: Set(application.redirect_uri),
            application_uri: Set(application.application_uri),
            description: Set(application.description),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(oauth_application::Column::ClientId)
                .update_columns([
                    oauth_application::Column::ClientSecretHash,
                    oauth_application::Column::Name,
                    oauth_application::Column::RedirectUri,
                    oauth_application::Column::ApplicationUri,
                    oauth_application::Column::Description,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await
        .or_storage()?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }

    async fn applications(
        &self,
        organization: NamespaceId,
    ) -> quay_core::Result<Vec<ApplicationRecord>> {
        let rows = oauth_application::Entity::find()
            .filter(oauth_application::Column::NamespaceId.eq(organization))
            .order_by_asc(oauth_application::Column::Name)
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows.into_iter().map(application_record).collect())
    }

    async fn application(&self, client_id: &str) -> quay_core::Result<Option<ApplicationRecord>> {
        let row = oauth_application::Entity::find()
            .filter(oauth_application::Column::ClientId.eq(client_id))
            .one(&self.db)
            .await
            .or_storage()?;
        Ok(row.map(application_record))
    }

    async fn delete_application(
        &self,
        client_id: &str,
        audit: AuditEntry,
    ) -> quay_core::Result<bool> {
        let txn = self.db.begin().await.or_storage()?;
        credential_token::Entity::delete_many()
            .filter(credential_token::Column::Application.eq(client_id))
            .exec(&txn)
            .await
            .or_storage()?;
        let deleted = oauth_application::Entity::delete_many()
            .filter(oauth_application::Column::ClientId.eq(client_id))
            .exec(&txn)
            .await
            .or_storage()?
            .rows_affected;
        if deleted > 0 {
            audit::record(&txn, [audit]).await?;
        }
        txn.commit().await.or_storage()?;
        Ok(deleted > 0)
    }

    async fn signing_key(&self) -> quay_core::Result<Option<(String, Vec<u8>)>> {
        let row = signing_key::Entity::find()
            .filter(signing_key::Column::Purpose.eq(REGISTRY_TOKENS))
            .one(&self.db)
            .await
            .or_storage()?;
        Ok(row.map(|row| (row.kid, row.pkcs8)))
    }

    async fn store_signing_key(
        &self,
        kid: &str,
        pkcs8: &[u8],
    ) -> quay_core::Result<(String, Vec<u8>)> {
        signing_key::Entity::insert(signing_key::ActiveModel {
            purpose: Set(REGISTRY_TOKENS.to_string()),
            kid: Set(kid.to_string()),
            pkcs8: Set(pkcs8.to_vec()),
            created_ms: Set(0),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(signing_key::Column::Purpose)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await
        .or_storage()?;
        Ok(self
            .signing_key()
            .await?
            .ok_or_else(|| StorageError::CorruptMetadata("signing key vanished".into()))?)
    }
}
