//! `weft serve --metrics`: after known traffic, the scraped figures are the
//! traffic's (requests by method and status, latency count, bytes each way
//! to the byte, instances created, reused and alive, traps, limit hits),
//! and `promtool check metrics` (Debian's prometheus package; `cargo xtask
//! test` fetches it) accepts the text. A 0.2 app (an instance per request)
//! and a 0.3 app (instances reused), and the bad paths: an address that is
//! taken, and requests to the metrics listener other than `GET /metrics`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use xtask::testing::{Running, Weft};

fn package(name: &str) -> std::path::PathBuf {
    xtask::test_package(&["http-hello", "p3-http"], name)
}

struct Served {
    weft: Running,
    address: String,
    metrics: String,
    stderr: std::thread::JoinHandle<String>,
}

/// `weft serve --listen 127.0.0.1:0 --metrics 127.0.0.1:0 FLAGS APP`, once
/// it has printed both addresses.
fn serve(app: &str, flags: &[&str]) -> Served {
    let mut weft = Weft::new("weft")
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0"])
        .args(flags)
        .arg(package(app))
        .spawn();
    let stderr = weft.child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            for (key, marker) in [
                ("serve", "listening on http://"),
                ("metrics", "metrics on http://"),
            ] {
                if let Some(rest) = line.split(marker).nth(1) {
                    let address = rest.trim().trim_end_matches("/metrics").to_string();
                    let _ = tx.send((key, address));
                }
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let mut found = BTreeMap::new();
    while found.len() < 2 {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok((key, address)) => {
                found.insert(key, address);
            }
            Err(_) => {
                drop(weft);
                panic!(
                    "weft serve never printed both addresses; stderr:\n{}",
                    reader.join().unwrap_or_default()
                );
            }
        }
    }
    Served {
        weft,
        address: found["serve"].clone(),
        metrics: found["metrics"].clone(),
        stderr: reader,
    }
}

impl Served {
    fn stop(mut self) -> (Option<i32>, String) {
        // SAFETY: a plain FFI call with a pid this test owns.
        unsafe {
            kill(self.weft.child.id() as i32, 15);
        }
        let status = self.weft.wait("weft serve did not stop after SIGTERM");
        (
            status.code(),
            self.stderr.join().expect("the stderr reader"),
        )
    }
}

unsafe extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
}

/// What the test has sent and received on the served connections, to the
/// byte.
#[derive(Default)]
struct Traffic {
    sent: u64,
    received: u64,
}

impl Traffic {
    /// Sends `raw` as it is on a connection of its own and reads until the
    /// server closes it; returns the status.
    fn exchange(&mut self, address: &str, raw: &[u8]) -> u16 {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        stream.write_all(raw).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        self.sent += raw.len() as u64;
        self.received += response.len() as u64;
        let head = String::from_utf8_lossy(&response);
        head.split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {head:?}"))
    }

    fn request(&mut self, address: &str, method: &str, path: &str, body: &[u8]) -> u16 {
        let mut raw = format!(
            "{method} {path} HTTP/1.1\r\nhost: {address}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        raw.extend_from_slice(body);
        self.exchange(address, &raw)
    }
}

/// `GET path` on the metrics listener: the status, content type and body.
fn get(address: &str, method: &str, path: &str) -> (u16, String, String) {
    let response = xtask::http_client::request(address, method, path, b"")
        .unwrap_or_else(|err| panic!("{method} {path} on the metrics listener: {err}"));
    let content_type = response
        .head
        .lines()
        .find_map(|l| l.strip_prefix("content-type:"))
        .unwrap_or_default()
        .trim()
        .to_string();
    (
        response.status,
        content_type,
        String::from_utf8(response.body).expect("UTF-8 metrics"),
    )
}

/// The samples of a scrape, by their name and labels as printed.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// Scrapes until `settled` holds for the samples (the gauges fall a moment
/// after the last response, when the connection and the instance are
/// gone), at most 20 s; returns the last scrape's text.
fn scrape_until(metrics: &str, settled: impl Fn(&BTreeMap<String, f64>) -> bool) -> String {
    let started = Instant::now();
    loop {
        let (status, content_type, text) = get(metrics, "GET", "/metrics");
        assert_eq!(status, 200, "{text}");
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        if settled(&samples(&text)) || started.elapsed() > Duration::from_secs(20) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn value(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    samples.get(name).copied().unwrap_or(0.0)
}

/// `promtool check metrics` accepts the text: exit 0, nothing said.
fn promtool_accepts(text: &str) {
    let promtool = xtask::debian::promtool(&xtask::workspace_root())
        .unwrap_or_else(|err| panic!("no promtool to check the metrics with: {err:#}"));
    let mut child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", promtool.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics refused the metrics ({}):\n{}{}\n--- the metrics ---\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_0_2_app_s_traffic_is_counted_exactly() {
    let served = serve(
        "http-hello",
        &["--timeout", "1s", "--max-request-body", "1KiB"],
    );
    let address = served.address.clone();
    let mut traffic = Traffic::default();
    for _ in 0..3 {
        assert_eq!(traffic.request(&address, "GET", "/", b""), 200);
    }
    assert_eq!(traffic.request(&address, "POST", "/echo", b"hello"), 200);
    assert_eq!(traffic.request(&address, "GET", "/trap", b""), 500);
    assert_eq!(traffic.request(&address, "GET", "/spin", b""), 500);
    // A method of the client's own making, counted as `other`.
    let brewed = traffic.request(&address, "BREW", "/", b"");
    // A declared body over --max-request-body: 413, and the app never runs.
    let head = format!(
        "POST /echo HTTP/1.1\r\nhost: {address}\r\ncontent-length: 5000\r\nconnection: close\r\n\r\n"
    );
    assert_eq!(traffic.exchange(&address, head.as_bytes()), 413);

    let text = scrape_until(&served.metrics, |s| {
        value(s, "weft_instances_alive") == 0.0 && value(s, "weft_http_connections_open") == 0.0
    });
    let s = samples(&text);
    for (name, expected) in [
        (
            "weft_http_requests_total{method=\"GET\",status=\"200\"}",
            3.0,
        ),
        (
            "weft_http_requests_total{method=\"POST\",status=\"200\"}",
            1.0,
        ),
        (
            "weft_http_requests_total{method=\"GET\",status=\"500\"}",
            2.0,
        ),
        (
            &format!("weft_http_requests_total{{method=\"other\",status=\"{brewed}\"}}"),
            1.0,
        ),
        (
            "weft_http_requests_total{method=\"POST\",status=\"413\"}",
            1.0,
        ),
        ("weft_http_request_duration_seconds_count", 8.0),
        // Every request but the 413 made an instance, and none is alive.
        ("weft_instances_created_total", 7.0),
        ("weft_instances_reused_total", 0.0),
        ("weft_instances_alive", 0.0),
        ("weft_http_connections_open", 0.0),
        ("weft_traps_total", 1.0),
        ("weft_limit_hits_total{kind=\"timeout\"}", 1.0),
        ("weft_http_received_bytes_total", traffic.sent as f64),
        ("weft_http_sent_bytes_total", traffic.received as f64),
    ] {
        assert_eq!(value(&s, name), expected, "{name}, in:\n{text}");
    }
    // The /spin request took its timeout (1 s): it is in the 2.5 s bucket,
    // not in the 0.5 s one.
    let bucket = |le: &str| {
        value(
            &s,
            &format!("weft_http_request_duration_seconds_bucket{{le=\"{le}\"}}"),
        )
    };
    assert_eq!(bucket("+Inf"), 8.0, "{text}");
    assert!(bucket("0.5") <= 7.0 && bucket("2.5") == 8.0, "{text}");
    promtool_accepts(&text);

    // The metrics listener serves nothing else.
    let (status, _, body) = get(&served.metrics, "GET", "/");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("/metrics"), "{body}");
    let (status, _, _) = get(&served.metrics, "POST", "/metrics");
    assert_eq!(status, 405);

    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_0_3_app_s_instances_are_counted_as_created_and_reused() {
    let served = serve(
        "p3-http",
        &[
            "--timeout",
            "1s",
            "--threads",
            "1",
            "--idle-instance-timeout",
            "60s",
        ],
    );
    let address = served.address.clone();
    let mut traffic = Traffic::default();
    // One instance takes these four, one after another.
    for _ in 0..4 {
        assert_eq!(traffic.request(&address, "GET", "/", b""), 200);
    }
    // It traps on the fifth, and ends.
    assert_eq!(traffic.request(&address, "GET", "/trap", b""), 500);
    // A second instance takes the next, and is ended by the next one's
    // timeout.
    assert_eq!(traffic.request(&address, "GET", "/", b""), 200);
    assert_eq!(traffic.request(&address, "GET", "/spin", b""), 500);

    let text = scrape_until(&served.metrics, |s| {
        value(s, "weft_instances_alive") == 0.0 && value(s, "weft_http_connections_open") == 0.0
    });
    let s = samples(&text);
    for (name, expected) in [
        (
            "weft_http_requests_total{method=\"GET\",status=\"200\"}",
            5.0,
        ),
        (
            "weft_http_requests_total{method=\"GET\",status=\"500\"}",
            2.0,
        ),
        ("weft_http_request_duration_seconds_count", 7.0),
        ("weft_instances_created_total", 2.0),
        ("weft_instances_reused_total", 5.0),
        ("weft_instances_alive", 0.0),
        ("weft_traps_total", 1.0),
        ("weft_limit_hits_total{kind=\"timeout\"}", 1.0),
        ("weft_http_received_bytes_total", traffic.sent as f64),
        ("weft_http_sent_bytes_total", traffic.received as f64),
    ] {
        assert_eq!(value(&s, name), expected, "{name}, in:\n{text}");
    }
    promtool_accepts(&text);
    let (code, stderr) = served.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_metrics_address_in_use_is_refused_in_one_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = Weft::new("weft")
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--metrics", &address])
        .arg(package("http-hello"))
        .output();
    assert_eq!(out.code, Some(64), "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{out:?}");
    assert!(
        lines[0].contains(&format!("cannot listen on {address} for --metrics")),
        "{out:?}"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
}
