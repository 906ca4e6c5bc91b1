//! A guest that floods its output, without any limit set, through the real
//! `weft run`: every byte arrives, in order, and weft's memory stays bounded
//! however much the guest writes (the pipe's back-pressure reaches it).

use std::io::Read;

use xtask::testing::Weft;

/// The guest writes this many bytes and exits.
const FLOOD: u64 = 256 << 20;

/// What weft may hold resident while it runs the flood guest: its own
/// footprint is tens of MiB; buffered output would be hundreds.
const BOUND_KIB: u64 = 160 << 10;

#[test]
fn an_output_flood_arrives_whole_in_bounded_memory() {
    let built = xtask::test_package(&["flood"], "flood");
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
