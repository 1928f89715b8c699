//! Where blobs are stored: Quay's `DISTRIBUTED_STORAGE_*` keys, whose locations are
//! `name: [Driver, {parameters}]` with the drivers `LocalStorage`, `S3Storage` and
//! `RadosGWStorage`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use quay_core::secret::Secret;
use quay_storage::S3Location;
use serde::Deserialize;
use serde_json::Value;

/// The storage keys as written; [`StorageKeys::resolve`] checks them together. (No `Debug`:
/// the parameters hold storage keys.)
#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct StorageKeys {
    /// Every location by name, with its driver and the driver's parameters (storage keys
    /// among them).
    #[serde(rename = "DISTRIBUTED_STORAGE_CONFIG")]
    locations: Option<BTreeMap<String, Location>>,
    /// The locations this node prefers, the first of which stores new blobs.
    #[serde(rename = "DISTRIBUTED_STORAGE_PREFERENCE")]
    preference: Vec<String>,
    /// Where every blob is copied, with replication on.
    #[serde(rename = "DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS")]
    default_locations: Vec<String>,
    /// Blobs are copied to the default locations.
    #[serde(rename = "FEATURE_STORAGE_REPLICATION")]
    replication: bool,
}

/// A location as Quay writes it: `[Driver, {parameters}]`.
type Location = (String, BTreeMap<String, Value>);

/// Where blobs are stored.
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

const KEY: &str = "DISTRIBUTED_STORAGE_CONFIG";

impl StorageKeys {
    /// The locations in the order of preference, and where blobs are copied; `None` when no
    /// location is configured.
    pub(super) fn resolve(self) -> anyhow::Result<Option<StorageConfig>> {
        let Some(configured) = self.locations else {
            return Ok(None);
        };
        if configured.is_empty() {
            bail!("config key {KEY} names no storage location");
        }
        let preference = self.preference;
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
        // Default locations replicate only with the feature on, as in Quay.
        let replicate_to = if self.replication {
            if self.default_locations.is_empty() {
                bail!(
                    "config key FEATURE_STORAGE_REPLICATION needs \
                     DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: the locations every blob is copied to"
                );
            }
            known(
                "DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS",
                &self.default_locations,
            )?;
            self.default_locations
        } else {
            Vec::new()
        };
        Ok(Some(StorageConfig {
            locations,
            replicate_to,
        }))
    }
}

/// Location `name` of `DISTRIBUTED_STORAGE_CONFIG`: its driver and the driver's parameters.
fn location(name: &str, (driver, parameters): &Location) -> anyhow::Result<LocationConfig> {
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
