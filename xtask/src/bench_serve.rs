//! `cargo xtask bench-serve [SECONDS]`: `weft serve` under `wrk` on
//! loopback, side by side with `wasmtime serve` on the same component, for
//! each subject: the WASI 0.2 hello handler (a fresh instance per request),
//! the WASI 0.3 hello handler and a 0.3 handler that awaits 10 ms before it
//! answers (instances reused, several requests at once in each). The
//! references are every `wasmtime` CLI found ([`crate::reference::all`]: the
//! `cargo install` build and the official release binary); it prints
//! requests/s, p50/p99 latency and the server's CPU time per request, and
//! the ratios.
//!
//! `WEFT_BENCH_BASELINE=PATH` adds another `weft` binary (an earlier build,
//! say) beside the one built here, measured in the same run, so that a
//! change is measured against what it changes rather than across sittings.
//!
//! The CPU time per request (the server's user and system time, all its
//! threads, over the requests wrk completed) is the steadier figure on a
//! shared machine: requests/s moves with whatever else the machine runs, and
//! the load generator takes its share of the same two cores.

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
    /// Requests wrk completed.
    pub requests: u64,
    /// The server's CPU time per request, in microseconds, where it was
    /// measured (a server that is a process of ours).
    pub cpu_us: Option<f64>,
}

/// What is served and loaded.
pub struct Subject {
    pub label: &'static str,
    guest: &'static str,
    path: &'static str,
}

pub const SUBJECTS: [Subject; 3] = [
    Subject {
        label: "0.2 hello handler",
        guest: "http-hello",
        path: "/",
    },
    Subject {
        label: "0.3 hello handler",
        guest: "p3-http",
        path: "/",
    },
    Subject {
        label: "0.3 handler that awaits 10 ms",
        guest: "p3-http",
        path: "/wait/10",
    },
];

/// One subject's figures: weft's, each reference's (`wasmtime serve` and
/// its version), and the baseline weft's if one was given (never a
/// reference: the targets are judged against `wasmtime serve` only).
pub struct Row {
    pub label: &'static str,
    pub weft: Figures,
    pub references: Vec<(String, Figures)>,
    pub baseline: Option<Figures>,
}

/// Prints the table and returns a row per subject.
pub fn run(root: &Path, seconds: u64) -> Result<Vec<Row>> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is not installed; install it (Debian: apt-get install wrk) and run again");
    }
    let guests: Vec<String> = vec!["http-hello".into(), "p3-http".into()];
    let built = crate::build_guests(root, &guests)?;
    let weft = crate::bench_compile::build_release_weft(root)?;
    let references = crate::reference::all(root);
    let baseline = std::env::var_os("WEFT_BENCH_BASELINE").map(std::path::PathBuf::from);
    if let Some(baseline) = &baseline
        && !baseline.is_file()
    {
        bail!(
            "WEFT_BENCH_BASELINE is {}, which is not a file; set it to a weft binary",
            baseline.display()
        );
    }
    if references.is_empty() {
        println!("{}", crate::reference::find(root).err().unwrap_or_default());
    }

    let mut rows = Vec::new();
    for subject in &SUBJECTS {
        let package = &built
            .iter()
            .find(|g| g.name == subject.guest)
            .context("guest built")?
            .package;
        let weft_figures = serve_weft(&weft, package, subject, seconds)
            .with_context(|| format!("weft serve, {}", subject.label))?;

        let baseline_figures = match &baseline {
            Some(baseline) => Some(
                serve_weft(baseline, package, subject, seconds).with_context(|| {
                    format!("weft serve {}, {}", baseline.display(), subject.label)
                })?,
            ),
            None => None,
        };
        let mut measured = Vec::new();
        for wasmtime in &references {
            let port = crate::testing::free_port()?;
            let mut child = Command::new(&wasmtime.path)
                .args(["serve", "-S", "cli", "--addr", &format!("127.0.0.1:{port}")])
                .arg(package.join("app.wasm"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting wasmtime serve")?;
            wait_for_port(port)?;
            let figures = load_server(
                &format!("http://127.0.0.1:{port}{}", subject.path),
                seconds,
                child.id(),
            );
            let _ = child.kill();
            let _ = child.wait();
            let figures = figures.with_context(|| {
                format!("wasmtime serve {}, {}", wasmtime.version, subject.label)
            })?;
            measured.push((wasmtime.version.clone(), figures));
        }
        rows.push(Row {
            label: subject.label,
            weft: weft_figures,
            references: measured,
            baseline: baseline_figures,
        });
    }

    println!("serve benchmark: wrk -t1 -c32 for {seconds}s on loopback, 2 cores");
    println!(
        "| handler | host | requests/s | p50 | p99 | CPU per request | ratio requests/s | ratio p99 | ratio CPU per request |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for row in &rows {
        print_row(row.label, "weft serve", &row.weft, None);
        if let (Some(figures), Some(baseline)) = (&row.baseline, &baseline) {
            let host = format!("weft serve (baseline {})", baseline.display());
            print_row(row.label, &host, figures, Some(&row.weft));
        }
        for (version, figures) in &row.references {
            let host = format!("wasmtime serve {version}");
            print_row(row.label, &host, figures, Some(&row.weft));
        }
    }
    Ok(rows)
}

/// A row; beside a reference, the ratios weft / that reference.
fn print_row(label: &str, host: &str, figures: &Figures, weft: Option<&Figures>) {
    let cpu = |figures: &Figures| {
        figures
            .cpu_us
            .map_or_else(|| "—".to_string(), |us| format!("{us:.1} µs"))
    };
    let (throughput, p99, per_request) = match weft {
        Some(weft) => (
            format!(
                "{:.2}×",
                weft.requests_per_second / figures.requests_per_second
            ),
            format!("{:.2}×", weft.p99_ms / figures.p99_ms),
            match (weft.cpu_us, figures.cpu_us) {
                (Some(ours), Some(theirs)) => format!("{:.2}×", ours / theirs),
                _ => "—".to_string(),
            },
        ),
        None => (String::new(), String::new(), String::new()),
    };
    println!(
        "| {label} | {host} | {:.0} | {:.2} ms | {:.2} ms | {} | {throughput} | {p99} | {per_request} |",
        figures.requests_per_second,
        figures.p50_ms,
        figures.p99_ms,
        cpu(figures)
    );
}

/// `weft serve` of the package by this binary, under wrk.
fn serve_weft(weft: &Path, package: &Path, subject: &Subject, seconds: u64) -> Result<Figures> {
    let mut child = Command::new(weft)
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
        .with_context(|| format!("starting {} serve", weft.display()))?;
    let address = listening_address(&mut child)?;
    let figures = load_server(
        &format!("http://{address}{}", subject.path),
        seconds,
        child.id(),
    );
    stop(child);
    figures
}

/// [`load`], with the CPU time the server `pid` spent per request.
fn load_server(url: &str, seconds: u64, pid: u32) -> Result<Figures> {
    let before = cpu_time(pid);
    let mut figures = load(url, seconds)?;
    let after = cpu_time(pid);
    figures.cpu_us = match (before, after, figures.requests) {
        (Some(before), Some(after), requests) if requests > 0 => {
            Some((after - before) * 1e6 / requests as f64)
        }
        _ => None,
    };
    Ok(figures)
}

/// The user and system time of a process, all its threads, in seconds
/// (Linux's `/proc/PID/stat`; `None` elsewhere).
fn cpu_time(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: count from after it.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf reads a constant of the system.
    let per_second = unsafe { sysconf(SC_CLK_TCK) };
    (per_second > 0).then(|| ticks as f64 / per_second as f64)
}

/// `_SC_CLK_TCK` on Linux.
const SC_CLK_TCK: i32 = 2;

pub(crate) fn listening_address(child: &mut Child) -> Result<String> {
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

pub(crate) fn stop(mut child: Child) {
    // SAFETY: a plain FFI call with a pid this process owns.
    unsafe {
        kill(child.id() as i32, 15);
    }
    let _ = child.wait();
}

unsafe extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
    fn sysconf(name: i32) -> std::ffi::c_long;
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
pub(crate) fn load(url: &str, seconds: u64) -> Result<Figures> {
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
    // "  123456 requests in 20.00s, 17.5MB read"
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or(0);
    Ok(Figures {
        requests_per_second,
        p50_ms,
        p99_ms,
        requests,
        cpu_us: None,
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
