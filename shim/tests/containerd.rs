//! `containerd-shim-weft-v1` under a real containerd: the test starts a
//! containerd of its own (private root, state and socket; CRI off), packs
//! guests with `weft image`, imports them with `ctr`, and runs them with
//! `ctr run --runtime io.containerd.weft.v1`:
//!
//! - a hello app: its stdout and exit code 0;
//! - a guest's own exit code (3);
//! - the container's arguments after the manifest's, and its environment
//!   feeding the manifest's `from =` variables without leaking (`PATH`);
//! - a missing required variable, an ungranted import, a wasm that is not
//!   the one the manifest pins, a manifest that does not parse and one that
//!   is not text, each refused with weft's one line and exit code;
//! - a `wasi:http` app answering over `--net-host` on `WEFT_LISTEN`, with
//!   its metrics on `WEFT_METRICS`, then ended gracefully by `ctr task kill`
//!   (SIGTERM);
//! - after the first run, the compiled app in containerd's content store,
//!   by its `runwasi.io/precompiled/weft/…` label, and a second run from it.
//!
//! containerd needs root, and a containerd of 1.7.7 or newer (Debian 12's
//! 1.6.20 refuses wasm layers): `cargo xtask test` fetches Debian 13's
//! (see `xtask::containerd`). Without either, the test fails and says why.

use std::path::{Path, PathBuf};

use xtask::containerd::Daemon;
use xtask::testing::RunOutput;

const NAMESPACE: &str = "weft-test";
const GUESTS: &[&str] = &[
    "hello",
    "exit-code",
    "args-env",
    "fs-ungranted",
    "http-hello",
];

/// The tests' containerd (`xtask::containerd::Daemon`), under
/// `target/containerd-test`, with the shim cargo built for this test; each
/// call panics with the reason and containerd's log.
struct Containerd(Daemon);

impl Containerd {
    fn start() -> Containerd {
        let root = xtask::workspace_root();
        let shim = Path::new(env!("CARGO_BIN_EXE_containerd-shim-weft-v1"));
        Daemon::start(
            &root,
            &root.join("target/containerd-test"),
            shim.parent().unwrap(),
            NAMESPACE,
        )
        .map(Containerd)
        .unwrap_or_else(|err| panic!("{err:#}"))
    }

    fn dir(&self) -> &Path {
        &self.0.dir
    }

    fn ctr(&self, args: &[&str]) -> RunOutput {
        self.0
            .ctr(args)
            .unwrap_or_else(|err| panic!("{err:#}\n{}", self.0.log()))
    }

    fn run(&self, flags: &[&str], image: &str, id: &str, args: &[&str]) -> RunOutput {
        self.0
            .run(flags, image, id, args)
            .unwrap_or_else(|err| panic!("{err:#}\n{}", self.0.log()))
    }

    fn log(&self) -> String {
        self.0.log()
    }
}

/// Packs a test guest with `weft image`; returns the tarball and the name.
fn image(dir: &Path, guest: &str) -> (PathBuf, String) {
    let package = xtask::test_package(GUESTS, guest);
    let tar = dir.join(format!("{guest}.tar"));
    let name = xtask::containerd::pack_image(&xtask::shipped_binary("weft"), &package, &tar)
        .unwrap_or_else(|err| panic!("{err:#}"));
    (tar, name)
}

/// The run's stderr holds one `weft: error:` line, and it says `says`.
fn assert_one_error(run: &RunOutput, says: &str) {
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("weft: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "not one weft: error: line: {run:?}");
    assert!(errors[0].contains(says), "{says:?} not in {:?}", errors[0]);
}

#[test]
fn weft_images_run_as_containers_under_weft_s_rules() {
    let containerd = Containerd::start();
    let mut names = std::collections::BTreeMap::new();
    for guest in GUESTS {
        let (tar, name) = image(containerd.dir(), guest);
        let import = containerd.ctr(&["image", "import", "--all-platforms", tar.to_str().unwrap()]);
        assert_eq!(import.code, Some(0), "{import:?}");
        names.insert(*guest, name);
    }
    let listed = containerd.ctr(&["image", "ls", "-q"]);
    for name in names.values() {
        assert!(
            listed.stdout.lines().any(|line| line == name),
            "{name} not imported: {listed:?}"
        );
    }

    // A hello app: its stdout, exit code 0.
    let hello = containerd.run(&[], &names["hello"], "hello-1", &["/app.wasm", "world"]);
    assert_eq!(hello.code, Some(0), "{hello:?}\n{}", containerd.log());
    assert_eq!(hello.stdout.trim(), "Hello, world!", "{hello:?}");

    // The compiled app is in the content store, under the shim's label,
    // and the next container of the image runs from it.
    let content = containerd.ctr(&["content", "ls"]);
    assert!(
        content.stdout.contains("runwasi.io/precompiled/weft/"),
        "no content labelled runwasi.io/precompiled/weft/ after the first run: {content:?}\n{}",
        containerd.log()
    );
    let again = containerd.run(&[], &names["hello"], "hello-2", &["/app.wasm", "again"]);
    assert_eq!(again.code, Some(0), "{again:?}");
    assert_eq!(again.stdout.trim(), "Hello, again!", "{again:?}");

    // A guest's own exit code.
    let exit = containerd.run(&[], &names["exit-code"], "exit-1", &[]);
    assert_eq!(exit.code, Some(3), "{exit:?}");

    // Arguments after the manifest's; the environment feeds `from =`
    // variables only.
    let args = containerd.run(
        &["--env", "HOST_API_URL=https://api.example"],
        &names["args-env"],
        "args-1",
        &["/app.wasm", "one", "two"],
    );
    assert_eq!(args.code, Some(0), "{args:?}");
    for line in [
        "arg[1]=--from-manifest",
        "arg[2]=one",
        "arg[3]=two",
        "env API_URL=https://api.example",
        "env MODE=fast",
    ] {
        assert!(
            args.stdout.lines().any(|l| l == line),
            "no {line:?} in {args:?}"
        );
    }
    assert!(
        !args.stdout.contains("PATH="),
        "the container's PATH leaked: {args:?}"
    );
    assert!(!args.stdout.contains("HOST_API_URL"), "{args:?}");

    // A required variable the container does not set: weft's message, exit 65.
    let missing = containerd.run(&[], &names["args-env"], "args-2", &[]);
    assert_eq!(missing.code, Some(65), "{missing:?}");
    assert_one_error(&missing, "HOST_API_URL");

    // An ungranted import: refused by name, in the image's manifest, exit 67.
    let refused = containerd.run(&[], &names["fs-ungranted"], "refused-1", &[]);
    assert_eq!(refused.code, Some(67), "{refused:?}");
    assert_one_error(&refused, "wasi:filesystem");
    assert_one_error(&refused, "the image's wapp.toml");

    // Images that `weft image` would not make, packed by hand: each fails
    // as its container starts, with weft's one line and exit code (the
    // shim's compiler refuses them first, and containerd runs the original
    // layers, which weft refuses again).
    let hello = weft::package::Package::load(&xtask::test_package(GUESTS, "hello")).unwrap();
    let pinned = std::fs::read(&hello.manifest_path).unwrap();
    // The hello wasm with a custom section appended: not the pinned bytes.
    let mut tampered = hello.wasm.clone();
    tampered.extend_from_slice(&[0, 9, 8]);
    tampered.extend_from_slice(b"tampered");
    for (what, wasm, manifest, code, says) in [
        (
            "tampered",
            &tampered[..],
            &pinned[..],
            66,
            "integrity check failed",
        ),
        (
            "bad-manifest",
            &hello.wasm[..],
            &b"[package\nid = 1\n"[..],
            65,
            "invalid manifest the image's wapp.toml",
        ),
        (
            "binary-manifest",
            &hello.wasm[..],
            &[0xff, 0xfe, 0][..],
            65,
            "is not UTF-8 text",
        ),
    ] {
        let name = format!("weft.local/{what}:1.0.0");
        let tarball = weft_cli::image::pack(
            &weft_cli::image::Contents {
                id: "org.weft.test.refused",
                version: "1.0.0",
                entrypoint: "app.wasm",
                wasm,
                manifest,
            },
            &name,
        )
        .unwrap();
        let tar = containerd.dir().join(format!("{what}.tar"));
        std::fs::write(&tar, tarball).unwrap();
        let import = containerd.ctr(&["image", "import", "--all-platforms", tar.to_str().unwrap()]);
        assert_eq!(import.code, Some(0), "{what}: {import:?}");
        let run = containerd.run(&[], &name, what, &[]);
        assert_eq!(
            run.code,
            Some(code),
            "{what}: {run:?}\n{}",
            containerd.log()
        );
        assert_one_error(&run, says);
        assert!(run.stdout.is_empty(), "{what}: {run:?}");
    }

    // A service over the host's network, with its metrics, then SIGTERM.
    let port = xtask::testing::free_port().unwrap();
    let metrics_port = xtask::testing::free_port().unwrap();
    let metrics_env = format!("WEFT_METRICS=127.0.0.1:{metrics_port}");
    let serving = containerd
        .0
        .serve(&names["http-hello"], "web-1", port, &[&metrics_env])
        .unwrap_or_else(|err| panic!("{err:#}"));
    let response = xtask::http_client::request(&format!("127.0.0.1:{port}"), "GET", "/", b"");
    let metrics =
        xtask::http_client::request(&format!("127.0.0.1:{metrics_port}"), "GET", "/metrics", b"");
    let (status, stderr) = serving
        .stop(&containerd.0)
        .unwrap_or_else(|err| panic!("{err:#}\n{}", containerd.log()));
    let response = response.unwrap_or_else(|err| panic!("GET / failed: {err}; stderr:\n{stderr}"));
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, b"Hello from weft serve!\n", "{response:?}");
    assert!(
        stderr.contains("SIGTERM: no longer accepting connections"),
        "{stderr}"
    );
    assert_eq!(status.code(), Some(0), "{stderr}");
    let metrics =
        metrics.unwrap_or_else(|err| panic!("GET /metrics failed: {err}; stderr:\n{stderr}"));
    let metrics = String::from_utf8_lossy(&metrics.body);
    assert!(
        metrics
            .lines()
            .any(|l| l == "weft_http_requests_total{method=\"GET\",status=\"200\"} 1"),
        "{metrics}"
    );
}
