//! `cargo xtask bench-all [RUNS] [SECONDS]`: every benchmark the
//! performance targets name, in one run, then one table: each figure beside
//! its reference (the `wasmtime` CLI, a plain Wasmtime embedding), the ratio,
//! the target and whether it is met.
//!
//! It runs `bench-start RUNS`, `bench-serve SECONDS` and the processes
//! benchmark in turn (each prints its own table first). Without a reference
//! `wasmtime` the comparisons are skipped with a message and their rows say
//! so; without `wrk` the serve rows do.

use std::path::Path;

use anyhow::{Context, Result};

/// The processes benchmark's figures, from the report it writes.
struct Processes {
    pooled_per_second: f64,
    plain_per_second: f64,
    idle_processes: u64,
    idle_mib: f64,
}

pub fn run(root: &Path, runs: usize, seconds: u64) -> Result<()> {
    let start = crate::bench_start::run(root, runs)?;
    println!();
    let serve = match crate::bench_serve::run(root, seconds) {
        Ok(figures) => Some(figures),
        Err(err) => {
            println!("serve benchmark skipped: {err:#}");
            None
        }
    };
    println!();
    let processes = processes(root)?;
    println!();

    println!("summary: one run of every benchmark, this machine");
    println!("| figure | weft | reference | ratio | target | |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for row in &start {
        let Some(reference) = row.wasmtime else {
            println!(
                "| start, {} ({}) | {} | skipped | — | | |",
                row.label,
                row.mode(),
                ms(row.weft.as_secs_f64() * 1e3)
            );
            continue;
        };
        let ratio = row.weft.as_secs_f64() / reference.as_secs_f64();
        let (target, limit) = if row.cold {
            ("≤ 1×", 1.0)
        } else {
            ("≤ 0.5×", 0.5)
        };
        println!(
            "| start, {} ({}) | {} | {} (wasmtime run) | {ratio:.2}× | {target} | {} |",
            row.label,
            row.mode(),
            ms(row.weft.as_secs_f64() * 1e3),
            ms(reference.as_secs_f64() * 1e3),
            verdict(ratio <= limit)
        );
    }
    let spawn_ratio = processes.pooled_per_second / processes.plain_per_second;
    println!(
        "| spawn rate, compute (instantiate + call + drop, one thread) | {:.0}/s | {:.0}/s (plain embedding) | {spawn_ratio:.2}× | ≥ 50,000/s and ≥ 3× | {} |",
        processes.pooled_per_second,
        processes.plain_per_second,
        verdict(processes.pooled_per_second >= 50_000.0 && spawn_ratio >= 3.0)
    );
    match &serve {
        Some(rows) => {
            for row in rows {
                // The 0.2 handler's target is 1.2× the requests/s, the 0.3
                // hello handler's 1.5×; the p99 no worse for each.
                let target = if row.label.starts_with("0.2") {
                    1.2
                } else {
                    1.5
                };
                if row.references.is_empty() {
                    println!(
                        "| serve, {}, requests/s | {:.0} | skipped | — | | |",
                        row.label, row.weft.requests_per_second
                    );
                }
                for (version, reference) in &row.references {
                    let throughput = row.weft.requests_per_second / reference.requests_per_second;
                    let p99 = row.weft.p99_ms / reference.p99_ms;
                    let judged = row.label != "0.3 handler that awaits 10 ms";
                    println!(
                        "| serve, {}, requests/s | {:.0} | {:.0} (wasmtime serve {version}) | {throughput:.2}× | {} | {} |",
                        row.label,
                        row.weft.requests_per_second,
                        reference.requests_per_second,
                        if judged {
                            format!("≥ {target}×")
                        } else {
                            String::new()
                        },
                        if judged {
                            verdict(throughput >= target)
                        } else {
                            ""
                        }
                    );
                    println!(
                        "| serve, {}, p99 latency | {} | {} (wasmtime serve {version}) | {p99:.2}× | {} | {} |",
                        row.label,
                        ms(row.weft.p99_ms),
                        ms(reference.p99_ms),
                        if judged { "≤ 1×" } else { "" },
                        if judged { verdict(p99 <= 1.0) } else { "" }
                    );
                }
            }
        }
        None => println!("| serve | skipped | | | | |"),
    }
    println!(
        "| {} idle processes, resident memory | {:.0} MiB | — | — | < 1 GiB | {} |",
        processes.idle_processes,
        processes.idle_mib,
        verdict(processes.idle_mib < 1024.0)
    );
    Ok(())
}

fn processes(root: &Path) -> Result<Processes> {
    let report = root.join("target/bench-processes.report");
    let _ = std::fs::remove_file(&report);
    crate::run_processes_bench(root, Some(&report))?;
    let text = std::fs::read_to_string(&report)
        .with_context(|| format!("reading {}", report.display()))?;
    let figure = |name: &str| -> Result<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|value| value.trim().parse().ok())
            .with_context(|| format!("{} has no figure `{name}`", report.display()))
    };
    Ok(Processes {
        pooled_per_second: figure("compute_pooled_per_second")?,
        plain_per_second: figure("compute_plain_per_second")?,
        idle_processes: figure("idle_processes")? as u64,
        idle_mib: figure("idle_resident_mib")?,
    })
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

fn ms(millis: f64) -> String {
    format!("{millis:.2} ms")
}
