//! Assembling the application from the adapters: stores, use cases, authentication.

use std::path::Path;
use std::sync::Arc;

use quay_auth::{AuthSettings, Authenticator, PermissionAuthorizer, Sealer};
use quay_core::access::{AllowAll, Authorizer};
use quay_core::clock::SystemClock;
use quay_core::gc::{CollectorSettings, GarbageCollector};
use quay_core::ports::{AccountDirectory, MailSender, SecretSealer, Upstream};
use quay_core::secret::Secret;
use quay_core::{Accounts, Registry, RegistrySettings, Stores};

use crate::deliveries::HttpSender;
use crate::deliveries::{Deliveries, DeliverySettings};
use crate::exports::{ExportChannels, ExportSettings, LogExporter};
use crate::mail::{MailSettings, SmtpMailer};
use crate::mirrors::MirrorWorker;
use crate::upstream::Upstreams;
use quay_storage::{
    CacheOptions, CachedMetadata, DistributedStorage, MetadataOptions, ObjectStorage,
    PostgresPeers, PullLog, SqlMetadata, StorageLocations,
};

/// How the application is set up, with Quay's defaults.
#[derive(Clone, Debug, Default)]
pub struct AppSettings {
    /// The registry's limits and lifetimes, who may do what (`permissions`, which the
    /// registry's authorizer and tenancy's gates decide with), and quota management
    /// (`quota`, by which the metadata store keeps sizes too).
    pub registry: RegistrySettings,
    /// The metadata database's connections and defaults.
    pub metadata: MetadataOptions,
    /// Garbage collection.
    pub collector: CollectorSettings,
    /// Authentication: logins, registry tokens, superusers.
    pub auth: AuthSettings,
    /// Everyone may do everything in the registry: an open registry, for a service that
    /// embeds one behind its own access control. Off by default: Quay's permissions guard it.
    pub open: bool,
    /// How notifications are sent and retried.
    pub deliveries: DeliverySettings,
    /// The key that seals secrets the registry must read back, such as webhooks' signing
    /// keys (`DATABASE_SECRET_KEY`); without one, webhooks are not signed.
    pub secret_key: Option<Secret>,
    /// Where mail goes (`MAIL_SERVER`); without it, no e-mail notifications.
    pub mail: Option<MailSettings>,
    /// How usage-log exports are written and linked.
    pub exports: ExportSettings,
    /// Pulls of proxy cache organizations go through to their upstreams
    /// (`FEATURE_PROXY_CACHE`), which the deliveries' outbound policy guards.
    pub proxy_cache: bool,
    /// Repository mirrors sync from their upstreams (`FEATURE_REPO_MIRROR`).
    pub repo_mirror: bool,
    /// How long a node holds a mirror's sync without renewing it before another node may
    /// take it over (renewed every third of it).
    pub mirror_lease: std::time::Duration,
}

/// The registry, tenancy and authentication beside it, on the same stores.
pub struct App {
    /// The registry, guarded by Quay's permissions (or open, with [`AppSettings::open`]).
    pub registry: Arc<Registry>,
    /// Tenancy's use cases.
    pub accounts: Arc<Accounts>,
    /// Accounts, teams, permissions, credentials and the usage log.
    pub directory: Arc<dyn AccountDirectory>,
    /// Who is asking.
    pub authenticator: Arc<Authenticator>,
    /// The queue of pull entries; [`App::close`] flushes it.
    pub pull_log: Arc<PullLog>,
    /// The garbage collector ([`App::start`] schedules it).
    pub collector: Arc<GarbageCollector>,
    /// The blob storage's locations, with their [`Replicator`](quay_storage::Replicator)
    /// (`storage.replicator()`).
    pub storage: DistributedStorage,
    /// The delivery worker of notifications ([`App::start`] runs it).
    pub deliveries: Arc<Deliveries>,
    /// The worker that writes usage-log exports ([`App::start`] runs it).
    pub exporter: Arc<LogExporter>,
    /// Syncs repository mirrors (`FEATURE_REPO_MIRROR`).
    pub mirrors: Option<Arc<MirrorWorker>>,
    /// The database itself, for the gauges [`App::start`] records.
    pub(crate) database: SqlMetadata,
}

impl App {
    /// The application on the database at `db_uri` (Quay's `DB_URI`; SQLite or PostgreSQL),
    /// with the metadata cache in front, and blobs in `storage` (one [`ObjectStorage`]
    /// converts into it). Starts the pull log's writer and, on PostgreSQL, the listener for
    /// other nodes' cache changes, on the current runtime.
    pub async fn open(
        db_uri: &str,
        storage: StorageLocations,
        settings: AppSettings,
    ) -> quay_core::Result<Self> {
        let metadata =
            SqlMetadata::connect(db_uri, &settings.metadata, settings.registry.quota).await?;
        let directory = Arc::new(metadata.clone());
        let database = metadata.clone();
        let pull_log = Arc::new(PullLog::start(directory.clone()));
        let storage = DistributedStorage::new(storage, metadata.clone())?;
        let blobs = Arc::new(storage.clone());
        let peers = PostgresPeers::of(&metadata).map(Arc::new);
        let mut cached = CachedMetadata::new(metadata, &CacheOptions::default());
        if let Some(peers) = &peers {
            cached = cached.with_peers(peers.clone());
        }
        let cached = Arc::new(cached);
        if let Some(peers) = peers {
            tokio::spawn(peers.listen(cached.clone()));
        }
        let collector = GarbageCollector::new(
            cached.clone(),
            directory.clone(),
            blobs.clone(),
            blobs.clone(),
            settings.collector,
        );
        let metadata = CachedMetadata::stores(&cached);
        // One value decides for the registry's pushes, the authorizer and the gates.
        let permissions = settings.registry.permissions;
        let sealer: Option<Arc<dyn SecretSealer>> = match &settings.secret_key {
            Some(key) => Some(Arc::new(Sealer::new(key.expose().as_bytes())?)),
            None => None,
        };
        let upstreams = (settings.proxy_cache || settings.repo_mirror).then(|| {
            Arc::new(Upstreams::new(
                directory.clone(),
                metadata.mirrors.clone(),
                sealer.clone(),
                settings.deliveries.outbound.clone(),
                blobs.clone(),
                blobs.clone(),
            ))
        });
        let proxying = upstreams
            .clone()
            .filter(|_| settings.proxy_cache)
            .map(|upstreams| upstreams as Arc<dyn Upstream>);
        let mirroring = upstreams
            .clone()
            .filter(|_| settings.repo_mirror)
            .map(|upstreams| upstreams as Arc<dyn Upstream>);
        let mut accounts = Accounts::new(directory.clone(), &metadata, permissions)
            .with_site(settings.registry.site.clone());
        if let Some(upstreams) = &proxying {
            accounts = accounts.with_upstream(upstreams.clone());
        }
        if let Some(upstreams) = &mirroring {
            accounts = accounts.with_mirroring(upstreams.clone());
        }
        if let Some(sealer) = &sealer {
            accounts = accounts.with_sealer(sealer.clone());
        }
        let mailer: Option<Arc<dyn MailSender>> = match &settings.mail {
            Some(mail) => Some(Arc::new(
                SmtpMailer::new(mail, settings.deliveries.send_timeout)
                    .map_err(|error| quay_core::Error::InvalidRequest(error.to_string()))?,
            )),
            None => None,
        };
        if let Some(mailer) = &mailer {
            accounts = accounts.with_mailer(mailer.clone());
        }
        accounts = accounts.with_export_storage(blobs.clone());
        let exporter = LogExporter::new(
            directory.clone(),
            ExportChannels {
                storage: blobs.clone(),
                sender: Arc::new(
                    HttpSender::new(
                        settings.deliveries.outbound.clone(),
                        settings.deliveries.send_timeout,
                    )
                    .map_err(|error| quay_core::Error::Internal(error.into()))?,
                ),
                mailer: mailer.clone(),
            },
            settings.registry.site.clone(),
            settings.exports,
            settings.deliveries.policy,
            Arc::new(SystemClock),
        );
        let mirror_store = metadata.mirrors.clone();
        let stores = Stores {
            metadata,
            accounts: directory.clone(),
            blobs: blobs.clone(),
            uploads: blobs,
            pull_log: pull_log.clone(),
        };
        let directory: Arc<dyn AccountDirectory> = directory;
        let authenticator =
            Authenticator::new(directory.clone(), settings.auth, Arc::new(SystemClock)).await?;
        let authorizer: Arc<dyn Authorizer> = if settings.open {
            Arc::new(AllowAll)
        } else {
            Arc::new(PermissionAuthorizer::new(directory.clone(), permissions))
        };
        let deliveries = Deliveries::new(
            Arc::new(database.clone()),
            Arc::new(database.clone()),
            settings.registry.site.clone(),
            &settings.deliveries,
            sealer,
            mailer,
            Arc::new(SystemClock),
        )
        .map_err(|error| quay_core::Error::Internal(error.into()))?;
        let mut registry = Registry::new(stores, authorizer, settings.registry);
        if let Some(upstreams) = proxying {
            registry = registry.with_upstream(upstreams);
        }
        if let Some(upstreams) = mirroring {
            registry = registry.with_mirroring(upstreams);
        }
        let registry = Arc::new(registry);
        let mirrors = upstreams.filter(|_| settings.repo_mirror).map(|upstreams| {
            Arc::new(MirrorWorker::new(
                registry.clone(),
                mirror_store,
                upstreams,
                settings.mirror_lease,
                Arc::new(SystemClock),
            ))
        });
        Ok(Self {
            mirrors,
            deliveries: Arc::new(deliveries),
            exporter: Arc::new(exporter),
            registry,
            accounts: Arc::new(accounts),
            authenticator: Arc::new(authenticator),
            directory,
            pull_log,
            collector: Arc::new(collector),
            storage,
            database,
        })
    }

    /// The embedded default: SQLite at `dir/quay.db` and blobs under `dir/storage`.
    pub async fn embedded(dir: &Path, settings: AppSettings) -> quay_core::Result<Self> {
        let db_uri = format!("sqlite://{}", dir.join("quay.db").display());
        let storage = ObjectStorage::filesystem(&dir.join("storage"))?;
        Self::open(&db_uri, storage.into(), settings).await
    }

    /// Writes the pull entries still queued; call it on shutdown.
    pub async fn close(&self) {
        self.pull_log.close().await;
    }
}
