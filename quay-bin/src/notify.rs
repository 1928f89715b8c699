//! Notifications on demand: `quay-bin notify` queues the events of tags about to expire and
//! sends the deliveries that are due (once, or every second until stopped). `serve` runs
//! the same worker through `quay_app::Tasks`.

use std::time::Duration;

use crate::NotifyArgs;
use crate::deployment::Deployment;

/// How often a `notify` that keeps running looks for due deliveries, as `serve` does.
const POLL: Duration = Duration::from_secs(1);

pub(crate) async fn notify(args: NotifyArgs) -> anyhow::Result<()> {
    let deployment = Deployment::open(&args.location).await?;
    let deliveries = &deployment.app.deliveries;
    loop {
        deliveries.emit_expiring_tags().await?;
        print(deliveries.deliver_due().await?);
        if args.once {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The command's output: how many deliveries reached their receivers.
#[allow(clippy::print_stdout)]
fn print(delivered: usize) {
    println!("delivered {delivered}");
}
