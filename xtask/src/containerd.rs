//! containerd for the shim's tests (`shim/tests/containerd.rs`).
//!
//! Debian 12's own containerd (1.6.20) cannot run images whose layers are
//! wasm: it refuses them with "mismatched image rootfs and manifest layers"
//! (fixed in containerd 1.6.25 and 1.7.7). The tests therefore use Debian
//! 13's containerd 1.7.24 package, unpacked (not installed) into
//! `target/toolchains/`: its binaries need only the C library. The package
//! is pinned by its sha256.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// The package, from Debian 13 (trixie).
pub const VERSION: &str = "1.7.24~ds1-6+deb13u1";
const URL: &str =
    "http://deb.debian.org/debian/pool/main/c/containerd/containerd_1.7.24~ds1-6+deb13u1_amd64.deb";
const SHA256: &str = "ed708deb96fe476a3bce4efa5c0538dfbcf717ab9a7c7944ba7260342c25899c";

/// Where the package's `containerd` and `ctr` are once [`ensure`] has run:
/// `$WEFT_CONTAINERD_DIR` when set, else under `target/toolchains/`.
pub fn bin_dir(root: &Path) -> PathBuf {
    match std::env::var_os("WEFT_CONTAINERD_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => unpacked(root).join("usr/bin"),
    }
}

fn unpacked(root: &Path) -> PathBuf {
    root.join("target/toolchains/containerd-1.7.24")
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
    eprintln!("xtask: fetching containerd {VERSION} (Debian 13's package) for the shim's tests");
    let dest = unpacked(root);
    let deb = root.join("target/toolchains/containerd.deb");
    std::fs::create_dir_all(deb.parent().expect("a parent"))
        .context("creating target/toolchains")?;
    let status = Command::new("curl")
        .args(["-fsSL", "--retry", "3", "-o"])
        .arg(&deb)
        .arg(URL)
        .status()
        .context("running curl (install it, or set WEFT_CONTAINERD_DIR)")?;
    if !status.success() {
        bail!(
            "downloading {URL} failed ({status}); set WEFT_CONTAINERD_DIR to a containerd 1.7.7 or newer instead"
        );
    }
    let bytes = std::fs::read(&deb).context("reading the downloaded package")?;
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if digest != SHA256 {
        let _ = std::fs::remove_file(&deb);
        bail!("{URL} has sha256 {digest}, not the pinned {SHA256}; refusing to use it");
    }
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&partial)
        .status()
        .context("running dpkg-deb to unpack containerd")?;
    if !status.success() {
        bail!("dpkg-deb -x {} failed ({status})", deb.display());
    }
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::rename(&partial, &dest).context("moving containerd into place")?;
    let _ = std::fs::remove_file(&deb);
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
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0");
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
