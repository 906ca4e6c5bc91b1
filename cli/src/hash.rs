//! `weft hash FILE`: prints the `sha256:<hex>` value to paste into a manifest.

use std::path::PathBuf;

use clap::Args;
use weft::{Error, Result};

#[derive(Args)]
pub(crate) struct HashArgs {
    /// The wasm file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

pub(crate) fn hash(args: HashArgs) -> Result<i32> {
    if args.file.is_dir() {
        return Err(Error::usage(format!(
            "{} is a directory; pass the wasm file to hash",
            args.file.display()
        )));
    }
    let bytes = std::fs::read(&args.file).map_err(|err| {
        Error::usage(format!(
            "cannot read {}: {err}; pass the path of the wasm file to hash",
            args.file.display()
        ))
    })?;
    out!("{}", weft::digest::hash_of(&bytes));
    Ok(0)
}
