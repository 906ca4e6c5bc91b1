//! `weft serve` under systemd, through the real binary: socket activation
//! (the socket passed as `sd_listen_fds` passes it, with `--listen`
//! ignored), `READY=1`, watchdog pings and `STOPPING=1` on a notify socket
//! of the test's own, the refusals of sockets weft cannot serve on, and
//! `systemd-analyze verify` of the units in `deploy/systemd/`.
//!
//! `systemd-socket-activate` (Debian's systemd package) passes the socket:
//! it listens, and on the first connection execs weft in its own process
//! with `LISTEN_FDS=1` and `LISTEN_PID` set.

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use xtask::testing::{Running, Weft, command_line, run_bounded, wait_bounded};

fn package() -> PathBuf {
    xtask::test_package(&["http-hello"], "http-hello")
}

fn socket_activate() -> Command {
    let mut command = Command::new("systemd-socket-activate");
    command.stdin(Stdio::null());
    command
}

/// A notify socket in a fresh directory, as systemd's for `Type=notify`.
struct NotifySocket {
    socket: UnixDatagram,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl NotifySocket {
    fn new() -> NotifySocket {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        NotifySocket {
            socket,
            path,
            _dir: dir,
        }
    }

    fn next(&self) -> String {
        let mut buffer = [0u8; 4096];
        let len = self
            .socket
            .recv(&mut buffer)
            .expect("a message on the notify socket within 60 s");
        String::from_utf8_lossy(&buffer[..len]).into_owned()
    }
}

/// Reads a child's stderr on a thread; the text, whole, when it ends.
fn read_stderr(running: &mut Running) -> std::thread::JoinHandle<String> {
    let stderr = running.child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    })
}

fn spawn(mut command: Command) -> Running {
    let line = command_line(&command);
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start `{line}` (is systemd installed?): {err}"));
    Running { child, line }
}

fn terminate(running: &Running) {
    // SAFETY: a plain FFI call with a pid this test owns.
    unsafe { libc::kill(running.child.id() as i32, libc::SIGTERM) };
}

#[test]
fn weft_serves_on_the_socket_systemd_passes_and_tells_systemd_how_it_is() {
    let notify = NotifySocket::new();
    let port = xtask::testing::free_port().unwrap();
    let weft = xtask::shipped_binary("weft");
    let mut command = socket_activate();
    command
        .arg(format!("--listen=127.0.0.1:{port}"))
        .arg(format!("--setenv=NOTIFY_SOCKET={}", notify.path.display()))
        .arg("--setenv=WATCHDOG_USEC=200000")
        .arg("--setenv=RUST_LOG=info")
        .arg(&weft)
        .arg("serve")
        // An address weft could not bind: ignored, since systemd passes one.
        .args(["--listen", "192.0.2.1:80"])
        .arg(package());
    let mut running = spawn(command);
    let stderr = read_stderr(&mut running);

    // The first connection starts weft, which answers it on the socket.
    let address = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let response = loop {
        match xtask::http_client::request(&address, "GET", "/", b"") {
            Ok(response) => break response,
            Err(err) if started.elapsed() > Duration::from_secs(30) => {
                panic!("GET / on the activated socket failed: {err}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, b"Hello from weft serve!\n");

    assert_eq!(notify.next(), "READY=1");
    // The watchdog, every 100 ms (half of WATCHDOG_USEC).
    for _ in 0..3 {
        assert_eq!(notify.next(), "WATCHDOG=1");
    }
    terminate(&running);
    let mut stopping = false;
    for _ in 0..10 {
        match notify.next().as_str() {
            "STOPPING=1" => {
                stopping = true;
                break;
            }
            "WATCHDOG=1" => continue,
            other => panic!("unexpected notify message {other:?}"),
        }
    }
    assert!(stopping, "no STOPPING=1 after SIGTERM");
    let status = running.wait("weft serve after SIGTERM");
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("serving on the socket systemd passed (LISTEN_FDS); --listen is ignored"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("listening on http://{address}")),
        "{stderr}"
    );
}

#[test]
fn sockets_passed_to_another_process_are_not_taken() {
    // LISTEN_PID names another process: weft binds --listen as usual.
    let mut running = Weft::new("weft")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg(package())
        .env("LISTEN_PID", "1")
        .env("LISTEN_FDS", "1")
        .spawn();
    let stderr = running.child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let listening = lines
        .find_map(|line| {
            let line = line.ok()?;
            line.split("listening on http://")
                .nth(1)
                .map(str::to_string)
        })
        .expect("weft serve printed its address");
    let response =
        xtask::http_client::request(listening.trim(), "GET", "/", b"").expect("GET / answered");
    assert_eq!(response.status, 200);
}

/// Starts weft through `systemd-socket-activate` with `flags`, connects
/// with `connect` to start it, and returns its exit code and stderr.
fn activated_failure(flags: &[String], connect: impl FnOnce()) -> (Option<i32>, String) {
    let mut command = socket_activate();
    command
        .args(flags)
        .arg(xtask::shipped_binary("weft"))
        .arg("serve")
        .arg(package());
    let mut running = spawn(command);
    let stderr = read_stderr(&mut running);
    connect();
    let status = wait_bounded(&mut running.child, Duration::from_secs(60))
        .unwrap_or_else(|err| panic!("`{}`: {err}", running.line));
    (status.code(), stderr.join().unwrap())
}

fn connect_until_started(address: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(address).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "cannot connect to {address}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_sockets_are_refused_with_what_to_change_in_the_unit() {
    let (a, b) = (
        xtask::testing::free_port().unwrap(),
        xtask::testing::free_port().unwrap(),
    );
    let flags = [
        format!("--listen=127.0.0.1:{a}"),
        format!("--listen=127.0.0.1:{b}"),
    ];
    let (code, stderr) =
        activated_failure(&flags, || connect_until_started(&format!("127.0.0.1:{a}")));
    assert_eq!(code, Some(64), "{stderr}");
    assert!(
        stderr.contains("systemd passed 2 sockets (LISTEN_FDS=2), and weft serve listens on one; give its .socket unit a single ListenStream="),
        "{stderr}"
    );
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("weft: error:"))
            .count(),
        1,
        "{stderr}"
    );
}

#[test]
fn a_unix_socket_is_refused_with_what_to_change_in_the_unit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.sock");
    let flags = [format!("--listen={}", path.display())];
    let (code, stderr) = activated_failure(&flags, || {
        let started = Instant::now();
        while std::os::unix::net::UnixStream::connect(&path).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "cannot connect to {}",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    assert_eq!(code, Some(64), "{stderr}");
    assert!(
        stderr.contains("the socket systemd passed (descriptor 3) is a Unix socket, and weft serve takes a listening TCP socket; set ListenStream= in its .socket unit to a port or an address"),
        "{stderr}"
    );
}

#[test]
fn the_units_pass_systemd_analyze_verify() {
    let root = xtask::workspace_root();
    let units = root.join("deploy/systemd");
    let dir = tempfile::tempdir().unwrap();
    let weft = xtask::shipped_binary("weft");
    for name in ["weft-serve@.service", "weft-serve@.socket"] {
        let text = std::fs::read_to_string(units.join(name)).unwrap();
        assert!(
            name.ends_with(".socket") || text.contains("ExecStart=/usr/local/bin/weft serve %i"),
            "{name} no longer starts /usr/local/bin/weft serve %i"
        );
        assert!(
            !text.contains("\nMemoryDenyWriteExecute"),
            "{name}: Wasmtime maps compiled code executable"
        );
        let text = text.replace("/usr/local/bin/weft", &weft.display().to_string());
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let instance = |suffix: &str| {
        dir.path()
            .join(format!("weft-serve@org.example.hello.{suffix}"))
    };
    let mut command = Command::new("systemd-analyze");
    command
        .args(["verify", "--man=no"])
        .arg(instance("service"))
        .arg(instance("socket"));
    let out = run_bounded(command, Duration::from_secs(60)).unwrap();
    assert_eq!(out.code, Some(0), "{out:?}");
    // Warnings (an unknown directive, a bad value) do not fail verify:
    // the units must have none.
    assert_eq!(out.stderr.trim(), "", "{out:?}");
    assert!(Path::new(&weft).is_file());
}
