//! How a notification delivers (`method`), and the checks on its `config` when it is saved.

use serde_json::Value;

use super::template::Template;
use crate::error::{Error, Result};
use crate::names::Namespace;

/// A delivery method, by Quay's names (and `teams`, a Microsoft Teams message card).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// In-app notifications for a user, an organization's admins or a team.
    QuayNotification,
    /// Mail to a confirmed address.
    Email,
    /// An HTTP POST of the event data, Quay's body or a template, or a CloudEvent.
    Webhook,
    /// A Slack incoming webhook.
    Slack,
    /// A Microsoft Teams incoming webhook.
    Teams,
}

/// The body format of a webhook (`config.format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    /// The event data, or the rendered template: what Quay sends.
    Quay,
    /// A CloudEvents 1.0 structured-mode envelope around the event data.
    CloudEvents,
}

/// Who receives a `quay_notification` (`config.target`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One user.
    User(String),
    /// The admins of an organization (the repository's own).
    Organization(String),
    /// The members of a team of the repository's organization.
    Team(String),
}

/// A method's config, checked.
#[derive(Clone, Debug)]
pub enum MethodConfig {
    /// In-app notifications for `target`.
    QuayNotification {
        /// Who is told.
        target: Target,
    },
    /// Mail to `address`.
    Email {
        /// The recipient.
        address: String,
    },
    /// A POST to `url`.
    Webhook {
        /// Where to.
        url: String,
        /// Quay's body or a CloudEvent.
        format: BodyFormat,
        /// The body's own shape, if one was given.
        template: Option<Template>,
    },
    /// A Slack message to `url`.
    Slack {
        /// The incoming webhook.
        url: String,
    },
    /// A Teams message card to `url`.
    Teams {
        /// The incoming webhook.
        url: String,
    },
}

impl MethodKind {
    /// Every method.
    pub const ALL: [MethodKind; 5] = [
        MethodKind::QuayNotification,
        MethodKind::Email,
        MethodKind::Webhook,
        MethodKind::Slack,
        MethodKind::Teams,
    ];

    /// The method's name in the API.
    pub fn name(self) -> &'static str {
        match self {
            MethodKind::QuayNotification => "quay_notification",
            MethodKind::Email => "email",
            MethodKind::Webhook => "webhook",
            MethodKind::Slack => "slack",
            MethodKind::Teams => "teams",
        }
    }

    /// The method named `name`, or an error listing the methods there are.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|method| method.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|method| method.name()).collect();
                Error::InvalidRequest(format!(
                    "unknown notification method `{name}`; methods: {}",
                    known.join(", ")
                ))
            })
    }

    /// `config` checked for this method, for a notification of `namespace`'s.
    pub fn config(self, config: &Value, namespace: &Namespace) -> Result<MethodConfig> {
        let text = |key: &str| -> Option<&str> {
            config
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        match self {
            MethodKind::QuayNotification => Ok(MethodConfig::QuayNotification {
                target: target(config.get("target"), namespace)?,
            }),
            MethodKind::Email => {
                let address = text("email")
                    .ok_or_else(|| invalid("Missing e-mail address: set config.email"))?;
                if !looks_like_address(address) {
                    return Err(invalid(&format!("`{address}` is not an e-mail address")));
                }
                Ok(MethodConfig::Email {
                    address: address.to_string(),
                })
            }
            MethodKind::Webhook => {
                let url = web_url(text("url"), "Missing webhook URL: set config.url")?;
                let format = match text("format") {
                    None | Some("quay") => BodyFormat::Quay,
                    Some("cloudevents") => BodyFormat::CloudEvents,
                    Some(other) => {
                        return Err(invalid(&format!(
                            "config.format `{other}` is neither `quay` nor `cloudevents`"
                        )));
                    }
                };
                let template = match config.get("template") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(text)) if text.trim().is_empty() => None,
                    Some(Value::String(text)) => Some(Template::parse(text)?),
                    Some(_) => {
                        return Err(invalid(
                            "config.template must be a JSON document given as a string",
                        ));
                    }
                };
                Ok(MethodConfig::Webhook {
                    url,
                    format,
                    template,
                })
            }
            MethodKind::Slack => Ok(MethodConfig::Slack {
                url: web_url(text("url"), "Missing Slack webhook URL: set config.url")?,
            }),
            MethodKind::Teams => Ok(MethodConfig::Teams {
                url: web_url(text("url"), "Missing Teams webhook URL: set config.url")?,
            }),
        }
    }
}

impl MethodConfig {
    /// The URL requests go to, for the methods that send to one.
    pub fn url(&self) -> Option<&str> {
        match self {
            MethodConfig::Webhook { url, .. }
            | MethodConfig::Slack { url }
            | MethodConfig::Teams { url } => Some(url),
            MethodConfig::QuayNotification { .. } | MethodConfig::Email { .. } => None,
        }
    }
}

fn invalid(message: &str) -> Error {
    Error::InvalidRequest(message.to_string())
}

/// An `http` or `https` URL with a host. Where it may point (no loopback or private
/// address) is decided where names are resolved, when it is saved and again when sent.
pub(crate) fn web_url(url: Option<&str>, missing: &str) -> Result<String> {
    let url = url.ok_or_else(|| invalid(missing))?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid(&format!("`{url}` is not an http or https URL")))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || url.chars().any(char::is_whitespace) {
        return Err(invalid(&format!(
            "`{url}` is not a URL this registry sends to: it needs a host, and no credentials \
             or spaces"
        )));
    }
    Ok(url.to_string())
}

/// Whether `address` reads like one e-mail address (an `@`, a dotted domain, no spaces or
/// commas); whether it exists, only a mail to it can tell.
pub(crate) fn looks_like_address(address: &str) -> bool {
    match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !address.chars().any(|c| c.is_whitespace() || c == ',')
        }
        None => false,
    }
}

fn target(target: Option<&Value>, namespace: &Namespace) -> Result<Target> {
    let missing = || invalid("Missing target: set config.target to {\"kind\", \"name\"}");
    let target = target.ok_or_else(missing)?;
    let name = target
        .get("name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .ok_or_else(missing)?
        .to_string();
    match target.get("kind").and_then(Value::as_str) {
        Some("user") => Ok(Target::User(name)),
        Some("org") if name == namespace.as_str() => Ok(Target::Organization(name)),
        Some("org") => Err(invalid(&format!(
            "the target organization must be the repository's own, `{}`",
            namespace.as_str()
        ))),
        Some("team") => Ok(Target::Team(name)),
        _ => Err(invalid(
            "config.target.kind must be `user`, `org` or `team`",
        )),
    }
}
