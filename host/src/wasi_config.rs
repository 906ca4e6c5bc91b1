//! Per-instance WASI state: the args, env, mounts, cwd and outbound rules of
//! one instance, built from the manifest (manifest + run arguments → the
//! store's data).
//!
//! This is the one place where what a guest may touch is decided: env vars are
//! exactly those the manifest lists (never the host's environment), the files
//! are the mounts and nothing else, sockets reach no address, and outbound
//! HTTP reaches only what `allowed_hosts` lists (see `http::outbound`).

use std::path::{Path, PathBuf};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::http::outbound::OutboundPolicy;

use crate::limits::{LimitHit, Limiter, Limits};
use crate::manifest::{EnvSource, Manifest};
use crate::{Error, Result};

/// What the store of one instance holds.
pub struct InstanceState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    outbound: OutboundPolicy,
    limiter: Limiter,
}

impl InstanceState {
    pub(crate) fn limiter(&mut self) -> &mut Limiter {
        &mut self.limiter
    }

    /// The limit that refused the guest something, if one did.
    pub fn limit_hit(&self) -> Option<LimitHit> {
        self.limiter.hit
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// A mount with its host directory resolved against the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMount {
    pub host: PathBuf,
    pub guest: String,
    pub read_only: bool,
}

/// Where an instance's stdin, stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stdio {
    /// weft's own stdin, stdout and stderr (what `weft run` does).
    #[default]
    Inherit,
    /// Empty stdin; output is discarded.
    Null,
}

/// Everything an instance is configured with, resolved once per app so that
/// each instance only copies it into a fresh context.
#[derive(Debug, Clone)]
pub struct WasiConfig {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<String>,
    pub mounts: Vec<ResolvedMount>,
    pub stdio: Stdio,
    pub outbound: OutboundPolicy,
}

impl WasiConfig {
    /// Resolves the manifest's `[runtime.wasi]` for a package in `package_dir`.
    ///
    /// `argv0` becomes the guest's first argument; `extra_args` (from the
    /// command line) follow the manifest's `args`. Host variables are read
    /// through `host_env`, so that callers decide what "the host" is.
    pub fn resolve(
        manifest: &Manifest,
        manifest_path: &Path,
        package_dir: &Path,
        argv0: &str,
        extra_args: &[String],
        host_env: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<WasiConfig> {
        let mut args = Vec::with_capacity(1 + manifest.wasi.args.len() + extra_args.len());
        args.push(argv0.to_string());
        args.extend(manifest.wasi.args.iter().cloned());
        args.extend(extra_args.iter().cloned());

        let mut env = Vec::new();
        for var in &manifest.wasi.env {
            match &var.source {
                EnvSource::Value(value) => env.push((var.name.clone(), value.clone())),
                EnvSource::Host {
                    var: from,
                    required,
                } => match host_env(from).map(|value| value.into_string()) {
                    Some(Ok(value)) => env.push((var.name.clone(), value)),
                    Some(Err(value)) => {
                        return Err(Error::package(format!(
                            "the host variable {from} (for env var {} in {}) is not valid UTF-8 ({}); WASI passes the environment as UTF-8 strings, so set {from} in UTF-8",
                            var.name,
                            manifest_path.display(),
                            value.to_string_lossy()
                        )));
                    }
                    None if *required => {
                        return Err(Error::package(format!(
                            "the app requires env var {} from the host variable {from}, which is not set (see `runtime.wasi.env` in {}); set {from} before starting weft",
                            var.name,
                            manifest_path.display()
                        )));
                    }
                    None => {}
                },
            }
        }

        let mut mounts = Vec::new();
        for mount in &manifest.wasi.mounts {
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
            mounts.push(ResolvedMount {
                host,
                guest: mount.guest.clone(),
                read_only: mount.read_only,
            });
        }

        Ok(WasiConfig {
            args,
            env,
            cwd: manifest.wasi.cwd.clone(),
            mounts,
            stdio: Stdio::Inherit,
            outbound: OutboundPolicy::new(manifest.http.clone(), manifest_path.to_path_buf()),
        })
    }

    /// [`WasiConfig::resolve`] for a loaded app, with its id as argv[0].
    pub fn for_app(
        app: &crate::app::App,
        extra_args: &[String],
        host_env: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<WasiConfig> {
        let package = app.package();
        WasiConfig::resolve(
            app.manifest(),
            &package.manifest_path,
            &package.dir,
            app.id(),
            extra_args,
            host_env,
        )
    }

    /// The same configuration with stdin empty and output discarded.
    pub fn quiet(mut self) -> WasiConfig {
        self.stdio = Stdio::Null;
        self
    }

    /// A fresh store state for one instance, under `limits`.
    pub fn instance_state(&self, limits: &Limits) -> Result<InstanceState> {
        let mut builder = WasiCtxBuilder::new();
        if self.stdio == Stdio::Inherit {
            builder.inherit_stdio();
        }
        builder.args(&self.args);
        builder.envs(&self.env);
        if let Some(cwd) = &self.cwd {
            builder.initial_cwd(cwd);
        }
        for mount in &self.mounts {
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
        // Sockets: the default address check denies every address, and name
        // lookups stay disabled, until the manifest can carry an allow-list.
        let mut table = ResourceTable::new();
        table.set_max_capacity(usize::try_from(limits.resources_cap()).unwrap_or(usize::MAX));
        Ok(InstanceState {
            wasi: builder.build(),
            http: WasiHttpCtx::new(),
            table,
            outbound: self.outbound.clone(),
            limiter: Limiter::new(limits),
        })
    }
}
