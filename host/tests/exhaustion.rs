//! A guest that floods its output, without any limit set, through the real
//! `weft run`: every byte arrives, in order, and weft's memory stays bounded
//! however much the guest writes (the pipe's back-pressure reaches it).

use std::io::Read;

use xtask::testing::Weft;

/// The guests these tests run (built once, together).
const GUESTS: &[&str] = &[
    "flood",
    "empty-writes",
    "p3-command",
    "http-hello",
    "p3-http",
];

/// The guest writes this many bytes and exits.
const FLOOD: u64 = 256 << 20;

/// What weft may hold resident while it runs the flood guest: its own
/// footprint is tens of MiB; buffered output would be hundreds.
const BOUND_KIB: u64 = 160 << 10;

#[test]
fn an_output_flood_arrives_whole_in_bounded_memory() {
    let built = xtask::test_package(GUESTS, "flood");
    // The package with its manifest that sets no limits (wapp.toml has a
    // timeout for the conformance case).
    let scratch = tempfile::tempdir().unwrap();
    let package = scratch.path().join("flood");
    std::fs::create_dir(&package).unwrap();
    std::fs::copy(built.join("app.wasm"), package.join("app.wasm")).unwrap();
    std::fs::copy(built.join("no-limits.toml"), package.join("wapp.toml")).unwrap();
    let mut weft = Weft::new("weft")
        .arg("run")
        .arg(&package)
        .arg(FLOOD.to_string())
        .env("WEFT_CACHE_DIR", xtask::cache_dir(&xtask::workspace_root()))
        .spawn();
    let stderr = xtask::testing::read_all(weft.child.stderr.take().unwrap());
    let mut stdout = weft.child.stdout.take().unwrap();
    let line = b"flood flood flood flood flood flood flood flood flood flood flood flood\n";
    let mut received: u64 = 0;
    let mut peak = None;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = stdout.read(&mut buf).expect("reading weft's stdout");
        if n == 0 {
            break;
        }
        for (i, byte) in buf[..n].iter().enumerate() {
            let at = (received + i as u64) as usize % line.len();
            assert_eq!(
                *byte,
                line[at],
                "byte {} is out of order",
                received + i as u64
            );
        }
        received += n as u64;
        // Near the end, while the guest still has output to write (so weft
        // is still running), read weft's peak resident memory.
        if peak.is_none() && received >= FLOOD - (8 << 20) {
            peak = xtask::peak_resident_kib(weft.child.id());
        }
    }
    let status = weft.wait("the flood did not end");
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(received, FLOOD, "every byte the guest wrote arrives");
    let peak = peak.expect("weft's peak memory was read while it ran");
    eprintln!("weft's peak resident memory while flooding {FLOOD} bytes: {peak} KiB");
    assert!(
        peak < BOUND_KIB,
        "weft held {peak} KiB resident while flooding {FLOOD} bytes"
    );
}

// ---- empty writes ------------------------------------------------------------

/// What weft may hold resident while a guest makes empty writes for its
/// whole timeout: its own footprint is tens of MiB; something kept per
/// empty write (millions a second) would be hundreds.
const EMPTY_BOUND_KIB: u64 = 160 << 10;

/// How long each flood of empty writes runs.
const FLOOD_TIME: &str = "3s";

/// A copy of a built package in a scratch directory, with the directories
/// its mounts need.
fn scratch_package(name: &str, dirs: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let built = xtask::test_package(GUESTS, name);
    let scratch = tempfile::tempdir().unwrap();
    let package = scratch.path().join(name);
    std::fs::create_dir(&package).unwrap();
    for file in ["app.wasm", "wapp.toml"] {
        std::fs::copy(built.join(file), package.join(file)).unwrap();
    }
    for dir in dirs {
        std::fs::create_dir_all(package.join(dir)).unwrap();
    }
    (scratch, package)
}

/// Runs `weft run` until the guest's timeout stops it, draining its
/// output and sampling its peak resident memory; returns that peak (KiB).
fn peak_of_run(package: &std::path::Path, args: &[&str]) -> u64 {
    let mut weft = Weft::new("weft")
        .arg("run")
        .args(["--timeout", FLOOD_TIME])
        .arg(package)
        .args(args)
        .env("WEFT_CACHE_DIR", xtask::cache_dir(&xtask::workspace_root()))
        .spawn();
    let stderr = xtask::testing::read_all(weft.child.stderr.take().unwrap());
    let stdout = xtask::testing::read_all(weft.child.stdout.take().unwrap());
    let pid = weft.child.id();
    let mut peak = 0;
    while let Ok(None) = weft.child.try_wait() {
        if let Some(now) = xtask::peak_resident_kib(pid) {
            peak = now;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = weft.wait("the flood of empty writes did not end");
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    let stdout = stdout.join().unwrap();
    assert_eq!(status.code(), Some(73), "{args:?}: {stderr}");
    assert!(
        stderr.contains(&format!("timeout of {FLOOD_TIME} reached")),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{args:?}: no bytes, only empty writes");
    peak
}

/// Empty writes, without end, to every kind of WASI output stream a
/// command has: stdout, a file and (0.2) an outgoing request body. Each is
/// stopped by the timeout, and weft's memory stays bounded meanwhile.
#[test]
fn empty_writes_are_stopped_in_bounded_memory() {
    let (_p2, p2) = scratch_package("empty-writes", &["out"]);
    let (_p3, p3) = scratch_package("p3-command", &["data", "ro"]);
    let runs: [(&std::path::Path, &[&str], &str); 5] = [
        (&p2, &["stdout"], "0.2 stdout"),
        (&p2, &["file"], "0.2 file"),
        (&p2, &["body"], "0.2 outgoing request body"),
        (&p3, &["empty-stdout"], "0.3 stdout"),
        (&p3, &["empty-file", "/data/empty.txt"], "0.3 file"),
    ];
    let mut failures = Vec::new();
    for (package, args, what) in runs {
        let peak = peak_of_run(package, args);
        eprintln!(
            "empty writes to {what} for {FLOOD_TIME}: weft's peak resident memory {} MiB",
            peak >> 10
        );
        if peak >= EMPTY_BOUND_KIB {
            failures.push(format!("{what}: {} MiB", peak >> 10));
        }
    }
    assert!(
        failures.is_empty(),
        "weft's memory grew with empty writes: {failures:?}"
    );
}

/// Empty writes, without end, to a served response body, WASI 0.2 and 0.3:
/// the request's timeout ends them, the response is cut short, and weft's
/// memory stays bounded meanwhile.
#[test]
fn empty_writes_to_a_served_response_are_stopped_in_bounded_memory() {
    use std::io::{BufRead, BufReader};
    let mut failures = Vec::new();
    for name in ["http-hello", "p3-http"] {
        let package = xtask::test_package(GUESTS, name);
        let mut weft = Weft::new("weft")
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--timeout", FLOOD_TIME])
            .arg(&package)
            .env("WEFT_CACHE_DIR", xtask::cache_dir(&xtask::workspace_root()))
            .spawn();
        let mut lines = BufReader::new(weft.child.stderr.take().unwrap()).lines();
        let address = loop {
            let line = lines.next().expect("weft serve's address").unwrap();
            if let Some(address) = line.split("listening on http://").nth(1) {
                break address.trim().to_string();
            }
        };
        let pid = weft.child.id();
        let request =
            std::thread::spawn(move || xtask::http_client::request(&address, "GET", "/empty", b""));
        let mut peak = 0;
        while !request.is_finished() {
            if let Some(now) = xtask::peak_resident_kib(pid) {
                peak = now;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // Cut short: the chunked body never ends properly.
        let response = request.join().unwrap();
        assert!(
            response.is_err(),
            "{name}: the endless body ended whole: {response:?}"
        );
        if let Some(now) = xtask::peak_resident_kib(pid) {
            peak = now;
        }
        drop(weft);
        eprintln!(
            "empty writes to a {name} response body for {FLOOD_TIME}: weft's peak resident memory {} MiB",
            peak >> 10
        );
        if peak >= EMPTY_BOUND_KIB {
            failures.push(format!("{name}: {} MiB", peak >> 10));
        }
    }
    assert!(
        failures.is_empty(),
        "weft's memory grew with empty writes: {failures:?}"
    );
}
