//! Builds and packs the guests in `guests/`, and reads their expectations.
//!
//! Each guest is a folder with a `guest.toml` (how to build it, and the cases
//! the conformance suite runs) and a `wapp.toml` whose `hash` is written as
//! `"{{hash}}"`: the builder fills it from the wasm it just built, so no hash
//! is ever typed by hand. Packs land in `target/weft-guests/store/<app-id>/`,
//! a package store that `weft run` and `WEFT_APP_STORE` can use directly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub mod bench_all;
pub mod bench_compile;
pub mod bench_serve;
pub mod bench_shim;
pub mod bench_start;
pub mod containerd;
pub mod debian;
pub mod deploy;
pub mod docs;
pub mod fuzz;
pub mod http_client;
pub mod polyglot;
pub mod reference;
pub mod testing;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The Rust targets guests are built for.
pub const WASM_TARGETS: [&str; 2] = ["wasm32-wasip2", "wasm32-wasip1"];

/// The placeholder in a guest's `wapp.toml` that the builder replaces.
pub const HASH_PLACEHOLDER: &str = "{{hash}}";

/// `guest.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestSpec {
    pub build: Build,
    /// Behaviours whose cases this guest must pass too:
    /// `guests/shared/<name>.toml`, the same expectations in every language.
    #[serde(default)]
    pub shares: Vec<String>,
    /// Files or folders (relative to `guests/`) copied into the package.
    #[serde(default)]
    pub assets: Vec<String>,
    #[serde(default, rename = "case")]
    pub cases: Vec<Case>,
}

/// `guests/shared/<behaviour>.toml`: cases shared by guests in several languages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SharedCases {
    #[serde(default, rename = "case")]
    cases: Vec<Case>,
}

/// How a guest's wasm is made.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Build {
    /// A crate in the guests workspace (named as the folder), built for `target`.
    Rust { target: String },
    /// A WebAssembly text file in the folder (a core module or a component),
    /// compiled with the `wat` crate.
    Wat { source: String },
    /// C compiled with clang and wasi-libc. Without `world`, a plain `main`
    /// packed as a preview1 core module; with it, `wit-bindgen c` bindings
    /// for that world of `wit/`, made a component with the preview1 adapter.
    C {
        sources: Vec<String>,
        world: Option<String>,
        /// The WIT folder of `world`, relative to `guests/`, when it is not
        /// the root `wit/` (a test world that weft's own WIT does not hold).
        wit: Option<String>,
    },
    /// Python made a component by componentize-py, for a world of `wit/`
    /// (`app`) or, named with its package, of another WIT folder
    /// (`weft:app-p3/app` with `wit = "../wit/p3"`).
    Python {
        world: String,
        module: String,
        /// The WIT folder of `world`, relative to `guests/`, when it is not
        /// the root `wit/`.
        wit: Option<String>,
    },
    /// JavaScript made a component by componentize-js (StarlingMonkey), or
    /// by componentize-qjs (QuickJS) with `backend = "qjs"`, for a world of
    /// `wit/` or, with `wit`, of another WIT folder.
    Js {
        source: String,
        world: String,
        /// WASI features componentize-js should not import (`--disable`).
        #[serde(default)]
        disable: Vec<String>,
        /// `qjs` for componentize-qjs, which builds WASI 0.3 components
        /// (componentize-js cannot); componentize-js by default.
        backend: Option<JsBackend>,
        /// The WIT folder of `world`, relative to `guests/`, when it is not
        /// the root `wit/`.
        wit: Option<String>,
    },
    /// Nothing to build: the folder is packed as it is (for manifest errors).
    None,
}

/// The engine a JavaScript guest is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsBackend {
    /// componentize-qjs: QuickJS, with the component model's async.
    Qjs,
}

impl Build {
    /// The WIT folder the build reads its world from.
    pub fn wit_dir(&self, root: &Path) -> PathBuf {
        match self {
            Build::C { wit: Some(wit), .. }
            | Build::Python { wit: Some(wit), .. }
            | Build::Js { wit: Some(wit), .. } => root.join("guests").join(wit),
            _ => root.join("wit"),
        }
    }
}

/// One run of `weft` and what it must do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// `run` (default) or `check`.
    #[serde(default = "default_subcommand")]
    pub subcommand: String,
    /// weft's own flags, before the app.
    #[serde(default)]
    pub flags: Vec<String>,
    /// Run by this app id (looked up through `WEFT_APP_STORE`) instead of by path.
    pub app: Option<String>,
    /// Run `weft-runtime` with these arguments instead of `weft`.
    pub weft_runtime: Option<Vec<String>>,
    /// The app's arguments, after the app.
    #[serde(default)]
    pub args: Vec<String>,
    /// Host environment variables for the run (the rest of the host's
    /// environment is cleared).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// What weft's stdin holds (the app reads it, then end of file); by
    /// default stdin is empty.
    pub stdin: Option<String>,
    /// Keep weft's stdin open and never write to it (an app reading it
    /// waits), instead of an empty stdin.
    #[serde(default)]
    pub stdin_open: bool,
    /// Replace the package's `wapp.toml` with this file from the package.
    pub manifest: Option<String>,
    /// Listen on a `$NOTIFY_SOCKET` and expect exactly this message there
    /// (an empty string: expect none).
    pub notify: Option<String>,
    /// Flip one byte of the packed wasm before running.
    #[serde(default)]
    pub tamper: bool,
    /// Exact stdout.
    pub stdout: Option<String>,
    #[serde(default)]
    pub stdout_contains: Vec<String>,
    #[serde(default)]
    pub stdout_lacks: Vec<String>,
    #[serde(default)]
    pub stderr_contains: Vec<String>,
    #[serde(default)]
    pub stderr_lacks: Vec<String>,
    /// Exact number of lines on stderr.
    pub stderr_lines: Option<usize>,
    pub exit: i32,
    /// Files the run must leave in the package directory.
    #[serde(default)]
    pub files: Vec<FileExpectation>,
    /// Empty directories to make in the package before the run (git keeps
    /// none), relative to the package directory.
    #[serde(default)]
    pub make_dirs: Vec<String>,
    /// Files to create outside the package before the run, in a directory
    /// that `{{outside}}` names in `symlinks`; the run must leave them, and
    /// only them, there unchanged.
    #[serde(default)]
    pub outside: Vec<FileExpectation>,
    /// Symlinks to create in the package before the run.
    #[serde(default)]
    pub symlinks: Vec<Symlink>,
    /// For `subcommand = "serve"`: requests made once weft listens, in
    /// order; then weft gets SIGTERM and must exit with `exit`.
    #[serde(default)]
    pub requests: Vec<RequestCase>,
}

/// One HTTP request to a served app, and its expected response.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestCase {
    #[serde(default = "default_method")]
    pub method: String,
    pub path: String,
    /// The request body.
    #[serde(default)]
    pub body: String,
    pub status: u16,
    /// Exact response body.
    pub response: Option<String>,
    /// Lowercase `name: value` lines the response headers must include.
    #[serde(default)]
    pub headers: Vec<String>,
    /// The response body's exact length, for bodies too big to write out.
    pub response_len: Option<usize>,
    /// Sent at the same time as the requests next to it that have this set
    /// too (each on its own connection), instead of after the one before.
    #[serde(default)]
    pub at_once: bool,
    /// Milliseconds to wait before sending this request (or the batch of
    /// `at_once` requests it starts), after the one before has been answered.
    #[serde(default)]
    pub pause_ms: u64,
}

fn default_method() -> String {
    "GET".to_string()
}

fn default_subcommand() -> String {
    "run".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileExpectation {
    /// Relative to the package directory.
    pub path: String,
    /// Exact contents; absent means the file must not exist.
    pub contents: Option<String>,
}

/// A symlink a case creates in its package before the run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Symlink {
    /// Where, relative to the package directory.
    pub path: String,
    /// What it points to, as written (`{{outside}}` is filled in).
    pub target: String,
}

/// A guest after building: where its package is, and its cases.
#[derive(Debug)]
pub struct BuiltGuest {
    /// The folder under `guests/`: `hello`, or `python/hello`.
    pub name: String,
    pub package: PathBuf,
    pub cases: Vec<Case>,
}

/// A guest that was not built because its language's toolchain is missing
/// (`WEFT_GUESTS_SKIP_MISSING=1`): its cases show as ignored tests.
pub struct SkippedGuest {
    pub name: String,
    /// Why: the missing toolchain.
    pub reason: String,
    pub cases: Vec<Case>,
}

/// Builds and packs the guests (all of them, or those named in `only`).
pub fn build_guests(root: &Path, only: &[String]) -> Result<Vec<BuiltGuest>> {
    Ok(build_guests_or_skip(root, only)?.0)
}

/// A `cargo` command: the one running this build (`$CARGO`), else from PATH,
/// without the variables cargo set for xtask itself (see
/// [`is_set_by_cargo_for_xtask`]).
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        if is_set_by_cargo_for_xtask(&key.to_string_lossy()) {
            command.env_remove(key);
        }
    }
    command
}

/// A `cargo` command for a build outside this workspace (the guests, a
/// `cargo install`, the fuzz targets): [`cargo`] without the lint wrapper
/// that CI sets for the workspace's own crates (`RUSTC_WORKSPACE_WRAPPER`
/// and `CLIPPY_ARGS`, see docs/testing.md), which would hold another
/// workspace's members, such as the guests, to weft's lints.
pub fn cargo_outside() -> Command {
    let mut command = cargo();
    command
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS");
    command
}

/// Whether a variable is one that `cargo run` sets for the program it runs
/// (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, …): xtask's, not the user's.
/// Passed on to a build, they make it differ from the user's own `cargo
/// build`: some build scripts (ring's) rerun when `CARGO_MANIFEST_DIR`
/// changes, so `cargo build --release` after `cargo xtask example` rebuilt
/// weft's TLS stack and everything above it.
pub fn is_set_by_cargo_for_xtask(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || key.starts_with("CARGO_MANIFEST_")
        || matches!(
            key,
            "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR"
        )
}

/// Installs Debian packages with apt-get (non-interactive, without
/// recommends), running `apt-get update` once and trying again if the first
/// install fails. True when they are installed.
pub fn apt_install(packages: &[&str]) -> bool {
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    if install() {
        return true;
    }
    let _ = Command::new("apt-get").args(["update", "-q"]).status();
    install()
}

/// Builds weft as it ships, in `target/release`: first `weft-compiler`
/// (package `weft-compiler`, with the compiler), then `weft` and
/// `weft-runtime` (package `weft-cli`, without it). They are separate cargo
/// invocations because one invocation unifies the host crate's features and
/// would link the compiler into `weft` too. The example, the tests, the
/// benchmarks and the README's own `cargo build --release` all use this one
/// build. Returns the path of `weft`.
///
/// `progress` shows cargo's own progress (a first build compiles Wasmtime,
/// several minutes on two cores); the tests build quietly.
pub fn build_weft(root: &Path, progress: bool) -> anyhow::Result<PathBuf> {
    build_weft_with(root, progress, &[])
}

/// [`build_weft`], with these variables set for cargo (`cargo xtask quick`
/// sets `CARGO_INCREMENTAL=1`).
pub fn build_weft_with(
    root: &Path,
    progress: bool,
    vars: &[(&str, &str)],
) -> anyhow::Result<PathBuf> {
    for package in ["weft-compiler", "weft-cli"] {
        let mut command = cargo();
        command.current_dir(root).envs(vars.iter().copied()).args([
            "build",
            "--release",
            "--package",
            package,
        ]);
        if !progress {
            command.arg("--quiet");
        }
        let status = command
            .status()
            .with_context(|| format!("building {package}"))?;
        if !status.success() {
            anyhow::bail!("building {package} (release) failed");
        }
    }
    Ok(root.join("target/release/weft"))
}

/// The one release build of `cargo xtask test`, in `target/release`:
///
/// 1. every package and target of the workspace (the tests, the benchmarks,
///    the shim, `weft-compiler`), in one cargo invocation;
/// 2. `weft-compiler` as the README builds it, which must find all of it
///    fresh: its crates have the workspace's features because
///    `compiler/Cargo.toml` aligns them, so Wasmtime and Cranelift are
///    compiled once (a crate that cargo compiles again fails here, named);
/// 3. the lean `weft` and `weft-runtime` ([`build_weft`]), last, so that
///    `target/release/weft` is the one without the compiler (step 1 also
///    links a `weft` with it), which is checked by its symbols.
///
/// Under CI, `RUSTC_WORKSPACE_WRAPPER=clippy-driver` makes steps 1 and 3 the
/// two clippy configurations (docs/testing.md).
pub fn build_for_tests(root: &Path) -> Result<()> {
    let status = cargo()
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--quiet",
            "--workspace",
            "--all-targets",
        ])
        .status()
        .context("building the workspace")?;
    if !status.success() {
        bail!("building the workspace (cargo build --release --workspace --all-targets) failed");
    }
    let output = cargo()
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--package",
            "weft-compiler",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("building weft-compiler")?;
    if !output.status.success() {
        bail!("building weft-compiler (release) failed");
    }
    let rebuilt = rebuilt_packages(&String::from_utf8_lossy(&output.stdout));
    if !rebuilt.is_empty() {
        bail!(
            "`cargo build --release -p weft-compiler` compiled {} again after the workspace's build: the two builds gave them different features; add the features the workspace turns on to the alignment list in compiler/Cargo.toml (docs/testing.md says how to find them)",
            rebuilt.join(", ")
        );
    }
    let weft = build_weft(root, false)?;
    for name in ["weft", "weft-runtime"] {
        let path = weft.with_file_name(name);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        if contains(&bytes, b"cranelift_codegen") {
            bail!(
                "{} links Cranelift (a `cranelift_codegen` symbol): the lean build must not; check the features of package weft-cli",
                path.display()
            );
        }
    }
    Ok(())
}

/// The packages of the artifacts that a `--message-format=json` build
/// compiled instead of finding fresh, as `name@version` (or cargo's whole
/// package id when it has another form).
pub fn rebuilt_packages(messages: &str) -> Vec<String> {
    /// The fields of a cargo message that this reads.
    #[derive(Deserialize)]
    struct Message {
        reason: String,
        #[serde(default)]
        package_id: String,
        #[serde(default)]
        fresh: bool,
    }
    let mut rebuilt: Vec<String> = messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Message>(line).ok())
        .filter(|message| message.reason == "compiler-artifact" && !message.fresh)
        .map(|message| {
            // `registry+https://…#name@1.2.3` or `path+file:///…/host#weft@0.1.0`
            let id = &message.package_id;
            id.rsplit('#').next().unwrap_or(id).to_string()
        })
        .collect();
    rebuilt.sort();
    rebuilt.dedup();
    rebuilt
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The command that builds what [`shipped_binary`] finds.
const BUILD_SHIPPED: &str =
    "`cargo build --release -p weft-compiler && cargo build --release -p weft-cli`";

/// The shipped `weft`, `weft-runtime` or `weft-compiler` (`name`) that the
/// tests run: the release build, made by [`build_weft`] (`cargo xtask test`
/// does that first) in the target directory of the running test binary.
/// Cargo cannot build them for the tests (see [`build_weft`]), so this
/// refuses, with the command to run, a binary that is missing or older than
/// the sources.
pub fn shipped_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's own path");
    // target/<profile>/deps/<test> → target/release/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let path = dir.join("release").join(name);
    let built = std::fs::metadata(&path)
        .and_then(|meta| meta.modified())
        .unwrap_or_else(|err| {
            panic!(
                "{} is missing ({err}): the tests run weft as it ships; build it with {BUILD_SHIPPED}, or run the tests with `cargo xtask test`",
                path.display()
            )
        });
    if let Some((modified, source)) = newest_source()
        && *modified > built
    {
        panic!(
            "{} is older than {}: rebuild it with {BUILD_SHIPPED}, or run the tests with `cargo xtask test`",
            path.display(),
            source.display()
        );
    }
    path
}

/// The most recently modified file under `host/src`, `cli/src` and
/// `compiler/src`, found
/// once per process (the conformance suite asks for every case).
fn newest_source() -> &'static Option<(std::time::SystemTime, PathBuf)> {
    static NEWEST: std::sync::OnceLock<Option<(std::time::SystemTime, PathBuf)>> =
        std::sync::OnceLock::new();
    NEWEST.get_or_init(|| {
        let root = workspace_root();
        let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
        let mut dirs = vec![
            root.join("host/src"),
            root.join("cli/src"),
            root.join("compiler/src"),
        ];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                let Ok(meta) = entry.metadata() else { continue };
                if meta.is_dir() {
                    dirs.push(path);
                } else if let Ok(modified) = meta.modified()
                    && newest.as_ref().is_none_or(|(time, _)| modified > *time)
                {
                    newest = Some((modified, path));
                }
            }
        }
        newest
    })
}

/// The workspace root (the folder that holds `guests/` and `host/`).
///
/// Found from the `CARGO_MANIFEST_DIR` that cargo sets when it runs xtask or
/// a test, not the one compiled in: a copy of the repository that shares
/// this build (`cargo xtask docs`) runs the same binary from elsewhere.
pub fn workspace_root() -> PathBuf {
    let compiled = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .and_then(|dir| {
            dir.ancestors()
                .find(|d| d.join("xtask/Cargo.toml").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| {
            compiled
                .parent()
                .expect("xtask lives in the workspace")
                .to_path_buf()
        })
}

/// Where packed guests go: a package store.
pub fn store_dir(root: &Path) -> PathBuf {
    root.join("target/weft-guests/store")
}

/// The artifact cache the conformance suite shares between its cases, so
/// each guest is compiled once per engine configuration, not once per case.
/// For tests: the package of guest `name`. The first call in a process
/// builds every guest in `names` (each test file passes the same list), so
/// a test binary builds its guests once.
pub fn test_package(names: &[&str], name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<Vec<BuiltGuest>> = std::sync::OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        build_guests(&workspace_root(), &names).expect("building the test guests")
    });
    built
        .iter()
        .find(|g| g.name == name)
        .unwrap_or_else(|| panic!("guest {name} was not in the first call's list of guests"))
        .package
        .clone()
}

/// For tests: the peak resident memory of a live process, in KiB (Linux's
/// `VmHWM`), or `None` once it has gone.
pub fn peak_resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub fn cache_dir(root: &Path) -> PathBuf {
    root.join("target/weft-guests/cache")
}

/// Installs the wasm targets when rustup is there and they are missing.
pub fn ensure_wasm_targets() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let installed = match installed {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        _ => {
            eprintln!("xtask: rustup not found; assuming the wasm targets are installed");
            return Ok(());
        }
    };
    let missing: Vec<&str> = WASM_TARGETS
        .into_iter()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing Rust targets {}", missing.join(", "));
    let status = Command::new("rustup")
        .args(["target", "add"])
        .args(&missing)
        .status()
        .context("running rustup target add")?;
    if !status.success() {
        bail!("rustup target add {} failed", missing.join(" "));
    }
    Ok(())
}

/// Lists the guest folders (those with a `guest.toml`), sorted by name:
/// `guests/<name>/` and, for other languages, `guests/<language>/<name>/`.
pub fn discover(root: &Path) -> Result<Vec<(String, PathBuf, GuestSpec)>> {
    let guests = root.join("guests");
    let mut found = Vec::new();
    let mut read = |dir: PathBuf, name: String| -> Result<()> {
        let spec_path = dir.join("guest.toml");
        let text = std::fs::read_to_string(&spec_path)?;
        let mut spec: GuestSpec =
            toml::from_str(&text).with_context(|| format!("parsing {}", spec_path.display()))?;
        let mut cases = Vec::new();
        for behaviour in &spec.shares {
            let path = guests.join("shared").join(format!("{behaviour}.toml"));
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "guest {name} shares {behaviour}, but {} cannot be read",
                    path.display()
                )
            })?;
            let shared: SharedCases =
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            cases.extend(shared.cases);
        }
        cases.append(&mut spec.cases);
        spec.cases = cases;
        found.push((name, dir, spec));
        Ok(())
    };
    for entry in sorted_dirs(&guests)? {
        let top = entry.file_name().unwrap().to_string_lossy().into_owned();
        if entry.join("guest.toml").is_file() {
            read(entry, top)?;
        } else if !matches!(top.as_str(), "shared" | "target") {
            for sub in sorted_dirs(&entry)? {
                if sub.join("guest.toml").is_file() {
                    let name = format!("{top}/{}", sub.file_name().unwrap().to_string_lossy());
                    read(sub, name)?;
                }
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Builds and packs the guests (all of them, or those named in `only`), and
/// lists those skipped for a missing toolchain.
pub fn build_guests_or_skip(
    root: &Path,
    only: &[String],
) -> Result<(Vec<BuiltGuest>, Vec<SkippedGuest>)> {
    let mut guests = discover(root)?;
    check_app_ids(&guests)?;
    if !only.is_empty() {
        for name in only {
            if !guests.iter().any(|g| &g.0 == name) {
                bail!("no guest named {name} in guests/");
            }
        }
        guests.retain(|g| only.contains(&g.0));
    }

    // One cargo invocation per target builds every Rust guest for it.
    let mut by_target: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, _, spec) in &guests {
        if let Build::Rust { target } = &spec.build {
            by_target.entry(target).or_default().push(name);
        }
    }
    if !by_target.is_empty() {
        ensure_wasm_targets()?;
    }
    let target_dir = root.join("target/guests");
    for (target, crates) in &by_target {
        let mut cargo = cargo_outside();
        cargo
            .arg("build")
            .arg("--release")
            .arg("--quiet")
            .arg("--manifest-path")
            .arg(root.join("guests/Cargo.toml"))
            .arg("--target")
            .arg(target)
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        for krate in crates {
            cargo.arg("--package").arg(krate);
        }
        let status = cargo
            .status()
            .context("running cargo to build the guests")?;
        if !status.success() {
            bail!(
                "building the {target} guests ({}) failed",
                crates.join(", ")
            );
        }
    }

    let store = store_dir(root);
    std::fs::create_dir_all(&store)?;
    let mut toolchains = polyglot::Toolchains::new(root);
    let mut built = Vec::new();
    let mut skipped = Vec::new();
    for (name, dir, spec) in guests {
        let wasm = match &spec.build {
            Build::Rust { target } => {
                let release = target_dir.join(target).join("release");
                let candidates = [
                    release.join(format!("{name}.wasm")),
                    release.join(format!("{}.wasm", name.replace('-', "_"))),
                ];
                let path = candidates
                    .iter()
                    .find(|p| p.is_file())
                    .with_context(|| format!("cargo built no wasm for guest {name}"))?;
                Some(std::fs::read(path)?)
            }
            Build::Wat { source } => {
                let path = dir.join(source);
                Some(
                    wat::parse_file(&path)
                        .with_context(|| format!("compiling {}", path.display()))?,
                )
            }
            Build::C { .. } | Build::Python { .. } | Build::Js { .. } => {
                match toolchains.build(&name, &dir, &spec.build)? {
                    Some(wasm) => Some(wasm),
                    None => {
                        let reason = toolchains
                            .skipped
                            .iter()
                            .find(|(skipped, _)| skipped == &name)
                            .map(|(_, why)| why.clone())
                            .unwrap_or_default();
                        skipped.push(SkippedGuest {
                            name,
                            reason,
                            cases: spec.cases,
                        });
                        continue;
                    }
                }
            }
            Build::None => None,
        };
        let package = pack(&name, &dir, wasm.as_deref(), &store)?;
        for asset in &spec.assets {
            let from = root.join("guests").join(asset);
            let to = package.join(
                Path::new(asset)
                    .file_name()
                    .context("an asset has a name")?,
            );
            copy_tree(&from, &to).with_context(|| format!("guest {name}: asset {asset}"))?;
        }
        built.push(BuiltGuest {
            name,
            package,
            cases: spec.cases,
        });
    }
    toolchains.announce_skipped();
    Ok((built, skipped))
}

/// A field of a manifest's text, if it parses and has it.
fn manifest_field(manifest: &str, section: &str, key: &str) -> Option<String> {
    let table: toml::Table = toml::from_str(manifest).ok()?;
    table.get(section)?.get(key)?.as_str().map(str::to_string)
}

/// Where a guest's package goes in the store: its app id. A manifest too
/// broken to name one is stored by the guest's folder name.
fn store_name(name: &str, manifest: &str) -> String {
    manifest_field(manifest, "package", "id")
        .filter(|id| {
            id.split('.').count() >= 3 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
        })
        .unwrap_or_else(|| name.to_string())
}

/// Refuses two guests that would be packed under one app id: the second
/// would silently replace the first in the store, and `weft run <id>`
/// would run whichever was built last.
pub fn check_app_ids(guests: &[(String, PathBuf, GuestSpec)]) -> Result<()> {
    let mut seen: BTreeMap<String, (&str, PathBuf)> = BTreeMap::new();
    for (name, dir, _) in guests {
        let manifest_path = dir.join("wapp.toml");
        let Ok(manifest) = std::fs::read_to_string(&manifest_path) else {
            continue;
        };
        let id = store_name(name, &manifest);
        if let Some((other, other_path)) = seen.get(&id) {
            bail!(
                "guests {other} and {name} both have the app id {id} ({} and {}), and packages are stored by app id, so one would replace the other; give one of them another `id` under [package]",
                other_path.display(),
                manifest_path.display()
            );
        }
        seen.insert(id, (name, manifest_path));
    }
    Ok(())
}

/// Writes the package for one guest: its assets, its wasm, and its manifest
/// with the hash filled in.
fn pack(name: &str, dir: &Path, wasm: Option<&[u8]>, store: &Path) -> Result<PathBuf> {
    let manifest_path = dir.join("wapp.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("guest {name} has no wapp.toml"))?;
    let field = |section: &str, key: &str| manifest_field(&manifest, section, key);
    let package = store.join(store_name(name, &manifest));
    if package.exists() {
        std::fs::remove_dir_all(&package)?;
    }
    std::fs::create_dir_all(&package)?;
    copy_assets(dir, &package)?;

    let module = field("runtime", "module").unwrap_or_else(|| "app.wasm".to_string());
    let module_path = package.join(&module);
    if let Some(wasm) = wasm {
        if let Some(parent) = module_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&module_path, wasm)?;
    }
    std::fs::write(package.join("wapp.toml"), &manifest)?;
    // Every manifest in the package (cases may swap in alternatives) gets
    // the hash of the module it names: the one just packed, unless it names
    // another file of the package (a corpus of bad modules).
    for entry in std::fs::read_dir(&package)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        if text.contains(HASH_PLACEHOLDER) {
            let named = toml::from_str::<toml::Table>(&text).ok().and_then(|t| {
                t.get("runtime")?
                    .get("module")?
                    .as_str()
                    .map(str::to_string)
            });
            let module_path = match named {
                Some(named) if package.join(&named).is_file() => package.join(named),
                _ => module_path.clone(),
            };
            let wasm = std::fs::read(&module_path).with_context(|| {
                format!("guest {name}: nothing to hash at {}", module_path.display())
            })?;
            let hash = format!("sha256:{}", hex(&Sha256::digest(&wasm)));
            std::fs::write(&path, text.replace(HASH_PLACEHOLDER, &hash))?;
        }
    }
    Ok(package)
}

/// Copies everything but the guest's sources and build files.
fn copy_assets(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let skip = matches!(
            name.as_ref(),
            "src" | "Cargo.toml" | "guest.toml" | "wapp.toml" | "target" | "__pycache__"
        ) || [".wat", ".c", ".h", ".py", ".js"]
            .iter()
            .any(|ext| name.ends_with(ext));
        if skip {
            continue;
        }
        copy_tree(&entry.path(), &to.join(name.as_ref()))?;
    }
    Ok(())
}

/// Copies a file or a directory tree.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        std::fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    }
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs the processes benchmark (`cargo bench`, release build), which prints
/// its figures; with `report`, it also writes them there (`name value` lines).
pub fn run_processes_bench(root: &Path, report: Option<&Path>) -> Result<()> {
    ensure_wasm_targets()?;
    let mut command = cargo();
    command
        .current_dir(root)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .args(["bench", "--package", "weft", "--bench", "processes"]);
    if let Some(report) = report {
        command.env("WEFT_BENCH_REPORT", report);
    }
    let status = command.status().context("running cargo bench")?;
    if !status.success() {
        bail!("the processes benchmark failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuilt_packages_are_the_artifacts_not_found_fresh() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#libc@0.2.191","fresh":false}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/host#weft@0.1.0","fresh":true}"#,
            "\n",
            r#"{"reason":"build-script-executed","package_id":"registry+https://x#log@0.4.35","fresh":false}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"registry+https://x#libc@0.2.191","fresh":false}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/cli#weft-cli@0.1.0","fresh":false}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            rebuilt_packages(messages),
            ["libc@0.2.191", "weft-cli@0.1.0"]
        );
        assert!(rebuilt_packages(r#"{"reason":"build-finished","success":true}"#).is_empty());
    }

    #[test]
    fn contains_finds_a_symbol_name_anywhere() {
        assert!(contains(
            b"..._ZN17cranelift_codegen3foo...",
            b"cranelift_codegen"
        ));
        assert!(!contains(b"wasmtime_cranelift", b"cranelift_codegen"));
        assert!(!contains(b"", b"cranelift_codegen"));
    }

    #[test]
    fn two_guests_with_one_app_id_are_refused_by_name() {
        let root = std::env::temp_dir().join(format!("weft-ids-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let write = |dir: &str, id: &str| {
            let dir = root.join("guests").join(dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("guest.toml"), "[build]\nkind = \"none\"\n").unwrap();
            std::fs::write(
                dir.join("wapp.toml"),
                format!("[package]\nid = \"{id}\"\nname = \"G\"\nversion = \"0.1.0\"\n"),
            )
            .unwrap();
        };
        write("python/greeter", "org.example.greeter");
        write("js/other", "org.example.other");
        check_app_ids(&discover(&root).unwrap()).unwrap();

        write("js/greeter", "org.example.greeter");
        let err = check_app_ids(&discover(&root).unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "guests js/greeter and python/greeter both have the app id org.example.greeter"
            ),
            "{err}"
        );
        assert!(err.contains("give one of them another `id`"), "{err}");
        let err = build_guests(&root, &["js/other".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("org.example.greeter"),
            "building any guest checks them all: {err}"
        );

        // Broken manifests are stored by folder name, which cannot collide.
        write("js/greeter", "not an id");
        write("python/greeter", "not an id");
        check_app_ids(&discover(&root).unwrap()).unwrap();
        std::fs::remove_dir_all(&root).ok();
    }
}
