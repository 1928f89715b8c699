//! Who may call what: the first user, sessions and their CSRF token, 401 and 403, and the
//! credentials the registry's token endpoint accepts.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn the_first_user_is_initialized_once_and_only_where_enabled() {
    let registry = Registry::start().await;
    let me = registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/user/"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(me["username"], "admin");
    assert_eq!(me["super_user"], true);
    let again = registry
        .expect(
            &Caller::Anonymous,
            (Method::POST, "/api/v1/user/initialize"),
            Some(json!({"username": "second", "password": PASSWORD})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(again["error_type"], "invalid_request");
    assert!(again["detail"].as_str().unwrap().contains("non-empty"));

    let disabled = Registry::start_with(|_, tenancy| tenancy.user_initialize = false).await;
    assert!(matches!(disabled.admin, Caller::Anonymous));
    let (status, body) = disabled
        .call(
            &Caller::Anonymous,
            Method::POST,
            "/api/v1/user/initialize",
            Some(json!({"username": "admin", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    assert_eq!(
        body["detail"], "FEATURE_USER_INITIALIZE is off on this registry",
        "{body}"
    );
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_changes_nothing() {
    let registry = Registry::start().await;
    for (body, message) in [
        (
            json!({"username": "Bad Name", "password": PASSWORD}),
            "invalid",
        ),
        (
            json!({"username": "short", "password": "short"}),
            "at least 8",
        ),
        (
            json!({"username": "spaces", "password": "has spaces in it"}),
            "whitespace",
        ),
        (
            json!({"username": "mail", "password": PASSWORD, "email": "nope"}),
            "email",
        ),
        (json!({"password": PASSWORD}), "username"),
    ] {
        let refused = registry
            .expect(
                &Caller::Anonymous,
                (Method::POST, "/api/v1/user/"),
                Some(body),
                StatusCode::BAD_REQUEST,
            )
            .await;
        let detail = refused["detail"].as_str().unwrap().to_lowercase();
        assert!(detail.contains(message), "{detail}");
    }
    let users = registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/superuser/users/"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(users["users"].as_array().unwrap().len(), 1, "{users}");
    let (status, body) = registry
        .call(&registry.admin, Method::POST, "/api/v1/organization/", None)
        .await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
}

#[tokio::test]
async fn anonymous_callers_get_401_and_strangers_403_whether_or_not_it_exists() {
    let registry = Registry::start().await;
    registry
        .expect(
            &registry.admin,
            (Method::POST, "/api/v1/repository"),
            Some(json!({"repository": "secret", "visibility": "private", "description": ""})),
            StatusCode::CREATED,
        )
        .await;
    let stranger = registry.user("stranger").await;
    for path in [
        "/api/v1/repository/admin/secret",
        "/api/v1/repository/admin/missing",
        "/api/v1/repository/nobody/missing",
    ] {
        let anonymous = registry
            .expect(
                &Caller::Anonymous,
                (Method::GET, path),
                None,
                StatusCode::UNAUTHORIZED,
            )
            .await;
        assert_eq!(anonymous["error_type"], "invalid_token");
        let refused = registry
            .expect(&stranger, (Method::GET, path), None, StatusCode::FORBIDDEN)
            .await;
        assert_eq!(refused["error_type"], "insufficient_scope");
    }
    registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/repository/admin/secret"),
            None,
            StatusCode::OK,
        )
        .await;
    registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/repository/admin/missing"),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    // The same holds for organizations, and Basic credentials are not for the API.
    let basic = registry
        .request(&Caller::Anonymous, Method::GET, "/api/v1/user/")
        .basic_auth("admin", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    registry
        .expect(
            &stranger,
            (Method::GET, "/api/v1/organization/nothere/members"),
            None,
            StatusCode::FORBIDDEN,
        )
        .await;
    let invalid = Caller::Bearer("not-a-token".into());
    registry
        .expect(
            &invalid,
            (Method::GET, "/api/v1/user/"),
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;
}

#[tokio::test]
async fn sessions_need_their_csrf_token_to_change_anything() {
    let registry = Registry::start().await;
    let session = registry.sign_in("admin", PASSWORD).await.unwrap();
    assert_eq!(
        registry.sign_in("admin", "wrong-password").await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    registry
        .expect(
            &session,
            (Method::GET, "/api/v1/user/"),
            None,
            StatusCode::OK,
        )
        .await;
    let Caller::Session { cookie, .. } = &session else {
        unreachable!()
    };
    let forged = Caller::Session {
        cookie: cookie.clone(),
        csrf: "guessed".into(),
    };
    let refused = registry
        .expect(
            &forged,
            (Method::POST, "/api/v1/organization/"),
            Some(json!({"name": "forged"})),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(refused["error_type"], "csrf_token_invalid");
    registry
        .expect(
            &session,
            (Method::POST, "/api/v1/organization/"),
            Some(json!({"name": "real"})),
            StatusCode::CREATED,
        )
        .await;
    registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/organization/forged"),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;

    registry
        .expect(
            &session,
            (Method::POST, "/api/v1/signout"),
            None,
            StatusCode::OK,
        )
        .await;
    registry
        .expect(
            &session,
            (Method::GET, "/api/v1/user/"),
            None,
            StatusCode::UNAUTHORIZED,
        )
        .await;
}

#[tokio::test]
async fn app_specific_tokens_log_in_until_revoked() {
    let registry = Registry::start().await;
    let session = registry.sign_in("admin", PASSWORD).await.unwrap();
    let created = registry
        .expect(
            &session,
            (Method::POST, "/api/v1/user/apptoken"),
            Some(json!({"title": "laptop"})),
            StatusCode::OK,
        )
        .await;
    let code = created["token"]["token_code"].as_str().unwrap().to_string();
    let uuid = created["token"]["uuid"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 120);
    let listed = registry
        .expect(
            &session,
            (Method::GET, "/api/v1/user/apptoken"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(listed["tokens"][0]["title"], "laptop");
    assert!(
        listed["tokens"][0]["token_code"].is_null(),
        "shown only once"
    );

    let (status, body) = registry
        .registry_token(("$app", &code), "repository:admin/app:push,pull")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        Registry::granted(body["token"].as_str().unwrap()),
        ["push", "pull"]
    );

    registry
        .expect(
            &session,
            (Method::DELETE, &format!("/api/v1/user/apptoken/{uuid}")),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    let (status, _) = registry
        .registry_token(("$app", &code), "repository:admin/app:pull")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn regenerating_a_robot_token_retires_the_old_one() {
    let registry = Registry::start().await;
    let created = registry
        .expect(
            &registry.admin,
            (Method::PUT, "/api/v1/user/robots/builder"),
            None,
            StatusCode::CREATED,
        )
        .await;
    let old = created["token"].as_str().unwrap().to_string();
    assert_eq!(old.len(), 64);
    let scope = "repository:admin/app:pull";
    assert_eq!(
        registry
            .registry_token(("admin+builder", &old), scope)
            .await
            .0,
        StatusCode::OK
    );

    let regenerated = registry
        .expect(
            &registry.admin,
            (Method::POST, "/api/v1/user/robots/builder/regenerate"),
            None,
            StatusCode::OK,
        )
        .await;
    let new = regenerated["token"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(
        registry
            .registry_token(("admin+builder", &old), scope)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        registry
            .registry_token(("admin+builder", new), scope)
            .await
            .0,
        StatusCode::OK
    );
    let shown = registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/user/robots/builder"),
            None,
            StatusCode::OK,
        )
        .await;
    assert!(shown["token"].is_null(), "a token is shown only when made");
}

#[tokio::test]
async fn robots_disallow_refuses_robot_logins_and_new_robots() {
    let registry = Registry::start().await;
    let created = registry
        .expect(
            &registry.admin,
            (Method::PUT, "/api/v1/user/robots/early"),
            None,
            StatusCode::CREATED,
        )
        .await;
    let token = created["token"].as_str().unwrap().to_string();
    let scope = "repository:admin/app:pull";
    assert_eq!(
        registry
            .registry_token(("admin+early", &token), scope)
            .await
            .0,
        StatusCode::OK
    );

    let registry = registry
        .restart_with(|auth, _| auth.robots_disallow = true)
        .await;
    let (status, body) = registry
        .registry_token(("admin+early", &token), scope)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.to_string().contains("disabled"), "{body}");
    let refused = registry
        .expect(
            &registry.admin,
            (Method::PUT, "/api/v1/user/robots/late"),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(refused["detail"].as_str().unwrap().contains("disabled"));

    // Whitelisted robots still log in.
    let registry = registry
        .restart_with(|auth, _| {
            auth.robots_disallow = true;
            auth.robots_whitelist = vec!["admin+early".into()];
        })
        .await;
    assert_eq!(
        registry
            .registry_token(("admin+early", &token), scope)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn failed_sign_ins_are_logged_where_configured() {
    let registry = Registry::start_with(|auth, _| auth.audit_login_failures = true).await;
    assert!(registry.sign_in("admin", "not-the-password").await.is_err());
    registry.sign_in("admin", PASSWORD).await.unwrap();
    let logs = registry
        .expect(
            &registry.admin,
            (Method::GET, "/api/v1/superuser/logs"),
            None,
            StatusCode::OK,
        )
        .await;
    let entries: Vec<(&str, &str)> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["kind"].as_str().unwrap(),
                entry["metadata"]["type"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        entries[..2],
        [("login_success", "quayauth"), ("login_failure", "quayauth")]
    );
    assert!(
        !logs.to_string().contains("not-the-password"),
        "no secret in the log"
    );
    // The attempts are in the log of the account they tried, which its owner exports.
    let kinds = registry
        .log_kinds(&registry.admin, "/api/v1/user/logs")
        .await;
    assert!(
        kinds.iter().any(|kind| kind == "login_failure"),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|kind| kind == "login_success"),
        "{kinds:?}"
    );
}

/// Waits until `token` no longer opens `/v2/`; how long that took (at most 10 s).
async fn revoked_within(registry: &Registry, token: &str) -> std::time::Duration {
    let started = std::time::Instant::now();
    loop {
        let status = registry
            .request(&Caller::Bearer(token.to_string()), Method::GET, "/v2/")
            .send()
            .await
            .unwrap()
            .status();
        if status == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the registry token still works"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn registry_tokens_stop_working_within_seconds_of_their_credential_changing() {
    let registry = Registry::start().await;
    let scope = "repository:admin/app:pull";
    let token_of = |(status, body): (StatusCode, Value)| {
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_string()
    };
    let created = registry
        .expect(
            &registry.admin,
            (Method::PUT, "/api/v1/user/robots/builder"),
            None,
            StatusCode::CREATED,
        )
        .await;
    let robot_token = created["token"].as_str().unwrap().to_string();
    let issued = token_of(
        registry
            .registry_token(("admin+builder", &robot_token), scope)
            .await,
    );

    // The robot's token is regenerated: what was issued for the old one stops, what is
    // issued for the new one works at once.
    let regenerated = registry
        .expect(
            &registry.admin,
            (Method::POST, "/api/v1/user/robots/builder/regenerate"),
            None,
            StatusCode::OK,
        )
        .await;
    let regeneration = revoked_within(&registry, &issued).await;
    let new_token = regenerated["token"].as_str().unwrap();
    let reissued = token_of(
        registry
            .registry_token(("admin+builder", new_token), scope)
            .await,
    );
    let status = registry
        .request(&Caller::Bearer(reissued.clone()), Method::GET, "/v2/")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);

    // The robot is deleted.
    registry
        .expect(
            &registry.admin,
            (Method::DELETE, "/api/v1/user/robots/builder"),
            None,
            StatusCode::NO_CONTENT,
        )
        .await;
    let deletion = revoked_within(&registry, &reissued).await;

    // A user is disabled.
    let alice = registry
        .expect(
            &registry.admin,
            (Method::POST, "/api/v1/superuser/users/"),
            Some(json!({"username": "alice", "email": "alice@example.com"})),
            StatusCode::OK,
        )
        .await;
    let password = alice["password"].as_str().unwrap();
    let issued = token_of(registry.registry_token(("alice", password), scope).await);
    registry
        .expect(
            &registry.admin,
            (Method::PUT, "/api/v1/superuser/users/alice"),
            Some(json!({"enabled": false})),
            StatusCode::OK,
        )
        .await;
    let disabling = revoked_within(&registry, &issued).await;
    for (what, took) in [
        ("regenerated", regeneration),
        ("deleted", deletion),
        ("disabled", disabling),
    ] {
        assert!(
            took < std::time::Duration::from_secs(5),
            "{what}: still working after {took:?}"
        );
    }
}

#[tokio::test]
async fn the_catalog_shows_each_caller_what_they_may_read() {
    let registry = Registry::start().await;
    for (name, visibility) in [("public", "public"), ("private", "private")] {
        registry
            .expect(
                &registry.admin,
                (Method::POST, "/api/v1/repository"),
                Some(json!({"namespace": "admin", "repository": name,
                    "visibility": visibility, "description": ""})),
                StatusCode::CREATED,
            )
            .await;
    }
    let bob = registry
        .expect(
            &registry.admin,
            (Method::POST, "/api/v1/superuser/users/"),
            Some(json!({"username": "bob", "email": "bob@example.com"})),
            StatusCode::OK,
        )
        .await;
    let bob_password = bob["password"].as_str().unwrap();
    let catalog = |credentials: Option<(&str, &str)>| {
        let mut request = registry.request(&Caller::Anonymous, Method::GET, "/v2/_catalog");
        if let Some((user, password)) = credentials {
            request = request.basic_auth(user, Some(password));
        }
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let body: Value = response.json().await.unwrap();
            body["repositories"].clone()
        }
    };
    // Anonymous callers see nothing without FEATURE_PUBLIC_CATALOG (Quay's default).
    assert_eq!(catalog(None).await, json!([]));
    assert_eq!(
        catalog(Some(("bob", bob_password))).await,
        json!(["admin/public"])
    );
    assert_eq!(
        catalog(Some(("admin", PASSWORD))).await,
        json!(["admin/private", "admin/public"])
    );
    // A registry token shows what its holder may read, whatever it grants.
    let (status, token) = registry
        .registry_token(("bob", bob_password), "repository:admin/public:pull")
        .await;
    assert_eq!(status, StatusCode::OK);
    let holder = Caller::Bearer(token["token"].as_str().unwrap().to_string());
    let response = registry
        .request(&holder, Method::GET, "/v2/_catalog")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["repositories"], json!(["admin/public"]));
}

#[tokio::test]
async fn a_refused_mount_names_its_source_so_that_the_next_attempt_mounts() {
    let registry = Registry::start().await;
    let blob = b"a layer both repositories share";
    let digest = quay_core::hash::digest_of(quay_core::DigestAlgorithm::Sha256, blob);
    let (_, token) = registry
        .registry_token(("admin", PASSWORD), "repository:admin/source:pull,push")
        .await;
    let source = Caller::Bearer(token["token"].as_str().unwrap().to_string());
    let upload = registry
        .request(
            &source,
            Method::POST,
            &format!("/v2/admin/source/blobs/uploads/?digest={digest}"),
        )
        .body(blob.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::CREATED);

    // The first attempt, without a token, is challenged for both repositories.
    let mount = format!("/v2/admin/target/blobs/uploads/?mount={digest}&from=admin/source");
    let challenged = registry
        .request(&Caller::Anonymous, Method::POST, &mount)
        .send()
        .await
        .unwrap();
    assert_eq!(challenged.status(), StatusCode::UNAUTHORIZED);
    let challenge = challenged.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge
            .contains("scope=\"repository:admin/target:pull,push repository:admin/source:pull\""),
        "{challenge}"
    );
    // A token for what the challenge names mounts the blob (201), as the reference registry
    // does, instead of starting an upload (202).
    let (_, token) = registry
        .registry_token(
            ("admin", PASSWORD),
            "repository:admin/target:pull,push&scope=repository:admin/source:pull",
        )
        .await;
    let both = Caller::Bearer(token["token"].as_str().unwrap().to_string());
    let mounted = registry
        .request(&both, Method::POST, &mount)
        .send()
        .await
        .unwrap();
    assert_eq!(mounted.status(), StatusCode::CREATED);
    let linked = registry
        .request(
            &both,
            Method::HEAD,
            &format!("/v2/admin/target/blobs/{digest}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(linked.status(), StatusCode::OK);
}
