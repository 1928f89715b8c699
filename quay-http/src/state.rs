//! What the handlers share: the registry, accounts where there are any, and how clients
//! reach the registry.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use quay_auth::Authenticator;
use quay_core::{Accounts, Registry};

/// Accounts behind the API: who may log in, and the stores of users, teams and the usage
/// log. Without them the registry is open (every caller anonymous) and has no `/api/v1`.
pub struct Tenancy {
    /// Resolves credentials and issues registry tokens.
    pub authenticator: Arc<Authenticator>,
    /// Tenancy's use cases (on the registry's stores).
    pub accounts: Arc<Accounts>,
    /// Switches of the deployment.
    pub settings: TenancySettings,
}

/// Switches of the deployment that the API honours, with Quay's defaults.
#[derive(Clone, Debug)]
pub struct TenancySettings {
    /// `FEATURE_USER_CREATION`: anyone may sign up.
    pub user_creation: bool,
    /// `FEATURE_USER_INITIALIZE`: the first user may be created through the API.
    pub user_initialize: bool,
    /// `PERMANENTLY_DELETE_TAGS`: tags may be taken out of the time machine.
    pub permanently_delete_tags: bool,
    /// `FEATURE_CHANGE_TAG_EXPIRATION`: namespaces may change their time-machine window.
    pub change_tag_expiration: bool,
    /// `TAG_EXPIRATION_OPTIONS`, in seconds: the windows a namespace may choose.
    pub tag_expiration_options: Vec<i64>,
    /// `FEATURE_AUTO_PRUNE`: namespaces and repositories may have auto-prune policies.
    pub auto_prune: bool,
    /// `FEATURE_EDIT_QUOTA` (default true): with quota management (the registry's
    /// `RegistrySettings::quota`), the quota API is served.
    pub edit_quota: bool,
    /// `OAUTH_IMPLICIT_TOKEN_LIFETIME`, seconds: how long an access token of the implicit
    /// grant lasts (a day; Quay's last ten years).
    pub implicit_token_lifetime_s: i64,
    /// Whether usage logs may be exported (`FEATURE_LOG_EXPORT`).
    pub log_export: bool,
    /// Whether organizations may be proxy caches (`FEATURE_PROXY_CACHE`, default false).
    pub proxy_cache: bool,
}

impl Default for TenancySettings {
    fn default() -> Self {
        Self {
            user_creation: true,
            user_initialize: false,
            permanently_delete_tags: false,
            change_tag_expiration: true,
            tag_expiration_options: vec![0, 86_400, 604_800, 1_209_600, 2_419_200],
            auto_prune: false,
            edit_quota: true,
            implicit_token_lifetime_s: 86_400,
            log_export: true,
            proxy_cache: false,
        }
    }
}

/// Where clients reach the registry (`PREFERRED_URL_SCHEME`, `SERVER_HOSTNAME`).
#[derive(Clone, Debug)]
pub(crate) struct PublicAddress {
    pub(crate) scheme: Arc<str>,
    pub(crate) host: Arc<str>,
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub(crate) registry: Arc<Registry>,
    pub(crate) tenancy: Option<Arc<Tenancy>>,
    pub(crate) public: Option<PublicAddress>,
    /// How clients reach the registry (`PREFERRED_URL_SCHEME`), also without a public host.
    pub(crate) scheme: Arc<str>,
    /// What `/metrics` renders, where the process records Prometheus metrics.
    pub(crate) metrics: Option<PrometheusHandle>,
}

impl AppState {
    /// State for a registry (which its authorizer guards).
    pub fn new(registry: Arc<Registry>) -> Self {
        Self {
            registry,
            tenancy: None,
            public: None,
            scheme: "http".into(),
            metrics: None,
        }
    }

    /// Serves `/metrics` from `handle` (see [`install_recorder`](crate::install_recorder)).
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    /// Clients reach the registry over `scheme` (`http` or `https`, Quay's
    /// `PREFERRED_URL_SCHEME`): the token service's URL in challenges says so even where no
    /// public host is configured.
    pub fn with_scheme(mut self, scheme: &str) -> Self {
        self.scheme = scheme.into();
        self
    }

    /// Adds accounts: credentials are checked, registry tokens issued, and `/api/v1`
    /// served.
    pub fn with_tenancy(mut self, tenancy: Tenancy) -> Self {
        self.tenancy = Some(Arc::new(tenancy));
        self
    }

    /// Makes `Location` and `Link` headers absolute, under this URL (`scheme://host`, from
    /// Quay's `PREFERRED_URL_SCHEME` and `SERVER_HOSTNAME`), which is also the token
    /// service's name. Without it headers are relative, which clients resolve against the
    /// address they used, and the service is named by the request's `Host`.
    pub fn with_public_url(mut self, url: &str) -> Self {
        let url = url.trim_end_matches('/');
        let (scheme, host) = url.split_once("://").unwrap_or(("http", url));
        self.public = Some(PublicAddress {
            scheme: scheme.into(),
            host: host.into(),
        });
        self.with_scheme(scheme)
    }

    /// Whether clients reach the registry over HTTPS (cookies are then `Secure`).
    pub(crate) fn is_https(&self) -> bool {
        &*self.scheme == "https"
    }

    /// `path` as a URL for a header.
    pub(crate) fn url(&self, path: &str) -> String {
        match &self.public {
            Some(public) => format!("{}://{}{path}", public.scheme, public.host),
            None => path.to_string(),
        }
    }
}
