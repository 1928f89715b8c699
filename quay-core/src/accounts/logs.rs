//! The usage log, as far as the caller may read it.

use super::tenancy::Accounts;
use crate::access::{Action, Caller};
use crate::audit::{LogCount, LogKind, LogQuery, LogRecord, rfc2822};
use crate::error::{Error, Result};
use crate::names::{Namespace, RepositoryPath};
use crate::ports::{ByteStream, LogExport};

/// Where export `id`'s document is kept: the parts of an upload-like object of its own.
pub fn export_object(id: &str) -> String {
    format!("export-{id}")
}

/// What an export is of, and where its link goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRequest {
    /// From (inclusive), epoch milliseconds.
    pub from_ms: i64,
    /// Until (exclusive), epoch milliseconds.
    pub until_ms: i64,
    /// Posted the link when the export is written.
    pub callback_url: Option<String>,
    /// Mailed the link when the export is written.
    pub callback_email: Option<String>,
}

/// Whose usage log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogOwner {
    /// A repository's: its admins, and superusers who oversee everything.
    Repository(RepositoryPath),
    /// An organization's: its administrators.
    Organization(Namespace),
    /// The signed-in caller's namespace (`user:admin`).
    Caller,
    /// Every entry: superusers, global read-only ones too.
    Registry,
}

impl Accounts {
    /// The entries of `owner` that `query` selects (done by `performer`, by name, if
    /// given), newest first.
    pub async fn usage_log(
        &self,
        caller: &Caller,
        owner: &LogOwner,
        query: LogQuery,
        performer: Option<&str>,
    ) -> Result<Vec<LogRecord>> {
        match self.log_query(caller, owner, query, performer).await? {
            Some(query) => self.directory.logs(&query).await,
            None => Ok(Vec::new()),
        }
    }

    /// How many entries of each kind of `owner` that `query` selects, by day.
    pub async fn usage_log_counts(
        &self,
        caller: &Caller,
        owner: &LogOwner,
        query: LogQuery,
        performer: Option<&str>,
    ) -> Result<Vec<LogCount>> {
        match self.log_query(caller, owner, query, performer).await? {
            Some(query) => self.directory.log_counts(&query).await,
            None => Ok(Vec::new()),
        }
    }

    /// Queues export `id` of `owner`'s entries that `request` asks for; when it is written,
    /// its link (which carries `token`, a random secret) is posted to the callback URL and
    /// mailed to the callback address. The export's id.
    pub async fn export_logs(
        &self,
        caller: &Caller,
        owner: &LogOwner,
        request: ExportRequest,
        id: String,
        token: String,
    ) -> Result<String> {
        let ExportRequest {
            from_ms,
            until_ms,
            callback_url,
            callback_email,
        } = request;
        if matches!(owner, LogOwner::Registry) {
            return Err(Error::InvalidRequest(
                "the whole registry's log is not exported; export a namespace's".into(),
            ));
        }
        let query = LogQuery {
            from_ms,
            until_ms,
            ..LogQuery::default()
        };
        let Some(query) = self.log_query(caller, owner, query, None).await? else {
            return Err(Error::Denied);
        };
        if let Some(url) = &callback_url {
            crate::events::method::web_url(Some(url.as_str()), "")
                .map_err(|_| Error::InvalidRequest("Invalid callback URL".into()))?;
        }
        if let Some(email) = &callback_email {
            if !email.contains('@') {
                return Err(Error::InvalidRequest("Invalid callback e-mail".into()));
            }
            self.mailer()?;
        }
        let (namespace, repository) = match owner {
            LogOwner::Repository(path) => (
                Some(path.namespace.to_string()),
                Some(path.name.to_string()),
            ),
            LogOwner::Organization(name) => (Some(name.to_string()), None),
            _ => (
                caller
                    .identity
                    .principal()
                    .map(|principal| principal.name.to_string()),
                None,
            ),
        };
        let export = LogExport {
            id,
            with_namespace: matches!(owner, LogOwner::Caller),
            namespace,
            repository,
            callback_url,
            callback_email,
            token,
            query,
        };
        let now_ms = self.now_ms();
        let mut audit = caller
            .actor
            .entry(LogKind::ExportLogsSuccess, now_ms)
            .meta("export_id", export.id.as_str())
            .meta("message", "queued for export")
            .meta("url", export.callback_url.clone())
            .meta("email", export.callback_email.clone())
            .meta("start_time", rfc2822(from_ms))
            .meta("end_time", rfc2822(until_ms));
        audit.namespace = export.query.namespace;
        audit.repository = export.query.repository;
        self.directory
            .queue_log_export(&export, audit, now_ms)
            .await?;
        Ok(export.id)
    }

    /// The document of export `id`, if `token` is its link's and the link has not lapsed.
    pub async fn exported_log(&self, id: &str, token: &str) -> Result<ByteStream> {
        let unknown = || Error::NotFound {
            what: "export",
            name: id.into(),
        };
        let storage = self.export_storage.as_ref().ok_or_else(unknown)?;
        let parts = self
            .directory
            .exported_log(id, token, self.now_ms())
            .await?
            .ok_or_else(unknown)?;
        storage.read_parts(&export_object(id), &parts).await
    }

    /// `query` narrowed to `owner`'s entries and `performer`'s, once `caller` may read
    /// them; `None` when no account is named `performer`.
    async fn log_query(
        &self,
        caller: &Caller,
        owner: &LogOwner,
        mut query: LogQuery,
        performer: Option<&str>,
    ) -> Result<Option<LogQuery>> {
        match owner {
            LogOwner::Repository(path) => {
                let details = self
                    .repository_for(&caller.identity, path, Action::ReadRepositoryLogs)
                    .await?;
                query.repository = Some(details.repository.id);
            }
            LogOwner::Organization(name) => {
                query.namespace = Some(self.administered(caller, name).await?.id);
            }
            LogOwner::Caller => {
                let namespace = self
                    .own_namespace(&caller.identity, Action::AdministerOwnAccount)
                    .await?;
                query.namespace = Some(namespace.id);
            }
            LogOwner::Registry => self.permit(&caller.identity, Action::OverseeRegistry)?,
        }
        if let Some(name) = performer {
            match self.directory.account(name).await? {
                Some(account) => query.performer = Some(account.id),
                None => return Ok(None),
            }
        }
        Ok(Some(query))
    }
}
