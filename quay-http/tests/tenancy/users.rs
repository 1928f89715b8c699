//! Users as superusers manage them.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn superusers_create_change_disable_and_delete_users() {
    let registry = Registry::start().await;
    let ok = StatusCode::OK;
    let created = registry
        .expect(
            &registry.admin,
            (Method::POST, "/api/v1/superuser/users/"),
            Some(json!({"username": "carol", "email": "carol@example.com"})),
            ok,
        )
        .await;
    let password = created["password"].as_str().unwrap().to_string();
    assert_eq!(password.len(), 32);
    let carol = registry.sign_in("carol", &password).await.unwrap();
    registry
        .expect(
            &carol,
            (Method::GET, "/api/v1/superuser/users/"),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    registry
        .expect(
            &Caller::Anonymous,
            (Method::GET, "/api/v1/superuser/users/"),
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;

    let changed = registry
        .expect(
            &registry.admin,
            (Method::PUT, "/api/v1/superuser/users/carol"),
            Some(json!({"email": "c@example.com", "password": "a-new-password"})),
            ok,
        )
        .await;
    assert_eq!(changed["email"], "c@example.com");
    assert!(registry.sign_in("carol", &password).await.is_err());
    registry.sign_in("carol", "a-new-password").await.unwrap();
    registry
        .expect(
            &registry.admin,
            (Method::PUT, "/api/v1/superuser/users/carol"),
            Some(json!({"enabled": false})),
            ok,
        )
        .await;
    assert!(registry.sign_in("carol", "a-new-password").await.is_err());
    registry
        .expect(
            &carol,
            (Method::GET, "/api/v1/user/"),
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;

    let page = registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/superuser/users/?limit=1"),
            None,
            ok,
        )
        .await;
    assert_eq!(page["users"][0]["username"], "admin");
    let next = page["next_page"].as_str().unwrap();
    let rest = registry
        .expect(
            &registry.admin,
            (
                Method::GET,
                &format!("/api/v1/superuser/users/?limit=1&next_page={next}"),
            ),
            None,
            ok,
        )
        .await;
    assert_eq!(
        (
            rest["users"][0]["username"].as_str(),
            rest["users"][0]["enabled"].as_bool()
        ),
        (Some("carol"), Some(false))
    );
    registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/superuser/users/?limit=101"),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;

    let refused = registry
        .expect(
            &registry.admin,
            (Method::DELETE, "/api/v1/superuser/users/admin"),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(refused["detail"], "Cannot delete a superuser");
    registry
        .expect(
            &registry.admin,
            (Method::DELETE, "/api/v1/superuser/users/carol"),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/superuser/users/carol"),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
}
