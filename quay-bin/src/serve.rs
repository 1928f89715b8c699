//! `quay-bin serve`: the registry, served until SIGTERM or Ctrl-C, finishing the requests in
//! flight (up to `HTTP_SHUTDOWN_TIMEOUT`) and the usage log's queue.

use std::time::Duration;

use anyhow::Context;
use quay_app::{SizeBackfill, Tasks};
use quay_http::{AppState, Tenancy, TenancySettings};
use tokio_rustls::TlsAcceptor;

use crate::ServeArgs;
use crate::deployment::Deployment;
use crate::replicate;
use crate::server;
use crate::tls;

/// How often the auto-prune policies run (Quay's worker polls every 30 seconds).
const PRUNE_FREQUENCY: Duration = Duration::from_secs(30);

pub(crate) async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let deployment = Deployment::open(&args.location).await?;
    let app = deployment.app;
    let features = &deployment.config.features;
    let quota = &deployment.config.quota;
    app.start(&Tasks {
        collect_every: features
            .garbage_collection
            .then_some(deployment.config.time_machine.gc_frequency),
        prune_every: features.auto_prune.then_some(PRUNE_FREQUENCY),
        replicate_poll: Some(replicate::REPLICATION_POLL),
        size_backfill: (quota.settings.management && quota.backfill).then_some(SizeBackfill {
            delay: quota.backfill_delay,
            period: quota.backfill_period,
            batch: quota.backfill_batch,
        }),
    });
    let tenancy = Tenancy {
        authenticator: app.authenticator.clone(),
        accounts: app.accounts.clone(),
        settings: TenancySettings {
            public_catalog: features.public_catalog,
            user_creation: features.user_creation,
            user_initialize: features.user_initialize,
            permanently_delete_tags: features.permanently_delete_tags,
            change_tag_expiration: features.change_tag_expiration,
            tag_expiration_options: deployment
                .config
                .time_machine
                .window_options
                .iter()
                .map(|window| i64::try_from(window.as_secs()).unwrap_or(i64::MAX))
                .collect(),
            auto_prune: features.auto_prune,
            quota: deployment.config.quota.settings,
            edit_quota: deployment.config.quota.edit,
            implicit_token_lifetime_s: i64::try_from(
                deployment.config.implicit_token_lifetime.as_secs(),
            )
            .unwrap_or(i64::MAX),
        },
    };
    let mut state =
        AppState::new(app.registry.clone(), app.authorizer.clone()).with_tenancy(tenancy);
    if let Some(scheme) = &deployment.config.preferred_url_scheme {
        state = state.with_scheme(scheme);
    }
    if let Some(url) = deployment.config.public_url() {
        state = state.with_public_url(&url);
    }

    let tls = match (
        &args.location.config,
        &deployment.config.preferred_url_scheme,
    ) {
        (Some(config), Some(scheme)) if scheme == "https" => tls::certificate_files(config)
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
        max_connections: connection_limit(deployment.config.http.max_connections),
        ..deployment.config.http
    };
    tracing::info!(
        %address,
        tls = tls.is_some(),
        database = %deployment.database,
        storage = %deployment.storage,
        max_connections = limits.max_connections,
        "registry listening"
    );
    server::serve(
        listener,
        tls,
        quay_http::router(state),
        limits,
        shutdown_signal(),
    )
    .await;
    app.close().await;
    tracing::info!("registry stopped");
    Ok(())
}

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
