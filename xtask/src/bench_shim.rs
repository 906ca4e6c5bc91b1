//! `cargo xtask bench-shim [RUNS] [SECONDS]`: weft apps as containers
//! (`containerd-shim-weft-v1` under containerd 1.7), beside `weft run` and
//! `weft serve` of the same packages, in one run:
//!
//! - start: the wall time of `ctr run --rm` of the hello app's image until
//!   it has exited, beside `weft run` of the same package: precompiled (the
//!   image's compiled content in containerd's store) beside `weft run` with
//!   its cache filled, and cold (the first container of a freshly imported
//!   image, which compiles and stores the result) beside `weft run
//!   --no-cache`. Each row is the median of RUNS (default 20; 5 for cold),
//!   the hosts alternating;
//! - serving: requests/s and p50/p99 under `wrk -t1 -c32` for SECONDS
//!   (default 10), the 0.2 and the 0.3 hello handlers, served by a container
//!   on the host's network beside `weft serve` with the same (default)
//!   settings.
//!
//! It needs root (containerd does), `wrk`, and the shim's build packages;
//! it fetches containerd as the tests do and builds weft and the shim in
//! release mode.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::bench_serve::Figures;
use crate::bench_start::{median, ms, time};
use crate::containerd::{Daemon, RUNTIME};

const NAMESPACE: &str = "weft-bench";

pub fn run(root: &Path, runs: usize, seconds: u64) -> Result<()> {
    if !crate::containerd::is_root() {
        bail!("the shim benchmark starts containerd, which needs root; run it as root");
    }
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is not installed; install it (Debian: apt-get install wrk) and run again");
    }
    if runs == 0 {
        bail!("RUNS must be at least 1");
    }
    crate::containerd::ensure(root)?;
    crate::containerd::ensure_shim_build_deps()?;
    let weft = crate::build_weft(root, false)?;
    let status = crate::cargo()
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--quiet",
            "--package",
            "containerd-shim-weft",
        ])
        .status()
        .context("building the shim")?;
    if !status.success() {
        bail!("building containerd-shim-weft (release) failed");
    }
    let built = crate::build_guests(
        root,
        &["hello".into(), "http-hello".into(), "p3-http".into()],
    )?;
    let package = |name: &str| {
        built
            .iter()
            .find(|g| g.name == name)
            .map(|g| g.package.clone())
            .context("guest built")
    };

    let daemon = Daemon::start(
        root,
        &root.join("target/containerd-bench"),
        &root.join("target/release"),
        NAMESPACE,
    )?;
    // The hello image alone at first: the cold runs below empty the
    // content store between runs.
    let pack = |guest: &str| -> Result<(String, std::path::PathBuf)> {
        let tar = daemon.dir.join(format!("{guest}.tar"));
        let name = crate::containerd::pack_image(&weft, &package(guest)?, &tar)?;
        Ok((name, tar))
    };
    let (hello_image, hello_tar) = pack("hello")?;
    let (hello_image, hello_tar) = (&hello_image, &hello_tar);
    import(&daemon, hello_tar)?;
    let hello = package("hello")?;

    // Start. weft's cache is one of its own, filled by a first run.
    let cache = daemon.dir.join("weft-cache");
    let weft_run = |cached: bool| {
        let mut command = Command::new(&weft);
        command.arg("run");
        if cached {
            command.arg("--cache-dir").arg(&cache);
        } else {
            command.arg("--no-cache");
        }
        command.arg(&hello).arg("bench");
        command
    };
    let mut sequence = 0;
    let mut ctr_run = |daemon: &Daemon| {
        sequence += 1;
        let mut command = daemon.ctr_command(&[
            "run",
            "--rm",
            "--runtime",
            RUNTIME,
            hello_image,
            &format!("hello-{sequence}"),
            "/app.wasm",
            "bench",
        ]);
        time(&mut command)
    };
    time(&mut weft_run(true))?;
    // The first container compiles; after it the image is precompiled.
    ctr_run(&daemon)?;
    if !precompiled(&daemon)? {
        bail!(
            "no content labelled runwasi.io/precompiled/weft/ after the first container; containerd's log:\n{}",
            daemon.log()
        );
    }
    let (mut weft_warm, mut ctr_warm) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        weft_warm.push(time(&mut weft_run(true))?);
        ctr_warm.push(ctr_run(&daemon)?);
    }
    let cold_runs = runs.min(5);
    let (mut weft_cold, mut ctr_cold) = (Vec::new(), Vec::new());
    for _ in 0..cold_runs {
        weft_cold.push(time(&mut weft_run(false))?);
        // A fresh import: the image's content, its labels and its compiled
        // content are gone, so the next container compiles.
        forget(&daemon, hello_image)?;
        import(&daemon, hello_tar)?;
        if precompiled(&daemon)? {
            bail!("the image is still precompiled after it was removed and imported again");
        }
        ctr_cold.push(ctr_run(&daemon)?);
    }

    // Serving.
    let mut serving = Vec::new();
    for (label, guest) in [
        ("0.2 hello handler", "http-hello"),
        ("0.3 hello handler", "p3-http"),
    ] {
        let mut child = Command::new(&weft)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .arg(package(guest)?)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .context("starting weft serve")?;
        let address = crate::bench_serve::listening_address(&mut child)?;
        let weft_figures = crate::bench_serve::load(&format!("http://{address}/"), seconds);
        crate::bench_serve::stop(child);
        let weft_figures = weft_figures.with_context(|| format!("weft serve, {label}"))?;

        let (image, tar) = pack(guest)?;
        import(&daemon, &tar)?;
        let port = crate::testing::free_port()?;
        let container = daemon.serve(&image, &format!("serve-{guest}"), port, &[])?;
        let shim_figures = crate::bench_serve::load(&format!("http://127.0.0.1:{port}/"), seconds);
        let (status, stderr) = container.stop(&daemon)?;
        let shim_figures = shim_figures.with_context(|| format!("the shim, {label}"))?;
        if !status.success() {
            bail!("the {guest} container ended with {status}:\n{stderr}");
        }
        serving.push((label, weft_figures, shim_figures));
    }

    println!(
        "shim benchmark: containerd {}, containerd-shim-weft-v1 and weft (release), 2 cores",
        crate::containerd::VERSION
    );
    println!("| start of the hello app | weft run | ctr run (shim) | ratio shim / weft run |");
    println!("| --- | --- | --- | --- |");
    let row = |mode: &str, weft: &mut [Duration], ctr: &mut [Duration]| {
        let count = weft.len();
        let (weft, ctr) = (median(weft), median(ctr));
        println!(
            "| {mode}, median of {count} | {} | {} | {:.1}× |",
            ms(weft),
            ms(ctr),
            ctr.as_secs_f64() / weft.as_secs_f64()
        );
    };
    row(
        "precompiled (weft: cache filled)",
        &mut weft_warm,
        &mut ctr_warm,
    );
    row(
        "cold (compiles; weft: --no-cache)",
        &mut weft_cold,
        &mut ctr_cold,
    );
    println!();
    println!(
        "serving: wrk -t1 -c32 for {seconds}s on loopback; the container on the host's network"
    );
    println!("| handler | host | requests/s | p50 | p99 | ratio requests/s shim / weft serve |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (label, weft, shim) in &serving {
        print_serve(label, "weft serve", weft, None);
        print_serve(label, "ctr run (shim)", shim, Some(weft));
    }
    Ok(())
}

fn print_serve(label: &str, host: &str, figures: &Figures, weft: Option<&Figures>) {
    let ratio = weft
        .map(|weft| {
            format!(
                "{:.2}×",
                figures.requests_per_second / weft.requests_per_second
            )
        })
        .unwrap_or_default();
    println!(
        "| {label} | {host} | {:.0} | {:.2} ms | {:.2} ms | {ratio} |",
        figures.requests_per_second, figures.p50_ms, figures.p99_ms
    );
}

fn import(daemon: &Daemon, tar: &Path) -> Result<()> {
    let tar = tar.to_str().context("a UTF-8 path")?;
    let out = daemon.ctr(&["image", "import", "--all-platforms", tar])?;
    if out.code != Some(0) {
        bail!("{out:?}");
    }
    Ok(())
}

/// Removes the image, and every blob of containerd's content store (the
/// image's, its labels and its compiled content: the hello image is the only
/// one imported while the start is measured).
fn forget(daemon: &Daemon, image: &str) -> Result<()> {
    let out = daemon.ctr(&["image", "rm", "--sync", image])?;
    if out.code != Some(0) {
        bail!("{out:?}");
    }
    let listed = daemon.ctr(&["content", "ls", "--quiet"])?;
    for digest in listed.stdout.split_whitespace() {
        daemon.ctr(&["content", "rm", digest])?;
    }
    Ok(())
}

/// Whether containerd holds content labelled as weft's compiled code.
fn precompiled(daemon: &Daemon) -> Result<bool> {
    let out = daemon.ctr(&["content", "ls"])?;
    Ok(out.stdout.contains("runwasi.io/precompiled/weft/"))
}
