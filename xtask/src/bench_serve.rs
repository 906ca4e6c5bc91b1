//! `cargo xtask bench-serve [SECONDS]`: `weft serve` on the hello handler
//! under `wrk` on loopback, side by side with `wasmtime serve` on the same
//! component when a `wasmtime` 48 CLI is on PATH; prints requests/s and
//! p50/p99 latency, and the ratios.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// One host's figures.
pub struct Figures {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Prints the table and returns weft's figures and the reference's (`None`
/// when the reference `wasmtime` is absent).
pub fn run(root: &Path, seconds: u64) -> Result<(Figures, Option<Figures>)> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is not installed; install it (Debian: apt-get install wrk) and run again");
    }
    let built = crate::build_guests(root, &["http-hello".to_string()])?;
    let package = &built[0].package;
    let weft = crate::bench_compile::build_release_weft(root)?;

    let mut child = Command::new(&weft)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--max-concurrent",
            "256",
        ])
        .arg(package)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting weft serve")?;
    let address = listening_address(&mut child)?;
    let weft_figures = load(&format!("http://{address}/"), seconds);
    stop(child);
    let weft_figures = weft_figures?;

    let reference = match crate::reference::find(root) {
        Ok(wasmtime) => {
            let port = free_port()?;
            let mut child = Command::new(&wasmtime.path)
                .args(["serve", "-S", "cli", "--addr", &format!("127.0.0.1:{port}")])
                .arg(package.join("app.wasm"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting wasmtime serve")?;
            wait_for_port(port)?;
            let figures = load(&format!("http://127.0.0.1:{port}/"), seconds);
            let _ = child.kill();
            let _ = child.wait();
            Some((wasmtime.version, figures?))
        }
        Err(why) => {
            println!("{why}");
            None
        }
    };

    println!("serve benchmark: hello handler, wrk -t1 -c32 for {seconds}s on loopback, 2 cores");
    println!("| host | requests/s | p50 | p99 |");
    println!("| --- | --- | --- | --- |");
    print_row("weft serve", &weft_figures);
    if let Some((version, figures)) = &reference {
        print_row(&format!("wasmtime serve {version}"), figures);
        println!(
            "ratios (weft / wasmtime): requests/s {:.2}×, p50 {:.2}×, p99 {:.2}×",
            weft_figures.requests_per_second / figures.requests_per_second,
            weft_figures.p50_ms / figures.p50_ms,
            weft_figures.p99_ms / figures.p99_ms
        );
    }
    Ok((weft_figures, reference.map(|(_, figures)| figures)))
}

fn print_row(host: &str, figures: &Figures) {
    println!(
        "| {host} | {:.0} | {:.2} ms | {:.2} ms |",
        figures.requests_per_second, figures.p50_ms, figures.p99_ms
    );
}

fn listening_address(child: &mut Child) -> Result<String> {
    let stderr = child.stderr.take().context("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    while let Some(line) = lines.next().transpose()? {
        if let Some(address) = line.split("listening on http://").nth(1) {
            let address = address.trim().to_string();
            // Keep draining stderr so the server never blocks on it.
            std::thread::spawn(move || for _ in lines {});
            return Ok(address);
        }
    }
    bail!("weft serve exited before listening")
}

fn stop(mut child: Child) {
    // SAFETY: a plain FFI call with a pid this process owns.
    unsafe {
        kill(child.id() as i32, 15);
    }
    let _ = child.wait();
}

unsafe extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn wait_for_port(port: u16) -> Result<()> {
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("the reference server never listened on port {port}")
}

/// Runs wrk and reads requests/s and the latency distribution.
fn load(url: &str, seconds: u64) -> Result<Figures> {
    let out = Command::new("wrk")
        .args(["-t1", "-c32", &format!("-d{seconds}s"), "--latency", url])
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_string())
    };
    let requests_per_second = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("wrk printed no Requests/sec:\n{text}"))?;
    let p50_ms = field("50%").and_then(|v| millis(&v)).context("no p50")?;
    let p99_ms = field("99%").and_then(|v| millis(&v)).context("no p99")?;
    if text.contains("Non-2xx") {
        bail!("some requests failed:\n{text}");
    }
    Ok(Figures {
        requests_per_second,
        p50_ms,
        p99_ms,
    })
}

/// `1.23ms`, `456.00us`, `1.20s` → milliseconds.
fn millis(text: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else {
        (text.strip_suffix('s')?, 1e3)
    };
    number.trim().parse::<f64>().ok().map(|n| n * scale)
}
