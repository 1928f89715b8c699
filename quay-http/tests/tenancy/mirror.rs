//! Repository mirrors through the API without their switch: every endpoint names it. (The
//! mirrors themselves are tested end to end, with real upstreams, in quay-bin's e2e tests.)

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn without_the_switch_every_mirror_endpoint_names_it() {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    registry.organization(&alice, "acme").await;
    let mirror = "/api/v1/repository/acme/app/mirror";
    for (method, path) in [
        (Method::GET, mirror.to_string()),
        (Method::POST, mirror.to_string()),
        (Method::PUT, mirror.to_string()),
        (Method::POST, format!("{mirror}/sync-now")),
        (Method::POST, format!("{mirror}/sync-cancel")),
        (Method::POST, format!("{mirror}/dry-run")),
        (
            Method::PUT,
            "/api/v1/repository/acme/app/changestate".to_string(),
        ),
    ] {
        let off = registry
            .expect(
                &alice,
                (method.clone(), path.as_str()),
                Some(json!({"state": "NORMAL"})),
                StatusCode::NOT_FOUND,
            )
            .await;
        assert_eq!(
            off["detail"], "FEATURE_REPO_MIRROR is off on this registry",
            "{method} {path}: {off}"
        );
    }
}
