//! `weft serve` through the real binary, on loopback: a large body streams
//! through in bounded memory, a trapping request does not disturb others,
//! nor do requests stopped by their time or memory limit,
//! `--max-concurrent` bounds requests in flight, SIGTERM lets a request in
//! flight finish, and slow or oversized clients are shed at their limits
//! while normal requests go on.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use xtask::http_client;
use xtask::testing::{Running, Weft};

fn package(name: &str) -> std::path::PathBuf {
    xtask::test_package(&["http-hello", "p3-http"], name)
}

struct Served {
    weft: Running,
    address: String,
    /// The stderr reader: it ends, with all of stderr, when weft exits.
    stderr: std::thread::JoinHandle<String>,
}

fn serve(flags: &[&str]) -> Served {
    serve_app("http-hello", flags)
}

fn serve_app(name: &str, flags: &[&str]) -> Served {
    let mut weft = Weft::new("weft")
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(flags)
        .arg(package(name))
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

// ---- clients that are slow, idle or too big --------------------------------

/// Reads one response from a keep-alive connection: its status and body
/// (`content-length` or chunked).
fn read_one(reader: &mut BufReader<TcpStream>) -> (u16, Vec<u8>) {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        let n = reader
            .read_line(&mut line)
            .expect("reading a response head");
        assert!(n > 0, "the connection closed before a response");
        if line == "\r\n" {
            break;
        }
        head.push(line.trim_end().to_ascii_lowercase());
    }
    let status: u16 = head[0].split_whitespace().nth(1).unwrap().parse().unwrap();
    let header = |name: &str| {
        head.iter()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")).map(str::to_string))
    };
    let mut body = Vec::new();
    if let Some(length) = header("content-length") {
        body.resize(length.parse().unwrap(), 0);
        reader.read_exact(&mut body).unwrap();
    } else if header("transfer-encoding").as_deref() == Some("chunked") {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    (status, body)
}

/// A keep-alive connection that sends `GET path` and reads the response.
struct KeepAlive {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl KeepAlive {
    fn connect(address: &str) -> KeepAlive {
        let stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        KeepAlive {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
        }
    }

    fn get(&mut self, path: &str) -> (u16, Vec<u8>) {
        write!(self.writer, "GET {path} HTTP/1.1\r\nhost: test\r\n\r\n").unwrap();
        read_one(&mut self.reader)
    }
}

/// Waits until the server closes `stream` (EOF or a reset), reading
/// whatever comes first; returns how long that took and how many bytes
/// came. Fails if the connection is still open after a minute.
fn closed_by_server(stream: &mut TcpStream) -> (Duration, usize) {
    let started = std::time::Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut buffer = [0u8; 64 << 10];
    let mut received = 0;
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return (started.elapsed(), received),
            Ok(n) => received += n,
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the server kept the connection open for a minute")
            }
            Err(_) => return (started.elapsed(), received),
        }
    }
}

/// True if nothing arrives on `stream` for `wait`.
fn silent_for(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut byte = [0u8; 1];
    let silent = match stream.read(&mut byte) {
        Err(err) => matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        Ok(_) => false,
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    silent
}

/// The weft process's resident memory now, in KiB.
fn resident_kib(served: &Served) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", served.weft.child.id())).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Slowloris: hundreds of connections that send half a request head, and
/// some that send nothing. Normal requests are answered while they are
/// connected, and each is closed at `--header-timeout`.
#[test]
fn slow_request_heads_are_shed_while_normal_requests_go_on() {
    const SLOW: usize = 500;
    let served = serve(&["--header-timeout", "1s"]);
    let before = resident_kib(&served);
    let mut slow: Vec<TcpStream> = (0..SLOW)
        .map(|i| {
            let mut stream = TcpStream::connect(&served.address).unwrap();
            if i % 5 != 0 {
                stream
                    .write_all(b"GET / HTTP/1.1\r\nhost: slow\r\nx-slow: ")
                    .unwrap();
            }
            stream
        })
        .collect();
    for _ in 0..20 {
        let response = http_client::request(&served.address, "GET", "/", b"").unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"Hello from weft serve!\n");
    }
    let held = resident_kib(&served);
    let mut longest = Duration::ZERO;
    for stream in &mut slow {
        let (waited, received) = closed_by_server(stream);
        assert_eq!(received, 0, "a slow connection got a response");
        longest = longest.max(waited);
    }
    let response = http_client::request(&served.address, "GET", "/", b"").unwrap();
    assert_eq!(response.status, 200);
    eprintln!(
        "{SLOW} slow connections (half a head, or nothing) were all closed by the server, the last {:.1}s after the test began waiting; resident memory {} MiB before, {} MiB while they were held, {} MiB after",
        longest.as_secs_f64(),
        before / 1024,
        held / 1024,
        resident_kib(&served) / 1024
    );
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

/// At `--max-connections`, a new connection waits in the listen backlog:
/// it is not served at the cost of the connections already open, which go
/// on being served, and it is served once one of them closes.
#[test]
fn max_connections_holds_new_connections_in_the_backlog() {
    let served = serve(&["--max-connections", "3", "--header-timeout", "2s"]);
    let mut busy = KeepAlive::connect(&served.address);
    assert_eq!(busy.get("/").0, 200);
    let silent: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(&served.address).unwrap())
        .collect();
    // The fourth: connected by the kernel, not accepted by weft.
    let mut waiting = TcpStream::connect(&served.address).unwrap();
    http_client::send_head(&mut waiting, &served.address, "GET", "/", 0).unwrap();
    assert!(
        silent_for(&mut waiting, Duration::from_millis(700)),
        "a connection past --max-connections was served"
    );
    // The connections already open are still served.
    for _ in 0..5 {
        assert_eq!(busy.get("/").0, 200);
    }
    // The silent two are closed at the header timeout; then the fourth is
    // accepted and answered.
    let response = http_client::read_response(waiting).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"Hello from weft serve!\n");
    drop(silent);
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

/// A keep-alive connection is closed after `--idle-timeout` without a
/// request, and not while requests keep coming.
#[test]
fn idle_keep_alive_connections_are_closed() {
    let served = serve(&["--idle-timeout", "1s"]);
    let mut client = KeepAlive::connect(&served.address);
    // Eight requests 200 ms apart: longer in all than the idle timeout, but
    // never idle for that long (a wide margin, for a loaded machine).
    for _ in 0..8 {
        assert_eq!(client.get("/").0, 200);
        std::thread::sleep(Duration::from_millis(200));
    }
    let (idle, received) = closed_by_server(client.reader.get_mut());
    assert_eq!(received, 0);
    eprintln!(
        "an idle keep-alive connection was closed {:.2}s after its last request (--idle-timeout 1s)",
        idle.as_secs_f64() + 0.2
    );
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

/// A request head over `--max-header-size` is answered 431, and the server
/// goes on.
#[test]
fn a_request_head_over_max_header_size_gets_431() {
    let served = serve(&["--max-header-size", "8KiB"]);
    let mut stream = TcpStream::connect(&served.address).unwrap();
    let big = "y".repeat(16 << 10);
    let head = format!("GET / HTTP/1.1\r\nhost: test\r\nx-big: {big}\r\n\r\n");
    // The server may close before it has read all of it.
    let _ = stream.write_all(head.as_bytes());
    let response = http_client::read_response(stream).unwrap();
    assert_eq!(response.status, 431);
    // Just under it is served.
    let mut client = KeepAlive::connect(&served.address);
    write!(
        client.writer,
        "GET / HTTP/1.1\r\nhost: test\r\nx-fits: {}\r\n\r\n",
        "y".repeat(6 << 10)
    )
    .unwrap();
    assert_eq!(read_one(&mut client.reader).0, 200);
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");

    let refused = Weft::new("weft")
        .args(["serve", "--max-header-size", "1KiB"])
        .arg(package("http-hello"))
        .output();
    assert_eq!(refused.code, Some(64), "{refused:?}");
    assert!(refused.stderr.contains("--max-header-size"), "{refused:?}");
}

/// Sends a chunked body of `chunks` chunks of 1 KiB.
fn send_chunked(stream: &mut TcpStream, path: &str, chunks: usize) {
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    for _ in 0..chunks {
        let _ = stream.write_all(b"400\r\n");
        let _ = stream.write_all(&[b'z'; 1024]);
        let _ = stream.write_all(b"\r\n");
    }
    let _ = stream.write_all(b"0\r\n\r\n");
}

/// `--max-request-body`, for WASI 0.2 and 0.3 apps: a `Content-Length`
/// over it is answered 413 before the app runs; a chunked body that crosses
/// it before the app answers gets 413; one that crosses it after the
/// response head went out has its connection closed; one within it is
/// read whole.
#[test]
fn request_bodies_over_max_request_body_are_refused() {
    for app in ["http-hello", "p3-http"] {
        let served = serve_app(app, &["--max-request-body", "2KiB"]);
        let address = served.address.clone();

        // Declared too big: the app never sees it (it would trap).
        let refused = http_client::request(&address, "POST", "/trap", &[b'a'; 4096]).unwrap();
        assert_eq!(refused.status, 413, "{app}");

        // Within the cap.
        let fits = http_client::request(&address, "POST", "/length", &[b'a'; 2048]).unwrap();
        assert_eq!(
            (fits.status, fits.body),
            (200, b"2048 bytes\n".to_vec()),
            "{app}"
        );

        // Streamed over the cap while the app reads it whole.
        let mut stream = TcpStream::connect(&address).unwrap();
        send_chunked(&mut stream, "/length", 4);
        let response = http_client::read_response(stream).unwrap();
        assert_eq!(response.status, 413, "{app}: {response:?}");

        // Over the cap after the echo's response head went out: the
        // connection is closed, and the body is not ended properly.
        let mut stream = TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "POST /echo HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n400\r\n"
        )
        .unwrap();
        stream.write_all(&[b'e'; 1024]).unwrap();
        stream.write_all(b"\r\n").unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "{app}: {status}");
        for _ in 0..3 {
            let _ = stream.write_all(b"400\r\n");
            let _ = stream.write_all(&[b'e'; 1024]);
            let _ = stream.write_all(b"\r\n");
        }
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
        assert!(
            !rest.ends_with(b"0\r\n\r\n"),
            "{app}: the echo ended as if the body had been whole"
        );

        // The server goes on.
        let response = http_client::request(&address, "GET", "/", b"").unwrap();
        assert_eq!(response.status, 200, "{app}");
        let (code, stderr) = served.stop();
        assert_eq!(code, Some(0), "{app}: {stderr}");
        assert!(!stderr.contains("/trap"), "{app}: the app ran: {stderr}");
        assert!(
            !stderr.contains("/length"),
            "{app}: a refused body was logged as the app's failure: {stderr}"
        );
    }
}

/// A client that stops reading a large response is cut off at
/// `--send-timeout`, and the request slot and the 0.3 instance it held are
/// free again: with room for one request and one instance, the next
/// request is answered.
#[test]
fn a_client_that_stops_reading_is_cut_off() {
    let served = serve_app(
        "p3-http",
        &[
            "--send-timeout",
            "500ms",
            "--max-concurrent",
            "1",
            "--max-instances",
            "1",
            "--threads",
            "1",
        ],
    );
    let mut stuck = TcpStream::connect(&served.address).unwrap();
    // 256 MiB: far more than the socket buffers hold.
    http_client::send_head(&mut stuck, &served.address, "GET", "/big/262144", 0).unwrap();
    let mut first = [0u8; 1024];
    stuck.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"HTTP/1.1 200"));
    // Not reading any more: the next request gets the only slot once the
    // stuck one is cut off.
    let response = http_client::request(&served.address, "GET", "/", b"").unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"Hello from a WASI 0.3 service!\n");
    let mut received = first.len();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        match stuck.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n,
        }
    }
    assert!(received < 256 << 20, "the whole body arrived");
    eprintln!(
        "a client that stopped reading got {} KiB of 256 MiB before it was cut off",
        received >> 10
    );
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

/// A 0.3 response whose body is still going out when its instance traps
/// (another request it held trapped) ends cut short: chunked, with no last
/// chunk, and the connection closed, so that the client can tell it from a
/// whole body.
#[test]
fn a_0_3_response_cut_off_by_its_instance_trapping_ends_short() {
    let served = serve_app("p3-http", &["--max-instances", "1", "--threads", "1"]);
    let mut streaming = TcpStream::connect(&served.address).unwrap();
    // 256 MiB: the socket buffers fill, and the body waits for the reader.
    http_client::send_head(&mut streaming, &served.address, "GET", "/big/262144", 0).unwrap();
    let mut first = [0u8; 4096];
    streaming.read_exact(&mut first).unwrap();
    let head = String::from_utf8_lossy(&first).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    // The only instance, which holds the streaming request, traps.
    let trapped = http_client::request(&served.address, "GET", "/trap", b"").unwrap();
    assert_eq!(trapped.status, 500);
    streaming
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut rest = Vec::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        match streaming.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                rest.extend_from_slice(&buffer[..n]);
                // Only the tail matters; keep memory bounded.
                if rest.len() > 8 << 20 {
                    rest.drain(..rest.len() - 16);
                }
            }
        }
    }
    assert!(
        !rest.ends_with(b"0\r\n\r\n"),
        "the cut-off body ended with the last chunk, as if it were whole"
    );
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("ended: app org.weft.guests.p3http trapped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cut short if their response had begun"),
        "{stderr}"
    );
}

/// A client that pauses a request body the app waits for is cut off at
/// `--body-timeout`, and the server goes on.
#[test]
fn a_paused_request_body_is_cut_off() {
    let served = serve(&["--body-timeout", "500ms"]);
    let mut paused = TcpStream::connect(&served.address).unwrap();
    http_client::send_head(&mut paused, &served.address, "POST", "/length", 1000).unwrap();
    paused.write_all(&[b'p'; 10]).unwrap();
    // Cut off without a response: not answered by the app, whose own
    // timeout (30s) is far off.
    let (waited, received) = closed_by_server(&mut paused);
    assert_eq!(received, 0, "the paused request got a response");
    eprintln!(
        "a paused request body was cut off after {:.2}s (--body-timeout 500ms)",
        waited.as_secs_f64()
    );
    let response = http_client::request(&served.address, "GET", "/", b"").unwrap();
    assert_eq!(response.status, 200);
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

/// WASI 0.3: a request whose body never ends is ended by the request's
/// timeout; its instance goes, and a new one takes the next request.
#[test]
fn a_body_that_never_ends_is_ended_by_the_request_timeout() {
    let served = serve_app("p3-http", &["--timeout", "500ms", "--threads", "1"]);
    assert_eq!(
        http_client::request(&served.address, "GET", "/count", b"")
            .unwrap()
            .body,
        b"1\n"
    );
    let mut endless = TcpStream::connect(&served.address).unwrap();
    http_client::send_head(&mut endless, &served.address, "POST", "/length", 1000).unwrap();
    endless.write_all(&[b'p'; 10]).unwrap();
    let response = http_client::read_response(endless).unwrap();
    assert_eq!(response.status, 500);
    let count = http_client::request(&served.address, "GET", "/count", b"").unwrap();
    assert_eq!(count.body, b"1\n", "a new instance took the next request");
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("timeout of 500ms reached"), "{stderr}");
}

/// WASI 0.3: a handler that never yields holds its instance until the
/// request's timeout ends that instance: the requests it held get 500. A
/// request in another instance, on the same serving thread, is answered
/// meanwhile, before the spinning one ends.
#[test]
fn a_handler_that_never_yields_ends_its_instance_not_the_others() {
    let spin_then = |address: String| {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let spinning = std::thread::spawn(move || {
            let response = http_client::request(&address, "GET", "/spin", b"").unwrap();
            flag.store(true, Ordering::SeqCst);
            response.status
        });
        // Let it reach the instance and start spinning.
        std::thread::sleep(Duration::from_millis(300));
        (spinning, done)
    };

    // One request per instance, two instances on one thread.
    let served = serve_app(
        "p3-http",
        &[
            "--timeout",
            "3s",
            "--threads",
            "1",
            "--max-instances",
            "2",
            "--max-instance-concurrent-reuse-count",
            "1",
        ],
    );
    let (spinning, done) = spin_then(served.address.clone());
    let other = http_client::request(&served.address, "GET", "/wait/50", b"").unwrap();
    assert_eq!(other.status, 200);
    assert!(
        !done.load(Ordering::SeqCst),
        "the other instance was answered only after the spinning one ended"
    );
    assert_eq!(spinning.join().unwrap(), 500);
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("weft: an instance of app org.weft.guests.p3http ended: app org.weft.guests.p3http was stopped: timeout of 3s reached"), "{stderr}");

    // One instance: a request it held, awaiting, when the spinning one
    // came, ends with it: its wait (1.5 s) is within the timeout (2 s), but
    // the instance never gets back to it. (A request that comes later
    // waits for an instance instead, and is answered by the next one.)
    let served = serve_app(
        "p3-http",
        &["--timeout", "2s", "--threads", "1", "--max-instances", "1"],
    );
    let address = served.address.clone();
    let awaiting = std::thread::spawn(move || {
        http_client::request(&address, "GET", "/wait/1500", b"")
            .unwrap()
            .status
    });
    std::thread::sleep(Duration::from_millis(300));
    let (spinning, _) = spin_then(served.address.clone());
    assert_eq!(awaiting.join().unwrap(), 500);
    assert_eq!(spinning.join().unwrap(), 500);
    let after = http_client::request(&served.address, "GET", "/count", b"").unwrap();
    assert_eq!(
        (after.status, after.body),
        (200, b"1\n".to_vec()),
        "a new instance"
    );
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("weft: an instance of app org.weft.guests.p3http ended"),
        "{stderr}"
    );
}

/// A client that closes its sending side once its request is out still
/// gets its response, from a WASI 0.2 app (a fresh instance per request,
/// so the end of the request often arrives before the response) and a 0.3
/// one. Found by the `serve_request` fuzz target: hyper used to drop such a
/// connection, response and all.
#[test]
fn a_client_that_half_closes_still_gets_its_response() {
    for (app, hello) in [
        ("http-hello", &b"Hello from weft serve!\n"[..]),
        ("p3-http", &b"Hello from a WASI 0.3 service!\n"[..]),
    ] {
        let served = serve_app(app, &[]);
        for _ in 0..30 {
            let mut stream = TcpStream::connect(&served.address).unwrap();
            stream
                .write_all(b"GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n")
                .unwrap();
            stream.shutdown(std::net::Shutdown::Write).unwrap();
            let response = http_client::read_response(stream).unwrap();
            assert_eq!((response.status, &response.body[..]), (200, hello), "{app}");
        }
        let (code, stderr) = served.stop();
        assert_eq!(code, Some(0), "{app}: {stderr}");
    }
}
