//! A registry with accounts on 127.0.0.1:0 (SQLite, filesystem blobs, the authorizer), its
//! first user `admin` (a superuser) initialized through the API, and helpers to call the
//! API as anyone.

use std::path::Path;

use quay_app::{App, AppSettings};
use quay_auth::AuthSettings;
use quay_core::RegistrySettings;
use quay_core::account::Superusers;
use quay_core::quota::QuotaSettings;
use quay_http::{AppState, Tenancy, TenancySettings};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

/// How a caller authenticates to the API.
#[derive(Clone, Debug)]
pub enum Caller {
    Anonymous,
    /// An OAuth access token.
    Bearer(String),
    /// A session cookie and its CSRF token.
    Session {
        cookie: String,
        csrf: String,
    },
}

pub const PASSWORD: &str = "correct-horse-battery";

pub struct Registry {
    pub address: String,
    base: String,
    http: reqwest::Client,
    /// The first user, a superuser, with an access token.
    pub admin: Caller,
    _dir: tempfile::TempDir,
}

/// The embedded application, keeping sizes when quota management is on.
async fn open_app(dir: &Path, quota: QuotaSettings, auth: AuthSettings) -> App {
    let settings = AppSettings {
        registry: RegistrySettings {
            quota,
            ..RegistrySettings::default()
        },
        auth,
        ..AppSettings::default()
    };
    App::embedded(dir, settings).await.unwrap()
}

impl Registry {
    /// With Quay's defaults, `admin` in `SUPER_USERS` and `FEATURE_USER_INITIALIZE` on.
    pub async fn start() -> Self {
        Self::start_with(|_, _| {}).await
    }

    pub async fn start_with(
        configure: impl FnOnce(&mut AuthSettings, &mut TenancySettings),
    ) -> Self {
        Self::start_with_quota(QuotaSettings::default(), configure).await
    }

    /// With the registry's quota switches set to `quota`.
    pub async fn start_with_quota(
        quota: QuotaSettings,
        configure: impl FnOnce(&mut AuthSettings, &mut TenancySettings),
    ) -> Self {
        Self::serve(tempfile::tempdir().unwrap(), quota, configure).await
    }

    /// Another server on the same data (the first keeps running), configured anew.
    pub async fn restart_with(
        self,
        configure: impl FnOnce(&mut AuthSettings, &mut TenancySettings),
    ) -> Self {
        self.restart_with_quota(QuotaSettings::default(), configure)
            .await
    }

    /// Another server on the same data, with the registry's quota switches set to `quota`.
    pub async fn restart_with_quota(
        self,
        quota: QuotaSettings,
        configure: impl FnOnce(&mut AuthSettings, &mut TenancySettings),
    ) -> Self {
        let admin = self.admin.clone();
        let mut restarted = Self::serve(self._dir, quota, configure).await;
        restarted.admin = admin;
        restarted
    }

    async fn serve(
        dir: tempfile::TempDir,
        quota: QuotaSettings,
        configure: impl FnOnce(&mut AuthSettings, &mut TenancySettings),
    ) -> Self {
        let mut auth = AuthSettings {
            superusers: Superusers {
                full: vec!["admin".into()],
                read_only: Vec::new(),
            },
            ..AuthSettings::default()
        };
        let mut settings = TenancySettings {
            user_initialize: true,
            ..TenancySettings::default()
        };
        configure(&mut auth, &mut settings);
        let app = open_app(dir.path(), quota, auth).await;
        let tenancy = Tenancy {
            authenticator: app.authenticator.clone(),
            accounts: app.accounts.clone(),
            settings,
        };
        let state = AppState::new(app.registry.clone()).with_tenancy(tenancy);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let app = quay_http::router(state)
                .into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, app).await.unwrap();
        });
        let mut registry = Self {
            base: format!("http://{address}"),
            address,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            admin: Caller::Anonymous,
            _dir: dir,
        };
        let (status, body) = registry
            .call(
                &Caller::Anonymous,
                Method::POST,
                "/api/v1/user/initialize",
                Some(json!({
                    "username": "admin", "password": PASSWORD,
                    "email": "admin@example.com", "access_token": true
                })),
            )
            .await;
        if status == StatusCode::OK {
            registry.admin = Caller::Bearer(body["access_token"].as_str().unwrap().into());
        }
        registry
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request as `caller`.
    pub fn request(&self, caller: &Caller, method: Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, self.url(path));
        match caller {
            Caller::Anonymous => request,
            Caller::Bearer(token) => request.bearer_auth(token),
            Caller::Session { cookie, csrf } => request
                .header(header::COOKIE, format!("quay_session={cookie}"))
                .header("x-csrf-token", csrf),
        }
    }

    /// Calls the API; the status and the JSON body (`null` when empty).
    pub async fn call(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.request(caller, method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}"))
        };
        (status, body)
    }

    /// Calls the API and expects `expected`; the body.
    pub async fn expect(
        &self,
        caller: &Caller,
        (method, path): (Method, &str),
        body: Option<Value>,
        expected: StatusCode,
    ) -> Value {
        let (status, body) = self.call(caller, method.clone(), path, body).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
        body
    }

    /// A new user (created by the admin), signed in.
    /// Creates organization `name`, `caller` its owner.
    pub async fn organization(&self, caller: &Caller, name: &str) {
        self.expect(
            caller,
            (Method::POST, "/api/v1/organization/"),
            Some(json!({ "name": name })),
            StatusCode::CREATED,
        )
        .await;
    }

    /// The kinds of the entries of the usage log at `path`, newest first, as `caller` reads
    /// them.
    pub async fn log_kinds(&self, caller: &Caller, path: &str) -> Vec<String> {
        let logs = self
            .expect(caller, (Method::GET, path), None, StatusCode::OK)
            .await;
        logs["logs"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|entry| entry["kind"].as_str().map(String::from))
            .collect()
    }

    pub async fn user(&self, name: &str) -> Caller {
        let created = self
            .expect(
                &self.admin,
                (Method::POST, "/api/v1/superuser/users/"),
                Some(json!({"username": name, "email": format!("{name}@example.com")})),
                StatusCode::OK,
            )
            .await;
        let password = created["password"].as_str().unwrap();
        self.sign_in(name, password).await.unwrap()
    }

    /// Signs in; the session, or the refusal's status.
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<Caller, StatusCode> {
        let response = self
            .http
            .post(self.url("/api/v1/signin"))
            .json(&json!({"username": name, "password": password}))
            .send()
            .await
            .unwrap();
        if response.status() != StatusCode::OK {
            return Err(response.status());
        }
        let cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .and_then(|pair| pair.strip_prefix("quay_session="))
            .unwrap()
            .to_string();
        let csrf = response.headers()["x-next-csrf-token"]
            .to_str()
            .unwrap()
            .to_string();
        Ok(Caller::Session { cookie, csrf })
    }

    /// A registry token from `/v2/auth` for `scope` with Basic credentials; the status and
    /// the body.
    pub async fn registry_token(
        &self,
        (user, password): (&str, &str),
        scope: &str,
    ) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.url(&format!("/v2/auth?service={}&scope={scope}", self.address)))
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The actions a registry token grants (its `access` claim), decoded without checking
    /// the signature (the registry checks it when the token is used).
    pub fn granted(token: &str) -> Vec<String> {
        use base64::Engine as _;
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        claims["access"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|access| access["actions"].as_array().unwrap().clone())
            .map(|action| action.as_str().unwrap().to_string())
            .collect()
    }
}
