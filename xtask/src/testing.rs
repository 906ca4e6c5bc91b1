//! What the tests that run weft's binaries share: the command, a bounded run
//! whose output readers are joined (never a sleep before reading), a child
//! that is killed when the test lets go of it, and the command line in every
//! failure message.

use std::ffi::OsStr;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one run of weft may take before it is killed and the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// A command running one of weft's shipped binaries (see
/// [`crate::shipped_binary`]), with stdin closed.
pub struct Weft {
    command: Command,
}

/// How a bounded run ended, with the command line that ran it.
pub struct RunOutput {
    pub line: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Debug for RunOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.line, self.code, self.stdout, self.stderr
        )
    }
}

impl Weft {
    /// `weft`, `weft-runtime` or `weft-compiler`.
    pub fn new(binary: &str) -> Weft {
        let mut command = Command::new(crate::shipped_binary(binary));
        command.stdin(Stdio::null());
        Weft { command }
    }

    /// The command, to add arguments and environment.
    pub fn command(&mut self) -> &mut Command {
        &mut self.command
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Weft {
        self.command.arg(arg);
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Weft {
        self.command.args(args);
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Weft {
        self.command.env(key, value);
        self
    }

    /// The command line, for messages.
    pub fn line(&self) -> String {
        command_line(&self.command)
    }

    /// Runs to the end, reading stdout and stderr whole; kills weft and
    /// panics, naming the command line, if it outlives [`TIMEOUT`].
    pub fn output(self) -> RunOutput {
        let line = self.line();
        run_bounded(self.command, TIMEOUT).unwrap_or_else(|err| panic!("`{line}`: {err}"))
    }

    /// Starts weft with stdout and stderr piped; it is killed when the
    /// returned [`Running`] is dropped.
    pub fn spawn(mut self) -> Running {
        let line = self.line();
        let child = self
            .command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start `{line}`: {err}"));
        Running { child, line }
    }
}

/// A running weft, killed when dropped.
pub struct Running {
    pub child: Child,
    pub line: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Running {
    /// Waits (bounded) for the exit; on timeout kills and panics with the
    /// command line.
    pub fn wait(&mut self, what: &str) -> ExitStatus {
        wait_bounded(&mut self.child, TIMEOUT)
            .unwrap_or_else(|err| panic!("`{}`: {what}: {err}", self.line))
    }
}

/// The program and arguments of a command, as a shell would show them.
pub fn command_line(command: &Command) -> String {
    let program = PathBuf::from(command.get_program());
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::iter::once(name)
        .chain(command.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Waits for the child; after `timeout` kills it and says so.
pub fn wait_bounded(child: &mut Child, timeout: Duration) -> Result<ExitStatus, String> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(err) => return Err(format!("cannot wait for it: {err}")),
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("did not finish within {timeout:?}; killed"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads a pipe to its end on a thread of its own.
pub fn read_all(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Runs a command to completion with stdout and stderr read whole (the
/// readers are joined, so nothing written before the exit is missed), killing
/// it after `timeout`.
pub fn run_bounded(mut command: Command, timeout: Duration) -> Result<RunOutput, String> {
    let line = command_line(&command);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot start it: {err}"))?;
    let out = read_all(child.stdout.take().ok_or("no stdout")?);
    let err = read_all(child.stderr.take().ok_or("no stderr")?);
    let status = wait_bounded(&mut child, timeout)?;
    let stdout = out.join().map_err(|_| "the stdout reader panicked")?;
    let stderr = err.join().map_err(|_| "the stderr reader panicked")?;
    Ok(RunOutput {
        line,
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// A TCP port on 127.0.0.1 that was free a moment ago, for a server that
/// must be told its port before it starts (one that cannot be given port 0).
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
