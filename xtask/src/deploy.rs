//! What checks the files in `deploy/`: the Kubernetes manifests are
//! validated offline against the Kubernetes schemas by PyPI's
//! `kubernetes-validate` (pinned in `deploy/kubernetes/requirements.txt`),
//! installed into a virtual environment in `target/toolchains/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The Kubernetes version the manifests are validated against.
pub const KUBERNETES_VERSION: &str = "1.35.0";

/// `kubernetes-validate`, installed on first use.
pub fn kubernetes_validate(root: &Path) -> Result<PathBuf> {
    let requirements = root.join("deploy/kubernetes/requirements.txt");
    let pinned = std::fs::read_to_string(&requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let venv = root.join("target/toolchains/kubernetes-validate");
    let program = venv.join("bin/kubernetes-validate");
    let stamp = venv.join("weft-requirements.txt");
    if program.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == pinned) {
        return Ok(program);
    }
    eprintln!(
        "xtask: installing kubernetes-validate into {} (pip, from {})",
        venv.display(),
        requirements.display()
    );
    if venv.exists() {
        std::fs::remove_dir_all(&venv)?;
    }
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .context("running python3 -m venv (Python 3 provides pip for kubernetes-validate)")?;
    if !status.success() {
        bail!("python3 -m venv {} failed ({status})", venv.display());
    }
    let status = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .status()
        .context("running pip")?;
    if !status.success() {
        bail!(
            "pip install -r {} failed ({status})",
            requirements.display()
        );
    }
    std::fs::write(&stamp, &pinned)?;
    Ok(program)
}

/// Every manifest in `deploy/kubernetes/`.
pub fn kubernetes_manifests(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("deploy/kubernetes"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files)
}
