//! `weft check APP`: validates a package as `weft run` would (manifest, hash,
//! wasm, entry point, grants) without running it, and shows what it found.

use std::collections::BTreeMap;
use std::ffi::OsString;

use clap::Args;
use weft::Result;
use weft::app::LoadOptions;
use weft::capabilities::Group;
use weft::limits::{format_bytes, format_duration};
use weft::package::Package;
use weft::wasm::WasmKind;

use crate::load_app;
use crate::options::{CacheArgs, StoreArgs};

#[derive(Args)]
pub(crate) struct CheckArgs {
    /// The package: a directory, its wapp.toml, or an installed app's id.
    #[arg(value_name = "APP")]
    pub app: OsString,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}

pub(crate) fn check(args: CheckArgs) -> Result<i32> {
    let dir = args.store.resolve(&args.app)?;
    let package = Package::load(&dir)?;
    // A `wasi:http/proxy` component is loaded as `weft serve` loads it,
    // anything else as `weft run` does (so the cache entry is the one
    // they use).
    let serve = weft::wasm::exports_http_handler(&package.wasm);
    let options = LoadOptions {
        serve: serve.then_some(1),
        one_process: !serve,
        cache: args.cache.cache(),
        progress: crate::show_progress(),
        ..LoadOptions::default()
    };
    let app = load_app(package, &options)?;
    let manifest = app.manifest();

    out!(
        "package   {} {} ({})",
        manifest.id,
        manifest.version,
        manifest.name
    );
    out!("manifest  {}", app.package().manifest_path.display());
    let kind = match app.kind() {
        WasmKind::Component => "component",
        WasmKind::CoreModule => "core module, adapted with the preview1 command adapter",
    };
    out!(
        "module    {} ({kind}, {} bytes, {} verified)",
        app.package().wasm_path().display(),
        app.package().wasm.len(),
        manifest.hash_string()
    );
    out!("entry     {}", app.entry().describe());
    out!(
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
        out!("imports   none");
    }
    for (i, (group, names)) in by_group.iter().enumerate() {
        let label = if i == 0 { "imports" } else { "" };
        out!("{label:<9} {group}: {}", names.join(", "));
    }
    let unused: Vec<&str> = manifest
        .imports
        .iter()
        .map(|g| g.name())
        .filter(|g| !by_group.contains_key(g))
        .collect();
    if !unused.is_empty() {
        out!("unused    granted but not imported: {}", unused.join(", "));
    }
    let limits = app.limits();
    let mut shown = Vec::new();
    if let Some(memory) = limits.memory {
        shown.push(format!("memory {}", format_bytes(memory)));
    }
    if let Some(fuel) = limits.fuel {
        shown.push(format!("fuel {fuel}"));
    }
    if let Some(timeout) = limits.timeout {
        shown.push(format!("timeout {}", format_duration(timeout)));
    }
    if let Some(n) = limits.table_elements {
        shown.push(format!("table_elements {n}"));
    }
    if let Some(n) = limits.instances {
        shown.push(format!("instances {n}"));
    }
    if let Some(n) = limits.resources {
        shown.push(format!("resources {n}"));
    }
    if !shown.is_empty() {
        out!("limits    {}", shown.join(", "));
    }
    if let Some(command) = &manifest.command {
        out!(
            "command   {}{}",
            command.name,
            command
                .short
                .as_deref()
                .map(|s| format!(": {s}"))
                .unwrap_or_default()
        );
    }
    out!("ok        every import is granted");
    Ok(0)
}
