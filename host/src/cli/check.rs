//! `weft check APP`: validates a package as `weft run` would (manifest, hash,
//! wasm, entry point, grants) without running it, and shows what it found.

use std::collections::BTreeMap;

use super::CheckArgs;
use crate::app::{self, App};
use crate::capabilities::Group;
use crate::loader::WasmKind;
use crate::package::Package;
use crate::store;
use crate::{Error, Result};

pub(crate) fn check(args: CheckArgs) -> Result<i32> {
    let target = args.app.to_str().ok_or_else(|| {
        Error::usage(format!(
            "the app path {} is not valid UTF-8; rename it or check it by app id",
            args.app.to_string_lossy()
        ))
    })?;
    let roots = match args.store {
        Some(dir) => vec![dir],
        None => store::store_roots(),
    };
    let dir = store::resolve_in(target, &roots)?;
    let package = Package::load(&dir)?;
    let engine = app::engine()?;
    let app = App::load(&engine, package)?;
    let manifest = app.manifest();

    println!(
        "package   {} {} ({})",
        manifest.id, manifest.version, manifest.name
    );
    println!("manifest  {}", app.package().manifest_path.display());
    let kind = match app.kind() {
        WasmKind::Component => "component",
        WasmKind::CoreModule => "core module, adapted with the preview1 command adapter",
    };
    println!(
        "module    {} ({kind}, {} bytes, {} verified)",
        app.package().wasm_path().display(),
        app.package().wasm.len(),
        manifest.hash_string()
    );
    println!("entry     {}", app.entry().describe());
    println!(
        "ready     {}",
        if app.has_ready_hook() {
            "weft-ready is exported and is called before READY"
        } else {
            "no weft-ready hook: ready once instantiated"
        }
    );
    let mut by_group: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for import in app.imports() {
        let group = import.group.map_or("(none)", Group::name);
        by_group.entry(group).or_default().push(&import.name);
    }
    if by_group.is_empty() {
        println!("imports   none");
    }
    for (i, (group, names)) in by_group.iter().enumerate() {
        let label = if i == 0 { "imports" } else { "" };
        println!("{label:<9} {group}: {}", names.join(", "));
    }
    let unused: Vec<&str> = manifest
        .imports
        .iter()
        .map(|g| g.name())
        .filter(|g| !by_group.contains_key(g))
        .collect();
    if !unused.is_empty() {
        println!("unused    granted but not imported: {}", unused.join(", "));
    }
    println!("ok        every import is granted");
    Ok(0)
}
