//! Whether the registry can reach its stores.

use super::stores::Registry;
use crate::error::Result;
use crate::ports::LocationHealth;

/// Whether the registry can reach its stores.
#[derive(Debug)]
pub struct Health {
    /// Whether the metadata store took a write.
    pub database: Result<()>,
    /// Whether each storage location took a write and read it back.
    pub storage: Vec<LocationHealth>,
}

impl Registry {
    /// Checks that the database and every storage location take a small write: a store that
    /// can still be read but no longer written (a full disk) is unhealthy.
    pub async fn health(&self) -> Health {
        let (database, storage) = futures::join!(
            self.probe.probe_writes(self.now_ms()),
            self.blobs.check_locations()
        );
        Health { database, storage }
    }
}
