use std::collections::BTreeSet;

use quay_storage::S3Location;

use super::units::parse_size;
use super::*;
use crate::log_capture::logged;

fn load(yaml: &str, env: &[(&str, &str)]) -> anyhow::Result<Config> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.yaml");
    std::fs::write(&file, yaml).unwrap();
    Config::load(Some(&file), |key| {
        env.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| (*v).to_string())
    })
}

/// Every key the loader reads, by section, as `Config::load` asks for them.
fn used_keys() -> Vec<&'static str> {
    use reader::field_names;
    [
        field_names::<Server>(),
        field_names::<Database>(),
        field_names::<storage::StorageKeys>(),
        field_names::<Registry>(),
        field_names::<Auth>(),
        field_names::<Tenancy>(),
        field_names::<TimeMachine>(),
        field_names::<Collector>(),
        field_names::<QuotaSettings>(),
        field_names::<QuotaBackfill>(),
        field_names::<Notifications>(),
        field_names::<Mail>(),
        field_names::<Limits>(),
    ]
    .concat()
}

#[test]
fn every_key_is_read_once() {
    let used = used_keys();
    let distinct: BTreeSet<&str> = used.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        used.len(),
        "a key in two sections: {used:?}"
    );
    assert_eq!(used.len(), 72);
    for key in used {
        // A value no key accepts: the error shows that the key was read, and by whom.
        let error = format!("{:#}", load("", &[(key, "[[{}]]")]).unwrap_err());
        assert!(error.contains(key), "{key}: {error}");
        assert!(
            keys::warning(key, &used_keys()).is_none(),
            "{key} is reported as unused"
        );
    }
}

#[test]
fn unset_keys_have_quay_defaults() {
    let config = load("", &[]).unwrap();
    assert_eq!(config.server, Server::default());
    assert!(config.server.scheme.is_none() && config.public_url().is_none());
    assert!(config.database.uri.is_none() && config.storage.is_none());
    assert!(config.database.secret_key.is_none());
    let notifications = &config.notifications;
    assert!(notifications.ssrf_allowed_hosts.is_empty());
    assert_eq!(notifications.send_timeout, Duration::from_secs(10));
    assert_eq!(notifications.retry_after, Duration::from_secs(30));
    let registry = &config.registry;
    assert_eq!(registry.maximum_layer_size, None);
    assert!(registry.create_private_repo_on_push && !registry.create_namespace_on_push);
    assert!(!registry.immutable_tags && !registry.proxy_storage);
    let auth = &config.auth;
    assert!(auth.anonymous_access && !auth.superusers_full_access);
    assert!(auth.app_specific_tokens && auth.audit_logins && auth.audit_login_failures);
    assert!(auth.super_users.is_empty() && !auth.robots_disallow);
    let tenancy = &config.tenancy;
    assert!(tenancy.user_creation && !tenancy.user_initialize && !tenancy.public_catalog);
    assert!(!tenancy.auto_prune && tenancy.edit_quota);
    assert_eq!(tenancy.implicit_token_lifetime, Duration::from_secs(86_400));
    let time_machine = &config.time_machine;
    assert_eq!(time_machine.default_window, days(14));
    assert_eq!(time_machine.window_options.len(), 5);
    assert_eq!(time_machine.expiration_maximum, days(728));
    assert!(time_machine.change_window && !time_machine.permanently_delete_tags);
    assert_eq!(config.collector.frequency, Duration::from_secs(30));
    assert!(config.collector.enabled);
    assert!(!config.quota.management && config.quota.verify);
    assert_eq!(config.quota.system_reject_bytes, 0);
    assert_eq!(config.quota_backfill.delay, Duration::from_secs(1_800));
    assert_eq!(config.http, Limits::default());
}

#[test]
fn reads_quay_fields() {
    let config = load(
        "SERVER_HOSTNAME: registry.example.com\n\
         PREFERRED_URL_SCHEME: https\n\
         DB_URI: sqlite:///var/lib/quay/quay.db\n\
         DB_CONNECTION_ARGS: {max_connections: 4, threadlocals: true}\n\
         DISTRIBUTED_STORAGE_CONFIG:\n  default:\n    - LocalStorage\n    - storage_path: /datastorage/registry\n\
         DISTRIBUTED_STORAGE_PREFERENCE: [default]\n\
         MAXIMUM_LAYER_SIZE: 20G\n\
         GARBAGE_COLLECTION_FREQUENCY: 60\n\
         DEFAULT_TAG_EXPIRATION: 2w\n\
         TAG_EXPIRATION_OPTIONS: [1d, 4w]\n\
         HTTP_IDLE_TIMEOUT: 5m\n\
         FEATURE_QUOTA_MANAGEMENT: true\n\
         QUOTA_BACKFILL: ~\n\
         FEATURE_SOMETHING_NEW: true\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        config.public_url().as_deref(),
        Some("https://registry.example.com")
    );
    assert_eq!(
        config.database.uri.as_ref().map(Secret::expose),
        Some("sqlite:///var/lib/quay/quay.db")
    );
    assert_eq!(config.database.connection_args.max_connections, Some(4));
    assert_eq!(
        config.storage,
        Some(StorageConfig {
            locations: vec![(
                "default".into(),
                LocationConfig::Local {
                    path: "/datastorage/registry".into()
                }
            )],
            replicate_to: Vec::new(),
        })
    );
    assert_eq!(config.registry.maximum_layer_size, Some(20 << 30));
    assert_eq!(config.collector.frequency, Duration::from_secs(60));
    assert_eq!(config.time_machine.default_window, days(14));
    assert_eq!(config.time_machine.window_options, [days(1), days(28)]);
    assert_eq!(config.http.idle_timeout, Duration::from_secs(300));
    assert!(config.quota.management);
    // Null is unset.
    assert!(config.quota_backfill.enabled);
}

#[test]
fn reads_quay_s3_and_radosgw_locations() {
    let s3 = load(
        "DISTRIBUTED_STORAGE_CONFIG:\n  default:\n    - S3Storage\n    - host: s3.us-east-2.amazonaws.com\n      s3_access_key: AKID\n      s3_secret_key: SECRET\n      s3_bucket: quay_bucket\n      s3_region: us-east-2\n      storage_path: /datastorage/registry\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        only_location(&s3),
        LocationConfig::S3(S3Location {
            bucket: "quay_bucket".into(),
            root: "/datastorage/registry".into(),
            endpoint: Some("https://s3.us-east-2.amazonaws.com".into()),
            region: Some("us-east-2".into()),
            access_key: Some("AKID".into()),
            secret_key: Some("SECRET".into()),
        })
    );
    let ceph = load(
        "DISTRIBUTED_STORAGE_CONFIG:\n  ceph:\n    - RadosGWStorage\n    - hostname: rgw.local\n      is_secure: 'false'\n      port: 7480\n      access_key: AK\n      secret_key: SK\n      bucket_name: quay\n      storage_path: /registry\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        only_location(&ceph),
        LocationConfig::S3(S3Location {
            bucket: "quay".into(),
            root: "/registry".into(),
            endpoint: Some("http://rgw.local:7480".into()),
            region: None,
            access_key: Some("AK".into()),
            secret_key: Some("SK".into()),
        })
    );
}

fn only_location(config: &Config) -> LocationConfig {
    let storage = config.storage.clone().unwrap();
    assert_eq!(storage.locations.len(), 1);
    storage.locations[0].1.clone()
}

const TWO_REGIONS: &str = "DISTRIBUTED_STORAGE_CONFIG:\n  \
    us: [LocalStorage, {storage_path: /us}]\n  \
    eu: [LocalStorage, {storage_path: /eu}]\n  \
    archive: [LocalStorage, {storage_path: /archive}]\n";

#[test]
fn geo_replication_orders_locations_by_preference() {
    let config = load(
        &format!(
            "{TWO_REGIONS}DISTRIBUTED_STORAGE_PREFERENCE: [eu]\n\
             DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: [us, eu]\n\
             FEATURE_STORAGE_REPLICATION: true\n"
        ),
        &[],
    )
    .unwrap();
    let storage = config.storage.unwrap();
    let names: Vec<&str> = storage
        .locations
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(names, ["eu", "archive", "us"]);
    assert_eq!(
        storage.locations[0].1,
        LocationConfig::Local { path: "/eu".into() }
    );
    assert_eq!(storage.replicate_to, ["us", "eu"]);

    // Default locations replicate only with the feature on, as in Quay.
    let off = load(
        &format!(
            "{TWO_REGIONS}DISTRIBUTED_STORAGE_PREFERENCE: [us, eu]\n\
             DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: [us, eu]\n"
        ),
        &[],
    )
    .unwrap()
    .storage
    .unwrap();
    assert!(off.replicate_to.is_empty());
    assert_eq!(off.locations[1].0, "eu");
}

#[test]
fn geo_replication_names_what_is_wrong() {
    for (extra, expected) in [
        (
            "",
            "DISTRIBUTED_STORAGE_PREFERENCE must name one of several locations",
        ),
        (
            "DISTRIBUTED_STORAGE_PREFERENCE: [asia]\n",
            "no location \"asia\" (named in DISTRIBUTED_STORAGE_PREFERENCE)",
        ),
        (
            "DISTRIBUTED_STORAGE_PREFERENCE: [us]\nFEATURE_STORAGE_REPLICATION: true\n",
            "FEATURE_STORAGE_REPLICATION needs DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS",
        ),
        (
            "DISTRIBUTED_STORAGE_PREFERENCE: [us]\nFEATURE_STORAGE_REPLICATION: true\n\
             DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS: [us, mars]\n",
            "no location \"mars\" (named in DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS)",
        ),
    ] {
        let error = format!(
            "{:#}",
            load(&format!("{TWO_REGIONS}{extra}"), &[]).unwrap_err()
        );
        assert!(error.contains(expected), "{extra}: {error}");
    }
}

#[test]
fn features_default_to_quay_and_follow_the_file_and_environment() {
    let config = load(
        "SUPER_USERS: [root]\nFEATURE_USER_INITIALIZE: true\n",
        &[("CREATE_NAMESPACE_ON_PUSH", "true")],
    )
    .unwrap();
    assert_eq!(config.auth.super_users, ["root"]);
    assert!(config.tenancy.user_initialize && config.registry.create_namespace_on_push);
    assert!(config.auth.anonymous_access && config.registry.create_private_repo_on_push);
    assert!(!config.auth.superusers_full_access && !config.tenancy.public_catalog);
}

#[test]
fn the_environment_wins() {
    let config = load(
        "SERVER_HOSTNAME: from-file\nDB_URI: sqlite://file.db\n",
        &[
            ("SERVER_HOSTNAME", "from-env:8443"),
            ("PUSH_TEMP_TAG_EXPIRATION_SEC", "60"),
            // Only the keys the registry reads are looked up.
            ("FEATURE_BUILD_SUPPORT", "[not, read]"),
        ],
    )
    .unwrap();
    assert_eq!(config.server.hostname.as_deref(), Some("from-env:8443"));
    assert_eq!(
        config.database.uri.as_ref().map(Secret::expose),
        Some("sqlite://file.db")
    );
    assert_eq!(
        config.registry.push_temp_tag_expiration,
        Some(Duration::from_secs(60))
    );
}

#[test]
fn wrong_types_name_the_key() {
    for (yaml, key) in [
        ("SERVER_HOSTNAME: [a, b]\n", "SERVER_HOSTNAME"),
        ("PREFERRED_URL_SCHEME: ftp\n", "PREFERRED_URL_SCHEME"),
        (
            "DB_CONNECTION_ARGS: {max_connections: many}\n",
            "DB_CONNECTION_ARGS.max_connections",
        ),
        ("MAXIMUM_LAYER_SIZE: 20Q\n", "MAXIMUM_LAYER_SIZE"),
        (
            "DISTRIBUTED_STORAGE_CONFIG: {x: [S3Storage, {}]}\n",
            "DISTRIBUTED_STORAGE_CONFIG",
        ),
        (
            "DISTRIBUTED_STORAGE_CONFIG: {x: [RadosGWStorage, {bucket_name: b}]}\n",
            "DISTRIBUTED_STORAGE_CONFIG",
        ),
        (
            "DISTRIBUTED_STORAGE_CONFIG: {x: [SwiftStorage, {}]}\n",
            "DISTRIBUTED_STORAGE_CONFIG",
        ),
        (
            "DISTRIBUTED_STORAGE_CONFIG: {x: [LocalStorage, {}]}\n",
            "DISTRIBUTED_STORAGE_CONFIG",
        ),
        (
            "PUSH_TEMP_TAG_EXPIRATION_SEC: soon\n",
            "PUSH_TEMP_TAG_EXPIRATION_SEC",
        ),
        ("DEFAULT_TAG_EXPIRATION: soon\n", "DEFAULT_TAG_EXPIRATION"),
        (
            "TAG_EXPIRATION_OPTIONS: [1d, soon]\n",
            "TAG_EXPIRATION_OPTIONS",
        ),
        ("HTTP_MAX_CONNECTIONS: 0\n", "HTTP_MAX_CONNECTIONS"),
    ] {
        let error = format!("{:#}", load(yaml, &[]).unwrap_err());
        assert!(error.contains(key), "{yaml}: {error}");
    }
}

#[test]
fn a_near_miss_is_told_what_was_meant() {
    let used = used_keys();
    for (key, meant) in [
        ("FEATURE_ANONYMOUS_ACESS", "FEATURE_ANONYMOUS_ACCESS"),
        ("server_hostname", "SERVER_HOSTNAME"),
        ("DB_URL", "DB_URI"),
        ("FEATURE_BUILD_SUPORT", "FEATURE_BUILD_SUPPORT"),
    ] {
        let warning = keys::warning(key, &used).unwrap();
        assert!(
            warning.contains(&format!("did you mean {meant}?")),
            "{warning}"
        );
    }
    let far = keys::warning("SOMETHING_ELSE_ENTIRELY", &used).unwrap();
    assert_eq!(far, "unknown config key ignored");
}

#[test]
fn a_key_of_quay_not_implemented_here_says_what_is_missing() {
    let used = used_keys();
    for (key, missing) in [
        ("BUILDLOGS_REDIS", "builds"),
        ("FEATURE_BUILD_SUPPORT", "builds"),
        ("SECURITY_SCANNER_V4_ENDPOINT", "security scanning"),
        ("FEATURE_PROXY_CACHE_BLOB_DOWNLOAD", "the proxy cache"),
        ("SECURITY_SCANNER_V4_PSK", "security scanning"),
        ("LDAP_ADMIN_PASSWD", "LDAP"),
    ] {
        let warning = keys::warning(key, &used).unwrap();
        assert!(
            warning.contains("does not implement") && warning.contains(missing),
            "{warning}"
        );
        assert!(!warning.contains("unknown"), "{warning}");
    }
}

#[test]
fn the_start_tells_used_unimplemented_and_unknown_keys_apart() {
    let ((), log) = logged(|| {
        load(
            "SERVER_HOSTNAME: registry.example.com\n\
             BUILDLOGS_REDIS: {host: redis, password: s3cr3t}\n\
             SECURITY_SCANNER_V4_PSK: s3cr3t\n\
             FEATURE_ANONYMOUS_ACESS: false\n",
            &[("DB_URI", "postgresql://quay:s3cr3t@db/quay")],
        )
        .unwrap();
    });
    assert!(log.contains("config keys in use"), "{log}");
    assert!(log.contains("DB_URI SERVER_HOSTNAME"), "{log}");
    assert!(
        log.contains("implement builds yet key=\"BUILDLOGS_REDIS\""),
        "{log}"
    );
    assert!(
        log.contains("implement security scanning yet key=\"SECURITY_SCANNER_V4_PSK\""),
        "{log}"
    );
    assert!(
        log.contains("did you mean FEATURE_ANONYMOUS_ACCESS? key=\"FEATURE_ANONYMOUS_ACESS\""),
        "{log}"
    );
    assert!(!log.contains("s3cr3t"), "{log}");
}

#[test]
fn errors_never_show_a_secret() {
    for (yaml, env) in [
        ("DB_URI: [postgresql://quay:s3cr3t@db/quay]\n", None),
        ("DB_URI: {password: s3cr3t}\n", None),
        ("DB_CONNECTION_ARGS: {max_connections: s3cr3t}\n", None),
        (
            "DISTRIBUTED_STORAGE_CONFIG: {x: [S3Storage, s3cr3t]}\n",
            None,
        ),
        (
            "DISTRIBUTED_STORAGE_CONFIG: {x: [S3Storage, {s3_bucket: b, s3_secret_key: [s3cr3t]}]}\n",
            None,
        ),
        ("DB_URI: 'postgresql://quay:s3cr3t@db/quay\n", None),
        ("", Some("{postgresql://quay:s3cr3t@db/quay")),
    ] {
        let env: Vec<(&str, &str)> = env.map(|uri| ("DB_URI", uri)).into_iter().collect();
        let error = format!("{:#}", load(yaml, &env).unwrap_err());
        assert!(!error.contains("s3cr3t"), "{yaml}: {error}");
    }
    let config = load(
        "DB_URI: postgresql://quay:s3cr3t@db/quay\n\
         DISTRIBUTED_STORAGE_CONFIG: {x: [S3Storage, {s3_bucket: b, s3_access_key: AK, s3_secret_key: s3cr3t}]}\n",
        &[],
    )
    .unwrap();
    assert!(!format!("{config:?}").contains("s3cr3t"));
}

#[test]
fn sizes() {
    assert_eq!(parse_size("1024").unwrap(), 1024);
    assert_eq!(parse_size("512M").unwrap(), 512 << 20);
    assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
    assert!(parse_size("G").is_err());
    assert!(parse_size("99999999999T").is_err());
}

#[test]
fn a_duplicated_key_is_named_with_its_line() {
    let error = load(
        "SERVER_HOSTNAME: a.example\nDB_URI: sqlite:///tmp/x\nSERVER_HOSTNAME: b.example\n",
        &[],
    )
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("SERVER_HOSTNAME") && message.contains("line 3"),
        "{message}"
    );
}
