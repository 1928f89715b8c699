//! Garbage collection and auto-pruning on demand: `quay-bin gc` (once, or in a loop) and
//! `quay-bin prune`. `serve` schedules both through `quay_app::Tasks`.

use quay_core::gc::Reclaimed;

use crate::deployment::Deployment;
use crate::{GcArgs, PruneArgs};

pub(crate) async fn gc(args: GcArgs) -> anyhow::Result<()> {
    let deployment = Deployment::open(&args.location).await?;
    let collector = &deployment.app.collector;
    if args.once {
        print(&collector.collect().await?);
        return Ok(());
    }
    let frequency = deployment.config.time_machine.gc_frequency;
    loop {
        print(&collector.collect().await?);
        tokio::time::sleep(frequency).await;
    }
}

pub(crate) async fn prune(args: PruneArgs) -> anyhow::Result<()> {
    let deployment = Deployment::open(&args.location).await?;
    let pruned = deployment.app.registry.prune().await?;
    // The command's output.
    #[allow(clippy::print_stdout)]
    {
        println!("pruned {pruned} tags");
    }
    Ok(())
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
