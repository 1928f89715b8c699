//! Storage quota's administration command, `quay-bin quota verify`. The backfill of older
//! namespaces' sizes is a background task of `quay_app` (`Tasks::size_backfill`).

use crate::QuotaVerifyArgs;
use crate::deployment::Deployment;

/// Recomputes every size and prints the differences; whether the stored sizes are right
/// (or, with `--repair`, are now).
pub(crate) async fn verify(args: QuotaVerifyArgs) -> anyhow::Result<bool> {
    let deployment = Deployment::open(&args.location).await?;
    if !deployment.config.quota.management {
        anyhow::bail!("storage quota is off (FEATURE_QUOTA_MANAGEMENT): no sizes are kept");
    }
    let differences = deployment.app.accounts.verify_sizes(args.repair).await?;
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
