//! `weft hash FILE`: prints the `sha256:<hex>` value to paste into a manifest.

use super::HashArgs;
use crate::{Error, Result};

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
    out!("{}", crate::package::hash_of(&bytes));
    Ok(0)
}
