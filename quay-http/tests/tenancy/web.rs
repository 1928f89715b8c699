//! What a browser application asks first: the registry's setup and the session's CSRF
//! token.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn the_setup_names_the_host_and_the_features_that_are_on() {
    let registry = Registry::start().await;
    let config = registry
        .expect(
            &Caller::Anonymous,
            (Method::GET, "/config"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        config["config"]["SERVER_HOSTNAME"],
        registry.address.as_str()
    );
    assert_eq!(config["config"]["PREFERRED_URL_SCHEME"], "http");
    assert_eq!(config["features"]["PROXY_CACHE"], false, "{config}");
    assert_eq!(config["features"]["SECURITY_SCANNER"], false);
    assert_eq!(config["features"]["USER_CREATION"], true);
    assert_eq!(config["registry_state"], "normal");
}

#[tokio::test]
async fn a_session_reads_the_token_its_changing_requests_send() {
    let registry = Registry::start().await;
    let anonymous = registry
        .expect(
            &Caller::Anonymous,
            (Method::GET, "/csrf_token"),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(anonymous["csrf_token"].is_null(), "{anonymous}");
    let session = registry.sign_in("admin", PASSWORD).await.unwrap();
    let Caller::Session { csrf, .. } = &session else {
        panic!("a session");
    };
    let read = registry
        .expect(&session, (Method::GET, "/csrf_token"), None, StatusCode::OK)
        .await;
    assert_eq!(read["csrf_token"], csrf.as_str());
}

#[tokio::test]
async fn the_typeahead_finds_users_and_only_the_robots_and_teams_one_may_use() {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    let _albert = registry.user("albert").await;
    let bob = registry.user("bob").await;
    registry.organization(&alice, "acme").await;
    registry
        .expect(
            &alice,
            (Method::PUT, "/api/v1/organization/acme/robots/alpha"),
            Some(json!({})),
            StatusCode::CREATED,
        )
        .await;
    registry
        .expect(
            &alice,
            (Method::PUT, "/api/v1/organization/acme/team/allstars"),
            Some(json!({"role": "member"})),
            StatusCode::OK,
        )
        .await;
    let names = |found: &Value| -> Vec<(String, String, bool)> {
        found["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entity| {
                (
                    entity["name"].as_str().unwrap().to_string(),
                    entity["kind"].as_str().unwrap().to_string(),
                    entity["is_robot"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let path = "/api/v1/entities/al?namespace=acme&includeTeams=true";
    let seen = registry
        .expect(&alice, (Method::GET, path), None, StatusCode::OK)
        .await;
    assert_eq!(
        names(&seen),
        [
            ("acme+alpha".into(), "user".into(), true),
            ("allstars".into(), "team".into(), false),
            ("albert".into(), "user".into(), false),
            ("alice".into(), "user".into(), false),
        ],
        "{seen}"
    );
    // Bob is not in acme: users only.
    let seen = registry
        .expect(&bob, (Method::GET, path), None, StatusCode::OK)
        .await;
    assert_eq!(
        names(&seen),
        [
            ("albert".into(), "user".into(), false),
            ("alice".into(), "user".into(), false),
        ]
    );
    // The exact name comes first; anonymous callers find nothing.
    let seen = registry
        .expect(
            &bob,
            (Method::GET, "/api/v1/entities/alice"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(names(&seen), [("alice".into(), "user".into(), false)]);
    registry
        .expect(
            &Caller::Anonymous,
            (Method::GET, "/api/v1/entities/al"),
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;
}

#[tokio::test]
async fn collaborators_are_the_users_outside_the_teams_with_a_permission() {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    let _bob = registry.user("bob").await;
    let _carol = registry.user("carol").await;
    registry.organization(&alice, "acme").await;
    for repository in ["app", "web"] {
        registry
            .expect(
                &alice,
                (Method::POST, "/api/v1/repository"),
                Some(
                    json!({"namespace": "acme", "repository": repository, "visibility": "private"}),
                ),
                StatusCode::CREATED,
            )
            .await;
    }
    for (repository, grantee) in [("app", "bob"), ("app", "alice"), ("web", "bob")] {
        registry
            .expect(
                &alice,
                (
                    Method::PUT,
                    &format!("/api/v1/repository/acme/{repository}/permissions/user/{grantee}"),
                ),
                Some(json!({"role": "read"})),
                StatusCode::OK,
            )
            .await;
    }
    let seen = registry
        .expect(
            &alice,
            (Method::GET, "/api/v1/organization/acme/collaborators"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        seen["collaborators"],
        json!([{"name": "bob", "kind": "user", "teams": [], "repositories": ["app", "web"]}]),
        "alice is in the owners team, carol holds nothing: {seen}"
    );
}

#[tokio::test]
async fn superusers_list_every_organization_in_pages() {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    for name in ["acme", "beta", "gamma"] {
        registry.organization(&alice, name).await;
    }
    let first = registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/superuser/organizations/?limit=2"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(first["organizations"][0]["name"], "acme");
    assert_eq!(first["organizations"][1]["name"], "beta");
    let next = first["next_page"].as_str().unwrap();
    let rest = registry
        .expect(
            &registry.admin,
            (
                Method::GET,
                &format!("/api/v1/superuser/organizations/?limit=2&next_page={next}"),
            ),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        rest["organizations"],
        json!([{"name": "gamma", "email": null, "enabled": true}])
    );
    registry
        .expect(
            &alice,
            (Method::GET, "/api/v1/superuser/organizations/"),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
}

#[tokio::test]
async fn a_user_verifies_and_changes_their_own_password_and_address() {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/signin/verify"),
            Some(json!({"password": "wrong-password"})),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    registry
        .expect(
            &alice,
            (Method::PUT, "/api/v1/user/"),
            Some(json!({"password": "new-password-1", "email": "alice@example.org"})),
            StatusCode::OK,
        )
        .await;
    // The right password replaces the session with a fresh one: the old cookie is done.
    let renewed = registry
        .call(
            &alice,
            Method::POST,
            "/api/v1/signin/verify",
            Some(json!({"password": "new-password-1"})),
        )
        .await;
    assert_eq!(renewed.0, StatusCode::OK, "{}", renewed.1);
    assert!(renewed.1["csrf_token"].is_string(), "{}", renewed.1);
    registry
        .expect(
            &alice,
            (Method::GET, "/api/v1/user/"),
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    let me = registry.sign_in("alice", "new-password-1").await.unwrap();
    let seen = registry
        .expect(&me, (Method::GET, "/api/v1/user/"), None, StatusCode::OK)
        .await;
    assert_eq!(seen["email"], "alice@example.org");
    let too_short = registry
        .expect(
            &me,
            (Method::PUT, "/api/v1/user/"),
            Some(json!({"password": "short"})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(too_short.to_string().contains("8"), "{too_short}");
    let kinds = registry.log_kinds(&me, "/api/v1/user/logs").await;
    assert!(
        kinds.contains(&"user_change_password".to_string()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"user_change_email".to_string()),
        "{kinds:?}"
    );
}
