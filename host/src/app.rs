//! A loaded app: a verified [`Package`] compiled, checked against its grants,
//! linked and pre-instantiated once ([`App`]), ready for any number of runs.

use std::path::PathBuf;

use wasmtime::component::{InstancePre, Linker};
use wasmtime::{Config, Engine};
use wasmtime_wasi::I32Exit;

use crate::bindings::{command, ready};
use crate::capabilities::{self, CapabilitySet, Import};
use crate::loader::{self, PREVIEW1_EXIT_INTERFACE, WasmKind};
use crate::manifest::Manifest;
use crate::package::Package;
use crate::wasi_config::InstanceState;
use crate::{Error, ErrorKind, Result};

/// Interfaces weft provides to every app itself, outside the WASI groups.
const HOST_INTERFACES: &[&str] = &["weft:preview1/exit"];

/// What weft calls to run the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `wasi:cli/run`, exported by the component itself.
    Run,
    /// `_start` of a core module, exported as `wasi:cli/run` by the adapter.
    Start,
}

impl Entry {
    pub fn describe(&self) -> &'static str {
        match self {
            Entry::Run => "wasi:cli/run",
            Entry::Start => "_start (through the preview1 command adapter, as wasi:cli/run)",
        }
    }
}

/// An app, loaded once: everything that does not change between runs.
pub struct App {
    pub(crate) engine: Engine,
    pub(crate) package: Package,
    kind: WasmKind,
    imports: Vec<Import>,
    entry: Entry,
    pub(crate) pre: InstancePre<InstanceState>,
    pub(crate) run: command::CommandIndices,
    pub(crate) ready: Option<ready::ReadyHookIndices>,
}

/// The engine configuration weft runs apps with.
pub fn engine() -> Result<Engine> {
    let config = Config::new();
    Engine::new(&config).map_err(|err| {
        Error::internal("cannot create the Wasmtime engine").caused_by_wasmtime(&err)
    })
}

impl App {
    /// Compiles, checks and links a package: init up to instantiation.
    pub fn load(engine: &Engine, package: Package) -> Result<App> {
        let wasm_path = package.wasm_path();
        let kind = loader::kind_of(&package.wasm, &wasm_path)?;
        let bytes = match kind {
            WasmKind::Component => package.wasm.clone(),
            WasmKind::CoreModule => loader::adapt_core_module(&package.wasm, &wasm_path)?,
        };
        let component = loader::compile(engine, &bytes, &wasm_path)?;
        let manifest = &package.manifest;

        let entry = match (kind, manifest.method.as_deref()) {
            (WasmKind::Component, None | Some("wasi:cli/run#run")) => Entry::Run,
            (WasmKind::CoreModule, None | Some("_start")) => Entry::Start,
            (_, Some(method)) => {
                return Err(Error::package(format!(
                    "`runtime.method = \"{method}\"` in {}: calling a named export is not supported by this version of weft, which runs `wasi:cli/run` (or `_start` of a core module); remove `method` to run the app as a command",
                    package.manifest_path.display()
                )));
            }
        };

        let mut imports = capabilities::imports_of(&component, engine);
        let granted = CapabilitySet::new(&manifest.imports);
        imports
            .retain(|import| !HOST_INTERFACES.contains(&capabilities::unversioned(&import.name)));
        capabilities::check_imports(&imports, &granted, &package.manifest_path)?;

        let mut linker = granted.linker(engine)?;
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

        let run = command::CommandIndices::new(&pre).map_err(|err| {
            Error::package(format!(
                "{} does not export `wasi:cli/run`, so weft cannot run it as a command; build it as a command (a `main`, or the `weft:app/app` world)",
                wasm_path.display()
            ))
            .caused_by_wasmtime(&err)
        })?;

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
            engine: engine.clone(),
            package,
            kind,
            imports,
            entry,
            pre,
            run,
            ready,
        })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.package.manifest
    }

    pub fn package(&self) -> &Package {
        &self.package
    }

    pub fn kind(&self) -> WasmKind {
        self.kind
    }

    pub fn entry(&self) -> &Entry {
        &self.entry
    }

    /// The component's WASI imports (after adaptation, for a core module).
    pub fn imports(&self) -> &[Import] {
        &self.imports
    }

    pub fn has_ready_hook(&self) -> bool {
        self.ready.is_some()
    }

    /// The app's display name for messages: its id.
    pub fn id(&self) -> &str {
        self.package.manifest.id.as_str()
    }

    pub fn dir(&self) -> PathBuf {
        self.package.dir.clone()
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
