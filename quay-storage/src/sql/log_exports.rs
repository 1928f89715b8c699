//! Usage-log exports in the database: queued with their usage log entry, claimed by one
//! worker at a time (a lease, as the outbox's deliveries), and downloadable until their link
//! lapses.

use async_trait::async_trait;
use quay_core::audit::{AuditEntry, LogQuery};
use quay_core::ports::{ClaimedExport, ExportOutcome, LapsedExport, LogExport, LogExports};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult};

use super::{SqlMetadata, audit};
use crate::error::{OrStorage, StorageError};

const DUE: &str = "due";
const DONE: &str = "done";
const FAILED: &str = "failed";

#[derive(FromQueryResult)]
struct ExportRow {
    uuid: String,
    namespace_id: Option<i64>,
    repository_id: Option<i64>,
    from_ms: i64,
    until_ms: i64,
    with_namespace: bool,
    namespace_name: Option<String>,
    repository_name: Option<String>,
    callback_url: Option<String>,
    callback_email: Option<String>,
    token: String,
    attempts: i32,
    parts: Option<String>,
}

#[derive(FromQueryResult)]
struct PartsRow {
    uuid: String,
    parts: Option<String>,
}

fn parts_of(uuid: &str, parts: Option<&str>) -> Result<Option<Vec<String>>, StorageError> {
    parts
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| StorageError::CorruptMetadata(format!("log export {uuid}")))
}

#[async_trait]
impl LogExports for SqlMetadata {
    async fn queue_log_export(
        &self,
        export: &LogExport,
        audit: AuditEntry,
        now_ms: i64,
    ) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        txn.execute_raw(self.statement(
            "INSERT INTO log_export
                 (uuid, namespace_id, repository_id, from_ms, until_ms, with_namespace,
                  namespace_name, repository_name, callback_url, callback_email, token,
                  state, due_ms, attempts, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $13)",
            [
                export.id.as_str().into(),
                export.query.namespace.into(),
                export.query.repository.into(),
                export.query.from_ms.into(),
                export.query.until_ms.into(),
                export.with_namespace.into(),
                export.namespace.clone().into(),
                export.repository.clone().into(),
                export.callback_url.clone().into(),
                export.callback_email.clone().into(),
                export.token.as_str().into(),
                DUE.into(),
                now_ms.into(),
            ],
        ))
        .await
        .or_storage()?;
        audit::record(&txn, [audit]).await?;
        txn.commit().await.or_storage()
    }

    async fn claim_log_export(
        &self,
        now_ms: i64,
        lease_ms: i64,
    ) -> quay_core::Result<Option<ClaimedExport>> {
        let lock = match self.backend() {
            DbBackend::Postgres => " FOR UPDATE SKIP LOCKED",
            _ => "",
        };
        let txn = self.write_transaction().await.or_storage()?;
        let row = ExportRow::find_by_statement(self.statement(
            &format!(
                "UPDATE log_export SET due_ms = $2, attempts = attempts + 1
                 WHERE id IN (SELECT id FROM log_export WHERE state = $3 AND due_ms <= $1
                              ORDER BY due_ms, id LIMIT 1{lock})
                 RETURNING uuid, namespace_id, repository_id, from_ms, until_ms, with_namespace,
                           namespace_name, repository_name, callback_url, callback_email,
                           token, attempts, parts"
            ),
            [
                now_ms.into(),
                now_ms.saturating_add(lease_ms).into(),
                DUE.into(),
            ],
        ))
        .one(&txn)
        .await
        .or_storage()?;
        txn.commit().await.or_storage()?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(ClaimedExport {
            attempt: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            parts: parts_of(&row.uuid, row.parts.as_deref())?,
            export: LogExport {
                query: LogQuery {
                    namespace: row.namespace_id,
                    repository: row.repository_id,
                    from_ms: row.from_ms,
                    until_ms: row.until_ms,
                    ..LogQuery::default()
                },
                with_namespace: row.with_namespace,
                namespace: row.namespace_name,
                repository: row.repository_name,
                callback_url: row.callback_url,
                callback_email: row.callback_email,
                token: row.token,
                id: row.uuid,
            },
        }))
    }

    async fn finish_log_export(&self, id: &str, outcome: &ExportOutcome) -> quay_core::Result<()> {
        let encode = |parts: &Vec<String>| serde_json::to_string(parts).unwrap_or_default();
        let (state, due_ms, parts, expires_ms) = match outcome {
            ExportOutcome::Done { parts, expires_ms } => {
                (DONE, *expires_ms, Some(encode(parts)), Some(*expires_ms))
            }
            ExportOutcome::RetryAt {
                at_ms,
                parts,
                expires_ms,
            } => (DUE, *at_ms, parts.as_ref().map(encode), *expires_ms),
            ExportOutcome::Failed => (FAILED, 0, None, None),
        };
        self.execute(
            &self.db,
            "UPDATE log_export SET state = $2, due_ms = $3,
                    parts = COALESCE($4, parts), expires_ms = COALESCE(expires_ms, $5)
             WHERE uuid = $1",
            [
                id.into(),
                state.into(),
                due_ms.into(),
                parts.into(),
                expires_ms.into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn exported_log(
        &self,
        id: &str,
        token: &str,
        now_ms: i64,
    ) -> quay_core::Result<Option<Vec<String>>> {
        let row = PartsRow::find_by_statement(self.statement(
            "SELECT uuid, parts FROM log_export
             WHERE uuid = $1 AND token = $2 AND expires_ms > $3",
            [id.into(), token.into(), now_ms.into()],
        ))
        .one(&self.db)
        .await
        .or_storage()?;
        Ok(match row {
            Some(row) => parts_of(&row.uuid, row.parts.as_deref())?,
            None => None,
        })
    }

    async fn forget_lapsed_exports(&self, now_ms: i64) -> quay_core::Result<Vec<LapsedExport>> {
        let rows = PartsRow::find_by_statement(self.statement(
            "DELETE FROM log_export WHERE expires_ms <= $1 OR (state = $2 AND created_ms <= $1 - $3)
             RETURNING uuid, parts",
            [now_ms.into(), FAILED.into(), LAPSED_FAILURE_MS.into()],
        ))
        .all(&self.db)
        .await
        .or_storage()?;
        rows.into_iter()
            .map(|row| {
                Ok(LapsedExport {
                    parts: parts_of(&row.uuid, row.parts.as_deref())?.unwrap_or_default(),
                    id: row.uuid,
                })
            })
            .collect::<Result<_, StorageError>>()
            .map_err(Into::into)
    }
}

/// How long a failed export is kept, for someone to look at, before it is forgotten.
const LAPSED_FAILURE_MS: i64 = 7 * 24 * 3_600_000;
