//! `weft compile APP...` fills the compiled-artifact cache; `weft cache
//! clean` empties it and `weft cache dir` shows where it is.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use weft::app::LoadOptions;
use weft::cache::{Cache, Outcome};
use weft::package::Package;
use weft::{Error, Result};

use crate::load_app;
use crate::options::StoreArgs;

#[derive(Args)]
pub(crate) struct CompileArgs {
    /// The apps: package directories, wapp.toml files, app ids or command names.
    #[arg(value_name = "APP", required = true)]
    pub apps: Vec<OsString>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// The cache directory [default: $WEFT_CACHE_DIR, else $XDG_CACHE_HOME/weft, else ~/.cache/weft].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum CacheCommand {
    /// Remove every compiled artifact from the cache.
    Clean(CacheDirArgs),
    /// Print the cache directory.
    Dir(CacheDirArgs),
}

#[derive(Args)]
pub(crate) struct CacheDirArgs {
    /// The cache directory [default: $WEFT_CACHE_DIR, else $XDG_CACHE_HOME/weft, else ~/.cache/weft].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

pub(crate) fn compile(args: CompileArgs) -> Result<i32> {
    let cache = cache_at(args.cache_dir)?;
    for app in &args.apps {
        let dir = args.store.resolve(app)?;
        let package = Package::load(&dir)?;
        // A `wasi:http/proxy` component is loaded as `weft serve` loads it,
        // anything else as `weft run` does (so the cache entry is the one
        // they use).
        let serve = weft::wasm::exports_http_handler(&package.wasm);
        let options = LoadOptions {
            serve: serve.then_some(1),
            one_process: !serve,
            cache: Some(cache.clone()),
            progress: crate::show_progress(),
            ..LoadOptions::default()
        };
        let app = load_app(package, &options)?;
        let what = match app.compiled() {
            Outcome::Hit => "already cached",
            Outcome::Stored => "compiled and cached",
            Outcome::Replaced => "compiled; replaced an unusable cache entry",
            Outcome::Compiled => "compiled, but the cache entry could not be written",
            Outcome::Untrusted => {
                "compiled, but not cached (other users could write to the cache; see the warning)"
            }
        };
        out!("{}: {what} in {}", app.id(), cache.dir().display());
    }
    Ok(0)
}

pub(crate) fn cache(command: CacheCommand) -> Result<i32> {
    match command {
        CacheCommand::Clean(args) => {
            let cache = cache_at(args.cache_dir)?;
            let (files, bytes) = cache.clean()?;
            out!(
                "removed {files} cached artifact{} ({:.1} MB) from {}",
                if files == 1 { "" } else { "s" },
                bytes as f64 / 1e6,
                cache.dir().display()
            );
        }
        CacheCommand::Dir(CacheDirArgs { cache_dir }) => {
            out!("{}", cache_at(cache_dir)?.dir().display());
        }
    }
    Ok(0)
}

fn cache_at(dir: Option<PathBuf>) -> Result<Cache> {
    dir.map(Cache::new).or_else(Cache::from_env).ok_or_else(|| {
        Error::usage(
            "no cache directory is known: none of WEFT_CACHE_DIR, XDG_CACHE_HOME and HOME is set; pass --cache-dir DIR",
        )
    })
}
