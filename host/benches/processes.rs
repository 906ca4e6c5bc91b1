//! Process benchmarks through the library API; prints its figures.
//!
//! - `sleepers`: 1,000 processes of a guest that sleeps 200 ms, spawned at
//!   once from one loaded app on a 2-thread runtime: the wall time until all
//!   have exited (near 200 ms means sleeping guests hold no thread).
//! - `compute`: instantiate + call `compute(6, 7)` + drop, one process after
//!   another on one thread: processes per second, through weft with the
//!   on-demand and the pooling allocator, and through a plain Wasmtime
//!   embedding (the baseline), with the ratios.
//! - `idle`: 10,000 processes blocked in a sleep in one host: resident memory.
//!
//! Run with `cargo bench -p weft --bench processes` (or `cargo xtask bench`).
//! `WEFT_BENCH_SMOKE=1` runs each briefly, to check that they work.
//! `WEFT_BENCH_REPORT=FILE` also writes the figures there, one `name value`
//! a line (for `cargo xtask bench-all`). `WEFT_BENCH_IDLE=N` sets the number of idle processes;
//! `WEFT_BENCH_PROFILE_POOLED=SECS` runs only the pooled spawn loop, for SECS
//! seconds, to profile it (`perf record`).

use std::time::{Duration, Instant};

use wasmtime::component::Val;
use weft::app::{App, LoadOptions};
use weft::instance::WasiConfig;
use weft::package::Package;
use weft::process::{Call, ExitEvent, Spawn};

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

    let budget = if smoke {
        Duration::from_millis(200)
    } else {
        Duration::from_secs(3)
    };
    let compute = package("compute");
    if let Ok(secs) = std::env::var("WEFT_BENCH_PROFILE_POOLED") {
        let budget =
            Duration::from_secs(secs.parse().expect("WEFT_BENCH_PROFILE_POOLED is seconds"));
        let rate = weft_spawn_rate(&compute, Some(16), budget);
        print_rate("weft, pooling allocator", rate);
        return;
    }
    let on_demand = weft_spawn_rate(&compute, None, budget);
    print_rate("weft, on-demand allocator", on_demand);
    let pooled = weft_spawn_rate(&compute, Some(16), budget);
    print_rate("weft, pooling allocator", pooled);
    let wasm = std::fs::read(compute.join("app.wasm")).unwrap();
    let plain = plain_spawn_rate(&wasm, budget);
    print_rate(
        "plain Wasmtime embedding (Linker::instantiate_async each time)",
        plain,
    );
    println!(
        "compute ratios: weft pooled / plain {:.2}×, weft on-demand / plain {:.2}×",
        pooled / plain,
        on_demand / plain
    );

    let idle = match std::env::var("WEFT_BENCH_IDLE") {
        Ok(count) => count
            .parse()
            .expect("WEFT_BENCH_IDLE is a number of processes"),
        Err(_) if smoke => 200,
        Err(_) => 10_000,
    };
    let idle_resident = idle_processes(&package("sleep"), idle);

    if let Some(path) = std::env::var_os("WEFT_BENCH_REPORT") {
        let report = format!(
            "compute_pooled_per_second {pooled:.0}\ncompute_on_demand_per_second {on_demand:.0}\ncompute_plain_per_second {plain:.0}\nidle_processes {idle}\nidle_resident_mib {:.1}\n",
            idle_resident as f64 / 1048576.0
        );
        std::fs::write(&path, report).expect("writing WEFT_BENCH_REPORT");
    }
}

fn print_rate(what: &str, per_second: f64) {
    println!(
        "compute, {what}: {per_second:.0} instantiate + compute(6, 7) + drop per second on one thread, {:.1} µs each",
        1e6 / per_second
    );
}

/// Processes per second of the compute guest through weft's library API,
/// one after another on a single-threaded runtime.
fn weft_spawn_rate(package: &std::path::Path, pool: Option<usize>, budget: Duration) -> f64 {
    let options = LoadOptions {
        pool,
        ..LoadOptions::default()
    };
    let app = App::load(Package::load(package).unwrap(), &options).unwrap();
    let config = quiet_config(&app, &[]);
    let method = app.method("compute").unwrap();
    per_second(budget, async || {
        let call = Call::Method {
            method: method.clone(),
            args: vec![Val::U32(6), Val::U32(7)],
        };
        let event = weft::process::run(&app, Spawn::new(config.clone(), call)).await;
        assert!(
            matches!(&event, ExitEvent::Returned(v) if v[..] == [Val::U32(42)]),
            "{event:?}"
        );
    })
}

/// The baseline: what an embedder writes with Wasmtime alone. A default
/// engine, a linker with all of WASI, and per call a store, a fresh
/// `Linker::instantiate_async`, a typed call, and a drop.
fn plain_spawn_rate(wasm: &[u8], budget: Duration) -> f64 {
    use wasmtime::component::{Component, Linker, ResourceTable};
    use wasmtime::{Engine, Store};
    use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

    struct Plain {
        ctx: WasiCtx,
        table: ResourceTable,
    }
    impl WasiView for Plain {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.ctx,
                table: &mut self.table,
            }
        }
    }

    let engine = Engine::default();
    let component = Component::new(&engine, wasm).unwrap();
    let mut linker: Linker<Plain> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    per_second(budget, async || {
        let state = Plain {
            ctx: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(&engine, state);
        let instance = linker
            .instantiate_async(&mut store, &component)
            .await
            .unwrap();
        let compute = instance
            .get_typed_func::<(u32, u32), (u32,)>(&mut store, "compute")
            .unwrap();
        let (product,) = compute.call_async(&mut store, (6, 7)).await.unwrap();
        assert_eq!(product, 42);
    })
}

/// How many times a second `once` completes, run back to back on a
/// single-threaded runtime for `budget`.
fn per_second(budget: Duration, mut once: impl AsyncFnMut()) -> f64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        let mut count = 0u64;
        while started.elapsed() < budget {
            once().await;
            count += 1;
        }
        count as f64 / started.elapsed().as_secs_f64()
    })
}

/// Resident memory of many processes blocked in a sleep, in this host: prints
/// it and returns the process's resident bytes while they sleep.
///
/// The pooling allocator: instances made on demand map several regions each,
/// and 10,000 of them exceed Linux's default `vm.max_map_count` (65,530).
fn idle_processes(package: &std::path::Path, count: usize) -> u64 {
    let options = LoadOptions {
        pool: Some(count),
        ..LoadOptions::default()
    };
    let app = App::load(Package::load(package).unwrap(), &options).unwrap();
    // Long enough to outlast the measurement; they are killed afterwards.
    let config = quiet_config(&app, &["600000"]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let before = resident_bytes();
    runtime.block_on(async {
        let processes: Vec<_> = (0..count)
            .map(|_| app.spawn(Spawn::new(config.clone(), Call::Run)))
            .collect();
        // Let every one of them reach its sleep.
        tokio::time::sleep(Duration::from_millis(500 + count as u64 / 10)).await;
        let after = resident_bytes();
        let growth = after.saturating_sub(before);
        println!(
            "idle: {count} processes sleeping in one host: resident memory {:.0} MiB (grew {:.0} MiB from {:.0} MiB, {:.1} KiB per process); {} memory mappings",
            after as f64 / 1048576.0,
            growth as f64 / 1048576.0,
            before as f64 / 1048576.0,
            growth as f64 / 1024.0 / count as f64,
            mappings()
        );
        for process in &processes {
            process.kill();
        }
        for process in processes {
            let event = process.wait().await;
            assert!(matches!(event, ExitEvent::Killed), "{event:?}");
        }
        after
    })
}

/// How many memory mappings this process has; Linux refuses new ones past
/// `vm.max_map_count` (65,530 by default).
fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps").map_or(0, |maps| maps.lines().count())
}

/// This process's resident set size, from /proc/self/status.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

fn quiet_config(app: &App, args: &[&str]) -> WasiConfig {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    app.wasi_config(&args, |_| None).unwrap().quiet()
}
