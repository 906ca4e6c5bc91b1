//! `weft run [--ready] [--store DIR] APP [ARG]...` and WEFT's
//! `weft-runtime <app_id> <session_id>`.

use std::ffi::OsString;
use std::path::PathBuf;

use super::{RunArgs, utf8_args};
use crate::app::{self, App};
use crate::package::Package;
use crate::store::{self, AppId};
use crate::wasi_config::WasiConfig;
use crate::{Error, Result, process, ready};

pub(crate) fn run(args: RunArgs) -> Result<i32> {
    let (app, app_args) = args
        .app_and_args
        .split_first()
        .ok_or_else(|| Error::usage("name the app to run: `weft run APP [ARG]...`"))?;
    let target = app.to_str().ok_or_else(|| {
        Error::usage(format!(
            "the app path {} is not valid UTF-8; rename it or run it by app id",
            app.to_string_lossy()
        ))
    })?;
    let app_args = utf8_args(app_args, "app argument")?;
    let roots = match args.store {
        Some(dir) => vec![dir],
        None => store::store_roots(),
    };
    let dir = store::resolve_in(target, &roots)?;
    run_package(dir, &app_args, args.ready)
}

/// `weft-runtime <app_id> <session_id>`: resolve the id in the stores and
/// run it as `weft run --ready` does.
pub(crate) fn weft_runtime(args: Vec<OsString>) -> Result<i32> {
    const USAGE: &str = "usage: weft-runtime <app_id> <session_id>";
    let args = utf8_args(args.get(1..).unwrap_or_default(), "argument")?;
    let [app_id, session_id] = args.as_slice() else {
        return Err(Error::usage(format!(
            "weft-runtime takes exactly an app id and a session id, got {} argument(s); {USAGE}",
            args.len()
        )));
    };
    let id = AppId::parse(app_id).map_err(|why| Error::usage(format!("{why}; {USAGE}")))?;
    if session_id.is_empty() {
        return Err(Error::usage(format!("the session id is empty; {USAGE}")));
    }
    tracing::info!(app = %id, session = %session_id, "starting a WEFT session");
    let dir = store::find_in_stores(&id, &store::store_roots())?;
    run_package(dir, &[], true)
}

fn run_package(dir: PathBuf, app_args: &[String], print_ready: bool) -> Result<i32> {
    let package = Package::load(&dir)?;
    let engine = app::engine()?;
    let app = App::load(&engine, package)?;
    let config = WasiConfig::resolve(
        app.manifest(),
        &app.package().manifest_path,
        &app.package().dir,
        app.id(),
        app_args,
        |name| std::env::var(name).ok(),
    )?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::internal("cannot start the async runtime").caused_by(&err))?;
    let status = runtime.block_on(process::run(&app, &config, || {
        if print_ready {
            ready::print_ready_line()
                .map_err(|err| Error::internal("cannot write READY to stdout").caused_by(&err))?;
        }
        if let Err(err) = ready::notify_systemd() {
            tracing::warn!("cannot notify $NOTIFY_SOCKET that the app is ready: {err}");
        }
        Ok(())
    }))?;
    // Let guest output still in flight reach the terminal before exiting.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(status.0)
}
