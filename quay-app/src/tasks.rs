//! The application's background tasks: garbage collection, auto-prune, geo-replication, the
//! backfill of namespace sizes, the database's gauges, the delivery of notifications and the
//! syncs of repository mirrors, each a loop that logs its failures
//! and tries again. Each counts what it did in the metrics (`quay_gc_*`, `quay_replication_*`).

use std::sync::Arc;
use std::time::Duration;

use quay_core::gc::{GarbageCollector, Reclaimed};
use quay_core::{Accounts, Registry};
use quay_storage::{Replicated, Replicator, SqlMetadata};

use crate::app::App;

/// Which background tasks [`App::start`] runs, and how often; `None` leaves one off.
#[derive(Clone, Debug, Default)]
pub struct Tasks {
    /// Garbage collection, every this long (`GARBAGE_COLLECTION_FREQUENCY`).
    pub collect_every: Option<Duration>,
    /// Applying the auto-prune policies, every this long.
    pub prune_every: Option<Duration>,
    /// Geo-replication, looking for work at least this often; it runs only where storage
    /// has locations to replicate to.
    pub replicate_poll: Option<Duration>,
    /// Computing the sizes of namespaces older than the accounting (quota management).
    pub size_backfill: Option<SizeBackfill>,
    /// Recording the database's gauges (uploads in progress, the replication queue, the
    /// connection pool), every this long.
    pub gauges_every: Option<Duration>,
    /// Sending due notifications, looking for them this often.
    pub deliver_poll: Option<Duration>,
    /// Looking for the tags that `repo_image_expiry` notifications tell about, this often.
    pub expiry_scan_every: Option<Duration>,
    /// Writing queued usage-log exports, looking for them this often.
    pub export_poll: Option<Duration>,
    /// Syncing due repository mirrors, looking for them this often (`REPO_MIRROR_INTERVAL`).
    pub mirror_poll: Option<Duration>,
}

/// When and how much of the size backfill runs.
#[derive(Clone, Copy, Debug)]
pub struct SizeBackfill {
    /// How long after start it begins (`QUOTA_TOTAL_DELAY_SECONDS`).
    pub delay: Duration,
    /// Between rounds (`QUOTA_BACKFILL_POLL_PERIOD`).
    pub period: Duration,
    /// Namespaces per round (`QUOTA_BACKFILL_BATCH_SIZE`).
    pub batch: u32,
}

impl App {
    /// Spawns the background tasks on the current runtime; they run until it ends.
    pub fn start(&self, tasks: &Tasks) {
        if let Some(every) = tasks.collect_every {
            tokio::spawn(collect(self.collector.clone(), every));
        }
        if let Some(every) = tasks.prune_every {
            tokio::spawn(prune(self.registry.clone(), every));
        }
        if let Some(poll) = tasks.replicate_poll
            && let Some(replicator) = self.storage.replicator()
        {
            tokio::spawn(replicate(replicator, poll));
        }
        if let Some(backfill) = tasks.size_backfill {
            tokio::spawn(backfill_sizes(self.accounts.clone(), backfill));
        }
        if let Some(every) = tasks.gauges_every {
            tokio::spawn(record_gauges(self.database.clone(), every));
        }
        if let Some(poll) = tasks.deliver_poll {
            tokio::spawn(crate::deliveries::deliver(self.deliveries.clone(), poll));
        }
        if let Some(poll) = tasks.export_poll {
            tokio::spawn(crate::exports::export(self.exporter.clone(), poll));
        }
        if let Some(poll) = tasks.mirror_poll
            && let Some(mirrors) = &self.mirrors
        {
            tokio::spawn(crate::mirrors::sync_mirrors(mirrors.clone(), poll));
        }
        if let Some(every) = tasks.expiry_scan_every {
            tokio::spawn(crate::deliveries::scan_expiring_tags(
                self.deliveries.clone(),
                every,
            ));
        }
    }
}

async fn collect(collector: Arc<GarbageCollector>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let collected = collector.collect().await;
        count_collection(collected.as_ref().ok());
        match collected {
            Ok(reclaimed) if reclaimed != Reclaimed::default() => {
                tracing::info!(
                    tags = reclaimed.tags,
                    manifests = reclaimed.manifests,
                    links = reclaimed.links,
                    blobs = reclaimed.blobs,
                    bytes = reclaimed.bytes,
                    uploads = reclaimed.uploads,
                    upload_leftovers = reclaimed.upload_leftovers,
                    unfinished_writes = reclaimed.unfinished_writes,
                    "garbage collected"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "garbage collection failed; retrying later"),
        }
    }
}

/// `quay_gc_passes_total{outcome}` and `quay_gc_reclaimed_total{what}`.
fn count_collection(reclaimed: Option<&Reclaimed>) {
    let outcome = if reclaimed.is_some() {
        "done"
    } else {
        "failed"
    };
    metrics::counter!("quay_gc_passes_total", "outcome" => outcome).increment(1);
    if let Some(reclaimed) = reclaimed {
        for (what, count) in [
            ("tags", reclaimed.tags),
            ("manifests", reclaimed.manifests),
            ("links", reclaimed.links),
            ("blobs", reclaimed.blobs),
            ("bytes", reclaimed.bytes),
            ("uploads", reclaimed.uploads),
            ("upload_leftovers", reclaimed.upload_leftovers),
            ("unfinished_writes", reclaimed.unfinished_writes),
        ] {
            metrics::counter!("quay_gc_reclaimed_total", "what" => what).increment(count);
        }
    }
}

async fn prune(registry: Arc<Registry>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        match registry.prune().await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "auto-prune policies applied"),
            Err(error) => tracing::warn!(%error, "auto-pruning failed; retrying later"),
        }
    }
}

async fn replicate(replicator: Replicator, poll: Duration) {
    loop {
        let run = replicator.run().await;
        if let Ok(done) = &run {
            metrics::counter!("quay_replication_copies_total").increment(done.copies);
            metrics::counter!("quay_replication_bytes_total").increment(done.bytes);
            metrics::counter!("quay_replication_failures_total").increment(done.postponed);
        } else {
            metrics::counter!("quay_replication_failures_total").increment(1);
        }
        match run {
            Ok(done) if done != Replicated::default() => tracing::info!(
                blobs = done.blobs,
                copies = done.copies,
                bytes = done.bytes,
                postponed = done.postponed,
                "blobs replicated"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "replication failed; retrying later"),
        }
        replicator.wait_for_work(poll).await;
    }
}

/// Computes the sizes of older namespaces, a batch every period, after the delay, until
/// none is left; then keeps looking (a node running with quota off forgets the sizes,
/// which the next round computes again).
async fn backfill_sizes(accounts: Arc<Accounts>, backfill: SizeBackfill) {
    tokio::time::sleep(backfill.delay).await;
    loop {
        match accounts.backfill_sizes(backfill.batch).await {
            Ok(0) => {}
            Ok(computed) => tracing::info!(computed, "namespace sizes computed"),
            Err(error) => tracing::warn!(%error, "computing namespace sizes failed; retrying"),
        }
        tokio::time::sleep(backfill.period).await;
    }
}

async fn record_gauges(database: SqlMetadata, every: Duration) {
    loop {
        if let Err(error) = database.record_gauges().await {
            tracing::warn!(%error, "reading the database's gauges failed; retrying later");
        }
        tokio::time::sleep(every).await;
    }
}
