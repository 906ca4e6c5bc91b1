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

#[test]
fn a_thousand_sleeping_processes_all_finish() {
    let app = load("sleep", &LoadOptions::default());
    let config = quiet_config(&app, &["200"]);
    runtime().block_on(async {
        let processes: Vec<_> = (0..1000)
            .map(|_| app.spawn(Spawn::new(config.clone(), Call::Run)))
            .collect();
        for process in processes {
            match process.wait().await {
                ExitEvent::Exited(0) => {}
                other => panic!("a sleeping process ended with {other:?}"),
            }
        }
    });
}

#[test]
fn method_processes_return_values() {
    let app = load("compute", &LoadOptions::default());
    let method = app.method("compute").unwrap();
    let config = quiet_config(&app, &[]);
    runtime().block_on(async {
        let processes: Vec<_> = (0u32..50)
            .map(|i| {
                let call = Call::Method {
                    method: method.clone(),
                    args: vec![Val::U32(i), Val::U32(2)],
                };
                app.spawn(Spawn::new(config.clone(), call))
            })
            .collect();
        for (i, process) in processes.into_iter().enumerate() {
            match process.wait().await {
                ExitEvent::Returned(values) => assert_eq!(values, vec![Val::U32(i as u32 * 2)]),
                other => panic!("compute ended with {other:?}"),
            }
        }
    });
}

/// WASI 0.3 commands that await a clock: a thousand at once on two worker
/// threads, each `run` a task of the host's event loop, none holding a
/// thread while it awaits.
#[test]
fn a_thousand_awaiting_0_3_commands_all_finish() {
    let app = load("p3-command", &LoadOptions::default());
    let config = quiet_config(&app, &["sleep", "200"]);
    runtime().block_on(async {
        let processes: Vec<_> = (0..1000)
            .map(|_| app.spawn(Spawn::new(config.clone(), Call::Run)))
            .collect();
        for process in processes {
            match process.wait().await {
                ExitEvent::Exited(0) => {}
                other => panic!("an awaiting 0.3 command ended with {other:?}"),
            }
        }
    });
}

/// `async func` methods through the process API: each awaits the clock, then
/// returns its own value; 300 at once share the two worker threads.
#[test]
fn async_method_processes_await_and_return_values() {
    let app = load("p3-methods", &LoadOptions::default());
    let method = app.method("sum-after").unwrap();
    let config = quiet_config(&app, &[]);
    runtime().block_on(async {
        let processes: Vec<_> = (0u32..300)
            .map(|i| {
                let call = Call::Method {
                    method: method.clone(),
                    args: vec![
                        Val::U32(100),
                        Val::List(vec![Val::U32(i), Val::U32(1), Val::U32(2)]),
                    ],
                };
                app.spawn(Spawn::new(config.clone(), call))
            })
            .collect();
        for (i, process) in processes.into_iter().enumerate() {
            match process.wait().await {
                ExitEvent::Returned(values) => {
                    assert_eq!(values, vec![Val::U64(i as u64 + 3)])
                }
                other => panic!("sum-after ended with {other:?}"),
            }
        }
    });
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
