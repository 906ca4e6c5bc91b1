//! What the fuzz targets in `fuzz/` run, and the regression tests replay:
//! each function takes arbitrary bytes and must return, whatever they are.
//! A panic is a bug (the fuzzer reports it as a crash); so is an error with
//! no message. Not part of weft's API.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::ErrorKind;
use crate::app::{App, LoadOptions};
use crate::digest::hash_of;
use crate::invoke::{exported_functions, parse_value, to_wave};
use crate::manifest::Manifest;
use crate::package::Package;

/// The manifest parser and validator: bytes as a `wapp.toml`.
pub fn manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(err) = Manifest::parse(text, Path::new("fuzz/wapp.toml")) {
        assert!(!err.to_string().trim().is_empty(), "an empty error message");
    }
}

/// Package loading: bytes as the app's wasm, in a package whose manifest
/// pins their own hash (so they go on to core-module detection, adaptation,
/// the import check and compilation) and, when the first byte is odd, a
/// wrong hash (which must refuse them before anything parses them).
pub fn package(data: &[u8]) {
    let dir = scratch_dir();
    let pinned = hash_of(data);
    let wrong_hash = data.first().is_some_and(|b| b % 2 == 1);
    let hash = if wrong_hash {
        hash_of(b"something else")
    } else {
        pinned
    };
    std::fs::write(dir.join("wapp.toml"), manifest_for(&hash)).expect("writing the manifest");
    std::fs::write(dir.join("app.wasm"), data).expect("writing the wasm");
    let package = match Package::load(&dir) {
        Ok(package) => package,
        Err(err) => {
            assert!(
                wrong_hash,
                "a package with the right hash was refused: {err}"
            );
            assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
            return;
        }
    };
    assert!(!wrong_hash, "a wrong hash was accepted");
    let options = LoadOptions {
        one_process: true,
        ..LoadOptions::default()
    };
    if let Err(err) = App::load(package, &options) {
        assert!(!err.to_string().trim().is_empty(), "an empty error message");
    }
}

/// Argument parsing for method calls: the first byte picks one of the
/// `types` guest's exported functions (in the order of their names), the
/// rest are its arguments separated by NUL bytes. What parses must print as WAVE and parse back the same.
pub fn method_args(data: &[u8]) {
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let (app, names) = types_guest();
    let name = &names[*selector as usize % names.len()];
    let method = app.method(name).expect("an exported function");
    let text = String::from_utf8_lossy(rest);
    let args: Vec<String> = text.split('\0').map(str::to_string).collect();
    match method.parse_args(&args) {
        Ok(values) => {
            for ((param, ty), value) in method.params.iter().zip(&values) {
                let wave = to_wave(value).expect("a parsed value prints as WAVE");
                let again = parse_value(param, ty, &wave)
                    .unwrap_or_else(|err| panic!("{wave} does not parse back: {err}"));
                let wave_again = to_wave(&again).expect("prints again");
                assert_eq!(wave, wave_again, "WAVE text does not round-trip");
            }
        }
        Err(err) => assert!(!err.to_string().trim().is_empty(), "an empty error message"),
    }
}

/// A manifest for `app.wasm` pinned to `hash` that grants every group.
fn manifest_for(hash: &str) -> String {
    format!(
        r#"[package]
id = "org.weft.fuzz"
name = "fuzz"
version = "0.1.0"

[runtime]
module = "app.wasm"
hash = "{hash}"
imports = ["wasi:io", "wasi:cli", "wasi:clocks", "wasi:filesystem", "wasi:random", "wasi:sockets", "wasi:http"]
"#
    )
}

/// A directory of this process's own for the package under test.
fn scratch_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("weft-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the scratch directory");
        dir
    })
    .clone()
}

/// The `types` guest (`cargo xtask guests types` builds it), loaded once,
/// and its exported functions' names. `WEFT_FUZZ_TYPES` names another
/// package directory.
fn types_guest() -> &'static (App, Vec<String>) {
    static GUEST: OnceLock<(App, Vec<String>)> = OnceLock::new();
    GUEST.get_or_init(|| {
        let dir = std::env::var_os("WEFT_FUZZ_TYPES")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../target/weft-guests/store/org.weft.guests.types")
            });
        let package = Package::load(&dir).unwrap_or_else(|err| {
            panic!("{err} (build the types guest first: cargo xtask guests types)")
        });
        let options = LoadOptions {
            one_process: true,
            ..LoadOptions::default()
        };
        let app = App::load(package, &options).expect("loading the types guest");
        let mut names = exported_functions(&app.inner.component, &app.inner.engine);
        assert!(!names.is_empty(), "the types guest exports no functions");
        // By name, so that a seed's first byte always picks the same function.
        names.sort();
        (app, names)
    })
}
