//! The stores a registry works on, and the [`Registry`] on them with the lookups every use
//! case starts from.

use std::sync::Arc;

use super::settings::RegistrySettings;
use crate::access::{Action, Authorizer, Caller};
use crate::audit::{Actor, LogKind};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::names::RepositoryPath;
use crate::permission::RepositoryAction;
use crate::ports::{
    AccountDirectory, AuditSink, BlobIndex, BlobLinkSearch, BlobStore, ManifestDetails,
    ManifestStore, MetadataStores, MirrorStore, PruneTargets, RepositoryCatalog,
    RepositoryCollection, RepositoryStore, TagHistory, TagStore, UploadSessions, UploadStore,
    Upstream, WriteProbe,
};
use crate::repository::{Creation, NewRepository, Repository};

/// The stores a registry works on.
#[derive(Clone)]
pub struct Stores {
    /// Repositories, manifests, tags, blob links, uploads: a handle per port.
    pub metadata: MetadataStores,
    /// Namespaces (a push may create one) and their quotas.
    pub accounts: Arc<dyn AccountDirectory>,
    /// Blob bytes.
    pub blobs: Arc<dyn BlobStore>,
    /// Upload bytes.
    pub uploads: Arc<dyn UploadStore>,
    /// Where pull entries of the usage log go.
    pub pull_log: Arc<dyn AuditSink>,
}

/// The registry: every use case of the distribution API. Each takes the [`Caller`] and asks
/// the [`Authorizer`] before it reads or changes anything. It holds the metadata ports it
/// calls, not all of [`MetadataStores`].
pub struct Registry {
    authorizer: Arc<dyn Authorizer>,
    pub(super) repositories: Arc<dyn RepositoryStore>,
    pub(super) catalog: Arc<dyn RepositoryCatalog>,
    pub(super) blob_index: Arc<dyn BlobIndex>,
    pub(super) blob_search: Arc<dyn BlobLinkSearch>,
    pub(super) upload_sessions: Arc<dyn UploadSessions>,
    pub(super) manifests: Arc<dyn ManifestStore>,
    pub(super) manifest_details: Arc<dyn ManifestDetails>,
    pub(super) tags: Arc<dyn TagStore>,
    pub(super) tag_history: Arc<dyn TagHistory>,
    pub(super) prune_targets: Arc<dyn PruneTargets>,
    pub(super) probe: Arc<dyn WriteProbe>,
    pub(super) collection: Arc<dyn RepositoryCollection>,
    pub(super) accounts: Arc<dyn AccountDirectory>,
    pub(super) blobs: Arc<dyn BlobStore>,
    pub(super) uploads: Arc<dyn UploadStore>,
    pub(super) pull_log: Arc<dyn AuditSink>,
    pub(super) upstream: Option<Arc<dyn Upstream>>,
    pub(super) mirrors: Arc<dyn MirrorStore>,
    /// Mirrors' upstreams (`FEATURE_REPO_MIRROR`).
    pub(super) mirroring: Option<Arc<dyn Upstream>>,
    clock: Arc<dyn Clock>,
    pub(super) settings: RegistrySettings,
}

impl Registry {
    /// A registry on these stores, guarded by `authorizer`, with the system clock.
    pub fn new(
        stores: Stores,
        authorizer: Arc<dyn Authorizer>,
        settings: RegistrySettings,
    ) -> Self {
        let MetadataStores {
            repositories,
            catalog,
            blob_index,
            blob_search,
            upload_sessions,
            manifests,
            manifest_details,
            tags,
            tag_history,
            prune_targets,
            probe,
            collection,
            // Tenancy's, not the registry's.
            repository_settings: _,
            prune_policies: _,
            event_notifications: _,
            event_outbox: _,
            mirrors,
        } = stores.metadata;
        Self {
            authorizer,
            repositories,
            catalog,
            blob_index,
            blob_search,
            upload_sessions,
            manifests,
            manifest_details,
            tags,
            tag_history,
            prune_targets,
            probe,
            collection,
            accounts: stores.accounts,
            blobs: stores.blobs,
            uploads: stores.uploads,
            pull_log: stores.pull_log,
            upstream: None,
            mirrors,
            mirroring: None,
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

    /// Goes on only if `caller` may do `action` to the repository at `path`. A refusal reads
    /// the same whether the repository is private or missing.
    pub(super) async fn permit(
        &self,
        caller: &Caller,
        path: &RepositoryPath,
        action: RepositoryAction,
    ) -> Result<()> {
        match self
            .authorizer
            .authorize(&caller.identity, path, action)
            .await
        {
            Err(Error::Denied) => Err(caller.identity.refusal()),
            answer => answer,
        }
    }

    /// Whether `caller` may do `action`, which is about them or the whole registry.
    pub(super) fn allows(&self, caller: &Caller, action: Action) -> bool {
        self.authorizer.allows(&caller.identity, action)
    }

    pub(super) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The repository at `path`, which must exist.
    pub(super) async fn existing(&self, path: &RepositoryPath) -> Result<Repository> {
        self.repositories
            .find_repository(path)
            .await?
            .ok_or(Error::RepositoryUnknown)
    }

    /// The repository at `path`, created on first push: private (or as configured), with
    /// the pusher as its admin. The use case has checked that `actor` may create it.
    pub(super) async fn for_push(
        &self,
        path: &RepositoryPath,
        actor: &Actor,
    ) -> Result<Repository> {
        self.refuse_proxied_push(path).await?;
        if let Some(repository) = self.repositories.find_repository(path).await? {
            self.refuse_unwritable(&repository, actor).await?;
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
            visibility: self.settings.permissions.push_visibility,
            description: None,
            creator: actor.account(),
            creation: Creation::ForContent,
        };
        let (repository, _) = self
            .repositories
            .create_repository(namespace.id, path, new, None, now_ms)
            .await?;
        Ok(repository)
    }
}
