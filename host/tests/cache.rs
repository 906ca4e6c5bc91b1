//! The compiled-artifact cache: entries are stored and then loaded, a stale
//! key is never used, corrupt entries are discarded and rebuilt, and writers
//! racing on one key (threads and processes) all end up with a good entry.

use std::path::{Path, PathBuf};

use wasmtime::component::Val;
use weft::app::{App, LoadOptions};
use weft::cache::{Cache, Outcome, Source};
use weft::package::Package;
use weft::process::{Call, ExitEvent, Spawn};
use xtask::testing::Weft;

/// The package of one of the guests these tests use (built once).
fn package(name: &str) -> PathBuf {
    xtask::test_package(&["compute", "p1-hello"], name)
}

fn load(name: &str, cache: &Path) -> App {
    let options = LoadOptions {
        cache: Some(Cache::new(cache)),
        ..LoadOptions::default()
    };
    App::load(Package::load(&package(name)).unwrap(), &options).unwrap()
}

/// The compute guest still computes: the loaded code is the right code.
fn assert_computes(app: &App) {
    let config = app.wasi_config(&[], |_| None).unwrap().quiet();
    let method = app.method("compute").unwrap();
    let args = method.parse_args(&["6".into(), "7".into()]).unwrap();
    let event = tokio::runtime::Runtime::new().unwrap().block_on(async {
        app.spawn(Spawn::new(config, Call::Method { method, args }))
            .wait()
            .await
    });
    match event {
        ExitEvent::Returned(values) => assert_eq!(values, [Val::U32(42)]),
        other => panic!("compute ended with {other:?}"),
    }
}

/// The cache's files: entries and leftover temporary files.
fn files(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut entries = Vec::new();
    let mut temps = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "cwasm") {
            entries.push(path);
        } else {
            temps.push(path);
        }
    }
    (entries, temps)
}

fn only_entry(dir: &Path) -> PathBuf {
    let (entries, temps) = files(dir);
    assert_eq!(entries.len(), 1, "one entry in {entries:?}");
    assert!(temps.is_empty(), "no leftovers, found {temps:?}");
    entries.into_iter().next().unwrap()
}

#[test]
fn first_load_stores_and_second_load_hits() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("weft");
    let first = load("compute", &cache);
    assert_eq!(first.compiled(), Outcome::Stored);
    let second = load("compute", &cache);
    assert_eq!(second.compiled(), Outcome::Hit);
    assert_computes(&second);
    only_entry(&cache);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "the cache directory is private");
    }
}

#[test]
fn core_modules_cache_the_adapted_component() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(load("p1-hello", dir.path()).compiled(), Outcome::Stored);
    let app = load("p1-hello", dir.path());
    assert_eq!(app.compiled(), Outcome::Hit);
    assert_eq!(app.kind(), weft::wasm::WasmKind::CoreModule);
}

#[test]
fn another_engine_configuration_uses_another_entry() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(load("compute", dir.path()).compiled(), Outcome::Stored);
    // Fuel metering changes the compiled code: the entry without it must
    // not be loaded for an engine with it.
    let options = LoadOptions {
        cache: Some(Cache::new(dir.path())),
        limits: weft::limits::Limits {
            fuel: Some(1_000_000),
            ..Default::default()
        },
        ..LoadOptions::default()
    };
    let fueled = App::load(Package::load(&package("compute")).unwrap(), &options).unwrap();
    assert_eq!(fueled.compiled(), Outcome::Stored);
    assert_computes(&fueled);
    assert_eq!(files(dir.path()).0.len(), 2);
}

#[test]
fn a_new_wasm_hash_is_a_new_key() {
    let cache = Cache::new("/unused");
    let engine = weft::engine::EngineSettings::new(&Default::default(), None, false).code_key();
    let a = cache.entry_path(&engine, &[1; 32], Source::Component);
    let b = cache.entry_path(&engine, &[2; 32], Source::Component);
    assert_ne!(a, b);
}

#[test]
fn corrupt_entries_are_discarded_and_rebuilt() {
    type Damage = fn(&mut Vec<u8>);
    // An entry is the artifact, its CRC-32 (4 bytes), then an 8-byte magic.
    let damages: [(&str, Damage); 8] = [
        ("truncated to half", |b| b.truncate(b.len() / 2)),
        ("shorter than the checksum and magic", |b| b.truncate(10)),
        ("emptied", |b| b.clear()),
        ("a flipped byte in the artifact", |b| {
            let middle = b.len() / 2;
            b[middle] ^= 0x40;
        }),
        ("a flipped byte in the recorded checksum", |b| {
            let at = b.len() - 8 - 2;
            b[at] ^= 0x01;
        }),
        ("another file format", |b| {
            b[..8].copy_from_slice(b"\0asm\x01\0\0\0")
        }),
        ("another layout version in the magic", |b| {
            let at = b.len() - 2;
            b[at] = b'1';
        }),
        ("bytes appended", |b| b.extend_from_slice(b"tail")),
    ];
    for (what, damage) in damages {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load("compute", dir.path()).compiled(), Outcome::Stored);
        let entry = only_entry(dir.path());
        let mut bytes = std::fs::read(&entry).unwrap();
        damage(&mut bytes);
        std::fs::write(&entry, &bytes).unwrap();

        let app = load("compute", dir.path());
        assert_eq!(app.compiled(), Outcome::Replaced, "entry {what}");
        assert_computes(&app);
        let again = load("compute", dir.path());
        assert_eq!(again.compiled(), Outcome::Hit, "rebuilt after {what}");
        only_entry(dir.path());
    }
}

#[test]
fn an_unwritable_cache_does_not_stop_the_app() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the directory should be: nothing can be written there.
    let blocked = dir.path().join("not-a-dir");
    std::fs::write(&blocked, b"").unwrap();
    let app = load("compute", &blocked);
    assert_eq!(app.compiled(), Outcome::Compiled);
    assert_computes(&app);
}

#[test]
fn threads_racing_on_one_key_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let package = Package::load(&package("compute")).unwrap();
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let package = package.clone();
                let dir = dir.path();
                scope.spawn(move || {
                    let options = LoadOptions {
                        cache: Some(Cache::new(dir)),
                        ..LoadOptions::default()
                    };
                    App::load(package, &options).unwrap().compiled()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Stored | Outcome::Hit)),
        "{outcomes:?}"
    );
    only_entry(dir.path());
    let app = load("compute", dir.path());
    assert_eq!(app.compiled(), Outcome::Hit);
    assert_computes(&app);
}

#[test]
fn processes_racing_on_one_key_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let children: Vec<_> = (0..4)
        .map(|_| {
            let weft = Weft::new("weft")
                .arg("compile")
                .arg("--cache-dir")
                .arg(&cache)
                .arg(package("compute"));
            std::thread::spawn(move || weft.output())
        })
        .collect();
    for child in children {
        let output = child.join().unwrap();
        assert!(output.code == Some(0), "{output:?}");
        assert!(
            output.stdout.contains("compiled and cached")
                || output.stdout.contains("already cached"),
            "{output:?}"
        );
    }
    only_entry(&cache);
    // `weft compile` compiles as `weft run` loads (one process, no epochs).
    let options = LoadOptions {
        cache: Some(Cache::new(&cache)),
        one_process: true,
        ..LoadOptions::default()
    };
    let app = App::load(Package::load(&package("compute")).unwrap(), &options).unwrap();
    assert_eq!(app.compiled(), Outcome::Hit);
}

#[test]
fn clean_removes_entries_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    load("compute", dir.path());
    load("p1-hello", dir.path());
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let (files_removed, bytes) = Cache::new(dir.path()).clean().unwrap();
    assert_eq!(files_removed, 2);
    assert!(bytes > 0);
    assert!(dir.path().join("notes.txt").exists());
    assert_eq!(load("compute", dir.path()).compiled(), Outcome::Stored);
    assert_eq!(
        Cache::new(dir.path().join("missing")).clean().unwrap(),
        (0, 0)
    );
}

#[test]
fn the_cache_commands() {
    let dir = tempfile::tempdir().unwrap();
    let weft = |args: &[&std::ffi::OsStr]| {
        let output = Weft::new("weft")
            .args(args)
            .env("WEFT_CACHE_DIR", dir.path())
            .output();
        assert!(output.code == Some(0), "{output:?}");
        output.stdout
    };
    let compute = package("compute");
    assert!(weft(&["compile".as_ref(), compute.as_os_str()]).contains("compiled and cached"));
    assert!(weft(&["compile".as_ref(), compute.as_os_str()]).contains("already cached"));
    assert_eq!(
        weft(&["cache".as_ref(), "dir".as_ref()]).trim(),
        dir.path().to_str().unwrap()
    );
    assert!(weft(&["cache".as_ref(), "clean".as_ref()]).starts_with("removed 1 cached artifact "));
    assert!(weft(&["cache".as_ref(), "clean".as_ref()]).starts_with("removed 0 cached artifacts "));
}

/// `weft compile` fills the entry `weft run` uses: a run after it compiles
/// nothing. A run with a timeout needs code with epoch checks, which is
/// another entry.
#[test]
fn compile_fills_the_entry_run_uses() {
    let dir = tempfile::tempdir().unwrap();
    let weft = |args: &[&str]| {
        let output = Weft::new("weft")
            .args(args)
            .arg(package("p1-hello"))
            .env("WEFT_CACHE_DIR", dir.path())
            .output();
        assert!(output.code == Some(0), "{output:?}");
        output.stdout
    };
    assert!(weft(&["compile"]).contains("compiled and cached"));
    let entry = only_entry(dir.path());
    let modified = std::fs::metadata(&entry).unwrap().modified().unwrap();
    assert!(weft(&["run"]).contains("Hello from a preview1 module!"));
    assert_eq!(
        only_entry(dir.path()),
        entry,
        "the run used the compiled entry"
    );
    let unchanged = std::fs::metadata(&entry).unwrap().modified().unwrap();
    assert_eq!(modified, unchanged, "the run did not rewrite the entry");

    assert!(weft(&["run", "--timeout", "1m"]).contains("Hello from a preview1 module!"));
    assert_eq!(
        files(dir.path()).0.len(),
        2,
        "a timeout compiles with epoch checks"
    );
    assert!(weft(&["check"]).contains("org.weft.guests.p1hello"));
    assert_eq!(files(dir.path()).0.len(), 2, "check loads as run does");
}

/// A cache directory that other users can write (world- or
/// group-writable) is neither read nor written: weft says so in one
/// warning line, compiles, and runs the app. A private one is used again.
#[cfg(unix)]
#[test]
fn a_cache_others_can_write_is_neither_read_nor_written() {
    use std::os::unix::fs::PermissionsExt;
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("cache");
    let weft = |command: &str| {
        let output = Weft::new("weft")
            .arg(command)
            .arg(package("p1-hello"))
            .env("WEFT_CACHE_DIR", &dir)
            .output();
        assert!(output.code == Some(0), "{output:?}");
        output
    };
    let chmod = |mode: u32| {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    assert!(weft("compile").stdout.contains("compiled and cached"));
    let entry = only_entry(&dir);
    let written = std::fs::metadata(&entry).unwrap().modified().unwrap();
    for (mode, who) in [
        (0o777, "every user (mode 0777)"),
        (0o770, "its group (mode 0770)"),
    ] {
        chmod(mode);
        let compiled = weft("compile");
        assert!(
            compiled.stdout.contains("compiled, but not cached"),
            "{compiled:?}"
        );
        let warning = format!(
            "not using the cache in {}: the cache directory {} is writable by {who}",
            dir.display(),
            dir.display()
        );
        let run = weft("run");
        assert!(
            run.stdout.contains("Hello from a preview1 module!"),
            "{run:?}"
        );
        for output in [&compiled, &run] {
            let lines: Vec<&str> = output
                .stderr
                .lines()
                .filter(|l| l.contains("cache"))
                .collect();
            assert_eq!(lines.len(), 1, "one line about the cache: {output:?}");
            assert!(lines[0].contains(&warning), "{output:?}");
            assert!(
                lines[0].contains(&format!("chmod go-w {}", dir.display())),
                "{output:?}"
            );
        }
        assert_eq!(only_entry(&dir), entry, "nothing was written");
        let unchanged = std::fs::metadata(&entry).unwrap().modified().unwrap();
        assert_eq!(written, unchanged, "the entry was not rewritten");
    }
    chmod(0o700);
    let trusted = weft("compile");
    assert!(trusted.stdout.contains("already cached"), "{trusted:?}");
    assert!(
        !trusted.stderr.contains("not using the cache"),
        "{trusted:?}"
    );
}

/// An entry that others can write is discarded and rebuilt, and the new
/// one is private.
#[cfg(unix)]
#[test]
fn an_entry_others_can_write_is_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(load("compute", dir.path()).compiled(), Outcome::Stored);
    let entry = only_entry(dir.path());
    assert_eq!(
        std::fs::metadata(&entry).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
    let app = load("compute", dir.path());
    assert_eq!(app.compiled(), Outcome::Replaced);
    assert_computes(&app);
    assert_eq!(
        std::fs::metadata(&entry).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(load("compute", dir.path()).compiled(), Outcome::Hit);
}
