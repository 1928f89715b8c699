//! Event notifications: each stays in its namespace or repository, a reset and a delete
//! reach only their own scope's, and a notification reads back as it was saved. The outbox:
//! an event is written with the push that raised it or not at all, each claimed delivery
//! goes to one worker, and failures retry and then disable as Quay's do.

use crate::support::*;
use quay_core::audit::{Actor, LogKind};
use quay_core::events::EventScope;
use quay_core::events::delivery::{Next, RetryPolicy};
use quay_core::events::method::MethodKind;
use quay_core::events::notification::{EventNotification, NotificationRequest};
use quay_core::names::{Namespace, TagName};
use quay_core::ports::{AttemptRecord, ClaimedDelivery, EventOutbox as _};
use serde_json::json;

fn notification(uuid: &str, event: &str, scope: EventScope) -> EventNotification {
    notification_with(uuid, event, scope, json!({"tag_patterns": ["v*"]}))
}

/// [`notification`] with its `eventConfig`.
fn notification_with(
    uuid: &str,
    event: &str,
    scope: EventScope,
    event_config: serde_json::Value,
) -> EventNotification {
    EventNotification::new(
        uuid.into(),
        NotificationRequest {
            event: event.into(),
            method: "webhook".into(),
            config: json!({"url": "https://hooks.example.com/x"}),
            event_config,
            title: Some("to CI".into()),
        },
        scope,
        &Namespace::parse("ns").unwrap(),
    )
    .unwrap()
}

pub(crate) async fn notifications_stay_in_their_scope(h: &Harness) {
    push_image(&h.registry, &repo("ns/app"), "v1", b"{}", &[b"app"]).await;
    push_image(&h.registry, &repo("ns/tools"), "v1", b"{}", &[b"tools"]).await;
    let namespace = h
        .accounts
        .namespace(&Namespace::parse("ns").unwrap())
        .await
        .unwrap()
        .id;
    let repository = async |path: &str| {
        h.accounts
            .repository(&repo(path))
            .await
            .unwrap()
            .repository
            .id
    };
    let (app, tools) = (repository("ns/app").await, repository("ns/tools").await);
    let store = &h.metadata.event_notifications;
    let audit = || Actor::system().entry(LogKind::AddRepoNotification, 0);

    let on_push = notification("on-push", "repo_push", EventScope::Repository);
    let on_quota = notification("on-quota", "quota_warning", EventScope::Namespace);
    store
        .add_event_notification(namespace, Some(app), &on_push, None, audit())
        .await
        .unwrap();
    store
        .add_event_notification(namespace, None, &on_quota, None, audit())
        .await
        .unwrap();

    let listed = |repository| async move {
        store
            .event_notifications(namespace, repository)
            .await
            .unwrap()
    };
    assert_eq!(listed(Some(app)).await, std::slice::from_ref(&on_push));
    assert_eq!(listed(None).await, std::slice::from_ref(&on_quota));
    assert!(listed(Some(tools)).await.is_empty());

    // Another scope's uuid is not found; the right scope's is.
    for (repository, uuid, found) in [
        (Some(tools), "on-push", false),
        (None, "on-push", false),
        (Some(app), "on-quota", false),
        (Some(app), "on-push", true),
        (None, "on-quota", true),
    ] {
        let reset = store
            .reset_event_notification(namespace, repository, uuid, audit())
            .await
            .unwrap();
        assert_eq!(reset, found, "reset {uuid} in {repository:?}");
    }
    assert!(
        !store
            .delete_event_notification(namespace, Some(tools), "on-push", audit())
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_event_notification(namespace, Some(app), "on-push", audit())
            .await
            .unwrap()
    );
    assert!(listed(Some(app)).await.is_empty());
    assert_eq!(listed(None).await, [on_quota]);
}

/// The node's clock, now.
fn now(h: &Harness) -> i64 {
    use quay_core::clock::Clock as _;
    h.clock.now_ms()
}

async fn add(h: &Harness, repository: &str, uuid: &str, event_config: serde_json::Value) {
    add_for(h, repository, uuid, "repo_push", event_config).await;
}

/// [`add`] for notifications of `event`.
async fn add_for(
    h: &Harness,
    repository: &str,
    uuid: &str,
    event: &str,
    event_config: serde_json::Value,
) {
    let namespace = h
        .accounts
        .namespace(&Namespace::parse("ns").unwrap())
        .await
        .unwrap()
        .id;
    let id = h
        .accounts
        .repository(&repo(repository))
        .await
        .unwrap()
        .repository
        .id;
    let notification = notification_with(uuid, event, EventScope::Repository, event_config);
    h.metadata
        .event_notifications
        .add_event_notification(
            namespace,
            Some(id),
            &notification,
            Some(&format!("sealed key of {uuid}")),
            Actor::system().entry(LogKind::AddRepoNotification, 0),
        )
        .await
        .unwrap();
}

/// The notification uuids of `deliveries`, sorted.
fn for_whom(deliveries: &[ClaimedDelivery]) -> Vec<&str> {
    let mut uuids: Vec<&str> = deliveries
        .iter()
        .map(|delivery| delivery.notification.uuid.as_str())
        .collect();
    uuids.sort_unstable();
    uuids
}

fn attempt(h: &Harness, status: u16) -> AttemptRecord {
    AttemptRecord {
        started_ms: now(h),
        duration_ms: 5,
        status_code: Some(status),
        error: (status >= 300).then(|| format!("the receiver answered {status}")),
    }
}

pub(crate) async fn a_push_writes_its_event_with_the_change(h: &Harness) {
    push_image(&h.registry, &repo("ns/app"), "v0", b"{}", &[b"app"]).await;
    push_image(&h.registry, &repo("ns/tools"), "v0", b"{}", &[b"tools"]).await;
    add(h, "ns/app", "releases", json!({"tag_patterns": ["v*"]})).await;
    add(h, "ns/app", "every-push", json!({})).await;
    add(h, "ns/tools", "tools-only", json!({})).await;
    let outbox = &h.metadata.event_outbox;
    const LEASE: i64 = 30_000;

    push_image(&h.registry, &repo("ns/app"), "v1", b"{}", &[b"app"]).await;
    let by_mail = outbox.claim_deliveries(now(h), LEASE, 10, &[MethodKind::Email]);
    assert!(
        by_mail.await.unwrap().is_empty(),
        "only the methods asked for"
    );
    let claimed = outbox
        .claim_deliveries(now(h), LEASE, 10, &MethodKind::ALL)
        .await
        .unwrap();
    assert_eq!(for_whom(&claimed), ["every-push", "releases"]);
    assert_eq!(
        claimed[0].event_id, claimed[1].event_id,
        "one event, two deliveries"
    );
    assert_eq!(claimed[0].event.data["updated_tags"], json!(["v1"]));
    assert_eq!(claimed[0].event.data["repository"], "ns/app");
    assert!(claimed.iter().all(|delivery| delivery.attempt == 1));
    for delivery in &claimed {
        let sealed = format!("sealed key of {}", delivery.notification.uuid);
        assert_eq!(delivery.signing_secret.as_deref(), Some(sealed.as_str()));
    }

    // The tag filter keeps `latest` from the releases notification.
    push_image(&h.registry, &repo("ns/app"), "latest", b"{}", &[b"app"]).await;
    let latest = outbox
        .claim_deliveries(now(h), LEASE, 10, &MethodKind::ALL)
        .await
        .unwrap();
    assert_eq!(for_whom(&latest), ["every-push"]);
    assert_eq!(latest[0].event.data["updated_tags"], json!(["latest"]));

    // A push that fails leaves no event: it rolled back with everything else.
    let missing_layer = image_manifest(b"{}", &[b"never uploaded"], "");
    h.registry
        .put_manifest(
            &repo("ns/app"),
            &tag("v9"),
            Some(OCI_MANIFEST),
            missing_layer,
            &ANYONE,
        )
        .await
        .unwrap_err();
    assert!(
        outbox
            .claim_deliveries(now(h), LEASE, 10, &MethodKind::ALL)
            .await
            .unwrap()
            .is_empty()
    );

    // A claim lasts its lease; a worker that died leaves the delivery to the next one.
    h.clock.advance_ms(LEASE + 1);
    let again = outbox
        .claim_deliveries(now(h), LEASE, 10, &MethodKind::ALL)
        .await
        .unwrap();
    assert_eq!(again.len(), 3);
    assert!(again.iter().all(|delivery| delivery.attempt == 2));

    // Delivered is done; a failure is due again after the policy's wait.
    let policy = RetryPolicy {
        retry_after_ms: 1_000,
        max_attempts: 5,
    };
    for delivery in &again {
        let status = if delivery.notification.uuid == "releases" {
            500
        } else {
            200
        };
        let next = outbox
            .finish_delivery(delivery, &attempt(h, status), &policy)
            .await
            .unwrap();
        let expected = if status == 200 {
            Next::Done
        } else {
            Next::RetryAt(now(h) + 5 + 1_000)
        };
        assert_eq!(next, expected, "{}", delivery.notification.uuid);
    }
    h.clock.advance_ms(LEASE + 1);
    let retried = outbox
        .claim_deliveries(now(h), LEASE, 10, &MethodKind::ALL)
        .await
        .unwrap();
    assert_eq!(for_whom(&retried), ["releases"]);
    assert_eq!(retried[0].attempt, 3);
}

pub(crate) async fn three_failures_disable_a_notification_until_reset(h: &Harness) {
    push_image(&h.registry, &repo("ns/app"), "v0", b"{}", &[b"app"]).await;
    add(h, "ns/app", "flaky", json!({})).await;
    let outbox = &h.metadata.event_outbox;
    let policy = RetryPolicy {
        retry_after_ms: 0,
        max_attempts: 5,
    };
    for tag_name in ["v1", "v2", "v3", "v4"] {
        push_image(&h.registry, &repo("ns/app"), tag_name, b"{}", &[b"app"]).await;
    }
    // Two workers claiming at once share the four deliveries, none twice.
    let (first, second) = tokio::join!(
        outbox.claim_deliveries(now(h), 30_000, 2, &MethodKind::ALL),
        h.directory
            .claim_deliveries(now(h), 30_000, 2, &MethodKind::ALL)
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    let mut ids: Vec<i64> = first.iter().chain(&second).map(|d| d.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4, "{first:?} {second:?}");

    let mut deliveries = first.into_iter().chain(second);
    for _ in 0..3 {
        let delivery = deliveries.next().unwrap();
        outbox
            .finish_delivery(&delivery, &attempt(h, 503), &policy)
            .await
            .unwrap();
    }
    let listed = h
        .metadata
        .event_notifications
        .event_notifications(
            h.accounts
                .namespace(&Namespace::parse("ns").unwrap())
                .await
                .unwrap()
                .id,
            Some(
                h.accounts
                    .repository(&repo("ns/app"))
                    .await
                    .unwrap()
                    .repository
                    .id,
            ),
        )
        .await
        .unwrap();
    assert_eq!(listed[0].number_of_failures, 3);
    // Disabled: what was queued is dropped, and new pushes queue nothing.
    h.clock.advance_ms(60_000);
    push_image(&h.registry, &repo("ns/app"), "v5", b"{}", &[b"app"]).await;
    assert!(
        outbox
            .claim_deliveries(now(h), 30_000, 10, &MethodKind::ALL)
            .await
            .unwrap()
            .is_empty()
    );
    // The fourth delivery, claimed before, still finishes; it is given up.
    let last = deliveries.next().unwrap();
    assert_eq!(
        outbox
            .finish_delivery(&last, &attempt(h, 503), &policy)
            .await
            .unwrap(),
        Next::GiveUp
    );
}

pub(crate) async fn two_scans_tell_each_expiring_tag_once(h: &Harness) {
    const DAY_MS: i64 = 24 * 3_600_000;
    for tag_name in ["soon", "later", "never"] {
        push_image(&h.registry, &repo("ns/app"), tag_name, b"{}", &[b"app"]).await;
    }
    add_for(
        h,
        "ns/app",
        "expiry",
        "repo_image_expiry",
        json!({"days": 2}),
    )
    .await;
    let expire = async |tag_name: &str, at_ms: i64| {
        h.registry
            .change_tag_expiration(
                &repo("ns/app"),
                &TagName::parse(tag_name).unwrap(),
                Some(at_ms),
                &NOBODY,
            )
            .await
            .unwrap();
    };
    expire("soon", now(h) + DAY_MS).await;
    expire("later", now(h) + 5 * DAY_MS).await;
    let site = quay_core::events::Site::default();
    let (first, second) = tokio::join!(
        h.metadata.event_outbox.emit_expiring_tags(&site, now(h)),
        h.directory.emit_expiring_tags(&site, now(h))
    );
    assert_eq!(
        first.unwrap() + second.unwrap(),
        1,
        "one event between them"
    );
    let claimed = h
        .metadata
        .event_outbox
        .claim_deliveries(now(h), 30_000, 10, &MethodKind::ALL)
        .await
        .unwrap();
    assert_eq!(for_whom(&claimed), ["expiry"]);
    assert_eq!(claimed[0].event.data["tags"], json!(["soon"]));
    assert_eq!(claimed[0].event.data["expiring_in"], "2 days");

    // Told once; `later` is told when it comes within the two days.
    let outbox = &h.metadata.event_outbox;
    assert_eq!(outbox.emit_expiring_tags(&site, now(h)).await.unwrap(), 0);
    assert_eq!(
        outbox
            .emit_expiring_tags(&site, now(h) + 4 * DAY_MS)
            .await
            .unwrap(),
        1
    );
}
