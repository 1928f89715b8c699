//! Repository mirroring on demand, for scripts: `quay-bin mirror --once [REPOSITORY]
//! [--dry-run]`. `serve` syncs due mirrors continuously through `quay_app::Tasks`.

use anyhow::{Context, bail};
use quay_core::RepositoryPath;

use crate::MirrorArgs;
use crate::deployment::Deployment;

pub(crate) async fn mirror(args: MirrorArgs) -> anyhow::Result<()> {
    let deployment = Deployment::open(&args.location).await?;
    let app = &deployment.app;
    let Some(worker) = &app.mirrors else {
        bail!("FEATURE_REPO_MIRROR is off: no repository is mirrored");
    };
    let repository = args
        .repository
        .as_deref()
        .map(RepositoryPath::parse)
        .transpose()
        .context("the repository to sync")?;
    let reports = match &repository {
        Some(path) if args.dry_run => vec![app.registry.plan_mirror_sync(path).await?],
        Some(path) => {
            let mirror = app
                .registry
                .mirror_of(path)
                .await?
                .with_context(|| format!("{path} has no mirror configuration"))?;
            let reports = worker.sync_due(Some(mirror.repository.id)).await?;
            if reports.is_empty() {
                bail!("another node is syncing {path} now");
            }
            reports
        }
        None => worker.sync_due(None).await?,
    };
    // The command's output: one JSON report per line.
    #[allow(clippy::print_stdout)]
    for report in &reports {
        println!("{}", report.to_json());
    }
    Ok(())
}
