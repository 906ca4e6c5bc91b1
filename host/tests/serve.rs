//! `weft serve` through the real binary, on loopback: a large body streams
//! through in bounded memory, a trapping request does not disturb others,
//! nor do requests stopped by their time or memory limit,
//! `--max-concurrent` bounds requests in flight, and SIGTERM lets a request
//! in flight finish.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use xtask::http_client;
use xtask::testing::{Running, Weft};

fn package() -> std::path::PathBuf {
    xtask::test_package(&["http-hello"], "http-hello")
}

struct Served {
    weft: Running,
    address: String,
    /// The stderr reader: it ends, with all of stderr, when weft exits.
    stderr: std::thread::JoinHandle<String>,
}

fn serve(flags: &[&str]) -> Served {
    let mut weft = Weft::new("weft")
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(flags)
        .arg(package())
        .spawn();
    let stderr = weft.child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut tx = Some(tx);
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(address) = line.split("listening on http://").nth(1)
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(address.trim().to_string());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let address = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(address) => address,
        Err(_) => {
            drop(weft);
            panic!(
                "weft serve never printed its address; stderr:\n{}",
                reader.join().unwrap_or_default()
            );
        }
    };
    Served {
        weft,
        address,
        stderr: reader,
    }
}

impl Served {
    /// Peak resident memory of the weft process, in KiB.
    fn peak_rss_kib(&self) -> u64 {
        xtask::peak_resident_kib(self.weft.child.id()).expect("VmHWM in /proc/PID/status")
    }

    fn terminate(&self) {
        // SAFETY: a plain FFI call with a pid this test owns.
        unsafe {
            kill(self.weft.child.id() as i32, 15);
        }
    }

    /// Sends SIGTERM and waits (bounded) for the exit code and all of stderr.
    fn stop(mut self) -> (Option<i32>, String) {
        self.terminate();
        let status = self.weft.wait("weft serve did not stop after SIGTERM");
        let stderr = self.stderr.join().expect("the stderr reader");
        (status.code(), stderr)
    }
}

unsafe extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
}

/// Deterministic pseudo-random bytes.
fn bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e3779b97f4a7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn a_64_mib_body_streams_through_in_bounded_memory() {
    let served = serve(&[]);
    // Warm up, so the baseline includes a compiled, instantiated handler.
    let warm = http_client::request(&served.address, "GET", "/", b"").unwrap();
    assert_eq!(warm.status, 200);
    let before = served.peak_rss_kib();

    const SIZE: usize = 64 << 20;
    let body = Arc::new(bytes(SIZE));
    let expected = Sha256::digest(&body[..]);
    let mut stream = TcpStream::connect(&served.address).unwrap();
    http_client::send_head(&mut stream, &served.address, "POST", "/echo", SIZE).unwrap();
    // Send and receive at once: the echo streams, so neither side may wait
    // for the other to finish.
    let mut writer = stream.try_clone().unwrap();
    let sent = body.clone();
    let sender = std::thread::spawn(move || {
        for chunk in sent.chunks(256 * 1024) {
            writer.write_all(chunk).unwrap();
        }
    });
    let response = http_client::read_response(stream).unwrap();
    sender.join().unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), SIZE);
    assert_eq!(Sha256::digest(&response.body), expected);

    let growth_mib = served.peak_rss_kib().saturating_sub(before) / 1024;
    eprintln!("weft's peak resident memory grew by {growth_mib} MiB while echoing 64 MiB");
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
    // Buffering the request or the response whole would take 64 MiB or more.
    assert!(
        growth_mib < 32,
        "weft's peak resident memory grew by {growth_mib} MiB while echoing 64 MiB"
    );
}

#[test]
fn a_trapping_request_does_not_disturb_the_others() {
    let served = serve(&[]);
    let address = served.address.clone();
    let workers: Vec<_> = (0..12)
        .map(|i| {
            let address = address.clone();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let (path, status) = if i % 4 == 0 {
                        ("/trap", 500)
                    } else {
                        ("/", 200)
                    };
                    let response = http_client::request(&address, "GET", path, b"").unwrap();
                    assert_eq!(response.status, status, "{path}");
                    if status == 200 {
                        assert_eq!(response.body, b"Hello from weft serve!\n");
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0));
    assert_eq!(
        stderr.matches("request GET /trap failed").count(),
        15,
        "{stderr}"
    );
}

#[test]
fn requests_that_exhaust_their_limits_do_not_stop_the_others() {
    let served = serve(&["--timeout", "1s", "--memory", "32MiB"]);
    let address = served.address.clone();
    let exhausting: Vec<_> = ["/spin", "/hog"]
        .into_iter()
        .map(|path| {
            let address = address.clone();
            std::thread::spawn(move || {
                for _ in 0..3 {
                    let response = http_client::request(&address, "GET", path, b"").unwrap();
                    assert_eq!(response.status, 500, "{path}");
                }
            })
        })
        .collect();
    // While those run, every other request is answered.
    for _ in 0..30 {
        let response = http_client::request(&address, "GET", "/", b"").unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"Hello from weft serve!\n");
    }
    for worker in exhausting {
        worker.join().unwrap();
    }
    let response = http_client::request(&address, "GET", "/", b"").unwrap();
    assert_eq!(response.status, 200);
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0));
    assert_eq!(
        stderr.matches("timeout of 1s reached").count(),
        3,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("memory limit of 32MiB hit").count(),
        3,
        "{stderr}"
    );
}

/// Starts an echo request that sends half its body and holds the rest.
fn held_echo(address: &str) -> (TcpStream, Vec<u8>) {
    let body = b"0123456789".to_vec();
    let mut stream = TcpStream::connect(address).unwrap();
    http_client::send_head(&mut stream, address, "POST", "/echo", body.len()).unwrap();
    stream.write_all(&body[..5]).unwrap();
    (stream, body)
}

#[test]
fn max_concurrent_bounds_requests_in_flight() {
    let served = serve(&["--max-concurrent", "1"]);
    let (mut held, body) = held_echo(&served.address);
    std::thread::sleep(Duration::from_millis(200));

    let done = Arc::new(AtomicBool::new(false));
    let address = served.address.clone();
    let flag = done.clone();
    let waiting = std::thread::spawn(move || {
        let response = http_client::request(&address, "GET", "/", b"").unwrap();
        flag.store(true, Ordering::SeqCst);
        response.status
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !done.load(Ordering::SeqCst),
        "a second request ran while the only slot was taken"
    );

    held.write_all(&body[5..]).unwrap();
    let response = http_client::read_response(held).unwrap();
    assert_eq!(response.body, body);
    assert_eq!(waiting.join().unwrap(), 200);
    let (code, _) = served.stop();
    assert_eq!(code, Some(0));
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let served = serve(&[]);
    let (mut held, body) = held_echo(&served.address);
    std::thread::sleep(Duration::from_millis(200));
    served.terminate();
    std::thread::sleep(Duration::from_millis(200));
    held.write_all(&body[5..]).unwrap();
    let response = http_client::read_response(held).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, body);
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("SIGTERM: no longer accepting connections"),
        "{stderr}"
    );
}
