//! weft: a WebAssembly component-model host that runs one app per process.
//!
//! An app is a package: a directory with a `wapp.toml` manifest and the wasm
//! it pins by sha256. Data flows one way through the modules, and each
//! module uses only those before it (a test in `host/tests/module_graph.rs`
//! keeps it so):
//!
//! 1. leaves: [`error`] (an [`ErrorKind`] and one sentence, and the exit
//!    code of each kind), [`limits`] (limit values, and which limit stopped
//!    a guest), [`digest`] (sha256 in the manifest's form), [`id`] (app ids
//!    and command names), [`wasm`] (component or core module, top-level
//!    imports and exports), [`engine`] (the Wasmtime engine's settings),
//!    [`invoke`] (exported functions by name, values as WAVE/JSON),
//!    [`ready`] (the `READY` line and `$NOTIFY_SOCKET`);
//! 2. [`capabilities`]: one room per WASI group, each with its interface
//!    table and link calls, the validation of its manifest values and its
//!    per-instance preparation; the linker of the granted groups and the
//!    import check;
//! 3. [`manifest`]: `wapp.toml` text → a validated [`manifest::Manifest`];
//! 4. [`store`] (an app id or a path → the package directory) and
//!    [`package`] (the directory → a [`package::Package`] whose wasm matches
//!    its hash);
//! 5. [`loader`] (wasm bytes → a compiled component, core modules through
//!    the preview1 adapter) and [`cache`] (the compiled-artifact cache);
//! 6. [`instance`]: per-instance state, and the one store set-up (limits,
//!    fuel, epoch deadline, timeout) that processes and requests share;
//! 7. [`app`]: all of the above, once → an [`app::App`] ready to instantiate;
//! 8. [`process`]: one run: init, the ready signal, the call, an
//!    [`process::ExitEvent`];
//! 9. [`serve`]: `weft serve`, a fresh instance per HTTP request.
//!
//! Nothing in the library prints to stdout except the `READY` line; its
//! warnings go through `tracing`. Errors carry an [`ErrorKind`], and
//! [`ErrorKind::exit_code`] is the one mapping from a kind to an exit code,
//! for every front end.
//!
//! ```
//! use weft::app::{App, LoadOptions};
//! use weft::package::Package;
//! use weft::process::{Call, ExitEvent, Spawn};
//! use wasmtime::component::Val;
//!
//! # let built = xtask::build_guests(&xtask::workspace_root(), &["compute".to_string()]).unwrap();
//! # let dir = built[0].package.clone();
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // Load once: verify the hash, compile, check the grants, pre-instantiate.
//! let app = App::load(Package::load(&dir)?, &LoadOptions::default())?;
//! // argv is [app id, manifest args...]; env comes from the manifest, with
//! // `from` variables read through the closure.
//! let config = app.wasi_config(&[], |name| std::env::var_os(name))?;
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
pub mod digest;
pub mod engine;
mod error;
#[cfg(feature = "compiler")]
#[doc(hidden)]
pub mod fuzzing;
pub mod id;
pub mod instance;
pub mod invoke;
pub mod limits;
#[cfg(feature = "compiler")]
pub mod loader;
pub mod manifest;
pub mod package;
pub mod process;
pub mod ready;
pub mod serve;
pub mod store;
pub mod wasm;

pub use error::{Error, ErrorKind, ExitCodes, Result};
