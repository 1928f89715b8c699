//! Storage quota's background work and its administration command: the backfill that
//! computes the sizes of namespaces older than the accounting, and `quay-bin quota verify`.

use std::sync::Arc;

use quay_core::Accounts;

use crate::QuotaVerifyArgs;
use crate::config::QuotaBackfill;
use crate::deployment::Deployment;

/// Recomputes every size and prints the differences; whether the stored sizes are right
/// (or, with `--repair`, are now).
pub(crate) async fn verify(args: QuotaVerifyArgs) -> anyhow::Result<bool> {
    let deployment = Deployment::open(&args.location).await?;
    if !deployment.config.quota.management {
        anyhow::bail!("storage quota is off (FEATURE_QUOTA_MANAGEMENT): no sizes are kept");
    }
    let differences = deployment
        .backend
        .accounts
        .verify_sizes(args.repair)
        .await?;
    for difference in &differences {
        let stored = difference
            .stored
            .map_or_else(|| "nothing".to_string(), |bytes| format!("{bytes} bytes"));
        // The command's output.
        #[allow(clippy::print_stdout)]
        {
            println!(
                "{}: stored {stored}, actual {} bytes",
                difference.owner, difference.actual
            );
        }
        if args.repair {
            tracing::info!(
                owner = %difference.owner,
                stored = ?difference.stored,
                actual = difference.actual,
                "size repaired"
            );
        }
    }
    #[allow(clippy::print_stdout)]
    {
        match (differences.len(), args.repair) {
            (0, _) => println!("every stored size is right"),
            (n, true) => println!("{n} sizes repaired"),
            (n, false) => println!("{n} sizes differ"),
        }
    }
    Ok(differences.is_empty() || args.repair)
}

/// Computes the sizes of older namespaces, a batch every period, after the configured
/// delay, until none is left; then keeps looking (a node running with quota off forgets
/// the sizes, which the next round computes again).
pub(crate) async fn run_backfill(accounts: Arc<Accounts>, schedule: QuotaBackfill) {
    tokio::time::sleep(schedule.delay).await;
    loop {
        match accounts.backfill_sizes(schedule.batch).await {
            Ok(0) => {}
            Ok(computed) => tracing::info!(computed, "namespace sizes computed"),
            Err(error) => tracing::warn!(%error, "computing namespace sizes failed; retrying"),
        }
        tokio::time::sleep(schedule.period).await;
    }
}
