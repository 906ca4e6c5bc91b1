//! weft inside a container: what `containerd-shim-weft-v1` runs for an image
//! that `weft image` wrote (or a plain image whose files hold a package).
//!
//! An image carries the app in two layers, told apart by media type: its
//! wasm ([`COMPONENT_LAYER`], or [`MODULE_LAYER`] for a preview1 core
//! module) and its `wapp.toml` ([`MANIFEST_LAYER`]). The container runs the
//! app as `weft run` runs it (or as `weft serve` serves it, for a
//! `wasi:http` app), with the same checks, limits, messages and exit codes:
//!
//! - the package directory is the container's root, so a mount's `host`
//!   path names a path in the container's filesystem (where Kubernetes
//!   puts volumes);
//! - the container's arguments after the first (the wasm's name, from the
//!   image's entrypoint) follow the manifest's `args`, as `weft run`'s do;
//!   for an app whose entry is a method, they are its arguments;
//! - the container's environment is the host environment of the manifest's
//!   `from =` variables; the guest sees only the manifest's `env`;
//! - a `wasi:http` app listens on `0.0.0.0:80`, or on `WEFT_LISTEN` from
//!   the container's environment, with `weft serve`'s defaults, and stops
//!   gracefully on SIGTERM; `WEFT_METRICS=ADDR` serves its metrics as
//!   `weft serve --metrics ADDR` does;
//! - a failure is one line on stderr (the container's log) and its exit code.
//!
//! Compiling ahead ([`precompile`]) checks the hash pin and the grants
//! first; containerd keeps the result as a content blob, and
//! [`run`] loads it instead of compiling. The blob holds the wasm too, so
//! that every start checks the hash pin again.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;
use wasmtime::component::Val;
use weft::app::{App, Entry, LoadOptions};
use weft::package::Package;
use weft::process::Call;
use weft::{Error, ErrorKind, Result};

use crate::serve::ServeArgs;

pub use crate::image::{COMPONENT_LAYER, MANIFEST_LAYER, MODULE_LAYER};

/// Every layer type an image of a weft app has.
pub const LAYER_TYPES: &[&str] = &[COMPONENT_LAYER, MODULE_LAYER, MANIFEST_LAYER];

/// Where a `wasi:http` app listens unless the container sets `WEFT_LISTEN`.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:80";

/// The first bytes of a precompiled blob: then the wasm's length (u64,
/// little-endian), the wasm, and the compiled code.
const PRECOMPILED_MAGIC: &[u8; 8] = b"WEFTOCI1";

/// Where the image's package is, as far as paths in messages and mounts go.
const PACKAGE_DIR: &str = "/";

/// How messages name the manifest layer.
const MANIFEST_NAME: &str = "the image's wapp.toml";

/// The app's wasm, as the image holds it or as [`precompile`] left it.
pub enum Code {
    Wasm(Vec<u8>),
    Precompiled(Vec<u8>),
}

/// Where the app comes from.
pub enum Source {
    /// The image's layers: the manifest's text and the wasm.
    Layers { manifest: Vec<u8>, code: Code },
    /// A package directory in the container's filesystem (an image whose
    /// files hold `wapp.toml` and the wasm; the entrypoint names the wasm).
    Dir(PathBuf),
}

/// What the container spec says.
pub struct Spec {
    /// The arguments after the entrypoint.
    pub args: Vec<String>,
    /// `NAME=value` entries.
    pub env: Vec<String>,
}

/// Compiles the app in an image's layers for [`run`]: the manifest is
/// parsed, the wasm checked against its hash pin, and its imports against
/// the grants, before anything is compiled.
pub fn precompile(manifest: &[u8], wasm: Vec<u8>) -> Result<Vec<u8>> {
    let package = package_from_layers(manifest, wasm)?;
    let options = load_options(&package);
    let code = App::precompile(&package, &options)?;
    let mut blob = Vec::with_capacity(16 + package.wasm.len() + code.len());
    blob.extend_from_slice(PRECOMPILED_MAGIC);
    blob.extend_from_slice(&(package.wasm.len() as u64).to_le_bytes());
    blob.extend_from_slice(&package.wasm);
    blob.extend_from_slice(&code);
    Ok(blob)
}

/// What differs between weft builds in what [`precompile`] makes: a new
/// key makes containerd compile again.
pub fn precompile_key() -> String {
    format!(
        "weft {} ({} {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS
    )
}

/// Runs the container's app to its end; returns the container's exit code.
/// Every failure is reported on stderr as one line, as `weft run` reports it.
pub fn run(source: Source, spec: Spec) -> i32 {
    match run_app(source, spec) {
        Ok(code) => code,
        Err(err) => {
            crate::report(&err);
            err.kind().exit_code()
        }
    }
}

fn run_app(source: Source, spec: Spec) -> Result<i32> {
    let env = environment(&spec.env);
    let app = load(source)?;
    if app.http_pre().is_some() {
        let listen = env
            .get("WEFT_LISTEN")
            .map_or(DEFAULT_LISTEN, String::as_str)
            .to_string();
        let args = serve_args(&listen, env.get("WEFT_METRICS").map(String::as_str))?;
        return crate::serve::serve_loaded(app, &args, Some(env));
    }
    let (call, argv) = match app.entry() {
        Entry::Method(method) => {
            let values: Vec<Val> = method.parse_args(&spec.args)?;
            let call = Call::Method {
                method: method.clone(),
                args: values,
            };
            (call, Vec::new())
        }
        Entry::Run | Entry::Start | Entry::HttpHandler => (Call::Run, spec.args),
    };
    crate::run::execute(app, call, &argv, false, false, &|name| {
        env.get(name).map(OsString::from)
    })
}

/// The container's app, loaded from its precompiled code when containerd
/// holds it (its hash pin checked again all the same), else compiled.
fn load(source: Source) -> Result<App> {
    let (package, code) = match source {
        Source::Dir(dir) => (Package::load(&dir)?, None),
        Source::Layers {
            manifest,
            code: Code::Wasm(wasm),
        } => (package_from_layers(&manifest, wasm)?, None),
        Source::Layers {
            manifest,
            code: Code::Precompiled(blob),
        } => {
            let (wasm, code) = split_precompiled(&blob)?;
            (
                package_from_layers(&manifest, wasm.to_vec())?,
                Some(code.to_vec()),
            )
        }
    };
    let options = load_options(&package);
    if let Some(code) = code {
        // SAFETY: the code is what `precompile` made; containerd keeps it
        // in its content store, which only root can write.
        match unsafe { App::load_precompiled(package.clone(), &code, &options) } {
            Err(err) if err.kind() == ErrorKind::Internal => {
                tracing::warn!("{err}; compiling the app instead");
            }
            loaded => return loaded,
        }
    }
    App::load(package, &options)
}

/// How an app in a container is loaded: as `weft serve` loads it (with its
/// default flags) when it exports an HTTP handler, else as `weft run` does;
/// never from weft's own cache (containerd keeps the compiled code).
fn load_options(package: &Package) -> LoadOptions {
    if weft::wasm::exports_http_handler(&package.wasm) {
        let mut options = serve_args(DEFAULT_LISTEN, None)
            .map(|args| args.load_options())
            .unwrap_or_default();
        options.cache = None;
        options.progress = false;
        options
    } else {
        LoadOptions {
            one_process: true,
            ..LoadOptions::default()
        }
    }
}

/// `weft serve`'s flags at their defaults, listening on `listen`, and
/// serving metrics on `metrics` if given.
fn serve_args(listen: &str, metrics: Option<&str>) -> Result<ServeArgs> {
    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }
    let bad = |name: &str, value: &str| {
        Error::usage(format!(
            "{name}={value} is not an address to listen on; set it to one like 0.0.0.0:8080 in the container's environment"
        ))
    };
    if let Some(metrics) = metrics
        && metrics.parse::<std::net::SocketAddr>().is_err()
    {
        return Err(bad("WEFT_METRICS", metrics));
    }
    let mut argv = vec!["serve", "--no-cache", "--listen", listen];
    if let Some(metrics) = metrics {
        argv.extend(["--metrics", metrics]);
    }
    argv.push(PACKAGE_DIR);
    Serve::try_parse_from(argv)
        .map(|serve| serve.args)
        .map_err(|_| bad("WEFT_LISTEN", listen))
}

fn package_from_layers(manifest: &[u8], wasm: Vec<u8>) -> Result<Package> {
    let dir = Path::new(PACKAGE_DIR);
    // Only messages show it: "… but the image's wapp.toml pins …".
    let manifest_path = PathBuf::from(MANIFEST_NAME);
    let text = std::str::from_utf8(manifest).map_err(|_| {
        Error::package(format!(
            "{MANIFEST_NAME} ({MANIFEST_LAYER}) is not UTF-8 text; rebuild the image with `weft image`"
        ))
    })?;
    Package::from_bytes(dir, &manifest_path, text, wasm)
}

fn split_precompiled(blob: &[u8]) -> Result<(&[u8], &[u8])> {
    let bad = || {
        Error::internal(
            "the precompiled code containerd holds for this image is not weft's; remove the image and import it again",
        )
    };
    let rest = blob.strip_prefix(PRECOMPILED_MAGIC).ok_or_else(bad)?;
    let (len, rest) = rest.split_first_chunk::<8>().ok_or_else(bad)?;
    let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| bad())?;
    if len > rest.len() {
        return Err(bad());
    }
    Ok(rest.split_at(len))
}

/// The container spec's `NAME=value` entries as a map (a later entry of the
/// same name wins, as in a process environment).
fn environment(entries: &[String]) -> BTreeMap<String, String> {
    entries
        .iter()
        .filter_map(|entry| entry.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_precompiled_blob_splits_into_wasm_and_code() {
        let mut blob = PRECOMPILED_MAGIC.to_vec();
        blob.extend_from_slice(&3u64.to_le_bytes());
        blob.extend_from_slice(b"abcdefg");
        let (wasm, code) = split_precompiled(&blob).unwrap();
        assert_eq!((wasm, code), (&b"abc"[..], &b"defg"[..]));
    }

    #[test]
    fn a_blob_that_is_not_weft_s_is_refused() {
        assert!(split_precompiled(b"\0asm\x01\0\0\0").is_err());
        let mut short = PRECOMPILED_MAGIC.to_vec();
        short.extend_from_slice(&99u64.to_le_bytes());
        short.extend_from_slice(b"abc");
        let err = split_precompiled(&short).unwrap_err();
        assert!(err.to_string().contains("import it again"), "{err}");
    }

    #[test]
    fn the_container_environment_is_a_map_where_later_entries_win() {
        let env = environment(&[
            "PATH=/bin".to_string(),
            "A=1".to_string(),
            "A=2=3".to_string(),
            "NOVALUE".to_string(),
        ]);
        assert_eq!(env.get("A").map(String::as_str), Some("2=3"));
        assert_eq!(env.get("PATH").map(String::as_str), Some("/bin"));
        assert!(!env.contains_key("NOVALUE"));
    }

    #[test]
    fn a_bad_weft_listen_or_weft_metrics_is_one_sentence() {
        let err = serve_args("not an address", None).err().unwrap();
        assert!(
            err.to_string().contains("WEFT_LISTEN=not an address"),
            "{err}"
        );
        let err = serve_args("0.0.0.0:8080", Some(":9090")).err().unwrap();
        assert!(err.to_string().contains("WEFT_METRICS=:9090"), "{err}");
        let args = serve_args("0.0.0.0:8080", Some("0.0.0.0:9090")).unwrap();
        assert_eq!(args.listen.port(), 8080);
        assert_eq!(args.metrics.map(|m| m.port()), Some(9090));
        assert_eq!(serve_args("0.0.0.0:8080", None).unwrap().metrics, None);
    }
}
