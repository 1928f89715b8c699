//! `quay-bin`: the registry server.
//!
//! `quay-bin serve` with no arguments starts a working registry on `127.0.0.1:8080`, with
//! SQLite metadata and blobs under `./quay-data`. A Quay `config.yaml` (`--config`) and
//! environment variables switch the database and storage. This is the only crate that knows
//! which concrete backends exist; everything else sees the ports of `quay-core`.

mod config;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A Quay-compatible container registry.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the registry.
    Serve(ServeArgs),
}

/// Where the registry listens and keeps its data.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "QUAY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory for the embedded database and blobs (when the config names none).
    #[arg(long, env = "QUAY_DATA_DIR", default_value = "quay-data")]
    data_dir: PathBuf,
    /// A Quay `config.yaml`.
    #[arg(long, env = "QUAY_CONFIG")]
    config: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve::serve(args)),
    }
}

/// Structured logs on stderr: human-readable, or JSON with `QUAY_LOG_FORMAT=json`; the level
/// from `RUST_LOG` (default `info`).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if std::env::var("QUAY_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
