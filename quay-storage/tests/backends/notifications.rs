//! Event notifications: each stays in its namespace or repository, a reset and a delete
//! reach only their own scope's, and a notification reads back as it was saved.

use crate::support::*;
use quay_core::audit::{Actor, LogKind};
use quay_core::events::EventScope;
use quay_core::events::notification::{EventNotification, NotificationRequest};
use quay_core::names::Namespace;
use serde_json::json;

fn notification(uuid: &str, event: &str, scope: EventScope) -> EventNotification {
    EventNotification::new(
        uuid.into(),
        NotificationRequest {
            event: event.into(),
            method: "webhook".into(),
            config: json!({"url": "https://hooks.example.com/x"}),
            event_config: json!({"tag_patterns": ["v*"]}),
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
        .add_event_notification(namespace, Some(app), &on_push, audit())
        .await
        .unwrap();
    store
        .add_event_notification(namespace, None, &on_quota, audit())
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
