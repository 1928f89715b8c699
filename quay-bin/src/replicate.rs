//! Geo-replication on demand: `quay-bin replicate` empties the queue once (after queueing
//! every blob, with `--all`, for blobs stored before replication was on). `serve` runs the
//! replicator through `quay_app::Tasks` with `FEATURE_STORAGE_REPLICATION`.

use std::time::Duration;

use anyhow::bail;

use crate::ReplicateArgs;
use crate::deployment::Deployment;

/// How often the replicator looks for blobs other nodes queued (Quay's replication worker
/// polls as often). Blobs this node stores wake it at once.
pub(crate) const REPLICATION_POLL: Duration = Duration::from_secs(10);

pub(crate) async fn replicate(args: ReplicateArgs) -> anyhow::Result<()> {
    let deployment = Deployment::open(&args.location).await?;
    let Some(replicator) = deployment.app.storage.replicator() else {
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
