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

/// Whether a component exports an HTTP handler that `weft serve` serves:
/// `wasi:http/incoming-handler` (any 0.2 version) or `wasi:http/handler`
/// (any 0.3 version), read from its binary without compiling it.
pub fn exports_http_handler(bytes: &[u8]) -> bool {
    let mut found = false;
    let _ = for_each_top_level_payload(bytes, |payload| {
        if let Payload::ComponentExportSection(exports) = payload {
            for export in exports {
                let name = export?.name.name;
                found |= name.starts_with("wasi:http/incoming-handler@")
                    || name.starts_with("wasi:http/handler@");
            }
        }
        Ok(())
    });
    found
}

/// Whether a component uses the component model's async features (WASI
/// 0.3 and `async func`): an import of a WASI 0.3 interface, an `async`
/// function type, a `stream` or `future` type, an `async` lift or lower, or
/// one of the async built-ins (tasks, subtasks, waitables, streams,
/// futures, backpressure, context). Read from
/// the binary without compiling it, in this component and the components
/// nested in it (never in core modules' code).
///
/// Only an engine with Wasmtime's concurrency support runs such a
/// component, and that support costs every call a little bookkeeping, so
/// weft turns it on for these components alone (see
/// [`crate::engine::EngineSettings`]). A binary that cannot be read says
/// `false`: compiling it reports what is wrong.
pub fn uses_component_model_async(bytes: &[u8]) -> bool {
    use wasmparser::{
        CanonicalFunction, CanonicalOption, ComponentDefinedType, ComponentType,
        ComponentTypeDeclaration, InstanceTypeDeclaration,
    };

    fn type_is_async(ty: &ComponentType<'_>) -> bool {
        match ty {
            ComponentType::Func(func) => func.async_,
            ComponentType::Defined(
                ComponentDefinedType::Stream(_) | ComponentDefinedType::Future(_),
            ) => true,
            ComponentType::Component(decls) => decls.iter().any(|decl| match decl {
                ComponentTypeDeclaration::Type(ty) => type_is_async(ty),
                _ => false,
            }),
            ComponentType::Instance(decls) => decls.iter().any(|decl| match decl {
                InstanceTypeDeclaration::Type(ty) => type_is_async(ty),
                _ => false,
            }),
            _ => false,
        }
    }

    fn canonical_is_async(func: &CanonicalFunction) -> bool {
        match func {
            CanonicalFunction::Lift { options, .. } | CanonicalFunction::Lower { options, .. } => {
                options.iter().any(|o| matches!(o, CanonicalOption::Async))
            }
            CanonicalFunction::ResourceNew { .. }
            | CanonicalFunction::ResourceDrop { .. }
            | CanonicalFunction::ResourceRep { .. } => false,
            _ => true,
        }
    }

    // Nested components are read like the outer one; nested core modules
    // are skipped whole, so their code is never read.
    let mut parser = Parser::new(0);
    let mut parents = Vec::new();
    let mut offset = 0usize;
    loop {
        let Some(rest) = bytes.get(offset..) else {
            return false;
        };
        let Ok(wasmparser::Chunk::Parsed { consumed, payload }) = parser.parse(rest, true) else {
            return false;
        };
        offset += consumed;
        match payload {
            Payload::ModuleSection {
                unchecked_range, ..
            } => offset = unchecked_range.end as usize,
            Payload::ComponentSection { parser: nested, .. } => {
                parents.push(std::mem::replace(&mut parser, nested))
            }
            Payload::End(_) => match parents.pop() {
                Some(parent) => parser = parent,
                None => return false,
            },
            // Only an engine with concurrency support links WASI 0.3's
            // interfaces, even those of them without `async` functions.
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    match import {
                        Ok(import) if import.name.name.contains("@0.3.") => return true,
                        Ok(_) => {}
                        Err(_) => return false,
                    }
                }
            }
            Payload::ComponentTypeSection(reader) => {
                for ty in reader {
                    match ty {
                        Ok(ty) if type_is_async(&ty) => return true,
                        Ok(_) => {}
                        Err(_) => return false,
                    }
                }
            }
            Payload::ComponentCanonicalSection(reader) => {
                for func in reader {
                    match func {
                        Ok(func) if canonical_is_async(&func) => return true,
                        Ok(_) => {}
                        Err(_) => return false,
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::uses_component_model_async as uses_async;

    fn component(text: &str) -> Vec<u8> {
        wat::parse_str(text).expect("valid WAT")
    }

    #[test]
    fn plain_components_use_no_async() {
        assert!(!uses_async(&component("(component)")));
        assert!(!uses_async(&component(
            r#"(component
                (import "wasi:random/random@0.2.12" (instance))
                (core module $m (func (export "f") (result i32) i32.const 1))
                (core instance $i (instantiate $m))
                (func (export "f") (result u32) (canon lift (core func $i "f"))))"#
        )));
    }

    #[test]
    fn wasi_0_3_imports_need_concurrency_even_without_async_functions() {
        assert!(uses_async(&component(
            r#"(component (import "wasi:random/random@0.3.0" (instance)))"#
        )));
    }

    #[test]
    fn async_types_and_lifts_are_found() {
        assert!(uses_async(&component("(component (type (stream u8)))")));
        assert!(uses_async(&component("(component (type (future u32)))")));
        assert!(uses_async(&component("(component (type (func async)))")));
        // Inside an imported instance's type, as WASI 0.3 interfaces are.
        assert!(uses_async(&component(
            r#"(component (import "x:y/z" (instance (export "f" (func async)))))"#
        )));
        // In a nested component.
        assert!(uses_async(&component(
            "(component (component (type (stream u8))))"
        )));
        // After a core module, which is skipped whole.
        assert!(uses_async(&component(
            r#"(component
                (core module (func (export "f") (result i32) i32.const 1))
                (type (stream u8)))"#
        )));
    }

    #[test]
    fn an_unreadable_binary_is_left_to_the_compiler() {
        assert!(!uses_async(b"\0asm\x0d\0\x01\0garbage"));
        assert!(!uses_async(b""));
    }
}
