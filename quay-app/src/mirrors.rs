//! The mirror worker every node runs: it claims due syncs of repository mirrors (one node
//! per mirror at a time), runs each while renewing its lease, and stops a sync between tags
//! when it is cancelled or its lease was lost to another node. `quay-bin mirror --once` runs
//! the same passes for scripts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use quay_core::Registry;
use quay_core::clock::Clock;
use quay_core::mirror::SyncReport;
use quay_core::ports::{ClaimState, ClaimedMirror, MirrorStore, RepositoryId};

use crate::upstream::Upstreams;

/// Syncs repository mirrors.
pub struct MirrorWorker {
    registry: Arc<Registry>,
    store: Arc<dyn MirrorStore>,
    upstreams: Arc<Upstreams>,
    lease: Duration,
    clock: Arc<dyn Clock>,
}

impl MirrorWorker {
    pub(crate) fn new(
        registry: Arc<Registry>,
        store: Arc<dyn MirrorStore>,
        upstreams: Arc<Upstreams>,
        lease: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            registry,
            store,
            upstreams,
            lease,
            clock,
        }
    }

    /// Runs every due sync, one after the other, until none is due; or, with `only`, that
    /// repository's sync whether due or not (unless another node runs it). The reports, in
    /// the order the syncs ran.
    pub async fn sync_due(&self, only: Option<RepositoryId>) -> quay_core::Result<Vec<SyncReport>> {
        let mut reports = Vec::new();
        while let Some(claimed) = self
            .store
            .claim_mirror(only, self.clock.now_ms(), self.lease_until())
            .await?
        {
            reports.push(self.run(&claimed).await?);
            if only.is_some() {
                break;
            }
        }
        Ok(reports)
    }

    fn lease_until(&self) -> i64 {
        let lease_ms = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
        self.clock.now_ms().saturating_add(lease_ms)
    }

    /// Runs a claimed sync, renewing its lease meanwhile.
    async fn run(&self, claimed: &ClaimedMirror) -> quay_core::Result<SyncReport> {
        let repository = claimed.mirror.repository.id;
        // Credentials may have changed since the last sync.
        self.upstreams.forget_mirror(repository);
        let stop = Arc::new(AtomicBool::new(false));
        let renewing = tokio::spawn(renew(
            Arc::clone(&self.store),
            claimed.clone(),
            Arc::clone(&stop),
            self.lease,
            Arc::clone(&self.clock),
        ));
        let started = std::time::Instant::now();
        let report = self.registry.run_mirror_sync(claimed, &stop).await;
        renewing.abort();
        let outcome = report
            .as_ref()
            .map_or("error", |report| report.outcome.as_str())
            .to_string();
        metrics::counter!("quay_repo_mirror_syncs_total", "outcome" => outcome).increment(1);
        metrics::histogram!("quay_repo_mirror_sync_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        match &report {
            Ok(report) => tracing::info!(
                repository = %claimed.mirror.repository.path,
                outcome = %report.outcome,
                message = %report.message,
                "mirror synced"
            ),
            Err(error) => tracing::warn!(
                repository = %claimed.mirror.repository.path,
                %error,
                "mirror sync failed; its lease lapses and a node retries it"
            ),
        }
        report
    }
}

/// How soon a running sync learns it was cancelled: its claim is renewed at least this often.
const CANCEL_NOTICED_WITHIN: Duration = Duration::from_secs(2);

/// Renews the claim every third of the lease (or sooner); sets `stop` when the sync was
/// cancelled or the claim lost.
async fn renew(
    store: Arc<dyn MirrorStore>,
    claimed: ClaimedMirror,
    stop: Arc<AtomicBool>,
    lease: Duration,
    clock: Arc<dyn Clock>,
) {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    // A cancel is noticed within seconds, however long the lease.
    let every = (lease / 3).min(CANCEL_NOTICED_WITHIN);
    loop {
        tokio::time::sleep(every).await;
        let until = clock.now_ms().saturating_add(lease_ms);
        match store
            .renew_claim(claimed.mirror.repository.id, &claimed.claim, until)
            .await
        {
            Ok(ClaimState::Held) => {}
            Ok(ClaimState::Cancelled | ClaimState::Lost) => {
                stop.store(true, Ordering::Release);
                return;
            }
            Err(error) => tracing::warn!(%error, "renewing a mirror's lease failed; retrying"),
        }
    }
}

/// Every node's loop: the due syncs, then a wait.
pub(crate) async fn sync_mirrors(worker: Arc<MirrorWorker>, poll: Duration) {
    loop {
        if let Err(error) = worker.sync_due(None).await {
            tracing::warn!(%error, "syncing mirrors failed; retrying later");
        }
        tokio::time::sleep(poll).await;
    }
}
