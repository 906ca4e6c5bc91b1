//! The command line: argv → library calls → exit code. One file per
//! subcommand; this file parses, dispatches, reports errors on stderr and maps
//! error kinds to the exit codes documented in docs/cli.md.

/// `println!` for weft's own stdout output, without a panic on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::stdout_line(format_args!($($arg)*))
    };
}

mod cache;
mod check;
mod exit;
#[cfg(not(feature = "compiler"))]
mod handoff;
mod hash;
mod run;
mod serve;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use exit::{ExitCodes, code_for};

use crate::Error;

#[derive(Parser)]
#[command(
    name = "weft",
    version,
    about = "Runs WebAssembly apps with only the capabilities their manifest grants.",
    disable_help_subcommand = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an app: weft's flags, then the app, then the app's own arguments
    /// (`weft run list` lists the named commands in the stores).
    Run(RunArgs),
    /// Serve a wasi:http/proxy app: a fresh instance per request.
    Serve(ServeArgs),
    /// Validate a package without running it, and show what it imports.
    Check(CheckArgs),
    /// Print the `hash = "sha256:..."` value for a wasm file.
    Hash(HashArgs),
    /// Compile apps into the cache, so that their first run starts fast.
    Compile(CompileArgs),
    /// Manage the compiled-artifact cache.
    #[command(subcommand)]
    Cache(CacheCommand),
}

/// Where compiled code is cached; `run`, `serve`, `check` and `compile` share these.
#[derive(Args)]
pub(crate) struct CacheArgs {
    /// Keep compiled code in DIR [default: $WEFT_CACHE_DIR, else
    /// $XDG_CACHE_HOME/weft, else ~/.cache/weft].
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,
    /// Compile without reading or writing the cache.
    #[arg(long)]
    pub no_cache: bool,
}

impl CacheArgs {
    pub(crate) fn cache(&self) -> Option<crate::cache::Cache> {
        if self.no_cache {
            return None;
        }
        match &self.cache_dir {
            Some(dir) => Some(crate::cache::Cache::new(dir)),
            None => crate::cache::Cache::from_env(),
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum CacheCommand {
    /// Remove every compiled artifact from the cache.
    Clean(CacheDirArgs),
    /// Print the cache directory.
    Dir(CacheDirArgs),
}

#[derive(Args)]
pub(crate) struct CacheDirArgs {
    /// The cache directory [default: $WEFT_CACHE_DIR, else $XDG_CACHE_HOME/weft, else ~/.cache/weft].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct CompileArgs {
    /// The apps: package directories, wapp.toml files, app ids or command names.
    #[arg(value_name = "APP", required = true)]
    pub apps: Vec<OsString>,
    /// Look up app ids and command names in this package store only (repeatable).
    #[arg(long, value_name = "DIR")]
    pub store: Vec<PathBuf>,
    /// The cache directory [default: $WEFT_CACHE_DIR, else $XDG_CACHE_HOME/weft, else ~/.cache/weft].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct RunArgs {
    /// Print the line READY on stdout once the app has started.
    #[arg(long)]
    pub ready: bool,
    /// Look up app ids and command names in this package store only
    /// (repeatable: searched in order).
    #[arg(long, value_name = "DIR")]
    pub store: Vec<PathBuf>,
    /// Call this export instead of the app's entry, with WAVE arguments:
    /// `--invoke 'compute(6, 7)'` or `--invoke 'my:pkg/iface#f("x")'`.
    #[arg(long, value_name = "CALL")]
    pub invoke: Option<String>,
    /// Print a method's result as JSON instead of WAVE.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// The app: a package directory, its wapp.toml, an installed app's id, a
    /// command name, or `list`; then the app's arguments.
    #[arg(value_name = "APP [ARG]...", required = true, num_args = 1.., trailing_var_arg = true)]
    pub app_and_args: Vec<OsString>,
}

/// The limit flags `run` and `serve` share; each overrides the manifest.
#[derive(Args)]
pub(crate) struct LimitArgs {
    /// Cap each linear memory, like 64MiB (overrides [runtime.limits] memory).
    #[arg(long, value_name = "SIZE", value_parser = size_arg)]
    pub memory: Option<u64>,
    /// Instruction budget, in fuel units (overrides [runtime.limits] fuel).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub fuel: Option<u64>,
    /// Wall-clock deadline, like 5s or 500ms (overrides [runtime.limits] timeout).
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub timeout: Option<std::time::Duration>,
    /// Cap on the elements of each table (overrides [runtime.limits] table_elements).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub table_elements: Option<u64>,
    /// Cap on core instances (overrides [runtime.limits] instances).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub instances: Option<u64>,
    /// Cap on resources held at once: WASI resources and component handles (overrides [runtime.limits] resources).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub resources: Option<u64>,
}

impl LimitArgs {
    pub(crate) fn limits(&self) -> crate::limits::Limits {
        crate::limits::Limits {
            memory: self.memory,
            fuel: self.fuel,
            timeout: self.timeout,
            table_elements: self.table_elements,
            instances: self.instances,
            resources: self.resources,
        }
    }
}

fn size_arg(text: &str) -> Result<u64, String> {
    crate::limits::parse_bytes(text)
}

fn duration_arg(text: &str) -> Result<std::time::Duration, String> {
    crate::limits::parse_duration(text)
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on; port 0 picks a free port (the real one is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Requests handled at once; more wait for a slot.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_concurrent: u32,
    /// How long in-flight requests may take to finish after SIGINT/SIGTERM.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration_arg)]
    pub shutdown_grace: std::time::Duration,
    /// Print the line READY on stdout once the server accepts connections.
    #[arg(long)]
    pub ready: bool,
    /// Look up app ids and command names in this package store only (repeatable).
    #[arg(long, value_name = "DIR")]
    pub store: Vec<PathBuf>,
    /// Limits for each request, overriding the manifest's.
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// The app: a package directory, its wapp.toml, an app id or a command name.
    #[arg(value_name = "APP")]
    pub app: OsString,
}

#[derive(Args)]
pub(crate) struct CheckArgs {
    /// The package: a directory, its wapp.toml, or an installed app's id.
    #[arg(value_name = "APP")]
    pub app: OsString,
    /// Look up app ids and command names in this package store only (repeatable).
    #[arg(long, value_name = "DIR")]
    pub store: Vec<PathBuf>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Args)]
pub(crate) struct HashArgs {
    /// The wasm file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Runs `weft` with its argv; returns the process exit code.
pub fn weft_main(args: Vec<OsString>) -> i32 {
    init_logging();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => return clap_exit(err),
    };
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Serve(args) => serve::serve(args),
        Command::Check(args) => check::check(args),
        Command::Hash(args) => hash::hash(args),
        Command::Compile(args) => cache::compile(args),
        Command::Cache(command) => cache::cache(command),
    };
    finish(outcome, "weft", &args)
}

/// Runs WEFT's `weft-runtime <app_id> <session_id>`: `weft run --ready <app_id>`.
pub fn weft_runtime_main(args: Vec<OsString>) -> i32 {
    init_logging();
    let outcome = run::weft_runtime(&args);
    finish(outcome, "weft-runtime", &args)
}

/// `invoked_as` and `args` are what to hand over to the compiler with, when
/// this weft has none and the app must be compiled.
fn finish(outcome: crate::Result<i32>, invoked_as: &str, args: &[OsString]) -> i32 {
    match outcome {
        Ok(code) => code,
        #[cfg(not(feature = "compiler"))]
        Err(err) if err.kind() == crate::ErrorKind::CompilerNeeded => {
            handoff::exec(invoked_as, args, &err)
        }
        Err(err) => {
            let _ = (invoked_as, args);
            report(&err);
            code_for(err.kind())
        }
    }
}

/// Prints an error on stderr: one sentence, then its causes.
pub(crate) fn report(err: &Error) {
    eprintln!("weft: error: {err}");
}

fn clap_exit(err: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            0
        }
        _ => {
            let _ = err.print();
            ExitCodes::USAGE
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::filter::LevelFilter;
    let logger = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false);
    // Without `RUST_LOG` (the usual case) a plain level does: building an
    // `EnvFilter` was 2 % of a warm start of a small app.
    let _ = match std::env::var_os("RUST_LOG") {
        None => logger.with_max_level(LevelFilter::WARN).try_init(),
        Some(_) => {
            let filter =
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
            logger.with_env_filter(filter).try_init()
        }
    };
}

/// Prints one line on stdout. A closed stdout (`weft check | head`) is not
/// an error worth a panic: the reader has gone, so the line is dropped.
pub(crate) fn stdout_line(line: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The app named on the command line, which must be UTF-8 to be resolved.
pub(crate) fn app_name(app: &std::ffi::OsStr) -> crate::Result<&str> {
    app.to_str().ok_or_else(|| {
        Error::usage(format!(
            "the app path {} is not valid UTF-8; rename it or name the app by its id",
            app.to_string_lossy()
        ))
    })
}

/// The package directory for the app named on the command line, looked up
/// in the `--store` directories if any were given, else in the default stores.
pub(crate) fn resolve_app(app: &std::ffi::OsStr, stores: &[PathBuf]) -> crate::Result<PathBuf> {
    crate::store::resolve_in(app_name(app)?, &store_roots(stores))
}

/// The `--store` directories if any were given, else the default stores.
pub(crate) fn store_roots(stores: &[PathBuf]) -> Vec<PathBuf> {
    if stores.is_empty() {
        crate::store::store_roots()
    } else {
        stores.to_vec()
    }
}

/// Whether to show a long compile's progress: only when stderr is a terminal.
pub(crate) fn show_progress() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// Tells the supervisor the app is ready: the `READY` line when asked, and
/// `READY=1` to `$NOTIFY_SOCKET` whenever that is set.
pub(crate) fn signal_ready(print_line: bool) -> crate::Result<()> {
    if print_line {
        crate::ready::print_ready_line()
            .map_err(|err| Error::internal("cannot write READY to stdout").caused_by(&err))?;
    }
    if let Err(err) = crate::ready::notify_systemd() {
        tracing::warn!("cannot notify $NOTIFY_SOCKET that the app is ready: {err}");
    }
    Ok(())
}

/// Converts command-line values to the UTF-8 strings WASI args must be.
pub(crate) fn utf8_args(values: &[OsString], what: &str) -> crate::Result<Vec<String>> {
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            value.to_str().map(str::to_string).ok_or_else(|| {
                Error::usage(format!(
                    "{what} {} ({}) is not valid UTF-8; WASI passes arguments as UTF-8 strings, so pass it in UTF-8",
                    i + 1,
                    value.to_string_lossy()
                ))
            })
        })
        .collect()
}
