//! `weft run [FLAGS] APP [ARG]...`, `weft run list`, and WEFT's
//! `weft-runtime <app_id> <session_id>`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;
use wasmtime::component::Val;
use wasmtime::component::wasm_wave::untyped::UntypedFuncCall;
use weft::app::{App, Entry, LoadOptions};
use weft::cache::Cache;
use weft::id::AppId;
use weft::invoke;
use weft::package::Package;
use weft::process::{self, Call, ExitEvent, Spawn};
use weft::store;
use weft::{Error, Result};

use crate::options::{CacheArgs, LimitArgs, StoreArgs, app_name};
use crate::{load_app, report, utf8_args};

#[derive(Args)]
pub(crate) struct RunArgs {
    /// Print the line READY on stdout once the app has started.
    #[arg(long)]
    pub ready: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Call this export instead of the app's entry, with WAVE arguments:
    /// `--invoke 'compute(6, 7)'` or `--invoke 'my:pkg/iface#f("x")'`.
    #[arg(long, value_name = "CALL")]
    pub invoke: Option<String>,
    /// Print a method's result as JSON instead of WAVE.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// The app: a package directory, its wapp.toml, an installed app's id, a
    /// command name, or `list`; then the app's arguments.
    #[arg(value_name = "APP [ARG]...", required = true, num_args = 1.., trailing_var_arg = true)]
    pub app_and_args: Vec<OsString>,
}

pub(crate) fn run(args: RunArgs) -> Result<i32> {
    let (app, app_args) = args
        .app_and_args
        .split_first()
        .ok_or_else(|| Error::usage("name the app to run: `weft run APP [ARG]...`"))?;
    let app_args = utf8_args(app_args, "app argument")?;
    let roots = args.store.roots();
    let target = app_name(app)?;
    if target == "list" && app_args.is_empty() {
        return list(&roots);
    }
    let dir = store::resolve_in(target, &roots)?;

    let invoke = match &args.invoke {
        Some(text) => {
            if !app_args.is_empty() {
                return Err(Error::usage(format!(
                    "--invoke carries the call's arguments, so nothing may follow the app (got {}); put them inside the call, like --invoke 'f(1, \"x\")'",
                    app_args.join(" ")
                )));
            }
            // WAVE's call syntax takes a plain name; weft also takes
            // `interface#name`, so the name is split off before parsing.
            let bad = |why: String| {
                Error::usage(format!(
                    "--invoke {text:?} is not a call like 'compute(6, 7)' or 'my:pkg/iface#f(\"x\")': {why}"
                ))
            };
            let open = text.find('(').ok_or_else(|| {
                bad("it has no parenthesised arguments (write `f()` for none)".into())
            })?;
            let name = text[..open].trim();
            if name.is_empty() {
                return Err(bad("it names no function".into()));
            }
            let call_text = format!("f{}", &text[open..]);
            let call = UntypedFuncCall::parse(&invoke::wave_input(&call_text))
                .map_err(|err| bad(err.to_string()))?
                .into_owned();
            Some((name.to_string(), call))
        }
        None => None,
    };
    let options = LoadOptions {
        limits: args.limits.limits(),
        method: invoke.as_ref().map(|(name, _)| name.clone()),
        serve: None,
        pool: None,
        cache: args.cache.cache(),
        progress: crate::show_progress(),
        one_process: true,
    };
    let app = load_app(Package::load(&dir)?, &options)?;

    let (call, argv) = match (app.entry(), &invoke) {
        (Entry::Method(method), Some((_, call))) => {
            let values: Vec<Val> = call
                .to_wasm_params(method.params.iter().map(|(_, ty)| ty))
                .map_err(|err| {
                    Error::usage(format!(
                        "the arguments in --invoke {:?} do not fit `{}`: {err}",
                        args.invoke.as_deref().unwrap_or_default(),
                        method.signature()
                    ))
                })?;
            (
                Call::Method {
                    method: method.clone(),
                    args: values,
                },
                Vec::new(),
            )
        }
        (Entry::Method(method), None) => {
            let values = method.parse_args(&app_args)?;
            (
                Call::Method {
                    method: method.clone(),
                    args: values,
                },
                Vec::new(),
            )
        }
        (Entry::Run | Entry::Start | Entry::HttpHandler, _) => (Call::Run, app_args),
    };
    execute(app, call, &argv, args.ready, args.json, &|name| {
        std::env::var_os(name)
    })
}

/// `weft run list`: every named command in the stores.
fn list(roots: &[PathBuf]) -> Result<i32> {
    let commands = store::commands(roots)?;
    if commands.is_empty() {
        let searched: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        eprintln!(
            "weft: no commands: no package in {} has a [command] section",
            searched.join(", ")
        );
        return Ok(0);
    }
    let width = commands.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for command in commands {
        out!(
            "{:<width$}  {}  ({})",
            command.name,
            command.short.as_deref().unwrap_or(""),
            command.id
        );
    }
    Ok(0)
}

/// `weft-runtime <app_id> <session_id>`: resolve the id in the stores and
/// run it as `weft run --ready` does.
pub(crate) fn weft_runtime(args: &[OsString]) -> Result<i32> {
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
    let options = LoadOptions {
        cache: Cache::from_env(),
        one_process: true,
        ..LoadOptions::default()
    };
    let app = load_app(Package::load(&dir)?, &options)?;
    let call = Call::entry(&app, Vec::new());
    if let Call::Method { method, .. } = &call
        && !method.params.is_empty()
    {
        return Err(Error::usage(format!(
            "app {id}'s method `{}` takes arguments, which weft-runtime cannot pass; run it with `weft run`",
            method.signature()
        )));
    }
    execute(app, call, &[], true, false, &|name| std::env::var_os(name))
}

/// Runs one process of `app` and turns its end into output and an exit code;
/// the manifest's `from =` variables are read through `host_env`.
/// The command ends with it, and so does weft's process: the app (its code,
/// types and linker) is left for the operating system to reclaim at exit
/// rather than taken apart piece by piece, which was about 5 % of a warm
/// start of a small app.
pub(crate) fn execute(
    app: App,
    call: Call,
    argv: &[String],
    print_ready: bool,
    json: bool,
    host_env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<i32> {
    let config = app.wasi_config(argv, host_env)?;
    // One process: a single-threaded runtime starts faster than a pool of
    // workers, and blocking host calls still go to Tokio's blocking threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::internal("cannot start the async runtime").caused_by(&err))?;
    let method_name = match &call {
        Call::Method { method, .. } => Some(method.name.clone()),
        Call::Run => None,
    };
    let mut spawn = Spawn::new(config, call);
    spawn.on_ready = Some(Box::new(move || crate::signal_ready(print_ready)));
    let event = runtime.block_on(process::run(&app, spawn));
    // Let guest output still in flight reach its destination before exiting.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    let code = exit_code(&app, event, method_name, json);
    std::mem::forget(app);
    code
}

/// What a process's end prints, and the exit code it gives weft.
fn exit_code(app: &App, event: ExitEvent, method_name: Option<String>, json: bool) -> Result<i32> {
    match event {
        ExitEvent::Exited(code) => Ok(code),
        ExitEvent::Returned(values) => {
            let Some(value) = values.first() else {
                return Ok(0);
            };
            if let Val::Result(Err(payload)) = value {
                let name = method_name.unwrap_or_default();
                let detail = match payload {
                    Some(payload) if json => invoke::to_json(payload),
                    Some(payload) => match payload.as_ref() {
                        Val::String(text) => text.clone(),
                        other => invoke::to_wave(other)?,
                    },
                    None => "err".to_string(),
                };
                eprintln!("weft: `{name}` returned an error: {detail}");
                return Ok(1);
            }
            let line = if json {
                invoke::to_json(value)
            } else {
                invoke::to_wave(value)?
            };
            out!("{line}");
            Ok(0)
        }
        other => {
            let error = other
                .into_error(app)
                .unwrap_or_else(|| Error::internal("the process ended without a status"));
            report(&error);
            Ok(error.kind().exit_code())
        }
    }
}
