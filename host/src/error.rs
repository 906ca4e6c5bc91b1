//! The library's error type: a kind, and one sentence that says what failed,
//! on which input, and what to do; and the one mapping from a kind to an exit
//! code ([`ErrorKind::exit_code`]), for every front end (the CLI, and a
//! containerd shim).
//!
//! Exit codes: the guest's own status passes through; weft's own failures use
//! a small reserved range (64–74, as sysexits), never 101 (a Rust panic),
//! 124–127 or 128+N (shells and signals). docs/cli.md lists them.

use std::fmt;

/// What went wrong, as far as a caller choosing an exit code cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The command line was wrong.
    Usage,
    /// The package could not be found, or its manifest or wasm is unusable.
    Package,
    /// The wasm's sha256 is not the one the manifest pins.
    Integrity,
    /// The component imports an interface that the manifest does not grant.
    Capability,
    /// The app's `weft-ready` hook returned an error.
    NotReady,
    /// The guest trapped (a panic, `unreachable`, an out-of-bounds access, ...).
    Trap,
    /// A limit stopped the guest.
    Limit(crate::limits::LimitHit),
    /// Something failed inside weft or on the host (I/O, Wasmtime internals).
    Internal,
}

impl ErrorKind {
    /// The exit code for this kind of failure.
    pub fn exit_code(self) -> i32 {
        use crate::limits::LimitHit;
        match self {
            ErrorKind::Usage => ExitCodes::USAGE,
            ErrorKind::Package => ExitCodes::PACKAGE,
            ErrorKind::Integrity => ExitCodes::INTEGRITY,
            ErrorKind::Capability => ExitCodes::CAPABILITY,
            ErrorKind::NotReady => ExitCodes::NOT_READY,
            ErrorKind::Trap => ExitCodes::TRAP,
            ErrorKind::Internal => ExitCodes::INTERNAL,
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
}

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
    /// The guest hit its table-element, instance or resource cap.
    pub const RESOURCE_LIMIT: i32 = 74;
}

/// An error with a kind, a one-sentence message and the causes behind it.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    causes: Vec<String>,
    details: Vec<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            causes: Vec::new(),
            details: Vec::new(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Usage, message)
    }

    pub fn package(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Package, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    /// Adds the chain of an underlying error as causes (never its backtrace).
    pub fn caused_by(mut self, source: &(dyn std::error::Error + 'static)) -> Self {
        let mut next = Some(source);
        while let Some(err) = next {
            let text = err.to_string();
            if !text.is_empty() && !self.message.contains(&text) && !self.causes.contains(&text) {
                self.causes.push(text);
            }
            next = err.source();
        }
        self
    }

    /// Adds the chain of a Wasmtime error as causes.
    pub fn caused_by_wasmtime(self, source: &wasmtime::Error) -> Self {
        self.with_causes(source.chain().map(|e| e.to_string()))
    }

    /// Adds the chain of an `anyhow` error (wit-component's) as causes.
    pub fn caused_by_anyhow(self, source: &anyhow::Error) -> Self {
        self.with_causes(source.chain().map(|e| e.to_string()))
    }

    /// Adds a multi-line detail (such as a wasm backtrace) shown after the causes.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.details.push(detail.into());
        self
    }

    fn with_causes(mut self, causes: impl IntoIterator<Item = String>) -> Self {
        for text in causes {
            if !text.is_empty() && !self.message.contains(&text) && !self.causes.contains(&text) {
                self.causes.push(text);
            }
        }
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn causes(&self) -> &[String] {
        &self.causes
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for cause in &self.causes {
            write!(f, "\n  caused by: {cause}")?;
        }
        for detail in &self.details {
            for line in detail.lines() {
                write!(f, "\n  {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::LimitHit;
    use std::time::Duration;

    /// Every kind, each limit hit included. The match below has no wildcard,
    /// so a new kind or hit does not compile until it is listed here.
    fn every_kind() -> Vec<ErrorKind> {
        let hits = [
            LimitHit::Memory {
                limit: 1,
                requested: 2,
            },
            LimitHit::Fuel { limit: 1 },
            LimitHit::Timeout {
                limit: Duration::from_secs(1),
            },
            LimitHit::TableElements {
                limit: 1,
                requested: 2,
            },
            LimitHit::Instances { limit: 1 },
            LimitHit::Resources { limit: 1 },
        ];
        for hit in hits {
            match hit {
                LimitHit::Memory { .. }
                | LimitHit::Fuel { .. }
                | LimitHit::Timeout { .. }
                | LimitHit::TableElements { .. }
                | LimitHit::Instances { .. }
                | LimitHit::Resources { .. } => {}
            }
        }
        let kinds = [
            ErrorKind::Usage,
            ErrorKind::Package,
            ErrorKind::Integrity,
            ErrorKind::Capability,
            ErrorKind::NotReady,
            ErrorKind::Trap,
            ErrorKind::Internal,
        ];
        for kind in kinds {
            match kind {
                ErrorKind::Usage
                | ErrorKind::Package
                | ErrorKind::Integrity
                | ErrorKind::Capability
                | ErrorKind::NotReady
                | ErrorKind::Trap
                | ErrorKind::Internal
                | ErrorKind::Limit(_) => {}
            }
        }
        kinds
            .into_iter()
            .chain(hits.into_iter().map(ErrorKind::Limit))
            .collect()
    }

    #[test]
    fn every_kind_has_a_documented_code_in_the_reserved_range() {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cli.md"))
            .expect("reading docs/cli.md");
        for kind in every_kind() {
            let code = kind.exit_code();
            assert!(
                (64..=74).contains(&code),
                "{kind:?} exits with {code}, outside weft's range 64-74"
            );
            assert!(
                docs.contains(&format!("| {code} |")),
                "docs/cli.md has no row for exit code {code} ({kind:?})"
            );
        }
    }

    #[test]
    fn only_the_resource_caps_share_a_code() {
        let resource_cap = |kind: &ErrorKind| {
            matches!(
                kind,
                ErrorKind::Limit(
                    LimitHit::TableElements { .. }
                        | LimitHit::Instances { .. }
                        | LimitHit::Resources { .. }
                )
            )
        };
        let kinds = every_kind();
        for (i, a) in kinds.iter().enumerate() {
            for b in &kinds[..i] {
                if !(resource_cap(a) && resource_cap(b)) {
                    assert_ne!(a.exit_code(), b.exit_code(), "{a:?} and {b:?} share a code");
                }
            }
        }
    }
}
