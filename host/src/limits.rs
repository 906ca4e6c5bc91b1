//! Execution limits: memory, fuel, timeout, table elements, instances and
//! WASI resources, from the manifest and the command line → store limits and
//! an epoch deadline; and, when a guest stops, which limit stopped it.
//!
//! A guest whose `memory.grow` is refused usually traps through its own
//! allocator's abort; the [`Limiter`] records the refusal, so the run is
//! reported as the memory limit it is, not as that trap.

use std::fmt;
use std::time::{Duration, Instant};

use wasmtime::{ResourceLimiter, Store, UpdateDeadline};

/// How often the engine's epoch advances: the timeout's resolution, and how
/// often a CPU-bound guest yields its thread to other processes.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Default cap on core instances in one store. A component is several core
/// instances (and an adapted core module a few more), so this is generous.
pub const DEFAULT_MAX_INSTANCES: usize = 1_000;

/// Default cap on the elements of each table. Table elements are host
/// memory outside the memory limit (wasm32 allows 2^32 of them per table);
/// the largest guests here (Python, JavaScript) use tens of thousands.
pub const DEFAULT_MAX_TABLE_ELEMENTS: u64 = 1_000_000;

/// Default cap on the resources one instance holds at once, applied to the
/// WASI resources (streams, pollables, descriptors, fields, requests…) and,
/// separately, to the component handles: each is host memory.
pub const DEFAULT_MAX_RESOURCES: u64 = 100_000;

/// The limits for one process. `None` means no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of each linear memory.
    pub memory: Option<u64>,
    /// Instructions, in Wasmtime's fuel units (about one per wasm operator).
    pub fuel: Option<u64>,
    /// Wall-clock time from the start of init.
    pub timeout: Option<Duration>,
    /// Elements of each table.
    pub table_elements: Option<u64>,
    /// Core instances in the store.
    pub instances: Option<u64>,
    /// Resources held at once (WASI resources; component handles).
    pub resources: Option<u64>,
}

impl Limits {
    /// The cap on each table's elements: the set one or the default.
    pub fn table_elements_cap(&self) -> u64 {
        self.table_elements.unwrap_or(DEFAULT_MAX_TABLE_ELEMENTS)
    }

    /// The cap on core instances: the set one or the default.
    pub fn instances_cap(&self) -> u64 {
        self.instances.unwrap_or(DEFAULT_MAX_INSTANCES as u64)
    }

    /// The cap on resources held at once: the set one or the default.
    pub fn resources_cap(&self) -> u64 {
        self.resources.unwrap_or(DEFAULT_MAX_RESOURCES)
    }

    /// These limits, overridden field by field by `other`'s set fields.
    pub fn overridden_by(&self, other: &Limits) -> Limits {
        Limits {
            memory: other.memory.or(self.memory),
            fuel: other.fuel.or(self.fuel),
            timeout: other.timeout.or(self.timeout),
            table_elements: other.table_elements.or(self.table_elements),
            instances: other.instances.or(self.instances),
            resources: other.resources.or(self.resources),
        }
    }
}

/// Which limit stopped a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    Memory { limit: u64, requested: u64 },
    Fuel { limit: u64 },
    Timeout { limit: Duration },
    TableElements { limit: u64, requested: u64 },
    Instances { limit: u64 },
    Resources { limit: u64 },
}

impl LimitHit {
    /// The manifest key and the `weft run` flag that set this limit.
    pub fn setting(&self) -> (&'static str, &'static str) {
        match self {
            LimitHit::Memory { .. } => ("memory", "--memory"),
            LimitHit::Fuel { .. } => ("fuel", "--fuel"),
            LimitHit::Timeout { .. } => ("timeout", "--timeout"),
            LimitHit::TableElements { .. } => ("table_elements", "--table-elements"),
            LimitHit::Instances { .. } => ("instances", "--instances"),
            LimitHit::Resources { .. } => ("resources", "--resources"),
        }
    }
}

impl fmt::Display for LimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (key, flag) = self.setting();
        match self {
            LimitHit::Memory { limit, requested } => write!(
                f,
                "memory limit of {} hit (it asked for {} of linear memory)",
                format_bytes(*limit),
                format_bytes(*requested)
            )?,
            LimitHit::Fuel { limit } => write!(f, "fuel limit of {limit} used up")?,
            LimitHit::Timeout { limit } => {
                write!(f, "timeout of {} reached", format_duration(*limit))?
            }
            LimitHit::TableElements { limit, requested } => write!(
                f,
                "table limit of {limit} elements hit (it asked for {requested})"
            )?,
            LimitHit::Instances { limit } => write!(f, "instance limit of {limit} hit")?,
            LimitHit::Resources { limit } => write!(
                f,
                "resource limit of {limit} hit (it held that many resources at once: WASI streams, pollables or descriptors, or handles to resources of its own)"
            )?,
        }
        write!(
            f,
            "; to allow more, raise `{key}` under [runtime.limits] or pass {flag} to weft run"
        )
    }
}

/// The error the epoch callback ends a guest with when its time is up.
#[derive(Debug)]
pub(crate) struct DeadlineReached;

impl fmt::Display for DeadlineReached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the wall-clock deadline passed")
    }
}

impl std::error::Error for DeadlineReached {}

/// The store's resource limiter: enforces the caps and remembers a refusal.
#[derive(Debug)]
pub struct Limiter {
    memory: Option<u64>,
    table_elements: Option<u64>,
    instances: u64,
    /// The first limit that refused something.
    pub(crate) hit: Option<LimitHit>,
}

impl Limiter {
    pub fn new(limits: &Limits) -> Self {
        Limiter {
            memory: limits.memory,
            table_elements: Some(limits.table_elements_cap()),
            instances: limits.instances_cap(),
            hit: None,
        }
    }

    fn record(&mut self, hit: LimitHit) {
        self.hit.get_or_insert(hit);
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if let Some(limit) = self.memory
            && desired as u64 > limit
        {
            self.record(LimitHit::Memory {
                limit,
                requested: desired as u64,
            });
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if let Some(limit) = self.table_elements
            && desired as u64 > limit
        {
            self.record(LimitHit::TableElements {
                limit,
                requested: desired as u64,
            });
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances.min(usize::MAX as u64) as usize
    }

    fn tables(&self) -> usize {
        usize::MAX
    }

    fn memories(&self) -> usize {
        usize::MAX
    }
}

/// Applies fuel, the deadline and the cap on component handles to a store
/// whose data holds a [`Limiter`].
///
/// Every epoch tick the guest yields its thread (so CPU-bound processes share
/// threads fairly), and once the deadline has passed it is stopped. The
/// `resources` cap bounds both tables a guest fills with host memory: the
/// WASI resource table (set where it is made) and the component's handle
/// tables, which `resource.new` fills without host code in the loop.
pub(crate) fn apply<T: 'static>(
    store: &mut Store<T>,
    limits: &Limits,
    started: Instant,
) -> wasmtime::Result<()> {
    store.set_max_component_handles(usize::try_from(limits.resources_cap()).unwrap_or(usize::MAX));
    if let Some(fuel) = limits.fuel {
        store.set_fuel(fuel)?;
    }
    let deadline = limits.timeout.map(|t| started + t);
    store.epoch_deadline_callback(move |_| match deadline {
        Some(deadline) if Instant::now() >= deadline => Err(wasmtime::Error::new(DeadlineReached)),
        _ => Ok(UpdateDeadline::Yield(1)),
    });
    store.set_epoch_deadline(1);
    Ok(())
}

/// Checks a memory limit: at least one wasm page (64KiB).
pub fn memory_limit(bytes: u64) -> Result<u64, String> {
    if bytes < 65_536 {
        return Err(
            "is below one wasm page (64KiB); give at least \"64KiB\", like \"64MiB\"".to_string(),
        );
    }
    Ok(bytes)
}

/// Checks a count limit (fuel, table elements, instances, resources) as a
/// manifest writes it: a positive number; `example` is one to suggest.
pub fn count_limit(value: i64, example: &str) -> Result<u64, String> {
    u64::try_from(value).ok().filter(|n| *n > 0).ok_or_else(|| {
        format!(
            "{value} is not a limit; give a positive number, like {example}, or leave the field out for no limit"
        )
    })
}

/// Parses a size: a number of bytes, or a number with a unit (`B`, `KiB`,
/// `MiB`, `GiB`, `KB`, `MB`, `GB`; `K`, `M`, `G` mean the binary units).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.replace('_', "").parse().map_err(|_| {
        format!("\"{text}\" is not a size; write a number with a unit, like \"64MiB\"")
    })?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" | "k" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(format!(
                "\"{other}\" is not a size unit; use B, KiB, MiB, GiB, KB, MB or GB, like \"64MiB\""
            ));
        }
    };
    number
        .checked_mul(scale)
        .ok_or_else(|| format!("\"{text}\" is too large"))
}

/// Parses a duration: a number with a unit (`ms`, `s`, `m`, `h`), like "5s".
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.' && c != '_')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let wrong = || {
        format!(
            "\"{text}\" is not a duration; write a number with a unit (ms, s, m, h), like \"5s\""
        )
    };
    let number: f64 = number.replace('_', "").parse().map_err(|_| wrong())?;
    let seconds = match unit.trim() {
        "ms" => number / 1_000.0,
        "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3_600.0,
        _ => return Err(wrong()),
    };
    if !(seconds.is_finite() && seconds > 0.0 && seconds < 1e9) {
        return Err(format!("\"{text}\" must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (scale, unit) in UNITS {
        if bytes >= scale && bytes.is_multiple_of(scale) {
            return format!("{}{unit}", bytes / scale);
        }
    }
    format!("{bytes}B")
}

pub fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert_eq!(parse_bytes("10MB"), Ok(10_000_000));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("1_024KiB"), Ok(1 << 20));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5 parsecs").is_err());
        assert!(parse_bytes("99999999999999GiB").is_err());
        assert_eq!(format_bytes(64 << 20), "64MiB");
        assert_eq!(format_bytes(1000), "1000B");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn command_line_overrides_manifest() {
        let manifest = Limits {
            memory: Some(1),
            fuel: Some(2),
            ..Limits::default()
        };
        let flags = Limits {
            fuel: Some(3),
            ..Limits::default()
        };
        let merged = manifest.overridden_by(&flags);
        assert_eq!(merged.memory, Some(1));
        assert_eq!(merged.fuel, Some(3));
    }

    #[test]
    fn limiter_records_the_first_refusal() {
        let mut limiter = Limiter::new(&Limits {
            memory: Some(1 << 20),
            ..Limits::default()
        });
        assert!(limiter.memory_growing(0, 1 << 16, None).unwrap());
        assert!(!limiter.memory_growing(1 << 16, 2 << 20, None).unwrap());
        assert_eq!(
            limiter.hit,
            Some(LimitHit::Memory {
                limit: 1 << 20,
                requested: 2 << 20
            })
        );
    }

    #[test]
    fn tables_are_capped_by_default() {
        let mut limiter = Limiter::new(&Limits::default());
        let cap = DEFAULT_MAX_TABLE_ELEMENTS as usize;
        assert!(limiter.table_growing(0, cap, None).unwrap());
        assert!(!limiter.table_growing(cap, cap + 1, None).unwrap());
        assert_eq!(
            limiter.hit,
            Some(LimitHit::TableElements {
                limit: DEFAULT_MAX_TABLE_ELEMENTS,
                requested: DEFAULT_MAX_TABLE_ELEMENTS + 1
            })
        );
    }
}
