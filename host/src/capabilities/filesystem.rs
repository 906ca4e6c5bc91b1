//! `wasi:filesystem`: the files a guest sees are its mounts and nothing
//! else, each read-only unless the manifest says otherwise.
//!
//! | WASI | interfaces                |
//! |------|---------------------------|
//! | 0.2  | `types`, `preopens`       |
//! | 0.3  | `types`, `preopens`       |
//!
//! Manifest: `[runtime.wasi] mounts` ([`mount`]).

use std::path::{Path, PathBuf};

use wasmtime::component::Linker;
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem;
use wasmtime_wasi::p3::bindings::filesystem as filesystem3;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder, WasiView};

use crate::{Error, Result};

wasi_interfaces! {
    p2 for <T: WasiView>, l;
    "wasi:filesystem/types" => {
        filesystem::types::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)
    },
    "wasi:filesystem/preopens" => {
        filesystem::preopens::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)
    },
}

wasi_interfaces! {
    p3 for <T: WasiView>, l;
    "wasi:filesystem/types" => {
        filesystem3::types::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)
    },
    "wasi:filesystem/preopens" => {
        filesystem3::preopens::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)
    },
}

/// One entry of `[runtime.wasi] mounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// As written in the manifest: relative to the package unless absolute.
    pub host: PathBuf,
    pub guest: String,
    pub read_only: bool,
}

/// Validates one `mounts` entry as the manifest writes it (read-only unless
/// `read_only = false`); `Err` says why it is not one.
///
/// The guest path is the preopen's name, a string the guest's libc matches
/// paths against: an absolute path (`/data`), `.` (what `wasmtime run --dir
/// .` gives, and what relative paths resolve against), or one plain name
/// (`data`). `data` and `/data` are two different preopens.
pub fn mount(
    host: String,
    guest: String,
    read_only: Option<bool>,
) -> std::result::Result<Mount, String> {
    if guest.contains('\0') {
        return Err(format!(
            "guest path {guest:?} contains a NUL byte; give an absolute path like \"/data\", \".\", or a plain name like \"data\""
        ));
    }
    if guest.starts_with('/') {
        if guest.split('/').any(|part| part == ".." || part == ".") {
            return Err(format!(
                "guest path \"{guest}\" contains '.' or '..'; give a plain absolute path, like \"/data\""
            ));
        }
    } else if guest != "." && (guest.is_empty() || guest == ".." || guest.contains('/')) {
        return Err(format!(
            "guest path \"{guest}\" is neither absolute, nor \".\", nor one plain name; mount at a path like \"/data\", at \".\", or at a name like \"data\" (no '/' and not \"..\")"
        ));
    }
    if host.is_empty() {
        return Err(
            "`host` is empty; name a directory, relative to the package or absolute".to_string(),
        );
    }
    Ok(Mount {
        host: PathBuf::from(host),
        guest,
        read_only: read_only.unwrap_or(true),
    })
}

/// A mount with its host directory resolved against the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMount {
    pub host: PathBuf,
    pub guest: String,
    pub read_only: bool,
}

/// Resolves the mounts against the package directory, once per app: each
/// host directory must exist.
pub fn resolve(
    mounts: &[Mount],
    package_dir: &Path,
    manifest_path: &Path,
) -> Result<Vec<ResolvedMount>> {
    let mut resolved = Vec::new();
    for mount in mounts {
        let host = if mount.host.is_absolute() {
            mount.host.clone()
        } else {
            package_dir.join(&mount.host)
        };
        if !host.is_dir() {
            return Err(Error::package(format!(
                "mount {} → {} in {} names no directory on the host; create {} or fix `runtime.wasi.mounts`",
                mount.host.display(),
                mount.guest,
                manifest_path.display(),
                host.display()
            )));
        }
        resolved.push(ResolvedMount {
            host,
            guest: mount.guest.clone(),
            read_only: mount.read_only,
        });
    }
    Ok(resolved)
}

/// Per-instance preparation: opens each mount for the guest, read-only
/// mounts with read-only permissions.
pub fn prepare(builder: &mut WasiCtxBuilder, mounts: &[ResolvedMount]) -> Result<()> {
    for mount in mounts {
        let perms = if mount.read_only {
            FsPerms::ReadOnly
        } else {
            FsPerms::ReadWrite
        };
        builder
            .preopened_dir(&mount.host, &mount.guest, perms)
            .map_err(|err| {
                Error::package(format!(
                    "cannot open mount {} for guest path {}; check that it exists and is readable",
                    mount.host.display(),
                    mount.guest
                ))
                .caused_by_wasmtime(&err)
            })?;
    }
    Ok(())
}
