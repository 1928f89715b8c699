//! `/health/instance` and `/health/endtoend` with a storage location that fails.

use quay_storage::{ObjectStorage, StorageLocation, StorageLocations};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// A server whose storage locations are `order`: `near` a directory, `far` one that cannot
/// be read (its directory became a file).
async fn server(order: [&str; 2]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let locations = order
        .iter()
        .map(|name| StorageLocation {
            name: (*name).to_string(),
            storage: ObjectStorage::filesystem(&dir.path().join(name)).unwrap(),
        })
        .collect();
    let backend = quay_app::App::open(
        &format!("sqlite://{}", dir.path().join("quay.db").display()),
        StorageLocations {
            locations,
            replicate_to: Vec::new(),
        },
        quay_app::AppSettings {
            open: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let far = dir.path().join("far");
    std::fs::remove_dir_all(&far).unwrap();
    std::fs::write(&far, b"not a directory").unwrap();
    Server::serving(backend.registry, dir).await
}

async fn health(server: &Server, check: &str) -> (StatusCode, Value) {
    let response = server.get(&format!("/health/{check}")).await;
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_node_is_healthy_while_its_preferred_location_is() {
    let server = server(["near", "far"]).await;
    let locations = json!({"near": true, "far": false});
    let (status, body) = health(&server, "instance").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["services"],
        json!({"database": true, "storage": true})
    );
    assert_eq!(body["data"]["storage_locations"], locations);

    // The whole registry is not: one of its locations fails.
    let (status, body) = health(&server, "endtoend").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["data"]["services"]["storage"], false);
    assert_eq!(body["data"]["storage_locations"], locations);
    assert_eq!(body["status_code"], 503);
}

#[tokio::test]
async fn a_node_whose_preferred_location_fails_is_not() {
    let server = server(["far", "near"]).await;
    for check in ["instance", "endtoend"] {
        let (status, body) = health(&server, check).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{check}: {body}");
        assert_eq!(body["data"]["services"]["database"], true);
        assert_eq!(body["data"]["services"]["storage"], false);
    }
}
