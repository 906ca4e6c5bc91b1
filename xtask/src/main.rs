//! `cargo xtask <command>`: the project's set-up steps, so that a fresh
//! machine with only the Rust toolchain needs nothing else.
//!
//! - `example`: builds weft and the hello guest, then runs it with `--ready`;
//! - `test`: installs the wasm targets, runs the benchmarks briefly (smoke
//!   mode) and runs every test (`cargo test --release --workspace`), all on
//!   one release build;
//! - `quick TEST [FILTER]...`: rebuilds what changed and runs one test file
//!   (`conformance`, `serve`, ...), or the tests of it that FILTER selects;
//! - `bench`: runs the process benchmarks (release build) and prints their figures;
//! - `bench-serve [SECONDS]`: `weft serve` under wrk, beside `wasmtime serve` when present;
//! - `bench-compile [NAME]...`: each guest's size, first compile and cached start;
//! - `bench-start [RUNS]`: process start-up, warm and cold, beside `wasmtime run` and native;
//! - `bench-all [RUNS] [SECONDS]`: bench-start, bench-serve and bench in one run,
//!   then one table of every figure, its reference, ratio and target;
//! - `docs [DOCUMENT]...`: runs the shell blocks of the README and the guides in
//!   a fresh copy of the repository and checks their output (see `docs.rs`);
//! - `fuzz [SECONDS] [TARGET]...`: runs the fuzz targets in `fuzz/` (cargo-fuzz, nightly);
//! - `install-wasmtime`: installs the reference `wasmtime` CLI into target/tools;
//! - `guests [NAME]...`: builds and packs guests into target/weft-guests/store
//!   (`NAME` is a folder under `guests/`: `hello`, `python/hello`);
//! - `wat IN.wat OUT.wasm`: compiles WebAssembly text (a module or a component).

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode> {
    let root = xtask::workspace_root();
    match args.first().map(String::as_str) {
        Some("example") => {
            eprintln!(
                "xtask: building weft in release mode (weft-compiler, then the lean weft, into target/release): a first build compiles Wasmtime and Cranelift, roughly 15 minutes on 2 cores; cargo shows its progress below"
            );
            let weft = xtask::build_weft(&root, true)?;
            eprintln!("xtask: building and packing the hello guest");
            let built = xtask::build_guests(&root, &["hello".to_string()])?;
            let package = &built[0].package;
            eprintln!(
                "xtask: running {} run --ready {} world",
                weft.display(),
                package.display()
            );
            let status = Command::new(&weft)
                .arg("run")
                .arg("--ready")
                .arg(package)
                .arg("world")
                .status()
                .context("running weft")?;
            Ok(ExitCode::from(status.code().unwrap_or(1) as u8))
        }
        Some("test") => {
            // Each part says how long it took, so that CI's log shows where
            // the time goes.
            let mut part = Part::start("installing the wasm targets and the shim's build packages");
            xtask::ensure_wasm_targets()?;
            xtask::containerd::ensure_shim_build_deps()?;
            // One release build for everything (see `xtask::build_for_tests`):
            // the tests run weft as it ships, the release build in
            // target/release that the README's commands use too: `weft`
            // without the compiler, handing over to `weft-compiler`.
            part.next("building weft, the shim and every test in release mode");
            xtask::build_for_tests(&root)?;
            // The shim's tests start a containerd of their own; one that
            // cannot be had fails them with the reason.
            part.next("fetching the tests' containerd and promtool");
            if let Err(err) = xtask::containerd::ensure(&root) {
                eprintln!("xtask: no containerd for the shim's tests: {err:#}");
            }
            // The metrics tests check `weft serve --metrics` with promtool.
            if let Err(err) = xtask::debian::promtool(&root) {
                eprintln!("xtask: no promtool for the metrics tests: {err:#}");
            }
            // The benchmarks' smoke mode: each runs briefly, so they keep
            // working. `--workspace` gives its dependencies the features of
            // the build above, which it finds fresh.
            part.next("the benchmarks' smoke mode");
            let status = xtask::cargo()
                .current_dir(&root)
                .env("WEFT_BENCH_SMOKE", "1")
                .args([
                    "bench",
                    "--profile",
                    "release",
                    "--workspace",
                    "--bench",
                    "processes",
                ])
                .status()
                .context("running the benchmarks' smoke mode")?;
            if !status.success() {
                bail!("the benchmarks' smoke mode failed");
            }
            // Every package's tests, weft-cli's unit tests among them (with
            // the `compiler` feature, which the shim turns on).
            part.next("cargo test --release --workspace");
            let status = xtask::cargo()
                .current_dir(&root)
                .args(["test", "--release", "--workspace"])
                .args(&args[1..])
                .status()
                .context("running cargo test")?;
            part.done();
            Ok(exit_code(status))
        }
        Some("quick") => {
            // The working loop: rebuild what changed, run one test file (one
            // case of it with a name filter), on the release build that
            // `cargo xtask test` left (docs/testing.md).
            let Some(test) = args.get(1) else {
                bail!(
                    "usage: cargo xtask quick TEST [FILTER]... (TEST is a test file: conformance, serve, cache, ... ; FILTER selects its tests by name, as cargo test's does)"
                );
            };
            // Incremental compilation for weft's own crates (cargo applies
            // it to no dependency): a small change rebuilds in seconds
            // instead of the minutes a release build of the host crate
            // takes. The first quick run after `cargo xtask test` (which
            // builds without it) compiles weft's crates once more.
            let incremental = std::env::var("CARGO_INCREMENTAL").unwrap_or_else(|_| "1".into());
            let vars = [("CARGO_INCREMENTAL", incremental.as_str())];
            let started = std::time::Instant::now();
            xtask::build_weft_with(&root, false, &vars)?;
            let status = xtask::cargo()
                .current_dir(&root)
                .envs(vars)
                .args([
                    "test",
                    "--release",
                    "--quiet",
                    "--workspace",
                    "--test",
                    test,
                ])
                .arg("--")
                .args(&args[2..])
                .status()
                .context("running cargo test")?;
            eprintln!(
                "xtask: quick {test}: {} s, the rebuild included",
                started.elapsed().as_secs()
            );
            Ok(exit_code(status))
        }
        Some("containerd") => {
            // What the shim's tests use: fetched on first use.
            println!("{}", xtask::containerd::ensure(&root)?.display());
            Ok(ExitCode::SUCCESS)
        }
        Some("bench") => {
            xtask::run_processes_bench(&root, None)?;
            Ok(ExitCode::SUCCESS)
        }
        Some("bench-serve") => {
            let seconds = number_arg(args, 1, "SECONDS", 10)?;
            xtask::bench_serve::run(&root, seconds)?;
            Ok(ExitCode::SUCCESS)
        }
        Some("bench-all") => {
            let runs = number_arg(args, 1, "RUNS", 40)?;
            let seconds = number_arg(args, 2, "SECONDS", 10)?;
            xtask::bench_all::run(&root, runs, seconds)?;
            Ok(ExitCode::SUCCESS)
        }
        Some("bench-shim") => {
            let runs = number_arg(args, 1, "RUNS", 20)?;
            let seconds = number_arg(args, 2, "SECONDS", 10)?;
            xtask::bench_shim::run(&root, runs, seconds)?;
            Ok(ExitCode::SUCCESS)
        }
        Some("bench-start") => {
            let runs = number_arg(args, 1, "RUNS", 40)?;
            xtask::bench_start::run(&root, runs)?;
            Ok(ExitCode::SUCCESS)
        }
        Some("docs") => {
            let outcomes = xtask::docs::run(&root, &args[1..])?;
            let skipped = outcomes.iter().filter(|o| xtask::docs::is_skip(o)).count();
            println!(
                "docs: {} block(s) ran and printed what their documents say; {skipped} skipped:",
                outcomes.len() - skipped
            );
            for outcome in &outcomes {
                println!("{}", xtask::docs::describe(outcome));
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("fuzz") => {
            let seconds = number_arg(args, 1, "SECONDS", 60)?;
            let targets = args.get(2..).unwrap_or_default();
            for run in xtask::fuzz::run(&root, seconds, targets)? {
                println!(
                    "| {} | {} s | {} executions | no crash |",
                    run.target, run.seconds, run.executions
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("install-wasmtime") => {
            let path = xtask::reference::install(&root)?;
            println!("{}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Some("install-wasmtime-release") => {
            let path = xtask::reference::install_release(&root)?;
            println!("{}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Some("bench-compile") => {
            xtask::bench_compile::run(&root, &args[1..])?;
            Ok(ExitCode::SUCCESS)
        }
        Some("wat") => {
            let [_, input, output] = args else {
                bail!("usage: cargo xtask wat IN.wat OUT.wasm");
            };
            let wasm = wat::parse_file(input).with_context(|| format!("compiling {input}"))?;
            std::fs::write(output, wasm).with_context(|| format!("writing {output}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Some("guests") => {
            for guest in xtask::build_guests(&root, &args[1..])? {
                println!("{}", guest.package.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask example | test [CARGO TEST ARGS] | quick TEST [FILTER]... | bench | bench-serve [SECONDS] | bench-compile [NAME]... | bench-start [RUNS] | bench-all [RUNS] [SECONDS] | bench-shim [RUNS] [SECONDS] (root) | docs [DOCUMENT]... | fuzz [SECONDS] [TARGET]... | install-wasmtime | guests [NAME]... | wat IN.wat OUT.wasm"
            );
            Ok(ExitCode::from(64))
        }
    }
}

/// The optional whole-number argument at `index` (`what` names it in the
/// usage line), or `default` when it is absent.
fn number_arg<T: std::str::FromStr>(
    args: &[String],
    index: usize,
    what: &str,
    default: T,
) -> Result<T> {
    match args.get(index) {
        Some(text) => text
            .parse()
            .map_err(|_| anyhow::anyhow!("{what} must be a whole number, got `{text}`")),
        None => Ok(default),
    }
}

/// Success or failure, as the cargo command this ran ended.
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A part of a long command, timed: its start and its length go to stderr.
struct Part {
    name: String,
    started: std::time::Instant,
}

impl Part {
    fn start(name: &str) -> Part {
        eprintln!("xtask: ---- {name}");
        Part {
            name: name.to_string(),
            started: std::time::Instant::now(),
        }
    }

    /// Ends this part and starts the next.
    fn next(&mut self, name: &str) {
        self.done();
        *self = Part::start(name);
    }

    fn done(&self) {
        eprintln!(
            "xtask: ---- {} took {} s",
            self.name,
            self.started.elapsed().as_secs()
        );
    }
}
