//! `wasi:cli`: arguments, environment, exit, the standard streams and the
//! terminal interfaces. What a guest sees through them is decided here: its
//! arguments, the environment variables the manifest lists (never the host's
//! environment as a whole), its working directory, and where its standard
//! streams go.
//!
//! | WASI | interfaces                                                                  |
//! |------|-----------------------------------------------------------------------------|
//! | 0.2  | `environment`, `exit`, `stdin`, `stdout`, `stderr`, `terminal-input`,       |
//! |      | `terminal-output`, `terminal-stdin`, `terminal-stdout`, `terminal-stderr`   |
//! | 0.3  | the same, and `types` (the error codes of the standard streams)             |
//!
//! Manifest: `[runtime.wasi]` `args`, `env` and `cwd` ([`env_var`], [`check_cwd`]).

use std::ffi::OsString;
use std::path::Path;

use wasmtime::component::Linker;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::p2::bindings::cli;
use wasmtime_wasi::p3::bindings::cli as cli3;
use wasmtime_wasi::{WasiCtxBuilder, WasiView};

use crate::{Error, Result};

wasi_interfaces! {
    p2 for <T: WasiView>, l;
    "wasi:cli/environment" => cli::environment::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/exit" => cli::exit::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/stdin" => cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/stdout" => cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/stderr" => cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/terminal-input" => cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/terminal-output" => cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/terminal-stdin" => cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/terminal-stdout" => cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/terminal-stderr" => cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli),
}

wasi_interfaces! {
    p3 for <T: WasiView>, l;
    // Types only (the standard streams' `error-code`): nothing to link.
    "wasi:cli/types" => Ok(()),
    "wasi:cli/environment" => cli3::environment::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/exit" => cli3::exit::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/stdin" => cli3::stdin::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/stdout" => cli3::stdout::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/stderr" => cli3::stderr::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/terminal-input" => cli3::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/terminal-output" => cli3::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/terminal-stdin" => cli3::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/terminal-stdout" => cli3::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli),
    "wasi:cli/terminal-stderr" => cli3::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli),
}

/// One entry of `[runtime.wasi] env`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub source: EnvSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    /// A fixed value from the manifest.
    Value(String),
    /// Copied from the host's variable of this name; when it is unset the
    /// variable is left out, unless `required`, which makes that an error.
    Host { var: String, required: bool },
}

/// Validates one `env` entry as the manifest writes it; `Err` says why it
/// is not one.
pub fn env_var(
    name: String,
    value: Option<String>,
    from: Option<String>,
    required: Option<bool>,
) -> std::result::Result<EnvVar, String> {
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(format!(
            "\"{name}\" is not a variable name; names are non-empty and contain no '=' or NUL"
        ));
    }
    let source = match (value, from) {
        (Some(value), None) => {
            if required.is_some() {
                return Err(format!(
                    "\"{name}\" has a fixed `value`, so `required` has no meaning; remove it, or use `from` to copy a host variable"
                ));
            }
            EnvSource::Value(value)
        }
        (None, Some(var)) => EnvSource::Host {
            var,
            required: required.unwrap_or(false),
        },
        (Some(_), Some(_)) => {
            return Err(format!(
                "\"{name}\" has both `value` and `from`; give one: `value = \"...\"` for a fixed value, `from = \"HOST_VAR\"` to copy a host variable"
            ));
        }
        (None, None) => {
            return Err(format!(
                "\"{name}\" has neither `value` nor `from`; add `value = \"...\"` or `from = \"HOST_VAR\"`"
            ));
        }
    };
    Ok(EnvVar { name, source })
}

/// Validates `cwd`: an absolute guest path.
pub fn check_cwd(cwd: &str) -> std::result::Result<(), String> {
    if !cwd.starts_with('/') {
        return Err(format!(
            "\"{cwd}\" is relative; `cwd` must be an absolute guest path, like \"/data\""
        ));
    }
    Ok(())
}

/// The guest's environment: each listed variable, with `from` variables read
/// through `host_env` (so that callers decide what "the host" is).
pub fn resolve_env(
    vars: &[EnvVar],
    manifest_path: &Path,
    host_env: impl Fn(&str) -> Option<OsString>,
) -> Result<Vec<(String, String)>> {
    let mut env = Vec::new();
    for var in vars {
        match &var.source {
            EnvSource::Value(value) => env.push((var.name.clone(), value.clone())),
            EnvSource::Host {
                var: from,
                required,
            } => match host_env(from).map(|value| value.into_string()) {
                Some(Ok(value)) => env.push((var.name.clone(), value)),
                Some(Err(value)) => {
                    return Err(Error::package(format!(
                        "the host variable {from} (for env var {} in {}) is not valid UTF-8 ({}); WASI passes the environment as UTF-8 strings, so set {from} in UTF-8",
                        var.name,
                        manifest_path.display(),
                        value.to_string_lossy()
                    )));
                }
                None if *required => {
                    return Err(Error::package(format!(
                        "the app requires env var {} from the host variable {from}, which is not set (see `runtime.wasi.env` in {}); set {from} before starting weft",
                        var.name,
                        manifest_path.display()
                    )));
                }
                None => {}
            },
        }
    }
    Ok(env)
}

/// Where an instance's stdin, stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stdio {
    /// weft's own stdin, stdout and stderr (what `weft run` does).
    #[default]
    Inherit,
    /// Empty stdin; output is discarded.
    Null,
}

/// What one instance sees of `wasi:cli`.
#[derive(Debug, Clone, Default)]
pub struct CliConfig {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<String>,
    pub stdio: Stdio,
}

/// Per-instance preparation: puts the arguments, environment, working
/// directory and standard streams into a fresh context.
pub fn prepare(builder: &mut WasiCtxBuilder, config: &CliConfig) {
    if config.stdio == Stdio::Inherit {
        builder.inherit_stdio();
    }
    builder.args(&config.args);
    builder.envs(&config.env);
    if let Some(cwd) = &config.cwd {
        builder.initial_cwd(cwd);
    }
}
