//! containerd for the shim's tests (`shim/tests/containerd.rs`) and its
//! benchmark (`cargo xtask bench-shim`): the package ([`ensure`]), and a
//! private daemon that runs it ([`Daemon`]).
//!
//! Debian 12's own containerd (1.6.20) cannot run images whose layers are
//! wasm: it refuses them with "mismatched image rootfs and manifest layers"
//! (fixed in containerd 1.6.25 and 1.7.7). The tests therefore use Debian
//! 13's containerd 1.7.24 package, unpacked (not installed) into
//! `target/toolchains/`: its binaries need only the C library. The package
//! is pinned by its sha256.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The package, from Debian 13 (trixie).
pub const VERSION: &str = "1.7.24~ds1-6+deb13u1";
const PACKAGE: crate::debian::Package = crate::debian::Package {
    what: "containerd 1.7.24~ds1-6+deb13u1 (Debian 13's package) for the shim's tests",
    url: "http://deb.debian.org/debian/pool/main/c/containerd/containerd_1.7.24~ds1-6+deb13u1_amd64.deb",
    sha256: "ed708deb96fe476a3bce4efa5c0538dfbcf717ab9a7c7944ba7260342c25899c",
    dir: "containerd-1.7.24",
};

/// Where the package's `containerd` and `ctr` are once [`ensure`] has run:
/// `$WEFT_CONTAINERD_DIR` when set, else under `target/toolchains/`.
pub fn bin_dir(root: &Path) -> PathBuf {
    match std::env::var_os("WEFT_CONTAINERD_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => crate::debian::unpacked(root, &PACKAGE).join("usr/bin"),
    }
}

/// Downloads and unpacks the package if `containerd` is not there yet
/// (x86_64 Linux only; elsewhere it says why). Returns [`bin_dir`].
pub fn ensure(root: &Path) -> Result<PathBuf> {
    let bin = bin_dir(root);
    if bin.join("containerd").is_file() && bin.join("ctr").is_file() {
        return Ok(bin);
    }
    if std::env::var_os("WEFT_CONTAINERD_DIR").is_some() {
        bail!(
            "WEFT_CONTAINERD_DIR={} holds no containerd and ctr; point it at the directory of containerd 1.7.7 or newer, or unset it",
            bin.display()
        );
    }
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        bail!(
            "the containerd tests need containerd 1.7.7 or newer for x86_64 Linux; set WEFT_CONTAINERD_DIR to the directory of its binaries"
        );
    }
    crate::debian::ensure(root, &PACKAGE, "usr/bin/containerd").context(
        "set WEFT_CONTAINERD_DIR to the directory of a containerd 1.7.7 or newer instead",
    )?;
    Ok(bin)
}

/// The Debian packages the shim's build needs: `protoc` for
/// containerd-client's gRPC code, libseccomp's headers (found with
/// pkg-config) for youki's seccomp filters.
pub const SHIM_BUILD_PACKAGES: &[&str] = &["protobuf-compiler", "libseccomp-dev", "pkg-config"];

fn shim_build_deps_present() -> bool {
    let ok = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    ok("protoc", &["--version"]) && ok("pkg-config", &["--exists", "libseccomp"])
}

/// Makes sure the shim (package `containerd-shim-weft`, which the test
/// command builds with the workspace) can be built: installs
/// [`SHIM_BUILD_PACKAGES`] with apt-get when they are missing and this runs
/// as root on Debian, and otherwise says what to install.
pub fn ensure_shim_build_deps() -> Result<()> {
    if shim_build_deps_present() {
        return Ok(());
    }
    let root = is_root();
    let apt = Command::new("apt-get")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !root || !apt {
        bail!(
            "the containerd shim (package containerd-shim-weft) needs protoc and libseccomp's headers to build; install them (Debian: apt-get install {}) and run again",
            SHIM_BUILD_PACKAGES.join(" ")
        );
    }
    eprintln!(
        "xtask: installing what the containerd shim's build needs with apt-get: {}",
        SHIM_BUILD_PACKAGES.join(" ")
    );
    if !crate::apt_install(SHIM_BUILD_PACKAGES) {
        bail!(
            "apt-get install {} failed; install them by hand",
            SHIM_BUILD_PACKAGES.join(" ")
        );
    }
    if !shim_build_deps_present() {
        bail!("protoc or libseccomp is still missing after apt-get install");
    }
    Ok(())
}

/// Packs a package with `WEFT image PACKAGE -o TAR`; returns the image's
/// name, as `weft image` prints it.
pub fn pack_image(weft: &Path, package: &Path, tar: &Path) -> Result<String> {
    let out = crate::testing::run_bounded(
        {
            let mut command = Command::new(weft);
            command.arg("image").arg(package).arg("-o").arg(tar);
            command
        },
        Duration::from_secs(120),
    )
    .map_err(|err| anyhow::anyhow!("weft image {}: {err}", package.display()))?;
    if out.code != Some(0) {
        bail!("{out:?}");
    }
    out.stdout
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .map(str::to_string)
        .with_context(|| format!("no image name in {out:?}"))
}

/// Whether this process runs as root (containerd needs it).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// The runtime name that makes containerd start `containerd-shim-weft-v1`.
pub const RUNTIME: &str = "io.containerd.weft.v1";

/// A containerd of its own: root, state, socket and log under `dir` (wiped
/// first, and on drop), the CRI plugin off, and `shim_dir` (where
/// `containerd-shim-weft-v1` is) first on its `PATH`, where containerd
/// looks for the shim of [`RUNTIME`].
pub struct Daemon {
    child: Child,
    pub dir: PathBuf,
    address: PathBuf,
    bin: PathBuf,
    namespace: String,
}

impl Daemon {
    /// Starts it, and waits (up to 30 s) until `ctr version` answers. Needs
    /// root and the package [`ensure`] fetches.
    pub fn start(root: &Path, dir: &Path, shim_dir: &Path, namespace: &str) -> Result<Daemon> {
        if !is_root() {
            bail!("containerd needs root; run this as root (CI does)");
        }
        let bin = bin_dir(root);
        if !bin.join("containerd").is_file() {
            bail!(
                "no containerd in {}: `cargo xtask containerd` fetches containerd 1.7 (Debian 12's 1.6.20 cannot run wasm layers), or set WEFT_CONTAINERD_DIR",
                bin.display()
            );
        }
        if !shim_dir.join("containerd-shim-weft-v1").is_file() {
            bail!(
                "no containerd-shim-weft-v1 in {}; build it (cargo build -p containerd-shim-weft)",
                shim_dir.display()
            );
        }
        cleanup(dir);
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let address = dir.join("containerd.sock");
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "version = 2\nroot = {:?}\nstate = {:?}\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = {:?}\n",
                dir.join("root"),
                dir.join("state"),
                address
            ),
        )?;
        let path = format!(
            "{}:{}:{}",
            shim_dir.display(),
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let log = std::fs::File::create(dir.join("containerd.log"))?;
        let child = Command::new(bin.join("containerd"))
            .arg("--config")
            .arg(&config)
            .env("PATH", path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", bin.join("containerd").display()))?;
        let daemon = Daemon {
            child,
            dir: dir.to_path_buf(),
            address,
            bin,
            namespace: namespace.to_string(),
        };
        let started = Instant::now();
        loop {
            let version = daemon.ctr(&["version"]);
            if version.as_ref().is_ok_and(|v| v.code == Some(0)) {
                return Ok(daemon);
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!(
                    "containerd did not answer within 30 s ({version:?}); its log:\n{}",
                    daemon.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `ctr --address … --namespace … ARGS`, not yet started.
    pub fn ctr_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(self.bin.join("ctr"));
        command
            .arg("--address")
            .arg(&self.address)
            .args(["--namespace", &self.namespace])
            .args(args)
            .stdin(Stdio::null());
        command
    }

    /// Runs `ctr ARGS` to its end (killed after 180 s).
    pub fn ctr(&self, args: &[&str]) -> Result<crate::testing::RunOutput> {
        crate::testing::run_bounded(self.ctr_command(args), Duration::from_secs(180))
            .map_err(|err| anyhow::anyhow!("ctr {}: {err}", args.join(" ")))
    }

    /// `ctr run --rm --runtime io.containerd.weft.v1 [FLAGS] IMAGE ID [ARGS]`.
    pub fn run(
        &self,
        flags: &[&str],
        image: &str,
        id: &str,
        args: &[&str],
    ) -> Result<crate::testing::RunOutput> {
        let mut all = vec!["run", "--rm", "--runtime", RUNTIME];
        all.extend_from_slice(flags);
        all.push(image);
        all.push(id);
        all.extend_from_slice(args);
        self.ctr(&all)
    }

    /// Starts a `wasi:http` app's container on the host's network, told to
    /// listen on `127.0.0.1:PORT` (`WEFT_LISTEN`), with `env` (`NAME=value`)
    /// in its environment too, and waits (up to 120 s) until it says it
    /// listens.
    pub fn serve(&self, image: &str, id: &str, port: u16, env: &[&str]) -> Result<Serving> {
        let listen = format!("WEFT_LISTEN=127.0.0.1:{port}");
        let mut args = vec![
            "run",
            "--rm",
            "--runtime",
            RUNTIME,
            "--net-host",
            "--env",
            &listen,
        ];
        for entry in env {
            args.extend(["--env", entry]);
        }
        args.extend([image, id]);
        let mut child = self
            .ctr_command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting ctr run")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening on http://") {
                    let _ = tx.send(());
                }
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        let mut serving = Serving {
            child,
            reader: Some(reader),
            id: id.to_string(),
        };
        if rx.recv_timeout(Duration::from_secs(120)).is_err() {
            let _ = serving.child.kill();
            let _ = serving.child.wait();
            let stderr = serving.stderr();
            bail!(
                "the container {id} never listened on port {port}; its stderr:\n{stderr}\ncontainerd's log:\n{}",
                self.log()
            );
        }
        Ok(serving)
    }

    /// containerd's own log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("containerd.log")).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        cleanup(&self.dir);
    }
}

/// A serving container started by [`Daemon::serve`].
pub struct Serving {
    child: Child,
    reader: Option<JoinHandle<String>>,
    id: String,
}

impl Serving {
    /// `ctr task kill ID` (SIGTERM), then waits (up to 60 s) for the
    /// container to end: its status and its whole stderr.
    pub fn stop(mut self, daemon: &Daemon) -> Result<(ExitStatus, String)> {
        let kill = daemon.ctr(&["task", "kill", &self.id])?;
        if kill.code != Some(0) {
            bail!("{kill:?}");
        }
        let status = crate::testing::wait_bounded(&mut self.child, Duration::from_secs(60))
            .map_err(|err| anyhow::anyhow!("the container {}: {err}", self.id))?;
        Ok((status, self.stderr()))
    }

    fn stderr(&mut self) -> String {
        self.reader
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Unmounts what a past containerd left mounted under `dir`, and removes it.
fn cleanup(dir: &Path) {
    if let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") {
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|line| line.split(' ').nth(1))
            .filter(|point| Path::new(point).starts_with(dir))
            .collect();
        points.sort_by_key(|point| std::cmp::Reverse(point.len()));
        for point in points {
            let _ = Command::new("umount").arg("-l").arg(point).status();
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
