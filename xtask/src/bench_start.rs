//! `cargo xtask bench-start [RUNS]`: process start-up, side by side.
//!
//! For the hello component (`guests/hello`, Rust, wasm32-wasip2), the
//! hello core module (`guests/p1-hello`, wasm32-wasip1) and a WASI 0.3
//! command (`guests/p3-command stderr bench`: async `run`, one line through
//! a 0.3 stream), the wall time of a whole process that prints one line and
//! exits:
//!
//! - warm: `weft run` with its artifact cache filled, against `wasmtime run`
//!   with its cache on and filled (a cache directory of its own);
//! - cold: both with an empty cache, so each run compiles;
//! - native: the same hello crate built for the host, the floor.
//!
//! Runs alternate between the hosts so that drift on a noisy machine hits
//! both alike; each row is the median of RUNS (default 40; 5 for cold).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// One row of the table: a program, warm or cold, and the medians.
pub struct StartRow {
    pub label: &'static str,
    pub cold: bool,
    pub weft: Duration,
    /// `None` when the reference `wasmtime` is absent.
    pub wasmtime: Option<Duration>,
}

impl StartRow {
    pub fn mode(&self) -> &'static str {
        if self.cold {
            "cold (compiles)"
        } else {
            "warm (cached)"
        }
    }
}

struct Subject {
    label: &'static str,
    weft: Vec<String>,
    wasmtime: Vec<String>,
}

/// Prints the table and returns its rows (the native floor aside).
pub fn run(root: &Path, runs: usize) -> Result<Vec<StartRow>> {
    let built = crate::build_guests(
        root,
        &["hello".into(), "p1-hello".into(), "p3-command".into()],
    )?;
    let weft = crate::bench_compile::build_release_weft(root)?;
    let native = build_native_hello(root)?;
    let reference = crate::reference::find(root);
    match &reference {
        Ok(wasmtime) => println!(
            "reference: {} (wasmtime {})",
            wasmtime.path.display(),
            wasmtime.version
        ),
        Err(why) => println!("{why}"),
    }
    let scratch = root.join("target/bench-start");
    std::fs::create_dir_all(&scratch)?;

    let package = |name: &str| -> Result<PathBuf> {
        Ok(built
            .iter()
            .find(|g| g.name == name)
            .context("guest built")?
            .package
            .clone())
    };
    let subjects = [
        Subject {
            label: "hello component",
            weft: vec![package("hello")?.display().to_string(), "bench".into()],
            wasmtime: vec![
                package("hello")?.join("app.wasm").display().to_string(),
                "bench".into(),
            ],
        },
        Subject {
            label: "hello core module",
            weft: vec![package("p1-hello")?.display().to_string(), "bench".into()],
            wasmtime: vec![
                package("p1-hello")?.join("app.wasm").display().to_string(),
                "bench".into(),
            ],
        },
        // A WASI 0.3 command (async `run`), printing one line through a
        // 0.3 stdout stream.
        Subject {
            label: "WASI 0.3 command",
            weft: vec![
                package("p3-command")?.display().to_string(),
                "stderr".into(),
                "bench".into(),
            ],
            wasmtime: vec![
                package("p3-command")?
                    .join("app.wasm")
                    .display()
                    .to_string(),
                "stderr".into(),
                "bench".into(),
            ],
        },
    ];

    println!(
        "start-up benchmark: median wall time of a whole process, {runs} runs (cold: {}), this machine",
        runs.clamp(1, 5)
    );
    println!("| program | mode | weft run | wasmtime run | ratio weft / wasmtime |");
    println!("| --- | --- | --- | --- | --- |");
    let mut rows = Vec::new();
    for subject in &subjects {
        for cold in [false, true] {
            let n = if cold { runs.clamp(1, 5) } else { runs };
            let weft_cache = scratch.join("weft-cache");
            let wasmtime_cache = scratch.join("wasmtime-cache");
            let wasmtime_config = scratch.join("wasmtime-cache.toml");
            std::fs::write(
                &wasmtime_config,
                format!("[cache]\ndirectory = \"{}\"\n", wasmtime_cache.display()),
            )?;
            let weft_command = || {
                let mut command = Command::new(&weft);
                command
                    .arg("run")
                    .arg("--cache-dir")
                    .arg(&weft_cache)
                    .args(&subject.weft);
                command
            };
            let wasmtime_command = |wasmtime: &Path| {
                let mut command = Command::new(wasmtime);
                command
                    .arg("run")
                    .arg("-C")
                    .arg(format!("cache-config={}", wasmtime_config.display()))
                    .args(&subject.wasmtime);
                command
            };
            let reset = || {
                let _ = std::fs::remove_dir_all(&weft_cache);
                let _ = std::fs::remove_dir_all(&wasmtime_cache);
            };
            reset();
            if !cold {
                // Fill both caches.
                time(&mut weft_command())?;
                if let Ok(wasmtime) = &reference {
                    time(&mut wasmtime_command(&wasmtime.path))?;
                }
            }
            let mut weft_times = Vec::new();
            let mut wasmtime_times = Vec::new();
            for _ in 0..n {
                if cold {
                    reset();
                }
                weft_times.push(time(&mut weft_command())?);
                if let Ok(wasmtime) = &reference {
                    if cold {
                        reset();
                    }
                    wasmtime_times.push(time(&mut wasmtime_command(&wasmtime.path))?);
                }
            }
            let row = StartRow {
                label: subject.label,
                cold,
                weft: median(&mut weft_times),
                wasmtime: (!wasmtime_times.is_empty()).then(|| median(&mut wasmtime_times)),
            };
            let (reference_cell, ratio_cell) = match row.wasmtime {
                None => ("skipped".to_string(), "—".to_string()),
                Some(reference) => (
                    ms(reference),
                    format!(
                        "**{:.2}×**",
                        row.weft.as_secs_f64() / reference.as_secs_f64()
                    ),
                ),
            };
            println!(
                "| {} | {} | {} | {reference_cell} | {ratio_cell} |",
                row.label,
                row.mode(),
                ms(row.weft)
            );
            rows.push(row);
        }
    }
    let mut native_times = Vec::new();
    for _ in 0..runs {
        native_times.push(time(Command::new(&native).arg("bench"))?);
    }
    println!(
        "| native hello (the floor) | — | {} | | |",
        ms(median(&mut native_times))
    );
    Ok(rows)
}

pub(crate) fn time(command: &mut Command) -> Result<Duration> {
    // A backtrace setting in the caller's environment would make every
    // error path capture one; measure without.
    command
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    let started = Instant::now();
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("running {command:?}"))?;
    let elapsed = started.elapsed();
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(elapsed)
}

pub(crate) fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

pub(crate) fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

/// The hello guest's crate built for the host: a native binary.
fn build_native_hello(root: &Path) -> Result<PathBuf> {
    let target_dir = root.join("target/guests-native");
    let status = crate::cargo_outside()
        .args(["build", "--release", "--quiet", "--package", "hello"])
        .arg("--manifest-path")
        .arg(root.join("guests/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .context("building the native hello")?;
    if !status.success() {
        bail!("building the native hello failed");
    }
    Ok(target_dir.join("release/hello"))
}
