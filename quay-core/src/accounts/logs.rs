//! The usage log, as far as a gate let the caller read it.

use super::tenancy::Accounts;
use crate::audit::{LogCount, LogQuery, LogRecord};
use crate::error::Result;

impl Accounts {
    /// The entries `query` selects, newest first.
    pub async fn usage_log(&self, query: &LogQuery) -> Result<Vec<LogRecord>> {
        self.directory.logs(query).await
    }

    /// How many entries of each kind `query` selects, by day.
    pub async fn usage_log_counts(&self, query: &LogQuery) -> Result<Vec<LogCount>> {
        self.directory.log_counts(query).await
    }
}
