//! A deployment: the configuration read and turned into the settings of the [`App`], which
//! it opens. Shared by the server and the administration commands.

use std::path::Path;

use anyhow::Context;
use quay_app::{App, AppSettings};
use quay_auth::AuthSettings;
use quay_core::RegistrySettings;
use quay_core::account::Superusers;
use quay_core::duration;
use quay_core::gc::CollectorSettings;
use quay_core::permission::{PermissionSettings, Visibility};
use quay_core::tag::ExpirationLimits;
use quay_storage::{
    MetadataOptions, ObjectStorage, StorageLocation, StorageLocations, shown_database_uri,
};

use crate::Location;
use crate::config::{Config, LocationConfig, StorageConfig};

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
        let db_uri = config.db_uri.as_ref().map_or_else(
            || format!("sqlite://{}", location.data_dir.join("quay.db").display()),
            |uri| uri.expose().to_string(),
        );
        let mut metadata_options = MetadataOptions::default();
        if let Some(max) = config.db_max_connections {
            metadata_options.max_connections = max;
        }
        let (locations, storage) = match &config.storage {
            Some(storage) => configured_storage(storage)?,
            None => {
                let path = location.data_dir.join("storage");
                (local_storage(&path)?.into(), path.display().to_string())
            }
        };
        let features = &config.features;
        let time_machine = &config.time_machine;
        let permissions = PermissionSettings {
            anonymous_access: features.anonymous_access,
            superusers_full_access: features.superusers_full_access,
            create_namespace_on_push: features.create_namespace_on_push,
        };
        let mut settings = RegistrySettings {
            max_blob_bytes: config.maximum_layer_size,
            push_visibility: if features.create_private_repo_on_push {
                Visibility::Private
            } else {
                Visibility::Public
            },
            permissions,
            expiration_limits: ExpirationLimits {
                min_ms: duration::as_ms(time_machine.expiration_minimum),
                max_ms: duration::as_ms(time_machine.expiration_maximum),
                immutable_can_expire: features.immutable_tags_can_expire,
            },
            immutable_tags: features.immutable_tags,
            quota: config.quota.settings,
            // Only object storage can sign a download URL; a directory always streams.
            direct_download: !features.proxy_storage,
            ..RegistrySettings::default()
        };
        if let Some(seconds) = config.push_temp_tag_expiration_sec {
            let ms = i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
            settings.upload_link_ms = ms;
            settings.untagged_manifest_ms = ms;
        }
        let defaults = CollectorSettings::default();
        let collector_settings = CollectorSettings {
            abandoned_upload_ms: duration::as_ms(time_machine.abandoned_upload_age),
            // The margin absorbs clocks that disagree; it cannot exceed half a link's life.
            link_margin_ms: defaults.link_margin_ms.min(settings.upload_link_ms / 2),
            ..defaults
        };
        let database = shown_database_uri(&db_uri);
        metadata_options.default_window_s = time_machine.default_window.as_secs();
        metadata_options.quota = config.quota.settings;
        let auth_settings = AuthSettings {
            issuer: config.token_issuer.clone().unwrap_or_else(|| "quay".into()),
            superusers: Superusers {
                full: config.super_users.clone(),
                read_only: config.global_readonly_super_users.clone(),
            },
            permissions,
            robots_disallow: features.robots_disallow,
            robots_whitelist: config.robots_whitelist.clone(),
            app_specific_tokens: features.app_specific_tokens,
            audit_logins: features.audit_logins,
            audit_login_failures: features.audit_login_failures,
            ..AuthSettings::default()
        };
        let settings = AppSettings {
            registry: settings,
            metadata: metadata_options,
            collector: collector_settings,
            auth: auth_settings,
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
