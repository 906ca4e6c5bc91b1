//! Verified wasm bytes → a compiled [`Component`]: turns a preview1 core
//! module that exports `_start` into a component with the preview1 command
//! adapter, and compiles. Both need the `compiler` feature; without it weft
//! loads compiled code from the [`crate::cache`] only.
//!
//! Preview1 programs expect `proc_exit(n)` to end the process with status n,
//! but the stock command adapter reports every non-zero status as
//! `exit(err)`, that is 1. So before adapting, the module's
//! `wasi_snapshot_preview1.proc_exit` import is routed to weft's own
//! `weft:preview1/exit` interface, which the host implements by ending the
//! instance with exactly that status.

use std::borrow::Cow;
use std::path::Path;

use wasm_encoder::reencode::{self, Reencode, RoundtripReencoder};
use wasmparser::{Parser, Payload};
use wasmtime::Engine;
use wasmtime::component::Component;
use wit_component::{ComponentEncoder, StringEncoding};

use crate::wasm::{PREVIEW1_EXIT_INTERFACE, WasmKind};
use crate::{Error, Result};

const PREVIEW1_EXIT_WIT: &str = r#"
package weft:preview1@0.1.0;

/// How an adapted preview1 module ends with an exact status.
interface exit {
  /// Ends the instance with `code` as its exit status.
  exit: func(code: u32);
}

world adapted {
  import exit;
}
"#;

/// Turns a preview1 core module into a command component. The module must
/// export a function `_start`.
pub fn adapt_core_module(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    let invalid = |err: &dyn std::fmt::Display| {
        Error::package(format!(
            "module {} is not a valid core module: {err}; rebuild it",
            path.display()
        ))
    };

    let mut has_start = false;
    let mut has_memory = false;
    let mut foreign = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| invalid(&e))? {
            Payload::ExportSection(exports) => {
                for export in exports {
                    let export = export.map_err(|e| invalid(&e))?;
                    match (export.name, export.kind) {
                        ("_start", wasmparser::ExternalKind::Func) => has_start = true,
                        ("memory", wasmparser::ExternalKind::Memory) => has_memory = true,
                        _ => {}
                    }
                }
            }
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    let import = import.map_err(|e| invalid(&e))?;
                    if import.module != "wasi_snapshot_preview1" {
                        foreign.push(format!("{}::{}", import.module, import.name));
                    }
                }
            }
            _ => {}
        }
    }
    if !has_start {
        return Err(Error::package(format!(
            "core module {} does not export `_start`, so it is not a command weft can run; build it as a preview1 command (a `main` for wasm32-wasip1), or package a component instead",
            path.display()
        )));
    }
    if !foreign.is_empty() {
        let shown = foreign
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let more = match foreign.len() {
            n if n > 3 => format!(" and {} more", n - 3),
            _ => String::new(),
        };
        return Err(Error::package(format!(
            "core module {} imports {shown}{more}, which wasi_snapshot_preview1 does not provide; a core module gets preview1 and nothing else, so remove the import or package a component",
            path.display()
        )));
    }
    if !has_memory {
        return Err(Error::package(format!(
            "core module {} does not export its linear memory as `memory`, which preview1 needs to pass data; build it as a preview1 command (wasi-libc and Rust's wasm32-wasip1 target export it)",
            path.display()
        )));
    }

    let mut module = route_proc_exit(bytes).map_err(|e| invalid(&e))?;

    let mut resolve = wit_parser::Resolve::default();
    let package = resolve
        .push_str("weft-preview1-exit.wit", PREVIEW1_EXIT_WIT)
        .map_err(|err| {
            Error::internal("weft's preview1 exit interface does not parse").caused_by_anyhow(&err)
        })?;
    let world = resolve
        .select_world(&[package], Some("adapted"))
        .map_err(|err| {
            Error::internal("weft's preview1 exit world is missing").caused_by_anyhow(&err)
        })?;
    // Not canonical names: the adapter and the routed import use the
    // component model's legacy import names.
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        StringEncoding::UTF8,
        false,
    )
    .map_err(|err| {
        Error::internal("cannot describe the preview1 exit import").caused_by_anyhow(&err)
    })?;

    let adapter = wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER;
    let name = wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME;
    // No validation here: Wasmtime validates the whole component, function
    // bodies included, as it compiles it (`compile` below), and doing it
    // twice was a serial millisecond or two of every first start.
    let mut encoder = ComponentEncoder::default();
    encoder
        .module(&module)
        .and_then(|encoder| encoder.adapter(name, adapter))
        .and_then(|encoder| encoder.encode())
        .map_err(|err| {
            Error::package(format!(
                "core module {} cannot be adapted to a component with the preview1 command adapter; it may import functions that are not part of wasi_snapshot_preview1",
                path.display()
            ))
            .caused_by_anyhow(&err)
        })
}

/// Re-encodes a core module with `wasi_snapshot_preview1.proc_exit` imported
/// from [`PREVIEW1_EXIT_INTERFACE`] instead.
fn route_proc_exit(bytes: &[u8]) -> std::result::Result<Vec<u8>, reencode::Error> {
    struct Router;
    impl Reencode for Router {
        type Error = std::convert::Infallible;

        fn parse_imports(
            &mut self,
            section: &mut wasm_encoder::ImportSection,
            imports: wasmparser::Imports<'_>,
        ) -> std::result::Result<(), reencode::Error<Self::Error>> {
            let mut single = |module: &str, name: &str, ty: wasmparser::TypeRef| {
                let ty = RoundtripReencoder.entity_type(ty)?;
                let (module, name) = if module == "wasi_snapshot_preview1" && name == "proc_exit" {
                    (
                        Cow::Borrowed(PREVIEW1_EXIT_INTERFACE),
                        Cow::Borrowed("exit"),
                    )
                } else {
                    (Cow::Borrowed(module), Cow::Borrowed(name))
                };
                section.import(&module, &name, ty);
                Ok::<(), reencode::Error<Self::Error>>(())
            };
            match imports {
                wasmparser::Imports::Single(_, import) => {
                    single(import.module, import.name, import.ty)?
                }
                wasmparser::Imports::Compact1 { module, items } => {
                    for item in items {
                        let item = item?;
                        single(module, item.name, item.ty)?;
                    }
                }
                wasmparser::Imports::Compact2 { module, ty, names } => {
                    for name in names {
                        single(module, name?, ty)?;
                    }
                }
            }
            Ok(())
        }
    }

    // Only the import section changes: every other section is copied as it
    // is (re-encoding the code section instruction by instruction was a
    // millisecond of every first start of a core module).
    let mut module = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        if let Payload::ImportSection(reader) = payload {
            let mut imports = wasm_encoder::ImportSection::new();
            Router.parse_import_section(&mut imports, reader)?;
            module.section(&imports);
        } else if let Some((id, range)) = payload.as_section() {
            // Offsets are u64 in wasmparser; a module in memory fits usize.
            let (start, end) = (range.start as usize, range.end as usize);
            module.section(&wasm_encoder::RawSection {
                id,
                data: &bytes[start..end],
            });
        }
    }
    Ok(module.finish())
}

/// Components at least this big show their compile's progress on a terminal.
const PROGRESS_THRESHOLD: usize = 2 << 20;

/// Compiles a component (Cranelift), validating it, with errors that name
/// the file: `kind` says what the file at `path` is (a core module arrives
/// here adapted, and is then the one thing in the component that can be
/// invalid). With `progress`, a big component's compile shows a ticking line
/// on stderr, erased when it is done.
pub fn compile(
    engine: &Engine,
    bytes: &[u8],
    path: &Path,
    kind: WasmKind,
    progress: bool,
) -> Result<Component> {
    let _ticker =
        (progress && bytes.len() >= PROGRESS_THRESHOLD).then(|| Ticker::start(path, bytes.len()));
    Component::new(engine, bytes).map_err(|err| {
        let what = match kind {
            WasmKind::Component => "component",
            WasmKind::CoreModule => "core module",
        };
        Error::package(format!(
            "module {} is not a valid {what} and cannot be compiled; rebuild it with a current toolchain",
            path.display()
        ))
        .caused_by_wasmtime(&err)
    })
}

/// The progress line of a long compile; stops and erases itself when dropped.
struct Ticker {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn start(path: &Path, size: usize) -> Ticker {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let what = format!("weft: compiling {name} ({:.1} MB), once", size as f64 / 1e6);
        let thread = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let tick = std::time::Duration::from_millis(250);
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                eprint!("\r{what} ... {:.0} s", started.elapsed().as_secs_f64());
            }
            eprint!("\r\x1b[K");
        });
        Ticker {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
