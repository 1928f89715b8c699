use serde_json::json;

use super::delivery::{AfterAttempt, Next, Outcome, RetryPolicy, enabled};
use super::filter::TagFilter;
use super::method::{BodyFormat, MethodConfig, MethodKind, Target};
use super::signature::{secret_from_key, sign};
use super::template::Template;
use super::*;
use crate::Error;
use crate::account::NamespaceKind;

fn site() -> Site {
    Site {
        hostname: "quay.example.com".into(),
        scheme: "https".into(),
    }
}

fn repository() -> RepositoryPath {
    RepositoryPath::parse("ns/repo").unwrap()
}

fn tags(names: &[&str]) -> Vec<TagName> {
    names
        .iter()
        .map(|name| TagName::parse(name).unwrap())
        .collect()
}

fn message(error: Error) -> String {
    match error {
        Error::InvalidRequest(message) => message,
        other => panic!("not an invalid request: {other:?}"),
    }
}

#[test]
fn a_push_carries_quays_body_exactly() {
    let event = Event::repo_push(&site(), &repository(), &tags(&["latest"]));
    assert_eq!(event.kind, EventKind::RepoPush);
    assert_eq!(
        event.data,
        json!({"repository": "ns/repo", "namespace": "ns", "name": "repo",
               "docker_url": "quay.example.com/ns/repo",
               "homepage": "https://quay.example.com/repository/ns/repo",
               "updated_tags": ["latest"]})
    );
    assert_eq!(event.tags(), ["latest"]);
    assert_eq!(event.summary(), "Repository ns/repo updated: latest");
}

#[test]
fn samples_are_the_events_with_sample_values() {
    let namespace = repository().namespace;
    let push = Event::sample(
        EventKind::RepoPush,
        &site(),
        Some(&repository()),
        &namespace,
        NamespaceKind::Organization,
    );
    assert_eq!(push.data["updated_tags"], json!(["latest"]));
    assert_eq!(push.data["pruned_image_count"], json!(3));

    let expiry = Event::sample(
        EventKind::RepoImageExpiry,
        &site(),
        Some(&repository()),
        &namespace,
        NamespaceKind::Organization,
    );
    assert_eq!(expiry.data["tags"], json!(["latest", "v1"]));
    assert_eq!(expiry.data["expiring_in"], json!("1 days"));

    let quota = Event::sample(
        EventKind::QuotaError,
        &site(),
        None,
        &namespace,
        NamespaceKind::User,
    );
    assert_eq!(quota.kind, EventKind::QuotaError);
    assert_eq!(
        quota.data,
        json!({"namespace": "ns", "homepage": "https://quay.example.com/user/ns",
               "threshold_percent": 80, "usage_bytes": 85u64 << 30,
               "limit_bytes": 100u64 << 30, "usage_percent": 85.0,
               "usage_bytes_formatted": "85.0 GiB", "limit_bytes_formatted": "100.0 GiB"})
    );
    assert!(quota.tags().is_empty());
}

#[test]
fn every_kind_has_one_name_and_its_scope() {
    for kind in EventKind::ALL {
        assert_eq!(EventKind::parse(kind.name()), Some(kind));
        let namespace_event = matches!(kind, EventKind::QuotaWarning | EventKind::QuotaError);
        assert_eq!(kind.scope() == EventScope::Namespace, namespace_event);
    }
    assert_eq!(EventKind::parse("build_success"), None);
}

#[test]
fn a_tag_filter_passes_events_with_a_matching_tag() {
    assert!(
        TagFilter::new([]).unwrap().is_none(),
        "no patterns: no filter"
    );
    let filter = TagFilter::new(["v1.*", "release-[0-9]", "{prod,stage}"])
        .unwrap()
        .unwrap();
    for (tags, passes) in [
        (vec!["v1.2"], true),
        (vec!["v2.0", "release-3"], true),
        (vec!["prod"], true),
        (vec!["latest", "release-10"], false),
        (vec![], false),
    ] {
        assert_eq!(filter.passes(tags.clone()), passes, "{tags:?}");
    }
    assert!(message(TagFilter::new(["v1.[*"]).unwrap_err()).contains("`v1.[*` is not a glob"));
    assert!(message(TagFilter::new([" "]).unwrap_err()).contains("may not be empty"));
}

#[test]
fn a_template_takes_values_and_writes_text() {
    let template = Template::parse(
        r#"{"text": "pushed ${updated_tags} to ${repository}",
            "tags": "${updated_tags}", "first": "${updated_tags[0]}",
            "gone": "${no_such_field}", "inside": "at ${missing}!",
            "nested": [{"n": "${name}"}, 7, true, null]}"#,
    )
    .unwrap();
    let data = json!({"repository": "ns/repo", "name": "repo",
                      "updated_tags": ["latest", "v1"]});
    assert_eq!(
        template.render(&data),
        json!({"text": "pushed latest, v1 to ns/repo", "tags": ["latest", "v1"],
               "first": "latest", "gone": "(none)", "inside": "at (none)!",
               "nested": [{"n": "repo"}, 7, true, null]})
    );
}

#[test]
fn a_template_is_checked_when_saved() {
    assert!(message(Template::parse("{not json").unwrap_err()).contains("not a JSON document"));
    assert!(
        message(Template::parse(r#"{"a": "${updated_tags"}"#).unwrap_err())
            .contains("without a closing")
    );
    assert!(
        message(Template::parse(r#"{"a": "${updated_tags[}"}"#).unwrap_err())
            .contains("is not a JSONPath")
    );
}

#[test]
fn signatures_match_the_standard_webhooks_test_vector() {
    let signed = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330,
        br#"{"test": 2432232314}"#,
    )
    .unwrap();
    assert_eq!(
        signed.signature,
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
    assert_eq!(signed.timestamp, "1614265330");
    assert_eq!(secret_from_key(&[0; 3]), "whsec_AAAA");
    assert_eq!(sign("not-a-secret", "id", 0, b""), None);
}

#[test]
fn retries_follow_quays_rules_for_every_small_case() {
    let policy = RetryPolicy::default();
    let now = 1_000;
    for attempt in 1..=6 {
        for failures in 0..=4 {
            assert_eq!(
                policy.after_attempt(attempt, failures, Outcome::Delivered, now),
                AfterAttempt {
                    next: Next::Done,
                    failures: 0
                }
            );
            let after = policy.after_attempt(attempt, failures, Outcome::Failed, now);
            assert_eq!(after.failures, failures + 1);
            let expected = if failures + 1 >= 3 || attempt >= 5 {
                Next::GiveUp
            } else {
                Next::RetryAt(31_000)
            };
            assert_eq!(
                after.next, expected,
                "attempt {attempt}, failures {failures}"
            );
        }
    }
    assert!(enabled(2));
    assert!(!enabled(3));
}

#[test]
fn method_configs_are_checked_with_a_reason() {
    let namespace = repository().namespace;
    let config = |method: &str, config: serde_json::Value| {
        MethodKind::parse(method).and_then(|method| method.config(&config, &namespace))
    };

    let webhook = config(
        "webhook",
        json!({"url": "https://hooks.example.com/x", "format": "cloudevents"}),
    )
    .unwrap();
    assert!(matches!(
        webhook,
        MethodConfig::Webhook {
            format: BodyFormat::CloudEvents,
            template: None,
            ..
        }
    ));
    assert_eq!(webhook.url(), Some("https://hooks.example.com/x"));
    assert!(matches!(
        config(
            "quay_notification",
            json!({"target": {"kind": "org", "name": "ns"}})
        )
        .unwrap(),
        MethodConfig::QuayNotification {
            target: Target::Organization(_)
        }
    ));

    for (method, body, expected) in [
        (
            "carrier_pigeon",
            json!({}),
            "unknown notification method `carrier_pigeon`; methods: quay_notification, email, webhook, slack, teams",
        ),
        ("webhook", json!({}), "Missing webhook URL"),
        (
            "webhook",
            json!({"url": "ftp://example.com"}),
            "is not an http or https URL",
        ),
        (
            "webhook",
            json!({"url": "https://user:pw@example.com"}),
            "no credentials",
        ),
        (
            "webhook",
            json!({"url": "https://x.example", "format": "xml"}),
            "neither `quay` nor `cloudevents`",
        ),
        (
            "webhook",
            json!({"url": "https://x.example", "template": {"a": 1}}),
            "JSON document given as a string",
        ),
        (
            "webhook",
            json!({"url": "https://x.example", "template": "[1,"}),
            "not a JSON document",
        ),
        ("slack", json!({"url": ""}), "Missing Slack webhook URL"),
        ("teams", json!({}), "Missing Teams webhook URL"),
        ("email", json!({}), "Missing e-mail address"),
        (
            "email",
            json!({"email": "someone"}),
            "`someone` is not an e-mail address",
        ),
        ("quay_notification", json!({}), "Missing target"),
        (
            "quay_notification",
            json!({"target": {"kind": "org", "name": "other"}}),
            "the repository's own, `ns`",
        ),
        (
            "quay_notification",
            json!({"target": {"kind": "robot", "name": "x"}}),
            "must be `user`, `org` or `team`",
        ),
    ] {
        let refused = message(config(method, body).unwrap_err());
        assert!(refused.contains(expected), "{method}: {refused}");
    }
}
