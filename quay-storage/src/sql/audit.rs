//! The usage log: entries written with the change they describe, and read back by
//! namespace, repository, performer and time.

use std::collections::BTreeMap;

use async_trait::async_trait;
use quay_core::Error;
use quay_core::account::NamespaceKind;
use quay_core::audit::{AuditEntry, LogCount, LogKind, LogQuery, LogRecord};
use quay_core::ports::AuditLog;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};

use super::{SqlMetadata, placeholders};
use crate::error::OrStorage;

/// Rows per insert statement, largest first. Every batch is written in these sizes only:
/// each distinct size is another statement that every connection prepares and caches, and
/// batches of every size from 1 to 1000 (as the pull log writes them) would fill those
/// caches with hundreds of large statements.
const ROWS_PER_INSERT: [usize; 3] = [64, 8, 1];

const INSERT: &str = "INSERT INTO log_entry
    (kind, namespace_id, performer_id, repository_id, ip, metadata, at_ms) VALUES ";
const COLUMNS: usize = 7;

impl SqlMetadata {
    /// Marks when each tag pulled through a proxy cache organization was last pulled.
    async fn mark_proxied_pulls(
        &self,
        conn: &impl ConnectionTrait,
        entries: &[AuditEntry],
    ) -> quay_core::Result<()> {
        let mut latest: BTreeMap<(i64, &str), i64> = BTreeMap::new();
        for entry in entries {
            if entry.kind != LogKind::PullRepo || !entry.metadata.contains_key("upstream") {
                continue;
            }
            let (Some(repository), Some(tag)) = (
                entry.repository,
                entry.metadata.get("tag").and_then(|tag| tag.as_str()),
            ) else {
                continue;
            };
            let at = latest.entry((repository, tag)).or_insert(entry.at_ms);
            *at = (*at).max(entry.at_ms);
        }
        for ((repository, tag), pulled_ms) in latest {
            self.execute(
                conn,
                "INSERT INTO proxy_tag_pull (repository_id, name, pulled_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (repository_id, name) DO UPDATE SET pulled_ms =
                     CASE WHEN excluded.pulled_ms > proxy_tag_pull.pulled_ms
                          THEN excluded.pulled_ms ELSE proxy_tag_pull.pulled_ms END",
                [repository.into(), tag.into(), pulled_ms.into()],
            )
            .await?;
        }
        Ok(())
    }
}

/// Records entries, inside the caller's transaction.
pub(super) async fn record(
    conn: &impl ConnectionTrait,
    entries: impl IntoIterator<Item = AuditEntry>,
) -> quay_core::Result<()> {
    let entries: Vec<AuditEntry> = entries.into_iter().collect();
    insert(conn, &entries).await
}

/// Inserts entries in statements of [`ROWS_PER_INSERT`] rows. SQLite gets positional `?`
/// parameters: it looks a `$n` up by name in a list, which makes binding a statement of
/// hundreds of them quadratic.
async fn insert(conn: &impl ConnectionTrait, entries: &[AuditEntry]) -> quay_core::Result<()> {
    let backend = conn.get_database_backend();
    let mut rest = entries;
    while !rest.is_empty() {
        let rows = ROWS_PER_INSERT
            .into_iter()
            .find(|size| *size <= rest.len())
            .unwrap_or(1);
        let (chunk, tail) = rest.split_at(rows);
        rest = tail;
        let mut values: Vec<Value> = Vec::with_capacity(rows * COLUMNS);
        for entry in chunk {
            let metadata = serde_json::to_string(&entry.metadata).map_err(Error::storage)?;
            values.extend([
                entry.kind.as_str().into(),
                entry.namespace.into(),
                entry.performer.into(),
                entry.repository.into(),
                entry.ip.clone().into(),
                metadata.into(),
                entry.at_ms.into(),
            ]);
        }
        let tuples: Vec<String> = (0..rows)
            .map(|row| match backend {
                DbBackend::Sqlite => format!("({})", ["?"; COLUMNS].join(", ")),
                _ => format!("({})", placeholders(row * COLUMNS + 1, COLUMNS)),
            })
            .collect();
        let sql = format!("{INSERT}{}", tuples.join(", "));
        conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .or_storage()?;
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct LogRow {
    id: i64,
    kind: String,
    namespace_name: Option<String>,
    namespace_kind: Option<String>,
    performer_name: Option<String>,
    performer_kind: Option<String>,
    ip: Option<String>,
    metadata: String,
    at_ms: i64,
}

#[derive(FromQueryResult)]
struct CountRow {
    kind: String,
    day: i64,
    count: i64,
}

const DAY_MS: i64 = 86_400_000;

/// `WHERE` conditions and their values for a query, as `$n` parameters.
fn conditions(query: &LogQuery) -> (String, Vec<Value>) {
    let mut values: Vec<Value> = vec![query.from_ms.into(), query.until_ms.into()];
    let mut clauses = vec!["l.at_ms >= $1".to_string(), "l.at_ms < $2".to_string()];
    for (column, value) in [
        ("l.namespace_id", query.namespace),
        ("l.repository_id", query.repository),
        ("l.performer_id", query.performer),
    ] {
        if let Some(value) = value {
            values.push(value.into());
            clauses.push(format!("{column} = ${}", values.len()));
        }
    }
    if let Some((at_ms, id)) = query.after {
        values.push(at_ms.into());
        values.push(id.into());
        let (at, id) = (values.len() - 1, values.len());
        clauses.push(format!(
            "(l.at_ms < ${at} OR (l.at_ms = ${at} AND l.id < ${id}))"
        ));
    }
    (clauses.join(" AND "), values)
}

#[async_trait]
impl AuditLog for SqlMetadata {
    async fn append(&self, entries: &[AuditEntry]) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        insert(&txn, entries).await?;
        self.mark_proxied_pulls(&txn, entries).await?;
        txn.commit().await.or_storage()
    }

    async fn logs(&self, query: &LogQuery) -> quay_core::Result<Vec<LogRecord>> {
        let (conditions, mut values) = conditions(query);
        values.push(i64::from(query.limit).into());
        let sql = format!(
            "SELECT l.id AS id, l.kind AS kind, n.name AS namespace_name, n.kind AS namespace_kind,
                    a.name AS performer_name, a.kind AS performer_kind, l.ip AS ip,
                    l.metadata AS metadata, l.at_ms AS at_ms
             FROM log_entry l
             LEFT JOIN namespace n ON n.id = l.namespace_id
             LEFT JOIN account a ON a.id = l.performer_id
             WHERE {conditions}
             ORDER BY l.at_ms DESC, l.id DESC LIMIT ${}",
            values.len()
        );
        let rows = LogRow::find_by_statement(self.statement(&sql, values))
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows
            .into_iter()
            .map(|row| LogRecord {
                id: row.id,
                kind: row.kind,
                namespace: row
                    .namespace_name
                    .zip(row.namespace_kind)
                    .map(|(name, kind)| {
                        let kind = if kind == NamespaceKind::User.as_str() {
                            NamespaceKind::User
                        } else {
                            NamespaceKind::Organization
                        };
                        (name, kind)
                    }),
                performer: row
                    .performer_name
                    .map(|name| (name, row.performer_kind.as_deref() == Some("robot"))),
                ip: row.ip,
                metadata: serde_json::from_str(&row.metadata).unwrap_or_default(),
                at_ms: row.at_ms,
            })
            .collect())
    }

    async fn log_counts(&self, query: &LogQuery) -> quay_core::Result<Vec<LogCount>> {
        let (conditions, values) = conditions(query);
        let sql = format!(
            "SELECT l.kind AS kind, l.at_ms / {DAY_MS} AS day, COUNT(*) AS count
             FROM log_entry l WHERE {conditions}
             GROUP BY l.kind, l.at_ms / {DAY_MS} ORDER BY day, kind"
        );
        let rows = CountRow::find_by_statement(self.statement(&sql, values))
            .all(&self.db)
            .await
            .or_storage()?;
        Ok(rows
            .into_iter()
            .map(|row| LogCount {
                kind: row.kind,
                day_ms: row.day * DAY_MS,
                count: u64::try_from(row.count).unwrap_or_default(),
            })
            .collect())
    }
}
