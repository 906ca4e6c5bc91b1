//! weft: a WebAssembly component-model host that runs one app per process.
//!
//! An app is a package: a directory with a `wapp.toml` manifest and the wasm
//! it pins by sha256. Data flows one way through the modules:
//!
//! 1. [`store`]: an app id or a path → the package directory;
//! 2. [`manifest`]: `wapp.toml` text → a validated [`manifest::Manifest`];
//! 3. [`package`]: the directory → a [`package::Package`] whose wasm matches its hash;
//! 4. [`loader`]: wasm bytes → a compiled component (core modules through the
//!    preview1 adapter);
//! 5. [`capabilities`]: the manifest's grants → a linker with only those
//!    interfaces, and the check that every import is granted;
//! 6. [`app`]: all of the above, once → an [`app::App`] ready to instantiate;
//! 7. [`wasi_config`]: the manifest's args, env, mounts and cwd → per-instance state;
//! 8. [`process`]: one run: init, the ready signal ([`ready`]), the entry, the exit status.
//!
//! Nothing in the library prints to stdout except the `READY` line, and
//! nothing decides an exit code: errors carry an [`ErrorKind`] that the CLI
//! maps to one.
//!
//! ```no_run
//! # async fn example() -> weft::Result<()> {
//! let dir = weft::store::resolve("./my-app")?;
//! let package = weft::package::Package::load(&dir)?;
//! let engine = weft::app::engine()?;
//! let app = weft::app::App::load(&engine, package)?;
//! let config = weft::wasi_config::WasiConfig::resolve(
//!     app.manifest(),
//!     &app.package().manifest_path,
//!     &app.package().dir,
//!     app.id(),
//!     &[],
//!     |name| std::env::var(name).ok(),
//! )?;
//! let status = weft::process::run(&app, &config, || Ok(())).await?;
//! println!("exited with {}", status.0);
//! # Ok(())
//! # }
//! ```

pub mod app;
mod bindings;
pub mod capabilities;
pub mod cli;
mod error;
pub mod loader;
pub mod manifest;
pub mod package;
pub mod process;
pub mod ready;
pub mod store;
pub mod wasi_config;

pub use error::{Error, ErrorKind, Result};
