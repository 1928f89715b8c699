//! The health check's write: one row, updated and committed.

use async_trait::async_trait;
use quay_core::ports::WriteProbe;
use sea_orm::ConnectionTrait;

use super::SqlMetadata;
use crate::error::OrStorage;

#[async_trait]
impl WriteProbe for SqlMetadata {
    async fn probe_writes(&self, now_ms: i64) -> quay_core::Result<()> {
        let txn = self.write_transaction().await.or_storage()?;
        txn.execute_raw(self.statement(
            "UPDATE health_probe SET at_ms = $1 WHERE id = 1",
            [now_ms.into()],
        ))
        .await
        .or_storage()?;
        txn.commit().await.or_storage()
    }
}
