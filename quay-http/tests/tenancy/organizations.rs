//! Organizations through the API: teams and members, robots, repositories and their
//! permissions, default permissions, OAuth applications and the implicit grant.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_organization_with_teams_robots_and_permissions() {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    let bob = registry.user("bob").await;
    let ok = StatusCode::OK;
    registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/organization/"),
            Some(json!({"name": "acme", "email": "ops@acme.io"})),
            StatusCode::CREATED,
        )
        .await;
    let taken = registry
        .expect(
            &bob,
            (Method::POST, "/api/v1/organization/"),
            Some(json!({"name": "acme"})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(taken["detail"].as_str().unwrap().contains("already exists"));

    // Alice sees everything; bob, not a member, only the name.
    let seen = registry
        .expect(&alice, (Method::GET, "/api/v1/organization/acme"), None, ok)
        .await;
    assert_eq!(
        (seen["is_admin"].as_bool(), seen["email"].as_str()),
        (Some(true), Some("ops@acme.io"))
    );
    assert_eq!(seen["ordered_teams"], json!(["owners"]));
    let outside = registry
        .expect(&bob, (Method::GET, "/api/v1/organization/acme"), None, ok)
        .await;
    assert_eq!(
        (outside["is_member"].as_bool(), outside["teams"].is_null()),
        (Some(false), true)
    );
    assert!(outside["email"].is_null());
    registry
        .expect(
            &bob,
            (Method::PUT, "/api/v1/organization/acme/team/mine"),
            Some(json!({"role": "admin"})),
            StatusCode::FORBIDDEN,
        )
        .await;

    // A team of creators with bob in it lets bob create repositories, nothing more.
    let team = registry
        .expect(
            &alice,
            (Method::PUT, "/api/v1/organization/acme/team/builders"),
            Some(json!({"role": "creator", "description": "they build"})),
            ok,
        )
        .await;
    assert_eq!(
        (team["new_team"].as_bool(), team["role"].as_str()),
        (Some(true), Some("creator"))
    );
    let member = registry
        .expect(
            &alice,
            (
                Method::PUT,
                "/api/v1/organization/acme/team/builders/members/bob",
            ),
            None,
            ok,
        )
        .await;
    assert_eq!(
        (member["name"].as_str(), member["is_robot"].as_bool()),
        (Some("bob"), Some(false))
    );
    registry
        .expect(
            &alice,
            (
                Method::PUT,
                "/api/v1/organization/acme/team/builders/members/nobody",
            ),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    registry
        .expect(&bob, (Method::POST, "/api/v1/repository"), Some(json!({"namespace": "acme", "repository": "bobs", "visibility": "private", "description": "by bob"})), StatusCode::CREATED)
        .await;
    registry
        .expect(
            &bob,
            (Method::DELETE, "/api/v1/organization/acme"),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    let members = registry
        .expect(
            &bob,
            (
                Method::GET,
                "/api/v1/organization/acme/team/builders/members",
            ),
            None,
            ok,
        )
        .await;
    assert_eq!(
        (names(&members["members"]), members["can_edit"].as_bool()),
        (vec!["bob".to_string()], Some(false))
    );

    // Alice cannot leave her only admin team, nor demote or delete it.
    for (method, path, body) in [
        (
            Method::DELETE,
            "/api/v1/organization/acme/team/owners/members/alice",
            None,
        ),
        (
            Method::PUT,
            "/api/v1/organization/acme/team/owners",
            Some(json!({"role": "member"})),
        ),
        (
            Method::DELETE,
            "/api/v1/organization/acme/team/owners",
            None,
        ),
        (
            Method::DELETE,
            "/api/v1/organization/acme/members/alice",
            None,
        ),
    ] {
        registry
            .expect(&alice, (method, path), body, StatusCode::BAD_REQUEST)
            .await;
    }

    // A robot with write on one repository; robots of other namespaces get nothing here.
    let robot = registry
        .expect(
            &alice,
            (Method::PUT, "/api/v1/organization/acme/robots/deployer"),
            Some(json!({"description": "deploys", "unstructured_metadata": {"owner": "ops"}})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(robot["name"], "acme+deployer");
    assert_eq!(robot["unstructured_metadata"]["owner"], "ops");
    registry
        .expect(
            &alice,
            (Method::PUT, "/api/v1/organization/acme/robots/deployer"),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    registry
        .expect(&alice, (Method::POST, "/api/v1/repository"), Some(json!({"namespace": "acme", "repository": "app", "visibility": "private", "description": "the app"})), StatusCode::CREATED)
        .await;
    let granted = registry
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
    assert_eq!(
        (granted["role"].as_str(), granted["is_robot"].as_bool()),
        (Some("write"), Some(true))
    );
    registry
        .expect(
            &bob,
            (Method::PUT, "/api/v1/user/robots/own"),
            None,
            StatusCode::CREATED,
        )
        .await;
    let foreign = registry
        .expect(
            &alice,
            (
                Method::PUT,
                "/api/v1/repository/acme/app/permissions/user/bob+own",
            ),
            Some(json!({"role": "read"})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(
        foreign["detail"]
            .as_str()
            .unwrap()
            .contains("another namespace")
    );
    registry
        .expect(
            &alice,
            (
                Method::PUT,
                "/api/v1/repository/acme/app/permissions/user/acme",
            ),
            Some(json!({"role": "read"})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    registry
        .expect(
            &alice,
            (
                Method::PUT,
                "/api/v1/repository/acme/app/permissions/user/bob",
            ),
            Some(json!({"role": "owner"})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    registry
        .expect(
            &alice,
            (
                Method::PUT,
                "/api/v1/repository/acme/app/permissions/team/builders",
            ),
            Some(json!({"role": "read"})),
            ok,
        )
        .await;
    let users = registry
        .expect(
            &alice,
            (Method::GET, "/api/v1/repository/acme/app/permissions/user/"),
            None,
            ok,
        )
        .await;
    assert_eq!(users["permissions"]["acme+deployer"]["role"], "write");
    assert_eq!(users["permissions"]["alice"]["role"], "admin");
    let teams = registry
        .expect(
            &alice,
            (
                Method::GET,
                "/api/v1/repository/acme/app/permissions/team/builders",
            ),
            None,
            ok,
        )
        .await;
    assert_eq!(teams["role"], "read");
    let held = registry
        .expect(
            &alice,
            (
                Method::GET,
                "/api/v1/organization/acme/robots/deployer/permissions",
            ),
            None,
            ok,
        )
        .await;
    assert_eq!(
        held["permissions"],
        json!([{"repository": {"name": "app", "is_public": false}, "role": "write"}])
    );
    let robots = registry
        .expect(
            &alice,
            (
                Method::GET,
                "/api/v1/organization/acme/robots?permissions=true",
            ),
            None,
            ok,
        )
        .await;
    assert_eq!(robots["robots"][0]["repositories"], json!(["app"]));

    // Bob reads through his team; the listing shows what each may read.
    let repository = registry
        .expect(&bob, (Method::GET, "/api/v1/repository/acme/app"), None, ok)
        .await;
    assert_eq!(
        (
            repository["can_write"].as_bool(),
            repository["can_admin"].as_bool()
        ),
        (Some(false), Some(false))
    );
    registry
        .expect(
            &bob,
            (Method::POST, "/api/v1/repository/acme/app/changevisibility"),
            Some(json!({"visibility": "public"})),
            StatusCode::FORBIDDEN,
        )
        .await;
    let listed = registry
        .expect(
            &bob,
            (Method::GET, "/api/v1/repository?namespace=acme"),
            None,
            ok,
        )
        .await;
    assert_eq!(names(&listed["repositories"]), ["app", "bobs"]);
    registry
        .expect(
            &bob,
            (Method::GET, "/api/v1/repository"),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;

    // Members and their removal.
    let org_members = registry
        .expect(
            &alice,
            (Method::GET, "/api/v1/organization/acme/members"),
            None,
            ok,
        )
        .await;
    assert_eq!(names(&org_members["members"]), ["alice", "bob"]);
    registry
        .expect(
            &alice,
            (Method::DELETE, "/api/v1/organization/acme/members/bob"),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    // The authorizer keeps what it read for a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    registry
        .expect(
            &bob,
            (Method::GET, "/api/v1/repository/acme/app"),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    registry
        .expect(
            &alice,
            (Method::DELETE, "/api/v1/organization/acme/robots/deployer"),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    registry
        .expect(
            &alice,
            (
                Method::GET,
                "/api/v1/repository/acme/app/permissions/user/acme+deployer",
            ),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    registry
        .expect(
            &alice,
            (Method::DELETE, "/api/v1/organization/acme"),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    registry
        .expect(
            &alice,
            (Method::GET, "/api/v1/organization/acme"),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
}

#[tokio::test]
async fn default_permissions_apply_to_new_repositories() {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/organization/"),
            Some(json!({"name": "acme"})),
            StatusCode::CREATED,
        )
        .await;
    registry
        .expect(
            &alice,
            (Method::PUT, "/api/v1/organization/acme/team/readers"),
            Some(json!({"role": "member"})),
            StatusCode::OK,
        )
        .await;
    let prototype = registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/organization/acme/prototypes"),
            Some(json!({"role": "read", "delegate": {"name": "readers", "kind": "team"}})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        prototype["delegate"],
        json!({"name": "readers", "kind": "team"})
    );
    let id = prototype["id"].as_str().unwrap();
    registry
        .expect(
            &alice,
            (
                Method::PUT,
                &format!("/api/v1/organization/acme/prototypes/{id}"),
            ),
            Some(json!({"role": "write"})),
            StatusCode::OK,
        )
        .await;
    registry
        .expect(&alice, (Method::POST, "/api/v1/repository"), Some(json!({"namespace": "acme", "repository": "new", "visibility": "private", "description": ""})), StatusCode::CREATED)
        .await;
    let teams = registry
        .expect(
            &alice,
            (Method::GET, "/api/v1/repository/acme/new/permissions/team/"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(teams["permissions"]["readers"]["role"], "write");
    let listed = registry
        .expect(
            &alice,
            (Method::GET, "/api/v1/organization/acme/prototypes"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(listed["prototypes"].as_array().unwrap().len(), 1);
    registry
        .expect(
            &alice,
            (
                Method::DELETE,
                &format!("/api/v1/organization/acme/prototypes/{id}"),
            ),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    registry
        .expect(
            &alice,
            (
                Method::DELETE,
                &format!("/api/v1/organization/acme/prototypes/{id}"),
            ),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
}

#[tokio::test]
async fn the_implicit_grant_mints_a_scoped_token_for_a_session() {
    let registry = Registry::start().await;
    let alice = registry.user("alice").await;
    registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/organization/"),
            Some(json!({"name": "acme"})),
            StatusCode::CREATED,
        )
        .await;
    let application = registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/organization/acme/applications"),
            Some(json!({"name": "deployer", "redirect_uri": "http://localhost/callback"})),
            StatusCode::OK,
        )
        .await;
    let client_id = application["client_id"].as_str().unwrap();
    assert!(application["client_secret"].is_string());
    registry
        .expect(&alice, (Method::POST, "/api/v1/repository"), Some(json!({"namespace": "acme", "repository": "app", "visibility": "private", "description": ""})), StatusCode::CREATED)
        .await;

    let grant = format!(
        "/oauth/authorize?response_type=token&client_id={client_id}&scope=repo:read&state=xyz&redirect_uri=http://localhost/callback"
    );
    let described = registry
        .expect(&alice, (Method::GET, &grant), None, StatusCode::OK)
        .await;
    assert_eq!(described["scopes"], json!(["repo:read"]));
    // A bearer token cannot grant; only a session (with its CSRF token) can.
    registry
        .expect(
            &registry.admin,
            (Method::POST, &grant),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    let elsewhere = grant.replace("http://localhost/callback", "http://evil.example/");
    registry
        .expect(
            &alice,
            (Method::POST, &elsewhere),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    let response = registry
        .request(&alice, Method::POST, &grant)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let fragment = location
        .strip_prefix("http://localhost/callback#")
        .unwrap_or_else(|| panic!("{location}"));
    let pairs: std::collections::HashMap<String, String> =
        form_urlencoded::parse(fragment.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(pairs["state"], "xyz");
    assert_eq!(pairs["scope"], "repo:read");
    let token = Caller::Bearer(pairs["access_token"].clone());

    registry
        .expect(
            &token,
            (Method::GET, "/api/v1/repository/acme/app"),
            None,
            StatusCode::OK,
        )
        .await;
    registry
        .expect(
            &token,
            (Method::POST, "/api/v1/repository/acme/app/changevisibility"),
            Some(json!({"visibility": "public"})),
            StatusCode::FORBIDDEN,
        )
        .await;
    registry
        .expect(
            &token,
            (Method::GET, "/api/v1/user/"),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    // Alice administers acme, but this token may only read repositories: it sees acme as a
    // member does, without the administrators' fields.
    let seen = registry
        .expect(
            &token,
            (Method::GET, "/api/v1/organization/acme"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(seen["is_admin"], false, "{seen}");
    assert_eq!(seen["is_member"], true, "{seen}");
    assert!(seen.get("email").is_none_or(Value::is_null), "{seen}");
    let as_alice = registry
        .expect(
            &alice,
            (Method::GET, "/api/v1/organization/acme"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(as_alice["is_admin"], true, "{as_alice}");

    // Deleting the application revokes what it was granted.
    registry
        .expect(
            &alice,
            (
                Method::DELETE,
                &format!("/api/v1/organization/acme/applications/{client_id}"),
            ),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    registry
        .expect(
            &token,
            (Method::GET, "/api/v1/repository/acme/app"),
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;
}

#[tokio::test]
async fn the_implicit_grant_redirects_only_to_the_registered_uri_and_its_tokens_expire() {
    let registry = Registry::start_with(|_, settings| settings.implicit_token_lifetime_s = 2).await;
    let alice = registry.user("alice").await;
    registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/organization/"),
            Some(json!({"name": "acme"})),
            StatusCode::CREATED,
        )
        .await;
    for unusable in ["app.example", "ftp://app.example/", "http://app.example/#x"] {
        registry
            .expect(
                &alice,
                (Method::POST, "/api/v1/organization/acme/applications"),
                Some(json!({"name": "deployer", "redirect_uri": unusable})),
                StatusCode::BAD_REQUEST,
            )
            .await;
    }
    let application = registry
        .expect(
            &alice,
            (Method::POST, "/api/v1/organization/acme/applications"),
            Some(json!({"name": "deployer", "redirect_uri": "http://app.example"})),
            StatusCode::OK,
        )
        .await;
    let client_id = application["client_id"].as_str().unwrap();
    let grant = |redirect: &str| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("response_type", "token")
            .append_pair("client_id", client_id)
            .append_pair("scope", "repo:read")
            .append_pair("redirect_uri", redirect);
        format!("/oauth/authorize?{}", query.finish())
    };
    for elsewhere in [
        "http://app.example.evil.com/steal",
        "http://app.example@evil.com/",
        "http://app.example/callback",
        "http://app.example:8080/",
        "https://app.example/",
    ] {
        // Refused before the consent page, and by the grant itself.
        for method in [Method::GET, Method::POST] {
            registry
                .expect(
                    &alice,
                    (method, &grant(elsewhere)),
                    None,
                    StatusCode::BAD_REQUEST,
                )
                .await;
        }
    }
    let response = registry
        .request(&alice, Method::POST, &grant("http://app.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let fragment = location
        .strip_prefix("http://app.example/#")
        .unwrap_or_else(|| panic!("{location}"));
    let pairs: std::collections::HashMap<String, String> =
        form_urlencoded::parse(fragment.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(pairs["expires_in"], "2");
    let token = Caller::Bearer(pairs["access_token"].clone());
    registry
        .expect(
            &token,
            (Method::GET, "/api/v1/organization/acme"),
            None,
            StatusCode::OK,
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    registry
        .expect(
            &token,
            (Method::GET, "/api/v1/organization/acme"),
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;
}
