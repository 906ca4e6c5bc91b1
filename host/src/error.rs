//! The library's error type: a kind that the CLI maps to an exit code, and one
//! sentence that says what failed, on which input, and what to do.

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
    /// The app must be compiled, and this build of weft has no compiler (the
    /// `compiler` feature is off): the `weft` binary hands the command over
    /// to `weft-compiler` when it sees this.
    CompilerNeeded,
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

    /// `path` has to be compiled by a weft with the `compiler` feature.
    pub fn compiler_needed(path: &std::path::Path) -> Self {
        Error::new(
            ErrorKind::CompilerNeeded,
            format!(
                "{} has to be compiled, and this weft has no compiler",
                path.display()
            ),
        )
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
