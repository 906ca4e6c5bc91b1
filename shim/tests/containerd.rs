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
//! - a `wasi:http` app answering over `--net-host` on `WEFT_LISTEN`, then
//!   ended gracefully by `ctr task kill` (SIGTERM);
//! - after the first run, the compiled app in containerd's content store,
//!   by its `runwasi.io/precompiled/weft/…` label, and a second run from it.
//!
//! containerd needs root, and a containerd of 1.7.7 or newer (Debian 12's
//! 1.6.20 refuses wasm layers): `cargo xtask test` fetches Debian 13's
//! (see `xtask::containerd`). Without either, the test fails and says why.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use xtask::testing::{RunOutput, run_bounded};

const NAMESPACE: &str = "weft-test";
const RUNTIME: &str = "io.containerd.weft.v1";
const GUESTS: &[&str] = &[
    "hello",
    "exit-code",
    "args-env",
    "fs-ungranted",
    "http-hello",
];

struct Containerd {
    child: Child,
    dir: PathBuf,
    address: PathBuf,
    bin: PathBuf,
}

impl Containerd {
    fn start() -> Containerd {
        // SAFETY: a plain libc call.
        if unsafe { libc::geteuid() } != 0 {
            panic!(
                "the containerd tests start containerd, which needs root; run them as root (CI does)"
            );
        }
        let root = xtask::workspace_root();
        let bin = xtask::containerd::bin_dir(&root);
        if !bin.join("containerd").is_file() {
            panic!(
                "no containerd in {}: run the tests with `cargo xtask test`, which fetches containerd 1.7 (Debian 12's 1.6.20 cannot run wasm layers), or set WEFT_CONTAINERD_DIR",
                bin.display()
            );
        }
        let dir = root.join("target/containerd-test");
        cleanup(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let address = dir.join("containerd.sock");
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "version = 2\nroot = {:?}\nstate = {:?}\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = {:?}\n",
                dir.join("root"),
                dir.join("state"),
                address
            ),
        )
        .unwrap();
        // containerd finds the shim on its PATH, by the runtime's name.
        let shim = Path::new(env!("CARGO_BIN_EXE_containerd-shim-weft-v1"));
        let path = format!(
            "{}:{}:{}",
            shim.parent().unwrap().display(),
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let log = std::fs::File::create(dir.join("containerd.log")).unwrap();
        let child = Command::new(bin.join("containerd"))
            .arg("--config")
            .arg(&config)
            .env("PATH", path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot start {}: {err}", bin.join("containerd").display())
            });
        let containerd = Containerd {
            child,
            dir,
            address,
            bin,
        };
        let started = Instant::now();
        loop {
            let version = containerd.ctr(&["version"]);
            if version.code == Some(0) {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                panic!(
                    "containerd did not answer within 30 s: {version:?}\n--- containerd.log ---\n{}",
                    containerd.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        containerd
    }

    fn ctr_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(self.bin.join("ctr"));
        command
            .arg("--address")
            .arg(&self.address)
            .args(["--namespace", NAMESPACE])
            .args(args)
            .stdin(Stdio::null());
        command
    }

    fn ctr(&self, args: &[&str]) -> RunOutput {
        run_bounded(self.ctr_command(args), Duration::from_secs(180))
            .unwrap_or_else(|err| panic!("ctr {}: {err}\n{}", args.join(" "), self.log()))
    }

    /// `ctr run --rm --runtime io.containerd.weft.v1 [flags] IMAGE ID [ARGS]`.
    fn run(&self, flags: &[&str], image: &str, id: &str, args: &[&str]) -> RunOutput {
        let mut all = vec!["run", "--rm", "--runtime", RUNTIME];
        all.extend_from_slice(flags);
        all.push(image);
        all.push(id);
        all.extend_from_slice(args);
        self.ctr(&all)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("containerd.log")).unwrap_or_default()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        cleanup(&self.dir);
    }
}

/// Unmounts what a past containerd left mounted under `dir`, and removes it.
fn cleanup(dir: &Path) {
    if let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") {
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|line| line.split(' ').nth(1))
            .filter(|point| Path::new(point).starts_with(dir))
            .collect();
        points.sort_by_key(|point| std::cmp::Reverse(point.len()));
        for point in points {
            let _ = Command::new("umount").arg("-l").arg(point).status();
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Packs a test guest with `weft image`; returns the tarball and the name.
fn image(dir: &Path, guest: &str) -> (PathBuf, String) {
    let package = xtask::test_package(GUESTS, guest);
    let tar = dir.join(format!("{guest}.tar"));
    let out = xtask::testing::Weft::new("weft")
        .arg("image")
        .arg(&package)
        .arg("-o")
        .arg(&tar)
        .output();
    assert_eq!(out.code, Some(0), "{out:?}");
    let name = out
        .stdout
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no image name in {out:?}"))
        .to_string();
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
        let (tar, name) = image(&containerd.dir, guest);
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
        let tar = containerd.dir.join(format!("{what}.tar"));
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

    // A service over the host's network, then SIGTERM.
    let port = xtask::testing::free_port().unwrap();
    let listen = format!("WEFT_LISTEN=127.0.0.1:{port}");
    let mut serving = containerd
        .ctr_command(&[
            "run",
            "--rm",
            "--runtime",
            RUNTIME,
            "--net-host",
            "--env",
            &listen,
            &names["http-hello"],
            "web-1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = serving.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("listening on http://") {
                let _ = tx.send(());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    if rx.recv_timeout(Duration::from_secs(120)).is_err() {
        let _ = serving.kill();
        panic!(
            "the service never listened; stderr:\n{}\n{}",
            reader.join().unwrap_or_default(),
            containerd.log()
        );
    }
    let response = xtask::http_client::request(&format!("127.0.0.1:{port}"), "GET", "/", b"");
    let kill = containerd.ctr(&["task", "kill", "web-1"]);
    assert_eq!(kill.code, Some(0), "{kill:?}");
    let status = xtask::testing::wait_bounded(&mut serving, Duration::from_secs(60)).unwrap();
    let stderr = reader.join().unwrap();
    let response = response.unwrap_or_else(|err| panic!("GET / failed: {err}; stderr:\n{stderr}"));
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, b"Hello from weft serve!\n", "{response:?}");
    assert!(
        stderr.contains("SIGTERM: no longer accepting connections"),
        "{stderr}"
    );
    assert_eq!(status.code(), Some(0), "{stderr}");
}
