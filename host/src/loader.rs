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
//!
//! The adapter keeps its stack and its state in two 64 KiB pages of the
//! module's memory, which it gets from the module's `cabi_realloc`, or
//! else from `memory.grow`. Allocators that take all memory up to
//! `memory.size()` as theirs (AssemblyScript's) then overwrite the adapter's
//! state. So a module that exports no allocator of its own gets a
//! virtualised view of its memory ([`virtualise`]): its `memory.size` and
//! `memory.grow` see a logical size capped below the memory limit, and the
//! adapter's pages live above that cap, where the module never looks. Its
//! `fd_write` calls go through a wrapper that makes the adapter check the
//! descriptor of a write with no buffers (the adapter alone returns success
//! for those, before looking the descriptor up). docs/preview1-adapter.md
//! has the analysis.

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
/// export a function `_start`. `memory_pages` is the most linear memory the
/// app may have, in 64 KiB pages (its memory limit): the module's view of
/// its memory is capped two pages below it, and the adapter's two pages are
/// placed there.
pub fn adapt_core_module(bytes: &[u8], path: &Path, memory_pages: u64) -> Result<Vec<u8>> {
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
    if let Some(virtualised) = virtualise(&module, memory_pages).map_err(|e| invalid(&e))? {
        module = virtualised;
    }

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

/// 64 KiB.
const PAGE: u64 = 1 << 16;
/// The adapter's pages: its stack and its state.
const ADAPTER_PAGES: u64 = 2;

/// Rewrites the module's code: `memory.size` and `memory.grow` of its memory
/// become calls to the virtualised ones, and calls to its `fd_write` import
/// go to the wrapper.
struct Virtualiser {
    memory_size: u32,
    memory_grow: u32,
    /// The `fd_write` import, and the wrapper that takes its calls.
    fd_write: Option<(u32, u32)>,
}

impl Reencode for Virtualiser {
    type Error = std::convert::Infallible;

    fn function_index(&mut self, func: u32) -> std::result::Result<u32, reencode::Error> {
        Ok(match self.fd_write {
            Some((import, wrapper)) if func == import => wrapper,
            _ => func,
        })
    }

    fn instruction<'a>(
        &mut self,
        op: wasmparser::Operator<'a>,
    ) -> std::result::Result<wasm_encoder::Instruction<'a>, reencode::Error> {
        use wasm_encoder::Instruction;
        match op {
            wasmparser::Operator::MemorySize { mem: 0 } => Ok(Instruction::Call(self.memory_size)),
            wasmparser::Operator::MemoryGrow { mem: 0 } => Ok(Instruction::Call(self.memory_grow)),
            op => reencode::utils::instruction(self, op),
        }
    }
}

/// The order sections must come in, by id (custom sections: anywhere).
fn section_rank(id: u8) -> u8 {
    match id {
        1 => 1,
        2 => 2,
        3 => 3,
        4 => 4,
        5 => 5,
        13 => 6,
        6 => 7,
        7 => 8,
        8 => 9,
        9 => 10,
        12 => 11,
        10 => 12,
        11 => 13,
        _ => 0,
    }
}

/// Gives a module that exports no allocator of its own a virtualised view
/// of its memory, and the adapter two pages above what that view can reach
/// (see the module's documentation); `None` when the module is left as it
/// is: it exports `cabi_realloc` (wit-component gives that to the adapter),
/// or its memory cannot hold the adapter's pages above a cap (imported,
/// 64-bit, shared, or with a maximum too small).
fn virtualise(
    bytes: &[u8],
    memory_pages: u64,
) -> std::result::Result<Option<Vec<u8>>, reencode::Error> {
    use wasm_encoder::{
        BlockType, CodeSection, ConstExpr, ExportKind, ExportSection, Function, FunctionSection,
        GlobalSection, GlobalType, Instruction as I, MemArg, RawSection, TypeSection, ValType,
    };

    let mut types = 0u32;
    let mut imported_funcs = 0u32;
    let mut funcs = 0u32;
    let mut globals = 0u32;
    let mut fd_write = None;
    let mut memory = None;
    let mut memories = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::TypeSection(reader) => types = reader.count(),
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    match import.ty {
                        wasmparser::TypeRef::Func(_) => {
                            if import.module == "wasi_snapshot_preview1"
                                && import.name == "fd_write"
                            {
                                fd_write = Some(imported_funcs);
                            }
                            imported_funcs += 1;
                        }
                        wasmparser::TypeRef::Global(_) => globals += 1,
                        wasmparser::TypeRef::Memory(_) => memories += 1,
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(reader) => funcs = reader.count(),
            Payload::GlobalSection(reader) => globals += reader.count(),
            Payload::MemorySection(reader) => {
                for ty in reader {
                    memory.get_or_insert(ty?);
                    memories += 1;
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    if matches!(export.name, "cabi_realloc" | "cabi_realloc_adapter") {
                        return Ok(None);
                    }
                }
            }
            _ => {}
        }
    }
    let Some(memory) = memory.filter(|m| memories == 1 && !m.memory64 && !m.shared) else {
        return Ok(None);
    };
    let ceiling = memory
        .maximum
        .unwrap_or(u64::MAX)
        .min(memory_pages)
        .min(1 << 16);
    let Some(cap) = ceiling
        .checked_sub(ADAPTER_PAGES)
        .filter(|cap| *cap >= memory.initial)
    else {
        return Ok(None);
    };
    let region_start = cap * PAGE;
    let region_end = (cap + ADAPTER_PAGES) * PAGE;

    // Appended types, globals and functions: nothing the module has moves.
    let (four_to_one, none_to_one, one_to_one) = (types, types + 1, types + 2);
    let (bump, logical) = (globals, globals + 1);
    let memory_size = imported_funcs + funcs;
    let memory_grow = memory_size + 1;
    let realloc = memory_size + 2;
    let wrapper = memory_size + 3;
    let mut added: Vec<(u32, Function)> = Vec::new();
    let cap = cap as i32;
    let total = cap + ADAPTER_PAGES as i32;

    // memory.size: the logical size.
    let mut f = Function::new([]);
    f.instruction(&I::GlobalGet(logical));
    f.instruction(&I::End);
    added.push((none_to_one, f));

    // memory.grow(n): the old logical size, or -1 past the cap (after a
    // real grow, so that the memory limit records what was asked for).
    let mut f = Function::new([(2, ValType::I32)]); // 1: old, 2: new
    f.instruction(&I::GlobalGet(logical));
    f.instruction(&I::LocalSet(1));
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::I32Const(cap));
    f.instruction(&I::LocalGet(1));
    f.instruction(&I::I32Sub);
    f.instruction(&I::I32GtU);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::MemoryGrow(0));
    f.instruction(&I::Drop);
    f.instruction(&I::I32Const(-1));
    f.instruction(&I::Return);
    f.instruction(&I::End);
    f.instruction(&I::LocalGet(1));
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::I32Add);
    f.instruction(&I::LocalSet(2));
    // Before the adapter's pages are placed the real memory may be smaller.
    f.instruction(&I::MemorySize(0));
    f.instruction(&I::LocalGet(2));
    f.instruction(&I::I32LtU);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::LocalGet(2));
    f.instruction(&I::MemorySize(0));
    f.instruction(&I::I32Sub);
    f.instruction(&I::MemoryGrow(0));
    f.instruction(&I::I32Const(-1));
    f.instruction(&I::I32Eq);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::I32Const(-1));
    f.instruction(&I::Return);
    f.instruction(&I::End);
    f.instruction(&I::End);
    f.instruction(&I::LocalGet(2));
    f.instruction(&I::GlobalSet(logical));
    f.instruction(&I::LocalGet(1));
    f.instruction(&I::End);
    added.push((one_to_one, f));

    // cabi_realloc_adapter(old, old_len, align, len): on first use, grows
    // the real memory to the cap plus the adapter's pages; then bump
    // allocation in those pages (the adapter asks for exactly two).
    let mut f = Function::new([(1, ValType::I32)]); // 4: the pointer
    f.instruction(&I::GlobalGet(bump));
    f.instruction(&I::I32Eqz);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::MemorySize(0));
    f.instruction(&I::I32Const(total));
    f.instruction(&I::I32LtU);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::I32Const(total));
    f.instruction(&I::MemorySize(0));
    f.instruction(&I::I32Sub);
    f.instruction(&I::MemoryGrow(0));
    f.instruction(&I::I32Const(-1));
    f.instruction(&I::I32Eq);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::Unreachable);
    f.instruction(&I::End);
    f.instruction(&I::End);
    f.instruction(&I::I32Const(region_start as u32 as i32));
    f.instruction(&I::GlobalSet(bump));
    f.instruction(&I::End);
    f.instruction(&I::GlobalGet(bump));
    f.instruction(&I::LocalGet(2));
    f.instruction(&I::I32Add);
    f.instruction(&I::I32Const(1));
    f.instruction(&I::I32Sub);
    f.instruction(&I::I32Const(0));
    f.instruction(&I::LocalGet(2));
    f.instruction(&I::I32Sub);
    f.instruction(&I::I32And);
    f.instruction(&I::LocalTee(4));
    f.instruction(&I::I64ExtendI32U);
    f.instruction(&I::LocalGet(3));
    f.instruction(&I::I64ExtendI32U);
    f.instruction(&I::I64Add);
    f.instruction(&I::I64Const(region_end as i64));
    f.instruction(&I::I64GtU);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::Unreachable);
    f.instruction(&I::End);
    f.instruction(&I::LocalGet(4));
    f.instruction(&I::LocalGet(3));
    f.instruction(&I::I32Add);
    f.instruction(&I::GlobalSet(bump));
    f.instruction(&I::LocalGet(4));
    f.instruction(&I::End);
    added.push((four_to_one, f));

    // fd_write(fd, iovs, 0, nwritten) becomes one empty buffer, borrowed
    // from the four bytes before `nwritten` and given back, so that the
    // adapter looks the descriptor up (EBADF for a bad one); on an error
    // `nwritten` is left as it was, as preview1 hosts do.
    if let Some(import) = fd_write {
        // 4: the borrowed word's old value, 5: nwritten's, 6: the errno,
        // 7: the borrowed word's address (nwritten - 4).
        let mut f = Function::new([(4, ValType::I32)]);
        let word = MemArg {
            offset: 0,
            align: 2,
            memory_index: 0,
        };
        f.instruction(&I::LocalGet(2));
        f.instruction(&I::I32Eqz);
        f.instruction(&I::LocalGet(3));
        f.instruction(&I::I32Const(4));
        f.instruction(&I::I32GeU);
        f.instruction(&I::I32And);
        f.instruction(&I::If(BlockType::Empty));
        f.instruction(&I::LocalGet(3));
        f.instruction(&I::I32Const(4));
        f.instruction(&I::I32Sub);
        f.instruction(&I::LocalSet(7));
        f.instruction(&I::LocalGet(3));
        f.instruction(&I::I32Load(word));
        f.instruction(&I::LocalSet(5));
        f.instruction(&I::LocalGet(7));
        f.instruction(&I::I32Load(word));
        f.instruction(&I::LocalSet(4));
        // The empty buffer {pointer: nwritten, length: 0}.
        f.instruction(&I::LocalGet(7));
        f.instruction(&I::LocalGet(3));
        f.instruction(&I::I32Store(word));
        f.instruction(&I::LocalGet(3));
        f.instruction(&I::I32Const(0));
        f.instruction(&I::I32Store(word));
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::LocalGet(7));
        f.instruction(&I::I32Const(1));
        f.instruction(&I::LocalGet(3));
        f.instruction(&I::Call(import));
        f.instruction(&I::LocalSet(6));
        f.instruction(&I::LocalGet(7));
        f.instruction(&I::LocalGet(4));
        f.instruction(&I::I32Store(word));
        f.instruction(&I::LocalGet(6));
        f.instruction(&I::If(BlockType::Empty));
        f.instruction(&I::LocalGet(3));
        f.instruction(&I::LocalGet(5));
        f.instruction(&I::I32Store(word));
        f.instruction(&I::End);
        f.instruction(&I::LocalGet(6));
        f.instruction(&I::Return);
        f.instruction(&I::End);
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::LocalGet(1));
        f.instruction(&I::LocalGet(2));
        f.instruction(&I::LocalGet(3));
        f.instruction(&I::Call(import));
        f.instruction(&I::End);
        added.push((four_to_one, f));
    }

    let mut rewriter = Virtualiser {
        memory_size,
        memory_grow,
        fd_write: fd_write.map(|import| (import, wrapper)),
    };
    let mut code = CodeSection::new();
    for payload in Parser::new(0).parse_all(bytes) {
        if let Payload::CodeSectionEntry(body) = payload? {
            rewriter.parse_function_body(&mut code, body)?;
        }
    }
    for (_, function) in &added {
        code.function(function);
    }
    let add_types = |section: &mut TypeSection| {
        section.ty().function([ValType::I32; 4], [ValType::I32]);
        section.ty().function([], [ValType::I32]);
        section.ty().function([ValType::I32], [ValType::I32]);
    };
    let mutable_i32 = GlobalType {
        val_type: ValType::I32,
        mutable: true,
        shared: false,
    };
    let add_globals = |section: &mut GlobalSection| {
        section.global(mutable_i32, &ConstExpr::i32_const(0));
        section.global(mutable_i32, &ConstExpr::i32_const(memory.initial as i32));
    };
    let add_functions = |section: &mut FunctionSection| {
        for (ty, _) in &added {
            section.function(*ty);
        }
    };
    let add_exports = |section: &mut ExportSection| {
        section.export("cabi_realloc_adapter", ExportKind::Func, realloc);
    };

    // The sections, with the additions; a section the module lacks is
    // made where it belongs.
    let mut module = wasm_encoder::Module::new();
    let mut written = [false; 14];
    let emit_missing = |module: &mut wasm_encoder::Module, before: u8, written: &mut [bool; 14]| {
        for id in [1u8, 3, 6, 7, 10] {
            if section_rank(id) < before && !written[id as usize] {
                written[id as usize] = true;
                match id {
                    1 => {
                        let mut section = TypeSection::new();
                        add_types(&mut section);
                        module.section(&section);
                    }
                    3 => {
                        let mut section = FunctionSection::new();
                        add_functions(&mut section);
                        module.section(&section);
                    }
                    6 => {
                        let mut section = GlobalSection::new();
                        add_globals(&mut section);
                        module.section(&section);
                    }
                    7 => {
                        let mut section = ExportSection::new();
                        add_exports(&mut section);
                        module.section(&section);
                    }
                    _ => {
                        module.section(&code);
                    }
                }
            }
        }
    };
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        if id != 0 {
            emit_missing(&mut module, section_rank(id), &mut written);
        }
        match payload {
            Payload::TypeSection(reader) => {
                let mut section = TypeSection::new();
                RoundtripReencoder.parse_type_section(&mut section, reader)?;
                add_types(&mut section);
                module.section(&section);
                written[1] = true;
            }
            Payload::FunctionSection(reader) => {
                let mut section = FunctionSection::new();
                for ty in reader {
                    section.function(ty?);
                }
                add_functions(&mut section);
                module.section(&section);
                written[3] = true;
            }
            Payload::GlobalSection(reader) => {
                let mut section = GlobalSection::new();
                RoundtripReencoder.parse_global_section(&mut section, reader)?;
                add_globals(&mut section);
                module.section(&section);
                written[6] = true;
            }
            Payload::ExportSection(reader) => {
                let mut section = ExportSection::new();
                rewriter.parse_export_section(&mut section, reader)?;
                add_exports(&mut section);
                module.section(&section);
                written[7] = true;
            }
            Payload::ElementSection(reader) => {
                let mut section = wasm_encoder::ElementSection::new();
                rewriter.parse_element_section(&mut section, reader)?;
                module.section(&section);
            }
            Payload::StartSection { func, .. } => {
                module.section(&wasm_encoder::StartSection {
                    function_index: rewriter.function_index(func)?,
                });
            }
            Payload::CodeSectionStart { .. } => {
                module.section(&code);
                written[10] = true;
            }
            _ => {
                module.section(&RawSection {
                    id,
                    data: &bytes[range.start as usize..range.end as usize],
                });
            }
        }
    }
    emit_missing(&mut module, u8::MAX, &mut written);
    Ok(Some(module.finish()))
}
