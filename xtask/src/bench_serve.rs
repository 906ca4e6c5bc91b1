//! `cargo xtask bench-serve [SECONDS]`: `weft serve` under `wrk` on
//! loopback, side by side with `wasmtime serve` on the same component, for
//! each subject: the WASI 0.2 hello handler (a fresh instance per request),
//! the WASI 0.3 hello handler and a 0.3 handler that awaits 10 ms before it
//! answers (instances reused, several requests at once in each). The
//! references are every `wasmtime` CLI found ([`crate::reference::all`]: the
//! `cargo install` build and the official release binary); it prints
//! requests/s and p50/p99 latency, and the ratios.

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

/// One subject's figures: weft's, and each reference's (`wasmtime serve`
/// and its version).
pub struct Row {
    pub label: &'static str,
    pub weft: Figures,
    pub references: Vec<(String, Figures)>,
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
        let weft_figures = load(&format!("http://{address}{}", subject.path), seconds);
        stop(child);
        let weft_figures =
            weft_figures.with_context(|| format!("weft serve, {}", subject.label))?;

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
            let figures = load(&format!("http://127.0.0.1:{port}{}", subject.path), seconds);
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
        });
    }

    println!("serve benchmark: wrk -t1 -c32 for {seconds}s on loopback, 2 cores");
    println!("| handler | host | requests/s | p50 | p99 | ratio requests/s | ratio p99 |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for row in &rows {
        print_row(row.label, "weft serve", &row.weft, None);
        for (version, figures) in &row.references {
            print_row(
                row.label,
                &format!("wasmtime serve {version}"),
                figures,
                Some(&row.weft),
            );
        }
    }
    Ok(rows)
}

/// A row; beside a reference, the ratios weft / that reference.
fn print_row(label: &str, host: &str, figures: &Figures, weft: Option<&Figures>) {
    let (throughput, p99) = match weft {
        Some(weft) => (
            format!(
                "{:.2}×",
                weft.requests_per_second / figures.requests_per_second
            ),
            format!("{:.2}×", weft.p99_ms / figures.p99_ms),
        ),
        None => (String::new(), String::new()),
    };
    println!(
        "| {label} | {host} | {:.0} | {:.2} ms | {:.2} ms | {throughput} | {p99} |",
        figures.requests_per_second, figures.p50_ms, figures.p99_ms
    );
}

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
