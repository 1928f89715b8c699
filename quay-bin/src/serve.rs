//! `quay-bin serve`: wires the configured backends into a registry and serves it until
//! SIGTERM or Ctrl-C, finishing the requests in flight.

use std::sync::Arc;

use anyhow::Context;
use axum::serve::ListenerExt;
use quay_core::RegistrySettings;
use quay_storage::{MetadataOptions, open_registry};

use crate::ServeArgs;
use crate::config::{Config, StorageConfig};

pub(crate) async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref(), |key| std::env::var(key).ok())?;
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating data directory {}", args.data_dir.display()))?;

    let db_uri = config
        .db_uri
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", args.data_dir.join("quay.db").display()));
    let mut metadata_options = MetadataOptions::default();
    if let Some(max) = config.db_max_connections {
        metadata_options.max_connections = max;
    }
    let storage_path = match &config.storage {
        Some(StorageConfig::Local { path }) => path.clone(),
        None => args.data_dir.join("storage"),
    };
    let mut settings = RegistrySettings {
        max_blob_bytes: config.maximum_layer_size,
        // Until accounts exist the registry is open: pushes create their namespaces.
        create_namespace_on_push: true,
        ..RegistrySettings::default()
    };
    if let Some(seconds) = config.push_temp_tag_expiration_sec {
        let ms = i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        settings.upload_link_ms = ms;
        settings.untagged_manifest_ms = ms;
    }
    let backend = open_registry(&db_uri, &metadata_options, &storage_path, settings)
        .await
        .with_context(|| {
            format!(
                "opening the database {} and storage {}",
                redact(&db_uri),
                storage_path.display()
            )
        })?;
    let mut state =
        quay_http::AppState::new(Arc::new(backend.registry), Arc::new(quay_auth::AllowAll));
    if let Some(url) = config.public_url() {
        state = state.with_public_url(&url);
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, database = %redact(&db_uri), storage = %storage_path.display(), "registry listening");
    let listener = listener.tap_io(|stream| {
        // Responses are small and written whole; waiting to coalesce them only adds latency.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
    });
    axum::serve(listener, quay_http::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")?;
    backend.pull_log.close().await;
    tracing::info!("registry stopped");
    Ok(())
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

/// A database URI without its password, for logs.
fn redact(uri: &str) -> String {
    match (uri.find("://"), uri.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &uri[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &uri[..scheme_end + 3], &uri[at..])
                }
                None => uri.to_string(),
            }
        }
        _ => uri.to_string(),
    }
}
