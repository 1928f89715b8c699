//! Nodes on one PostgreSQL database tell each other what they changed, so that each
//! node's cache retires what another node's write made stale: `NOTIFY` on one channel, a
//! `LISTEN`ing connection per node.
//!
//! A change is published after its transaction committed and before the write returns to
//! its client; PostgreSQL delivers it to the other nodes at once, and they apply it as it
//! arrives, so a change is seen everywhere within milliseconds of its response. While a
//! node's listening connection is lost it cannot know what it missed: on reconnecting it
//! retires its whole cache.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use quay_core::RepositoryPath;
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use crate::cache::{CacheChange, CachedMetadata, Peers};
use crate::sql::SqlMetadata;

/// The channel every node publishes on and listens to.
const CHANNEL: &str = "quay_cache";

/// The nodes on one PostgreSQL database.
pub struct PostgresPeers {
    pool: PgPool,
    /// This node, to skip its own messages.
    node: String,
}

impl PostgresPeers {
    /// Peers reached through `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            node: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// The nodes on `metadata`'s database, if it is PostgreSQL (SQLite serves one node).
    pub fn of(metadata: &SqlMetadata) -> Option<Self> {
        metadata.postgres_pool().map(Self::new)
    }

    /// Applies the other nodes' changes to `cache`, until the process ends.
    pub async fn listen<M>(self: Arc<Self>, cache: Arc<CachedMetadata<M>>) {
        let mut listener = loop {
            match self.subscribe().await {
                Ok(listener) => break listener,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for other nodes' changes; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(change) = self.decode(notification.payload()) {
                        cache.forget(&change);
                    }
                }
                // The connection was lost and is being re-established: what was published
                // meanwhile is lost with it.
                Ok(None) => cache.forget(&CacheChange::NamespaceDeleted),
                Err(error) => {
                    tracing::warn!(%error, "listening for other nodes' changes failed");
                    cache.forget(&CacheChange::NamespaceDeleted);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn subscribe(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }

    fn encode(&self, change: &CacheChange) -> String {
        let node = &self.node;
        match change {
            CacheChange::Repository(id) => format!("{node} repository {id}"),
            // "created": the name predates state changes, which nodes tell the same way.
            CacheChange::AtPath(path) => format!("{node} created {path}"),
            CacheChange::Deleted(id) => format!("{node} deleted {id}"),
            CacheChange::NamespaceDeleted => format!("{node} namespace"),
        }
    }

    /// Another node's change; `None` for this node's own and for what cannot be read.
    fn decode(&self, payload: &str) -> Option<CacheChange> {
        let mut fields = payload.splitn(3, ' ');
        let (node, kind, value) = (fields.next()?, fields.next()?, fields.next());
        if node == self.node {
            return None;
        }
        let change = match (kind, value) {
            ("repository", Some(id)) => CacheChange::Repository(id.parse().ok()?),
            ("created", Some(path)) => CacheChange::AtPath(RepositoryPath::parse(path).ok()?),
            ("deleted", Some(id)) => CacheChange::Deleted(id.parse().ok()?),
            ("namespace", None) => CacheChange::NamespaceDeleted,
            _ => {
                tracing::warn!(payload, "unreadable cache change from another node");
                return None;
            }
        };
        Some(change)
    }
}

#[async_trait]
impl Peers for PostgresPeers {
    async fn publish(&self, change: &CacheChange) {
        let published = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(self.encode(change))
            .execute(&self.pool)
            .await;
        if let Err(error) = published {
            tracing::warn!(%error, ?change, "other nodes not told of a change");
        }
    }
}
