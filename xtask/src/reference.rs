//! The reference host for side-by-side benchmarks: the `wasmtime` CLI at the
//! Wasmtime version weft is built on.
//!
//! `cargo xtask install-wasmtime` installs it from crates.io into
//! `target/tools/wasmtime` (a release build of wasmtime-cli: tens of minutes
//! on 2 cores). The benchmarks look for it there, then at
//! `$WEFT_REFERENCE_WASMTIME`, then on PATH, and skip the comparison, saying
//! why, when none is the right version.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The Wasmtime version weft pins (the workspace's `wasmtime = "=…"`).
pub const WASMTIME_VERSION: &str = "50.0.1";

/// Where `install` puts the CLI.
pub fn install_root(root: &Path) -> PathBuf {
    root.join("target/tools/wasmtime")
}

/// `cargo install wasmtime-cli@<version> --locked` into `install_root`.
pub fn install(root: &Path) -> Result<PathBuf> {
    let dir = install_root(root);
    eprintln!(
        "xtask: cargo install wasmtime-cli@{WASMTIME_VERSION} --locked --root {} (a long release build)",
        dir.display()
    );
    let status = crate::cargo()
        .args(["install", "--locked", "--root"])
        .arg(&dir)
        .arg(format!("wasmtime-cli@{WASMTIME_VERSION}"))
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .context("running cargo install")?;
    if !status.success() {
        bail!("cargo install wasmtime-cli@{WASMTIME_VERSION} failed");
    }
    Ok(dir.join("bin/wasmtime"))
}

/// The reference CLI, or the reason there is none (for the skip message).
pub fn find(root: &Path) -> std::result::Result<PathBuf, String> {
    let mut candidates = vec![install_root(root).join("bin/wasmtime")];
    if let Some(path) = std::env::var_os("WEFT_REFERENCE_WASMTIME") {
        candidates.push(PathBuf::from(path));
    }
    candidates.push(PathBuf::from("wasmtime"));
    let mut seen = Vec::new();
    for candidate in candidates {
        match version(&candidate) {
            Some(v) if v == WASMTIME_VERSION => return Ok(candidate),
            Some(v) => seen.push(format!("{} is {v}", candidate.display())),
            None => {}
        }
    }
    let found = if seen.is_empty() {
        "no `wasmtime` CLI found".to_string()
    } else {
        seen.join(", ")
    };
    Err(format!(
        "reference skipped: {found}, not {WASMTIME_VERSION}; run `cargo xtask install-wasmtime` (or set WEFT_REFERENCE_WASMTIME)"
    ))
}

fn version(program: &Path) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(1).map(str::to_string)
}
