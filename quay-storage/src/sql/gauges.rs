//! The database's figures for the metrics: work waiting, and the connection pool.

use sea_orm::DbBackend;

use super::SqlMetadata;

impl SqlMetadata {
    /// Records, as gauges, the uploads in progress (`quay_uploads_in_progress`), the blobs
    /// waiting for geo-replication (`quay_replication_queue_depth`) and this node's pool of
    /// connections (`quay_db_pool_connections{state="in_use"|"idle"}`,
    /// `quay_db_pool_max_connections`).
    pub async fn record_gauges(&self) -> quay_core::Result<()> {
        for (gauge, sql) in [
            (
                "quay_uploads_in_progress",
                "SELECT COUNT(*) AS id FROM blob_upload",
            ),
            (
                "quay_replication_queue_depth",
                "SELECT COUNT(*) AS id FROM blob_replication",
            ),
        ] {
            let count = self.ids(&self.db, sql, []).await?;
            metrics::gauge!(gauge).set(count.first().copied().unwrap_or(0) as f64);
        }
        let (size, idle, max) = match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => {
                let pool = self.db.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        let pool =
            |state: &'static str| metrics::gauge!("quay_db_pool_connections", "state" => state);
        pool("in_use").set(f64::from(size.saturating_sub(idle)));
        pool("idle").set(f64::from(idle));
        metrics::gauge!("quay_db_pool_max_connections").set(f64::from(max));
        Ok(())
    }
}
