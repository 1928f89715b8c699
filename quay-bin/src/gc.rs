//! Garbage collection on demand: `quay-bin gc` (once, or in a loop). `serve` schedules it
//! through `quay_app::Tasks`.

use quay_core::gc::Reclaimed;

use crate::GcArgs;
use crate::deployment::Deployment;

pub(crate) async fn gc(args: GcArgs) -> anyhow::Result<()> {
    let deployment = Deployment::open(&args.location).await?;
    let collector = &deployment.app.collector;
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
         {} uploads' leftovers, {} unfinished writes",
        reclaimed.tags,
        reclaimed.manifests,
        reclaimed.links,
        reclaimed.blobs,
        reclaimed.bytes,
        reclaimed.uploads,
        reclaimed.upload_leftovers,
        reclaimed.unfinished_writes
    );
}
