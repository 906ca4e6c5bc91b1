//! `weft` and `weft-runtime` are built without the compiler: they run apps
//! from the artifact cache and hand anything that must be compiled over to
//! `weft-compiler` (the same command, in the same process). These tests run
//! the binaries as they ship.

use std::path::{Path, PathBuf};

use xtask::testing::{RunOutput, Weft};

fn package(name: &str) -> PathBuf {
    xtask::test_package(&["p1-hello", "hello"], name)
}

fn weft(name: &str, cache: &Path) -> Weft {
    let mut weft = Weft::new(name);
    weft.command()
        .env("WEFT_CACHE_DIR", cache)
        .env_remove("WEFT_COMPILER")
        .env_remove("RUST_LOG");
    weft
}

/// `weft run FLAGS APP ARGS`, handing over to `compiler` if given.
fn weft_run(
    cache: &Path,
    compiler: Option<&str>,
    flags: &[&str],
    app: &str,
    args: &[&str],
) -> RunOutput {
    let mut command = weft("weft", cache);
    if let Some(compiler) = compiler {
        command = command.env("WEFT_COMPILER", compiler);
    }
    command
        .arg("run")
        .args(flags)
        .arg(package(app))
        .args(args)
        .output()
}

/// What `WEFT_COMPILER` is set to when there must be no compiler.
const NO_COMPILER: Option<&str> = Some("/nonexistent/weft-compiler");

fn entries(cache: &Path) -> usize {
    std::fs::read_dir(cache).map_or(0, |dir| dir.count())
}

fn assert_internal_error(output: &RunOutput, needles: &[&str]) {
    let stderr = &output.stderr;
    assert_eq!(output.code, Some(70), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} in {stderr}");
    }
}

/// Compiling needs the compiler: without one to hand over to, the run fails
/// with one sentence that names the app, the missing compiler and the fix.
/// (This also shows that `weft` itself has no compiler in it.)
#[test]
fn without_the_compiler_an_uncompiled_app_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    for name in ["hello", "p1-hello"] {
        let output = weft_run(cache.path(), NO_COMPILER, &[], name, &[]);
        assert_internal_error(
            &output,
            &[
                "app.wasm has to be compiled, and this weft has no compiler",
                "/nonexistent/weft-compiler, which does not exist",
                "WEFT_COMPILER",
            ],
        );
    }
    assert_eq!(entries(cache.path()), 0);
}

/// `weft` hands over, the compiler compiles and runs the app and fills the
/// cache, and the next run needs no compiler at all: the two binaries agree
/// on the cache key.
#[test]
fn the_compiler_fills_the_entry_weft_then_runs_alone() {
    let cache = tempfile::tempdir().unwrap();
    for (name, greeting) in [
        ("hello", "Hello, again!"),
        ("p1-hello", "Hello from a preview1 module!"),
    ] {
        let output = weft_run(cache.path(), None, &["--ready"], name, &["again"]);
        assert!(output.code == Some(0), "{output:?}");
        assert_eq!(output.stdout, format!("READY\n{greeting}\n"));
        assert!(output.stderr.is_empty(), "{output:?}");

        let output = weft_run(cache.path(), NO_COMPILER, &[], name, &["again"]);
        assert!(output.code == Some(0), "from the cache alone: {output:?}");
        assert_eq!(output.stdout, format!("{greeting}\n"));
    }
    assert_eq!(entries(cache.path()), 2);
}

/// `--no-cache` always compiles, so it always hands over; the exit code of
/// the app comes back through the compiler.
#[test]
fn no_cache_runs_through_the_compiler() {
    let cache = tempfile::tempdir().unwrap();
    let output = weft_run(cache.path(), None, &["--no-cache"], "hello", &["you"]);
    assert!(output.code == Some(0), "{output:?}");
    assert_eq!(output.stdout, "Hello, you!\n");
    assert_eq!(entries(cache.path()), 0);
}

/// WEFT's `weft-runtime <app_id> <session_id>` hands over too, and the
/// compiler runs it as `weft-runtime` (not as `weft` with those arguments).
#[test]
fn weft_runtime_hands_over_as_itself() {
    let cache = tempfile::tempdir().unwrap();
    let store = package("p1-hello").parent().unwrap().to_path_buf();
    for _ in 0..2 {
        let output = weft("weft-runtime", cache.path())
            .env("WEFT_APP_STORE", &store)
            .args(["org.weft.guests.p1hello", "session-1"])
            .output();
        assert!(output.code == Some(0), "{output:?}");
        assert_eq!(output.stdout, "READY\nHello from a preview1 module!\n");
    }
    assert_eq!(entries(cache.path()), 1);
}

/// A `WEFT_COMPILER` that names a weft without a compiler would hand over
/// forever; the second weft sees it was started as the compiler and stops.
#[test]
fn a_compiler_without_a_compiler_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let lean = xtask::shipped_binary("weft");
    let output = weft("weft", cache.path())
        .env("WEFT_COMPILER", &lean)
        .arg("compile")
        .arg(package("hello"))
        .output();
    assert_internal_error(
        &output,
        &[
            "has to be compiled, and this weft has no compiler",
            "WEFT_COMPILER",
            "names a weft without one",
        ],
    );
}
