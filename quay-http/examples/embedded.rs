//! A service that embeds the registry next to its own routes.
//!
//! ```text
//! cargo run -p quay-http --example embedded -- 127.0.0.1:5000 /tmp/embedded-registry
//! skopeo copy --dest-tls-verify=false docker://... docker://127.0.0.1:5000/team/app:v1
//! curl http://127.0.0.1:5000/hello
//! ```

use axum::Router;
use axum::routing::get;
use quay_core::RegistrySettings;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:5000".to_string());
    let data = std::path::PathBuf::from(
        args.next()
            .unwrap_or_else(|| "embedded-registry".to_string()),
    );
    std::fs::create_dir_all(&data)?;

    // The embedded default (SQLite metadata, blobs in a directory), open to everyone:
    // pushes create their namespaces.
    let settings = RegistrySettings {
        permissions: quay_core::permission::PermissionSettings {
            create_namespace_on_push: true,
            ..Default::default()
        },
        ..RegistrySettings::default()
    };
    let settings = quay_app::AppSettings {
        registry: settings,
        open: true,
        ..Default::default()
    };
    let registry = quay_app::App::embedded(&data, settings).await?.registry;

    // The registry's router, merged with the service's own.
    let state = quay_http::AppState::new(registry);
    let app = Router::new()
        .route(
            "/hello",
            get(|| async { "hello from the embedding service\n" }),
        )
        .merge(quay_http::router(state));

    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
