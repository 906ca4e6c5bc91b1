//! Options several subcommands share: where apps are looked up (`--store`),
//! where compiled code is cached (`--cache-dir`, `--no-cache`), and the limit
//! flags of `run` and `serve`.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::Args;
use weft::cache::Cache;
use weft::limits::{Limits, parse_bytes, parse_duration};
use weft::{Error, Result};

/// `--store`: the package stores app ids and command names are looked up in.
#[derive(Args)]
pub struct StoreArgs {
    /// Look up app ids and command names in this package store only
    /// (repeatable: searched in order).
    #[arg(long, value_name = "DIR")]
    pub store: Vec<PathBuf>,
}

impl StoreArgs {
    /// The `--store` directories if any were given, else the default stores.
    pub fn roots(&self) -> Vec<PathBuf> {
        if self.store.is_empty() {
            weft::store::store_roots()
        } else {
            self.store.clone()
        }
    }

    /// The package directory for the app named on the command line.
    pub fn resolve(&self, app: &OsStr) -> Result<PathBuf> {
        weft::store::resolve_in(app_name(app)?, &self.roots())
    }
}

/// The app named on the command line, which must be UTF-8 to be resolved.
pub fn app_name(app: &OsStr) -> Result<&str> {
    app.to_str().ok_or_else(|| {
        Error::usage(format!(
            "the app path {} is not valid UTF-8; rename it or name the app by its id",
            app.to_string_lossy()
        ))
    })
}

/// Where compiled code is cached; `run`, `serve` and `check` share these.
#[derive(Args)]
pub struct CacheArgs {
    /// Keep compiled code in DIR [default: $WEFT_CACHE_DIR, else
    /// $XDG_CACHE_HOME/weft, else ~/.cache/weft].
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,
    /// Compile without reading or writing the cache.
    #[arg(long)]
    pub no_cache: bool,
}

impl CacheArgs {
    pub fn cache(&self) -> Option<Cache> {
        if self.no_cache {
            return None;
        }
        match &self.cache_dir {
            Some(dir) => Some(Cache::new(dir)),
            None => Cache::from_env(),
        }
    }
}

/// The limit flags `run` and `serve` share; each overrides the manifest.
#[derive(Args)]
pub struct LimitArgs {
    /// Cap each linear memory, like 64MiB (overrides [runtime.limits] memory).
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    pub memory: Option<u64>,
    /// Instruction budget, in fuel units (overrides [runtime.limits] fuel).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub fuel: Option<u64>,
    /// Wall-clock deadline, like 5s or 500ms (overrides [runtime.limits] timeout).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Cap on the elements of each table (overrides [runtime.limits] table_elements).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub table_elements: Option<u64>,
    /// Cap on core instances (overrides [runtime.limits] instances).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub instances: Option<u64>,
    /// Cap on resources held at once: WASI resources and component handles (overrides [runtime.limits] resources).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub resources: Option<u64>,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            memory: self.memory,
            fuel: self.fuel,
            timeout: self.timeout,
            table_elements: self.table_elements,
            instances: self.instances,
            resources: self.resources,
        }
    }
}
