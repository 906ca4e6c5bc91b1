//! A resolved package: its directory, its validated manifest, and the wasm
//! bytes, whose sha256 has been checked against the manifest before anything
//! else reads them.

use std::path::{Path, PathBuf};

use crate::digest::{hex, sha256};
use crate::manifest::Manifest;
use crate::{Error, ErrorKind, Result};

/// A package whose wasm matches its pinned hash.
#[derive(Debug, Clone)]
pub struct Package {
    pub dir: PathBuf,
    pub manifest_path: PathBuf,
    pub manifest: Manifest,
    /// The verified wasm bytes.
    pub wasm: Vec<u8>,
}

impl Package {
    /// Reads the package in `dir`: manifest first, then the wasm, then the hash.
    pub fn load(dir: &Path) -> Result<Package> {
        let manifest_path = dir.join("wapp.toml");
        let manifest = Manifest::from_file(&manifest_path)?;
        let wasm_path = dir.join(&manifest.module);
        let wasm = read_module(&wasm_path, &manifest_path)?;
        verify_hash(&wasm, &manifest, &wasm_path, &manifest_path)?;
        Ok(Package {
            dir: dir.to_path_buf(),
            manifest_path,
            manifest,
            wasm,
        })
    }

    /// A package whose manifest and wasm arrived as bytes (from an OCI
    /// image's layers, say): the manifest text is parsed as if read from
    /// `manifest_path`, the wasm is checked against its hash, and paths in
    /// the manifest (mounts) are resolved against `dir`. Errors name
    /// `manifest_path` and the manifest's `module` under `dir`.
    pub fn from_bytes(
        dir: &Path,
        manifest_path: &Path,
        manifest_text: &str,
        wasm: Vec<u8>,
    ) -> Result<Package> {
        let manifest = Manifest::parse(manifest_text, manifest_path)
            .map_err(|err| Error::package(err.to_string()))?;
        verify_hash(&wasm, &manifest, &dir.join(&manifest.module), manifest_path)?;
        Ok(Package {
            dir: dir.to_path_buf(),
            manifest_path: manifest_path.to_path_buf(),
            manifest,
            wasm,
        })
    }

    /// The wasm file's path.
    pub fn wasm_path(&self) -> PathBuf {
        self.dir.join(&self.manifest.module)
    }
}

fn read_module(path: &Path, manifest_path: &Path) -> Result<Vec<u8>> {
    if path.is_dir() {
        return Err(Error::package(format!(
            "module {} is a directory, not a wasm file; point `runtime.module` in {} at the app's .wasm file",
            path.display(),
            manifest_path.display()
        )));
    }
    std::fs::read(path).map_err(|err| {
        Error::package(format!(
            "cannot read module {}: {err}; build the app or fix `runtime.module` in {}",
            path.display(),
            manifest_path.display()
        ))
    })
}

fn verify_hash(wasm: &[u8], manifest: &Manifest, path: &Path, manifest_path: &Path) -> Result<()> {
    let digest = sha256(wasm);
    if digest != manifest.hash {
        return Err(Error::new(
            ErrorKind::Integrity,
            format!(
                "integrity check failed for {}: its sha256 is sha256:{} but {} pins {}; rebuild the package from trusted sources, or if this wasm is the one you mean to run, set `hash = \"sha256:{}\"`",
                path.display(),
                hex(&digest),
                manifest_path.display(),
                manifest.hash_string(),
                hex(&digest),
            ),
        ));
    }
    Ok(())
}
