//! The usage log, as far as the caller may read it.

use super::tenancy::Accounts;
use crate::access::{Action, Caller};
use crate::audit::{LogCount, LogQuery, LogRecord};
use crate::error::Result;
use crate::names::{Namespace, RepositoryPath};

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
