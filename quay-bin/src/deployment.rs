//! A deployment: the configuration read and turned into the settings of the [`App`], which
//! it opens. Shared by the server and the administration commands.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use anyhow::Context;
use quay_app::{App, AppSettings, DeliverySettings, ExportSettings, MailSettings, OutboundPolicy};
use quay_auth::AuthSettings;
use quay_core::RegistrySettings;
use quay_core::account::Superusers;
use quay_core::duration;
use quay_core::events::Site;
use quay_core::events::delivery::RetryPolicy;
use quay_core::gc::CollectorSettings;
use quay_core::permission::{PermissionSettings, Visibility};
use quay_core::secret::Secret;
use quay_core::tag::ExpirationLimits;
use quay_storage::{
    MetadataOptions, ObjectStorage, StorageLocation, StorageLocations, shown_database_uri,
};

use crate::Location;
use crate::config::{Config, LocationConfig, Scheme, StorageConfig};

pub(crate) struct Deployment {
    pub(crate) config: Config,
    pub(crate) app: App,
    /// For the log.
    pub(crate) database: String,
    pub(crate) storage: String,
}

impl Deployment {
    pub(crate) async fn open(location: &Location) -> anyhow::Result<Self> {
        let config = Config::load(location.config.as_deref(), |key| std::env::var(key).ok())?;
        std::fs::create_dir_all(&location.data_dir)
            .with_context(|| format!("creating data directory {}", location.data_dir.display()))?;
        let db_uri = config.database.uri.as_ref().map_or_else(
            || format!("sqlite://{}", location.data_dir.join("quay.db").display()),
            |uri| uri.expose().to_string(),
        );
        let (locations, storage) = match &config.storage {
            Some(storage) => configured_storage(storage)?,
            None => {
                let path = location.data_dir.join("storage");
                (local_storage(&path)?.into(), path.display().to_string())
            }
        };
        let settings = registry_settings(&config);
        let collector_settings = CollectorSettings {
            abandoned_upload_ms: duration::as_ms(config.collector.abandoned_upload_age),
            // The margin absorbs clocks that disagree; it cannot exceed half a link's life.
            link_margin_ms: CollectorSettings::default()
                .link_margin_ms
                .min(settings.upload_link_ms / 2),
            ..CollectorSettings::default()
        };
        let defaults = MetadataOptions::default();
        let metadata_options = MetadataOptions {
            max_connections: (config.database.connection_args.max_connections)
                .unwrap_or(defaults.max_connections),
            default_window_s: config.time_machine.default_window.as_secs(),
            ..defaults
        };
        let database = shown_database_uri(&db_uri);
        let settings = AppSettings {
            registry: settings,
            metadata: metadata_options,
            collector: collector_settings,
            auth: auth_settings(&config),
            // The server always has accounts: Quay's permissions guard it.
            open: false,
            deliveries: delivery_settings(&config),
            secret_key: Some(sealing_key(&config, &location.data_dir)?),
            mail: mail_settings(&config),
            exports: ExportSettings {
                link_lifetime: config.tenancy.export_link_lifetime,
                ..ExportSettings::default()
            },
            proxy_cache: config.tenancy.proxy_cache,
            repo_mirror: config.tenancy.repo_mirror,
            mirror_lease: config.tenancy.mirror_lease,
        };
        let app = App::open(&db_uri, locations, settings)
            .await
            .with_context(|| format!("opening the database {database} and storage {storage}"))?;
        Ok(Self {
            config,
            app,
            database,
            storage,
        })
    }
}

/// What `/v2` accepts, from the registry's keys, the time machine's expirations and quota.
fn registry_settings(config: &Config) -> RegistrySettings {
    let registry = &config.registry;
    let time_machine = &config.time_machine;
    let defaults = RegistrySettings::default();
    // Quay's one key sets both lifetimes.
    let temporary_ms = registry.push_temp_tag_expiration.map(duration::as_ms);
    RegistrySettings {
        max_blob_bytes: registry.maximum_layer_size,
        upload_link_ms: temporary_ms.unwrap_or(defaults.upload_link_ms),
        untagged_manifest_ms: temporary_ms.unwrap_or(defaults.untagged_manifest_ms),
        permissions: permission_settings(config),
        expiration_limits: ExpirationLimits {
            min_ms: duration::as_ms(time_machine.expiration_minimum),
            max_ms: duration::as_ms(time_machine.expiration_maximum),
            immutable_can_expire: time_machine.immutable_tags_can_expire,
        },
        immutable_tags: registry.immutable_tags,
        quota: config.quota,
        // Only object storage can sign a download URL; a directory always streams.
        direct_download: !registry.proxy_storage,
        site: match &config.server.hostname {
            Some(hostname) => Site {
                hostname: hostname.clone(),
                scheme: config.server.scheme.unwrap_or(Scheme::Http).as_str().into(),
            },
            None => defaults.site.clone(),
        },
        mirror_routes: config.tenancy.mirror_routes.clone(),
        ..defaults
    }
}

/// The key that seals secrets in the database: `DATABASE_SECRET_KEY`, or one kept in the
/// data directory (made on first start, readable by its owner only). Nodes that share a
/// database must share the key, so on PostgreSQL it belongs in the configuration.
fn sealing_key(config: &Config, data_dir: &Path) -> anyhow::Result<Secret> {
    if let Some(key) = &config.database.secret_key {
        return Ok(key.clone());
    }
    let path = data_dir.join("database-secret.key");
    match std::fs::read_to_string(&path) {
        Ok(key) => return Ok(Secret::new(key.trim())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("reading {}", path.display()));
        }
    }
    if config.database.uri.is_some() {
        tracing::warn!(
            key = %path.display(),
            "DATABASE_SECRET_KEY is not set: a key was made for this node only; nodes that \
             share the database need the same DATABASE_SECRET_KEY"
        );
    }
    let key = quay_auth::new_sealing_key()?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(key.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Secret::new(key))
}

/// How notifications are sent and retried.
fn delivery_settings(config: &Config) -> DeliverySettings {
    let notifications = &config.notifications;
    DeliverySettings {
        policy: RetryPolicy {
            retry_after_ms: duration::as_ms(notifications.retry_after),
            ..RetryPolicy::default()
        },
        send_timeout: notifications.send_timeout,
        outbound: OutboundPolicy::allowing(notifications.ssrf_allowed_hosts.iter().cloned()),
    }
}

/// Where mail goes: nowhere unless `FEATURE_MAILING` is on and `MAIL_SERVER` is set. The
/// sender defaults to `noreply@` the registry's host.
fn mail_settings(config: &Config) -> Option<MailSettings> {
    let mail = &config.mail;
    let server = mail.server.as_ref().filter(|_| mail.enabled)?;
    let host = config
        .server
        .hostname
        .as_deref()
        .and_then(|hostname| hostname.split(':').next())
        .unwrap_or("localhost");
    Some(MailSettings {
        server: server.clone(),
        port: mail.port,
        starttls: mail.use_tls,
        credentials: mail.username.clone().map(|username| {
            let password = mail.password.clone().unwrap_or_else(|| Secret::new(""));
            (username, password)
        }),
        sender: mail
            .sender
            .clone()
            .unwrap_or_else(|| format!("noreply@{host}")),
    })
}

/// Who may do what: one value for the registry's and the authorizer's decisions.
fn permission_settings(config: &Config) -> PermissionSettings {
    PermissionSettings {
        anonymous_access: config.auth.anonymous_access,
        superusers_full_access: config.auth.superusers_full_access,
        create_namespace_on_push: config.registry.create_namespace_on_push,
        public_catalog: config.tenancy.public_catalog,
        push_visibility: if config.registry.create_private_repo_on_push {
            Visibility::Private
        } else {
            Visibility::Public
        },
    }
}

/// Who may log in, and as what.
fn auth_settings(config: &Config) -> AuthSettings {
    let auth = &config.auth;
    let defaults = AuthSettings::default();
    AuthSettings {
        issuer: auth.token_issuer.clone().unwrap_or(defaults.issuer),
        superusers: Superusers {
            full: auth.super_users.clone(),
            read_only: auth.global_readonly_super_users.clone(),
        },
        robots_disallow: auth.robots_disallow,
        robots_whitelist: auth.robots_whitelist.clone(),
        app_specific_tokens: auth.app_specific_tokens,
        audit_logins: auth.audit_logins,
        audit_login_failures: auth.audit_login_failures,
        ..defaults
    }
}

/// The configured storage locations, and how logs name them.
fn configured_storage(config: &StorageConfig) -> anyhow::Result<(StorageLocations, String)> {
    let mut locations = Vec::with_capacity(config.locations.len());
    let mut described = Vec::with_capacity(config.locations.len());
    for (name, location) in &config.locations {
        let (storage, description) = match location {
            LocationConfig::S3(s3) => (
                ObjectStorage::s3(s3)
                    .with_context(|| format!("configuring S3 storage location {name:?}"))?,
                format!(
                    "s3://{}/{} at {}",
                    s3.bucket,
                    s3.root,
                    s3.endpoint.as_deref().unwrap_or("AWS")
                ),
            ),
            LocationConfig::Local { path } => (local_storage(path)?, path.display().to_string()),
        };
        locations.push(StorageLocation {
            name: name.clone(),
            storage,
        });
        described.push(format!("{name}: {description}"));
    }
    let replication = match config.replicate_to.as_slice() {
        [] => String::new(),
        targets => format!(", replicated to {}", targets.join(", ")),
    };
    let storage = StorageLocations {
        locations,
        replicate_to: config.replicate_to.clone(),
    };
    Ok((storage, format!("{}{replication}", described.join("; "))))
}

/// A local directory for blobs.
fn local_storage(path: &Path) -> anyhow::Result<ObjectStorage> {
    ObjectStorage::filesystem(path).with_context(|| format!("opening storage {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_capture::logged;

    /// Opens a deployment from `yaml`; its error and everything logged meanwhile.
    fn failed_open(yaml: &str) -> (String, String) {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yaml");
        std::fs::write(&config, yaml).unwrap();
        let location = Location {
            data_dir: dir.path().join("data"),
            config: Some(config),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (opened, log) = logged(|| runtime.block_on(Deployment::open(&location)));
        match opened {
            Ok(_) => panic!("{yaml} opened"),
            Err(error) => (format!("{error:#} {error:?}"), log),
        }
    }

    /// The crates keep Quay's defaults for embedders; a configuration that sets nothing must
    /// agree with them, but for direct downloads, which only Quay's deployments default to.
    #[test]
    fn an_empty_config_gives_the_crates_defaults() {
        let config = Config::load(None, |_| None).unwrap();
        let registry = RegistrySettings {
            direct_download: true,
            ..RegistrySettings::default()
        };
        assert_eq!(
            format!("{:?}", registry_settings(&config)),
            format!("{registry:?}")
        );
        assert_eq!(
            format!("{:?}", auth_settings(&config)),
            format!("{:?}", AuthSettings::default())
        );
        let window_s = MetadataOptions::default().default_window_s;
        assert_eq!(config.time_machine.default_window.as_secs(), window_s);
        let abandoned_ms = CollectorSettings::default().abandoned_upload_ms;
        assert_eq!(
            duration::as_ms(config.collector.abandoned_upload_age),
            abandoned_ms
        );
    }

    #[test]
    fn a_database_that_fails_never_shows_its_password() {
        for uri in [
            // Nothing listens there.
            "postgresql://quay:s3cr3t@127.0.0.1:1/quay",
            // Not a URI the driver can parse.
            "postgresql://quay:s3cr3t@127.0.0.1:port/quay",
            "postgresql://quay:s3cr3t@127.0.0.1/quay?sslmode=sometimes",
            "mysql://quay:s3cr3t@127.0.0.1/quay",
        ] {
            let (error, log) = failed_open(&format!("DB_URI: {uri}\n"));
            assert!(error.contains("quay:***@127.0.0.1"), "{error}");
            assert!(!error.contains("s3cr3t"), "{error}");
            assert!(!log.contains("s3cr3t"), "{log}");
        }
    }

    #[test]
    fn storage_that_fails_never_shows_its_keys() {
        // OpenDAL refuses an empty bucket, and its error describes the service.
        let (error, log) = failed_open(
            "DISTRIBUTED_STORAGE_CONFIG: \
             {x: [S3Storage, {s3_bucket: '', s3_access_key: AK, s3_secret_key: s3cr3t}]}\n",
        );
        assert!(error.contains("storage location \"x\""), "{error}");
        assert!(!error.contains("s3cr3t"), "{error}");
        assert!(!log.contains("s3cr3t"), "{log}");
    }
}
