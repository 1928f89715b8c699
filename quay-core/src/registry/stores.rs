//! The stores a registry works on, and the [`Registry`] on them with the lookups every use
//! case starts from.

use std::sync::Arc;

use super::settings::RegistrySettings;
use crate::audit::{Actor, LogKind};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::names::RepositoryPath;
use crate::ports::{AccountDirectory, AuditSink, BlobStore, MetadataStore, UploadStore};
use crate::repository::{NewRepository, Repository};

/// The stores a registry works on.
#[derive(Clone)]
pub struct Stores {
    /// Repositories, manifests, tags, blob links, uploads.
    pub metadata: Arc<dyn MetadataStore>,
    /// Namespaces (a push may create one) and their quotas.
    pub accounts: Arc<dyn AccountDirectory>,
    /// Blob bytes.
    pub blobs: Arc<dyn BlobStore>,
    /// Upload bytes.
    pub uploads: Arc<dyn UploadStore>,
    /// Where pull entries of the usage log go.
    pub pull_log: Arc<dyn AuditSink>,
}

/// The registry: every use case of the distribution API.
pub struct Registry {
    pub(super) metadata: Arc<dyn MetadataStore>,
    pub(super) accounts: Arc<dyn AccountDirectory>,
    pub(super) blobs: Arc<dyn BlobStore>,
    pub(super) uploads: Arc<dyn UploadStore>,
    pub(super) pull_log: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
    pub(super) settings: RegistrySettings,
}

impl Registry {
    /// A registry on these stores, with the system clock.
    pub fn new(stores: Stores, settings: RegistrySettings) -> Self {
        Self {
            metadata: stores.metadata,
            accounts: stores.accounts,
            blobs: stores.blobs,
            uploads: stores.uploads,
            pull_log: stores.pull_log,
            clock: Arc::new(SystemClock),
            settings,
        }
    }

    /// Replaces the clock (tests move time with it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The settings in force.
    pub fn settings(&self) -> &RegistrySettings {
        &self.settings
    }

    pub(super) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The repository at `path`, which must exist.
    pub(super) async fn existing(&self, path: &RepositoryPath) -> Result<Repository> {
        self.metadata
            .find_repository(path)
            .await?
            .ok_or(Error::RepositoryUnknown)
    }

    /// The repository at `path`, created on first push: private (or as configured), with
    /// the pusher as its admin. The caller has checked that `actor` may create it.
    pub(super) async fn for_push(
        &self,
        path: &RepositoryPath,
        actor: &Actor,
    ) -> Result<Repository> {
        if let Some(repository) = self.metadata.find_repository(path).await? {
            return Ok(repository);
        }
        let now_ms = self.now_ms();
        let namespace = match self.accounts.namespace(&path.namespace).await? {
            Some(namespace) => namespace,
            None if self.settings.permissions.create_namespace_on_push => {
                let audit = actor
                    .entry(LogKind::OrgCreate, now_ms)
                    .meta("namespace", path.namespace.as_str());
                let creator = actor.account();
                match self
                    .accounts
                    .create_organization(&path.namespace, None, creator, audit, now_ms)
                    .await
                {
                    Ok(namespace) => namespace,
                    // Another push created it first.
                    Err(Error::AlreadyExists(_)) => self
                        .accounts
                        .namespace(&path.namespace)
                        .await?
                        .ok_or(Error::RepositoryUnknown)?,
                    Err(other) => return Err(other),
                }
            }
            None => {
                return Err(Error::NotFound {
                    what: "namespace",
                    name: path.namespace.to_string(),
                });
            }
        };
        let new = NewRepository {
            visibility: self.settings.push_visibility,
            description: None,
            creator: actor.account(),
        };
        let (repository, _) = self
            .metadata
            .create_repository(namespace.id, path, new, None, now_ms)
            .await?;
        Ok(repository)
    }
}
