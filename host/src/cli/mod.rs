//! The command line: argv → library calls → exit code. One file per
//! subcommand; this file parses, dispatches, reports errors on stderr and maps
//! error kinds to the exit codes documented in docs/cli.md.

mod check;
mod exit;
mod hash;
mod run;

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
    /// Run an app: weft's flags, then the app, then the app's own arguments.
    Run(RunArgs),
    /// Validate a package without running it, and show what it imports.
    Check(CheckArgs),
    /// Print the `hash = "sha256:..."` value for a wasm file.
    Hash(HashArgs),
}

#[derive(Args)]
pub(crate) struct RunArgs {
    /// Print the line READY on stdout once the app has started.
    #[arg(long)]
    pub ready: bool,
    /// Look up app ids in this package store only.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// The app: a package directory, its wapp.toml, or an installed app's id;
    /// then the app's arguments, appended to the manifest's `args`.
    #[arg(value_name = "APP [ARG]...", required = true, num_args = 1.., trailing_var_arg = true)]
    pub app_and_args: Vec<OsString>,
}

#[derive(Args)]
pub(crate) struct CheckArgs {
    /// The package: a directory, its wapp.toml, or an installed app's id.
    #[arg(value_name = "APP")]
    pub app: OsString,
    /// Look up app ids in this package store only.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct HashArgs {
    /// The wasm file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Runs `weft` with its argv; returns the process exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    init_logging();
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => return clap_exit(err),
    };
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::check(args),
        Command::Hash(args) => hash::hash(args),
    };
    finish(outcome)
}

/// Runs WEFT's `weft-runtime <app_id> <session_id>`: `weft run --ready <app_id>`.
pub fn weft_runtime_main(args: Vec<OsString>) -> i32 {
    init_logging();
    finish(run::weft_runtime(args))
}

fn finish(outcome: crate::Result<i32>) -> i32 {
    match outcome {
        Ok(code) => code,
        Err(err) => {
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
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
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
