//! A loaded app: a verified [`Package`] compiled, checked against its grants,
//! linked and pre-instantiated once ([`App`]), ready for any number of
//! processes (see [`crate::process`]).

#[cfg(feature = "compiler")]
use std::borrow::Cow;
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::bindings::{command, ready};
use crate::cache::{Cache, Outcome, Source};
use crate::capabilities::{self, CapabilitySet, Import};
use crate::engine::EngineSettings;
use crate::instance::{InstanceState, WasiConfig};
use crate::invoke::Method;
use crate::limits::Limits;
#[cfg(feature = "compiler")]
use crate::loader;
use crate::manifest::Manifest;
use crate::package::Package;
use crate::wasm::{self, PREVIEW1_EXIT_INTERFACE, WasmKind};
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
            Entry::HttpHandler => {
                "wasi:http/incoming-handler#handle or wasi:http/handler#handle (weft serve)"
                    .to_string()
            }
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
    /// is started (see [`crate::engine`]).
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
    pub(crate) run: Option<RunIndices>,
    pub(crate) ready: Option<ready::ReadyHookIndices>,
    pub(crate) proxy: Option<HttpPre>,
}

/// The HTTP handler of an app loaded for `weft serve`, pre-instantiated.
#[derive(Clone)]
pub enum HttpPre {
    /// WASI 0.2's `wasi:http/incoming-handler`: a fresh instance per request.
    P2(ProxyPre<InstanceState>),
    /// WASI 0.3's `wasi:http/handler` (an `async func`): instances are reused
    /// and take several requests at once.
    P3(ServicePre<InstanceState>),
}

/// Where a command's `wasi:cli/run` is: WASI 0.2's `run: func() -> result`,
/// or 0.3's `run: async func() -> result`, which runs as a concurrent call.
pub(crate) enum RunIndices {
    P2(command::CommandIndices),
    P3(wasmtime_wasi::p3::bindings::CommandIndices),
}

impl RunIndices {
    /// The component's `wasi:cli/run`, of either release; the error is the
    /// 0.2 lookup's when neither is exported.
    fn new(pre: &InstancePre<InstanceState>) -> wasmtime::Result<RunIndices> {
        match command::CommandIndices::new(pre) {
            Ok(indices) => Ok(RunIndices::P2(indices)),
            Err(err) => wasmtime_wasi::p3::bindings::CommandIndices::new(pre)
                .map(RunIndices::P3)
                .map_err(|_| err),
        }
    }
}

/// What [`App::load_cached`] found.
pub enum Cached {
    /// The app, loaded from the compiled-artifact cache.
    Loaded(App),
    /// The app has to be compiled first (not in the cache, no cache, or an
    /// entry that was discarded): the package, for whoever can compile it.
    MustCompile(Box<Package>),
}

/// What every load starts from: the engine, and what the grants allow.
struct Start {
    settings: EngineSettings,
    engine: Engine,
    limits: Limits,
    kind: WasmKind,
    granted: CapabilitySet,
}

impl Start {
    fn new(package: &Package, options: &LoadOptions) -> Result<Start> {
        let limits = package.manifest.limits.overridden_by(&options.limits);
        let epochs = !options.one_process || limits.timeout.is_some();
        let kind = wasm::kind_of(&package.wasm, &package.wasm_path())?;
        let concurrency =
            kind == WasmKind::Component && wasm::uses_component_model_async(&package.wasm);
        let settings = EngineSettings::new(&limits, options.serve.or(options.pool), epochs)
            .concurrent(concurrency);
        Ok(Start {
            engine: settings.engine()?,
            settings,
            limits,
            kind,
            granted: CapabilitySet::new(&package.manifest.imports),
        })
    }

    /// The most linear memory the app may have, in 64 KiB pages: its memory
    /// limit, else the pool's, else wasm32's 4 GiB.
    fn memory_pages(&self) -> u64 {
        self.limits
            .memory
            .or(self.settings.pool_memory())
            .map_or(1 << 16, |bytes| (bytes >> 16).min(1 << 16))
    }

    fn source(&self) -> Source {
        match self.kind {
            WasmKind::Component => Source::Component,
            WasmKind::CoreModule => Source::AdaptedCoreModule {
                memory_pages: self.memory_pages(),
            },
        }
    }

    /// Compiles the package's wasm (a core module adapted first) once its
    /// imports are checked against the grants; also returns those imports.
    #[cfg(feature = "compiler")]
    fn compile(&self, package: &Package, progress: bool) -> Result<(Component, Vec<Import>)> {
        let wasm_path = package.wasm_path();
        let bytes = match self.kind {
            WasmKind::Component => Cow::Borrowed(&package.wasm[..]),
            WasmKind::CoreModule => Cow::Owned(loader::adapt_core_module(
                &package.wasm,
                &wasm_path,
                self.memory_pages(),
            )?),
        };
        let imports = self.check(capabilities::imports_in(&bytes, &wasm_path)?, package)?;
        let component = loader::compile(&self.engine, &bytes, &wasm_path, self.kind, progress)?;
        Ok((component, imports))
    }

    /// The app's imports without weft's own, each granted, or the error
    /// that names what is not.
    fn check(&self, mut imports: Vec<Import>, package: &Package) -> Result<Vec<Import>> {
        imports
            .retain(|import| !HOST_INTERFACES.contains(&capabilities::unversioned(&import.name)));
        capabilities::check_imports(&imports, &self.granted, &package.manifest_path)?;
        Ok(imports)
    }
}

impl App {
    /// Compiles (or loads from the cache), checks and links a package: init
    /// up to instantiation.
    #[cfg(feature = "compiler")]
    pub fn load(package: Package, options: &LoadOptions) -> Result<App> {
        let start = Start::new(&package, options)?;
        // Compiling is the expensive step: ungranted imports are refused
        // before it.
        let mut checked = None;
        let mut compile = || -> Result<Component> {
            let (component, imports) = start.compile(&package, options.progress)?;
            checked = Some(imports);
            Ok(component)
        };
        let (component, compiled) = match &options.cache {
            Some(cache) => cache.load_or_compile(
                &start.engine,
                &start.settings.code_key(),
                &package.manifest.hash,
                start.source(),
                compile,
            )?,
            None => (compile()?, Outcome::Compiled),
        };
        App::link(start, package, component, compiled, checked, options)
    }

    /// Compiles a package for loading later with [`App::load_precompiled`]
    /// under the same options, as a host with its own store of compiled code
    /// does (containerd keeps it as a content blob). An import its manifest
    /// does not grant is refused here, before compiling. The bytes are native
    /// code: keep them where only the host can write.
    #[cfg(feature = "compiler")]
    pub fn precompile(package: &Package, options: &LoadOptions) -> Result<Vec<u8>> {
        let start = Start::new(package, options)?;
        let (component, _) = start.compile(package, options.progress)?;
        component.serialize().map_err(|err| {
            Error::internal(format!(
                "cannot serialize the compiled code of {}",
                package.wasm_path().display()
            ))
            .caused_by_wasmtime(&err)
        })
    }

    /// Loads a package with the code [`App::precompile`] made for it, under
    /// the same options; the package's wasm has been checked against its
    /// hash as always, and the code must be the one compiled from it.
    /// Wasmtime checks that the code fits this engine (its version, settings
    /// and CPU) and refuses it otherwise, with an error of kind
    /// [`ErrorKind::Internal`]; compile again then.
    ///
    /// # Safety
    ///
    /// The bytes are mapped as native code and run: they must come from
    /// [`App::precompile`], from storage nobody else could write, exactly
    /// as Wasmtime's `Component::deserialize` requires.
    pub unsafe fn load_precompiled(
        package: Package,
        code: &[u8],
        options: &LoadOptions,
    ) -> Result<App> {
        let start = Start::new(&package, options)?;
        // SAFETY: the caller vouches for the bytes, as documented.
        let component = unsafe { Component::deserialize(&start.engine, code) }.map_err(|err| {
            Error::internal(format!(
                "the precompiled code for {} does not fit this weft's engine; compile it again",
                package.wasm_path().display()
            ))
            .caused_by_wasmtime(&err)
        })?;
        App::link(start, package, component, Outcome::Hit, None, options)
    }

    /// Loads a package from the compiled-artifact cache only, never
    /// compiling: a weft without the compiler decides from the result whether
    /// to hand the app over to one. A component whose imports are not all
    /// granted is refused here, as [`App::load`] refuses it, so that a
    /// refused app is never handed over.
    pub fn load_cached(package: Package, options: &LoadOptions) -> Result<Cached> {
        let start = Start::new(&package, options)?;
        let Some(cache) = &options.cache else {
            return Ok(Cached::MustCompile(Box::new(package)));
        };
        match cache.load(
            &start.engine,
            &start.settings.code_key(),
            &package.manifest.hash,
            start.source(),
        ) {
            Some(component) => App::link(start, package, component, Outcome::Hit, None, options)
                .map(Cached::Loaded),
            None => {
                if start.kind == WasmKind::Component {
                    let imports = capabilities::imports_in(&package.wasm, &package.wasm_path())?;
                    start.check(imports, &package)?;
                }
                Ok(Cached::MustCompile(Box::new(package)))
            }
        }
    }

    /// Everything after the compiled code: the entry, the linker of the
    /// granted interfaces, and the pre-instantiated component.
    fn link(
        start: Start,
        package: Package,
        component: Component,
        compiled: Outcome,
        checked: Option<Vec<Import>>,
        options: &LoadOptions,
    ) -> Result<App> {
        let (engine, limits, kind) = (start.engine.clone(), start.limits.clone(), start.kind);
        let wasm_path = package.wasm_path();
        let manifest = &package.manifest;
        let imports = match checked {
            Some(imports) => imports,
            None => start.check(capabilities::imports_of(&component, &engine), &package)?,
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

        let mut linker = start.granted.linker(&engine, &imports)?;
        link_host_interfaces(&mut linker)?;
        let pre = linker.instantiate_pre(&component).map_err(|err| {
            Error::new(
                ErrorKind::Capability,
                format!(
                    "{} cannot be linked with the interfaces its manifest grants; its imports may be of an incompatible WASI version (weft links WASI 0.2.x and 0.3.x)",
                    wasm_path.display()
                ),
            )
            .caused_by_wasmtime(&err)
        })?;

        let proxy = match entry {
            Entry::HttpHandler => Some(match ProxyPre::new(pre.clone()) {
                Ok(proxy) => HttpPre::P2(proxy),
                Err(err) => HttpPre::P3(ServicePre::new(pre.clone()).map_err(|_| {
                    Error::package(format!(
                        "{} does not export `wasi:http/incoming-handler` (WASI 0.2) or `wasi:http/handler` (WASI 0.3), so `weft serve` cannot serve it; build it against the `wasi:http/proxy` or `wasi:http/service` world (weft:app/http-app, or weft:app-p3/http-app for 0.3), or run it with `weft run`",
                        wasm_path.display()
                    ))
                    .caused_by_wasmtime(&err)
                })?),
            }),
            _ => None,
        };

        let run = match entry {
            Entry::Method(_) | Entry::HttpHandler => None,
            Entry::Run | Entry::Start => Some(RunIndices::new(&pre).map_err(|err| {
                Error::package(format!(
                    "{} does not export `wasi:cli/run` (of WASI 0.2 or 0.3), so weft cannot run it as a command; build it as a command (a `main`, or the `weft:app/app` world), or set `method` to one of its exported functions",
                    wasm_path.display()
                ))
                .caused_by_wasmtime(&err)
            })?),
        };

        let ready = match component.get_export_index(None, "weft-ready") {
            None => None,
            Some(_) => Some(ready::ReadyHookIndices::new(&pre).map_err(|err| {
                Error::package(format!(
                    "{} exports `weft-ready` with the wrong type; it must be `weft-ready: func() -> result<_, string>`, or the same `async func` (see the `ready-app` world of `weft:app`, or of `weft:app-p3` for WASI 0.3)",
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
    pub fn http_pre(&self) -> Option<HttpPre> {
        self.inner.proxy.clone()
    }

    pub fn has_ready_hook(&self) -> bool {
        self.inner.ready.is_some()
    }

    /// The per-instance configuration of this app's processes: the
    /// manifest's `[runtime.wasi]` and `[runtime.http]` resolved against its
    /// package, with the app id as argv[0] and `extra_args` after the
    /// manifest's `args`. Host variables (`from` in `env`) are read through
    /// `host_env`, so that callers decide what "the host" is.
    pub fn wasi_config(
        &self,
        extra_args: &[String],
        host_env: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<WasiConfig> {
        let package = self.package();
        WasiConfig::resolve(
            self.manifest(),
            &package.manifest_path,
            &package.dir,
            self.id(),
            extra_args,
            host_env,
        )
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
