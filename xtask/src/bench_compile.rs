//! `cargo xtask bench-compile [NAME]...`: for each guest (all by default),
//! the size of its wasm, the wall time of its first compile (`weft compile`
//! into an empty cache) and of a start from the cache (`weft check`, which
//! loads, links and pre-instantiates it), with a release build of weft.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

pub fn run(root: &Path, only: &[String]) -> Result<()> {
    let built = crate::build_guests(root, only)?;
    let weft = build_release_weft(root)?;
    let cache = root.join("target/bench-compile-cache");

    println!(
        "{:<22} {:>10} {:>14} {:>16}",
        "guest", "wasm MB", "first compile", "from the cache"
    );
    for guest in &built {
        let wasm = guest.package.join("app.wasm");
        let Ok(size) = std::fs::metadata(&wasm).map(|m| m.len()) else {
            continue;
        };
        if cache.exists() {
            std::fs::remove_dir_all(&cache)?;
        }
        let Some(cold) = timed(&weft, "compile", &cache, &guest.package)? else {
            continue;
        };
        // The best of three starts from the cache.
        let mut warm = Duration::MAX;
        for _ in 0..3 {
            if let Some(time) = timed(&weft, "check", &cache, &guest.package)? {
                warm = warm.min(time);
            }
        }
        println!(
            "{:<22} {:>10.1} {:>12.2} s {:>13.1} ms",
            guest.name,
            size as f64 / 1e6,
            cold.as_secs_f64(),
            warm.as_secs_f64() * 1e3
        );
    }
    std::fs::remove_dir_all(&cache).ok();
    Ok(())
}

/// Runs `weft SUBCOMMAND --cache-dir CACHE PACKAGE`; `None` if it fails
/// (a guest that is meant not to load).
fn timed(weft: &Path, subcommand: &str, cache: &Path, package: &Path) -> Result<Option<Duration>> {
    let started = Instant::now();
    let status = Command::new(weft)
        .arg(subcommand)
        .arg("--cache-dir")
        .arg(cache)
        .arg(package)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running weft")?;
    Ok(status.success().then(|| started.elapsed()))
}

/// Builds `target/release/weft` (and the `weft-compiler` it hands
/// compiling to) and returns its path.
pub fn build_release_weft(root: &Path) -> Result<std::path::PathBuf> {
    crate::build_weft(root, false)
}
