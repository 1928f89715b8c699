//! What the loader makes of each key that is set: one this registry uses, one of Quay's that
//! it does not implement yet, or an unknown one, perhaps a misspelling.

/// Quay's keys that this registry does not implement yet, and what is missing. A key ending
/// in `*` stands for every key it begins. From `shared/spec/` and Quay's configuration
/// reference; a key that is not here is reported as unknown, which is no worse.
const UNIMPLEMENTED: &[(&str, &str)] = &[
    ("BUILDLOGS_*", "builds"),
    ("BUILDMAN_*", "builds"),
    ("BUILD_MANAGER", "builds"),
    ("FEATURE_BUILD_SUPPORT", "builds"),
    ("FEATURE_GITHUB_BUILD", "builds"),
    ("FEATURE_GITLAB_BUILD", "builds"),
    ("FEATURE_BITBUCKET_BUILD", "builds"),
    ("FEATURE_READER_BUILD_LOGS", "builds"),
    ("DEFAULT_NAMESPACE_MAXIMUM_BUILD_COUNT", "builds"),
    ("SECURITY_SCANNER_*", "security scanning"),
    ("FEATURE_SECURITY_SCANNER*", "security scanning"),
    ("FEATURE_SECURITY_NOTIFICATIONS", "security scanning"),
    (
        "FEATURE_PROXY_CACHE_*",
        "the proxy cache's background downloads",
    ),
    ("DEFAULT_PROXY_CACHE_EXPIRATION", "the proxy cache"),
    (
        "REPO_MIRROR_*",
        "this setting of repository mirroring (its syncs roll back failed tags only)",
    ),
    ("FEATURE_ORG_MIRROR", "organization mirroring"),
    ("ORG_MIRROR_*", "organization mirroring"),
    (
        "AUTHENTICATION_TYPE",
        "authentication other than the database",
    ),
    ("LDAP_*", "LDAP authentication"),
    ("FEATURE_TEAM_SYNCING", "team syncing"),
    ("FEATURE_NONSUPERUSER_TEAM_SYNCING_SETUP", "team syncing"),
    ("FEATURE_REQUIRE_TEAM_INVITE", "team invitations"),
    (
        "FEATURE_REQUIRE_ENCRYPTED_BASIC_AUTH",
        "refusing plain passwords",
    ),
    ("FEATURE_RESTRICTED_USERS", "restricted users"),
    ("RESTRICTED_USERS_WHITELIST", "restricted users"),
    (
        "FEATURE_SUPERUSERS_ORG_CREATION_ONLY",
        "organization creation by superusers only",
    ),
    (
        "TOKEN_VALIDITY_LIFETIME_S",
        "a configurable registry token lifetime",
    ),
    ("FEATURE_QUOTA_NOTIFICATIONS", "quota notifications"),
    ("QUOTA_NOTIFICATION_*", "quota notifications"),
    ("FEATURE_SIGNING", "content trust"),
    ("LOGS_MODEL*", "other log stores"),
    ("FEATURE_IMAGE_PULL_STATS", "pull statistics"),
    ("FEATURE_BILLING", "billing"),
    ("REGISTRY_STATE", "read-only mode"),
    ("DISABLE_PUSHES", "read-only mode"),
    ("DATA_MODEL_CACHE_CONFIG", "a shared model cache"),
    ("USER_EVENTS_REDIS", "user events"),
    ("PROMETHEUS_*", "metrics"),
    ("REGISTRY_TITLE*", "the web UI"),
    ("FEATURE_UI_V2", "the web UI"),
    ("BROWSER_API_CALLS_XHR_ONLY", "the web UI"),
];

/// Logs the keys of `set` that `used` names, and warns of the others (the key a field of the
/// line, so that the message stays the same for every key).
pub(super) fn report<'a>(set: impl Iterator<Item = &'a str>, used: &[&'static str]) {
    let mut in_use = Vec::new();
    for key in set {
        match warning(key, used) {
            None => in_use.push(key),
            Some(warning) => tracing::warn!(key, "{warning}"),
        }
    }
    if !in_use.is_empty() {
        tracing::info!(keys = %in_use.join(" "), "config keys in use");
    }
}

/// What to tell of `key` when `used` does not name it.
pub(super) fn warning(key: &str, used: &[&'static str]) -> Option<String> {
    if used.contains(&key) {
        return None;
    }
    if let Some(missing) = unimplemented(key) {
        return Some(format!(
            "Quay config key ignored: this registry does not implement {missing} yet"
        ));
    }
    Some(match near_miss(key, used) {
        Some(near) => format!("unknown config key ignored; did you mean {near}?"),
        None => "unknown config key ignored".to_string(),
    })
}

/// What is missing for Quay's `key`, if the table knows it.
fn unimplemented(key: &str) -> Option<&'static str> {
    UNIMPLEMENTED.iter().find_map(|&(pattern, missing)| {
        let known = match pattern.strip_suffix('*') {
            Some(prefix) => key.starts_with(prefix),
            None => key == pattern,
        };
        known.then_some(missing)
    })
}

/// The key, used or Quay's, that `key` is most likely a misspelling of: at most two edits
/// away (in any case), and fewer for short keys.
fn near_miss(key: &str, used: &[&'static str]) -> Option<&'static str> {
    let key = key.to_ascii_uppercase();
    let quays = UNIMPLEMENTED
        .iter()
        .map(|&(pattern, _)| pattern)
        .filter(|pattern| !pattern.ends_with('*'));
    used.iter()
        .copied()
        .chain(quays)
        .map(|candidate| (strsim::damerau_levenshtein(&key, candidate), candidate))
        .filter(|&(distance, candidate)| distance <= 2 && distance * 4 < candidate.len())
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}
