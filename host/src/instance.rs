//! One instance: its store data ([`InstanceState`]), the per-instance
//! configuration it is made from ([`WasiConfig`], resolved once per app from
//! the manifest), and the one path that sets up a store for a guest
//! ([`new_store`], [`under_timeout`]), shared by processes
//! ([`crate::process`]) and requests ([`crate::serve`]).
//!
//! What a guest may touch is decided by the capability rooms' preparation
//! steps, called from here: env vars are exactly those the manifest lists
//! (never the host's environment), the files are the mounts and nothing else,
//! sockets reach no address, and outbound HTTP reaches only what
//! `allowed_hosts` lists.

use std::future::Future;
use std::path::Path;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::cli::{self, CliConfig, Stdio};
use crate::capabilities::filesystem::{self, ResolvedMount};
use crate::capabilities::http::OutboundPolicy;
use crate::limits::{self, LimitHit, Limiter, Limits};
use crate::manifest::Manifest;
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

/// Everything an instance is configured with, resolved once per app so that
/// each instance only copies it into a fresh context.
#[derive(Debug, Clone)]
pub struct WasiConfig {
    pub cli: CliConfig,
    pub mounts: Vec<ResolvedMount>,
    pub outbound: OutboundPolicy,
}

impl WasiConfig {
    /// Resolves the manifest's `[runtime.wasi]` and `[runtime.http]` for a
    /// package in `package_dir`.
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
        Ok(WasiConfig {
            cli: CliConfig {
                args,
                env: cli::resolve_env(&manifest.wasi.env, manifest_path, host_env)?,
                cwd: manifest.wasi.cwd.clone(),
                stdio: Stdio::Inherit,
            },
            mounts: filesystem::resolve(&manifest.wasi.mounts, package_dir, manifest_path)?,
            outbound: OutboundPolicy::new(manifest.http.clone(), manifest_path.to_path_buf()),
        })
    }

    /// The same configuration with stdin empty and output discarded.
    pub fn quiet(mut self) -> WasiConfig {
        self.cli.stdio = Stdio::Null;
        self
    }

    /// A fresh store state for one instance, under `limits`: each room's
    /// per-instance preparation.
    pub fn instance_state(&self, limits: &Limits) -> Result<InstanceState> {
        let mut builder = WasiCtxBuilder::new();
        cli::prepare(&mut builder, &self.cli);
        filesystem::prepare(&mut builder, &self.mounts)?;
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

/// A store for one guest on `engine`, set up under `limits`: its state from
/// `config`, the resource limiter, the component-handle cap, fuel, and the
/// epoch deadline that makes it yield at each tick and stop once `started`
/// plus the timeout has passed. Processes and served requests both start
/// here.
pub fn new_store(
    engine: &Engine,
    config: &WasiConfig,
    limits: &Limits,
    started: Instant,
) -> Result<Store<InstanceState>> {
    let mut store = Store::new(engine, config.instance_state(limits)?);
    store.limiter(|state| state.limiter());
    limits::apply(&mut store, limits, started)
        .map_err(|err| Error::internal("cannot apply the limits").caused_by_wasmtime(&err))?;
    Ok(store)
}

/// Runs `work` under the timeout of `limits`, counted from `started`. The
/// epoch deadline stops a guest that computes; this stops one that waits on
/// the host (a sleep, I/O) when time runs out, with `Err` carrying the hit.
pub async fn under_timeout<T>(
    limits: &Limits,
    started: Instant,
    work: impl Future<Output = T>,
) -> std::result::Result<T, LimitHit> {
    match limits.timeout {
        Some(limit) => tokio::time::timeout_at((started + limit).into(), work)
            .await
            .map_err(|_| LimitHit::Timeout { limit }),
        None => Ok(work.await),
    }
}
