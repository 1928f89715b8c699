//! The mirror worker every node runs: it claims due syncs of repository mirrors (one node
//! per mirror at a time), runs each while renewing its lease, and stops a sync between tags
//! when it is cancelled or its lease was lost to another node. `quay-bin mirror --once` runs
//! the same passes for scripts.
//!
//! It records Quay's mirror metrics, with Quay's names, per repository: the tags a running
//! sync has left, the last sync's status (0 failed, 1 succeeded, 2 in progress), whether it
//! copied every tag, when it started, and failures by namespace and kind.

use std::sync::Arc;
use std::time::Duration;

use quay_core::Registry;
use quay_core::clock::Clock;
use quay_core::mirror::{SyncControl, SyncReport};
use quay_core::names::RepositoryPath;
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
        let path = &claimed.mirror.repository.path;
        // Credentials may have changed since the last sync.
        self.upstreams.forget_mirror(repository);
        let control = Arc::new(SyncControl::default());
        let progress = Progress::of(path);
        progress.started(self.clock.now_ms());
        let renewing = tokio::spawn(renew(
            Arc::clone(&self.store),
            claimed.clone(),
            Arc::clone(&control),
            self.lease,
            Arc::clone(&self.clock),
            progress.clone(),
        ));
        let started = std::time::Instant::now();
        let report = self.registry.run_mirror_sync(claimed, &control).await;
        renewing.abort();
        progress.ended(&report, started.elapsed());
        match &report {
            Ok(report) => tracing::info!(
                repository = %path,
                outcome = %report.outcome,
                message = %report.message,
                "mirror synced"
            ),
            Err(error) => tracing::warn!(
                repository = %path,
                %error,
                "mirror sync failed; its lease lapses and a node retries it"
            ),
        }
        report
    }
}

/// How soon a running sync learns it was cancelled: its claim is renewed at least this often.
const CANCEL_NOTICED_WITHIN: Duration = Duration::from_secs(2);

/// Renews the claim every third of the lease (or sooner), reporting the tags left each time;
/// tells the sync to stop when it was cancelled or the claim lost.
async fn renew(
    store: Arc<dyn MirrorStore>,
    claimed: ClaimedMirror,
    control: Arc<SyncControl>,
    lease: Duration,
    clock: Arc<dyn Clock>,
    progress: Progress,
) {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    // A cancel is noticed within seconds, however long the lease.
    let every = (lease / 3).min(CANCEL_NOTICED_WITHIN);
    loop {
        tokio::time::sleep(every).await;
        progress.pending(control.pending_tags());
        let until = clock.now_ms().saturating_add(lease_ms);
        match store
            .renew_claim(claimed.mirror.repository.id, &claimed.claim, until)
            .await
        {
            Ok(ClaimState::Held) => {}
            Ok(ClaimState::Cancelled | ClaimState::Lost) => {
                control.stop();
                return;
            }
            Err(error) => tracing::warn!(%error, "renewing a mirror's lease failed; retrying"),
        }
    }
}

/// A sync's metrics, labelled with its repository as Quay labels them.
#[derive(Clone)]
struct Progress {
    /// `namespace` and `repository`.
    labels: [(&'static str, String); 2],
}

impl Progress {
    /// Quay's values of `quay_repository_mirror_last_sync_status`.
    const FAILED: f64 = 0.0;
    const SUCCEEDED: f64 = 1.0;
    const IN_PROGRESS: f64 = 2.0;

    fn of(path: &RepositoryPath) -> Self {
        Self {
            labels: [
                ("namespace", path.namespace.to_string()),
                ("repository", path.name.to_string()),
            ],
        }
    }

    fn namespace(&self) -> String {
        self.labels[0].1.clone()
    }

    fn started(&self, now_ms: i64) {
        self.status(Self::IN_PROGRESS);
        let now_s = now_ms as f64 / 1000.0;
        metrics::gauge!("quay_repository_mirror_last_sync_timestamp", &self.labels).set(now_s);
    }

    fn pending(&self, tags: usize) {
        metrics::gauge!("quay_repository_mirror_pending_tags", &self.labels).set(tags as f64);
    }

    fn ended(&self, report: &quay_core::Result<SyncReport>, took: Duration) {
        self.pending(0);
        let outcome = report
            .as_ref()
            .map_or("error", |report| report.outcome.as_str());
        let succeeded = outcome == "success";
        self.status(if succeeded {
            Self::SUCCEEDED
        } else {
            Self::FAILED
        });
        let complete = if succeeded { 1.0 } else { 0.0 };
        metrics::gauge!("quay_repository_mirror_sync_complete", &self.labels).set(complete);
        // A cancelled sync did not fail; a sync that could not finish did.
        let failure = match report {
            Ok(report) => report.failure_reason,
            Err(_) => Some("unknown_error"),
        };
        if let Some(reason) = failure {
            metrics::counter!(
                "quay_repository_mirror_sync_failures_total",
                "namespace" => self.namespace(),
                "reason" => reason,
            )
            .increment(1);
        }
        metrics::counter!("quay_repository_mirror_syncs_total", "outcome" => outcome.to_string())
            .increment(1);
        metrics::histogram!(
            "quay_repository_mirror_sync_duration_seconds",
            "namespace" => self.namespace(),
        )
        .record(took.as_secs_f64());
    }

    fn status(&self, value: f64) {
        let [namespace, repository] = self.labels.clone();
        let labels = [namespace, repository, ("last_error_reason", String::new())];
        metrics::gauge!("quay_repository_mirror_last_sync_status", &labels).set(value);
    }
}

/// Every node's loop: the due syncs, then a wait.
pub(crate) async fn sync_mirrors(worker: Arc<MirrorWorker>, poll: Duration) {
    metrics::gauge!("quay_repository_mirror_workers_active").set(1.0);
    loop {
        if let Err(error) = worker.sync_due(None).await {
            tracing::warn!(%error, "syncing mirrors failed; retrying later");
        }
        tokio::time::sleep(poll).await;
    }
}
