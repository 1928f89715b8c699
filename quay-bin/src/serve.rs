//! `quay-bin serve`: the registry, served until SIGTERM or Ctrl-C, finishing the requests in
//! flight (up to `HTTP_SHUTDOWN_TIMEOUT`) and the usage log's queue.

use std::time::Duration;

use anyhow::Context;
use quay_app::{SizeBackfill, Tasks};
use quay_http::{AppState, Tenancy, TenancySettings};
use tokio_rustls::TlsAcceptor;

use crate::ServeArgs;
use crate::config::{Config, Scheme};
use crate::deployment::Deployment;
use crate::{memory, replicate, server, tls};

/// How often the auto-prune policies run (Quay's worker polls every 30 seconds).
const PRUNE_FREQUENCY: Duration = Duration::from_secs(30);

/// How often the recorder folds the latencies recorded since into the histograms' buckets:
/// until then it keeps every sample (8 bytes each; 60,000 requests a second would hold
/// 5 MiB after ten seconds).
const METRICS_UPKEEP: Duration = Duration::from_secs(1);

/// How often the database's gauges are read.
const GAUGES_EVERY: Duration = Duration::from_secs(10);
/// How often each node looks for due notifications; a push's arrive within this.
const DELIVER_POLL: Duration = Duration::from_secs(1);

pub(crate) async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Before anything records (the cache takes its counters when it is built).
    let metrics = quay_http::install_recorder().context("installing the metrics recorder")?;
    tokio::spawn({
        let metrics = metrics.clone();
        async move {
            loop {
                tokio::time::sleep(METRICS_UPKEEP).await;
                metrics.run_upkeep();
            }
        }
    });
    let deployment = Deployment::open(&args.location).await?;
    let config = &deployment.config;
    let app = &deployment.app;
    let backfill = &config.quota_backfill;
    app.start(&Tasks {
        collect_every: config
            .collector
            .enabled
            .then_some(config.collector.frequency),
        prune_every: config.tenancy.auto_prune.then_some(PRUNE_FREQUENCY),
        replicate_poll: Some(replicate::REPLICATION_POLL),
        size_backfill: (config.quota.management && backfill.enabled).then_some(SizeBackfill {
            delay: backfill.delay,
            period: backfill.period,
            batch: backfill.batch,
        }),
        gauges_every: Some(GAUGES_EVERY),
        deliver_poll: Some(DELIVER_POLL),
        expiry_scan_every: config
            .notifications
            .image_expiry_trigger
            .then_some(config.notifications.expiry_scan_every),
        export_poll: config.tenancy.log_export.then_some(EXPORT_POLL),
        mirror_poll: config
            .tenancy
            .repo_mirror
            .then_some(config.tenancy.mirror_interval),
    });
    let tenancy = Tenancy {
        authenticator: app.authenticator.clone(),
        accounts: app.accounts.clone(),
        settings: tenancy_settings(config),
    };
    let mut state = AppState::new(app.registry.clone())
        .with_tenancy(tenancy)
        .with_metrics(metrics);
    if let Some(scheme) = config.server.scheme {
        state = state.with_scheme(scheme.as_str());
    }
    if let Some(url) = config.public_url() {
        state = state.with_public_url(&url);
    }

    let tls = match (&args.location.config, config.server.scheme) {
        (Some(file), Some(Scheme::Https)) => tls::certificate_files(file)
            .map(|(cert, key)| tls::server_config(&cert, &key))
            .transpose()?
            .map(TlsAcceptor::from),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    let limits = server::Limits {
        max_connections: connection_limit(config.http.max_connections),
        ..config.http
    };
    let routes = quay_http::router_with_pages(state, quay_ui::router());
    // Starting is done: what it freed goes back to the kernel before the first request, and
    // the code it ran is unmapped.
    memory::release_free_pages_from_now_on();
    memory::unmap_startup_code();
    tracing::info!(
        %address,
        tls = tls.is_some(),
        database = %deployment.database,
        storage = %deployment.storage,
        max_connections = limits.max_connections,
        "registry listening"
    );
    server::serve(listener, tls, routes, limits, shutdown_signal()).await;
    app.close().await;
    tracing::info!("registry stopped");
    Ok(())
}

/// What the API offers, from the tenancy's keys and the time machine's.
fn tenancy_settings(config: &Config) -> TenancySettings {
    let tenancy = &config.tenancy;
    let time_machine = &config.time_machine;
    let seconds = |duration: Duration| i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
    TenancySettings {
        user_creation: tenancy.user_creation,
        user_initialize: tenancy.user_initialize,
        permanently_delete_tags: time_machine.permanently_delete_tags,
        change_tag_expiration: time_machine.change_window,
        tag_expiration_options: time_machine
            .window_options
            .iter()
            .copied()
            .map(seconds)
            .collect(),
        auto_prune: tenancy.auto_prune,
        edit_quota: tenancy.edit_quota,
        implicit_token_lifetime_s: seconds(tenancy.implicit_token_lifetime),
        log_export: tenancy.log_export,
        proxy_cache: tenancy.proxy_cache,
    }
}

/// How often each node looks for queued log exports (Quay's worker looks every minute).
const EXPORT_POLL: Duration = Duration::from_secs(1);

/// File descriptors kept for everything but client connections: the database pool, blob
/// files being written and read, the listener, logs.
const RESERVED_FILES: u64 = 256;

/// `configured` connections, or fewer where the process may not open enough files. The
/// soft limit on open files is raised to the hard one first, as servers do: a soft limit
/// of 1024 would otherwise cap a registry at a few hundred clients.
fn connection_limit(configured: usize) -> usize {
    let files = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(files) => files,
        Err(error) => {
            tracing::warn!(%error, "the open file limit could not be read or raised");
            return configured;
        }
    };
    let fitting = usize::try_from(files.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
    if fitting < configured {
        tracing::warn!(
            configured,
            open_files = files,
            "HTTP_MAX_CONNECTIONS lowered to what the open file limit allows"
        );
    }
    configured.min(fitting).max(1)
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API's defaults for embedders are Quay's, as the configuration's are.
    #[test]
    fn an_empty_config_gives_the_api_defaults() {
        let config = Config::load(None, |_| None).unwrap();
        assert_eq!(
            format!("{:?}", tenancy_settings(&config)),
            format!("{:?}", TenancySettings::default())
        );
    }
}
