//! Quay's `config.yaml`, the part this registry reads, with environment overrides.
//!
//! Field names are Quay's, so an existing configuration keeps working. Each known key may
//! also be set in the environment under the same name (its value is read as YAML, so
//! `FEATURE_X=true` is a boolean and a mapping can be given inline); the environment wins.
//! Unknown keys are ignored with a warning; a known key with a value of the wrong type is an
//! error that names the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use quay_core::quota::QuotaSettings;
use quay_core::secret::Secret;
use quay_storage::S3Location;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::server::Limits;

/// The keys this registry understands.
const KNOWN_KEYS: &[&str] = &[
    "SERVER_HOSTNAME",
    "PREFERRED_URL_SCHEME",
    "DB_URI",
    "DB_CONNECTION_ARGS",
    "DISTRIBUTED_STORAGE_CONFIG",
    "DISTRIBUTED_STORAGE_PREFERENCE",
    "DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS",
    "FEATURE_STORAGE_REPLICATION",
    "MAXIMUM_LAYER_SIZE",
    "PUSH_TEMP_TAG_EXPIRATION_SEC",
    "SUPER_USERS",
    "GLOBAL_READONLY_SUPER_USERS",
    "ROBOTS_WHITELIST",
    "INSTANCE_SERVICE_KEY_SERVICE",
    "FEATURE_ANONYMOUS_ACCESS",
    "FEATURE_SUPERUSERS_FULL_ACCESS",
    "FEATURE_USER_CREATION",
    "FEATURE_USER_INITIALIZE",
    "FEATURE_APP_SPECIFIC_TOKENS",
    "FEATURE_PUBLIC_CATALOG",
    "ROBOTS_DISALLOW",
    "CREATE_PRIVATE_REPO_ON_PUSH",
    "CREATE_NAMESPACE_ON_PUSH",
    "ACTION_LOG_AUDIT_LOGINS",
    "ACTION_LOG_AUDIT_LOGIN_FAILURES",
    "FEATURE_GARBAGE_COLLECTION",
    "GARBAGE_COLLECTION_FREQUENCY",
    "ABANDONED_UPLOAD_AGE",
    "DEFAULT_TAG_EXPIRATION",
    "TAG_EXPIRATION_OPTIONS",
    "FEATURE_CHANGE_TAG_EXPIRATION",
    "FEATURE_IMMUTABLE_TAGS",
    "FEATURE_IMMUTABLE_TAGS_CAN_EXPIRE",
    "PERMANENTLY_DELETE_TAGS",
    "FEATURE_AUTO_PRUNE",
    "LABELED_EXPIRATION_MINIMUM",
    "LABELED_EXPIRATION_MAXIMUM",
    "FEATURE_PROXY_STORAGE",
    "FEATURE_QUOTA_MANAGEMENT",
    "FEATURE_EDIT_QUOTA",
    "FEATURE_VERIFY_QUOTA",
    "DEFAULT_SYSTEM_REJECT_QUOTA_BYTES",
    "QUOTA_BACKFILL",
    "QUOTA_TOTAL_DELAY_SECONDS",
    "QUOTA_BACKFILL_POLL_PERIOD",
    "QUOTA_BACKFILL_BATCH_SIZE",
    "OAUTH_IMPLICIT_TOKEN_LIFETIME",
    "HTTP_HEADER_READ_TIMEOUT",
    "HTTP_IDLE_TIMEOUT",
    "HTTP_BODY_TIMEOUT",
    "HTTP_MAX_CONNECTIONS",
    "HTTP_SHUTDOWN_TIMEOUT",
];

/// Switches of Quay with their defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Features {
    /// `FEATURE_ANONYMOUS_ACCESS`.
    pub(crate) anonymous_access: bool,
    /// `FEATURE_SUPERUSERS_FULL_ACCESS`.
    pub(crate) superusers_full_access: bool,
    /// `FEATURE_USER_CREATION`.
    pub(crate) user_creation: bool,
    /// `FEATURE_USER_INITIALIZE`.
    pub(crate) user_initialize: bool,
    /// `FEATURE_APP_SPECIFIC_TOKENS`.
    pub(crate) app_specific_tokens: bool,
    /// `FEATURE_PUBLIC_CATALOG`.
    pub(crate) public_catalog: bool,
    /// `ROBOTS_DISALLOW`.
    pub(crate) robots_disallow: bool,
    /// `CREATE_PRIVATE_REPO_ON_PUSH`.
    pub(crate) create_private_repo_on_push: bool,
    /// `CREATE_NAMESPACE_ON_PUSH`.
    pub(crate) create_namespace_on_push: bool,
    /// `ACTION_LOG_AUDIT_LOGINS`.
    pub(crate) audit_logins: bool,
    /// `ACTION_LOG_AUDIT_LOGIN_FAILURES`.
    pub(crate) audit_login_failures: bool,
    /// `FEATURE_GARBAGE_COLLECTION`.
    pub(crate) garbage_collection: bool,
    /// `FEATURE_CHANGE_TAG_EXPIRATION`.
    pub(crate) change_tag_expiration: bool,
    /// `FEATURE_IMMUTABLE_TAGS`.
    pub(crate) immutable_tags: bool,
    /// `FEATURE_IMMUTABLE_TAGS_CAN_EXPIRE`.
    pub(crate) immutable_tags_can_expire: bool,
    /// `PERMANENTLY_DELETE_TAGS`.
    pub(crate) permanently_delete_tags: bool,
    /// `FEATURE_AUTO_PRUNE`.
    pub(crate) auto_prune: bool,
    /// `FEATURE_PROXY_STORAGE`: blob downloads pass through the registry even where the
    /// storage could serve them itself.
    pub(crate) proxy_storage: bool,
}

impl Default for Features {
    fn default() -> Self {
        Self {
            anonymous_access: true,
            superusers_full_access: false,
            user_creation: true,
            user_initialize: false,
            app_specific_tokens: true,
            public_catalog: false,
            robots_disallow: false,
            create_private_repo_on_push: true,
            create_namespace_on_push: false,
            audit_logins: true,
            audit_login_failures: false,
            garbage_collection: true,
            change_tag_expiration: true,
            immutable_tags: false,
            immutable_tags_can_expire: false,
            permanently_delete_tags: false,
            auto_prune: false,
            proxy_storage: false,
        }
    }
}

/// Where blobs are stored: Quay's `DISTRIBUTED_STORAGE_*` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StorageConfig {
    /// Every location of `DISTRIBUTED_STORAGE_CONFIG` by name: first those of
    /// `DISTRIBUTED_STORAGE_PREFERENCE` in its order (this node stores new blobs in the
    /// first), then the others in the order of their names.
    pub(crate) locations: Vec<(String, LocationConfig)>,
    /// `DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS`, where every blob is copied, when
    /// `FEATURE_STORAGE_REPLICATION` is on; empty otherwise.
    pub(crate) replicate_to: Vec<String>,
}

/// One storage location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LocationConfig {
    /// Quay's `LocalStorage` driver: a directory.
    Local {
        /// `storage_path`.
        path: PathBuf,
    },
    /// Quay's `S3Storage` and `RadosGWStorage` drivers: an S3-compatible bucket.
    S3(S3Location),
}

/// The configuration in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    /// `SERVER_HOSTNAME`: the host (and port) clients use.
    pub(crate) server_hostname: Option<String>,
    /// `PREFERRED_URL_SCHEME`: `http` or `https`.
    pub(crate) preferred_url_scheme: Option<String>,
    /// `DB_URI`: where the metadata lives (with the database's password, if any).
    pub(crate) db_uri: Option<Secret>,
    /// `DB_CONNECTION_ARGS.max_connections`: the pool size.
    pub(crate) db_max_connections: Option<u32>,
    /// The storage locations, from `DISTRIBUTED_STORAGE_CONFIG` and its companions.
    pub(crate) storage: Option<StorageConfig>,
    /// `MAXIMUM_LAYER_SIZE`, in bytes.
    pub(crate) maximum_layer_size: Option<u64>,
    /// `PUSH_TEMP_TAG_EXPIRATION_SEC`.
    pub(crate) push_temp_tag_expiration_sec: Option<u64>,
    /// `SUPER_USERS`.
    pub(crate) super_users: Vec<String>,
    /// `GLOBAL_READONLY_SUPER_USERS`.
    pub(crate) global_readonly_super_users: Vec<String>,
    /// `ROBOTS_WHITELIST`.
    pub(crate) robots_whitelist: Vec<String>,
    /// `INSTANCE_SERVICE_KEY_SERVICE`: the issuer of registry tokens.
    pub(crate) token_issuer: Option<String>,
    /// The feature switches.
    pub(crate) features: Features,
    /// The time machine and garbage collection.
    pub(crate) time_machine: TimeMachine,
    /// Storage quota.
    pub(crate) quota: QuotaConfig,
    /// `OAUTH_IMPLICIT_TOKEN_LIFETIME`: how long an access token of the OAuth implicit
    /// grant lasts (a day).
    pub(crate) implicit_token_lifetime: Duration,
    /// The `HTTP_*` limits of connections.
    pub(crate) http: Limits,
}

/// Storage quota's settings, with Quay's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QuotaConfig {
    /// `FEATURE_QUOTA_MANAGEMENT`, `FEATURE_VERIFY_QUOTA`, `DEFAULT_SYSTEM_REJECT_QUOTA_BYTES`.
    pub(crate) settings: QuotaSettings,
    /// `FEATURE_EDIT_QUOTA`.
    pub(crate) edit: bool,
    /// `QUOTA_BACKFILL`: whether `serve` computes the sizes of older namespaces.
    pub(crate) backfill: bool,
    /// `QUOTA_TOTAL_DELAY_SECONDS`: how long after start the backfill begins.
    pub(crate) backfill_delay: Duration,
    /// `QUOTA_BACKFILL_POLL_PERIOD`.
    pub(crate) backfill_period: Duration,
    /// `QUOTA_BACKFILL_BATCH_SIZE`: namespaces per round.
    pub(crate) backfill_batch: u32,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        Self {
            settings: QuotaSettings {
                management: false,
                verify: true,
                system_reject_bytes: 0,
            },
            edit: true,
            backfill: true,
            backfill_delay: Duration::from_secs(1800),
            backfill_period: Duration::from_secs(15),
            backfill_batch: 100,
        }
    }
}

/// The time machine's and the garbage collector's settings, with Quay's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TimeMachine {
    /// `GARBAGE_COLLECTION_FREQUENCY`: seconds between collections.
    pub(crate) gc_frequency: Duration,
    /// `ABANDONED_UPLOAD_AGE`: uploads untouched this long are discarded.
    pub(crate) abandoned_upload_age: Duration,
    /// `DEFAULT_TAG_EXPIRATION`: the window of new namespaces.
    pub(crate) default_window: Duration,
    /// `TAG_EXPIRATION_OPTIONS`: the windows a namespace may choose.
    pub(crate) window_options: Vec<Duration>,
    /// `LABELED_EXPIRATION_MINIMUM`.
    pub(crate) expiration_minimum: Duration,
    /// `LABELED_EXPIRATION_MAXIMUM`.
    pub(crate) expiration_maximum: Duration,
}

impl Default for TimeMachine {
    fn default() -> Self {
        let days = |n: u64| Duration::from_secs(n * 86_400);
        Self {
            gc_frequency: Duration::from_secs(30),
            abandoned_upload_age: days(1),
            default_window: days(14),
            window_options: vec![Duration::ZERO, days(1), days(7), days(14), days(28)],
            expiration_minimum: Duration::from_secs(3_600),
            expiration_maximum: days(104 * 7),
        }
    }
}

impl Config {
    /// Reads `file` (if any), then the environment through `env`.
    pub(crate) fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let mut values: BTreeMap<String, Value> = match file {
            None => BTreeMap::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                let parsed: Option<BTreeMap<String, Value>> = serde_saphyr::from_str(&text)
                    .with_context(|| {
                        format!("config file {} is not a YAML mapping", path.display())
                    })?;
                parsed.unwrap_or_default()
            }
        };
        for key in KNOWN_KEYS {
            if let Some(text) = env(key) {
                let value: Value = serde_saphyr::from_str(&text)
                    .with_context(|| format!("environment variable {key} is not valid YAML"))?;
                values.insert((*key).to_string(), value);
            }
        }
        for key in values
            .keys()
            .filter(|key| !KNOWN_KEYS.contains(&key.as_str()))
        {
            tracing::warn!(key, "unknown config key ignored");
        }

        let scheme: Option<String> = field(&values, "PREFERRED_URL_SCHEME")?;
        if let Some(scheme) = &scheme
            && scheme != "http"
            && scheme != "https"
        {
            bail!("config key PREFERRED_URL_SCHEME: expected http or https, got {scheme:?}");
        }
        let connection_args: Option<BTreeMap<String, Value>> =
            field(&values, "DB_CONNECTION_ARGS")?;
        let db_max_connections = connection_args
            .and_then(|args| args.get("max_connections").cloned())
            .map(|value| typed::<u32>("DB_CONNECTION_ARGS.max_connections", value))
            .transpose()?;
        let maximum_layer_size = field::<String>(&values, "MAXIMUM_LAYER_SIZE")?
            .map(|size| parse_size(&size).context("config key MAXIMUM_LAYER_SIZE"))
            .transpose()?;
        let defaults = Features::default();
        let flag = |key: &str, default: bool| -> anyhow::Result<bool> {
            Ok(field(&values, key)?.unwrap_or(default))
        };
        let features = Features {
            anonymous_access: flag("FEATURE_ANONYMOUS_ACCESS", defaults.anonymous_access)?,
            superusers_full_access: flag(
                "FEATURE_SUPERUSERS_FULL_ACCESS",
                defaults.superusers_full_access,
            )?,
            user_creation: flag("FEATURE_USER_CREATION", defaults.user_creation)?,
            user_initialize: flag("FEATURE_USER_INITIALIZE", defaults.user_initialize)?,
            app_specific_tokens: flag("FEATURE_APP_SPECIFIC_TOKENS", defaults.app_specific_tokens)?,
            public_catalog: flag("FEATURE_PUBLIC_CATALOG", defaults.public_catalog)?,
            robots_disallow: flag("ROBOTS_DISALLOW", defaults.robots_disallow)?,
            create_private_repo_on_push: flag(
                "CREATE_PRIVATE_REPO_ON_PUSH",
                defaults.create_private_repo_on_push,
            )?,
            create_namespace_on_push: flag(
                "CREATE_NAMESPACE_ON_PUSH",
                defaults.create_namespace_on_push,
            )?,
            audit_logins: flag("ACTION_LOG_AUDIT_LOGINS", defaults.audit_logins)?,
            audit_login_failures: flag(
                "ACTION_LOG_AUDIT_LOGIN_FAILURES",
                defaults.audit_login_failures,
            )?,
            garbage_collection: flag("FEATURE_GARBAGE_COLLECTION", defaults.garbage_collection)?,
            change_tag_expiration: flag(
                "FEATURE_CHANGE_TAG_EXPIRATION",
                defaults.change_tag_expiration,
            )?,
            immutable_tags: flag("FEATURE_IMMUTABLE_TAGS", defaults.immutable_tags)?,
            immutable_tags_can_expire: flag(
                "FEATURE_IMMUTABLE_TAGS_CAN_EXPIRE",
                defaults.immutable_tags_can_expire,
            )?,
            permanently_delete_tags: flag(
                "PERMANENTLY_DELETE_TAGS",
                defaults.permanently_delete_tags,
            )?,
            auto_prune: flag("FEATURE_AUTO_PRUNE", defaults.auto_prune)?,
            proxy_storage: flag("FEATURE_PROXY_STORAGE", defaults.proxy_storage)?,
        };
        let time_machine = time_machine(&values)?;
        let quota = quota(&values)?;
        Ok(Self {
            server_hostname: field(&values, "SERVER_HOSTNAME")?,
            preferred_url_scheme: scheme,
            db_uri: field::<String>(&values, "DB_URI")?.map(Secret::new),
            db_max_connections,
            storage: storage(&values)?,
            maximum_layer_size,
            push_temp_tag_expiration_sec: field(&values, "PUSH_TEMP_TAG_EXPIRATION_SEC")?,
            super_users: field(&values, "SUPER_USERS")?.unwrap_or_default(),
            global_readonly_super_users: field(&values, "GLOBAL_READONLY_SUPER_USERS")?
                .unwrap_or_default(),
            robots_whitelist: field(&values, "ROBOTS_WHITELIST")?.unwrap_or_default(),
            token_issuer: field(&values, "INSTANCE_SERVICE_KEY_SERVICE")?,
            features,
            time_machine,
            quota,
            implicit_token_lifetime: duration(
                &values,
                "OAUTH_IMPLICIT_TOKEN_LIFETIME",
                DEFAULT_IMPLICIT_TOKEN_LIFETIME,
            )?,
            http: http(&values)?,
        })
    }

    /// `scheme://host` from `PREFERRED_URL_SCHEME` and `SERVER_HOSTNAME`, when the host is set.
    pub(crate) fn public_url(&self) -> Option<String> {
        let host = self.server_hostname.as_ref()?;
        let scheme = self.preferred_url_scheme.as_deref().unwrap_or("http");
        Some(format!("{scheme}://{host}"))
    }
}

/// The default of `OAUTH_IMPLICIT_TOKEN_LIFETIME`: a day (Quay's tokens last ten years).
const DEFAULT_IMPLICIT_TOKEN_LIFETIME: Duration = Duration::from_secs(86_400);

/// A duration such as `2w`, `1d` or `30m` at `key`, or `default`.
fn duration(
    values: &BTreeMap<String, Value>,
    key: &str,
    default: Duration,
) -> anyhow::Result<Duration> {
    match field::<String>(values, key)? {
        None => Ok(default),
        Some(text) => quay_core::duration::parse(&text).with_context(|| {
            format!("config key {key}: {text:?} is not a duration such as 2w, 1d or 30m")
        }),
    }
}

fn time_machine(values: &BTreeMap<String, Value>) -> anyhow::Result<TimeMachine> {
    let defaults = TimeMachine::default();
    let duration = |key: &str, default: Duration| duration(values, key, default);
    let window_options = match field::<Vec<String>>(values, "TAG_EXPIRATION_OPTIONS")? {
        None => defaults.window_options,
        Some(options) => options
            .iter()
            .map(|text| {
                quay_core::duration::parse(text).with_context(|| {
                    format!("config key TAG_EXPIRATION_OPTIONS: {text:?} is not a duration")
                })
            })
            .collect::<anyhow::Result<_>>()?,
    };
    Ok(TimeMachine {
        gc_frequency: field::<u64>(values, "GARBAGE_COLLECTION_FREQUENCY")?
            .map_or(defaults.gc_frequency, Duration::from_secs),
        abandoned_upload_age: duration("ABANDONED_UPLOAD_AGE", defaults.abandoned_upload_age)?,
        default_window: duration("DEFAULT_TAG_EXPIRATION", defaults.default_window)?,
        window_options,
        expiration_minimum: duration("LABELED_EXPIRATION_MINIMUM", defaults.expiration_minimum)?,
        expiration_maximum: duration("LABELED_EXPIRATION_MAXIMUM", defaults.expiration_maximum)?,
    })
}

fn http(values: &BTreeMap<String, Value>) -> anyhow::Result<Limits> {
    let defaults = Limits::default();
    let duration = |key: &str, default: Duration| duration(values, key, default);
    let max_connections =
        field::<usize>(values, "HTTP_MAX_CONNECTIONS")?.unwrap_or(defaults.max_connections);
    if max_connections == 0 {
        bail!("config key HTTP_MAX_CONNECTIONS must be at least 1");
    }
    Ok(Limits {
        header_read_timeout: duration("HTTP_HEADER_READ_TIMEOUT", defaults.header_read_timeout)?,
        idle_timeout: duration("HTTP_IDLE_TIMEOUT", defaults.idle_timeout)?,
        body_timeout: duration("HTTP_BODY_TIMEOUT", defaults.body_timeout)?,
        max_connections,
        shutdown_timeout: duration("HTTP_SHUTDOWN_TIMEOUT", defaults.shutdown_timeout)?,
    })
}

fn quota(values: &BTreeMap<String, Value>) -> anyhow::Result<QuotaConfig> {
    let defaults = QuotaConfig::default();
    let flag = |key: &str, default: bool| -> anyhow::Result<bool> {
        Ok(field(values, key)?.unwrap_or(default))
    };
    let seconds = |key: &str, default: Duration| -> anyhow::Result<Duration> {
        Ok(field::<u64>(values, key)?.map_or(default, Duration::from_secs))
    };
    Ok(QuotaConfig {
        settings: QuotaSettings {
            management: flag("FEATURE_QUOTA_MANAGEMENT", defaults.settings.management)?,
            verify: flag("FEATURE_VERIFY_QUOTA", defaults.settings.verify)?,
            system_reject_bytes: field(values, "DEFAULT_SYSTEM_REJECT_QUOTA_BYTES")?
                .unwrap_or(defaults.settings.system_reject_bytes),
        },
        edit: flag("FEATURE_EDIT_QUOTA", defaults.edit)?,
        backfill: flag("QUOTA_BACKFILL", defaults.backfill)?,
        backfill_delay: seconds("QUOTA_TOTAL_DELAY_SECONDS", defaults.backfill_delay)?,
        backfill_period: seconds("QUOTA_BACKFILL_POLL_PERIOD", defaults.backfill_period)?,
        backfill_batch: field(values, "QUOTA_BACKFILL_BATCH_SIZE")?
            .unwrap_or(defaults.backfill_batch),
    })
}

/// Keys whose values may hold a secret, and what they must be: an error about them says
/// that, and never shows the value (nor the parser's message, which may quote it).
const SECRET_KEYS: &[(&str, &str)] = &[
    (
        "DB_URI",
        "a URI such as postgresql://user:password@host/database",
    ),
    (
        "DISTRIBUTED_STORAGE_CONFIG",
        "a mapping of location names to [Driver, {parameters}]",
    ),
];

fn typed<T: DeserializeOwned>(key: &str, value: Value) -> anyhow::Result<T> {
    if let Some((_, expected)) = SECRET_KEYS.iter().find(|(secret, _)| *secret == key) {
        return serde_json::from_value(value).map_err(|_| {
            anyhow::anyhow!("config key {key} must be {expected} (its value is not shown)")
        });
    }
    let shown = value.to_string();
    serde_json::from_value(value)
        .with_context(|| format!("config key {key} has an unusable value {shown}"))
}

fn field<T: DeserializeOwned>(
    values: &BTreeMap<String, Value>,
    key: &str,
) -> anyhow::Result<Option<T>> {
    match values.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => typed(key, value.clone()).map(Some),
    }
}

/// The storage locations of `DISTRIBUTED_STORAGE_CONFIG`, whose entries are
/// `name: [Driver, {parameters}]`, in the order `DISTRIBUTED_STORAGE_PREFERENCE` gives, and
/// where `FEATURE_STORAGE_REPLICATION` copies blobs.
fn storage(values: &BTreeMap<String, Value>) -> anyhow::Result<Option<StorageConfig>> {
    const KEY: &str = "DISTRIBUTED_STORAGE_CONFIG";
    let Some(configured) =
        field::<BTreeMap<String, (String, BTreeMap<String, Value>)>>(values, KEY)?
    else {
        return Ok(None);
    };
    if configured.is_empty() {
        bail!("config key {KEY} names no storage location");
    }
    let preference: Vec<String> =
        field(values, "DISTRIBUTED_STORAGE_PREFERENCE")?.unwrap_or_default();
    if preference.is_empty() && configured.len() > 1 {
        bail!("config key DISTRIBUTED_STORAGE_PREFERENCE must name one of several locations");
    }
    let known = |key: &str, names: &[String]| -> anyhow::Result<()> {
        match names.iter().find(|name| !configured.contains_key(*name)) {
            Some(name) => bail!("config key {KEY} has no location {name:?} (named in {key})"),
            None => Ok(()),
        }
    };
    known("DISTRIBUTED_STORAGE_PREFERENCE", &preference)?;
    let mut order: Vec<&String> = Vec::with_capacity(configured.len());
    for name in preference.iter().chain(configured.keys()) {
        if !order.contains(&name) {
            order.push(name);
        }
    }
    let locations = order
        .into_iter()
        .map(|name| Ok((name.clone(), location(name, &configured[name])?)))
        .collect::<anyhow::Result<_>>()?;
    let replicate_to = if field(values, "FEATURE_STORAGE_REPLICATION")?.unwrap_or(false) {
        let defaults: Vec<String> =
            field(values, "DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS")?.unwrap_or_default();
        if defaults.is_empty() {
            bail!(
                "config key FEATURE_STORAGE_REPLICATION needs DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: \
                 the locations every blob is copied to"
            );
        }
        known("DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS", &defaults)?;
        defaults
    } else {
        Vec::new()
    };
    Ok(Some(StorageConfig {
        locations,
        replicate_to,
    }))
}

/// Location `name` of `DISTRIBUTED_STORAGE_CONFIG`: its driver and the driver's parameters.
fn location(
    name: &str,
    (driver, parameters): &(String, BTreeMap<String, Value>),
) -> anyhow::Result<LocationConfig> {
    const KEY: &str = "DISTRIBUTED_STORAGE_CONFIG";
    let parameter = |key: &str| -> anyhow::Result<Option<String>> {
        parameters
            .get(key)
            .cloned()
            .map(|value| match value {
                // Quay's examples quote ports and switches: `port: '443'`.
                Value::String(text) => Ok(text),
                Value::Number(number) => Ok(number.to_string()),
                Value::Bool(switch) => Ok(switch.to_string()),
                // Not shown: it may be a key.
                _ => bail!("config key {KEY}: {name}.{key} must be a string, number or boolean"),
            })
            .transpose()
    };
    let required = |key: &str| -> anyhow::Result<String> {
        parameter(key)?.with_context(|| format!("config key {KEY}: {driver} {name:?} needs {key}"))
    };
    let root = || -> anyhow::Result<String> { Ok(parameter("storage_path")?.unwrap_or_default()) };
    match driver.as_str() {
        "LocalStorage" => Ok(LocationConfig::Local {
            path: required("storage_path")?.into(),
        }),
        "S3Storage" => {
            // `endpoint_url` names any S3-compatible service; `host` (and `port`) an AWS
            // endpoint, always over HTTPS, as Quay's driver does.
            let endpoint = match (parameter("endpoint_url")?, parameter("host")?) {
                (Some(url), _) => Some(url),
                (None, Some(host)) => Some(match parameter("port")? {
                    Some(port) => format!("https://{host}:{port}"),
                    None => format!("https://{host}"),
                }),
                (None, None) => None,
            };
            Ok(LocationConfig::S3(S3Location {
                bucket: required("s3_bucket")?,
                root: root()?,
                endpoint,
                region: parameter("s3_region")?,
                access_key: parameter("s3_access_key")?.map(Secret::new),
                secret_key: parameter("s3_secret_key")?.map(Secret::new),
            }))
        }
        "RadosGWStorage" => {
            let secure = parameter("is_secure")?.is_none_or(|text| text != "false");
            let scheme = if secure { "https" } else { "http" };
            let host = required("hostname")?;
            let endpoint = match parameter("port")? {
                Some(port) => format!("{scheme}://{host}:{port}"),
                None => format!("{scheme}://{host}"),
            };
            Ok(LocationConfig::S3(S3Location {
                bucket: required("bucket_name")?,
                root: root()?,
                endpoint: Some(endpoint),
                region: None,
                access_key: parameter("access_key")?.map(Secret::new),
                secret_key: parameter("secret_key")?.map(Secret::new),
            }))
        }
        other => bail!("config key {KEY}: storage driver {other:?} is not supported"),
    }
}

/// A size as Quay writes it: `20G`, `512M`, `1024` (bytes); units are binary.
fn parse_size(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .with_context(|| format!("invalid size {text:?}"))?;
    let shift = match unit
        .trim()
        .trim_end_matches(['b', 'B'])
        .trim_end_matches('i')
    {
        "" => 0,
        "K" | "k" => 10,
        "M" | "m" => 20,
        "G" | "g" => 30,
        "T" | "t" => 40,
        _ => bail!("invalid size unit in {text:?}"),
    };
    number
        .checked_mul(1 << shift)
        .with_context(|| format!("size {text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str, env: &[(&str, &str)]) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        std::fs::write(&file, yaml).unwrap();
        Config::load(Some(&file), |key| {
            env.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_string())
        })
    }

    #[test]
    fn reads_quay_fields() {
        let config = load(
            "SERVER_HOSTNAME: registry.example.com\n\
             PREFERRED_URL_SCHEME: https\n\
             DB_URI: sqlite:///var/lib/quay/quay.db\n\
             DB_CONNECTION_ARGS: {max_connections: 4}\n\
             DISTRIBUTED_STORAGE_CONFIG:\n  default:\n    - LocalStorage\n    - storage_path: /datastorage/registry\n\
             DISTRIBUTED_STORAGE_PREFERENCE: [default]\n\
             MAXIMUM_LAYER_SIZE: 20G\n\
             FEATURE_SOMETHING_NEW: true\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            config.public_url().as_deref(),
            Some("https://registry.example.com")
        );
        assert_eq!(
            config.db_uri.as_ref().map(Secret::expose),
            Some("sqlite:///var/lib/quay/quay.db")
        );
        assert_eq!(config.db_max_connections, Some(4));
        assert_eq!(
            config.storage,
            Some(StorageConfig {
                locations: vec![(
                    "default".into(),
                    LocationConfig::Local {
                        path: "/datastorage/registry".into()
                    }
                )],
                replicate_to: Vec::new(),
            })
        );
        assert_eq!(config.maximum_layer_size, Some(20 << 30));
    }

    #[test]
    fn reads_quay_s3_and_radosgw_locations() {
        let s3 = load(
            "DISTRIBUTED_STORAGE_CONFIG:\n  default:\n    - S3Storage\n    - host: s3.us-east-2.amazonaws.com\n      s3_access_key: AKID\n      s3_secret_key: SECRET\n      s3_bucket: quay_bucket\n      s3_region: us-east-2\n      storage_path: /datastorage/registry\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            only_location(&s3),
            LocationConfig::S3(S3Location {
                bucket: "quay_bucket".into(),
                root: "/datastorage/registry".into(),
                endpoint: Some("https://s3.us-east-2.amazonaws.com".into()),
                region: Some("us-east-2".into()),
                access_key: Some("AKID".into()),
                secret_key: Some("SECRET".into()),
            })
        );
        let ceph = load(
            "DISTRIBUTED_STORAGE_CONFIG:\n  ceph:\n    - RadosGWStorage\n    - hostname: rgw.local\n      is_secure: 'false'\n      port: 7480\n      access_key: AK\n      secret_key: SK\n      bucket_name: quay\n      storage_path: /registry\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            only_location(&ceph),
            LocationConfig::S3(S3Location {
                bucket: "quay".into(),
                root: "/registry".into(),
                endpoint: Some("http://rgw.local:7480".into()),
                region: None,
                access_key: Some("AK".into()),
                secret_key: Some("SK".into()),
            })
        );
    }

    fn only_location(config: &Config) -> LocationConfig {
        let storage = config.storage.clone().unwrap();
        assert_eq!(storage.locations.len(), 1);
        storage.locations[0].1.clone()
    }

    const TWO_REGIONS: &str = "DISTRIBUTED_STORAGE_CONFIG:\n  \
        us: [LocalStorage, {storage_path: /us}]\n  \
        eu: [LocalStorage, {storage_path: /eu}]\n  \
        archive: [LocalStorage, {storage_path: /archive}]\n";

    #[test]
    fn geo_replication_orders_locations_by_preference() {
        let config = load(
            &format!(
                "{TWO_REGIONS}DISTRIBUTED_STORAGE_PREFERENCE: [eu]\n\
                 DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: [us, eu]\n\
                 FEATURE_STORAGE_REPLICATION: true\n"
            ),
            &[],
        )
        .unwrap();
        let storage = config.storage.unwrap();
        let names: Vec<&str> = storage
            .locations
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(names, ["eu", "archive", "us"]);
        assert_eq!(
            storage.locations[0].1,
            LocationConfig::Local { path: "/eu".into() }
        );
        assert_eq!(storage.replicate_to, ["us", "eu"]);

        // Default locations replicate only with the feature on, as in Quay.
        let off = load(
            &format!(
                "{TWO_REGIONS}DISTRIBUTED_STORAGE_PREFERENCE: [us, eu]\n\
                 DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: [us, eu]\n"
            ),
            &[],
        )
        .unwrap()
        .storage
        .unwrap();
        assert!(off.replicate_to.is_empty());
        assert_eq!(off.locations[1].0, "eu");
    }

    #[test]
    fn geo_replication_names_what_is_wrong() {
        for (extra, expected) in [
            (
                "",
                "DISTRIBUTED_STORAGE_PREFERENCE must name one of several locations",
            ),
            (
                "DISTRIBUTED_STORAGE_PREFERENCE: [asia]\n",
                "no location \"asia\" (named in DISTRIBUTED_STORAGE_PREFERENCE)",
            ),
            (
                "DISTRIBUTED_STORAGE_PREFERENCE: [us]\nFEATURE_STORAGE_REPLICATION: true\n",
                "FEATURE_STORAGE_REPLICATION needs DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS",
            ),
            (
                "DISTRIBUTED_STORAGE_PREFERENCE: [us]\nFEATURE_STORAGE_REPLICATION: true\n\
                 DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: [us, mars]\n",
                "no location \"mars\" (named in DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS)",
            ),
        ] {
            let error = format!(
                "{:#}",
                load(&format!("{TWO_REGIONS}{extra}"), &[]).unwrap_err()
            );
            assert!(error.contains(expected), "{extra}: {error}");
        }
    }

    #[test]
    fn features_default_to_quay_and_follow_the_file_and_environment() {
        let config = load(
            "SUPER_USERS: [root]\nFEATURE_USER_INITIALIZE: true\n",
            &[("CREATE_NAMESPACE_ON_PUSH", "true")],
        )
        .unwrap();
        assert_eq!(config.super_users, ["root"]);
        assert!(config.features.user_initialize && config.features.create_namespace_on_push);
        assert!(config.features.anonymous_access && config.features.create_private_repo_on_push);
        assert!(!config.features.superusers_full_access && !config.features.public_catalog);
    }

    #[test]
    fn the_environment_wins() {
        let config = load(
            "SERVER_HOSTNAME: from-file\nDB_URI: sqlite://file.db\n",
            &[
                ("SERVER_HOSTNAME", "from-env:8443"),
                ("PUSH_TEMP_TAG_EXPIRATION_SEC", "60"),
            ],
        )
        .unwrap();
        assert_eq!(config.server_hostname.as_deref(), Some("from-env:8443"));
        assert_eq!(
            config.db_uri.as_ref().map(Secret::expose),
            Some("sqlite://file.db")
        );
        assert_eq!(config.push_temp_tag_expiration_sec, Some(60));
    }

    #[test]
    fn wrong_types_name_the_key() {
        for (yaml, key) in [
            ("SERVER_HOSTNAME: [a, b]\n", "SERVER_HOSTNAME"),
            ("PREFERRED_URL_SCHEME: ftp\n", "PREFERRED_URL_SCHEME"),
            (
                "DB_CONNECTION_ARGS: {max_connections: many}\n",
                "DB_CONNECTION_ARGS.max_connections",
            ),
            ("MAXIMUM_LAYER_SIZE: 20Q\n", "MAXIMUM_LAYER_SIZE"),
            (
                "DISTRIBUTED_STORAGE_CONFIG: {x: [S3Storage, {}]}\n",
                "DISTRIBUTED_STORAGE_CONFIG",
            ),
            (
                "DISTRIBUTED_STORAGE_CONFIG: {x: [RadosGWStorage, {bucket_name: b}]}\n",
                "DISTRIBUTED_STORAGE_CONFIG",
            ),
            (
                "DISTRIBUTED_STORAGE_CONFIG: {x: [SwiftStorage, {}]}\n",
                "DISTRIBUTED_STORAGE_CONFIG",
            ),
            (
                "DISTRIBUTED_STORAGE_CONFIG: {x: [LocalStorage, {}]}\n",
                "DISTRIBUTED_STORAGE_CONFIG",
            ),
            (
                "PUSH_TEMP_TAG_EXPIRATION_SEC: soon\n",
                "PUSH_TEMP_TAG_EXPIRATION_SEC",
            ),
        ] {
            let error = format!("{:#}", load(yaml, &[]).unwrap_err());
            assert!(error.contains(key), "{yaml}: {error}");
        }
    }

    #[test]
    fn errors_never_show_a_secret() {
        for yaml in [
            "DB_URI: [postgresql://quay:s3cr3t@db/quay]\n",
            "DB_URI: {password: s3cr3t}\n",
            "DISTRIBUTED_STORAGE_CONFIG: {x: [S3Storage, s3cr3t]}\n",
            "DISTRIBUTED_STORAGE_CONFIG: {x: [S3Storage, {s3_bucket: b, s3_secret_key: [s3cr3t]}]}\n",
        ] {
            let error = format!("{:#}", load(yaml, &[]).unwrap_err());
            assert!(!error.contains("s3cr3t"), "{yaml}: {error}");
        }
        let config = load(
            "DB_URI: postgresql://quay:s3cr3t@db/quay\n\
             DISTRIBUTED_STORAGE_CONFIG: {x: [S3Storage, {s3_bucket: b, s3_access_key: AK, s3_secret_key: s3cr3t}]}\n",
            &[],
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("s3cr3t"));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert!(parse_size("G").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
