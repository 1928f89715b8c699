//! Storage quota through the API: organizations' quotas and their limits, who may read and
//! change them, the superuser's paths, users' own quotas, the system default, the sizes
//! that organization and repository views report, the registry's size and the usage log.

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use quay_core::quota::QuotaSettings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const OK: StatusCode = StatusCode::OK;
const CREATED: StatusCode = StatusCode::CREATED;
const NO_CONTENT: StatusCode = StatusCode::NO_CONTENT;
const BAD_REQUEST: StatusCode = StatusCode::BAD_REQUEST;
const UNAUTHORIZED: StatusCode = StatusCode::UNAUTHORIZED;
const FORBIDDEN: StatusCode = StatusCode::FORBIDDEN;
const NOT_FOUND: StatusCode = StatusCode::NOT_FOUND;

const ACME: &str = "/api/v1/organization/acme";
const BOBS_QUOTA: &str = "/api/v1/superuser/users/bob/quota";
const OWN_QUOTA: &str = "/api/v1/user/quota";
const REGISTRY_SIZE: &str = "/api/v1/superuser/registrysize/";

/// Quota management on, with `system_reject_bytes` as the system default.
fn quota_on(system_reject_bytes: u64) -> QuotaSettings {
    QuotaSettings {
        management: true,
        verify: true,
        system_reject_bytes,
    }
}

/// A registry with quota management on and `auditor` a read-only superuser.
async fn start_with_quota(system_reject_bytes: u64) -> Registry {
    Registry::start_with_quota(quota_on(system_reject_bytes), |auth, _| {
        auth.superusers.read_only = vec!["auditor".into()];
    })
    .await
}

/// The API as one caller: each call expects a status and returns the body.
#[derive(Clone, Copy)]
struct Api<'a> {
    registry: &'a Registry,
    caller: &'a Caller,
}

fn api<'a>(registry: &'a Registry, caller: &'a Caller) -> Api<'a> {
    Api { registry, caller }
}

impl Api<'_> {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: StatusCode,
    ) -> Value {
        self.registry
            .expect(self.caller, (method, path), body, expected)
            .await
    }

    async fn get(&self, path: &str, expected: StatusCode) -> Value {
        self.send(Method::GET, path, None, expected).await
    }

    async fn post(&self, path: &str, body: Value, expected: StatusCode) -> Value {
        self.send(Method::POST, path, Some(body), expected).await
    }

    async fn put(&self, path: &str, body: Value, expected: StatusCode) -> Value {
        self.send(Method::PUT, path, Some(body), expected).await
    }

    async fn delete(&self, path: &str, expected: StatusCode) -> Value {
        self.send(Method::DELETE, path, None, expected).await
    }

    /// `body` is refused as a bad request whose detail contains `message` (any, when empty).
    async fn refuses(&self, method: Method, path: &str, body: Value, message: &str) {
        let refused = self
            .send(method, path, Some(body.clone()), BAD_REQUEST)
            .await;
        let detail = refused["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(message), "{body}: {detail:?}");
    }
}

/// A signed-in `stranger` is forbidden the request, and an anonymous caller asked to sign in.
async fn expect_refused(
    registry: &Registry,
    stranger: &Caller,
    (method, path): (Method, &str),
    body: Option<Value>,
) {
    api(registry, stranger)
        .send(method.clone(), path, body.clone(), FORBIDDEN)
        .await;
    api(registry, &Caller::Anonymous)
        .send(method, path, body, UNAUTHORIZED)
        .await;
}

/// `/api/v1/organization/{org}/quota` followed by `rest`.
fn quota_path(org: &str, rest: &str) -> String {
    format!("/api/v1/organization/{org}/quota{rest}")
}

/// The organization `org`, created by the new user `owner`; the owner's session.
async fn organization(registry: &Registry, owner: &str, org: &str) -> Caller {
    let caller = registry.user(owner).await;
    let body = json!({"name": org});
    api(registry, &caller)
        .post("/api/v1/organization/", body, CREATED)
        .await;
    caller
}

/// Adds the new user `name` to a team of plain members of `org`; their session.
async fn member(registry: &Registry, owner: &Caller, org: &str, name: &str) -> Caller {
    let caller = registry.user(name).await;
    let owner = api(registry, owner);
    let team = format!("/api/v1/organization/{org}/team/readers");
    owner.put(&team, json!({"role": "member"}), OK).await;
    let membership = format!("{team}/members/{name}");
    owner.send(Method::PUT, &membership, None, OK).await;
    caller
}

/// `acme`, owned by `alice`, with `bob` a plain member and `carol` an outsider; their
/// sessions.
async fn acme_with_member_and_outsider(registry: &Registry) -> (Caller, Caller, Caller) {
    let alice = organization(registry, "alice", "acme").await;
    let bob = member(registry, &alice, "acme", "bob").await;
    (alice, bob, registry.user("carol").await)
}

/// The quotas listed at `list` (as the admin), which must be exactly one; its view.
async fn only_quota(registry: &Registry, list: &str) -> Value {
    let quotas = api(registry, &registry.admin).get(list, OK).await;
    let quotas = quotas.as_array().unwrap();
    assert_eq!(quotas.len(), 1, "{list}: {quotas:?}");
    quotas[0].clone()
}

/// The admin creates a quota at `list` from `body`; its id.
async fn create_quota(registry: &Registry, list: &str, body: Value) -> i64 {
    let created = api(registry, &registry.admin)
        .post(list, body, CREATED)
        .await;
    assert_eq!(created, "Created");
    only_quota(registry, list).await["id"].as_i64().unwrap()
}

/// The body that creates or changes a limit.
fn limit_body(kind: &str, percent: i64) -> Value {
    json!({"type": kind, "threshold_percent": percent})
}

/// The admin gives the quota `id` of `namespace` a limit (through the organization path); its
/// id.
async fn create_limit(
    registry: &Registry,
    namespace: &str,
    id: i64,
    kind: &str,
    percent: i64,
) -> i64 {
    let admin = api(registry, &registry.admin);
    let limits = quota_path(namespace, &format!("/{id}/limit"));
    admin
        .post(&limits, limit_body(kind, percent), CREATED)
        .await;
    let listed = admin.get(&limits, OK).await;
    listed
        .as_array()
        .unwrap()
        .iter()
        .find(|limit| {
            limit["limit_percent"] == percent
                && limit["type"]
                    .as_str()
                    .is_some_and(|found| found.eq_ignore_ascii_case(kind))
        })
        .and_then(|limit| limit["id"].as_i64())
        .unwrap()
}

/// The view of a limit.
fn limit_view(id: i64, kind: &str, percent: u64) -> Value {
    json!({"id": id, "type": kind, "limit_percent": percent})
}

/// The `(type, limit_percent)` pairs of a list of limit views.
fn limit_pairs(limits: &Value) -> Vec<(String, u64)> {
    limits
        .as_array()
        .unwrap()
        .iter()
        .map(|limit| {
            (
                limit["type"].as_str().unwrap().to_string(),
                limit["limit_percent"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The view of a namespace's own quota, without limits.
fn quota_view(id: i64, limit_bytes: u64, limit: &str, default_config_exists: bool) -> Value {
    json!({
        "id": id, "limit_bytes": limit_bytes, "limit": limit, "default_config": false,
        "limits": [], "default_config_exists": default_config_exists
    })
}

/// An organization view's `quota_report`.
fn organization_report(quota_bytes: u64, configured_quota: Option<u64>, backfill: &str) -> Value {
    json!({
        "quota_bytes": quota_bytes, "configured_quota": configured_quota,
        "running_backfill": backfill, "backfill_status": backfill
    })
}

/// The organization view tells nothing of quota.
fn assert_no_quota_in(view: &Value) {
    assert!(view.get("quota_report").is_none(), "{view}");
    assert!(view.get("quotas").is_none(), "{view}");
}

#[tokio::test]
async fn without_quota_management_there_is_no_quota_api_nor_report() {
    let registry = Registry::start().await;
    let admin = api(&registry, &registry.admin);
    let alice = organization(&registry, "alice", "acme").await;
    let list = quota_path("acme", "");
    for caller in [&alice, &registry.admin] {
        let refused = api(&registry, caller).get(&list, NOT_FOUND).await;
        // The answer says which switch serves the endpoint.
        assert_eq!(
            refused["detail"], "FEATURE_QUOTA_MANAGEMENT is off on this registry",
            "{refused}"
        );
    }
    admin
        .post(&list, json!({"limit_bytes": 1000}), NOT_FOUND)
        .await;
    admin.get(REGISTRY_SIZE, NOT_FOUND).await;
    let view = api(&registry, &alice).get(ACME, OK).await;
    assert_eq!(view["is_member"], true);
    assert_no_quota_in(&view);
}

#[tokio::test]
async fn a_superuser_creates_changes_and_deletes_an_organization_quota() {
    let registry = start_with_quota(0).await;
    let admin = api(&registry, &registry.admin);
    organization(&registry, "alice", "acme").await;
    organization(&registry, "bob", "globex").await;
    let acme = quota_path("acme", "");
    let id = create_quota(&registry, &acme, json!({"limit_bytes": 1000})).await;
    assert_eq!(
        only_quota(&registry, &acme).await,
        quota_view(id, 1000, "1000.0 B", false)
    );
    let exists = "Organization quota for 'acme' already exists";
    admin
        .refuses(Method::POST, &acme, json!({"limit_bytes": 2000}), exists)
        .await;

    let globex = quota_path("globex", "");
    let globex_id = create_quota(&registry, &globex, json!({"limit": "10 GiB"})).await;
    let quota = only_quota(&registry, &globex).await;
    assert_eq!(
        (quota["limit_bytes"].as_u64(), quota["limit"].as_str()),
        (Some(10_737_418_240), Some("10.0 GiB"))
    );
    for invalid in [
        json!({"limit_bytes": 0}),
        json!({"limit_bytes": -5}),
        json!({"limit": "ten gigs"}),
        json!({"limit_bytes": 1000, "limit": "1 KiB"}),
        json!({}),
    ] {
        admin.post(&globex, invalid, BAD_REQUEST).await;
    }
    // Refused creations left nothing behind.
    assert_eq!(
        only_quota(&registry, &globex).await["limit_bytes"],
        10_737_418_240_u64
    );
    // Sizes come in Quay's units: binary (`Ki`, `KiB`, ...) or decimal (`K`, `KB`, ...).
    let globex_one = format!("{globex}/{globex_id}");
    for (text, bytes, human) in [
        ("3Gi", 3 << 30, "3.0 GiB"),
        ("3 KB", 3000, "2.9 KiB"),
        ("2 M", 2_000_000, "1.9 MiB"),
        ("512", 512, "512.0 B"),
    ] {
        let changed = admin.put(&globex_one, json!({"limit": text}), OK).await;
        assert_eq!(
            (changed["limit_bytes"].as_u64(), changed["limit"].as_str()),
            (Some(bytes), Some(human)),
            "{text}"
        );
    }
    for text in ["1.5 GiB", "10 gib", "GiB", "-1", "99999999999 EiB", "8 EiB"] {
        admin
            .put(&globex_one, json!({"limit": text}), BAD_REQUEST)
            .await;
    }

    // A change returns the quota; a refused one changes nothing.
    let one = format!("{acme}/{id}");
    let changed = admin.put(&one, json!({"limit": "2 KiB"}), OK).await;
    assert_eq!(
        (changed["id"].as_i64(), changed["limit_bytes"].as_u64()),
        (Some(id), Some(2048))
    );
    assert_eq!(changed["limit"], "2.0 KiB");
    let changed = admin.put(&one, json!({"limit_bytes": 4096}), OK).await;
    assert_eq!(changed["limit_bytes"], 4096);
    for invalid in [
        json!({"limit_bytes": 0}),
        json!({"limit": "lots"}),
        json!({"limit_bytes": 1, "limit": "1 B"}),
    ] {
        admin.put(&one, invalid, BAD_REQUEST).await;
    }
    let unchanged = admin.put(&one, json!({}), OK).await;
    assert_eq!(unchanged["limit_bytes"], 4096);
    assert_eq!(admin.get(&one, OK).await, unchanged);

    // Another organization's quota is not found through this one.
    let foreign = format!("{acme}/{globex_id}");
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(json!({"limit_bytes": 1}))),
        (Method::DELETE, None),
    ] {
        admin.send(method, &foreign, body, NOT_FOUND).await;
    }

    admin.delete(&one, NO_CONTENT).await;
    assert_eq!(admin.get(&acme, OK).await, json!([]));
    for method in [Method::GET, Method::DELETE] {
        admin.send(method, &one, None, NOT_FOUND).await;
    }
    // Unknown organizations have no quota to set.
    let unknown = quota_path("nosuchorg", "");
    admin
        .post(&unknown, json!({"limit_bytes": 1000}), NOT_FOUND)
        .await;
}

#[tokio::test]
async fn limits_are_checked_listed_changed_and_deleted_with_their_quota() {
    let registry = start_with_quota(0).await;
    let admin = api(&registry, &registry.admin);
    organization(&registry, "alice", "acme").await;
    let list = quota_path("acme", "");
    let id = create_quota(&registry, &list, json!({"limit": "1 GiB"})).await;
    let limits = format!("{list}/{id}/limit");
    let warning = create_limit(&registry, "acme", id, "Warning", 80).await;
    let reject = create_limit(&registry, "acme", id, "reject", 100).await;

    let exists = "Quota limit already exists";
    let range = "Quota limit threshold must be between 1 and 100";
    let kinds = "Warning or Reject";
    for (body, message) in [
        (limit_body("Warning", 80), exists),
        (limit_body("WARNING", 80), exists),
        (limit_body("Warning", 0), range),
        (limit_body("Reject", 101), range),
        (limit_body("Reject", -1), range),
        (limit_body("Stop", 50), kinds),
        (json!({"type": "Warning"}), ""),
        (json!({"threshold_percent": 50}), ""),
    ] {
        admin.refuses(Method::POST, &limits, body, message).await;
    }

    let listed = admin.get(&limits, OK).await;
    assert_eq!(
        listed,
        json!([
            limit_view(warning, "Warning", 80),
            limit_view(reject, "Reject", 100)
        ])
    );
    assert_eq!(only_quota(&registry, &list).await["limits"], listed);
    let one = format!("{limits}/{warning}");
    assert_eq!(
        admin.get(&one, OK).await,
        limit_view(warning, "Warning", 80)
    );
    let missing = format!("{limits}/999999");
    admin.get(&missing, NOT_FOUND).await;

    // A change returns the quota; it may not collide with another limit nor leave 1..100.
    let changed = admin.put(&one, json!({"threshold_percent": 90}), OK).await;
    assert_eq!(changed["id"], id);
    assert_eq!(
        limit_pairs(&changed["limits"]),
        [("Warning".into(), 90), ("Reject".into(), 100)]
    );
    let changed = admin.put(&one, json!({"type": "reject"}), OK).await;
    assert_eq!(
        limit_pairs(&changed["limits"]),
        [("Reject".into(), 90), ("Reject".into(), 100)]
    );
    for (body, message) in [
        (json!({"threshold_percent": 100}), exists),
        (json!({"threshold_percent": 0}), range),
        (json!({"threshold_percent": 101}), range),
        (json!({"type": "later"}), kinds),
    ] {
        admin.refuses(Method::PUT, &one, body, message).await;
    }
    admin
        .put(&missing, json!({"threshold_percent": 50}), NOT_FOUND)
        .await;

    admin.delete(&one, NO_CONTENT).await;
    for method in [Method::GET, Method::DELETE] {
        admin.send(method, &one, None, NOT_FOUND).await;
    }
    let listed = admin.get(&limits, OK).await;
    assert_eq!(limit_pairs(&listed), [("Reject".into(), 100)]);

    // The quota goes with its limits: they are not found, and a new quota starts bare.
    admin.delete(&format!("{list}/{id}"), NO_CONTENT).await;
    for path in [limits.clone(), format!("{limits}/{reject}")] {
        admin.get(&path, NOT_FOUND).await;
    }
    admin
        .post(&limits, limit_body("Warning", 50), NOT_FOUND)
        .await;
    let renewed = create_quota(&registry, &list, json!({"limit_bytes": 5})).await;
    assert_ne!(renewed, id);
    assert_eq!(only_quota(&registry, &list).await["limits"], json!([]));
    create_limit(&registry, "acme", renewed, "Reject", 100).await;
}

#[tokio::test]
async fn members_read_the_quota_and_only_superusers_change_it() {
    let registry = start_with_quota(0).await;
    let (alice, bob, carol) = acme_with_member_and_outsider(&registry).await;
    let auditor = registry.user("auditor").await;
    let list = quota_path("acme", "");
    let id = create_quota(&registry, &list, json!({"limit_bytes": 1000})).await;
    let limit = create_limit(&registry, "acme", id, "Warning", 50).await;

    let one = format!("{list}/{id}");
    let limits = format!("{one}/limit");
    let one_limit = format!("{limits}/{limit}");
    let reads = [&list, &one, &limits, &one_limit];
    let quota_body = json!({"limit_bytes": 2000});
    let writes = [
        (Method::POST, &list, Some(quota_body.clone())),
        (Method::PUT, &one, Some(quota_body)),
        (Method::DELETE, &one, None),
        (Method::POST, &limits, Some(limit_body("Reject", 90))),
        (Method::PUT, &one_limit, Some(limit_body("Reject", 90))),
        (Method::DELETE, &one_limit, None),
    ];

    // The organization's admin, a plain member and a read-only superuser read it all, and
    // change none of it: only a (full) superuser does.
    for caller in [&alice, &bob, &auditor] {
        let as_caller = api(&registry, caller);
        for path in reads {
            as_caller.get(path, OK).await;
        }
        for (method, path, body) in writes.clone() {
            as_caller.send(method, path, body, FORBIDDEN).await;
        }
    }
    let seen = api(&registry, &bob).get(&list, OK).await;
    assert_eq!(seen[0]["limit_bytes"], 1000);
    // Outsiders neither read nor change it; anonymous callers are asked to sign in.
    let reads = reads.map(|path| (Method::GET, path, None));
    for (method, path, body) in reads.into_iter().chain(writes) {
        expect_refused(&registry, &carol, (method, path), body).await;
    }
    // All of it stands as it was.
    let quota = only_quota(&registry, &list).await;
    assert_eq!(quota["limit_bytes"], 1000);
    assert_eq!(quota["limits"], json!([limit_view(limit, "Warning", 50)]));
}

#[tokio::test]
async fn superuser_paths_reach_any_namespace_of_their_kind() {
    let registry = start_with_quota(0).await;
    let admin = api(&registry, &registry.admin);
    organization(&registry, "alice", "acme").await;
    let bob = registry.user("bob").await;
    let organizations = "/api/v1/superuser/organization/acme/quota";
    let one_byte = json!({"limit_bytes": 1});

    for (list, name) in [(organizations, "acme"), (BOBS_QUOTA, "bob")] {
        assert_eq!(admin.get(list, OK).await, json!([]));
        let id = create_quota(&registry, list, json!({"limit_bytes": 2048})).await;
        let quota = only_quota(&registry, list).await;
        assert_eq!(
            (quota["limit"].as_str(), quota["default_config"].as_bool()),
            (Some("2.0 KiB"), Some(false))
        );
        let exists = format!("'{name}' already exists");
        admin
            .refuses(Method::POST, list, one_byte.clone(), &exists)
            .await;
        let one = format!("{list}/{id}");
        let changed = admin.put(&one, json!({"limit": "3 KiB"}), OK).await;
        assert_eq!(changed["limit_bytes"], 3072);
        // A normal user may do none of it, whatever the namespace.
        for (method, path, body) in [
            (Method::GET, list, None),
            (Method::POST, list, Some(one_byte.clone())),
            (Method::PUT, &one, Some(one_byte.clone())),
            (Method::DELETE, &one, None),
        ] {
            expect_refused(&registry, &bob, (method, path), body).await;
        }
        assert_eq!(only_quota(&registry, list).await["limit_bytes"], 3072);
        admin.delete(&one, NO_CONTENT).await;
        assert_eq!(admin.get(list, OK).await, json!([]));
    }

    // The organization's own path shows what the superuser path set.
    let id = create_quota(&registry, organizations, json!({"limit_bytes": 100})).await;
    let seen = admin.get(&quota_path("acme", &format!("/{id}")), OK).await;
    assert_eq!(seen["limit_bytes"], 100);

    // Each path is for its kind of namespace only, and for namespaces that exist.
    for path in [
        "/api/v1/superuser/users/acme/quota",
        "/api/v1/superuser/organization/bob/quota",
        "/api/v1/superuser/users/nobody/quota",
        "/api/v1/superuser/organization/nobody/quota",
    ] {
        admin.get(path, NOT_FOUND).await;
        admin.post(path, one_byte.clone(), NOT_FOUND).await;
    }
    let acme_as_a_user = format!("/api/v1/superuser/users/acme/quota/{id}");
    admin.put(&acme_as_a_user, one_byte, NOT_FOUND).await;
}

#[tokio::test]
async fn a_user_reads_their_own_quota() {
    let registry = start_with_quota(0).await;
    let bob = registry.user("bob").await;
    let carol = registry.user("carol").await;
    let (as_bob, as_carol) = (api(&registry, &bob), api(&registry, &carol));
    assert_eq!(as_bob.get(OWN_QUOTA, OK).await, json!([]));
    let id = create_quota(&registry, BOBS_QUOTA, json!({"limit": "5 MiB"})).await;

    let own = as_bob.get(OWN_QUOTA, OK).await;
    assert_eq!(own, json!([quota_view(id, 5_242_880, "5.0 MiB", false)]));
    let one = format!("{OWN_QUOTA}/{id}");
    assert_eq!(as_bob.get(&one, OK).await, own[0]);
    let limits = as_bob.get(&format!("{one}/limit"), OK).await;
    assert_eq!(limits, json!([]));

    // Another user's quota is not theirs to read; anonymous callers have none.
    assert_eq!(as_carol.get(OWN_QUOTA, OK).await, json!([]));
    as_carol.get(&one, NOT_FOUND).await;
    let anonymous = api(&registry, &Caller::Anonymous);
    anonymous.get(OWN_QUOTA, UNAUTHORIZED).await;
    // The user's own paths are read-only.
    let not_allowed = StatusCode::METHOD_NOT_ALLOWED;
    as_bob
        .post(OWN_QUOTA, json!({"limit_bytes": 1}), not_allowed)
        .await;
}

/// As in Quay (whose UI does so), a superuser gives a user's quota limits through
/// `/organization/{namespace}/quota/{id}/limit` with the user's name: no other path sets them,
/// and a quota without limits never warns nor rejects.
#[tokio::test]
async fn a_superuser_gives_a_users_quota_limits_that_the_user_reads() {
    let registry = start_with_quota(0).await;
    let bob = registry.user("bob").await;
    let as_bob = api(&registry, &bob);
    let id = create_quota(&registry, BOBS_QUOTA, json!({"limit_bytes": 1000})).await;
    let limit = create_limit(&registry, "bob", id, "Reject", 100).await;
    let limits = format!("{OWN_QUOTA}/{id}/limit");
    let expected = limit_view(limit, "Reject", 100);
    assert_eq!(as_bob.get(&limits, OK).await, json!([expected]));
    let one = as_bob.get(&format!("{limits}/{limit}"), OK).await;
    assert_eq!(one, expected);
}

#[tokio::test]
async fn the_system_default_shows_as_a_quota_of_organizations_without_one() {
    let registry = start_with_quota(5000).await;
    let alice = organization(&registry, "alice", "acme").await;
    let as_alice = api(&registry, &alice);
    let list = quota_path("acme", "");
    let synthetic = json!([{
        "id": null, "limit_bytes": 5000, "limit": "4.9 KiB", "default_config": true,
        "limits": [{"id": null, "type": "Reject", "limit_percent": 100}],
        "default_config_exists": true
    }]);
    assert_eq!(as_alice.get(&list, OK).await, synthetic);
    let view = as_alice.get(ACME, OK).await;
    assert_eq!(view["quota_report"]["configured_quota"], 5000);
    assert_eq!(view["quotas"], synthetic);

    // An own quota replaces it, and tells that a default exists.
    let id = create_quota(&registry, &list, json!({"limit_bytes": 100})).await;
    assert_eq!(
        only_quota(&registry, &list).await,
        quota_view(id, 100, "100.0 B", true)
    );
    let view = as_alice.get(ACME, OK).await;
    assert_eq!(view["quota_report"]["configured_quota"], 100);
    // A superuser outside the organization sees its quota too (the web UI's settings).
    let as_admin = api(&registry, &registry.admin);
    let view = as_admin.get(ACME, OK).await;
    assert_eq!(view["is_member"], false, "{view}");
    assert_eq!(view["quota_report"]["configured_quota"], 100);
    assert_eq!(view["quotas"][0]["limit_bytes"], 100);
}

/// `caller` creates the private `repository` (`namespace/name`).
async fn create_repository(registry: &Registry, caller: &Caller, repository: &str) {
    let (namespace, name) = repository.split_once('/').unwrap();
    let body = json!({
        "namespace": namespace, "repository": name,
        "visibility": "private", "description": ""
    });
    api(registry, caller)
        .post("/api/v1/repository", body, CREATED)
        .await;
}

/// `owner` pushes a one-layer image to `repository` (created first) with the Basic
/// credentials `owner:PASSWORD`; the bytes its blobs take.
async fn push_image(
    registry: &Registry,
    (owner, caller): (&str, &Caller),
    repository: &str,
) -> u64 {
    create_repository(registry, caller, repository).await;
    let user = format!("/api/v1/superuser/users/{owner}");
    api(registry, &registry.admin)
        .put(&user, json!({"password": PASSWORD}), OK)
        .await;
    let layer = b"a small layer".to_vec();
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let size = (layer.len() + config.len()) as u64;
    let client = Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..Default::default()
    });
    let reference: Reference = format!("{}/{repository}:v1", registry.address)
        .parse()
        .unwrap();
    client
        .push(
            &reference,
            &[ImageLayer::oci_v1(layer, None)],
            Config::oci_v1(config, None),
            &RegistryAuth::Basic(owner.into(), PASSWORD.into()),
            None,
        )
        .await
        .unwrap();
    size
}

/// The `quota_report`s of `namespace`'s repositories, by name (an object).
async fn repository_reports(registry: &Registry, caller: &Caller, namespace: &str) -> Value {
    let path = format!("/api/v1/repository?namespace={namespace}");
    let listed = api(registry, caller).get(&path, OK).await;
    listed["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|repository| {
            let name = repository["name"].as_str().unwrap().to_string();
            (name, repository["quota_report"].clone())
        })
        .collect()
}

#[tokio::test]
async fn organization_and_repository_views_report_sizes() {
    let registry = start_with_quota(0).await;
    let (alice, bob, carol) = acme_with_member_and_outsider(&registry).await;
    let as_alice = api(&registry, &alice);
    let view = as_alice.get(ACME, OK).await;
    assert_eq!(
        view["quota_report"],
        organization_report(0, None, "complete")
    );
    assert_eq!(view["quotas"], json!([]));

    let list = quota_path("acme", "");
    let id = create_quota(&registry, &list, json!({"limit_bytes": 1_000_000})).await;
    let size = push_image(&registry, ("alice", &alice), "acme/app").await;
    create_repository(&registry, &alice, "acme/empty").await;

    for caller in [&alice, &bob] {
        let view = api(&registry, caller).get(ACME, OK).await;
        assert_eq!(
            view["quota_report"],
            organization_report(size, Some(1_000_000), "complete")
        );
        assert_eq!(view["quotas"][0]["id"], id);
    }
    let reports = repository_reports(&registry, &alice, "acme").await;
    assert_eq!(
        reports,
        json!({
            "app": {"quota_bytes": size, "configured_quota": 1_000_000},
            "empty": {"quota_bytes": 0, "configured_quota": 1_000_000},
        })
    );
    // A repository's own view carries its report too (the web UI's header).
    let app = as_alice.get("/api/v1/repository/acme/app", OK).await;
    assert_eq!(app["quota_report"], reports["app"]);
    // Outsiders learn nothing of it.
    assert_no_quota_in(&api(&registry, &carol).get(ACME, OK).await);

    // The same image in another repository counts for that repository, not again for the
    // namespace nor the registry.
    push_image(&registry, ("alice", &alice), "acme/copy").await;
    let view = as_alice.get(ACME, OK).await;
    assert_eq!(view["quota_report"]["quota_bytes"], size);
    let reports = repository_reports(&registry, &alice, "acme").await;
    let sizes = reports.as_object().unwrap();
    assert_eq!(sizes.len(), 3, "{reports}");
    for (repository, bytes) in [("app", size), ("copy", size), ("empty", 0)] {
        assert_eq!(sizes[repository]["quota_bytes"], bytes, "{repository}");
    }
    let computed = api(&registry, &registry.admin)
        .send(Method::POST, REGISTRY_SIZE, None, CREATED)
        .await;
    assert_eq!(computed["size_bytes"], size);

    // Deleting a repository frees only what no other repository of the namespace uses.
    for (repository, left) in [("copy", size), ("app", 0)] {
        let path = format!("/api/v1/repository/acme/{repository}");
        as_alice.delete(&path, NO_CONTENT).await;
        let view = as_alice.get(ACME, OK).await;
        assert_eq!(view["quota_report"]["quota_bytes"], left, "{repository}");
    }
}

#[tokio::test]
async fn the_registry_size_is_computed_by_superusers() {
    let registry = start_with_quota(0).await;
    let admin = api(&registry, &registry.admin);
    let bob = registry.user("bob").await;
    let auditor = registry.user("auditor").await;
    let never = admin.get(REGISTRY_SIZE, OK).await;
    assert_eq!(
        (never["size_bytes"].as_u64(), never["last_ran"].as_i64()),
        (Some(0), None)
    );
    let size = push_image(&registry, ("bob", &bob), "bob/app").await;

    let computed = admin.send(Method::POST, REGISTRY_SIZE, None, CREATED).await;
    assert_eq!(computed["size_bytes"], size);
    let last_ran = computed["last_ran"].as_i64().unwrap();
    assert!(
        last_ran > 1_600_000_000_000,
        "epoch milliseconds: {last_ran}"
    );
    let read = admin.get(REGISTRY_SIZE, OK).await;
    assert_eq!(
        (read["size_bytes"].as_u64(), read["last_ran"].as_i64()),
        (Some(size), Some(last_ran))
    );
    // A read-only superuser reads it; only a superuser computes it.
    let auditor = api(&registry, &auditor);
    auditor.get(REGISTRY_SIZE, OK).await;
    auditor
        .send(Method::POST, REGISTRY_SIZE, None, FORBIDDEN)
        .await;
    for method in [Method::GET, Method::POST] {
        expect_refused(&registry, &bob, (method, REGISTRY_SIZE), None).await;
    }
}

#[tokio::test]
async fn quota_changes_are_in_the_organization_usage_log() {
    let registry = start_with_quota(0).await;
    let admin = api(&registry, &registry.admin);
    let alice = organization(&registry, "alice", "acme").await;
    let list = quota_path("acme", "");
    let id = create_quota(&registry, &list, json!({"limit_bytes": 1024})).await;
    let one = format!("{list}/{id}");
    admin.put(&one, json!({"limit_bytes": 2048}), OK).await;
    let limit = create_limit(&registry, "acme", id, "Warning", 80).await;
    let one_limit = format!("{one}/limit/{limit}");
    admin
        .put(&one_limit, json!({"threshold_percent": 90}), OK)
        .await;
    admin.delete(&one_limit, NO_CONTENT).await;
    admin.delete(&one, NO_CONTENT).await;
    // A refused change writes nothing.
    admin
        .post(&list, json!({"limit_bytes": 0}), BAD_REQUEST)
        .await;

    let logs = api(&registry, &alice)
        .get(&format!("{ACME}/logs"), OK)
        .await;
    let entries: Vec<&Value> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"].as_str().unwrap().contains("quota"))
        .collect();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "org_delete_quota",
            "org_delete_quota_limit",
            "org_change_quota_limit",
            "org_create_quota_limit",
            "org_change_quota",
            "org_create_quota",
        ]
    );
    for entry in &entries {
        assert_eq!(entry["metadata"]["namespace"], "acme", "{entry}");
        assert_eq!(entry["performer"]["name"], "admin", "{entry}");
    }
    // Each entry tells what was set and, for a change, what it replaced.
    for (kind, expected) in [
        (
            "org_create_quota",
            json!({"limit_bytes": 1024, "limit": "1.0 KiB"}),
        ),
        (
            "org_change_quota",
            json!({"limit_bytes": 2048, "previous_limit_bytes": 1024}),
        ),
        ("org_create_quota_limit", limit_body("Warning", 80)),
        (
            "org_change_quota_limit",
            json!({"threshold_percent": 90, "previous_threshold_percent": 80}),
        ),
        ("org_delete_quota", json!({"limit_bytes": 2048})),
    ] {
        let entry = entries.iter().find(|entry| entry["kind"] == kind).unwrap();
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&entry["metadata"][key], value, "{entry}");
        }
    }
}

#[tokio::test]
async fn namespaces_with_quotas_and_limits_can_be_deleted() {
    let registry = start_with_quota(0).await;
    let admin = api(&registry, &registry.admin);
    let alice = organization(&registry, "alice", "acme").await;
    registry.user("bob").await;
    let list = quota_path("acme", "");
    let id = create_quota(&registry, &list, json!({"limit_bytes": 1000})).await;
    create_limit(&registry, "acme", id, "Warning", 50).await;
    create_quota(&registry, BOBS_QUOTA, json!({"limit_bytes": 1000})).await;
    api(&registry, &alice).delete(ACME, NO_CONTENT).await;
    admin
        .delete("/api/v1/superuser/users/bob", NO_CONTENT)
        .await;
    for path in [list.as_str(), BOBS_QUOTA] {
        admin.get(path, NOT_FOUND).await;
    }
    // The name is free again, and comes without the old quota.
    organization(&registry, "carol", "acme").await;
    assert_eq!(admin.get(&list, OK).await, json!([]));
}

#[tokio::test]
async fn sizes_of_namespaces_from_before_quota_management_wait_for_the_backfill() {
    let registry = Registry::start().await;
    let alice = organization(&registry, "alice", "acme").await;
    push_image(&registry, ("alice", &alice), "acme/app").await;
    let registry = registry.restart_with_quota(quota_on(0), |_, _| {}).await;
    let view = api(&registry, &alice).get(ACME, OK).await;
    assert_eq!(
        view["quota_report"],
        organization_report(0, None, "waiting")
    );
    assert_eq!(
        repository_reports(&registry, &alice, "acme").await,
        json!({"app": {"quota_bytes": 0, "configured_quota": null}})
    );
    // Organizations created since are known from the start.
    let bob = organization(&registry, "bob", "globex").await;
    let globex = api(&registry, &bob)
        .get("/api/v1/organization/globex", OK)
        .await;
    assert_eq!(globex["quota_report"]["backfill_status"], "complete");
}
