//! The weft command line: argv → library calls → exit code. One file per
//! subcommand, each with its clap arguments beside its code; the options
//! several subcommands share are in [`options`], the log set-up in
//! [`logging`]. Exit codes come from the library's one mapping,
//! [`weft::ErrorKind::exit_code`].
//!
//! Built without the `compiler` feature (the `weft` and `weft-runtime`
//! binaries), it runs apps from the compiled-artifact cache and hands an app
//! that must be compiled over to `weft-compiler` ([`handoff`]); with it
//! (package `weft-compiler`), it compiles them itself.

/// `println!` for weft's own stdout output, without a panic on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout_line(format_args!($($arg)*))
    };
}

mod cache;
mod check;
#[cfg(feature = "compiler")]
pub mod container;
#[cfg(not(feature = "compiler"))]
mod handoff;
mod hash;
pub mod image;
pub mod logging;
pub mod options;
mod run;
mod serve;

use std::ffi::OsString;

use clap::{Parser, Subcommand};
use weft::app::{App, LoadOptions};
use weft::package::Package;
use weft::{Error, Result};

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
    Run(run::RunArgs),
    /// Serve a wasi:http/proxy app: a fresh instance per request.
    Serve(serve::ServeArgs),
    /// Validate a package without running it, and show what it imports.
    Check(check::CheckArgs),
    /// Print the `hash = "sha256:..."` value for a wasm file.
    Hash(hash::HashArgs),
    /// Compile apps into the cache, so that their first run starts fast.
    Compile(cache::CompileArgs),
    /// Manage the compiled-artifact cache.
    #[command(subcommand)]
    Cache(cache::CacheCommand),
    /// Write a package as an OCI image tarball for containerd and Kubernetes.
    Image(image::ImageArgs),
}

/// Runs `weft` with its argv; returns the process exit code.
pub fn weft_main(args: Vec<OsString>) -> i32 {
    logging::init();
    remember_invocation("weft", &args);
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
        Command::Image(args) => image::image(args),
    };
    finish(outcome)
}

/// Runs WEFT's `weft-runtime <app_id> <session_id>`: `weft run --ready <app_id>`.
pub fn weft_runtime_main(args: Vec<OsString>) -> i32 {
    logging::init();
    remember_invocation("weft-runtime", &args);
    finish(run::weft_runtime(&args))
}

fn finish(outcome: Result<i32>) -> i32 {
    match outcome {
        Ok(code) => code,
        Err(err) => {
            report(&err);
            err.kind().exit_code()
        }
    }
}

/// What this process was started as, and with which arguments: what a weft
/// without the compiler hands over to `weft-compiler` with.
#[cfg_attr(feature = "compiler", allow(unused_variables))]
fn remember_invocation(invoked_as: &'static str, args: &[OsString]) {
    #[cfg(not(feature = "compiler"))]
    handoff::remember(invoked_as, args);
}

/// Loads an app as `weft run` and `weft serve` do. With the compiler, a
/// cache miss is compiled here; without it, the app is loaded from the cache,
/// and one that must be compiled is handed over to `weft-compiler` (this
/// process is replaced, so this returns only with an app or an error). The
/// decision is made before anything is printed.
pub(crate) fn load_app(package: Package, options: &LoadOptions) -> Result<App> {
    #[cfg(feature = "compiler")]
    {
        App::load(package, options)
    }
    #[cfg(not(feature = "compiler"))]
    {
        use weft::app::Cached;
        match App::load_cached(package, options)? {
            Cached::Loaded(app) => Ok(app),
            Cached::MustCompile(package) => Err(handoff::exec(&format!(
                "{} has to be compiled, and this weft has no compiler",
                package.wasm_path().display()
            ))),
        }
    }
}

/// Prints an error on stderr: one sentence, then its causes.
pub(crate) fn report(err: &Error) {
    eprintln!("weft: error: {err}");
}

fn clap_exit(err: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    let _ = err.print();
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
        _ => weft::ExitCodes::USAGE,
    }
}

/// Prints one line on stdout. A closed stdout (`weft check | head`) is not
/// an error worth a panic: the reader has gone, so the line is dropped.
pub(crate) fn stdout_line(line: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Whether to show a long compile's progress: only when stderr is a terminal.
pub(crate) fn show_progress() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// Tells the supervisor the app is ready: the `READY` line when asked, and
/// `READY=1` to `$NOTIFY_SOCKET` whenever that is set.
pub(crate) fn signal_ready(print_line: bool) -> Result<()> {
    if print_line {
        weft::ready::print_ready_line()
            .map_err(|err| Error::internal("cannot write READY to stdout").caused_by(&err))?;
    }
    if let Err(err) = weft::ready::notify_systemd() {
        tracing::warn!("cannot notify $NOTIFY_SOCKET that the app is ready: {err}");
    }
    Ok(())
}

/// Converts command-line values to the UTF-8 strings WASI args must be.
pub(crate) fn utf8_args(values: &[OsString], what: &str) -> Result<Vec<String>> {
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
