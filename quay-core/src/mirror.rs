//! Repository mirroring (Quay's `RepoMirrorConfig`): a repository kept in step with an
//! upstream one, tag patterns synced on an interval or on demand. Here, without I/O: the
//! configuration and its rules, the states of a sync and when one is due, which upstream tags
//! a sync takes and what it does with each, and how an index is narrowed to some platforms.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::events::filter::TagFilter;
use crate::names::{Digest, RobotName, TagName};
use crate::proxy::{UpstreamCredentials, check_registry_path};
use crate::secret::Secret;
use crate::upstream::UpstreamProxy;

/// Attempts a failing sync gets before it waits for its next interval (`MAX_SYNC_RETRIES`).
pub const MAX_SYNC_RETRIES: u32 = 3;

/// The shortest timeout of a sync's tag copy, seconds (Quay's `skopeo_timeout_interval`).
pub const MIN_TIMEOUT_S: u64 = 300;

/// Tags a sync copies at most (Quay caps a mirror's manifest lists the same way).
pub const MAX_MIRRORED_TAGS: usize = 10_000;

/// The annotation a platform-filtered index carries: the digest of the upstream index it
/// was narrowed from, so that the copy says what it is and the next sync knows its source.
pub const SOURCE_DIGEST_ANNOTATION: &str = "io.quay-rs.mirror.source-digest";

/// What a mirror copies from: `host[:port]/path` of an upstream repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalReference {
    /// `host[:port]`.
    pub registry: String,
    /// The repository's path upstream.
    pub repository: String,
}

impl ExternalReference {
    /// `host[:port]/path`, refused with the rule it breaks.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let invalid = |why: String| Error::InvalidRequest(format!("external_reference: {why}"));
        let Some((registry, repository)) = text.split_once('/') else {
            return Err(invalid(
                "a registry and a repository, as `host[:port]/namespace/repository`".into(),
            ));
        };
        if repository.contains(':') || repository.contains('@') {
            return Err(invalid(
                "a repository without a tag or digest: the tags come from `root_rule`".into(),
            ));
        }
        check_registry_path(text).map_err(invalid)?;
        Ok(Self {
            registry: registry.to_string(),
            repository: repository.to_string(),
        })
    }
}

impl std::fmt::Display for ExternalReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)
    }
}

/// One platform an index's children are kept for: `os/architecture[/variant]`, or an
/// architecture alone (Quay's `architecture_filter`), which any OS matches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Platform {
    /// The OS, if named.
    pub os: Option<String>,
    /// The architecture.
    pub architecture: String,
    /// The variant (`v8`), if named.
    pub variant: Option<String>,
}

impl Platform {
    /// `linux/arm64/v8`, `linux/amd64` or `amd64`.
    pub fn parse(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        let word = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if parts.len() > 3 || !parts.iter().all(|part| word(part)) {
            return Err(Error::InvalidRequest(format!(
                "platforms: `{text}` is not `os/architecture[/variant]` or an architecture"
            )));
        }
        Ok(match parts.as_slice() {
            [architecture] => Self {
                os: None,
                architecture: architecture.to_string(),
                variant: None,
            },
            [os, architecture, rest @ ..] => Self {
                os: Some(os.to_string()),
                architecture: architecture.to_string(),
                variant: rest.first().map(|variant| variant.to_string()),
            },
            [] => unreachable!("split yields at least one part"),
        })
    }

    /// Whether an index entry's `platform` object is this platform.
    pub fn matches(&self, platform: &Value) -> bool {
        let field = |name: &str| platform.get(name).and_then(Value::as_str);
        field("architecture") == Some(self.architecture.as_str())
            && self.os.as_deref().is_none_or(|os| field("os") == Some(os))
            && self
                .variant
                .as_deref()
                .is_none_or(|variant| field("variant") == Some(variant))
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(os) = &self.os {
            write!(f, "{os}/")?;
        }
        f.write_str(&self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// How a mirror reaches its upstream: where, and how it speaks to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorEndpoint {
    /// The upstream repository.
    pub reference: ExternalReference,
    /// Whether the upstream's certificate is checked; `false` also lets an upstream that
    /// speaks plain HTTP work (skopeo's `--tls-verify=false`).
    pub verify_tls: bool,
    /// Proxies on the way.
    pub proxy: UpstreamProxy,
}

/// A repository's mirror configuration, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorConfig {
    /// Whether scheduled syncs run (a sync asked for runs anyway).
    pub is_enabled: bool,
    /// The upstream and how to reach it.
    pub endpoint: MirrorEndpoint,
    /// Who to sign in to the upstream as, if anyone (the password is sealed apart).
    pub username: Option<String>,
    /// The robot the sync runs as: it owns the pushes in the usage log, and may push to
    /// the repository itself.
    pub robot: RobotName,
    /// Globs a tag must match one of to be mirrored (`root_rule.rule_value`).
    pub tag_patterns: Vec<String>,
    /// Seconds between scheduled syncs.
    pub sync_interval_s: u64,
    /// Quay's `unsigned_images` (kept for its clients; signatures are copied as referrers).
    pub unsigned_images: bool,
    /// The longest a tag's copy may take, seconds.
    pub timeout_s: u64,
    /// The platforms an index's children are copied for; none: all of them.
    pub platforms: Vec<Platform>,
    /// Whether local tags whose upstream tag is gone (or no longer matches) are removed,
    /// into the time machine. Off by default: a mirror never loses what it has unless told.
    pub remove_stale_tags: bool,
    /// Whether each mirrored manifest's referrers (signatures, SBOMs, attestations: OCI 1.1
    /// `subject`s and cosign's `sha256-<digest>.sig` tags) come along.
    pub copy_referrers: bool,
}

/// A configuration as asked for: every field optional, for the partial update (`PUT`);
/// creating needs Quay's required ones. `Some(None)` nulls a nullable field.
#[derive(Clone, Debug, Default)]
pub struct MirrorRequest {
    /// `is_enabled`.
    pub is_enabled: Option<bool>,
    /// `external_reference`.
    pub external_reference: Option<String>,
    /// `external_registry_username`.
    pub username: Option<Option<String>>,
    /// `external_registry_password`.
    pub password: Option<Option<Secret>>,
    /// `robot_username`, parsed by the caller, who checks it is the namespace's.
    pub robot: Option<RobotName>,
    /// `root_rule.rule_value`.
    pub tag_patterns: Option<Vec<String>>,
    /// `sync_interval`, seconds.
    pub sync_interval_s: Option<i64>,
    /// `sync_start_date`, `%Y-%m-%dT%H:%M:%SZ`.
    pub sync_start: Option<String>,
    /// `external_registry_config.verify_tls`.
    pub verify_tls: Option<bool>,
    /// `external_registry_config.unsigned_images`.
    pub unsigned_images: Option<bool>,
    /// `external_registry_config.proxy`.
    pub proxy: Option<UpstreamProxy>,
    /// `skopeo_timeout_interval`, seconds.
    pub timeout_s: Option<i64>,
    /// `platforms` (or Quay's `architecture_filter`).
    pub platforms: Option<Vec<String>>,
    /// `remove_stale_tags`.
    pub remove_stale_tags: Option<bool>,
    /// `copy_referrers`.
    pub copy_referrers: Option<bool>,
}

/// What a configuration change does to the sealed upstream credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialsChange {
    /// They stay as they are.
    Keep,
    /// They are removed.
    Clear,
    /// They become these.
    Set(UpstreamCredentials),
}

/// A configuration checked against its previous self: the new configuration, what happens
/// to the credentials, the next start if one was asked for, and the fields that changed
/// (for the usage log).
#[derive(Clone, Debug)]
pub struct CheckedMirror {
    /// The configuration.
    pub config: MirrorConfig,
    /// The credentials' change.
    pub credentials: CredentialsChange,
    /// `sync_start_date`, epoch milliseconds, when given.
    pub sync_start_ms: Option<i64>,
    /// Names of the fields that changed.
    pub changed: Vec<&'static str>,
}

impl MirrorConfig {
    /// A new configuration from `request`, which must name Quay's required fields.
    pub fn create(request: MirrorRequest) -> Result<CheckedMirror> {
        let required = |field: &str| Error::InvalidRequest(format!("{field} is required"));
        let reference = request
            .external_reference
            .as_deref()
            .ok_or_else(|| required("external_reference"))?;
        let robot = request
            .robot
            .clone()
            .ok_or_else(|| required("robot_username"))?;
        if request.sync_start.is_none() {
            return Err(required("sync_start_date"));
        }
        if request.sync_interval_s.is_none() {
            return Err(required("sync_interval"));
        }
        if request.tag_patterns.is_none() {
            return Err(required("root_rule"));
        }
        if request.timeout_s.is_none() {
            return Err(required("skopeo_timeout_interval"));
        }
        let base = Self {
            is_enabled: true,
            endpoint: MirrorEndpoint {
                reference: ExternalReference::parse(reference)?,
                verify_tls: true,
                proxy: UpstreamProxy::default(),
            },
            username: None,
            robot,
            tag_patterns: Vec::new(),
            sync_interval_s: 0,
            unsigned_images: false,
            timeout_s: MIN_TIMEOUT_S,
            platforms: Vec::new(),
            remove_stale_tags: false,
            copy_referrers: true,
        };
        base.update(request, false)
    }

    /// This configuration changed by `request` (`has_password`: whether credentials are
    /// stored now).
    pub fn update(&self, request: MirrorRequest, has_password: bool) -> Result<CheckedMirror> {
        let mut next = self.clone();
        let mut changed = Vec::new();
        macro_rules! take {
            ($field:literal, $value:expr, $target:expr) => {
                if let Some(value) = $value {
                    if $target != value {
                        changed.push($field);
                    }
                    $target = value;
                }
            };
        }
        take!("is_enabled", request.is_enabled, next.is_enabled);
        if let Some(reference) = request.external_reference.as_deref() {
            take!(
                "external_reference",
                Some(ExternalReference::parse(reference)?),
                next.endpoint.reference
            );
        }
        take!("robot_username", request.robot, next.robot);
        if let Some(patterns) = request.tag_patterns {
            let patterns = check_tag_patterns(patterns)?;
            take!("root_rule", Some(patterns), next.tag_patterns);
        }
        if let Some(interval) = request.sync_interval_s {
            let interval = u64::try_from(interval).map_err(|_| {
                Error::InvalidRequest("sync_interval must be a number of seconds, 0 or more".into())
            })?;
            take!("sync_interval", Some(interval), next.sync_interval_s);
        }
        if let Some(timeout) = request.timeout_s {
            let timeout = u64::try_from(timeout)
                .ok()
                .filter(|timeout| *timeout >= MIN_TIMEOUT_S)
                .ok_or_else(|| {
                    Error::InvalidRequest(format!(
                        "Skopeo timeout interval cannot be less than {MIN_TIMEOUT_S} seconds"
                    ))
                })?;
            take!("skopeo_timeout_interval", Some(timeout), next.timeout_s);
        }
        take!("verify_tls", request.verify_tls, next.endpoint.verify_tls);
        take!(
            "unsigned_images",
            request.unsigned_images,
            next.unsigned_images
        );
        take!("proxy", request.proxy, next.endpoint.proxy);
        if let Some(platforms) = request.platforms {
            let mut platforms = platforms
                .iter()
                .map(|platform| Platform::parse(platform))
                .collect::<Result<Vec<_>>>()?;
            platforms.sort();
            platforms.dedup();
            take!("platforms", Some(platforms), next.platforms);
        }
        take!(
            "remove_stale_tags",
            request.remove_stale_tags,
            next.remove_stale_tags
        );
        take!(
            "copy_referrers",
            request.copy_referrers,
            next.copy_referrers
        );
        let sync_start_ms = request
            .sync_start
            .as_deref()
            .map(parse_sync_start)
            .transpose()?;
        if sync_start_ms.is_some() {
            changed.push("sync_start_date");
        }
        let credentials =
            next.credentials_change(request.username, request.password, has_password)?;
        if credentials != CredentialsChange::Keep {
            changed.push("external_registry_username");
        }
        Ok(CheckedMirror {
            config: next,
            credentials,
            sync_start_ms,
            changed,
        })
    }

    /// Quay's rules: a password cannot be set without a username, nor the username nulled
    /// while a password is set; nulling either removes both. A username alone is kept
    /// (the upstream is then asked anonymously), but cannot replace one with a password.
    fn credentials_change(
        &mut self,
        username: Option<Option<String>>,
        password: Option<Option<Secret>>,
        has_password: bool,
    ) -> Result<CredentialsChange> {
        let username = username.map(|name| name.filter(|name| !name.trim().is_empty()));
        let password = password.map(|secret| secret.filter(|secret| !secret.expose().is_empty()));
        match (username, password) {
            (None, None) => Ok(CredentialsChange::Keep),
            (Some(None), Some(Some(_))) => Err(Error::InvalidRequest(
                "external_registry_username cannot be null while a password is set".into(),
            )),
            (Some(Some(username)), Some(None)) => {
                self.username = Some(username);
                Ok(CredentialsChange::Clear)
            }
            (Some(None), _) | (None, Some(None)) => {
                self.username = None;
                Ok(CredentialsChange::Clear)
            }
            (named, Some(Some(password))) => {
                let username = named
                    .flatten()
                    .or_else(|| self.username.clone())
                    .ok_or_else(|| {
                        Error::InvalidRequest(
                            "external_registry_password cannot be set without a username".into(),
                        )
                    })?;
                self.username = Some(username.clone());
                Ok(CredentialsChange::Set(UpstreamCredentials {
                    username,
                    password,
                }))
            }
            (Some(Some(username)), None) => {
                if self.username.as_ref() == Some(&username) {
                    Ok(CredentialsChange::Keep)
                } else if has_password {
                    Err(Error::InvalidRequest(
                        "external_registry_password is needed with a new username".into(),
                    ))
                } else {
                    self.username = Some(username);
                    Ok(CredentialsChange::Clear)
                }
            }
        }
    }

    /// The tag filter of `root_rule` (checked when the configuration was made; a stored one
    /// that no longer is fails the sync rather than the worker).
    fn tag_filter(&self) -> Result<TagFilter> {
        TagFilter::new(self.tag_patterns.iter().map(String::as_str))?.ok_or_else(|| {
            Error::InvalidRequest("root_rule.rule_value needs at least one tag pattern".into())
        })
    }

    /// Quay's `architecture_filter`: the architectures of `platforms`.
    pub fn architectures(&self) -> Vec<String> {
        let mut architectures: Vec<String> = self
            .platforms
            .iter()
            .map(|platform| platform.architecture.clone())
            .collect();
        architectures.sort();
        architectures.dedup();
        architectures
    }
}

fn check_tag_patterns(patterns: Vec<String>) -> Result<Vec<String>> {
    let patterns: Vec<String> = patterns
        .into_iter()
        .map(|pattern| pattern.trim().to_string())
        .collect();
    if patterns.is_empty() {
        return Err(Error::InvalidRequest(
            "root_rule.rule_value needs at least one tag pattern".into(),
        ));
    }
    TagFilter::new(patterns.iter().map(String::as_str))
        .map_err(|error| Error::InvalidRequest(format!("root_rule: {error}")))?;
    Ok(patterns)
}

/// `%Y-%m-%dT%H:%M:%SZ` as epoch milliseconds.
fn parse_sync_start(text: &str) -> Result<i64> {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::PrimitiveDateTime::parse(text.trim(), &format)
        .map(|at| (at.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            Error::InvalidRequest(format!(
                "sync_start_date: `{text}` is not a time as `2026-01-31T12:00:00Z`"
            ))
        })
}

/// Epoch milliseconds as `sync_start_date` is written.
pub fn format_time(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&format).ok())
        .unwrap_or_default()
}

/// Where a mirror's sync stands (Quay's `RepoMirrorStatus`, with its numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    /// Cancelled: waits for a sync asked for.
    Cancel,
    /// The last sync failed.
    Fail,
    /// Never synced.
    NeverRun,
    /// The last sync succeeded.
    Success,
    /// A node is syncing.
    Syncing,
    /// A sync was asked for.
    SyncNow,
}

impl SyncStatus {
    const ALL: [Self; 6] = [
        Self::Cancel,
        Self::Fail,
        Self::NeverRun,
        Self::Success,
        Self::Syncing,
        Self::SyncNow,
    ];

    /// Quay's number.
    pub fn number(self) -> i32 {
        match self {
            Self::Cancel => -2,
            Self::Fail => -1,
            Self::NeverRun => 0,
            Self::Success => 1,
            Self::Syncing => 2,
            Self::SyncNow => 3,
        }
    }

    /// The status of Quay's number.
    pub fn from_number(number: i32) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.number() == number)
    }

    /// Quay's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cancel => "CANCEL",
            Self::Fail => "FAIL",
            Self::NeverRun => "NEVER_RUN",
            Self::Success => "SUCCESS",
            Self::Syncing => "SYNCING",
            Self::SyncNow => "SYNC_NOW",
        }
    }
}

/// The schedule of a mirror's syncs (Quay's columns of the same names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncSchedule {
    /// Where the sync stands.
    pub status: SyncStatus,
    /// When the next scheduled sync may start; `None` after a cancel.
    pub start_ms: Option<i64>,
    /// While syncing: when the node's lease lapses and another node may take over.
    pub expiration_ms: Option<i64>,
    /// Attempts left before the sync waits for its next interval.
    pub retries_remaining: u32,
}

/// How a sync ended, for its schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncEnd {
    /// Every tag is in step.
    Success,
    /// Something failed.
    Failure,
    /// It was cancelled.
    Cancelled,
}

impl SyncSchedule {
    /// A new mirror's: never run, first start at `start_ms`.
    pub fn new(start_ms: i64) -> Self {
        Self {
            status: SyncStatus::NeverRun,
            start_ms: Some(start_ms),
            expiration_ms: None,
            retries_remaining: MAX_SYNC_RETRIES,
        }
    }

    /// Whether a node may claim the sync now (Quay's eligibility): asked for; or enabled,
    /// started, with retries left and not syncing; or syncing under a lease that lapsed.
    pub fn is_due(&self, enabled: bool, now_ms: i64) -> bool {
        let lapsed = self.expiration_ms.is_none_or(|until| until <= now_ms);
        match self.status {
            SyncStatus::SyncNow => lapsed,
            SyncStatus::Syncing => enabled && self.retries_remaining > 0 && lapsed,
            _ => {
                enabled
                    && self.retries_remaining > 0
                    && self.expiration_ms.is_none()
                    && self.start_ms.is_some_and(|start| start <= now_ms)
            }
        }
    }

    /// Claimed by a node until `lease_until_ms`.
    pub fn claimed(&self, lease_until_ms: i64) -> Self {
        Self {
            status: SyncStatus::Syncing,
            expiration_ms: Some(lease_until_ms),
            ..self.clone()
        }
    }

    /// A sync asked for now (`sync-now`); `None` while one runs.
    pub fn asked_now(&self) -> Option<Self> {
        (self.status != SyncStatus::Syncing).then(|| Self {
            status: SyncStatus::SyncNow,
            expiration_ms: None,
            retries_remaining: self.retries_remaining.max(1),
            ..self.clone()
        })
    }

    /// A running or asked-for sync cancelled (`sync-cancel`); `None` otherwise.
    pub fn cancelled(&self) -> Option<Self> {
        matches!(self.status, SyncStatus::Syncing | SyncStatus::SyncNow).then(|| Self {
            status: SyncStatus::Cancel,
            start_ms: None,
            expiration_ms: None,
            retries_remaining: 0,
        })
    }

    /// The schedule after a sync that began at `began_ms` ended as `end` at `now_ms`. A
    /// success, or a failure with no retry left, waits for the next interval on the
    /// original cadence; a failure with retries left is tried again on the next pass; a
    /// cancel waits
    /// for a sync asked for.
    pub fn released(&self, end: SyncEnd, interval_s: u64, began_ms: i64, now_ms: i64) -> Self {
        let next_interval = || {
            let interval_ms = i64::try_from(interval_s.saturating_mul(1000))
                .unwrap_or(i64::MAX)
                .max(1);
            let elapsed = now_ms
                .saturating_sub(self.start_ms.unwrap_or(began_ms))
                .max(0);
            now_ms.saturating_add(interval_ms - elapsed % interval_ms)
        };
        match end {
            SyncEnd::Cancelled => Self {
                status: SyncStatus::Cancel,
                start_ms: None,
                expiration_ms: None,
                retries_remaining: 0,
            },
            // Retried on a worker's next pass, even when the failed sync was asked for
            // ahead of its schedule.
            SyncEnd::Failure if self.retries_remaining > 1 => Self {
                status: SyncStatus::Fail,
                start_ms: Some(self.start_ms.map_or(now_ms, |start| start.min(now_ms))),
                expiration_ms: None,
                retries_remaining: self.retries_remaining - 1,
            },
            SyncEnd::Success | SyncEnd::Failure => Self {
                status: if end == SyncEnd::Success {
                    SyncStatus::Success
                } else {
                    SyncStatus::Fail
                },
                start_ms: Some(next_interval()),
                expiration_ms: None,
                retries_remaining: MAX_SYNC_RETRIES,
            },
        }
    }
}

/// What a sync does, or did, with one tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TagAction {
    /// A new tag is copied.
    Copy,
    /// An existing tag moves to what upstream now has.
    Move,
    /// A tag gone upstream is removed (into the time machine).
    Remove,
    /// Already in step.
    Unchanged,
    /// Its copy failed; the local tag is as it was.
    Failed,
}

/// One tag's line in a sync's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagOutcome {
    /// The tag.
    pub tag: String,
    /// What was (or would be) done.
    pub action: TagAction,
    /// The upstream digest (for a removal, the local one).
    pub digest: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a running sync and whoever watches it share: a request to stop, read between tags,
/// and how many tags are left.
#[derive(Debug, Default)]
pub struct SyncControl {
    stop: AtomicBool,
    pending_tags: AtomicUsize,
}

impl SyncControl {
    /// Asks the sync to stop before its next tag (it was cancelled, or its claim lost).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// Whether the sync was asked to stop.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// The tags the sync has yet to take up: its whole plan when it starts, none once it ends.
    pub fn pending_tags(&self) -> usize {
        self.pending_tags.load(Ordering::Relaxed)
    }

    pub(crate) fn set_pending_tags(&self, count: usize) {
        self.pending_tags.store(count, Ordering::Relaxed);
    }

    /// One more tag of the plan taken up: once per tag of the count it set, so never below
    /// zero.
    pub(crate) fn tag_taken(&self) {
        self.pending_tags.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How a sync went (or, for a dry run, would go).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// `success`, `failed`, `cancelled`, or `dry run`.
    pub outcome: String,
    /// One line for people.
    pub message: String,
    /// When it began and ended, epoch milliseconds.
    #[serde(skip)]
    pub started_ms: i64,
    /// When it ended.
    #[serde(skip)]
    pub finished_ms: i64,
    /// Each tag it considered, in name order.
    pub tags: Vec<TagOutcome>,
    /// What kind of failure came first, in the words of Quay's `last_error_reason` label
    /// (`auth_failed`, `not_found`, ...); `None` unless the sync failed.
    #[serde(skip)]
    pub failure_reason: Option<&'static str>,
}

impl SyncReport {
    /// How many tags had `action`.
    pub fn count(&self, action: TagAction) -> usize {
        self.tags.iter().filter(|tag| tag.action == action).count()
    }

    /// The report as stored and shown: its fields, the counts, and the times.
    pub fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        for (name, action) in [
            ("copied", TagAction::Copy),
            ("moved", TagAction::Move),
            ("removed", TagAction::Remove),
            ("unchanged", TagAction::Unchanged),
            ("failed", TagAction::Failed),
        ] {
            value[name] = self.count(action).into();
        }
        value["started"] = format_time(self.started_ms).into();
        value["finished"] = format_time(self.finished_ms).into();
        value
    }
}

/// What a sync plans for each tag: the matching upstream tags with the digests they name,
/// against the local copies (by the upstream digests they came from); and, given the alive
/// local tags (`stale_candidates`, empty unless stale tags are removed), the removal of
/// those no longer upstream or no longer matching, companions of images aside.
pub fn plan(
    upstream: &BTreeMap<TagName, Digest>,
    local: &BTreeMap<TagName, Digest>,
    stale_candidates: &[TagName],
) -> Vec<(TagName, TagAction)> {
    let mut plan: Vec<(TagName, TagAction)> = upstream
        .iter()
        .map(|(tag, digest)| {
            let action = match local.get(tag) {
                None => TagAction::Copy,
                Some(held) if held == digest => TagAction::Unchanged,
                Some(_) => TagAction::Move,
            };
            (tag.clone(), action)
        })
        .collect();
    plan.extend(
        stale_candidates
            .iter()
            .filter(|tag| !upstream.contains_key(*tag) && !is_companion(tag))
            .map(|tag| (tag.clone(), TagAction::Remove)),
    );
    plan.sort_by(|a, b| a.0.cmp(&b.0));
    plan
}

/// Whether `tag` is a companion of an image rather than an image: cosign's
/// `sha256-<hex>.sig`/`.att`/`.sbom` and the referrers tag `sha256-<hex>`. Companions come
/// and go with their images.
fn is_companion(tag: &TagName) -> bool {
    tag.as_str().strip_prefix("sha256-").is_some_and(|rest| {
        rest.len() >= 64 && rest.as_bytes()[..64].iter().all(u8::is_ascii_hexdigit)
    })
}

/// The tags of an upstream listing a mirror takes: those matching one of its patterns,
/// each once, in order, at most [`MAX_MIRRORED_TAGS`]. Cosign's tags of mirrored digests
/// come with their images, not through the patterns.
pub fn matching_tags(config: &MirrorConfig, listed: &[String]) -> Result<Vec<TagName>> {
    let filter = config.tag_filter()?;
    let mut tags: Vec<TagName> = listed
        .iter()
        .filter(|tag| filter.passes([tag.as_str()]))
        .filter_map(|tag| TagName::parse(tag).ok())
        .collect();
    tags.sort();
    tags.dedup();
    tags.truncate(MAX_MIRRORED_TAGS);
    Ok(tags)
}

/// Cosign's tags for `digest` that a listing holds: `sha256-<hex>.sig`, `.att`, `.sbom`.
pub fn cosign_tags(listed: &[String], digest: &Digest) -> Vec<TagName> {
    let prefix = format!("{}.", digest.as_str().replacen(':', "-", 1));
    listed
        .iter()
        .filter(|tag| {
            tag.strip_prefix(&prefix)
                .is_some_and(|suffix| matches!(suffix, "sig" | "att" | "sbom"))
        })
        .filter_map(|tag| TagName::parse(tag).ok())
        .collect()
}

/// An index narrowed to `platforms`: its bytes, with only the children for those platforms
/// and the upstream digest in [`SOURCE_DIGEST_ANNOTATION`]; `None` when every child is kept
/// (the index is copied as it is). Refused when no child is left.
pub fn narrow_index(
    bytes: &[u8],
    source: &Digest,
    platforms: &[Platform],
) -> Result<Option<Vec<u8>>> {
    if platforms.is_empty() {
        return Ok(None);
    }
    let mut index: Value = serde_json::from_slice(bytes)
        .map_err(|error| Error::InvalidRequest(format!("index {source}: {error}")))?;
    let Some(children) = index.get_mut("manifests").and_then(Value::as_array_mut) else {
        return Ok(None);
    };
    let before = children.len();
    children.retain(|child| {
        child
            .get("platform")
            .is_some_and(|platform| platforms.iter().any(|wanted| wanted.matches(platform)))
    });
    if children.len() == before {
        return Ok(None);
    }
    if children.is_empty() {
        let wanted: Vec<String> = platforms.iter().map(ToString::to_string).collect();
        return Err(Error::InvalidRequest(format!(
            "index {source} has no manifest for {}",
            wanted.join(", ")
        )));
    }
    let annotations = index
        .as_object_mut()
        .expect("an index with manifests is an object")
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(SOURCE_DIGEST_ANNOTATION.into(), source.to_string().into());
    }
    Ok(Some(serde_json::to_vec(&index).unwrap_or_default()))
}

/// The upstream digest a stored manifest came from: its [`SOURCE_DIGEST_ANNOTATION`] when a
/// platform filter made it, else its own digest.
pub fn source_digest(bytes: &[u8], own: &Digest) -> Digest {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|manifest| {
            manifest["annotations"][SOURCE_DIGEST_ANNOTATION]
                .as_str()
                .and_then(|digest| Digest::parse(digest).ok())
        })
        .unwrap_or_else(|| own.clone())
}

#[cfg(test)]
mod tests;
