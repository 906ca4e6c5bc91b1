//! A loaded app: a verified [`Package`] compiled, checked against its grants,
//! linked and pre-instantiated once ([`App`]), ready for any number of
//! processes (see [`crate::process`]).

use std::borrow::Cow;
use std::sync::Arc;

use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::bindings::{command, ready};
use crate::cache::{Cache, Outcome, Source};
use crate::capabilities::{self, CapabilitySet, Import};
use crate::invoke::Method;
use crate::limits::{EPOCH_TICK, Limits};
use crate::loader::{self, PREVIEW1_EXIT_INTERFACE, WasmKind};
use crate::manifest::Manifest;
use crate::package::Package;
use crate::wasi_config::InstanceState;
use crate::{Error, ErrorKind, Result};

/// Interfaces weft provides to every app itself, outside the WASI groups.
const HOST_INTERFACES: &[&str] = &["weft:preview1/exit"];

/// What weft calls to run the app.
#[derive(Clone)]
pub enum Entry {
    /// `wasi:cli/run`, exported by the component itself.
    Run,
    /// `_start` of a core module, exported as `wasi:cli/run` by the adapter.
    Start,
    /// An exported function, named by the manifest's `method` or `--invoke`.
    Method(Method),
    /// `wasi:http/incoming-handler#handle`, called by `weft serve` per request.
    HttpHandler,
}

impl Entry {
    pub fn describe(&self) -> String {
        match self {
            Entry::Run => "wasi:cli/run".to_string(),
            Entry::Start => {
                "_start (through the preview1 command adapter, as wasi:cli/run)".to_string()
            }
            Entry::Method(method) => method.signature(),
            Entry::HttpHandler => "wasi:http/incoming-handler#handle (weft serve)".to_string(),
        }
    }
}

/// How to load an app, beyond what its manifest says.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Limits that override the manifest's, field by field.
    pub limits: Limits,
    /// Call this export instead of the manifest's entry (`weft run --invoke`).
    pub method: Option<String>,
    /// Load for `weft serve`: the entry is the HTTP handler, and instances
    /// come from the pooling allocator, sized for this many at once.
    pub serve: Option<usize>,
    /// Make instances with the pooling allocator, sized for this many at
    /// once (for hosts that spawn many processes); `None` allocates each
    /// instance on demand, which is cheaper for a single one.
    pub pool: Option<usize>,
    /// Where compiled code is kept between runs; `None` compiles every time.
    pub cache: Option<Cache>,
    /// Show the progress of a long first compile on stderr (for a terminal).
    pub progress: bool,
    /// The app runs one process at a time, alone on its thread (`weft run`):
    /// a CPU-bound guest has nobody to yield to, so unless a timeout needs
    /// them, the code is compiled without epoch checks and no epoch thread
    /// is started (see [`engine`]).
    pub one_process: bool,
}

/// An app, loaded once: everything that does not change between processes.
/// Cloning is cheap; clones share the compiled code.
#[derive(Clone)]
pub struct App {
    pub(crate) inner: Arc<AppInner>,
}

pub(crate) struct AppInner {
    pub(crate) engine: Engine,
    pub(crate) package: Package,
    pub(crate) kind: WasmKind,
    pub(crate) component: Component,
    pub(crate) imports: Vec<Import>,
    pub(crate) compiled: Outcome,
    pub(crate) entry: Entry,
    pub(crate) limits: Limits,
    pub(crate) pre: InstancePre<InstanceState>,
    pub(crate) run: Option<command::CommandIndices>,
    pub(crate) ready: Option<ready::ReadyHookIndices>,
    pub(crate) proxy: Option<ProxyPre<InstanceState>>,
}

/// The engine for apps with these limits: async, fuel metering when a fuel
/// limit is set, and, when `epochs` is true, epoch interruption with a thread
/// that advances the epoch until the engine is dropped (for timeouts and
/// fair sharing of threads: without it, guests never yield nor time out).
///
/// Without `epochs` the compiled code has no epoch checks at its loop heads
/// and function entries: Cranelift compiles it in about two thirds of the
/// time, and it runs without the checks. That is for one process alone on
/// its thread with no timeout (`weft run`), which has nothing to yield to.
/// The setting is part of the cache key ([`EngineSettings::code_key`]), so
/// the two kinds of code have separate cache entries.
///
/// `pooled` sizes the pooling allocator for that many concurrent instances;
/// `None` allocates each instance on demand.
pub fn engine(limits: &Limits, pooled: Option<usize>, epochs: bool) -> Result<Engine> {
    EngineSettings::new(limits, pooled, epochs).engine()
}

/// Every engine setting weft chooses; the rest is fixed by weft's build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSettings {
    epochs: bool,
    fuel: bool,
    /// The pool's size in instances, and the most linear memory one may use.
    pool: Option<(u32, u64)>,
}

impl EngineSettings {
    pub fn new(limits: &Limits, pooled: Option<usize>, epochs: bool) -> EngineSettings {
        let pool = pooled.map(|concurrent| {
            let concurrent = concurrent.clamp(1, u32::MAX as usize) as u32;
            (concurrent, limits.memory.unwrap_or(1 << 30))
        });
        EngineSettings {
            epochs,
            fuel: limits.fuel.is_some(),
            pool,
        }
    }

    /// Address space reserved per linear memory and its guard, when weft
    /// sets them rather than leaving Wasmtime's defaults. The pool reserves
    /// every memory's address space up front. Wasmtime's default, 4 GiB a
    /// memory (no bounds checks), fits 4,096 memories in 16 TiB; a bigger
    /// pool reserves only the memory limit per memory, which keeps 10,000
    /// instances within the address space.
    fn reservation(&self) -> Option<(u64, u64)> {
        self.pool
            .filter(|(concurrent, _)| u64::from(*concurrent) * 4 > 4096)
            .map(|(_, max_memory)| (max_memory, 64 << 10))
    }

    /// What the cache key says about the engine: every setting here that
    /// changes compiled code, and the target. The pool's size is left out
    /// (it changes where instances live, not the code). Wasmtime's own
    /// compatibility hash is not used because a weft without the compiler
    /// cannot compute it; Wasmtime still checks every artifact it loads
    /// against the engine (version, target, CPU features, settings) and
    /// refuses one that does not match, which weft treats as a stale entry.
    pub fn code_key(&self) -> String {
        format!(
            "wasmtime engine: epochs={} fuel={} reservation={:?}; target {}-{}",
            self.epochs,
            self.fuel,
            self.reservation(),
            std::env::consts::ARCH,
            std::env::consts::OS
        )
    }

    pub fn engine(&self) -> Result<Engine> {
        let mut config = Config::new();
        config.epoch_interruption(self.epochs);
        config.consume_fuel(self.fuel);
        if let Some((concurrent, max_memory)) = self.pool {
            let mut pool = PoolingAllocationConfig::default();
            // A component is a few core instances, memories and tables; leave
            // room. Each instance in flight runs on one fiber stack from the
            // pool (a stack is two mappings, its guard page and itself: a
            // stack per instance, not two, keeps 10,000 instances under
            // Linux's default `vm.max_map_count`).
            pool.total_component_instances(concurrent.saturating_mul(2))
                .total_core_instances(concurrent.saturating_mul(16))
                .total_memories(concurrent.saturating_mul(4))
                .total_tables(concurrent.saturating_mul(8))
                .total_stacks(concurrent)
                .max_memory_size(max_memory as usize);
            // A slot is reused by the next instance: reset only the pages the
            // last one touched (PAGEMAP_SCAN, Linux 6.7+) with memset, up to a
            // bound, rather than madvise + page faults on every instantiation.
            pool.pagemap_scan(Enabled::Auto)
                .linear_memory_keep_resident(1 << 20)
                .table_keep_resident(64 << 10);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        if let Some((reservation, guard)) = self.reservation() {
            config.memory_reservation(reservation);
            config.memory_guard_size(guard);
        }
        let engine = Engine::new(&config).map_err(|err| {
            Error::internal("cannot create the Wasmtime engine").caused_by_wasmtime(&err)
        })?;
        if !self.epochs {
            return Ok(engine);
        }
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("weft-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .map_err(|err| Error::internal("cannot start the epoch thread").caused_by(&err))?;
        Ok(engine)
    }
}

impl App {
    /// Compiles, checks and links a package: init up to instantiation.
    pub fn load(package: Package, options: &LoadOptions) -> Result<App> {
        let limits = package.manifest.limits.overridden_by(&options.limits);
        let epochs = !options.one_process || limits.timeout.is_some();
        let settings = EngineSettings::new(&limits, options.serve.or(options.pool), epochs);
        let engine = settings.engine()?;
        let wasm_path = package.wasm_path();
        let kind = loader::kind_of(&package.wasm, &wasm_path)?;
        let manifest = &package.manifest;
        let granted = CapabilitySet::new(&manifest.imports);
        let check = |mut imports: Vec<Import>| -> Result<Vec<Import>> {
            imports.retain(|import| {
                !HOST_INTERFACES.contains(&capabilities::unversioned(&import.name))
            });
            capabilities::check_imports(&imports, &granted, &package.manifest_path)?;
            Ok(imports)
        };

        // Compiling is the expensive step: refuse ungranted imports before it.
        let mut checked = None;
        let mut compile = || -> Result<Component> {
            let bytes = match kind {
                WasmKind::Component => Cow::Borrowed(&package.wasm[..]),
                WasmKind::CoreModule => {
                    Cow::Owned(loader::adapt_core_module(&package.wasm, &wasm_path)?)
                }
            };
            checked = Some(check(capabilities::imports_in(&bytes, &wasm_path)?)?);
            loader::compile(&engine, &bytes, &wasm_path, kind, options.progress)
        };
        let (component, compiled) = match &options.cache {
            Some(cache) => {
                let source = match kind {
                    WasmKind::Component => Source::Component,
                    WasmKind::CoreModule => Source::AdaptedCoreModule,
                };
                cache.load_or_compile(
                    &engine,
                    &settings.code_key(),
                    &manifest.hash,
                    source,
                    compile,
                )?
            }
            None => (compile()?, Outcome::Compiled),
        };
        let imports = match checked {
            Some(imports) => imports,
            None => check(capabilities::imports_of(&component, &engine))?,
        };

        let method = options.method.as_deref().or(manifest.method.as_deref());
        let entry = match (kind, method) {
            _ if options.serve.is_some() => Entry::HttpHandler,
            (WasmKind::Component, None | Some("wasi:cli/run#run")) => Entry::Run,
            (WasmKind::CoreModule, None | Some("_start")) => Entry::Start,
            (WasmKind::CoreModule, Some(method)) => {
                return Err(Error::package(format!(
                    "{} is a core module, which can only be run through `_start`, not `{method}`; remove `method`, or package a component that exports it",
                    wasm_path.display()
                )));
            }
            (WasmKind::Component, Some(method)) => {
                Entry::Method(Method::find(&component, &engine, method)?)
            }
        };

        let mut linker = granted.linker(&engine, &imports)?;
        link_host_interfaces(&mut linker)?;
        let pre = linker.instantiate_pre(&component).map_err(|err| {
            Error::new(
                ErrorKind::Capability,
                format!(
                    "{} cannot be linked with the interfaces its manifest grants; its imports may be of an incompatible WASI version (weft provides 0.2.x)",
                    wasm_path.display()
                ),
            )
            .caused_by_wasmtime(&err)
        })?;

        let proxy = match entry {
            Entry::HttpHandler => Some(ProxyPre::new(pre.clone()).map_err(|err| {
                Error::package(format!(
                    "{} does not export `wasi:http/incoming-handler`, so `weft serve` cannot serve it; build it against the `wasi:http/proxy` world (weft:app/http-app), or run it with `weft run`",
                    wasm_path.display()
                ))
                .caused_by_wasmtime(&err)
            })?),
            _ => None,
        };

        let run = match entry {
            Entry::Method(_) | Entry::HttpHandler => None,
            Entry::Run | Entry::Start => Some(command::CommandIndices::new(&pre).map_err(|err| {
                Error::package(format!(
                    "{} does not export `wasi:cli/run`, so weft cannot run it as a command; build it as a command (a `main`, or the `weft:app/app` world), or set `method` to one of its exported functions",
                    wasm_path.display()
                ))
                .caused_by_wasmtime(&err)
            })?),
        };

        let ready = match component.get_export_index(None, "weft-ready") {
            None => None,
            Some(_) => Some(ready::ReadyHookIndices::new(&pre).map_err(|err| {
                Error::package(format!(
                    "{} exports `weft-ready` with the wrong type; it must be `weft-ready: func() -> result<_, string>` (see the `weft:app/ready-app` world)",
                    wasm_path.display()
                ))
                .caused_by_wasmtime(&err)
            })?),
        };

        Ok(App {
            inner: Arc::new(AppInner {
                engine,
                package,
                kind,
                component,
                imports,
                compiled,
                entry,
                limits,
                pre,
                run,
                ready,
                proxy,
            }),
        })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.inner.package.manifest
    }

    pub fn package(&self) -> &Package {
        &self.inner.package
    }

    pub fn kind(&self) -> WasmKind {
        self.inner.kind
    }

    pub fn entry(&self) -> &Entry {
        &self.inner.entry
    }

    /// The limits every process of this app runs under.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Looks up another exported function of the app.
    pub fn method(&self, name: &str) -> Result<Method> {
        Method::find(&self.inner.component, &self.inner.engine, name)
    }

    /// The component's WASI imports (after adaptation, for a core module).
    pub fn imports(&self) -> &[Import] {
        &self.inner.imports
    }

    /// Whether the compiled code came from the cache.
    pub fn compiled(&self) -> Outcome {
        self.inner.compiled
    }

    /// The pre-instantiated HTTP handler, when loaded for `weft serve`.
    pub fn proxy_pre(&self) -> Option<ProxyPre<InstanceState>> {
        self.inner.proxy.clone()
    }

    pub fn has_ready_hook(&self) -> bool {
        self.inner.ready.is_some()
    }

    /// The app's id, used in messages and as argv[0].
    pub fn id(&self) -> &str {
        self.inner.package.manifest.id.as_str()
    }
}

/// Links what weft itself provides: the exit route of adapted core modules.
fn link_host_interfaces(linker: &mut Linker<InstanceState>) -> Result<()> {
    let mut link = || -> wasmtime::Result<()> {
        let mut exit = linker.instance(PREVIEW1_EXIT_INTERFACE)?;
        exit.func_wrap("exit", |_store, (code,): (u32,)| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(I32Exit(code as i32)))
        })?;
        Ok(())
    };
    link().map_err(|err| {
        Error::internal("cannot link weft's host interfaces").caused_by_wasmtime(&err)
    })
}
