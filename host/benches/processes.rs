//! Process benchmarks through the library API; prints its figures.
//!
//! - `sleepers`: 1,000 processes of a guest that sleeps 200 ms, spawned at
//!   once from one loaded app on a 2-thread runtime: the wall time until all
//!   have exited (near 200 ms means sleeping guests hold no thread).
//! - `compute`: instantiate + call `compute(6, 7)` + drop, one process after
//!   another on one thread: processes per second.
//!
//! Run with `cargo bench -p weft --bench processes` (or `cargo xtask bench`).
//! `WEFT_BENCH_SMOKE=1` runs each briefly, to check that they work.

use std::time::{Duration, Instant};

use wasmtime::component::Val;
use weft::app::{App, LoadOptions};
use weft::package::Package;
use weft::process::{Call, ExitEvent, Spawn};
use weft::wasi_config::WasiConfig;

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let smoke = std::env::var_os("WEFT_BENCH_SMOKE").is_some();
    let root = xtask::workspace_root();
    let names = vec!["sleep".to_string(), "compute".to_string()];
    let guests = xtask::build_guests(&root, &names).expect("building the guests");
    let package = |name: &str| {
        guests
            .iter()
            .find(|g| g.name == name)
            .map(|g| g.package.clone())
            .expect("guest built")
    };

    let sleepers = if smoke { 50 } else { 1_000 };
    let app = App::load(
        Package::load(&package("sleep")).unwrap(),
        &LoadOptions::default(),
    )
    .unwrap();
    let config = quiet_config(&app, &["200"]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let wall = runtime.block_on(async {
        let started = Instant::now();
        let processes: Vec<_> = (0..sleepers)
            .map(|_| app.spawn(Spawn::new(config.clone(), Call::Run)))
            .collect();
        for process in processes {
            let event = process.wait().await;
            assert!(matches!(event, ExitEvent::Exited(0)), "{event:?}");
        }
        started.elapsed()
    });
    println!(
        "sleepers: {sleepers} processes sleeping 200 ms each, 2 worker threads: all exited after {:.0} ms",
        wall.as_secs_f64() * 1e3
    );

    let app = App::load(
        Package::load(&package("compute")).unwrap(),
        &LoadOptions::default(),
    )
    .unwrap();
    let config = quiet_config(&app, &[]);
    let method = app.method("compute").unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let budget = if smoke {
        Duration::from_millis(200)
    } else {
        Duration::from_secs(3)
    };
    let (count, elapsed) = runtime.block_on(async {
        let started = Instant::now();
        let mut count = 0u64;
        while started.elapsed() < budget {
            let call = Call::Method {
                method: method.clone(),
                args: vec![Val::U32(6), Val::U32(7)],
            };
            let event = weft::process::run(&app, Spawn::new(config.clone(), call)).await;
            assert!(
                matches!(&event, ExitEvent::Returned(v) if v[..] == [Val::U32(42)]),
                "{event:?}"
            );
            count += 1;
        }
        (count, started.elapsed())
    });
    println!(
        "compute: {count} processes (instantiate + compute(6, 7) + drop) in {:.2} s on one thread: {:.0} per second, {:.1} µs each",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / count as f64
    );
}

fn quiet_config(app: &App, args: &[&str]) -> WasiConfig {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    WasiConfig::for_app(app, &args, |_| None).unwrap().quiet()
}
