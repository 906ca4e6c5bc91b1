//! The Wasmtime engine an app runs on: every setting weft chooses
//! (epochs, fuel, the pooling allocator), and the part of the cache key that
//! says which compiled code those settings need.

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

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
    /// Wasmtime's concurrency support (component-model async: WASI 0.3,
    /// `async func`, streams and futures). Only components that use it get
    /// it: with it on, every call into any component pays for the async
    /// bookkeeping (measured: 0.2 serving 4× and the spawn rate 8× slower).
    concurrency: bool,
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
            concurrency: false,
        }
    }

    /// With Wasmtime's concurrency support, for a component that uses the
    /// component model's async features ([`crate::wasm::uses_component_model_async`]).
    pub fn concurrent(mut self, concurrency: bool) -> EngineSettings {
        self.concurrency = concurrency;
        self
    }

    /// Address space reserved per linear memory and its guard, when weft
    /// sets them rather than leaving Wasmtime's defaults. The pool reserves
    /// every memory's address space up front. Wasmtime's default, 4 GiB a
    /// memory (no bounds checks), fits 4,096 memories in 16 TiB; a bigger
    /// pool reserves only the memory limit per memory, which keeps 10,000
    /// instances within the address space.
    /// The most linear memory an instance of the pool may have, if instances
    /// come from a pool.
    pub fn pool_memory(&self) -> Option<u64> {
        self.pool.map(|(_, max_memory)| max_memory)
    }

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
            "wasmtime engine: epochs={} fuel={} reservation={:?} concurrency={}; target {}-{}",
            self.epochs,
            self.fuel,
            self.reservation(),
            self.concurrency,
            std::env::consts::ARCH,
            std::env::consts::OS
        )
    }

    pub fn engine(&self) -> Result<Engine> {
        let mut config = Config::new();
        // WASI 0.3: `async` functions, streams and futures, and the
        // concurrent calls that run them (`Store::run_concurrent`), for the
        // components that use them. Without, such a component does not
        // validate, which cannot happen: weft decides from the binary.
        config.wasm_component_model_async(self.concurrency);
        config.concurrency_support(self.concurrency);
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
            // A slot's memory is decommitted (madvise) when its instance is
            // dropped: Wasmtime's default. Keeping pages resident and
            // resetting the dirty ones found with Linux's PAGEMAP_SCAN was
            // faster up to Wasmtime 48 (147,000 spawns/s against 90,000),
            // but since 50.0.1 the scan also reports pages that were never
            // touched, so every drop wrote the whole resident budget (1 MiB):
            // 18,000 spawns/s with it, 70,000 without (docs/performance.md).
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
