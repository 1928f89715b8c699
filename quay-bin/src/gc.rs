//! Garbage collection, scheduled: `quay-bin gc` (once, or in a loop), and the collector that
//! `quay-bin serve` runs every `GARBAGE_COLLECTION_FREQUENCY`.

use std::time::Duration;

use quay_core::gc::{GarbageCollector, Reclaimed};

use crate::GcArgs;
use crate::deployment::Deployment;

pub(crate) async fn gc(args: GcArgs) -> anyhow::Result<()> {
    let deployment = Deployment::open(&args.location).await?;
    let collector = &deployment.backend.collector;
    if args.once {
        print(&collector.collect().await?);
        return Ok(());
    }
    let frequency = deployment.config.collector.frequency;
    loop {
        print(&collector.collect().await?);
        tokio::time::sleep(frequency).await;
    }
}

/// The command's output: what one collection reclaimed.
#[allow(clippy::print_stdout)]
fn print(reclaimed: &Reclaimed) {
    println!(
        "reclaimed {} tags, {} manifests, {} upload links, {} blobs ({} bytes), {} uploads, \
         {} unfinished writes",
        reclaimed.tags,
        reclaimed.manifests,
        reclaimed.links,
        reclaimed.blobs,
        reclaimed.bytes,
        reclaimed.uploads,
        reclaimed.unfinished_writes
    );
}

/// Collects every `frequency` until the process ends. A failed collection is logged and
/// tried again next time: what it did not finish is still garbage then.
pub(crate) async fn run_worker(collector: GarbageCollector, frequency: Duration) {
    loop {
        tokio::time::sleep(frequency).await;
        match collector.collect().await {
            Ok(reclaimed) if reclaimed != Reclaimed::default() => {
                tracing::info!(
                    tags = reclaimed.tags,
                    manifests = reclaimed.manifests,
                    links = reclaimed.links,
                    blobs = reclaimed.blobs,
                    bytes = reclaimed.bytes,
                    uploads = reclaimed.uploads,
                    unfinished_writes = reclaimed.unfinished_writes,
                    "garbage collected"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "garbage collection failed; retrying later"),
        }
    }
}
