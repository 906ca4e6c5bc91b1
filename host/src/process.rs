//! Processes: one run of an [`App`]. Init (instantiate, call `weft-ready`),
//! the ready signal, step (call the entry or a method), close (drop the
//! instance), and an [`ExitEvent`] that says how it ended.
//!
//! A process is a Tokio task. A guest blocked on I/O or a sleep awaits
//! without holding a thread; a CPU-bound guest yields at every epoch tick, so
//! many processes share a few threads fairly.

use std::time::Instant;

use wasmtime::component::{ResourceTableError, Val};
use wasmtime::{Store, Trap};
use wasmtime_wasi::I32Exit;

use crate::app::{App, Entry, RunIndices};
use crate::instance::{self, InstanceState, WasiConfig};
use crate::invoke::Method;
use crate::limits::{DeadlineReached, LimitHit};
use crate::{Error, ErrorKind};

/// What a process calls once it is ready.
#[derive(Clone)]
pub enum Call {
    /// The command entry: `wasi:cli/run` (or `_start` through the adapter).
    Run,
    /// An exported function with its arguments.
    Method { method: Method, args: Vec<Val> },
}

impl Call {
    /// The app's own entry with these arguments: `Run` for commands, the
    /// manifest's method for function apps.
    pub fn entry(app: &App, args: Vec<Val>) -> Call {
        match app.entry() {
            Entry::Method(method) => Call::Method {
                method: method.clone(),
                args,
            },
            Entry::Run | Entry::Start | Entry::HttpHandler => Call::Run,
        }
    }
}

/// How a process ended.
#[derive(Debug)]
pub enum ExitEvent {
    /// The method returned these values.
    Returned(Vec<Val>),
    /// The guest ended with this exit status (its `wasi:cli/run` result, an
    /// `exit`, `exit-with-code` or preview1 `proc_exit`).
    Exited(i32),
    /// The guest trapped.
    Trapped {
        message: String,
        backtrace: Option<String>,
    },
    /// A limit stopped the guest.
    LimitHit(LimitHit),
    /// `weft-ready` returned `err` with this message.
    NotReady(String),
    /// The process was killed by its owner.
    Killed,
    /// The process could not be set up or run (not the guest's doing).
    Failed(Error),
}

impl ExitEvent {
    /// The exit event as a library error, for events that are failures.
    pub fn into_error(self, app: &App) -> Option<Error> {
        let id = app.id();
        match self {
            ExitEvent::Returned(_) | ExitEvent::Exited(_) => None,
            ExitEvent::Trapped { message, backtrace } => {
                let error = Error::new(ErrorKind::Trap, format!("app {id} trapped: {message}"));
                Some(match backtrace {
                    Some(backtrace) => error.with_detail(backtrace),
                    None => error,
                })
            }
            ExitEvent::LimitHit(hit) => Some(Error::new(
                ErrorKind::Limit(hit),
                format!("app {id} was stopped: {hit}"),
            )),
            ExitEvent::NotReady(message) => Some(Error::new(
                ErrorKind::NotReady,
                format!("app {id} did not start: its weft-ready hook returned an error: {message}"),
            )),
            ExitEvent::Killed => Some(Error::internal(format!("app {id} was killed"))),
            ExitEvent::Failed(error) => Some(error),
        }
    }
}

/// Options for one process.
pub struct Spawn {
    pub config: WasiConfig,
    pub call: Call,
    /// Called once init has finished, before the call: where the CLI prints
    /// `READY`. An error aborts the process.
    pub on_ready: Option<Box<dyn FnOnce() -> crate::Result<()> + Send>>,
}

impl Spawn {
    pub fn new(config: WasiConfig, call: Call) -> Self {
        Spawn {
            config,
            call,
            on_ready: None,
        }
    }
}

/// A running process: await its [`ExitEvent`], or kill it.
pub struct Process {
    task: tokio::task::JoinHandle<ExitEvent>,
}

impl Process {
    /// Stops the process at its next await point (an epoch tick at the latest).
    pub fn kill(&self) {
        self.task.abort();
    }

    /// Waits for the process to end.
    pub async fn wait(self) -> ExitEvent {
        match self.task.await {
            Ok(event) => event,
            Err(err) if err.is_cancelled() => ExitEvent::Killed,
            Err(_) => ExitEvent::Failed(Error::internal("the process's task panicked")),
        }
    }
}

impl App {
    /// Starts a process as a task on the current Tokio runtime.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, as `tokio::spawn` does.
    pub fn spawn(&self, spawn: Spawn) -> Process {
        let app = self.clone();
        Process {
            task: tokio::spawn(async move { run(&app, spawn).await }),
        }
    }
}

/// Runs one process to its end on the current task.
pub async fn run(app: &App, spawn: Spawn) -> ExitEvent {
    let started = Instant::now();
    instance::under_timeout(app.limits(), started, execute(app, spawn, started))
        .await
        .unwrap_or_else(ExitEvent::LimitHit)
}

async fn execute(app: &App, spawn: Spawn, started: Instant) -> ExitEvent {
    let inner = &app.inner;
    let mut store = match instance::new_store(&inner.engine, &spawn.config, &inner.limits, started)
    {
        Ok(store) => store,
        Err(err) => return ExitEvent::Failed(err),
    };

    // Init.
    let instance = match inner.pre.instantiate_async(&mut store).await {
        Ok(instance) => instance,
        Err(err) => return ended(&store, err, app),
    };
    if let Some(indices) = &inner.ready {
        let hook = match indices.load(&mut store, &instance) {
            Ok(hook) => hook,
            Err(err) => {
                return ExitEvent::Failed(
                    Error::internal("cannot find the weft-ready export").caused_by_wasmtime(&err),
                );
            }
        };
        match hook.call_weft_ready(&mut store).await {
            Ok(Ok(())) => {}
            Ok(Err(message)) => return ExitEvent::NotReady(message),
            Err(err) => return ended(&store, err, app),
        }
    }
    if let Some(on_ready) = spawn.on_ready
        && let Err(err) = on_ready()
    {
        return ExitEvent::Failed(err);
    }

    // Step.
    let event = match spawn.call {
        Call::Run => {
            let Some(indices) = &inner.run else {
                return ExitEvent::Failed(Error::package(format!(
                    "app {} is not a command: it has no `wasi:cli/run` to call",
                    app.id()
                )));
            };
            let missing = |err: wasmtime::Error| {
                ExitEvent::Failed(
                    Error::internal("cannot find the wasi:cli/run export").caused_by_wasmtime(&err),
                )
            };
            let result = match indices {
                RunIndices::P2(indices) => match indices.load(&mut store, &instance) {
                    Ok(command) => command.wasi_cli_run().call_run(&mut store).await,
                    Err(err) => return missing(err),
                },
                // WASI 0.3: `run` is an async export, called concurrently:
                // the guest's awaits (a clock, a stream) and the host tasks
                // behind them run in this store's event loop.
                RunIndices::P3(indices) => match indices.load(&mut store, &instance) {
                    Ok(command) => store
                        .run_concurrent(async move |accessor| {
                            command.wasi_cli_run().call_run(accessor).await
                        })
                        .await
                        .and_then(|result| result),
                    Err(err) => return missing(err),
                },
            };
            match result {
                Ok(Ok(())) => ExitEvent::Exited(0),
                Ok(Err(())) => ExitEvent::Exited(1),
                Err(err) => ended(&store, err, app),
            }
        }
        Call::Method { method, args } => {
            let Some(func) = instance.get_func(&mut store, method.index) else {
                return ExitEvent::Failed(Error::internal(format!(
                    "the export `{}` disappeared after instantiation",
                    method.name
                )));
            };
            let mut results = vec![Val::Bool(false); method.results.len()];
            match func.call_async(&mut store, &args, &mut results).await {
                Ok(()) => ExitEvent::Returned(results),
                Err(err) => ended(&store, err, app),
            }
        }
    };

    // Close: the store, and the instance in it, are dropped here.
    drop(store);
    event
}

/// How a guest's instance ended badly, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Trap,
    Limit(&'static str),
}

impl Ending {
    pub(crate) fn of_hit(hit: &LimitHit) -> Ending {
        Ending::Limit(hit.setting().0)
    }
}

/// What ended a guest (a trap or a limit, for `weft serve`'s metrics; `None`
/// for an exit), and one sentence on it.
pub(crate) fn end_of(
    app: &App,
    store: &Store<InstanceState>,
    err: wasmtime::Error,
) -> (Option<Ending>, String) {
    let event = ended(store, err, app);
    let ending = match &event {
        ExitEvent::Exited(_) => None,
        ExitEvent::LimitHit(hit) => Some(Ending::of_hit(hit)),
        _ => Some(Ending::Trap),
    };
    let text = match event {
        ExitEvent::Exited(code) => format!("app {} exited with status {code}", app.id()),
        event => event
            .into_error(app)
            .map(|error| error.to_string())
            .unwrap_or_else(|| format!("app {} ended", app.id())),
    };
    (ending, text)
}

/// Classifies the error that ended a guest: an exit, a limit, or a trap.
fn ended(store: &Store<InstanceState>, err: wasmtime::Error, app: &App) -> ExitEvent {
    if let Some(exit) = err.downcast_ref::<I32Exit>() {
        return ExitEvent::Exited(exit.0);
    }
    if let Some(hit) = store.data().limit_hit() {
        return ExitEvent::LimitHit(hit);
    }
    let limits = app.limits();
    if let Some(ResourceTableError::Full) = err.downcast_ref::<ResourceTableError>() {
        return ExitEvent::LimitHit(LimitHit::Resources {
            limit: limits.resources_cap(),
        });
    }
    if err.downcast_ref::<DeadlineReached>().is_some()
        && let Some(limit) = limits.timeout
    {
        return ExitEvent::LimitHit(LimitHit::Timeout { limit });
    }
    let backtrace = err
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| bt.to_string());
    if let Some(trap) = err.downcast_ref::<Trap>() {
        match trap {
            Trap::OutOfFuel => {
                if let Some(limit) = limits.fuel {
                    return ExitEvent::LimitHit(LimitHit::Fuel { limit });
                }
            }
            Trap::StackOverflow => {
                return ExitEvent::Trapped {
                    message: "its call stack overflowed (recursion too deep)".to_string(),
                    backtrace: None,
                };
            }
            _ => {}
        }
        return ExitEvent::Trapped {
            message: trap.to_string(),
            backtrace,
        };
    }
    let text = format!("{err:#}");
    if text.contains("instance count too high") {
        return ExitEvent::LimitHit(LimitHit::Instances {
            limit: limits.instances_cap(),
        });
    }
    if text.contains("store handle limit exceeded") {
        return ExitEvent::LimitHit(LimitHit::Resources {
            limit: limits.resources_cap(),
        });
    }
    // A host error under the backtrace's context: say what the host said.
    ExitEvent::Trapped {
        message: err.root_cause().to_string(),
        backtrace,
    }
}
