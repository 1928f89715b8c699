//! The port of usage-log exports: jobs queued by the API, done by a worker on any node.

use async_trait::async_trait;

use crate::audit::{AuditEntry, LogQuery};
use crate::error::Result;

/// An export of a usage log, as asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogExport {
    /// Its id (a UUID), as the API answers it.
    pub id: String,
    /// The entries: a namespace's or a repository's, between two times.
    pub query: LogQuery,
    /// Whether each entry names its namespace (a user's export, which spans namespaces).
    pub with_namespace: bool,
    /// The namespace's name, for the document's details.
    pub namespace: Option<String>,
    /// The repository's name, for the document's details.
    pub repository: Option<String>,
    /// Where the link is posted when the export is done.
    pub callback_url: Option<String>,
    /// Where the link is mailed when the export is done.
    pub callback_email: Option<String>,
    /// What the download link carries; a credential.
    pub token: String,
}

/// An export a worker took, with what earlier attempts left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedExport {
    /// The export.
    pub export: LogExport,
    /// Which attempt this is, from 1.
    pub attempt: u32,
    /// The document's parts, if an earlier attempt wrote them (its callback failed).
    pub parts: Option<Vec<String>>,
}

/// What became of an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportOutcome {
    /// Written, and told; downloadable until `expires_ms` (or the lapse an earlier attempt
    /// set).
    Done {
        /// The document's parts, in order.
        parts: Vec<String>,
        /// When the link lapses.
        expires_ms: i64,
    },
    /// Written (if `parts`), but not told yet: try again at `at_ms`.
    RetryAt {
        /// When.
        at_ms: i64,
        /// The parts written, kept for the next attempt.
        parts: Option<Vec<String>>,
        /// Until when what was written is downloadable, if anything was.
        expires_ms: Option<i64>,
    },
    /// Given up.
    Failed,
}

/// A lapsed export whose document may be removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LapsedExport {
    /// Its id.
    pub id: String,
    /// The document's parts.
    pub parts: Vec<String>,
}

/// Log exports, shared by every node.
#[async_trait]
pub trait LogExports: Send + Sync {
    /// Queues `export`, recording `audit` with it.
    async fn queue_log_export(
        &self,
        export: &LogExport,
        audit: AuditEntry,
        now_ms: i64,
    ) -> Result<()>;

    /// Takes one due export for `lease_ms`, if there is one; another worker skips it until
    /// the lease lapses.
    async fn claim_log_export(&self, now_ms: i64, lease_ms: i64) -> Result<Option<ClaimedExport>>;

    /// Records what became of export `id`.
    async fn finish_log_export(&self, id: &str, outcome: &ExportOutcome) -> Result<()>;

    /// The parts of export `id` if `token` is its link's and the link has not lapsed.
    async fn exported_log(&self, id: &str, token: &str, now_ms: i64)
    -> Result<Option<Vec<String>>>;

    /// Forgets exports whose links lapsed before `now_ms`; their documents, to remove.
    async fn forget_lapsed_exports(&self, now_ms: i64) -> Result<Vec<LapsedExport>>;
}
