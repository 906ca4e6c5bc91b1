//! Bytes that are not UTF-8 where weft expects text: app arguments, the app's
//! path and host variables the manifest passes on. WASI strings are UTF-8,
//! so each is refused with one line naming it and the documented exit code,
//! never passed on mangled or dropped in silence. (The conformance suite's
//! cases are TOML strings, which cannot hold such bytes.)

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use xtask::testing::Weft;

fn package(name: &str) -> PathBuf {
    xtask::test_package(&["hello", "args-env"], name)
}

fn weft() -> Weft {
    let mut weft = Weft::new("weft");
    weft.command().env_clear();
    weft.env("WEFT_CACHE_DIR", xtask::cache_dir(&xtask::workspace_root()))
}

/// Runs and returns (exit code, stdout, stderr); checks stderr is one line.
fn refused(weft: Weft) -> (Option<i32>, String, String) {
    let output = weft.output();
    assert_eq!(
        output.stderr.lines().count(),
        1,
        "one line on stderr: {output:?}"
    );
    (output.code, output.stdout, output.stderr)
}

const NOT_UTF8: &[u8] = b"caf\xe9";

#[test]
fn an_app_argument() {
    let (code, stdout, stderr) = refused(
        weft()
            .arg("run")
            .arg(package("hello"))
            .arg(OsStr::from_bytes(NOT_UTF8)),
    );
    assert_eq!(code, Some(64), "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("app argument 1 (caf\u{fffd}) is not valid UTF-8"),
        "{stderr}"
    );
}

#[test]
fn the_app_path() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join(OsStr::from_bytes(NOT_UTF8));
    xtask::copy_tree(&package("hello"), &dir).unwrap();
    for subcommand in ["run", "check", "serve"] {
        let (code, _, stderr) = refused(weft().arg(subcommand).arg(&dir));
        assert_eq!(code, Some(64), "{subcommand}: {stderr}");
        assert!(
            stderr.contains("is not valid UTF-8; rename it or name the app by its id"),
            "{subcommand}: {stderr}"
        );
    }
}

#[test]
fn a_host_variable_the_manifest_passes_on() {
    // args-env takes API_URL from HOST_API_URL (required) and OPTIONAL
    // from HOST_OPTIONAL (optional): neither may arrive mangled or vanish.
    for (required, optional) in [(NOT_UTF8, &b"fine"[..]), (&b"fine"[..], NOT_UTF8)] {
        let (code, stdout, stderr) = refused(
            weft()
                .arg("run")
                .arg(package("args-env"))
                .env("HOST_API_URL", OsStr::from_bytes(required))
                .env("HOST_OPTIONAL", OsStr::from_bytes(optional)),
        );
        assert_eq!(code, Some(65), "{stderr}");
        assert_eq!(stdout, "");
        let var = if required == NOT_UTF8 {
            "HOST_API_URL"
        } else {
            "HOST_OPTIONAL"
        };
        assert!(
            stderr.contains(&format!("the host variable {var} (for env var")),
            "{stderr}"
        );
        assert!(
            stderr.contains("is not valid UTF-8 (caf\u{fffd})"),
            "{stderr}"
        );
    }
}
