//! The registry's limits and lifetimes.

use crate::events::Site;
use crate::permission::PermissionSettings;
use crate::proxy::MirrorRoutes;
use crate::quota::QuotaSettings;
use crate::tag::ExpirationLimits;

/// Limits and lifetimes, with Quay's defaults.
#[derive(Clone, Debug)]
pub struct RegistrySettings {
    /// Largest manifest accepted, in bytes (4 MiB).
    pub max_manifest_bytes: usize,
    /// Largest blob accepted (`MAXIMUM_LAYER_SIZE`); `None` for no limit.
    pub max_blob_bytes: Option<u64>,
    /// How long an upload or mount keeps a blob linked without a manifest
    /// (`PUSH_TEMP_TAG_EXPIRATION_SEC`, one hour).
    pub upload_link_ms: i64,
    /// How long a manifest pushed by digest stays alive without a tag (one hour).
    pub untagged_manifest_ms: i64,
    /// Most entries of one tag or catalog page (10,000).
    pub max_page_size: u32,
    /// Who may do what (`FEATURE_ANONYMOUS_ACCESS`, `FEATURE_SUPERUSERS_FULL_ACCESS`); with
    /// `CREATE_NAMESPACE_ON_PUSH`, a push creates a missing namespace, as an organization
    /// owned by the pusher.
    pub permissions: PermissionSettings,
    /// Bounds of expirations set through the API.
    pub expiration_limits: ExpirationLimits,
    /// Whether the `quay.immutable` label makes pushed tags immutable
    /// (`FEATURE_IMMUTABLE_TAGS`, default false).
    pub immutable_tags: bool,
    /// Whether pushes are held to quotas.
    pub quota: QuotaSettings,
    /// Whether blob downloads are redirected to a URL the blob store signs, where it can
    /// (Quay's direct download: `FEATURE_PROXY_STORAGE` false, object storage), so that
    /// the bytes do not pass through the registry.
    pub direct_download: bool,
    /// Where clients reach the registry, for the links in events.
    pub site: Site,
    /// Which proxy cache organization serves a client that takes the registry for a mirror
    /// of an upstream (`PROXY_CACHE_MIRRORS`).
    pub mirror_routes: MirrorRoutes,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            max_manifest_bytes: 4 * 1024 * 1024,
            max_blob_bytes: None,
            upload_link_ms: 3_600_000,
            untagged_manifest_ms: 3_600_000,
            max_page_size: 10_000,
            permissions: PermissionSettings::default(),
            expiration_limits: ExpirationLimits::default(),
            immutable_tags: false,
            quota: QuotaSettings::default(),
            direct_download: false,
            site: Site::default(),
            mirror_routes: MirrorRoutes::default(),
        }
    }
}
