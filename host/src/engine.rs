//! The Wasmtime engine an app runs on: every setting weft chooses
//! (epochs, fuel, the pooling allocator), and the part of the cache key that
//! says which compiled code those settings need.

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::limits::{EPOCH_TICK, Limits};
use crate::{Error, Result};

/// The engine for apps with these limits: async, fuel metering when a fuel
/// limit is set, and, when `epochs` is true, epoch interruption with a thread
/// that advances the epoch until the engine is dropped (for timeouts and
/// fair sharing of threads: without it, guests never yield nor time out).
///
/// Without `epochs` the compiled code has no epoch checks at its loop heads
/// and function entries: Cranelift compiles it in about two thirds of the
/// time, and it runs without the checks. That is for one process alone on
/// its thread with no timeout (`weft run`), which has nothing to yield to.
/// The setting is part of the cache key ([`EngineSettings::code_key`]), so
/// the two kinds of code have separate cache entries.
///
/// `pooled` sizes the pooling allocator for that many concurrent instances;
/// `None` allocates each instance on demand.
pub fn engine(limits: &Limits, pooled: Option<usize>, epochs: bool) -> Result<Engine> {
    EngineSettings::new(limits, pooled, epochs).engine()
}

/// Every engine setting weft chooses; the rest is fixed by weft's build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSettings {
    epochs: bool,
    fuel: bool,
    /// The pool's size in instances, and the most linear memory one may use.
    pool: Option<(u32, u64)>,
}

impl EngineSettings {
    pub fn new(limits: &Limits, pooled: Option<usize>, epochs: bool) -> EngineSettings {
        let pool = pooled.map(|concurrent| {
            let concurrent = concurrent.clamp(1, u32::MAX as usize) as u32;
            (concurrent, limits.memory.unwrap_or(1 << 30))
        });
        EngineSettings {
            epochs,
            fuel: limits.fuel.is_some(),
            pool,
        }
    }

    /// Address space reserved per linear memory and its guard, when weft
    /// sets them rather than leaving Wasmtime's defaults. The pool reserves
    /// every memory's address space up front. Wasmtime's default, 4 GiB a
    /// memory (no bounds checks), fits 4,096 memories in 16 TiB; a bigger
    /// pool reserves only the memory limit per memory, which keeps 10,000
    /// instances within the address space.
    fn reservation(&self) -> Option<(u64, u64)> {
        self.pool
            .filter(|(concurrent, _)| u64::from(*concurrent) * 4 > 4096)
            .map(|(_, max_memory)| (max_memory, 64 << 10))
    }

    /// What the cache key says about the engine: every setting here that
    /// changes compiled code, and the target. The pool's size is left out
    /// (it changes where instances live, not the code). Wasmtime's own
    /// compatibility hash is not used because a weft without the compiler
    /// cannot compute it; Wasmtime still checks every artifact it loads
    /// against the engine (version, target, CPU features, settings) and
    /// refuses one that does not match, which weft treats as a stale entry.
    pub fn code_key(&self) -> String {
        format!(
            "wasmtime engine: epochs={} fuel={} reservation={:?} component-model-async=true concurrency=true; target {}-{}",
            self.epochs,
            self.fuel,
            self.reservation(),
            std::env::consts::ARCH,
            std::env::consts::OS
        )
    }

    pub fn engine(&self) -> Result<Engine> {
        let mut config = Config::new();
        // WASI 0.3: `async` functions, streams and futures, and the
        // concurrent calls that run them (`Store::run_concurrent`).
        config.wasm_component_model_async(true);
        config.concurrency_support(true);
        config.epoch_interruption(self.epochs);
        config.consume_fuel(self.fuel);
        if let Some((concurrent, max_memory)) = self.pool {
            let mut pool = PoolingAllocationConfig::default();
            // A component is a few core instances, memories and tables; leave
            // room. Each instance in flight runs on one fiber stack from the
            // pool (a stack is two mappings, its guard page and itself: a
            // stack per instance, not two, keeps 10,000 instances under
            // Linux's default `vm.max_map_count`).
            pool.total_component_instances(concurrent.saturating_mul(2))
                .total_core_instances(concurrent.saturating_mul(16))
                .total_memories(concurrent.saturating_mul(4))
                .total_tables(concurrent.saturating_mul(8))
                .total_stacks(concurrent)
                .max_memory_size(max_memory as usize);
            // A slot is reused by the next instance: reset only the pages the
            // last one touched (PAGEMAP_SCAN, Linux 6.7+) with memset, up to a
            // bound, rather than madvise + page faults on every instantiation.
            pool.pagemap_scan(Enabled::Auto)
                .linear_memory_keep_resident(1 << 20)
                .table_keep_resident(64 << 10);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        if let Some((reservation, guard)) = self.reservation() {
            config.memory_reservation(reservation);
            config.memory_guard_size(guard);
        }
        let engine = Engine::new(&config).map_err(|err| {
            Error::internal("cannot create the Wasmtime engine").caused_by_wasmtime(&err)
        })?;
        if !self.epochs {
            return Ok(engine);
        }
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("weft-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .map_err(|err| Error::internal("cannot start the epoch thread").caused_by(&err))?;
        Ok(engine)
    }
}
