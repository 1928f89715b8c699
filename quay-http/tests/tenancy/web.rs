//! What a browser application asks first: the registry's setup and the session's CSRF
//! token.

use reqwest::{Method, StatusCode};

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
