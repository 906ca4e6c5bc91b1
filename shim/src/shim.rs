//! The shim's three parts for `containerd-shim-wasm`: the [`WeftShim`]
//! itself, the [`WeftSandbox`] that runs one container's app, and the
//! [`WeftCompiler`] that compiles an image's app ahead.

use std::hash::Hash;

use anyhow::Result;
use containerd_shim_wasm::sandbox::Sandbox;
use containerd_shim_wasm::sandbox::context::{RuntimeContext, Source, WasmLayer};
use containerd_shim_wasm::shim::{Compiler, Shim, Version};
use weft_cli::container::{self, Code, LAYER_TYPES, MANIFEST_LAYER, Spec};

pub struct WeftShim;

impl Shim for WeftShim {
    fn name() -> &'static str {
        "weft"
    }

    fn version() -> Version {
        Version {
            version: env!("CARGO_PKG_VERSION"),
            revision: "",
        }
    }

    type Sandbox = WeftSandbox;

    async fn compiler() -> Option<impl Compiler> {
        Some(WeftCompiler)
    }

    fn supported_layers_types() -> &'static [&'static str] {
        LAYER_TYPES
    }
}

#[derive(Default)]
pub struct WeftSandbox;

impl Sandbox for WeftSandbox {
    async fn run_wasi(&self, ctx: &impl RuntimeContext) -> Result<i32> {
        let spec = Spec {
            args: ctx.args().iter().skip(1).cloned().collect(),
            env: ctx.envs().to_vec(),
        };
        let source = match ctx.entrypoint().source {
            Source::Oci(layers) => match from_layers(layers) {
                Ok(source) => source,
                Err(message) => {
                    eprintln!("weft: error: {message}");
                    return Ok(weft::ExitCodes::PACKAGE);
                }
            },
            Source::File(path) => {
                let dir = path
                    .parent()
                    .filter(|dir| !dir.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("/"))
                    .to_path_buf();
                container::Source::Dir(dir)
            }
        };
        // weft's own warnings go to the container's stderr, its log.
        weft_cli::logging::init();
        // weft starts its own async runtimes, which cannot be started
        // inside this one: the app runs on a thread of its own.
        let code = std::thread::scope(|scope| {
            scope
                .spawn(|| container::run(source, spec))
                .join()
                .unwrap_or(weft::ExitCodes::INTERNAL)
        });
        Ok(code)
    }
}

/// The app's two layers, picked by media type.
fn from_layers(layers: &[WasmLayer]) -> std::result::Result<container::Source, String> {
    let mut manifest = None;
    let mut code = None;
    for layer in layers {
        if layer.config.media_type().to_string() == MANIFEST_LAYER {
            manifest = Some(layer.layer.clone());
        } else if layer.precompiled {
            code = Some(Code::Precompiled(layer.layer.clone()));
        } else {
            code = Some(Code::Wasm(layer.layer.clone()));
        }
    }
    match (manifest, code) {
        (Some(manifest), Some(code)) => Ok(container::Source::Layers { manifest, code }),
        (None, _) => Err(format!(
            "the image has no wapp.toml layer ({MANIFEST_LAYER}); build the image with `weft image`"
        )),
        (_, None) => {
            Err("the image has no wasm layer; build the image with `weft image`".to_string())
        }
    }
}

/// Compiles an image's app once; containerd keeps the result.
pub struct WeftCompiler;

impl Compiler for WeftCompiler {
    fn cache_key(&self) -> impl Hash {
        container::precompile_key()
    }

    /// Returns, for each layer, what containerd keeps in its place: the
    /// compiled app for the wasm, and the `wapp.toml` as it is (so that
    /// every layer has precompiled content, and containerd does not ask
    /// again). A refused app (a hash mismatch, an ungranted import) fails
    /// here; the container then reports it as it starts.
    async fn compile(&self, layers: &[WasmLayer]) -> Result<Vec<Option<Vec<u8>>>> {
        let manifest = layers
            .iter()
            .find(|layer| layer.config.media_type().to_string() == MANIFEST_LAYER)
            .ok_or_else(|| {
                anyhow::anyhow!("the image has no wapp.toml layer ({MANIFEST_LAYER})")
            })?;
        let mut compiled = Vec::with_capacity(layers.len());
        for layer in layers {
            if layer.precompiled || layer.config.media_type().to_string() == MANIFEST_LAYER {
                compiled.push(Some(layer.layer.clone()));
            } else {
                let blob = container::precompile(&manifest.layer, layer.layer.clone())
                    .map_err(|err| anyhow::anyhow!("{err}"))?;
                compiled.push(Some(blob));
            }
        }
        Ok(compiled)
    }
}
