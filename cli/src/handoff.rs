//! A weft built without the compiler (the `weft` and `weft-runtime`
//! binaries) runs apps from the compiled-artifact cache. When an app has to
//! be compiled first (not in the cache yet, `--no-cache`, a discarded entry),
//! it hands the whole command over to `weft-compiler`: the same command line
//! with Cranelift linked in, executed in place of this process (same process
//! id, same arguments, same standard streams, so a supervisor sees nothing
//! change). Nothing has been written to stdout by then: an app is loaded
//! before `READY` and before it runs.
//!
//! The compiler is `$WEFT_COMPILER` when set, else `weft-compiler` in the
//! directory of this executable.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;

use weft::Error;

/// Set in the compiler's environment, so that a `WEFT_COMPILER` pointing at
/// a weft without a compiler fails instead of handing over forever.
const HANDED_OVER: &str = "WEFT_HANDED_OVER";

/// What this process was started as (`weft` or `weft-runtime`) and its argv.
static INVOCATION: OnceLock<(&'static str, Vec<OsString>)> = OnceLock::new();

/// Records the invocation that [`exec`] hands over.
pub(crate) fn remember(invoked_as: &'static str, args: &[OsString]) {
    let _ = INVOCATION.set((invoked_as, args.to_vec()));
}

/// Replaces this process with the compiler running the same command. It
/// returns only when that cannot be done, with the error to report; `why`
/// says why the compiler is needed.
pub(crate) fn exec(why: &str) -> Error {
    let fail = |message: String| Error::internal(message);
    let Some((invoked_as, args)) = INVOCATION.get() else {
        return fail(format!(
            "{why}, and this weft cannot tell how it was started"
        ));
    };
    if std::env::var_os(HANDED_OVER).is_some() {
        return fail(format!(
            "{why}: this weft was itself started as the compiler, so WEFT_COMPILER ({}) names a weft without one; point it at weft-compiler, or unset it",
            std::env::var_os("WEFT_COMPILER")
                .unwrap_or_default()
                .to_string_lossy()
        ));
    }
    let compiler = match compiler_path() {
        Ok(path) => path,
        Err(message) => return fail(format!("{why}: {message}")),
    };
    if !compiler.is_file() {
        return fail(format!(
            "{why}: weft hands compiling to {}, which does not exist; install weft-compiler next to weft (`cargo install --path compiler`), or set WEFT_COMPILER to its path",
            compiler.display()
        ));
    }
    tracing::debug!("handing over to {} to compile", compiler.display());
    let mut command = std::process::Command::new(&compiler);
    command.args(args.iter().skip(1)).env(HANDED_OVER, "1");
    #[cfg(unix)]
    let err = {
        use std::os::unix::process::CommandExt;
        command.arg0(invoked_as).exec()
    };
    #[cfg(not(unix))]
    let err = {
        let _ = invoked_as;
        match command.status() {
            Ok(status) => std::process::exit(status.code().unwrap_or(weft::ExitCodes::INTERNAL)),
            Err(err) => err,
        }
    };
    fail(format!(
        "{why}: cannot start the compiler {}: {err}; check that it is an executable weft-compiler, or set WEFT_COMPILER to one",
        compiler.display()
    ))
}
/// `$WEFT_COMPILER`, else `weft-compiler` beside this executable.
fn compiler_path() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("WEFT_COMPILER").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|err| {
        format!("cannot tell where this weft is installed ({err}), so cannot find weft-compiler; set WEFT_COMPILER to its path")
    })?;
    Ok(exe.with_file_name("weft-compiler"))
}
