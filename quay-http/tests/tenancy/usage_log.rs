//! The usage log tells what happened, in order, once: a scripted sequence of actions
//! through the API and the registry, read back page by page.

use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// Every entry of a log, following `next_page`, newest first.
async fn read_all(registry: &Registry, caller: &Caller, path: &str) -> (Vec<Value>, usize) {
    let mut entries = Vec::new();
    let mut pages = 0;
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            Some(token) => format!("{path}?next_page={token}"),
            None => path.to_string(),
        };
        let page = registry
            .expect(caller, (Method::GET, &url), None, StatusCode::OK)
            .await;
        pages += 1;
        entries.extend(page["logs"].as_array().unwrap().iter().cloned());
        match page["next_page"].as_str() {
            Some(token) => next = Some(token.to_string()),
            None => return (entries, pages),
        }
    }
}

fn kinds(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_scripted_sequence_is_logged_in_order_and_paged_once() {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    let created = StatusCode::CREATED;
    let ok = StatusCode::OK;
    registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/organization/"),
            Some(json!({"name": "acme"})),
            created,
        )
        .await;
    registry
        .expect(
            &alice,
            (Method::PUT, "/api/v1/organization/acme/team/builders"),
            Some(json!({"role": "creator"})),
            ok,
        )
        .await;
    let robot = registry
        .expect(
            &alice,
            (Method::PUT, "/api/v1/organization/acme/robots/deployer"),
            None,
            created,
        )
        .await;
    let token = robot["token"].as_str().unwrap().to_string();
    registry
        .expect(&alice, (Method::POST, "/api/v1/repository"), Some(json!({"namespace": "acme", "repository": "app", "visibility": "private", "description": ""})), created)
        .await;
    registry
        .expect(
            &alice,
            (
                Method::PUT,
                "/api/v1/repository/acme/app/permissions/user/acme+deployer",
            ),
            Some(json!({"role": "write"})),
            ok,
        )
        .await;

    // The robot pushes with a real client, then pulls the manifest once.
    let client = Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..Default::default()
    });
    let reference: Reference = format!("{}/acme/app:v1", registry.address).parse().unwrap();
    let auth = RegistryAuth::Basic("acme+deployer".into(), token.clone());
    client
        .push(
            &reference,
            &[ImageLayer::oci_v1(b"a layer".to_vec(), None)],
            Config::oci_v1(br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), None),
            &auth,
            None,
        )
        .await
        .unwrap();
    let (status, body) = registry
        .registry_token(("acme+deployer", &token), "repository:acme/app:pull")
        .await;
    assert_eq!(status, ok);
    let pulled = registry
        .request(&Caller::Anonymous, Method::GET, "/v2/acme/app/manifests/v1")
        .bearer_auth(body["token"].as_str().unwrap())
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .await
        .unwrap();
    assert_eq!(pulled.status(), ok);
    // Pulls are written off the request path: wait until this one is.
    let repository_logs = "/api/v1/repository/acme/app/logs";
    for _ in 0..100 {
        let page = registry
            .expect(&alice, (Method::GET, repository_logs), None, ok)
            .await;
        if kinds(page["logs"].as_array().unwrap()).contains(&"pull_repo") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/repository/acme/app/changevisibility"),
            Some(json!({"visibility": "public"})),
            ok,
        )
        .await;
    registry
        .expect(
            &alice,
            (Method::PUT, "/api/v1/repository/acme/app"),
            Some(json!({"description": "the app"})),
            ok,
        )
        .await;
    let deleted = registry
        .request(
            &Caller::Anonymous,
            Method::DELETE,
            "/v2/acme/app/manifests/v1",
        )
        .basic_auth("alice", Some(alice_password(&registry).await))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    registry
        .expect(
            &alice,
            (
                Method::DELETE,
                "/api/v1/repository/acme/app/permissions/user/acme+deployer",
            ),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;

    let (entries, _) = read_all(&registry, &alice, repository_logs).await;
    assert_eq!(
        kinds(&entries),
        [
            "delete_repo_permission",
            "delete_tag",
            "set_repo_description",
            "change_repo_visibility",
            "pull_repo",
            "push_repo",
            "change_repo_permission",
            "create_repo",
        ]
    );
    let push = &entries[5];
    assert_eq!(
        push["performer"],
        json!({"kind": "user", "name": "acme+deployer", "is_robot": true})
    );
    assert_eq!(
        (push["metadata"]["tag"].as_str(), push["ip"].as_str()),
        (Some("v1"), Some("127.0.0.1"))
    );
    assert_eq!(entries[4]["metadata"]["tag"], "v1");
    assert_eq!(entries[3]["metadata"]["visibility"], "public");
    let (organization, _) = read_all(&registry, &alice, "/api/v1/organization/acme/logs").await;
    assert_eq!(
        kinds(&organization)[8..],
        ["create_robot", "org_create_team", "org_create"]
    );
    let counts = registry
        .expect(
            &alice,
            (Method::GET, "/api/v1/organization/acme/aggregatelogs"),
            None,
            ok,
        )
        .await;
    let total: u64 = counts["aggregated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|count| count["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 11);

    // Enough entries for two pages: each comes once.
    for n in 0..25 {
        registry
            .expect(
                &alice,
                (Method::PUT, "/api/v1/repository/acme/app"),
                Some(json!({"description": format!("d{n}")})),
                ok,
            )
            .await;
    }
    let (entries, pages) = read_all(&registry, &alice, repository_logs).await;
    assert_eq!((entries.len(), pages), (33, 2));
    let descriptions: Vec<&str> = entries[..25]
        .iter()
        .map(|entry| entry["metadata"]["description"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..25).rev().map(|n| format!("d{n}")).collect();
    assert_eq!(descriptions, expected);

    // Others may not read it; a bad token or range is refused.
    let bob = registry.user("bob").await;
    registry
        .expect(
            &bob,
            (Method::GET, repository_logs),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    registry
        .expect(
            &alice,
            (Method::GET, &format!("{repository_logs}?next_page=garbage")),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    registry
        .expect(
            &alice,
            (
                Method::GET,
                &format!("{repository_logs}?starttime=01/31/2026&endtime=01/01/2026"),
            ),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    registry
        .expect(
            &alice,
            (
                Method::GET,
                "/api/v1/repository/acme/app/aggregatelogs?starttime=01/01/2026&endtime=03/01/2026",
            ),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    let everything = registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/superuser/logs"),
            None,
            ok,
        )
        .await;
    // Superusers see every namespace's entries, each naming its namespace.
    let newest = &everything["logs"].as_array().unwrap()[..2];
    assert_eq!(kinds(newest), ["login_success", "user_create"]);
    for entry in newest {
        assert_eq!(entry["namespace"], json!({"kind": "user", "name": "bob"}));
    }
}

/// Alice's password, reset by the admin, for Basic authentication on `/v2`.
async fn alice_password(registry: &Registry) -> &'static str {
    registry
        .expect(
            &registry.admin,
            (Method::PUT, "/api/v1/superuser/users/alice"),
            Some(json!({"password": PASSWORD})),
            StatusCode::OK,
        )
        .await;
    PASSWORD
}
