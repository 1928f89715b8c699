//! Event notifications through the API: a repository's and a namespace's, Quay's view and
//! messages, who may manage them, and the usage log.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const NOTIFICATIONS: &str = "/api/v1/repository/alice/app/notification/";

fn webhook(url: &str) -> Value {
    json!({"event": "repo_push", "method": "webhook", "config": {"url": url},
           "eventConfig": {"tag_patterns": ["v*"]}, "title": "to CI"})
}

/// A registry where alice has `alice/app` (of `visibility`), and bob is another user.
async fn alice_with_app(visibility: &str) -> (Registry, Caller, Caller) {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    let bob = registry.user("bob").await;
    registry
        .expect(&alice, (Method::POST, "/api/v1/repository"),
            Some(json!({"namespace": "alice", "repository": "app", "visibility": visibility, "description": ""})),
            StatusCode::CREATED)
        .await;
    (registry, alice, bob)
}

#[tokio::test]
async fn a_repository_notification_is_added_listed_reset_and_deleted() {
    let (registry, alice, bob) = alice_with_app("public").await;

    let added = registry
        .expect(
            &alice,
            (Method::POST, NOTIFICATIONS),
            Some(webhook("https://hooks.example.com/ci")),
            StatusCode::CREATED,
        )
        .await;
    let uuid = added["uuid"].as_str().unwrap().to_string();
    let view = json!({"uuid": uuid, "title": "to CI", "event": "repo_push", "method": "webhook",
                      "config": {"url": "https://hooks.example.com/ci"},
                      "event_config": {"tag_patterns": ["v*"]}, "number_of_failures": 0});
    assert_eq!(added, view);
    let one = format!("{NOTIFICATIONS}{uuid}");
    assert_eq!(
        registry
            .expect(&alice, (Method::GET, NOTIFICATIONS), None, StatusCode::OK)
            .await,
        json!({"notifications": [view.clone()]})
    );
    assert_eq!(
        registry
            .expect(&alice, (Method::GET, &one), None, StatusCode::OK)
            .await,
        view
    );

    // A reader of the public repository is no admin of it; nobody signed in is asked to.
    for (caller, status) in [
        (&bob, StatusCode::FORBIDDEN),
        (&Caller::Anonymous, StatusCode::UNAUTHORIZED),
    ] {
        for (method, path, body) in [
            (Method::GET, NOTIFICATIONS, None),
            (
                Method::POST,
                NOTIFICATIONS,
                Some(webhook("https://x.example")),
            ),
            (Method::POST, one.as_str(), None),
            (Method::DELETE, one.as_str(), None),
        ] {
            registry.expect(caller, (method, path), body, status).await;
        }
    }

    registry
        .expect(&alice, (Method::POST, &one), None, StatusCode::NO_CONTENT)
        .await;
    registry
        .expect(&alice, (Method::DELETE, &one), None, StatusCode::NO_CONTENT)
        .await;
    registry
        .expect(&alice, (Method::GET, &one), None, StatusCode::NOT_FOUND)
        .await;
    // As Quay: a notification that is not there to delete is a bad request.
    registry
        .expect(
            &alice,
            (Method::DELETE, &one),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;

    let logs = registry
        .expect(
            &alice,
            (Method::GET, "/api/v1/repository/alice/app/logs"),
            None,
            StatusCode::OK,
        )
        .await;
    let entries: Vec<&Value> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"].as_str().unwrap().contains("notification"))
        .collect();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "delete_repo_notification",
            "reset_repo_notification",
            "add_repo_notification"
        ]
    );
    let added_entry = &entries[2]["metadata"];
    assert_eq!(added_entry["notification_id"], uuid.as_str());
    assert_eq!(added_entry["event"], "repo_push");
    assert_eq!(added_entry["method"], "webhook");
    assert_eq!(added_entry["repo"], "app");
    assert_eq!(added_entry["namespace"], "alice");
}

#[tokio::test]
async fn wrong_notifications_are_refused_with_the_reason() {
    let (registry, alice, _) = alice_with_app("private").await;
    for (path, body, reason) in [
        (
            NOTIFICATIONS,
            json!({"event": "quota_warning", "method": "webhook", "config": {"url": "https://x.example"}}),
            "unknown event `quota_warning` for a repository notification; events: repo_push, repo_image_expiry",
        ),
        (
            "/api/v1/user/namespacenotifications",
            webhook("https://x.example"),
            "unknown event `repo_push` for a namespace notification; events: quota_warning, quota_error",
        ),
        (
            NOTIFICATIONS,
            json!({"event": "repo_push", "method": "pager", "config": {}}),
            "unknown notification method `pager`",
        ),
        (
            NOTIFICATIONS,
            webhook("gopher://x.example"),
            "is not an http or https URL",
        ),
        (
            NOTIFICATIONS,
            json!({"event": "repo_push", "method": "webhook", "config": {"url": "https://x.example"}, "eventConfig": {"tag_patterns": ["[v"]}}),
            "`[v` is not a glob",
        ),
        (
            NOTIFICATIONS,
            json!({"event": "repo_image_expiry", "method": "webhook", "config": {"url": "https://x.example"}}),
            "repo_image_expiry needs eventConfig.days",
        ),
        (
            NOTIFICATIONS,
            json!({"event": "repo_push", "method": "webhook", "config": {"url": "https://x.example", "template": "{\"t\": \"${updated_tags\"}"}}),
            "without a closing",
        ),
        (
            NOTIFICATIONS,
            json!({"event": "repo_push", "method": "email", "config": {"email": "dev@example.com"}}),
            "FEATURE_MAILING is off",
        ),
        (
            "/api/v1/repository/alice/app/authorizedemail/dev@example.com",
            json!({}),
            "FEATURE_MAILING is off",
        ),
    ] {
        let refused = registry
            .expect(
                &alice,
                (Method::POST, path),
                Some(body.clone()),
                StatusCode::BAD_REQUEST,
            )
            .await;
        let detail = refused["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(reason), "{body}: {detail}");
    }
    assert_eq!(
        registry
            .expect(&alice, (Method::GET, NOTIFICATIONS), None, StatusCode::OK)
            .await,
        json!({"notifications": []}),
        "nothing refused was kept"
    );
}

#[tokio::test]
async fn namespace_notifications_belong_to_their_namespace() {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    let bob = registry.user("bob").await;
    registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/organization/"),
            Some(json!({"name": "acme"})),
            StatusCode::CREATED,
        )
        .await;
    let quota = json!({"event": "quota_error", "method": "quay_notification",
                       "config": {"target": {"kind": "org", "name": "acme"}}});
    let org = "/api/v1/organization/acme/notifications";
    let added = registry
        .expect(
            &alice,
            (Method::POST, org),
            Some(quota.clone()),
            StatusCode::CREATED,
        )
        .await;
    registry
        .expect(&bob, (Method::GET, org), None, StatusCode::FORBIDDEN)
        .await;
    // Bob's own namespace has none, and cannot reach acme's by its uuid.
    let own = "/api/v1/user/namespacenotifications";
    assert_eq!(
        registry
            .expect(&bob, (Method::GET, own), None, StatusCode::OK)
            .await,
        json!({"notifications": []})
    );
    let uuid = added["uuid"].as_str().unwrap();
    registry
        .expect(
            &bob,
            (Method::GET, &format!("{own}/{uuid}")),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    registry
        .expect(
            &alice,
            (Method::POST, &format!("{org}/{uuid}")),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    registry
        .expect(
            &alice,
            (Method::DELETE, &format!("{org}/{uuid}")),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    assert_eq!(
        registry
            .expect(&alice, (Method::GET, org), None, StatusCode::OK)
            .await,
        json!({"notifications": []})
    );
}

#[tokio::test]
async fn only_a_repository_admin_authorizes_addresses() {
    let (registry, alice, bob) = alice_with_app("public").await;
    let path = "/api/v1/repository/alice/app/authorizedemail/dev@example.com";
    for (caller, method, status) in [
        (&bob, Method::GET, StatusCode::FORBIDDEN),
        (&bob, Method::POST, StatusCode::FORBIDDEN),
        (&Caller::Anonymous, Method::POST, StatusCode::UNAUTHORIZED),
        (&alice, Method::GET, StatusCode::NOT_FOUND),
    ] {
        registry.expect(caller, (method, path), None, status).await;
    }
}

#[tokio::test]
async fn only_those_who_read_a_log_export_it() {
    let (registry, alice, bob) = alice_with_app("public").await;
    let export = "/api/v1/repository/alice/app/exportlogs";
    let queued = registry
        .expect(
            &alice,
            (Method::POST, export),
            Some(json!({})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(queued["export_id"].as_str().unwrap().len(), 36, "{queued}");
    registry
        .expect(
            &bob,
            (Method::POST, export),
            Some(json!({})),
            StatusCode::FORBIDDEN,
        )
        .await;
    let refused = registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/user/exportlogs"),
            Some(json!({"callback_email": "nobody"})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(refused["detail"], "Invalid callback e-mail");
}
