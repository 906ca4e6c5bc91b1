//! Tools the tests take from Debian packages without installing them: the
//! package is downloaded from deb.debian.org, checked against its pinned
//! sha256 and unpacked (`dpkg-deb -x`) under `target/toolchains/`. Its
//! binaries must need no more than the C library.
//!
//! - containerd 1.7 for the shim's tests ([`crate::containerd`]);
//! - `promtool`, from Debian 12's `prometheus` package, which checks what
//!   `weft serve --metrics` serves ([`promtool`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// A pinned Debian package.
pub struct Package {
    /// What it is for, in messages: "containerd 1.7.24~ds1-6+deb13u1".
    pub what: &'static str,
    pub url: &'static str,
    pub sha256: &'static str,
    /// Its directory under `target/toolchains/`.
    pub dir: &'static str,
}

/// Where `package` is unpacked.
pub fn unpacked(root: &Path, package: &Package) -> PathBuf {
    root.join("target/toolchains").join(package.dir)
}

/// Downloads, checks and unpacks `package` unless `present` (a path in it)
/// is there already; returns where it is unpacked.
pub fn ensure(root: &Path, package: &Package, present: &str) -> Result<PathBuf> {
    // One fetch at a time in this process (tests run on several threads).
    static FETCHING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _fetching = FETCHING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dest = unpacked(root, package);
    if dest.join(present).is_file() {
        return Ok(dest);
    }
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        bail!(
            "{} is fetched for x86_64 Linux only; install it yourself and put it on the PATH",
            package.what
        );
    }
    eprintln!("xtask: fetching {} from Debian", package.what);
    // Names of this process's own: tests running at once may fetch the same
    // package, and the first to finish puts it in place.
    let pid = std::process::id();
    let deb = root.join(format!("target/toolchains/{}.{pid}.deb", package.dir));
    std::fs::create_dir_all(deb.parent().expect("a parent"))
        .context("creating target/toolchains")?;
    let status = Command::new("curl")
        .args(["-fsSL", "--retry", "3", "-o"])
        .arg(&deb)
        .arg(package.url)
        .status()
        .context("running curl (install it)")?;
    if !status.success() {
        bail!("downloading {} failed ({status})", package.url);
    }
    let bytes = std::fs::read(&deb).context("reading the downloaded package")?;
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if digest != package.sha256 {
        let _ = std::fs::remove_file(&deb);
        bail!(
            "{} has sha256 {digest}, not the pinned {}; refusing to use it",
            package.url,
            package.sha256
        );
    }
    let partial = dest.with_extension(format!("{pid}.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&partial)
        .status()
        .context("running dpkg-deb to unpack the package")?;
    if !status.success() {
        bail!("dpkg-deb -x {} failed ({status})", deb.display());
    }
    let _ = std::fs::remove_file(&deb);
    if dest.join(present).is_file() {
        let _ = std::fs::remove_dir_all(&partial);
        return Ok(dest);
    }
    let _ = std::fs::remove_dir_all(&dest);
    if let Err(err) = std::fs::rename(&partial, &dest) {
        let _ = std::fs::remove_dir_all(&partial);
        if !dest.join(present).is_file() {
            return Err(err).context("moving the package into place");
        }
    }
    if !dest.join(present).is_file() {
        bail!("{} holds no {present}", package.url);
    }
    Ok(dest)
}

/// Debian 12's `prometheus` package, for its `promtool`.
pub const PROMETHEUS: Package = Package {
    what: "promtool (prometheus 2.42.0+ds-5+deb12u1)",
    url: "http://deb.debian.org/debian/pool/main/p/prometheus/prometheus_2.42.0+ds-5+deb12u1_amd64.deb",
    sha256: "81d59a24fce84f7fbe97a45a4f2914b6a5881b5cd1db2a6a0e129e515e1a5f55",
    dir: "prometheus-2.42.0",
};

/// `promtool`: on the `PATH` if it is there, else fetched.
pub fn promtool(root: &Path) -> Result<PathBuf> {
    let on_path = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if on_path {
        return Ok(PathBuf::from("promtool"));
    }
    Ok(ensure(root, &PROMETHEUS, "usr/bin/promtool")?.join("usr/bin/promtool"))
}
