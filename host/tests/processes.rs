//! The process API through the library: many processes from one loaded app,
//! their exit events, killing, and isolation between processes.

use wasmtime::component::Val;
use weft::app::{App, LoadOptions};
use weft::instance::WasiConfig;
use weft::limits::LimitHit;
use weft::package::Package;
use weft::process::{Call, ExitEvent, Spawn};

/// The package of one of the guests these tests use (built once).
fn package(name: &str) -> std::path::PathBuf {
    xtask::test_package(
        &[
            "sleep",
            "compute",
            "spin",
            "trap",
            "p3-command",
            "p3-methods",
        ],
        name,
    )
}

fn load(name: &str, options: &LoadOptions) -> App {
    App::load(Package::load(&package(name)).unwrap(), options).unwrap()
}

fn quiet_config(app: &App, args: &[&str]) -> WasiConfig {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    app.wasi_config(&args, |_| None).unwrap().quiet()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Spawns `count` runs of the guest's command with `args` at once, on two
/// worker threads, and expects each to exit with 0.
fn all_runs_exit_0(guest: &str, args: &[&str], count: usize) {
    let app = load(guest, &LoadOptions::default());
    let config = quiet_config(&app, args);
    runtime().block_on(async {
        let processes: Vec<_> = (0..count)
            .map(|_| app.spawn(Spawn::new(config.clone(), Call::Run)))
            .collect();
        for process in processes {
            match process.wait().await {
                ExitEvent::Exited(0) => {}
                other => panic!("a {guest} process ended with {other:?}"),
            }
        }
    });
}

/// Spawns `count` calls of the guest's `method` at once, the i-th with
/// `args(i)`, and expects the i-th to return `expected(i)`.
fn each_call_returns(
    guest: &str,
    method: &str,
    count: u32,
    args: impl Fn(u32) -> Vec<Val>,
    expected: impl Fn(u32) -> Val,
) {
    let app = load(guest, &LoadOptions::default());
    let method = app.method(method).unwrap();
    let config = quiet_config(&app, &[]);
    runtime().block_on(async {
        let processes: Vec<_> = (0..count)
            .map(|i| {
                let call = Call::Method {
                    method: method.clone(),
                    args: args(i),
                };
                app.spawn(Spawn::new(config.clone(), call))
            })
            .collect();
        for (i, process) in (0..count).zip(processes) {
            match process.wait().await {
                ExitEvent::Returned(values) => assert_eq!(values, vec![expected(i)]),
                other => panic!("{guest} ended with {other:?}"),
            }
        }
    });
}

#[test]
fn a_thousand_sleeping_processes_all_finish() {
    all_runs_exit_0("sleep", &["200"], 1000);
}

#[test]
fn method_processes_return_values() {
    each_call_returns(
        "compute",
        "compute",
        50,
        |i| vec![Val::U32(i), Val::U32(2)],
        |i| Val::U32(i * 2),
    );
}

/// WASI 0.3 commands that await a clock: a thousand at once on two worker
/// threads, each `run` a task of the host's event loop, none holding a
/// thread while it awaits.
#[test]
fn a_thousand_awaiting_0_3_commands_all_finish() {
    all_runs_exit_0("p3-command", &["sleep", "200"], 1000);
}

/// `async func` methods through the process API: each awaits the clock, then
/// returns its own value; 300 at once share the two worker threads.
#[test]
fn async_method_processes_await_and_return_values() {
    each_call_returns(
        "p3-methods",
        "sum-after",
        300,
        |i| {
            vec![
                Val::U32(100),
                Val::List(vec![Val::U32(i), Val::U32(1), Val::U32(2)]),
            ]
        },
        |i| Val::U64(u64::from(i) + 3),
    );
}

#[test]
fn a_process_can_be_killed() {
    // The manifest's fuel is overridden with a budget that outlasts the
    // test, so only the kill stops it.
    let app = load(
        "spin",
        &LoadOptions {
            limits: weft::limits::Limits {
                fuel: Some(u64::MAX / 2),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let config = quiet_config(&app, &[]);
    runtime().block_on(async {
        let process = app.spawn(Spawn::new(config, Call::Run));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        process.kill();
        assert!(matches!(process.wait().await, ExitEvent::Killed));
    });
}

#[test]
fn a_trap_in_one_process_leaves_the_others_running() {
    let trap = load("trap", &LoadOptions::default());
    let sleep = load("sleep", &LoadOptions::default());
    let trap_config = quiet_config(&trap, &[]);
    let sleep_config = quiet_config(&sleep, &["50"]);
    runtime().block_on(async {
        let sleepers: Vec<_> = (0..20)
            .map(|_| sleep.spawn(Spawn::new(sleep_config.clone(), Call::Run)))
            .collect();
        let trapped = trap.spawn(Spawn::new(trap_config, Call::Run)).wait().await;
        assert!(matches!(trapped, ExitEvent::Trapped { .. }), "{trapped:?}");
        for sleeper in sleepers {
            assert!(matches!(sleeper.wait().await, ExitEvent::Exited(0)));
        }
    });
}

#[test]
fn limits_are_reported_as_limits() {
    let app = load("spin", &LoadOptions::default());
    let config = quiet_config(&app, &[]);
    let event = runtime().block_on(async { app.spawn(Spawn::new(config, Call::Run)).wait().await });
    assert!(
        matches!(
            event,
            ExitEvent::LimitHit(LimitHit::Fuel { limit: 50_000_000 })
        ),
        "{event:?}"
    );
}
