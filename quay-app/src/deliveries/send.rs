//! Sending one delivery over HTTP: a webhook (Quay's body, a template's, or a CloudEvent),
//! a Slack message or a Teams message card, each request with the event's id and time in
//! Standard Webhooks headers.

use std::time::Duration;

use quay_core::events::method::{BodyFormat, MethodConfig};
use quay_core::events::signature::sign;
use quay_core::events::{Event, Level};
use quay_core::ports::ClaimedDelivery;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::outbound::OutboundPolicy;

/// Sends deliveries over HTTP, where the outbound policy allows, without following
/// redirects (a redirect could lead anywhere), within a timeout.
pub(crate) struct HttpSender {
    client: reqwest::Client,
    policy: OutboundPolicy,
}

impl HttpSender {
    /// A sender for `policy` whose requests give up after `timeout`
    /// (`NOTIFICATION_SEND_TIMEOUT`).
    pub(crate) fn new(policy: OutboundPolicy, timeout: Duration) -> Result<Self, AppError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .dns_resolver(policy.resolver())
            .user_agent(concat!(
                "quay-rs/",
                env!("CARGO_PKG_VERSION"),
                " notifications"
            ))
            .build()
            .map_err(|error| AppError::Request(error.to_string()))?;
        Ok(Self { client, policy })
    }

    /// Posts `delivery` as `method` says, at `now_s`, signed with `signing_secret` (shown
    /// form) if it has one; the receiver's status when it took it.
    pub(crate) async fn send(
        &self,
        delivery: &ClaimedDelivery,
        method: &MethodConfig,
        now_s: i64,
        signing_secret: Option<&str>,
    ) -> Result<u16, AppError> {
        let url = method
            .url()
            .ok_or_else(|| AppError::Unavailable("not an HTTP method".into()))?;
        let body = serde_json::to_vec(&body(delivery, method))
            .map_err(|error| AppError::Request(error.to_string()))?;
        let mut request = self
            .post_to(url)?
            .header(reqwest::header::CONTENT_TYPE, content_type(method))
            .header("webhook-id", &delivery.event_id)
            .header("webhook-timestamp", now_s.to_string());
        if let Some(secret) = signing_secret {
            let signed = sign(secret, &delivery.event_id, now_s, &body).ok_or_else(|| {
                AppError::Unavailable("the notification's signing key is not one of ours".into())
            })?;
            request = request.header("webhook-signature", signed.signature);
        }
        answer(request.body(body)).await
    }

    /// Posts `body` as JSON to `url`; the receiver's status when it took it.
    pub(crate) async fn post_json(&self, url: &str, body: &Value) -> Result<u16, AppError> {
        answer(self.post_to(url)?.json(body)).await
    }

    /// A POST to `url`, once the outbound policy allows it.
    fn post_to(&self, url: &str) -> Result<reqwest::RequestBuilder, AppError> {
        let url = reqwest::Url::parse(url)
            .map_err(|error| AppError::NotWebUrl(format!("it does not parse ({error})")))?;
        self.policy.check_url(&url)?;
        Ok(self.client.post(url))
    }
}

/// Sends `request`; the receiver's status if it is a success.
async fn answer(request: reqwest::RequestBuilder) -> Result<u16, AppError> {
    let response = request
        .send()
        .await
        .map_err(|error| AppError::Request(request_error(error)))?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        Ok(status)
    } else {
        Err(AppError::Status(status))
    }
}

/// What went wrong with a request, without its URL (a Slack or Teams URL is a credential).
fn request_error(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn content_type(method: &MethodConfig) -> &'static str {
    match method {
        MethodConfig::Webhook {
            format: BodyFormat::CloudEvents,
            ..
        } => "application/cloudevents+json",
        _ => "application/json",
    }
}

/// The request body for `delivery` by `method`.
pub(crate) fn body(delivery: &ClaimedDelivery, method: &MethodConfig) -> Value {
    let event = &delivery.event;
    match method {
        MethodConfig::Webhook {
            format: BodyFormat::CloudEvents,
            ..
        } => cloud_event(delivery),
        MethodConfig::Webhook {
            template: Some(template),
            ..
        } => template.render(&event.data),
        MethodConfig::Webhook { .. } => event.data.clone(),
        MethodConfig::Slack { .. } => slack_message(event),
        MethodConfig::Teams { .. } => teams_card(event),
        MethodConfig::QuayNotification { .. } | MethodConfig::Email { .. } => Value::Null,
    }
}

/// A CloudEvents 1.0 structured-mode event around the event data.
fn cloud_event(delivery: &ClaimedDelivery) -> Value {
    let event = &delivery.event;
    let time = jiff::Timestamp::from_millisecond(delivery.created_ms)
        .map(|time| time.to_string())
        .unwrap_or_default();
    json!({
        "specversion": "1.0",
        "id": delivery.event_id,
        "source": event.data["homepage"],
        "type": format!("io.quay.{}", event.kind.name()),
        "subject": event.data.get("repository").or_else(|| event.data.get("namespace")),
        "time": time,
        "datacontenttype": "application/json",
        "data": event.data,
    })
}

/// Quay's Slack message: the summary, coloured by the event's level.
fn slack_message(event: &Event) -> Value {
    let summary = event.summary();
    let color = match event.kind.level() {
        Level::Info => "#ffffff",
        Level::Warning => "warning",
        Level::Error => "danger",
        Level::Primary => "good",
    };
    json!({
        "text": summary,
        "username": "quayiobot",
        "attachments": [{
            "fallback": summary,
            "text": summary,
            "color": color,
            "mrkdwn_in": ["text"],
        }],
    })
}

/// A Microsoft Teams message card: the summary, the event's facts and a link.
fn teams_card(event: &Event) -> Value {
    let summary = event.summary();
    let color = match event.kind.level() {
        Level::Info => "808080",
        Level::Warning => "FFA500",
        Level::Error => "D00000",
        Level::Primary => "2EB886",
    };
    let facts: Vec<Value> = event
        .data
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| !matches!(name.as_str(), "homepage" | "docker_url"))
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Array(items) => items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_string)
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            json!({"name": name, "value": text})
        })
        .collect();
    json!({
        "@type": "MessageCard",
        "@context": "http://schema.org/extensions",
        "summary": summary,
        "themeColor": color,
        "title": summary,
        "sections": [{"activityTitle": event.kind.name(), "facts": facts}],
        "potentialAction": [{
            "@type": "OpenUri",
            "name": "Open in Quay",
            "targets": [{"os": "default", "uri": event.data["homepage"]}],
        }],
    })
}
