//! Quay's `config.yaml`, the part this registry reads, with environment overrides.
//!
//! The configuration is a struct per concern ([`Server`], [`Database`], [`Registry`],
//! [`Auth`], [`Tenancy`], [`TimeMachine`], [`Collector`], quota, [`QuotaBackfill`], the
//! server's `Limits`, storage), each deriving `Deserialize` with Quay's key names and one
//! `Default` with Quay's defaults: a key and its default are written there and nowhere
//! else. The keys the registry reads are the fields of these structs (see `reader.rs`).
//!
//! Each key may also be set in the environment under the same name (its value is read as
//! YAML, so `FEATURE_X=true` is a boolean and a mapping can be given inline); the
//! environment wins. A key set to null counts as unset. Other keys are ignored with a
//! warning that says whether Quay knows them (and which feature is missing here) or not (and
//! which key was perhaps meant). A key with a value of the wrong type is an error that names
//! the key; for the keys that may hold a secret the error never shows the value.

mod keys;
mod reader;
mod storage;
#[cfg(test)]
mod tests;
pub(crate) mod units;

use std::path::Path;
use std::time::Duration;

use anyhow::bail;
use quay_core::proxy::MirrorRoutes;
use quay_core::quota::QuotaSettings;
use quay_core::secret::Secret;
use serde::Deserialize;

pub(crate) use self::storage::{LocationConfig, StorageConfig};
use crate::server::Limits;

/// The configuration in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    /// Where clients reach the registry.
    pub(crate) server: Server,
    /// Where the metadata lives.
    pub(crate) database: Database,
    /// Where blobs live (`None`: a directory under the data directory).
    pub(crate) storage: Option<StorageConfig>,
    /// What `/v2` accepts.
    pub(crate) registry: Registry,
    /// Who may log in, and as what.
    pub(crate) auth: Auth,
    /// What the API offers.
    pub(crate) tenancy: Tenancy,
    /// How long tags are kept and may live.
    pub(crate) time_machine: TimeMachine,
    /// When garbage is collected.
    pub(crate) collector: Collector,
    /// Storage quota, read where it is used (`quay_core::quota`).
    pub(crate) quota: QuotaSettings,
    /// When the sizes of older namespaces are computed.
    pub(crate) quota_backfill: QuotaBackfill,
    /// How notifications are sent.
    pub(crate) notifications: Notifications,
    /// How mail is sent.
    pub(crate) mail: Mail,
    /// The `HTTP_*` limits of connections (`server.rs`).
    pub(crate) http: Limits,
}

/// Where clients reach the registry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Server {
    /// The host (and port) clients use.
    #[serde(rename = "SERVER_HOSTNAME")]
    pub(crate) hostname: Option<String>,
    /// `http` or `https`.
    #[serde(rename = "PREFERRED_URL_SCHEME")]
    pub(crate) scheme: Option<Scheme>,
}

/// How clients reach the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTPS, which the registry serves itself when the certificate files are there.
    Https,
}

impl Scheme {
    /// Quay's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// Where the metadata lives, and the key that seals its secrets. None of these keys' values
/// is ever shown in an error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Database {
    /// The database's URI, with its password if any (default: SQLite in the data directory).
    #[serde(rename = "DB_URI")]
    pub(crate) uri: Option<Secret>,
    /// Of Quay's connection arguments, the pool's size.
    #[serde(rename = "DB_CONNECTION_ARGS")]
    pub(crate) connection_args: ConnectionArgs,
    /// The key that seals secrets in the database (webhooks' signing keys); every node of a
    /// deployment needs the same one. Without it, a key is made in the data directory.
    #[serde(rename = "DATABASE_SECRET_KEY")]
    pub(crate) secret_key: Option<Secret>,
}

/// `DB_CONNECTION_ARGS`; the arguments of Quay's driver that this one has no use for are
/// ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct ConnectionArgs {
    /// Connections in the pool (the storage crate's default when unset).
    pub(crate) max_connections: Option<u32>,
}

/// What `/v2` accepts and how it answers, with Quay's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Registry {
    /// The largest blob accepted, in bytes, written as Quay does (`20G`); no limit when unset.
    #[serde(rename = "MAXIMUM_LAYER_SIZE", deserialize_with = "units::size")]
    pub(crate) maximum_layer_size: Option<u64>,
    /// How long an upload keeps a blob, and a manifest pushed by digest stays, without a
    /// tag (the core's hour when unset).
    #[serde(
        rename = "PUSH_TEMP_TAG_EXPIRATION_SEC",
        deserialize_with = "units::optional_seconds"
    )]
    pub(crate) push_temp_tag_expiration: Option<Duration>,
    /// Repositories created by a push are private.
    #[serde(rename = "CREATE_PRIVATE_REPO_ON_PUSH")]
    pub(crate) create_private_repo_on_push: bool,
    /// A push may create a missing namespace, as an organization.
    #[serde(rename = "CREATE_NAMESPACE_ON_PUSH")]
    pub(crate) create_namespace_on_push: bool,
    /// The `quay.immutable` label makes pushed tags immutable.
    #[serde(rename = "FEATURE_IMMUTABLE_TAGS")]
    pub(crate) immutable_tags: bool,
    /// Blob downloads pass through the registry even where the storage could serve them.
    #[serde(rename = "FEATURE_PROXY_STORAGE")]
    pub(crate) proxy_storage: bool,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            maximum_layer_size: None,
            push_temp_tag_expiration: None,
            create_private_repo_on_push: true,
            create_namespace_on_push: false,
            immutable_tags: false,
            proxy_storage: false,
        }
    }
}

/// Who may log in, and as what, with Quay's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Auth {
    /// The issuer of registry tokens (the auth crate's `quay` when unset).
    #[serde(rename = "INSTANCE_SERVICE_KEY_SERVICE")]
    pub(crate) token_issuer: Option<String>,
    /// Superusers.
    #[serde(rename = "SUPER_USERS")]
    pub(crate) super_users: Vec<String>,
    /// Superusers who may only read.
    #[serde(rename = "GLOBAL_READONLY_SUPER_USERS")]
    pub(crate) global_readonly_super_users: Vec<String>,
    /// Anonymous callers may read public repositories.
    #[serde(rename = "FEATURE_ANONYMOUS_ACCESS")]
    pub(crate) anonymous_access: bool,
    /// Superusers may do anything anywhere.
    #[serde(rename = "FEATURE_SUPERUSERS_FULL_ACCESS")]
    pub(crate) superusers_full_access: bool,
    /// Robots cannot log in...
    #[serde(rename = "ROBOTS_DISALLOW")]
    pub(crate) robots_disallow: bool,
    /// ... except these.
    #[serde(rename = "ROBOTS_WHITELIST")]
    pub(crate) robots_whitelist: Vec<String>,
    /// Users may log in with application tokens.
    #[serde(rename = "FEATURE_APP_SPECIFIC_TOKENS")]
    pub(crate) app_specific_tokens: bool,
    /// Successful logins to the token endpoint are audited.
    #[serde(rename = "ACTION_LOG_AUDIT_LOGINS")]
    pub(crate) audit_logins: bool,
    /// Failed ones are (on by default, unlike Quay: a log that says who signed in says who
    /// tried to).
    #[serde(rename = "ACTION_LOG_AUDIT_LOGIN_FAILURES")]
    pub(crate) audit_login_failures: bool,
}

impl Default for Auth {
    fn default() -> Self {
        Self {
            token_issuer: None,
            super_users: Vec::new(),
            global_readonly_super_users: Vec::new(),
            anonymous_access: true,
            superusers_full_access: false,
            robots_disallow: false,
            robots_whitelist: Vec::new(),
            app_specific_tokens: true,
            audit_logins: true,
            audit_login_failures: true,
        }
    }
}

/// What the API offers, with Quay's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Tenancy {
    /// Anyone may sign up.
    #[serde(rename = "FEATURE_USER_CREATION")]
    pub(crate) user_creation: bool,
    /// The first user may be created through the API.
    #[serde(rename = "FEATURE_USER_INITIALIZE")]
    pub(crate) user_initialize: bool,
    /// Anonymous callers see public repositories in `_catalog`.
    #[serde(rename = "FEATURE_PUBLIC_CATALOG")]
    pub(crate) public_catalog: bool,
    /// Namespaces and repositories may have auto-prune policies, which `serve` applies.
    #[serde(rename = "FEATURE_AUTO_PRUNE")]
    pub(crate) auto_prune: bool,
    /// With quota management, the quota API is served.
    #[serde(rename = "FEATURE_EDIT_QUOTA")]
    pub(crate) edit_quota: bool,
    /// How long an access token of the OAuth implicit grant lasts (a day; Quay's last ten
    /// years).
    #[serde(
        rename = "OAUTH_IMPLICIT_TOKEN_LIFETIME",
        deserialize_with = "units::duration"
    )]
    pub(crate) implicit_token_lifetime: Duration,
    /// Whether usage logs may be exported.
    #[serde(rename = "FEATURE_LOG_EXPORT")]
    pub(crate) log_export: bool,
    /// Whether organizations may be proxy caches.
    #[serde(rename = "FEATURE_PROXY_CACHE")]
    pub(crate) proxy_cache: bool,
    /// Which proxy cache organization serves which upstream host, for clients that use the
    /// registry as a mirror (`docker.io: hub`).
    #[serde(rename = "PROXY_CACHE_MIRRORS", deserialize_with = "mirror_routes")]
    pub(crate) mirror_routes: MirrorRoutes,
    /// Whether repositories may be mirrors of upstream repositories, synced by every node.
    #[serde(rename = "FEATURE_REPO_MIRROR")]
    pub(crate) repo_mirror: bool,
    /// How often each node looks for due mirror syncs, in seconds.
    #[serde(rename = "REPO_MIRROR_INTERVAL", deserialize_with = "units::seconds")]
    pub(crate) mirror_interval: Duration,
    /// How long, in seconds, a node holds a sync without renewing it before another node
    /// takes it over (this registry's; renewed every third of it).
    #[serde(
        rename = "REPO_MIRROR_LEASE_SECONDS",
        deserialize_with = "units::seconds"
    )]
    pub(crate) mirror_lease: Duration,
    /// How long an export's download link works, in seconds.
    #[serde(
        rename = "EXPORT_ACTION_LOGS_SECONDS",
        deserialize_with = "units::seconds"
    )]
    pub(crate) export_link_lifetime: Duration,
}

impl Default for Tenancy {
    fn default() -> Self {
        Self {
            user_creation: true,
            user_initialize: false,
            public_catalog: false,
            auto_prune: false,
            edit_quota: true,
            implicit_token_lifetime: days(1),
            log_export: true,
            proxy_cache: false,
            mirror_routes: MirrorRoutes::default(),
            repo_mirror: false,
            mirror_interval: Duration::from_secs(30),
            mirror_lease: Duration::from_secs(120),
            export_link_lifetime: Duration::from_secs(3600),
        }
    }
}

/// The time machine: how long deleted and retargeted tags are kept, and the expirations
/// tags may be given; with Quay's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct TimeMachine {
    /// The window of new namespaces.
    #[serde(
        rename = "DEFAULT_TAG_EXPIRATION",
        deserialize_with = "units::duration"
    )]
    pub(crate) default_window: Duration,
    /// The windows a namespace may choose.
    #[serde(
        rename = "TAG_EXPIRATION_OPTIONS",
        deserialize_with = "units::durations"
    )]
    pub(crate) window_options: Vec<Duration>,
    /// Namespaces may change their window.
    #[serde(rename = "FEATURE_CHANGE_TAG_EXPIRATION")]
    pub(crate) change_window: bool,
    /// Tags may be taken out of the time machine.
    #[serde(rename = "PERMANENTLY_DELETE_TAGS")]
    pub(crate) permanently_delete_tags: bool,
    /// The shortest expiration a label or the API may set.
    #[serde(
        rename = "LABELED_EXPIRATION_MINIMUM",
        deserialize_with = "units::duration"
    )]
    pub(crate) expiration_minimum: Duration,
    /// The longest.
    #[serde(
        rename = "LABELED_EXPIRATION_MAXIMUM",
        deserialize_with = "units::duration"
    )]
    pub(crate) expiration_maximum: Duration,
    /// An immutable tag may be given an expiration.
    #[serde(rename = "FEATURE_IMMUTABLE_TAGS_CAN_EXPIRE")]
    pub(crate) immutable_tags_can_expire: bool,
}

impl Default for TimeMachine {
    fn default() -> Self {
        Self {
            default_window: days(14),
            window_options: vec![Duration::ZERO, days(1), days(7), days(14), days(28)],
            change_window: true,
            permanently_delete_tags: false,
            expiration_minimum: Duration::from_secs(3_600),
            expiration_maximum: days(104 * 7),
            immutable_tags_can_expire: false,
        }
    }
}

/// The garbage collector's schedule, with Quay's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Collector {
    /// `serve` collects garbage.
    #[serde(rename = "FEATURE_GARBAGE_COLLECTION")]
    pub(crate) enabled: bool,
    /// Time between collections, in seconds.
    #[serde(
        rename = "GARBAGE_COLLECTION_FREQUENCY",
        deserialize_with = "units::seconds"
    )]
    pub(crate) frequency: Duration,
    /// Uploads untouched this long are discarded.
    #[serde(rename = "ABANDONED_UPLOAD_AGE", deserialize_with = "units::duration")]
    pub(crate) abandoned_upload_age: Duration,
}

impl Default for Collector {
    fn default() -> Self {
        Self {
            enabled: true,
            frequency: Duration::from_secs(30),
            abandoned_upload_age: days(1),
        }
    }
}

/// How notifications are sent and retried, with Quay's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Notifications {
    /// Hosts that webhooks (and later upstreams) may reach although they are loopback,
    /// private or link-local addresses.
    #[serde(rename = "SSRF_ALLOWED_HOSTS")]
    pub(crate) ssrf_allowed_hosts: Vec<String>,
    /// How long one request may take, in seconds.
    #[serde(
        rename = "NOTIFICATION_SEND_TIMEOUT",
        deserialize_with = "units::seconds"
    )]
    pub(crate) send_timeout: Duration,
    /// How long a failed delivery waits before it is tried again, in seconds (ours; Quay
    /// waits 30 s).
    #[serde(
        rename = "NOTIFICATION_RETRY_SECONDS",
        deserialize_with = "units::seconds"
    )]
    pub(crate) retry_after: Duration,
    /// How often each node looks for tags that `repo_image_expiry` notifications tell about,
    /// in seconds (ours; Quay looks with its collector's period).
    #[serde(
        rename = "NOTIFICATION_EXPIRY_SCAN_SECONDS",
        deserialize_with = "units::seconds"
    )]
    pub(crate) expiry_scan_every: Duration,
    /// Whether `repo_image_expiry` notifications are told about expiring tags (on by
    /// default, unlike Quay: a notification that asks for it is the opt-in).
    #[serde(rename = "FEATURE_IMAGE_EXPIRY_TRIGGER")]
    pub(crate) image_expiry_trigger: bool,
}

impl Default for Notifications {
    fn default() -> Self {
        Self {
            ssrf_allowed_hosts: Vec::new(),
            send_timeout: Duration::from_secs(10),
            retry_after: Duration::from_secs(30),
            expiry_scan_every: Duration::from_secs(60),
            image_expiry_trigger: true,
        }
    }
}

/// How mail is sent (e-mail notifications, confirmations of addresses), with Quay's
/// defaults. No mail is sent without `MAIL_SERVER`. None of these values is ever shown in an
/// error.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Mail {
    /// Whether the registry sends mail at all.
    #[serde(rename = "FEATURE_MAILING")]
    pub(crate) enabled: bool,
    /// The SMTP server's host.
    #[serde(rename = "MAIL_SERVER")]
    pub(crate) server: Option<String>,
    /// Its port.
    #[serde(rename = "MAIL_PORT")]
    pub(crate) port: u16,
    /// Whether the connection is upgraded with STARTTLS (required when on).
    #[serde(rename = "MAIL_USE_TLS")]
    pub(crate) use_tls: bool,
    /// Who signs in to the server, if anyone.
    #[serde(rename = "MAIL_USERNAME")]
    pub(crate) username: Option<String>,
    /// With this password.
    #[serde(rename = "MAIL_PASSWORD")]
    pub(crate) password: Option<Secret>,
    /// The sender of every mail.
    #[serde(rename = "MAIL_DEFAULT_SENDER")]
    pub(crate) sender: Option<String>,
}

impl Default for Mail {
    fn default() -> Self {
        Self {
            enabled: true,
            server: None,
            port: 587,
            use_tls: true,
            username: None,
            password: None,
            sender: None,
        }
    }
}

/// The backfill that computes the sizes of namespaces older than the accounting, with
/// Quay's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct QuotaBackfill {
    /// `serve` runs it (with quota management).
    #[serde(rename = "QUOTA_BACKFILL")]
    pub(crate) enabled: bool,
    /// How long after start it begins, in seconds.
    #[serde(
        rename = "QUOTA_TOTAL_DELAY_SECONDS",
        deserialize_with = "units::seconds"
    )]
    pub(crate) delay: Duration,
    /// Time between rounds, in seconds.
    #[serde(
        rename = "QUOTA_BACKFILL_POLL_PERIOD",
        deserialize_with = "units::seconds"
    )]
    pub(crate) period: Duration,
    /// Namespaces per round.
    #[serde(rename = "QUOTA_BACKFILL_BATCH_SIZE")]
    pub(crate) batch: u32,
}

impl Default for QuotaBackfill {
    fn default() -> Self {
        Self {
            enabled: true,
            delay: Duration::from_secs(1_800),
            period: Duration::from_secs(15),
            batch: 100,
        }
    }
}

impl Config {
    /// Reads `file` (if any), then the environment through `env`, and logs what it made of
    /// each key that is set.
    pub(crate) fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let mut values = reader::Values::new(file, env)?;
        let config = Self {
            server: values.section()?,
            database: values.secret_section()?,
            storage: values.secret_section::<storage::StorageKeys>()?.resolve()?,
            registry: values.section()?,
            auth: values.section()?,
            tenancy: values.section()?,
            time_machine: values.section()?,
            collector: values.section()?,
            quota: values.section()?,
            quota_backfill: values.section()?,
            notifications: values.section()?,
            mail: values.secret_section()?,
            http: values.section()?,
        };
        if config.http.max_connections == 0 {
            bail!("config key HTTP_MAX_CONNECTIONS must be at least 1");
        }
        values.report();
        Ok(config)
    }

    /// `scheme://host` from `PREFERRED_URL_SCHEME` and `SERVER_HOSTNAME`, when the host is set.
    pub(crate) fn public_url(&self) -> Option<String> {
        let host = self.server.hostname.as_ref()?;
        let scheme = self.server.scheme.unwrap_or(Scheme::Http);
        Some(format!("{}://{host}", scheme.as_str()))
    }
}

fn mirror_routes<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<MirrorRoutes, D::Error> {
    let routes = std::collections::BTreeMap::<String, String>::deserialize(deserializer)?;
    MirrorRoutes::new(routes).map_err(serde::de::Error::custom)
}

fn days(count: u64) -> Duration {
    Duration::from_secs(count * 86_400)
}
