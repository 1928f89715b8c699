//! `quay-bin serve`: the registry, served until SIGTERM or Ctrl-C, finishing the requests in
//! flight and the usage log's queue.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener, ListenerExt};
use quay_auth::PermissionAuthorizer;
use quay_http::{AppState, Tenancy, TenancySettings};
use tokio::net::TcpStream;

use crate::ServeArgs;
use crate::collect;
use crate::deployment::Deployment;
use crate::replicate;
use crate::tls;

/// How often the auto-prune policies run (Quay's worker polls every 30 seconds).
const PRUNE_FREQUENCY: Duration = Duration::from_secs(30);

pub(crate) async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let deployment = Deployment::open(&args.location).await?;
    let backend = deployment.backend;
    let features = &deployment.config.features;
    if features.garbage_collection {
        let frequency = deployment.config.time_machine.gc_frequency;
        tokio::spawn(collect::run_worker(backend.collector, frequency));
    }
    if let Some(replicator) = backend.storage.replicator() {
        tokio::spawn(replicate::run_worker(
            replicator,
            replicate::REPLICATION_POLL,
        ));
    }
    let authorizer =
        PermissionAuthorizer::new(backend.directory.clone(), deployment.auth_settings.clone());
    let tenancy = Tenancy {
        authenticator: deployment.authenticator.clone(),
        accounts: backend.accounts.clone(),
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
    let quota = &deployment.config.quota;
    if quota.settings.management && quota.backfill {
        tokio::spawn(crate::quota::run_backfill(
            backend.accounts.clone(),
            quota.clone(),
        ));
    }
    let registry = Arc::new(backend.registry);
    if features.auto_prune {
        tokio::spawn(collect::run_pruner(registry.clone(), PRUNE_FREQUENCY));
    }
    let mut state = AppState::new(registry, Arc::new(authorizer)).with_tenancy(tenancy);
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
            .transpose()?,
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(
        %address,
        tls = tls.is_some(),
        database = %deployment.database,
        storage = %deployment.storage,
        "registry listening"
    );
    let app = quay_http::router(state);
    // Responses are small and written whole; coalescing them only adds latency.
    let no_delay = |stream: &TcpStream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
    };
    match tls {
        Some(config) => {
            let listener = tls::TlsListener::new(listener, config)?
                .tap_io(move |stream| no_delay(stream.get_ref().0));
            run(listener, app).await?;
        }
        None => run(listener.tap_io(move |stream| no_delay(stream)), app).await?,
    }
    backend.pull_log.close().await;
    tracing::info!("registry stopped");
    Ok(())
}

/// Serves `app` on `listener` until SIGTERM or Ctrl-C, finishing the requests in flight.
async fn run<L>(listener: L, app: axum::Router) -> anyhow::Result<()>
where
    L: Listener<Addr = SocketAddr>,
    SocketAddr: for<'a> Connected<IncomingStream<'a, L>>,
{
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving")
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
    tracing::info!("shutting down: finishing requests in flight");
}
