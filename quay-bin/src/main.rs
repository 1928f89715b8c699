//! `quay-bin`: the registry server and its administration commands.
//!
//! `quay-bin serve` with no arguments starts a working registry on `127.0.0.1:8080`, with
//! SQLite metadata and blobs under `./quay-data`. A Quay `config.yaml` (`--config`) and
//! environment variables switch the database, storage and features. This is the only
//! crate that knows which concrete backends exist; everything else sees the ports of
//! `quay-core`.

mod admin;
mod config;
mod deployment;
mod gc;
#[cfg(test)]
mod log_capture;
mod memory;
mod mirror;
mod notify;
mod prune;
mod quota;
mod replicate;
mod serve;
mod server;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// A Quay-compatible container registry.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How log lines are written on stderr: `text` for people, `json` (one object per line)
    /// for a log collector.
    #[arg(long, global = true, env = "QUAY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// The format of log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the registry.
    Serve(ServeArgs),
    /// Manages users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manages API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Collects garbage: tags past the time-machine window, then what nothing references.
    Gc(GcArgs),
    /// Applies the auto-prune policies once and prints how many tags they deleted.
    Prune(PruneArgs),
    /// Sends the notifications that are due, as every `serve` node does each second.
    Notify(NotifyArgs),
    /// Storage quota's sizes.
    #[command(subcommand)]
    Quota(QuotaCommand),
    /// Copies the blobs waiting for geo-replication to every default storage location,
    /// prints what it copied and exits.
    Replicate(ReplicateArgs),
    /// Syncs repository mirrors (FEATURE_REPO_MIRROR) and prints each sync's report as
    /// JSON: the due ones, or one repository's.
    Mirror(MirrorArgs),
}

/// A mirror run.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct MirrorArgs {
    #[command(flatten)]
    location: Location,
    /// Runs the due syncs (or REPOSITORY's) once and exits; the only mode (`serve` syncs
    /// continuously).
    #[arg(long, required = true)]
    once: bool,
    /// Only this repository's mirror (`namespace/name`), due or not.
    repository: Option<String>,
    /// Prints what a sync of REPOSITORY would copy, move and remove, and changes nothing.
    #[arg(long, requires = "repository")]
    dry_run: bool,
}

/// A replication run.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct ReplicateArgs {
    #[command(flatten)]
    location: Location,
    /// Queues every blob first: those stored before replication was turned on, or before
    /// a location was added to DISTRIBUTED_STORAGE_DEFAULT_LOCATIONS.
    #[arg(long)]
    all: bool,
}

#[derive(Subcommand)]
enum QuotaCommand {
    /// Recomputes every namespace's and repository's size from its manifests and prints
    /// where the stored sizes differ; exits with status 1 if any does.
    Verify(QuotaVerifyArgs),
}

/// A verification of the stored sizes.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct QuotaVerifyArgs {
    #[command(flatten)]
    location: Location,
    /// Stores the recomputed sizes where they differ, logs each repair and exits with
    /// status 0 once all are repaired.
    #[arg(long)]
    repair: bool,
}

/// An auto-prune run.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct PruneArgs {
    #[command(flatten)]
    location: Location,
}

/// A garbage collection.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct GcArgs {
    #[command(flatten)]
    location: Location,
    /// Collects once, prints what was reclaimed and exits (default: every
    /// `GARBAGE_COLLECTION_FREQUENCY` until stopped).
    #[arg(long)]
    once: bool,
}

/// A delivery run.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct NotifyArgs {
    #[command(flatten)]
    location: Location,
    /// Sends what is due now, prints how many were delivered and exits (default: every
    /// second until stopped).
    #[arg(long)]
    once: bool,
}

/// Where the registry's configuration and data are.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Location {
    /// Directory for the embedded database and blobs (when the config names none).
    #[arg(long, env = "QUAY_DATA_DIR", default_value = "quay-data")]
    data_dir: PathBuf,
    /// A Quay `config.yaml`.
    #[arg(long, env = "QUAY_CONFIG")]
    config: Option<PathBuf>,
}

/// Where the registry listens.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    location: Location,
    /// Address to listen on.
    #[arg(long, env = "QUAY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Creates a user, reading the password from standard input.
    Create(UserCreateArgs),
}

/// A user to create.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct UserCreateArgs {
    #[command(flatten)]
    location: Location,
    /// The username.
    name: String,
    /// Makes the user a superuser.
    #[arg(long)]
    superuser: bool,
    /// The user's e-mail address.
    #[arg(long)]
    email: Option<String>,
    /// Reads the password from standard input (the only way to give one).
    #[arg(long, required = true)]
    password_stdin: bool,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Prints a new API bearer token for a user.
    Create(TokenCreateArgs),
}

/// A token to create.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct TokenCreateArgs {
    #[command(flatten)]
    location: Location,
    /// The user the token acts for.
    #[arg(long)]
    user: String,
    /// OAuth scopes (repeatable; default: all of them).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Lifetime in days.
    #[arg(long, default_value_t = 365)]
    days: u32,
}

fn main() -> anyhow::Result<()> {
    keep_library_backtraces_off();
    let cli = Cli::parse();
    let log_writer = init_logging(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        // Served from a runtime worker, not from this thread: the accept loop then starts each
        // connection's task on the worker that accepted it. From here it handed every
        // connection (one per request, for clients that close them) to a worker with a wake-up.
        Command::Serve(args) => runtime.block_on(async {
            tokio::spawn(serve::serve(args))
                .await
                .map_err(|panicked| anyhow::anyhow!("the server stopped: {panicked}"))?
        }),
        Command::User(UserCommand::Create(args)) => runtime.block_on(admin::create_user(args)),
        Command::Token(TokenCommand::Create(args)) => runtime.block_on(admin::create_token(args)),
        Command::Gc(args) => runtime.block_on(gc::gc(args)),
        Command::Prune(args) => runtime.block_on(prune::prune(args)),
        Command::Notify(args) => runtime.block_on(notify::notify(args)),
        Command::Replicate(args) => runtime.block_on(replicate::replicate(args)),
        Command::Mirror(args) => runtime.block_on(mirror::mirror(args)),
        Command::Quota(QuotaCommand::Verify(args)) => {
            if !runtime.block_on(quota::verify(args))? {
                drop(log_writer);
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

/// Turns off the backtraces that libraries' error values capture, unless
/// `RUST_LIB_BACKTRACE` asks for them, leaving `RUST_BACKTRACE` to panics.
///
/// Without `RUST_LIB_BACKTRACE`, `RUST_BACKTRACE=1` (set by many deployments for panics' sake)
/// makes every `anyhow` error walk the stack, and OpenDAL wraps each I/O error in one: every
/// blob pushed for the first time is a missing file asked about, and so a stack walk, which
/// kept 2.6 MiB more of the binary (its unwinding tables) in memory after a benchmark. No log
/// line shows those backtraces; a command that fails prints its error without one.
fn keep_library_backtraces_off() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: called first in `main`, before any thread is started (the runtime comes
        // later), so nothing reads the environment while it changes.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("RUST_LIB_BACKTRACE", "0");
        }
    }
}

/// Dependencies that log secrets at their debug level (OpenDAL's request signer prints the
/// storage's secret key): nothing of theirs below `info` is logged, whatever `RUST_LOG` says.
const LEAKY_TARGETS: &[&str] = &["reqsign"];

/// Log lines waiting for the writer thread at most.
const LOG_QUEUE_LINES: usize = 8192;

/// Bytes of log lines the writer thread gathers into one write.
const LOG_WRITE_BUFFER: usize = 64 * 1024;

/// Structured logs on stderr, in `format`; the level from `RUST_LOG` (default `info`). Lines
/// are written by a thread of their own, so that a request never waits on stderr; the guard
/// returned writes what is left when dropped.
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use tracing_subscriber::filter::{EnvFilter, LevelFilter, filter_fn};
    use tracing_subscriber::{
        Layer as _, fmt, layer::SubscriberExt as _, util::SubscriberInitExt as _,
    };
    let levels = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // The most verbose level anything is logged at: given as a hint, it lets every more
    // verbose callsite (hyper's and sqlx's traces on each request) be skipped outright.
    let most_verbose = levels.max_level_hint().unwrap_or(LevelFilter::TRACE);
    let no_secrets = filter_fn(move |event| {
        most_verbose >= *event.level()
            && (*event.level() <= tracing::Level::INFO
                || !LEAKY_TARGETS
                    .iter()
                    .any(|target| event.target().starts_with(target)))
    })
    .with_max_level_hint(most_verbose);
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        // A full queue slows requests down rather than lose lines; its slots are allocated
        // up front (the default, 128k lines, would take 3 MiB).
        .lossy(false)
        .buffered_lines_limit(LOG_QUEUE_LINES)
        // The writer thread flushes whenever the queue is empty: a busy registry writes its
        // lines in batches, a quiet one at once.
        .finish(std::io::BufWriter::with_capacity(
            LOG_WRITE_BUFFER,
            std::io::stderr(),
        ));
    let lines = fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(writer);
    let lines = match format {
        LogFormat::Json => lines.json().boxed(),
        LogFormat::Text => lines.boxed(),
    };
    tracing_subscriber::registry()
        .with(lines.with_filter(levels).with_filter(no_secrets))
        .init();
    guard
}
