use super::*;

fn request() -> MirrorRequest {
    MirrorRequest {
        external_reference: Some("registry.example:5000/library/app".into()),
        robot: Some(RobotName {
            owner: crate::names::Namespace::parse("acme").unwrap(),
            short: crate::names::Namespace::parse("mirror").unwrap(),
        }),
        tag_patterns: Some(vec!["v3.*".into(), "latest".into()]),
        sync_interval_s: Some(60),
        sync_start: Some("2026-12-06T12:00:00Z".into()),
        timeout_s: Some(300),
        ..MirrorRequest::default()
    }
}

fn message(result: Result<CheckedMirror>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn a_configuration_is_made_from_quays_required_fields() {
    let checked = MirrorConfig::create(request()).unwrap();
    let config = checked.config;
    assert_eq!(config.endpoint.reference.registry, "registry.example:5000");
    assert_eq!(config.endpoint.reference.repository, "library/app");
    assert!(config.is_enabled && config.endpoint.verify_tls && config.copy_referrers);
    assert!(!config.remove_stale_tags);
    assert_eq!(checked.sync_start_ms, Some(1_796_558_400_000));
    assert_eq!(format_time(1_796_558_400_000), "2026-12-06T12:00:00Z");
    for (field, mut broken) in [
        ("external_reference", request()),
        ("sync_start_date", request()),
        ("skopeo_timeout_interval", request()),
    ] {
        match field {
            "external_reference" => broken.external_reference = None,
            "sync_start_date" => broken.sync_start = None,
            _ => broken.timeout_s = None,
        }
        assert_eq!(
            message(MirrorConfig::create(broken)),
            format!("{field} is required")
        );
    }
}

/// A change that breaks a request, and what the refusal must say.
type Breakage = (fn(&mut MirrorRequest), &'static str);

#[test]
fn bad_fields_are_refused_with_the_rule_they_break() {
    let cases: Vec<Breakage> = vec![
        (
            |r| r.timeout_s = Some(299),
            "Skopeo timeout interval cannot be less than 300 seconds",
        ),
        (|r| r.sync_interval_s = Some(-1), "sync_interval must be"),
        (
            |r| r.external_reference = Some("app".into()),
            "external_reference: a registry",
        ),
        (
            |r| r.external_reference = Some("host/app:v1".into()),
            "without a tag",
        ),
        (
            |r| r.external_reference = Some("ho st/app".into()),
            "not a host name",
        ),
        (
            |r| r.tag_patterns = Some(vec![]),
            "at least one tag pattern",
        ),
        (|r| r.tag_patterns = Some(vec!["[".into()]), "root_rule"),
        (
            |r| r.sync_start = Some("tomorrow".into()),
            "sync_start_date: `tomorrow`",
        ),
        (
            |r| r.platforms = Some(vec!["linux/amd64/v1/x".into()]),
            "platforms:",
        ),
        (
            |r| r.password = Some(Some(Secret::new("pw"))),
            "external_registry_password cannot be set without a username",
        ),
        (
            |r| {
                r.username = Some(None);
                r.password = Some(Some(Secret::new("pw")));
            },
            "cannot be null while a password is set",
        ),
    ];
    for (break_it, expected) in cases {
        let mut broken = request();
        break_it(&mut broken);
        let got = message(MirrorConfig::create(broken));
        assert!(got.contains(expected), "{got:?} should say {expected:?}");
    }
}

#[test]
fn an_update_changes_only_what_it_names_and_says_what_changed() {
    let mut with_credentials = request();
    with_credentials.username = Some(Some("puller".into()));
    with_credentials.password = Some(Some(Secret::new("pw")));
    let config = MirrorConfig::create(with_credentials).unwrap().config;
    let update = MirrorRequest {
        tag_patterns: Some(vec!["v4.*".into()]),
        platforms: Some(vec![
            "linux/arm64".into(),
            "linux/amd64".into(),
            "linux/arm64".into(),
        ]),
        ..MirrorRequest::default()
    };
    let checked = config.update(update, true).unwrap();
    assert_eq!(checked.changed, ["root_rule", "platforms"]);
    assert_eq!(checked.credentials, CredentialsChange::Keep);
    assert_eq!(checked.config.username.as_deref(), Some("puller"));
    let platforms: Vec<String> = checked
        .config
        .platforms
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    let renamed = MirrorRequest {
        username: Some(Some("other".into())),
        ..MirrorRequest::default()
    };
    assert!(message(config.update(renamed, true)).contains("password is needed"));
    let cleared = MirrorRequest {
        username: Some(None),
        ..MirrorRequest::default()
    };
    let checked = config.update(cleared, true).unwrap();
    assert_eq!(checked.credentials, CredentialsChange::Clear);
    assert_eq!(checked.config.username, None);
}

#[test]
fn a_sync_is_due_as_quay_decides() {
    let now = 1_000_000;
    let fresh = SyncSchedule::new(now - 1);
    assert!(fresh.is_due(true, now));
    assert!(
        !fresh.is_due(false, now),
        "disabled mirrors wait for sync-now"
    );
    assert!(!SyncSchedule::new(now + 1).is_due(true, now));
    let asked = fresh.asked_now().unwrap();
    assert!(asked.is_due(false, now));
    let syncing = fresh.claimed(now + 10);
    assert!(!syncing.is_due(true, now), "leased");
    assert!(
        syncing.is_due(true, now + 10),
        "the lease lapsed: another node takes over"
    );
    assert_eq!(syncing.asked_now(), None);
    let cancelled = syncing.cancelled().unwrap();
    assert_eq!(
        (cancelled.status, cancelled.start_ms),
        (SyncStatus::Cancel, None)
    );
    assert!(!cancelled.is_due(true, now + 1_000_000));
    assert_eq!(fresh.cancelled(), None);
}

#[test]
fn a_released_sync_keeps_its_cadence_and_retries_a_failure() {
    let start = 1_000_000;
    let syncing = SyncSchedule::new(start).claimed(start + 60_000);
    let done = syncing.released(SyncEnd::Success, 60, start, start + 15_000);
    assert_eq!(done.status, SyncStatus::Success);
    assert_eq!(
        done.start_ms,
        Some(start + 60_000),
        "on the original cadence"
    );
    assert_eq!(done.retries_remaining, MAX_SYNC_RETRIES);
    let failed = syncing.released(SyncEnd::Failure, 60, start, start + 5_000);
    assert_eq!(
        (failed.status, failed.retries_remaining),
        (SyncStatus::Fail, 2)
    );
    assert!(
        failed.is_due(true, start + 5_000),
        "retried on the next pass"
    );
    let mut last = failed.claimed(0);
    last.retries_remaining = 1;
    let given_up = last.released(SyncEnd::Failure, 60, start, start + 5_000);
    assert_eq!(given_up.retries_remaining, MAX_SYNC_RETRIES);
    assert_eq!(given_up.start_ms, Some(start + 60_000));
    let cancelled = syncing.released(SyncEnd::Cancelled, 60, start, start + 5_000);
    assert_eq!(
        (cancelled.status, cancelled.retries_remaining),
        (SyncStatus::Cancel, 0)
    );
}

fn tag(name: &str) -> TagName {
    TagName::parse(name).unwrap()
}

fn digest(seed: char) -> Digest {
    Digest::parse(&format!("sha256:{}", seed.to_string().repeat(64))).unwrap()
}

#[test]
fn the_plan_copies_moves_and_removes_only_when_told() {
    let upstream = BTreeMap::from([(tag("v3.1"), digest('a')), (tag("v3.2"), digest('b'))]);
    let local = BTreeMap::from([(tag("v3.2"), digest('c')), (tag("v3.0"), digest('d'))]);
    assert_eq!(
        plan(&upstream, &local, &[]),
        [
            (tag("v3.1"), TagAction::Copy),
            (tag("v3.2"), TagAction::Move)
        ]
    );
    let signature = tag(&format!("sha256-{}.sig", digest('a').hex()));
    let alive = [tag("v3.0"), tag("v3.2"), signature];
    assert_eq!(
        plan(&upstream, &local, &alive),
        [
            (tag("v3.0"), TagAction::Remove),
            (tag("v3.1"), TagAction::Copy),
            (tag("v3.2"), TagAction::Move)
        ]
    );
    let config = MirrorConfig::create(request()).unwrap().config;
    let listed: Vec<String> = ["v3.1", "v3.2", "v4.0", "latest", "v3.1"]
        .map(String::from)
        .into();
    assert_eq!(
        matching_tags(&config, &listed).unwrap(),
        [tag("latest"), tag("v3.1"), tag("v3.2")]
    );
    let signed = digest('a');
    let listed = vec![
        format!("sha256-{}.sig", signed.hex()),
        format!("sha256-{}.att", signed.hex()),
        format!("sha256-{}.other", signed.hex()),
        format!("sha256-{}.sig", digest('b').hex()),
    ];
    assert_eq!(cosign_tags(&listed, &signed).len(), 2);
}

#[test]
fn an_index_is_narrowed_to_its_platforms_and_says_where_it_came_from() {
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"digest": digest('a').to_string(), "size": 1, "mediaType": "m",
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": digest('b').to_string(), "size": 1, "mediaType": "m",
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"digest": digest('c').to_string(), "size": 1, "mediaType": "m",
             "platform": {"os": "windows", "architecture": "amd64"}},
        ]
    });
    let bytes = serde_json::to_vec(&index).unwrap();
    let source = digest('f');
    let platforms = |names: &[&str]| -> Vec<Platform> {
        names
            .iter()
            .map(|name| Platform::parse(name).unwrap())
            .collect()
    };
    assert_eq!(narrow_index(&bytes, &source, &[]).unwrap(), None);
    assert_eq!(
        narrow_index(&bytes, &source, &platforms(&["amd64", "arm64"])).unwrap(),
        None
    );
    let narrowed = narrow_index(
        &bytes,
        &source,
        &platforms(&["linux/amd64", "linux/arm64/v8"]),
    )
    .unwrap()
    .unwrap();
    let value: Value = serde_json::from_slice(&narrowed).unwrap();
    assert_eq!(value["manifests"].as_array().unwrap().len(), 2);
    let own = digest('e');
    assert_eq!(source_digest(&narrowed, &own), source);
    assert_eq!(source_digest(&bytes, &own), own);
    let error = narrow_index(&bytes, &source, &platforms(&["s390x"])).unwrap_err();
    assert!(error.to_string().contains("has no manifest for s390x"));
}
