//! Proxy cache configurations through the API: Quay's shapes and messages, who may read and
//! change them, the usage log, and the switch.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

const PROXY: &str = "/api/v1/organization/cache/proxycache";

#[tokio::test]
async fn an_organization_is_made_a_proxy_cache_and_back() {
    let registry = Registry::start_with(|_, tenancy| tenancy.proxy_cache = true).await;
    let alice = registry.user("alice").await;
    let bob = registry.user("bob").await;
    registry.organization(&alice, "cache").await;
    let none = json!({"upstream_registry": "", "expiration_s": "", "insecure": ""});
    assert_eq!(
        registry
            .expect(&alice, (Method::GET, PROXY), None, StatusCode::OK)
            .await,
        none
    );
    // Not a member: not told; not an admin: may not change it.
    registry
        .expect(&bob, (Method::GET, PROXY), None, StatusCode::FORBIDDEN)
        .await;
    registry
        .expect(
            &bob,
            (Method::POST, PROXY),
            Some(json!({"upstream_registry": "docker.io"})),
            StatusCode::FORBIDDEN,
        )
        .await;
    for (body, reason) in [
        (
            json!({"upstream_registry": "https://quay.io"}),
            "without a scheme",
        ),
        (json!({"upstream_registry": ""}), "required"),
        (
            json!({"upstream_registry": "quay.io", "upstream_registry_username": "robot",
                   "upstream_registry_password": "s3cr3t"}),
            "no key to seal upstream credentials",
        ),
    ] {
        let refused = registry
            .expect(
                &alice,
                (Method::POST, PROXY),
                Some(body.clone()),
                StatusCode::BAD_REQUEST,
            )
            .await;
        let detail = refused["detail"].as_str().unwrap();
        assert!(detail.contains(reason), "{body}: {detail}");
        assert!(!detail.contains("s3cr3t"), "{detail}");
    }

    assert_eq!(
        registry
            .expect(
                &alice,
                (Method::POST, PROXY),
                Some(json!({"upstream_registry": "quay.io/library", "expiration_s": 3600})),
                StatusCode::CREATED
            )
            .await,
        "Created"
    );
    let again = registry
        .expect(
            &alice,
            (Method::POST, PROXY),
            Some(json!({"upstream_registry": "docker.io"})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(again["detail"], "Proxy Cache Configuration already exists");
    assert_eq!(
        registry
            .expect(&alice, (Method::GET, PROXY), None, StatusCode::OK)
            .await,
        json!({"upstream_registry": "quay.io/library", "expiration_s": 3600, "insecure": false})
    );
    assert_eq!(
        registry
            .expect(&alice, (Method::DELETE, PROXY), None, StatusCode::CREATED)
            .await,
        "Deleted"
    );
    registry
        .expect(&alice, (Method::DELETE, PROXY), None, StatusCode::NOT_FOUND)
        .await;

    let kinds = registry
        .log_kinds(&alice, "/api/v1/organization/cache/logs")
        .await;
    assert_eq!(
        kinds[..2],
        ["delete_proxy_cache_config", "create_proxy_cache_config"]
    );
}

#[tokio::test]
async fn without_the_switch_the_endpoint_names_it() {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    registry.organization(&alice, "cache").await;
    let off = registry
        .expect(&alice, (Method::GET, PROXY), None, StatusCode::NOT_FOUND)
        .await;
    assert!(
        off["detail"]
            .as_str()
            .unwrap()
            .contains("FEATURE_PROXY_CACHE is off"),
        "{off}"
    );
}
