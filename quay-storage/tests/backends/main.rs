//! One behaviour suite for every storage backend: each scenario runs on SQLite and
//! PostgreSQL metadata (and SQLite behind the cache), and on filesystem, memory, S3 and
//! replicated blob storage (two locations, each node preferring another).

// Scenarios are shared between modules of this test crate, not exported.
#![allow(unreachable_pub)]

#[path = "../support/mod.rs"]
mod support;

mod accounts;
mod gc;
mod model;
mod notifications;
mod prune;
mod quota;
mod registry;
mod replication;
mod tenancy;

use support::{Harness, Metadata, Objects};

macro_rules! backend_suite {
    ($($backend:ident: $metadata:expr, $objects:expr;)*) => {$(
        mod $backend {
            use super::*;

            async fn run(scenario: impl AsyncFnOnce(&Harness)) {
                let Some(harness) = Harness::new($metadata, $objects).await else { return };
                scenario(&harness).await;
                harness.finish().await;
            }

            backend_suite!(@scenarios registry:
                monolithic_upload_is_readable,
                chunked_upload_continues_on_another_node,
                out_of_order_and_repeated_chunks_change_nothing,
                racing_chunks_record_only_one,
                a_wrong_digest_keeps_nothing,
                a_cancelled_upload_keeps_nothing,
                sha512_and_empty_blobs,
                knowing_a_digest_grants_nothing,
                upload_links_lapse_unless_a_manifest_takes_over,
                manifests_pull_by_tag_and_digest,
                a_manifest_with_a_missing_blob_stores_nothing,
                manifest_lists_need_their_children,
                untagged_manifests_lapse,
                moving_and_deleting_tags,
                tag_pages,
                catalog_pages,
                referrers_follow_subjects,
                deleting_blob_links,
                schema1_must_name_its_repository,
                parts_are_atomic_in_storage,
            );
            backend_suite!(@scenarios tenancy:
                users_and_organizations,
                robots_and_their_tokens,
                teams_and_members,
                permissions_facts_and_default_permissions,
                stored_credentials_and_the_signing_key,
                the_usage_log_records_and_pages,
            );
            backend_suite!(@scenarios gc:
                collection_removes_what_nothing_references,
                the_window_keeps_history_restorable,
                deleting_a_blob_takes_it_out_of_the_time_machine,
                lists_keep_children_and_referrers_keep_subjects,
                a_push_waits_for_the_bytes_being_deleted,
                abandoned_uploads_and_deleted_repositories,
                collection_leaves_uploads_in_progress,
                collection_removes_what_ended_uploads_left,
                cosign_companions_expire_with_what_they_sign,
            );
            backend_suite!(@scenarios model:
                the_time_machine_agrees_with_its_model,
            );
            backend_suite!(@scenarios prune:
                policies_prune_by_count_and_by_age,
            );
            backend_suite!(@scenarios notifications:
                notifications_stay_in_their_scope,
                a_push_writes_its_event_with_the_change,
                two_scans_tell_each_expiring_tag_once,
                three_failures_disable_a_notification_until_reset,
            );
            backend_suite!(@scenarios quota:
                sizes_agree_with_their_model,
                racing_pushes_count_a_shared_layer_once,
                backfills_on_two_nodes_size_each_namespace_once,
            );
            backend_suite!(@scenarios accounts:
                the_first_user_and_no_other,
                organizations_keep_an_admin,
                robots_and_permissions_stay_in_their_namespace,
                listings_show_what_the_viewer_may_read,
                deleting_a_namespace_reaches_the_registry,
            );

            #[tokio::test]
            async fn blob_limit() {
                crate::registry::blobs_larger_than_the_limit_are_refused($metadata, $objects).await;
            }
        }
    )*};
    (@scenarios $module:ident: $($scenario:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $scenario() {
            run(crate::$module::$scenario).await;
        }
    )*};
}

backend_suite! {
    sqlite_filesystem: Metadata::Sqlite, Objects::Filesystem;
    sqlite_memory: Metadata::Sqlite, Objects::Memory;
    cached_sqlite_filesystem: Metadata::SqliteCached, Objects::Filesystem;
    postgres_filesystem: Metadata::Postgres, Objects::Filesystem;
    postgres_s3: Metadata::Postgres, Objects::S3;
    sqlite_replicated: Metadata::Sqlite, Objects::Replicated;
    postgres_replicated: Metadata::Postgres, Objects::Replicated;
}

/// Scenarios of geo-replication, on the two locations of [`Objects::Replicated`].
macro_rules! replication_suite {
    ($($backend:ident: $metadata:expr;)*) => {$(
        mod $backend {
            use super::*;

            replication_suite!(@scenarios $metadata;
                blobs_reach_every_default_location,
                a_damaged_source_is_not_copied,
                collection_removes_every_copy,
                uploads_continue_across_locations,
                a_failing_location_is_passed_over,
            );
        }
    )*};
    (@scenarios $metadata:expr; $($scenario:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $scenario() {
            let Some(harness) = Harness::new($metadata, Objects::Replicated).await else {
                return;
            };
            crate::replication::$scenario(&harness).await;
            harness.finish().await;
        }
    )*};
}

mod replication_scenarios {
    use super::*;

    replication_suite! {
        sqlite: Metadata::Sqlite;
        postgres: Metadata::Postgres;
    }
}
