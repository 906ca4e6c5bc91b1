//! `cargo xtask fuzz [SECONDS] [TARGET]...`: runs the fuzz targets in
//! `fuzz/` with cargo-fuzz (libFuzzer), each for SECONDS (default 60).
//!
//! It installs what it needs: the nightly toolchain (`rustup toolchain install
//! nightly`) and cargo-fuzz (`cargo install`, into `target/tools/cargo-fuzz`),
//! and builds the guests the targets call into ([`GUESTS`]: `types` for
//! `method_args`, `p3-methods` for `method_args_p3`, `http-hello` and
//! `p3-http` for `serve_request`, which serves them in process). Each target
//! starts from its seeds in `fuzz/seeds/<target>/` and the past crashes in
//! `fuzz/regressions/<target>/`, and keeps what it learns in
//! `target/fuzz-corpus/<target>/`. A crash stops the run with libFuzzer's
//! report and the input saved under `fuzz/artifacts/<target>/`: make it a
//! regression by moving it to `fuzz/regressions/<target>/` once fixed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

pub const TARGETS: [&str; 5] = [
    "manifest",
    "package",
    "method_args",
    "method_args_p3",
    "serve_request",
];

/// The guests the targets call into, built before they run.
pub const GUESTS: [&str; 4] = ["types", "p3-methods", "http-hello", "p3-http"];
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// One target's run.
pub struct FuzzRun {
    pub target: String,
    pub executions: u64,
    pub seconds: u64,
}

pub fn run(root: &Path, seconds: u64, targets: &[String]) -> Result<Vec<FuzzRun>> {
    let targets: Vec<String> = if targets.is_empty() {
        TARGETS.iter().map(|t| t.to_string()).collect()
    } else {
        for target in targets {
            if !TARGETS.contains(&target.as_str()) {
                bail!(
                    "there is no fuzz target `{target}`; the targets are {}",
                    TARGETS.join(", ")
                );
            }
        }
        targets.to_vec()
    };
    ensure_nightly()?;
    let cargo_fuzz = ensure_cargo_fuzz(root)?;
    crate::build_guests(root, &GUESTS.map(String::from))?;

    let mut runs = Vec::new();
    for target in &targets {
        let corpus = root.join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        let mut command = Command::new(&cargo_fuzz);
        command
            .current_dir(root)
            .env("RUSTUP_TOOLCHAIN", "nightly")
            .env_remove("RUST_BACKTRACE")
            .env_remove("CARGO_BUILD_TARGET")
            .env(
                "WEFT_FUZZ_TYPES",
                root.join("target/weft-guests/store/org.weft.guests.types"),
            )
            .env(
                "WEFT_FUZZ_P3_METHODS",
                root.join("target/weft-guests/store/org.weft.guests.p3methods"),
            )
            .env("WEFT_FUZZ_STORE", root.join("target/weft-guests/store"))
            .args(["fuzz", "run", "--fuzz-dir", "fuzz"])
            .arg("--target-dir")
            .arg(root.join("target/fuzz"))
            // weft and its dependencies are Rust; the sanitizer would mostly
            // re-check what the compiler already has, at twice the build time.
            .args(["--sanitizer", "none"])
            .arg(target)
            .arg(&corpus);
        for extra in ["seeds", "regressions"] {
            let dir = root.join("fuzz").join(extra).join(target);
            if dir.is_dir() {
                command.arg(dir);
            }
        }
        command
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            // An input that takes longer than this, or more memory, is a
            // finding of its own (a hang, a blow-up).
            .arg("-timeout=30")
            .arg("-rss_limit_mb=4096")
            .arg("-max_len=65536")
            .arg("-print_final_stats=1")
            .stdout(Stdio::inherit())
            .stderr(Stdio::piped());
        println!("fuzzing {target} for {seconds} s");
        let output = command
            .output()
            .with_context(|| format!("running cargo fuzz on {target}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            eprintln!("{log}");
            bail!(
                "fuzz target {target} failed ({}); the input is under fuzz/artifacts/{target}/",
                output.status
            );
        }
        let executions = log
            .lines()
            .find_map(|line| line.strip_prefix("stat::number_of_executed_units:"))
            .and_then(|n| n.trim().parse().ok())
            .with_context(|| format!("libFuzzer printed no statistics for {target}:\n{log}"))?;
        println!("{target}: {executions} executions in {seconds} s, no crash");
        runs.push(FuzzRun {
            target: target.clone(),
            executions,
            seconds,
        });
    }
    Ok(runs)
}

fn ensure_nightly() -> Result<()> {
    let installed = Command::new("rustc")
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if installed {
        return Ok(());
    }
    println!("installing the nightly toolchain (cargo-fuzz needs it)");
    let status = Command::new("rustup")
        .args(["toolchain", "install", "nightly", "--profile", "minimal"])
        .status()
        .context("running rustup (install the nightly toolchain yourself: rustup toolchain install nightly)")?;
    if !status.success() {
        bail!("rustup toolchain install nightly failed");
    }
    Ok(())
}

/// cargo-fuzz in `target/tools/cargo-fuzz`, installed on first use.
fn ensure_cargo_fuzz(root: &Path) -> Result<PathBuf> {
    let prefix = root.join("target/tools/cargo-fuzz");
    let binary = prefix.join("bin/cargo-fuzz");
    let current = Command::new(&binary)
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(CARGO_FUZZ_VERSION));
    if current {
        return Ok(binary);
    }
    println!(
        "installing cargo-fuzz {CARGO_FUZZ_VERSION} into {}",
        prefix.display()
    );
    let status = crate::cargo_outside()
        .args(["install", "--locked", "--quiet", "cargo-fuzz", "--version"])
        .arg(CARGO_FUZZ_VERSION)
        .arg("--root")
        .arg(&prefix)
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .context("running cargo install cargo-fuzz")?;
    if !status.success() {
        bail!("cargo install cargo-fuzz {CARGO_FUZZ_VERSION} failed");
    }
    Ok(binary)
}
