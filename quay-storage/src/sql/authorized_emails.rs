//! Addresses that may receive a repository's e-mail notifications.

use quay_core::account::NamespaceId;
use quay_core::names::RepositoryPath;
use quay_core::ports::{AuthorizedEmail, RepositoryId};
use sea_orm::FromQueryResult;

use super::{SqlMetadata, placeholders};
use crate::error::{OrStorage, StorageError};

#[derive(FromQueryResult)]
struct AuthorizedRow {
    email: String,
    confirmed: bool,
    code: String,
}

impl From<AuthorizedRow> for AuthorizedEmail {
    fn from(row: AuthorizedRow) -> Self {
        Self {
            email: row.email,
            confirmed: row.confirmed,
            code: row.code,
        }
    }
}

#[derive(FromQueryResult)]
struct Confirmed {
    repository_id: i64,
    email: String,
}

#[derive(FromQueryResult)]
struct RepositoryName {
    namespace: String,
    repository: String,
}

impl SqlMetadata {
    /// [`quay_core::ports::EventNotificationStore::authorized_email`].
    pub(super) async fn find_authorized_email(
        &self,
        repository: RepositoryId,
        email: &str,
    ) -> quay_core::Result<Option<AuthorizedEmail>> {
        Ok(AuthorizedRow::find_by_statement(self.statement(
            "SELECT email, confirmed, code FROM authorized_email
             WHERE repository_id = $1 AND email = $2",
            [repository.into(), email.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?
        .map(AuthorizedEmail::from))
    }

    /// [`quay_core::ports::EventNotificationStore::add_authorized_email`].
    pub(super) async fn ask_authorized_email(
        &self,
        repository: RepositoryId,
        email: &str,
        code: &str,
    ) -> quay_core::Result<AuthorizedEmail> {
        self.execute(
            &self.db,
            "INSERT INTO authorized_email (repository_id, email, code, confirmed)
             VALUES ($1, $2, $3, $4) ON CONFLICT (repository_id, email) DO NOTHING",
            [repository.into(), email.into(), code.into(), false.into()],
        )
        .await?;
        self.find_authorized_email(repository, email)
            .await?
            .ok_or_else(|| StorageError::CorruptMetadata(format!("authorized e-mail {email}")))
            .map_err(Into::into)
    }

    /// [`quay_core::ports::EventNotificationStore::confirm_authorized_email`].
    pub(super) async fn confirm_email_code(
        &self,
        code: &str,
    ) -> quay_core::Result<Option<(RepositoryPath, String)>> {
        let Some(confirmed) = Confirmed::find_by_statement(self.statement(
            "UPDATE authorized_email SET confirmed = $2 WHERE code = $1
             RETURNING repository_id, email",
            [code.into(), true.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?
        else {
            return Ok(None);
        };
        let path = RepositoryName::find_by_statement(self.statement(
            "SELECT n.name AS namespace, r.name AS repository
             FROM repository r JOIN namespace n ON n.id = r.namespace_id WHERE r.id = $1",
            [confirmed.repository_id.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?
        .map(|row| format!("{}/{}", row.namespace, row.repository));
        let corrupt = || StorageError::CorruptMetadata(format!("authorized e-mail {code}"));
        let path = path.ok_or_else(corrupt)?;
        let path = RepositoryPath::parse(&path).map_err(|_| corrupt())?;
        Ok(Some((path, confirmed.email)))
    }

    /// [`quay_core::ports::EventNotificationStore::is_admin_email`].
    pub(super) async fn namespace_admin_email(
        &self,
        namespace: NamespaceId,
        email: &str,
    ) -> quay_core::Result<bool> {
        let admins = self.namespace_admins(&self.db, namespace).await?;
        let of_admins = if admins.is_empty() {
            String::new()
        } else {
            format!(
                " UNION SELECT id FROM account
                  WHERE lower(email) = lower($2) AND id IN ({})",
                placeholders(3, admins.len())
            )
        };
        let values: Vec<sea_orm::Value> = [namespace.into(), email.into()]
            .into_iter()
            .chain(admins.iter().map(|account| (*account).into()))
            .collect();
        Ok(!self
            .ids(
                &self.db,
                &format!(
                    "SELECT id FROM namespace WHERE id = $1 AND lower(email) = lower($2)
                     UNION SELECT id FROM account
                     WHERE namespace_id = $1 AND lower(email) = lower($2){of_admins}"
                ),
                values,
            )
            .await?
            .is_empty())
    }
}
