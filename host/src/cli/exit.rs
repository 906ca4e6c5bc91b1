//! Exit codes: the guest's own status passes through; weft's own failures use
//! a small reserved range (64–74, as sysexits), never 101 (a Rust panic),
//! 124–127 or 128+N (shells and signals). docs/cli.md lists them.

use crate::ErrorKind;
use crate::limits::LimitHit;

/// weft's own exit codes.
pub struct ExitCodes;

impl ExitCodes {
    /// The command line was wrong.
    pub const USAGE: i32 = 64;
    /// The package was not found, or its manifest or wasm is unusable.
    pub const PACKAGE: i32 = 65;
    /// The wasm does not match the hash its manifest pins.
    pub const INTEGRITY: i32 = 66;
    /// The app imports an interface its manifest does not grant.
    pub const CAPABILITY: i32 = 67;
    /// The app's `weft-ready` hook returned an error.
    pub const NOT_READY: i32 = 68;
    /// The guest trapped.
    pub const TRAP: i32 = 69;
    /// weft itself failed (a bug, or the host refused an operation).
    pub const INTERNAL: i32 = 70;
    /// The guest hit its memory limit.
    pub const MEMORY_LIMIT: i32 = 71;
    /// The guest used up its fuel.
    pub const FUEL_LIMIT: i32 = 72;
    /// The guest ran past its timeout.
    pub const TIMEOUT: i32 = 73;
    /// The guest hit its table-element or instance cap.
    pub const RESOURCE_LIMIT: i32 = 74;
}

/// The exit code for an error kind.
pub fn code_for(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::Usage => ExitCodes::USAGE,
        ErrorKind::Package => ExitCodes::PACKAGE,
        ErrorKind::Integrity => ExitCodes::INTEGRITY,
        ErrorKind::Capability => ExitCodes::CAPABILITY,
        ErrorKind::NotReady => ExitCodes::NOT_READY,
        ErrorKind::Trap => ExitCodes::TRAP,
        ErrorKind::Internal | ErrorKind::CompilerNeeded => ExitCodes::INTERNAL,
        ErrorKind::Limit(hit) => match hit {
            LimitHit::Memory { .. } => ExitCodes::MEMORY_LIMIT,
            LimitHit::Fuel { .. } => ExitCodes::FUEL_LIMIT,
            LimitHit::Timeout { .. } => ExitCodes::TIMEOUT,
            LimitHit::TableElements { .. }
            | LimitHit::Instances { .. }
            | LimitHit::Resources { .. } => ExitCodes::RESOURCE_LIMIT,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_outside_the_ranges_others_use() {
        let kinds = [
            ErrorKind::Usage,
            ErrorKind::Package,
            ErrorKind::Integrity,
            ErrorKind::Capability,
            ErrorKind::NotReady,
            ErrorKind::Trap,
            ErrorKind::Internal,
            ErrorKind::Limit(LimitHit::Memory {
                limit: 1,
                requested: 2,
            }),
            ErrorKind::Limit(LimitHit::Fuel { limit: 1 }),
            ErrorKind::Limit(LimitHit::Timeout {
                limit: std::time::Duration::from_secs(1),
            }),
            ErrorKind::Limit(LimitHit::Instances { limit: 1 }),
        ];
        let codes: Vec<i32> = kinds.iter().map(|k| code_for(*k)).collect();
        for (i, code) in codes.iter().enumerate() {
            assert!((64..=78).contains(code));
            assert!(!codes[..i].contains(code), "{code} is used twice");
        }
    }
}
