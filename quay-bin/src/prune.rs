//! Auto-pruning, scheduled: `quay-bin prune` (once), and the policies that `quay-bin serve`
//! applies with `FEATURE_AUTO_PRUNE`.

use std::sync::Arc;
use std::time::Duration;

use quay_core::Registry;

use crate::PruneArgs;
use crate::deployment::Deployment;

pub(crate) async fn prune(args: PruneArgs) -> anyhow::Result<()> {
    let deployment = Deployment::open(&args.location).await?;
    let pruned = deployment.backend.registry.prune().await?;
    // The command's output.
    #[allow(clippy::print_stdout)]
    {
        println!("pruned {pruned} tags");
    }
    Ok(())
}

/// Applies the auto-prune policies every `frequency` until the process ends.
pub(crate) async fn run_pruner(registry: Arc<Registry>, frequency: Duration) {
    loop {
        tokio::time::sleep(frequency).await;
        match registry.prune().await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "auto-prune policies applied"),
            Err(error) => tracing::warn!(%error, "auto-pruning failed; retrying later"),
        }
    }
}
