//! weft: a WebAssembly component-model host that runs one app per process.
//!
//! An app is a package: a directory with a `wapp.toml` manifest and the wasm
//! it pins by sha256. Data flows one way through the modules:
//!
//! 1. [`store`]: an app id or a path → the package directory;
//! 2. [`manifest`]: `wapp.toml` text → a validated [`manifest::Manifest`];
//! 3. [`package`]: the directory → a [`package::Package`] whose wasm matches its hash;
//! 4. [`loader`]: wasm bytes → a compiled component (core modules through the
//!    preview1 adapter), through [`cache`], the compiled-artifact cache (its
//!    own module rather than part of `loader` as DESIGN.md has it: it owns
//!    the on-disk format, the key and the trust rules);
//! 5. [`capabilities`]: the manifest's grants → a linker with only those
//!    interfaces, and the check that every import is granted;
//! 6. [`app`]: all of the above, once → an [`app::App`] ready to instantiate;
//! 7. [`wasi_config`]: the manifest's args, env, mounts and cwd → per-instance state;
//! 8. [`limits`]: memory, fuel, timeout and caps → store limits, and which limit stopped a guest;
//! 9. [`invoke`]: exported functions by name, arguments parsed by WIT type, results as WAVE/JSON;
//! 10. [`process`]: one run: init, the ready signal ([`ready`]), the call, an [`process::ExitEvent`].
//!
//! Nothing in the library prints to stdout except the `READY` line, and
//! nothing decides an exit code: errors carry an [`ErrorKind`] that the CLI
//! maps to one.
//!
//! ```
//! use weft::app::{App, LoadOptions};
//! use weft::package::Package;
//! use weft::process::{Call, ExitEvent, Spawn};
//! use weft::wasi_config::WasiConfig;
//! use wasmtime::component::Val;
//!
//! # let built = xtask::build_guests(&xtask::workspace_root(), &["compute".to_string()]).unwrap();
//! # let dir = built[0].package.clone();
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // Load once: verify the hash, compile, check the grants, pre-instantiate.
//! let app = App::load(Package::load(&dir)?, &LoadOptions::default())?;
//! // argv is [app id, manifest args...]; env comes from the manifest, with
//! // `from` variables read through the closure.
//! let config = WasiConfig::for_app(&app, &[], |name| std::env::var_os(name))?;
//!
//! // Spawn many processes from it; each ends with an exit event.
//! let method = app.method("compute")?;
//! let args = method.parse_args(&["6".to_string(), "7".to_string()])?;
//! let processes: Vec<_> = (0..100)
//!     .map(|_| {
//!         let call = Call::Method { method: method.clone(), args: args.clone() };
//!         app.spawn(Spawn::new(config.clone(), call))
//!     })
//!     .collect();
//! for process in processes {
//!     match process.wait().await {
//!         ExitEvent::Returned(values) => assert_eq!(values, [Val::U32(42)]),
//!         other => panic!("compute ended with {other:?}"),
//!     }
//! }
//! # Ok::<(), weft::Error>(())
//! # }).unwrap();
//! ```

pub mod app;
mod bindings;
pub mod cache;
pub mod capabilities;
pub mod cli;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod invoke;
pub mod limits;
pub mod loader;
pub mod manifest;
pub mod package;
pub mod process;
pub mod ready;
pub mod store;
pub mod wasi_config;

pub use error::{Error, ErrorKind, Result};
