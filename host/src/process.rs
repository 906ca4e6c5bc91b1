//! One run of an app: init (instantiate, call `weft-ready`), then the ready
//! signal, step (call the entry), close (drop the instance) → an [`ExitStatus`].

use wasmtime::Store;
use wasmtime_wasi::I32Exit;

use crate::app::App;
use crate::wasi_config::WasiConfig;
use crate::{Error, ErrorKind, Result};

/// How a run ended when the guest itself chose: its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus(pub i32);

/// Runs the app once with `config`. `on_ready` is called after init has
/// finished (after a successful `weft-ready`), before the entry runs.
///
/// A guest that exits, by returning from its entry or by calling exit, gives
/// `Ok` with its status; a trap, a failed `weft-ready` or a failure to
/// instantiate gives an error of the matching kind.
pub async fn run(
    app: &App,
    config: &WasiConfig,
    on_ready: impl FnOnce() -> Result<()>,
) -> Result<ExitStatus> {
    let state = config.instance_state()?;
    let mut store = Store::new(&app.engine, state);

    // Init.
    let instance = match app.pre.instantiate_async(&mut store).await {
        Ok(instance) => instance,
        Err(err) => return ended(app, err, "while starting"),
    };
    if let Some(indices) = &app.ready {
        let hook = indices.load(&mut store, &instance).map_err(|err| {
            Error::internal("cannot find the weft-ready export").caused_by_wasmtime(&err)
        })?;
        match hook.call_weft_ready(&mut store).await {
            Ok(Ok(())) => {}
            Ok(Err(message)) => {
                return Err(Error::new(
                    ErrorKind::NotReady,
                    format!(
                        "app {} did not start: its weft-ready hook returned an error: {message}",
                        app.id()
                    ),
                ));
            }
            Err(err) => return ended(app, err, "in its weft-ready hook"),
        }
    }
    on_ready()?;

    // Step.
    let command = app.run.load(&mut store, &instance).map_err(|err| {
        Error::internal("cannot find the wasi:cli/run export").caused_by_wasmtime(&err)
    })?;
    let result = command.wasi_cli_run().call_run(&mut store).await;

    // Close: the store and the instance in it are dropped here.
    match result {
        Ok(Ok(())) => Ok(ExitStatus(0)),
        Ok(Err(())) => Ok(ExitStatus(1)),
        Err(err) => ended(app, err, "while running"),
    }
}

/// Classifies an error that ended a guest early: an exit, or a trap.
fn ended(app: &App, err: wasmtime::Error, when: &str) -> Result<ExitStatus> {
    if let Some(exit) = err.downcast_ref::<I32Exit>() {
        return Ok(ExitStatus(exit.0));
    }
    if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        let mut error = Error::new(
            ErrorKind::Trap,
            format!("app {} trapped {when}: {trap}", app.id()),
        );
        if let Some(backtrace) = err.downcast_ref::<wasmtime::WasmBacktrace>() {
            error = error.with_detail(backtrace.to_string());
        }
        return Err(error);
    }
    Err(
        Error::new(ErrorKind::Trap, format!("app {} failed {when}", app.id()))
            .caused_by_wasmtime(&err),
    )
}
