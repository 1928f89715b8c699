//! Auto-prune policies: by number of tags and by age, narrowed by a tag pattern, for a
//! namespace and for one repository; pruned tags go into the time machine.

use crate::support::*;
use quay_core::TagName;
use quay_core::audit::{Actor, LogKind};
use quay_core::names::Namespace;
use quay_core::prune::PrunePolicy;

const DAY_MS: i64 = 86_400_000;

fn policy(
    uuid: &str,
    method: &str,
    value: &serde_json::Value,
    pattern: Option<&str>,
) -> PrunePolicy {
    PrunePolicy::parse(
        uuid.into(),
        method,
        value,
        pattern.map(str::to_string),
        None,
    )
    .unwrap()
}

pub(crate) async fn policies_prune_by_count_and_by_age(h: &Harness) {
    let app = repo("ns/app");
    for (n, name) in ["v1", "v2", "v3", "v4"].iter().enumerate() {
        let config = format!("{{\"n\":{n}}}");
        push_image(&h.registry, &app, name, config.as_bytes(), &[b"layer"]).await;
        h.clock.advance_ms(1_000);
    }
    push_image(&h.registry, &repo("ns/tools"), "dev-1", b"{}", &[b"tool"]).await;
    let namespace = h
        .accounts
        .namespace(&Namespace::parse("ns").unwrap())
        .await
        .unwrap();
    // Policies are set through the port: who may set them is the API's tests' business.
    let policies = &h.metadata.prune_policies;
    let audit = || Actor::system().entry(LogKind::CreateNamespaceAutoprunePolicy, 0);
    let keep_two = policy("keep-two", "number_of_tags", &2.into(), Some("^v"));
    policies
        .save_prune_policy(namespace.id, None, &keep_two, audit())
        .await
        .unwrap();

    assert_eq!(h.registry.prune().await.unwrap(), 2);
    assert_eq!(tag_names(&h.registry, &repo("ns/app")).await, ["v3", "v4"]);
    assert_eq!(
        tag_names(&h.registry, &repo("ns/tools")).await,
        ["dev-1"],
        "the pattern spares it"
    );
    // Pruned tags are deleted like any other: restorable from the time machine.
    let first = sha256(&image_manifest(b"{\"n\":0}", &[b"layer"], ""));
    h.registry
        .restore_tag(&app, &TagName::parse("v1").unwrap(), &first, &ANYONE)
        .await
        .unwrap();

    // A repository's own policy, by age, next to the namespace's.
    let tools = h
        .accounts
        .repository(&repo("ns/tools"))
        .await
        .unwrap()
        .repository;
    let week = policy("week", "creation_date", &"7d".into(), None);
    policies
        .save_prune_policy(namespace.id, Some(tools.id), &week, audit())
        .await
        .unwrap();
    // The restored v1 is now the newest of the tags the namespace's policy counts.
    assert_eq!(h.registry.prune().await.unwrap(), 1);
    assert_eq!(tag_names(&h.registry, &repo("ns/app")).await, ["v1", "v4"]);
    assert_eq!(tag_names(&h.registry, &repo("ns/tools")).await, ["dev-1"]);
    h.clock.advance_ms(8 * DAY_MS);
    assert_eq!(h.registry.prune().await.unwrap(), 1);
    assert!(tag_names(&h.registry, &repo("ns/tools")).await.is_empty());
    assert_eq!(tag_names(&h.registry, &repo("ns/app")).await, ["v1", "v4"]);

    assert!(
        policies
            .delete_prune_policy(namespace.id, None, "keep-two", audit())
            .await
            .unwrap()
    );
    assert_eq!(h.registry.prune().await.unwrap(), 0);
    assert_eq!(tag_names(&h.registry, &repo("ns/app")).await, ["v1", "v4"]);
}
