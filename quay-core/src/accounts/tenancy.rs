//! [`Accounts`]: the stores and settings every tenancy use case works with, and the small
//! helpers their answers share.

use std::sync::Arc;

use crate::account::{AccountRecord, NamespaceKind, NamespaceRecord};
use crate::audit::{Actor, AuditEntry, LogKind};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::events::Site;
use crate::names::Namespace;
use crate::permission::PermissionSettings;
use crate::ports::{
    AccountDirectory, EventNotificationStore, MailSender, MetadataStores, MirrorStore, PruneStore,
    RepositorySettings, RepositoryStore, SecretSealer, UploadStore, Upstream,
};

/// Tenancy's use cases.
pub struct Accounts {
    pub(super) directory: Arc<dyn AccountDirectory>,
    pub(super) repositories: Arc<dyn RepositoryStore>,
    pub(super) repository_settings: Arc<dyn RepositorySettings>,
    pub(super) prune_policies: Arc<dyn PruneStore>,
    pub(super) event_notifications: Arc<dyn EventNotificationStore>,
    pub(super) permissions: PermissionSettings,
    pub(super) clock: Arc<dyn Clock>,
    /// Where clients reach the registry, for the links in events.
    pub(super) site: Site,
    /// What seals webhooks' signing keys; without it webhooks are not signed.
    pub(super) sealer: Option<Arc<dyn SecretSealer>>,
    /// What sends mail; without it, no e-mail notifications (`FEATURE_MAILING` off).
    pub(super) mailer: Option<Arc<dyn MailSender>>,
    /// Where log exports' documents are kept.
    pub(super) export_storage: Option<Arc<dyn UploadStore>>,
    /// Proxy cache organizations' upstreams (`FEATURE_PROXY_CACHE`).
    pub(super) upstream: Option<Arc<dyn Upstream>>,
    /// Repository mirrors.
    pub(super) mirrors: Arc<dyn MirrorStore>,
    /// Mirrors' upstreams (`FEATURE_REPO_MIRROR`).
    pub(super) mirroring: Option<Arc<dyn Upstream>>,
}

impl Accounts {
    /// Use cases on these stores, deciding with `permissions`. `metadata` is the registry's
    /// (repository changes go through its handles, so that its cache sees them).
    pub fn new(
        directory: Arc<dyn AccountDirectory>,
        metadata: &MetadataStores,
        permissions: PermissionSettings,
    ) -> Self {
        Self {
            directory,
            repositories: metadata.repositories.clone(),
            repository_settings: metadata.repository_settings.clone(),
            prune_policies: metadata.prune_policies.clone(),
            event_notifications: metadata.event_notifications.clone(),
            permissions,
            clock: Arc::new(SystemClock),
            site: Site::default(),
            sealer: None,
            mailer: None,
            export_storage: None,
            upstream: None,
            mirrors: metadata.mirrors.clone(),
            mirroring: None,
        }
    }

    /// Reads log exports' documents from `storage`.
    pub fn with_export_storage(mut self, storage: Arc<dyn UploadStore>) -> Self {
        self.export_storage = Some(storage);
        self
    }

    /// Sends mail with `mailer`: e-mail notifications and their addresses' confirmations.
    pub fn with_mailer(mut self, mailer: Arc<dyn MailSender>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Checks and signs in to proxy cache organizations' upstreams through `upstream`.
    pub fn with_upstream(mut self, upstream: Arc<dyn Upstream>) -> Self {
        self.upstream = Some(upstream);
        self
    }

    /// Seals webhooks' signing keys with `sealer`, so that webhooks are signed.
    pub fn with_sealer(mut self, sealer: Arc<dyn SecretSealer>) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// Where clients reach the registry, for the links in the events it sends.
    pub fn with_site(mut self, site: Site) -> Self {
        self.site = site;
        self
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The time on this use case's clock, in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(super) fn entry(&self, actor: &Actor, kind: LogKind) -> AuditEntry {
        actor.entry(kind, self.now_ms())
    }

    /// The namespace named `name`, which must exist.
    pub async fn namespace(&self, name: &Namespace) -> Result<NamespaceRecord> {
        self.directory
            .namespace(name)
            .await?
            .ok_or_else(|| not_found("namespace", name.as_str()))
    }

    /// The organization named `name`, which must exist and be one.
    pub async fn organization(&self, name: &Namespace) -> Result<NamespaceRecord> {
        let namespace = self.namespace(name).await?;
        if namespace.kind != NamespaceKind::Organization {
            return Err(not_found("organization", name.as_str()));
        }
        Ok(namespace)
    }

    /// The user or robot named `name`, which must exist.
    pub async fn account(&self, name: &str) -> Result<AccountRecord> {
        self.directory
            .account(name)
            .await?
            .ok_or_else(|| not_found("user", name))
    }
}

pub(super) fn not_found(what: &'static str, name: &str) -> Error {
    Error::NotFound {
        what,
        name: name.to_string(),
    }
}

/// `Ok` if a change found what it was to change, else [`Error::NotFound`].
pub(super) fn found(existed: bool, what: &'static str, name: &str) -> Result<()> {
    if existed {
        Ok(())
    } else {
        Err(not_found(what, name))
    }
}

pub(super) fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidRequest(message.into())
}
