//! The conformance suite: builds every guest in `guests/`, then runs each case
//! in its `guest.toml` through the real `weft` binary and checks stdout,
//! stderr, the exit code and the files left behind.
//!
//! Cases are data: a new guest folder with a `guest.toml` adds tests without
//! any change here. Each case runs on its own copy of the package, in a store
//! of its own, with the host environment cleared, and is killed if it takes
//! longer than [`CASE_TIMEOUT`].

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use xtask::testing::{RunOutput as Output, read_all, run_bounded, wait_bounded};
use xtask::{Case, RequestCase};

const CASE_TIMEOUT: Duration = Duration::from_secs(120);

fn main() {
    let args = Arguments::from_args();
    let root = xtask::workspace_root();
    // With a name filter (`cargo xtask quick conformance hello::`), only the
    // guests with a case that it selects are built and compiled.
    let only = match guests_for_filter(&root, &args) {
        Ok(only) => only,
        Err(err) => {
            eprintln!("conformance: cannot read the guests: {err:#}");
            std::process::exit(1);
        }
    };
    let built = match &only {
        Some(names) if names.is_empty() => Ok((Vec::new(), Vec::new())),
        Some(names) => xtask::build_guests_or_skip(&root, names),
        None => xtask::build_guests_or_skip(&root, &[]),
    };
    let (guests, skipped) = match built {
        Ok(guests) => guests,
        Err(err) => {
            eprintln!("conformance: cannot build the guests: {err:#}");
            std::process::exit(1);
        }
    };
    precompile(&guests);
    // Two loopback servers for the outbound HTTP cases: `{{port}}` is the
    // one manifests allow, `{{other_port}}` answers too but is not allowed.
    // `/redirect` on either answers 302 to `{{other_port}}`.
    let allowed = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    let other = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    let other_port = other.local_addr().expect("a bound address").port();
    let ports = Ports {
        port: test_server(allowed, other_port),
        other_port: test_server(other, other_port),
        silent_port: silent_server(),
    };
    let mut trials = Vec::new();
    // A guest whose toolchain is missing (WEFT_GUESTS_SKIP_MISSING=1) shows
    // each of its cases as ignored, not as a shorter list.
    for guest in skipped {
        for case in guest.cases {
            let name = format!("{}::{}", guest.name, case.name);
            let reason = format!("not built: {}", guest.reason);
            trials.push(Trial::test(name, move || Err(reason.into())).with_ignored_flag(true));
        }
    }
    for guest in guests {
        for case in guest.cases {
            let package = guest.package.clone();
            let name = format!("{}::{}", guest.name, case.name);
            let app_id = package
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let case = ports.substitute_case(case, &app_id);
            trials.push(Trial::test(name, move || run_case(&package, &case, &ports)));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

/// The guests that libtest's name filter selects a case of, or `None` (all
/// of them) without a filter. Names are `guest::case`, matched as libtest
/// matches them: a substring, or the whole name with `--exact`.
fn guests_for_filter(root: &Path, args: &Arguments) -> anyhow::Result<Option<Vec<String>>> {
    let Some(filter) = &args.filter else {
        return Ok(None);
    };
    let mut names = Vec::new();
    for (guest, _, spec) in xtask::discover(root)? {
        let selected = spec.cases.iter().any(|case| {
            let name = format!("{guest}::{}", case.name);
            if args.exact {
                &name == filter
            } else {
                name.contains(filter.as_str())
            }
        });
        if selected {
            names.push(guest);
        }
    }
    Ok(Some(names))
}

/// Compiles every guest into the shared cache, one at a time, before the
/// cases run: otherwise the first cases of a big (Python, JavaScript) guest
/// would all compile it at once, in parallel. A guest that does not compile
/// is left to its cases to report.
fn precompile(guests: &[xtask::BuiltGuest]) {
    let started = Instant::now();
    let cache = xtask::cache_dir(&xtask::workspace_root());
    for guest in guests {
        let _ = Command::new(xtask::shipped_binary("weft"))
            .arg("compile")
            .arg("--cache-dir")
            .arg(&cache)
            .arg(&guest.package)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    eprintln!(
        "conformance: {} guests compiled into {} in {:.1} s",
        guests.len(),
        cache.display(),
        started.elapsed().as_secs_f64()
    );
}

#[derive(Clone, Copy)]
struct Ports {
    port: u16,
    other_port: u16,
    /// Accepts connections and never answers.
    silent_port: u16,
}

impl Ports {
    fn substitute(&self, text: &str) -> String {
        text.replace("{{port}}", &self.port.to_string())
            .replace("{{other_port}}", &self.other_port.to_string())
            .replace("{{silent_port}}", &self.silent_port.to_string())
    }

    /// Fills the ports and `{{app_id}}` (the guest's own id, for cases that
    /// several guests share) into a case's arguments and expectations.
    fn substitute_case(&self, mut case: Case, app_id: &str) -> Case {
        let fill = |texts: Vec<String>| -> Vec<String> {
            texts
                .iter()
                .map(|t| self.substitute(t).replace("{{app_id}}", app_id))
                .collect()
        };
        case.args = fill(case.args);
        case.flags = fill(case.flags);
        case.stdout = case.stdout.map(|s| fill(vec![s]).remove(0));
        case.stdout_contains = fill(case.stdout_contains);
        case.stderr_contains = fill(case.stderr_contains);
        case
    }
}

/// A loopback HTTP server that answers every request with a greeting, but
/// `/redirect`, which it redirects to `/greeting` on `redirect_port`.
fn test_server(listener: TcpListener, redirect_port: u16) -> u16 {
    let port = listener.local_addr().expect("a bound address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                let mut request_line = None;
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line == "\r\n" {
                        break;
                    }
                    request_line.get_or_insert_with(|| line.clone());
                    line.clear();
                }
                if request_line.is_some_and(|l| l.starts_with("GET /redirect ")) {
                    let _ = (&stream).write_all(
                        format!(
                            "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{redirect_port}/greeting\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    return;
                }
                let body = "hello from the test server";
                let _ = (&stream).write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    port
}

/// A loopback server that accepts connections and never answers.
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    let port = listener.local_addr().expect("a bound address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

fn run_case(package: &Path, case: &Case, ports: &Ports) -> Result<(), Failed> {
    let scratch = tempfile::tempdir()?;
    let store = scratch.path().join("store");
    let dir_name = package.file_name().ok_or("package has no name")?;
    let copy = store.join(dir_name);
    stage(package, &copy).map_err(|err| format!("staging {}: {err:#}", package.display()))?;
    if let Some(manifest) = &case.manifest {
        std::fs::copy(copy.join(manifest), copy.join("wapp.toml"))?;
    }
    for entry in std::fs::read_dir(&copy)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path)?;
            std::fs::write(&path, ports.substitute(&text))?;
        }
    }
    // What a case sets up around the package: files outside it, empty
    // directories and symlinks in it.
    let outside = scratch.path().join("outside");
    if !case.outside.is_empty() {
        std::fs::create_dir_all(&outside)?;
        for file in &case.outside {
            let contents = file
                .contents
                .as_deref()
                .ok_or("an `outside` file needs contents")?;
            std::fs::write(outside.join(&file.path), contents)?;
        }
    }
    for dir in &case.make_dirs {
        std::fs::create_dir_all(copy.join(dir))?;
    }
    for link in &case.symlinks {
        let target = link
            .target
            .replace("{{outside}}", &outside.to_string_lossy());
        std::os::unix::fs::symlink(&target, copy.join(&link.path))
            .map_err(|err| format!("creating the symlink {} -> {target}: {err}", link.path))?;
    }
    if case.tamper {
        let wasm = copy.join("app.wasm");
        let mut bytes = std::fs::read(&wasm)?;
        let last = bytes
            .last_mut()
            .ok_or("cannot tamper with an empty module")?;
        *last ^= 0x01;
        // The staged module may be a hard link to the built one: replace
        // the link, never write through it.
        std::fs::remove_file(&wasm)?;
        std::fs::write(&wasm, bytes)?;
    }

    let mut command = match &case.weft_runtime {
        Some(args) => {
            let mut command = Command::new(xtask::shipped_binary("weft-runtime"));
            command.args(args);
            command
        }
        None => {
            let mut command = Command::new(xtask::shipped_binary("weft"));
            command.arg(&case.subcommand).args(&case.flags);
            if case.subcommand == "serve" {
                command.args(["--listen", "127.0.0.1:0"]);
            }
            match &case.app {
                Some(app) => command.arg(app),
                None => command.arg(&copy),
            };
            command.args(&case.args);
            command
        }
    };
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home)?;
    command
        .env_clear()
        .env("HOME", &home)
        .env("WEFT_APP_STORE", &store)
        .env("WEFT_CACHE_DIR", xtask::cache_dir(&xtask::workspace_root()))
        .envs(&case.env)
        .current_dir(scratch.path());

    let notify = match &case.notify {
        Some(_) => {
            let path = scratch.path().join("notify.sock");
            let socket = std::os::unix::net::UnixDatagram::bind(&path)?;
            command.env("NOTIFY_SOCKET", &path);
            Some(socket)
        }
        None => None,
    };

    let output = if case.subcommand == "serve" {
        // A case that expects weft to serve must see it listen, even when
        // it makes no request; one that expects a refusal sees it exit.
        let must_listen = !case.requests.is_empty() || case.exit == 0;
        serve_and_request(command, &case.requests, must_listen)?
    } else {
        match (&case.stdin, case.stdin_open) {
            (Some(_), true) => return Err("a case gives `stdin` or `stdin_open`, not both".into()),
            (Some(text), false) => {
                let path = scratch.path().join("stdin.txt");
                std::fs::write(&path, text)?;
                command.stdin(std::fs::File::open(&path)?);
            }
            // The pipe's writing end stays with the runner, unwritten,
            // until weft has exited.
            (None, true) => {
                command.stdin(Stdio::piped());
            }
            (None, false) => {
                command.stdin(Stdio::null());
            }
        }
        run_bounded(command, CASE_TIMEOUT)?
    };
    if let (Some(expected), Some(socket)) = (&case.notify, notify) {
        socket.set_nonblocking(true)?;
        let mut buf = [0u8; 256];
        let received = match socket.recv(&mut buf) {
            Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => String::new(),
            Err(err) => return Err(err.into()),
        };
        if &received != expected {
            return Err(format!(
                "$NOTIFY_SOCKET received {received:?}, expected {expected:?}\n--- stderr ---\n{}",
                output.stderr
            )
            .into());
        }
    }
    check(case, &output, &copy, &outside)
}

/// Stages a built package for one case: `.wasm` files are hard-linked
/// (a Python or JavaScript guest is 14–18 MB, and every case gets its own
/// store), everything else is copied, since cases rewrite manifests and
/// write into mounts.
fn stage(from: &Path, to: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    if from.is_dir() {
        std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            stage(&entry.path(), &to.join(entry.file_name()))?;
        }
        return Ok(());
    }
    let linked =
        from.extension().is_some_and(|e| e == "wasm") && std::fs::hard_link(from, to).is_ok();
    if !linked {
        std::fs::copy(from, to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// Checks files against their expected contents or absence.
fn check_files(dir: &Path, files: &[xtask::FileExpectation], problems: &mut Vec<String>) {
    for file in files {
        let path: PathBuf = dir.join(&file.path);
        match (&file.contents, std::fs::read_to_string(&path)) {
            (Some(expected), Ok(actual)) if &actual != expected => problems.push(format!(
                "{} holds {actual:?}, expected {expected:?}",
                file.path
            )),
            (Some(_), Err(err)) => problems.push(format!("{} cannot be read: {err}", file.path)),
            (None, _) if path.symlink_metadata().is_ok() => {
                problems.push(format!("{} exists but must not", file.path))
            }
            _ => {}
        }
    }
}

/// Starts `weft serve`, waits for its `listening on` line, makes the
/// requests, sends SIGTERM and collects the output.
fn serve_and_request(
    mut command: Command,
    requests: &[RequestCase],
    must_listen: bool,
) -> Result<Output, Failed> {
    let line = xtask::testing::command_line(&command);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let out = read_all(child.stdout.take().ok_or("no stdout")?);
    let stderr = child.stderr.take().ok_or("no stderr")?;
    // Read stderr line by line: the address comes first, the rest is kept.
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let mut address_tx = Some(address_tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1)
                && let Some(tx) = address_tx.take()
            {
                let _ = tx.send(rest.trim().to_string());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let mut problems = Vec::new();
    match address_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(address) => {
            // Requests marked `at_once` next to each other go together, each
            // on its own thread and connection; the rest one after another.
            let mut i = 0;
            while i < requests.len() {
                let together = if requests[i].at_once {
                    requests[i..].iter().take_while(|r| r.at_once).count()
                } else {
                    1
                };
                let batch = &requests[i..i + together];
                if batch[0].pause_ms > 0 {
                    std::thread::sleep(Duration::from_millis(batch[0].pause_ms));
                }
                let outcomes: Vec<Result<(), String>> = std::thread::scope(|scope| {
                    let handles: Vec<_> = batch
                        .iter()
                        .map(|request| scope.spawn(|| check_request(&address, request)))
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join()
                                .unwrap_or_else(|_| Err("the request thread panicked".into()))
                        })
                        .collect()
                });
                for (j, outcome) in outcomes.into_iter().enumerate() {
                    if let Err(problem) = outcome {
                        let request = &batch[j];
                        problems.push(format!(
                            "request {} ({} {}): {problem}",
                            i + j + 1,
                            request.method,
                            request.path
                        ));
                    }
                }
                i += together;
            }
        }
        // weft exited without listening: the exit code says whether it should have.
        Err(RecvTimeoutError::Disconnected) if !must_listen => {}
        Err(_) => problems.push("weft serve never printed `listening on http://…`".to_string()),
    }
    // SAFETY: plain FFI call with a pid we own.
    unsafe {
        libc_kill(child.id() as i32, 15);
    }
    let status = wait_bounded(&mut child, CASE_TIMEOUT)
        .map_err(|err| format!("weft serve after SIGTERM: {err}"))?;
    let stdout = out.join().map_err(|_| "stdout reader panicked")?;
    let stderr = err.join().map_err(|_| "stderr reader panicked")?;
    let output = Output {
        line,
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr,
    };
    if !problems.is_empty() {
        return Err(format!("{}\n--- stderr ---\n{}", problems.join("\n"), output.stderr).into());
    }
    Ok(output)
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

/// One request to the served app; checks the response.
fn check_request(address: &str, request: &RequestCase) -> Result<(), String> {
    let response = xtask::http_client::request(
        address,
        &request.method,
        &request.path,
        request.body.as_bytes(),
    )?;
    let mut problems = Vec::new();
    if response.status != request.status {
        problems.push(format!(
            "status {}, expected {}",
            response.status, request.status
        ));
    }
    for header in &request.headers {
        if !response.head.contains(header.as_str()) {
            problems.push(format!("no header {header:?} in:\n{}", response.head));
        }
    }
    if let Some(expected) = &request.response {
        let body = String::from_utf8_lossy(&response.body);
        if &body != expected {
            problems.push(format!("body {body:?}, expected {expected:?}"));
        }
    }
    if let Some(expected) = request.response_len
        && response.body.len() != expected
    {
        problems.push(format!(
            "a body of {} bytes, expected {expected}",
            response.body.len()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn check(case: &Case, output: &Output, package: &Path, outside: &Path) -> Result<(), Failed> {
    let mut problems = Vec::new();
    if output.code != Some(case.exit) {
        problems.push(format!(
            "exit code {:?}, expected {}",
            output.code, case.exit
        ));
    }
    // weft's own panics name its sources; a guest's panic names the guest's.
    if output.stderr.contains("panicked at host/") || output.stderr.contains("panicked at /") {
        problems.push("weft panicked".to_string());
    }
    if let Some(stdout) = &case.stdout
        && &output.stdout != stdout
    {
        problems.push(format!("stdout differs; expected:\n{stdout}"));
    }
    for needle in &case.stdout_contains {
        if !output.stdout.contains(needle.as_str()) {
            problems.push(format!("stdout lacks {needle:?}"));
        }
    }
    for needle in &case.stdout_lacks {
        if output.stdout.contains(needle.as_str()) {
            problems.push(format!("stdout contains {needle:?}"));
        }
    }
    for needle in &case.stderr_contains {
        if !output.stderr.contains(needle.as_str()) {
            problems.push(format!("stderr lacks {needle:?}"));
        }
    }
    for needle in &case.stderr_lacks {
        if output.stderr.contains(needle.as_str()) {
            problems.push(format!("stderr contains {needle:?}"));
        }
    }
    if let Some(lines) = case.stderr_lines {
        let actual = output.stderr.lines().count();
        if actual != lines {
            problems.push(format!("stderr has {actual} lines, expected {lines}"));
        }
    }
    check_files(package, &case.files, &mut problems);
    check_files(outside, &case.outside, &mut problems);
    if !case.outside.is_empty() {
        let expected: Vec<_> = case.outside.iter().map(|f| f.path.as_str()).collect();
        for entry in std::fs::read_dir(outside).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !expected.contains(&name.as_str()) {
                problems.push(format!("the run left {name} outside the package"));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!("{}\n{output:?}", problems.join("\n")).into())
}
