//! Auto-pruning on demand: `quay-bin prune` (once). `serve` applies the policies with
//! `FEATURE_AUTO_PRUNE` through `quay_app::Tasks`.

use crate::PruneArgs;
use crate::deployment::Deployment;

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
