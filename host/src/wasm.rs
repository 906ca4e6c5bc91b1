//! Reading a wasm binary without compiling it: whether it is a component or
//! a core module, and what its own top-level sections import and export.

use std::path::Path;

use wasmparser::{Parser, Payload};

use crate::{Error, Result};

/// What the package's wasm file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmKind {
    Component,
    CoreModule,
}

/// The interface that adapted core modules import for `proc_exit`, which
/// weft implements itself (see [`crate::loader`]).
pub const PREVIEW1_EXIT_INTERFACE: &str = "weft:preview1/exit@0.1.0";

/// Tells a component from a core module by the header, before any parsing.
pub fn kind_of(bytes: &[u8], path: &Path) -> Result<WasmKind> {
    if Parser::is_component(bytes) {
        Ok(WasmKind::Component)
    } else if Parser::is_core_wasm(bytes) {
        Ok(WasmKind::CoreModule)
    } else if bytes.is_empty() {
        Err(Error::package(format!(
            "module {} is empty; build the app and point `runtime.module` at its .wasm file",
            path.display()
        )))
    } else {
        Err(Error::package(format!(
            "module {} is not WebAssembly (it does not start with the wasm magic bytes and a known version); point `runtime.module` at a component or a core module",
            path.display()
        )))
    }
}

/// Calls `visit` with each payload of a component's own sections, skipping
/// the modules and components nested in it (their imports and exports are
/// their parent's business, not the host's).
pub(crate) fn for_each_top_level_payload<'a>(
    bytes: &'a [u8],
    mut visit: impl FnMut(Payload<'a>) -> std::result::Result<(), wasmparser::BinaryReaderError>,
) -> std::result::Result<(), wasmparser::BinaryReaderError> {
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            payload if depth == 0 => visit(payload)?,
            _ => {}
        }
    }
    Ok(())
}

/// Whether a component exports `wasi:http/incoming-handler` (any 0.2
/// version), read from its binary without compiling it.
pub fn exports_http_handler(bytes: &[u8]) -> bool {
    let mut found = false;
    let _ = for_each_top_level_payload(bytes, |payload| {
        if let Payload::ComponentExportSection(exports) = payload {
            for export in exports {
                found |= export?.name.name.starts_with("wasi:http/incoming-handler@");
            }
        }
        Ok(())
    });
    found
}
