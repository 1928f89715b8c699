//! A notification as saved: which event, which method, for which tags, and how it fares.

use serde_json::{Map, Value};

use super::filter::TagFilter;
use super::method::MethodKind;
use super::{EventKind, EventScope};
use crate::error::{Error, Result};
use crate::names::Namespace;

/// A notification of a repository or a namespace (Quay's `RepositoryNotification`).
#[derive(Clone, Debug, PartialEq)]
pub struct EventNotification {
    /// Its public id.
    pub uuid: String,
    /// What people call it, if anything.
    pub title: Option<String>,
    /// The event it delivers.
    pub event: EventKind,
    /// How.
    pub method: MethodKind,
    /// The method's settings, as given and checked.
    pub config: Value,
    /// The event's settings (`days` of `repo_image_expiry`, `tag_patterns`), as given and
    /// checked.
    pub event_config: Value,
    /// Failed deliveries since the last success or reset.
    pub number_of_failures: u32,
}

/// A notification as a caller asks for it, before it is checked.
#[derive(Clone, Debug, Default)]
pub struct NotificationRequest {
    /// The event's name.
    pub event: String,
    /// The method's name.
    pub method: String,
    /// The method's settings.
    pub config: Value,
    /// The event's settings.
    pub event_config: Value,
    /// An optional title.
    pub title: Option<String>,
}

impl EventNotification {
    /// The notification `request` asks for, as `uuid`, for a repository or a namespace
    /// (`scope`) of `namespace`; refused with the reason when something in it is wrong.
    pub fn new(
        uuid: String,
        request: NotificationRequest,
        scope: EventScope,
        namespace: &Namespace,
    ) -> Result<Self> {
        let event = EventKind::parse(&request.event)
            .filter(|event| event.scope() == scope)
            .ok_or_else(|| {
                let known: Vec<&str> = EventKind::ALL
                    .iter()
                    .filter(|event| event.scope() == scope)
                    .map(|event| event.name())
                    .collect();
                let whose = match scope {
                    EventScope::Repository => "a repository",
                    EventScope::Namespace => "a namespace",
                };
                Error::InvalidRequest(format!(
                    "unknown event `{}` for {whose} notification; events: {}",
                    request.event,
                    known.join(", ")
                ))
            })?;
        let method = MethodKind::parse(&request.method)?;
        if !request.config.is_object() {
            return Err(Error::InvalidRequest("config must be an object".into()));
        }
        method.config(&request.config, namespace)?;
        let event_config = match request.event_config {
            Value::Null => Value::Object(Map::new()),
            config @ Value::Object(_) => config,
            _ => {
                return Err(Error::InvalidRequest(
                    "eventConfig must be an object".into(),
                ));
            }
        };
        let notification = Self {
            uuid,
            title: request
                .title
                .map(|title| title.trim().to_string())
                .filter(|title| !title.is_empty()),
            event,
            method,
            config: request.config,
            event_config,
            number_of_failures: 0,
        };
        notification.tag_filter()?;
        if event == EventKind::RepoImageExpiry {
            notification.expiry_days()?;
        }
        Ok(notification)
    }

    /// The tag filter of `eventConfig.tag_patterns`, if it has one.
    pub fn tag_filter(&self) -> Result<Option<TagFilter>> {
        TagFilter::of_config(&self.event_config)
    }

    /// `eventConfig.days` of a `repo_image_expiry` notification: how long before expiry it
    /// tells.
    pub fn expiry_days(&self) -> Result<u32> {
        self.event_config
            .get("days")
            .and_then(Value::as_u64)
            .and_then(|days| u32::try_from(days).ok())
            .filter(|days| *days > 0)
            .ok_or_else(|| {
                Error::InvalidRequest(
                    "repo_image_expiry needs eventConfig.days, a whole number of days above 0"
                        .into(),
                )
            })
    }
}
