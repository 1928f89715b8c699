//! Header names and values of the distribution API.

/// Announces the API on every `/v2` response.
pub(crate) const API_VERSION: &str = "docker-distribution-api-version";
/// The only version there is.
pub(crate) const API_VERSION_VALUE: &str = "registry/2.0";
/// The digest of the content a response is about.
pub(crate) const CONTENT_DIGEST: &str = "docker-content-digest";
/// The id of an upload.
pub(crate) const DOCKER_UPLOAD_UUID: &str = "docker-upload-uuid";
/// The subject of a pushed manifest (OCI 1.1).
pub(crate) const OCI_SUBJECT: &str = "oci-subject";
/// Which filters a referrers response applied (OCI 1.1).
pub(crate) const OCI_FILTERS_APPLIED: &str = "oci-filters-applied";

/// The `Range` of an upload of `size` bytes: inclusive, without a unit. An empty upload is
/// `0-0`, as the reference registry answers.
pub(crate) fn upload_range(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}
