//! Events, and the rules of the notifications that deliver them, without I/O.
//!
//! A change that someone outside the registry cares about (a tag pushed, a tag about to
//! expire, a quota threshold crossed) is an [`Event`]: a kind and the event data of Quay's
//! notifications, field for field. A notification says which events it wants, how to deliver
//! them ([`method`]) and, optionally, for which tags ([`filter`]): an
//! [`notification::EventNotification`]. Delivering is the storage
//! and worker's business; what is decided here is what is sent:
//! - [`template`]: a webhook's own body, rendered from the event data;
//! - [`signature`]: the Standard Webhooks headers a receiver verifies;
//! - [`delivery`]: when a failed attempt is tried again, and when a notification is disabled.

pub mod delivery;
pub mod filter;
pub mod method;
pub mod notification;
pub mod signature;
pub mod template;

use serde_json::{Value, json};

use crate::account::NamespaceKind;
use crate::names::{Namespace, RepositoryPath, TagName};
use crate::quota::human_size;

/// What happened, as Quay names its notification events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Tags were pushed (`updated_tags`), one event per tag push.
    RepoPush,
    /// Tags expire within the days the notification names.
    RepoImageExpiry,
    /// A namespace's usage crossed a warning threshold of its quota.
    QuotaWarning,
    /// A namespace's usage reached a rejecting threshold of its quota.
    QuotaError,
    /// A repository mirror's sync began.
    RepoMirrorSyncStarted,
    /// A repository mirror's sync brought every tag in step.
    RepoMirrorSyncSuccess,
    /// A repository mirror's sync failed, wholly or for some tags.
    RepoMirrorSyncFailed,
}

/// What an event is about: repository events come from repository notifications, namespace
/// events (quota) from namespace notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventScope {
    /// A repository's event.
    Repository,
    /// An organization's or a user's event.
    Namespace,
}

/// How much an event matters; Slack and Teams colour their messages by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Routine.
    Info,
    /// What a repository is for (a push).
    Primary,
    /// Something to look at.
    Warning,
    /// Something failed or is refused.
    Error,
}

impl EventKind {
    /// Every kind this registry emits.
    pub const ALL: [EventKind; 7] = [
        EventKind::RepoPush,
        EventKind::RepoImageExpiry,
        EventKind::QuotaWarning,
        EventKind::QuotaError,
        EventKind::RepoMirrorSyncStarted,
        EventKind::RepoMirrorSyncSuccess,
        EventKind::RepoMirrorSyncFailed,
    ];

    /// The kind's name in the API and in the event data's envelope.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::RepoPush => "repo_push",
            EventKind::RepoImageExpiry => "repo_image_expiry",
            EventKind::QuotaWarning => "quota_warning",
            EventKind::QuotaError => "quota_error",
            EventKind::RepoMirrorSyncStarted => "repo_mirror_sync_started",
            EventKind::RepoMirrorSyncSuccess => "repo_mirror_sync_success",
            EventKind::RepoMirrorSyncFailed => "repo_mirror_sync_failed",
        }
    }

    /// The kind named `name`, if this registry emits it.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Whether repository or namespace notifications deliver it.
    pub fn scope(self) -> EventScope {
        match self {
            EventKind::RepoPush
            | EventKind::RepoImageExpiry
            | EventKind::RepoMirrorSyncStarted
            | EventKind::RepoMirrorSyncSuccess
            | EventKind::RepoMirrorSyncFailed => EventScope::Repository,
            EventKind::QuotaWarning | EventKind::QuotaError => EventScope::Namespace,
        }
    }

    /// How much it matters.
    pub fn level(self) -> Level {
        match self {
            EventKind::RepoPush | EventKind::RepoMirrorSyncSuccess => Level::Primary,
            EventKind::RepoImageExpiry | EventKind::RepoMirrorSyncStarted => Level::Info,
            EventKind::QuotaWarning => Level::Warning,
            EventKind::QuotaError | EventKind::RepoMirrorSyncFailed => Level::Error,
        }
    }
}

/// Where the registry is reached, for the links in event data (`SERVER_HOSTNAME`,
/// `PREFERRED_URL_SCHEME`; `localhost:8080` over http).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// Host and port, as clients pull from it.
    pub hostname: String,
    /// `http` or `https`.
    pub scheme: String,
}

impl Default for Site {
    fn default() -> Self {
        Self {
            hostname: "localhost:8080".into(),
            scheme: "http".into(),
        }
    }
}

/// A namespace's usage against one threshold of its quota.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaUsage {
    /// The namespace.
    pub namespace: Namespace,
    /// An organization or a user.
    pub namespace_kind: NamespaceKind,
    /// The threshold crossed, in percent of the limit.
    pub threshold_percent: u32,
    /// Bytes in use.
    pub usage_bytes: u64,
    /// The quota's limit in bytes.
    pub limit_bytes: u64,
}

/// Something that happened, with the data its notifications carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// Quay's event data: the webhook body, the template's input.
    pub data: Value,
}

impl Event {
    /// Tags pushed to `repository`.
    pub fn repo_push(site: &Site, repository: &RepositoryPath, tags: &[TagName]) -> Self {
        let mut data = repository_data(site, repository);
        data["updated_tags"] = tags.iter().map(|tag| tag.as_str()).collect();
        Self {
            kind: EventKind::RepoPush,
            data,
        }
    }

    /// `tags` of `repository` expire within `days` days.
    pub fn repo_image_expiry(
        site: &Site,
        repository: &RepositoryPath,
        tags: &[TagName],
        days: u32,
    ) -> Self {
        let mut data = repository_data(site, repository);
        data["tags"] = tags.iter().map(|tag| tag.as_str()).collect();
        data["expiring_in"] = format!("{days} days").into();
        Self {
            kind: EventKind::RepoImageExpiry,
            data,
        }
    }

    /// A mirror sync's start or end (`kind` is one of the `repo_mirror_sync_*`), with
    /// Quay's `message`.
    pub fn mirror_sync(
        kind: EventKind,
        site: &Site,
        repository: &RepositoryPath,
        message: &str,
    ) -> Self {
        let mut data = repository_data(site, repository);
        data["message"] = message.into();
        Self { kind, data }
    }

    /// A quota threshold crossed: `quota_warning` for a warning threshold, `quota_error` for a
    /// rejecting one.
    pub fn quota(site: &Site, usage: &QuotaUsage, rejecting: bool) -> Self {
        let homepage = match usage.namespace_kind {
            NamespaceKind::Organization => "organization",
            NamespaceKind::User => "user",
        };
        let usage_percent = if usage.limit_bytes == 0 {
            0.0
        } else {
            usage.usage_bytes as f64 * 100.0 / usage.limit_bytes as f64
        };
        Self {
            kind: if rejecting {
                EventKind::QuotaError
            } else {
                EventKind::QuotaWarning
            },
            data: json!({
                "namespace": usage.namespace.as_str(),
                "homepage": format!("{}://{}/{homepage}/{}", site.scheme, site.hostname,
                                    usage.namespace.as_str()),
                "threshold_percent": usage.threshold_percent,
                "usage_bytes": usage.usage_bytes,
                "limit_bytes": usage.limit_bytes,
                "usage_percent": (usage_percent * 100.0).round() / 100.0,
                "usage_bytes_formatted": human_size(usage.usage_bytes),
                "limit_bytes_formatted": human_size(usage.limit_bytes),
            }),
        }
    }

    /// What a notification's `test` sends: the event as it would look for `repository`, or
    /// for `namespace` (namespace events), with sample values.
    pub fn sample(
        kind: EventKind,
        site: &Site,
        repository: Option<&RepositoryPath>,
        namespace: &Namespace,
        namespace_kind: NamespaceKind,
    ) -> Self {
        let sample_tags = |names: &[&str]| -> Vec<TagName> {
            names
                .iter()
                .filter_map(|name| TagName::parse(name).ok())
                .collect()
        };
        match (kind, repository) {
            (EventKind::RepoPush, Some(repository)) => {
                let mut event = Self::repo_push(site, repository, &sample_tags(&["latest"]));
                event.data["pruned_image_count"] = 3.into();
                event
            }
            (EventKind::RepoImageExpiry, Some(repository)) => {
                Self::repo_image_expiry(site, repository, &sample_tags(&["latest", "v1"]), 1)
            }
            (
                EventKind::RepoMirrorSyncStarted
                | EventKind::RepoMirrorSyncSuccess
                | EventKind::RepoMirrorSyncFailed,
                Some(repository),
            ) => Self::mirror_sync(kind, site, repository, "This is a test sync message"),
            _ => Self::quota(
                site,
                &QuotaUsage {
                    namespace: namespace.clone(),
                    namespace_kind,
                    threshold_percent: 80,
                    usage_bytes: 85 << 30,
                    limit_bytes: 100 << 30,
                },
                kind == EventKind::QuotaError,
            ),
        }
    }

    /// The tags the event is about, for a notification's tag filter; none for namespace
    /// events.
    pub fn tags(&self) -> Vec<&str> {
        let field = match self.kind {
            EventKind::RepoPush => "updated_tags",
            EventKind::RepoImageExpiry => "tags",
            EventKind::QuotaWarning
            | EventKind::QuotaError
            | EventKind::RepoMirrorSyncStarted
            | EventKind::RepoMirrorSyncSuccess
            | EventKind::RepoMirrorSyncFailed => return Vec::new(),
        };
        self.data[field]
            .as_array()
            .map(|tags| tags.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// One line for people: an email's subject, a chat message's text.
    pub fn summary(&self) -> String {
        let text = |field: &str| self.data[field].as_str().unwrap_or_default().to_string();
        match self.kind {
            EventKind::RepoPush => format!(
                "Repository {} updated: {}",
                text("repository"),
                self.tags().join(", ")
            ),
            EventKind::RepoImageExpiry => format!(
                "Tags of repository {} expire within {}: {}",
                text("repository"),
                text("expiring_in"),
                self.tags().join(", ")
            ),
            EventKind::RepoMirrorSyncStarted
            | EventKind::RepoMirrorSyncSuccess
            | EventKind::RepoMirrorSyncFailed => format!(
                "Mirror of repository {}: {}",
                text("repository"),
                text("message")
            ),
            EventKind::QuotaWarning | EventKind::QuotaError => format!(
                "Namespace {} uses {} of its {} quota ({}% threshold {})",
                text("namespace"),
                text("usage_bytes_formatted"),
                text("limit_bytes_formatted"),
                self.data["threshold_percent"],
                if self.kind == EventKind::QuotaError {
                    "reached: pushes are refused"
                } else {
                    "crossed"
                }
            ),
        }
    }
}

/// The fields every repository event starts with.
fn repository_data(site: &Site, repository: &RepositoryPath) -> Value {
    let path = format!(
        "{}/{}",
        repository.namespace.as_str(),
        repository.name.as_str()
    );
    json!({
        "repository": path,
        "namespace": repository.namespace.as_str(),
        "name": repository.name.as_str(),
        "docker_url": format!("{}/{path}", site.hostname),
        "homepage": format!("{}://{}/repository/{path}", site.scheme, site.hostname),
    })
}

#[cfg(test)]
mod tests;
