//! The API description: generated from the handlers, it covers every route.

use reqwest::{Method, StatusCode};

use crate::support::*;

#[tokio::test]
async fn discovery_describes_every_route_with_its_schemas() {
    let registry = Registry::start().await;
    let description = registry
        .expect(
            &Caller::Anonymous,
            (Method::GET, "/api/v1/discovery"),
            None,
            StatusCode::OK,
        )
        .await;
    let paths = description["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/user/initialize", "post"),
        ("/api/v1/user/", "get"),
        ("/api/v1/user/", "post"),
        ("/api/v1/signin", "post"),
        ("/api/v1/user/apptoken", "post"),
        ("/api/v1/superuser/users/{username}", "put"),
        ("/api/v1/organization/", "post"),
        ("/api/v1/organization/{orgname}", "delete"),
        (
            "/api/v1/organization/{orgname}/team/{teamname}/members/{membername}",
            "put",
        ),
        (
            "/api/v1/organization/{orgname}/robots/{robot_shortname}/regenerate",
            "post",
        ),
        ("/api/v1/user/robots/{robot_shortname}", "put"),
        ("/api/v1/repository", "get"),
        (
            "/api/v1/repository/{namespace}/{repository}/changevisibility",
            "post",
        ),
        (
            "/api/v1/repository/{namespace}/{repository}/permissions/team/{teamname}",
            "put",
        ),
        (
            "/api/v1/organization/{orgname}/prototypes/{prototypeid}",
            "delete",
        ),
        ("/api/v1/organization/{orgname}/applications", "post"),
        ("/api/v1/repository/{namespace}/{repository}/logs", "get"),
        ("/api/v1/superuser/aggregatelogs", "get"),
        (
            "/api/v1/repository/{namespace}/{repository}/notification/{uuid}",
            "post",
        ),
        ("/api/v1/organization/{orgname}/notifications", "post"),
        ("/api/v1/user/namespacenotifications/{uuid}", "delete"),
        (
            "/api/v1/repository/{namespace}/{repository}/notification/{uuid}/deliveries",
            "get",
        ),
        (
            "/api/v1/organization/{orgname}/notifications/{uuid}/test",
            "post",
        ),
        (
            "/api/v1/repository/{namespace}/{repository}/authorizedemail/{email}",
            "post",
        ),
        ("/api/v1/discovery", "get"),
        ("/api/v1/user/", "put"),
        ("/api/v1/repository/{namespace}/{repository}/tag/", "get"),
        (
            "/api/v1/repository/{namespace}/{repository}/tag/{tag}",
            "put",
        ),
        (
            "/api/v1/repository/{namespace}/{repository}/tag/{tag}/restore",
            "post",
        ),
        (
            "/api/v1/repository/{namespace}/{repository}/manifest/{digest}/labels",
            "get",
        ),
    ] {
        let operation = &paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is not described"))[method];
        assert!(operation.is_object(), "{method} {path} is not described");
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{method} {path}"
        );
    }
    assert_eq!(paths.len(), 108, "{:?}", paths.keys().collect::<Vec<_>>());
    let schemas = description["components"]["schemas"].as_object().unwrap();
    for schema in [
        "ErrorBody",
        "NotificationView",
        "DeliveryList",
        "RobotView",
        "LogList",
        "NewRepository",
        "TeamRequest",
    ] {
        assert!(schemas.contains_key(schema), "{schema}");
    }
}
