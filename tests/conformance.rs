//! The conformance suite: builds every guest in `guests/`, then runs each case
//! in its `guest.toml` through the real `weft` binary and checks stdout,
//! stderr, the exit code and the files left behind.
//!
//! Cases are data: a new guest folder with a `guest.toml` adds tests without
//! any change here. Each case runs on its own copy of the package, in a store
//! of its own, with the host environment cleared, and is killed if it takes
//! longer than [`CASE_TIMEOUT`].

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use xtask::Case;

const CASE_TIMEOUT: Duration = Duration::from_secs(120);

fn main() {
    let args = Arguments::from_args();
    let root = xtask::workspace_root();
    let guests = match xtask::build_guests(&root, &[]) {
        Ok(guests) => guests,
        Err(err) => {
            eprintln!("conformance: cannot build the guests: {err:#}");
            std::process::exit(1);
        }
    };
    let mut trials = Vec::new();
    for guest in guests {
        for case in guest.cases {
            let package = guest.package.clone();
            let name = format!("{}::{}", guest.name, case.name);
            trials.push(Trial::test(name, move || run_case(&package, &case)));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_case(package: &Path, case: &Case) -> Result<(), Failed> {
    let scratch = tempfile::tempdir()?;
    let store = scratch.path().join("store");
    let dir_name = package.file_name().ok_or("package has no name")?;
    let copy = store.join(dir_name);
    xtask::copy_tree(package, &copy)?;
    if let Some(manifest) = &case.manifest {
        std::fs::copy(copy.join(manifest), copy.join("wapp.toml"))?;
    }
    if case.tamper {
        let wasm = copy.join("app.wasm");
        let mut bytes = std::fs::read(&wasm)?;
        let last = bytes
            .last_mut()
            .ok_or("cannot tamper with an empty module")?;
        *last ^= 0x01;
        std::fs::write(&wasm, bytes)?;
    }

    let mut command = match &case.weft_runtime {
        Some(args) => {
            let mut command = Command::new(env!("CARGO_BIN_EXE_weft-runtime"));
            command.args(args);
            command
        }
        None => {
            let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
            command.arg(&case.subcommand).args(&case.flags);
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

    let output = run_bounded(command)?;
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
    check(case, &output, &copy)
}

/// Runs a command to completion, reading its output, killing it after the timeout.
fn run_bounded(mut command: Command) -> Result<Output, Failed> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let out = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > CASE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("weft did not finish within {CASE_TIMEOUT:?}; killed").into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = out.join().map_err(|_| "stdout reader panicked")?;
    let stderr = err.join().map_err(|_| "stderr reader panicked")?;
    Ok(Output {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

fn check(case: &Case, output: &Output, package: &Path) -> Result<(), Failed> {
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
    for file in &case.files {
        let path: PathBuf = package.join(&file.path);
        match (&file.contents, std::fs::read_to_string(&path)) {
            (Some(expected), Ok(actual)) if &actual != expected => problems.push(format!(
                "{} holds {actual:?}, expected {expected:?}",
                file.path
            )),
            (Some(_), Err(err)) => problems.push(format!("{} cannot be read: {err}", file.path)),
            (None, _) if path.exists() => {
                problems.push(format!("{} exists but must not", file.path))
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        problems.join("\n"),
        output.stdout,
        output.stderr
    )
    .into())
}
