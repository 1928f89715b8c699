//! Geo-replication, scheduled: the replicator that `quay-bin serve` runs with
//! `FEATURE_STORAGE_REPLICATION`, and `quay-bin replicate`, which empties the queue once
//! (after queueing every blob, with `--all`, for blobs stored before replication was on).

use std::time::Duration;

use anyhow::bail;
use quay_storage::{Replicated, Replicator};

use crate::ReplicateArgs;
use crate::deployment::Deployment;

/// How often the replicator looks for blobs other nodes queued (Quay's replication worker
/// polls as often). Blobs this node stores wake it at once.
pub(crate) const REPLICATION_POLL: Duration = Duration::from_secs(10);

pub(crate) async fn replicate(args: ReplicateArgs) -> anyhow::Result<()> {
    let deployment = Deployment::open(&args.location).await?;
    let Some(replicator) = deployment.backend.storage.replicator() else {
        bail!(
            "nothing to replicate to: set FEATURE_STORAGE_REPLICATION and \
             DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS"
        );
    };
    let queued = if args.all {
        replicator.queue_every_blob().await?
    } else {
        0
    };
    let done = replicator.run().await?;
    // The command's output.
    #[allow(clippy::print_stdout)]
    {
        println!(
            "queued {queued} blobs; replicated {} blobs ({} copies, {} bytes); {} left for a later attempt",
            done.blobs, done.copies, done.bytes, done.postponed
        );
    }
    if done.postponed > 0 {
        bail!(
            "{} blobs could not be replicated; see the log",
            done.postponed
        );
    }
    Ok(())
}

/// Replicates what is queued whenever there is some, until the process ends. A failed
/// pass is logged and tried again at the next poll: its blobs are still queued.
pub(crate) async fn run_worker(replicator: Replicator, poll: Duration) {
    loop {
        match replicator.run().await {
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
