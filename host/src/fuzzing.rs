//! What the fuzz targets in `fuzz/` run, and the regression tests replay:
//! each function takes arbitrary bytes and must return, whatever they are.
//! A panic is a bug (the fuzzer reports it as a crash); so is an error with
//! no message. Not part of weft's API.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::ErrorKind;
use crate::app::{App, LoadOptions};
use crate::digest::hash_of;
use crate::invoke::{exported_functions, parse_value, to_wave};
use crate::manifest::Manifest;
use crate::package::Package;

/// The manifest parser and validator: bytes as a `wapp.toml`.
pub fn manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(err) = Manifest::parse(text, Path::new("fuzz/wapp.toml")) {
        assert!(!err.to_string().trim().is_empty(), "an empty error message");
    }
}

/// Package loading: bytes as the app's wasm, in a package whose manifest
/// pins their own hash (so they go on to core-module detection, adaptation,
/// the import check and compilation) and, when the first byte is odd, a
/// wrong hash (which must refuse them before anything parses them).
pub fn package(data: &[u8]) {
    let dir = scratch_dir();
    let pinned = hash_of(data);
    let wrong_hash = data.first().is_some_and(|b| b % 2 == 1);
    let hash = if wrong_hash {
        hash_of(b"something else")
    } else {
        pinned
    };
    std::fs::write(dir.join("wapp.toml"), manifest_for(&hash)).expect("writing the manifest");
    std::fs::write(dir.join("app.wasm"), data).expect("writing the wasm");
    let package = match Package::load(&dir) {
        Ok(package) => package,
        Err(err) => {
            assert!(
                wrong_hash,
                "a package with the right hash was refused: {err}"
            );
            assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
            return;
        }
    };
    assert!(!wrong_hash, "a wrong hash was accepted");
    let options = LoadOptions {
        one_process: true,
        ..LoadOptions::default()
    };
    if let Err(err) = App::load(package, &options) {
        assert!(!err.to_string().trim().is_empty(), "an empty error message");
    }
}

/// Argument parsing for method calls: the first byte picks one of the
/// `types` guest's exported functions (in the order of their names), the
/// rest are its arguments separated by NUL bytes. What parses must print as WAVE and parse back the same.
pub fn method_args(data: &[u8]) {
    method_args_of(guest("types", "WEFT_FUZZ_TYPES"), data);
}

/// The same for a WASI 0.3 guest's `async func` exports (the `p3-methods`
/// guest: world-level records, lists, a plain export beside them).
pub fn method_args_p3(data: &[u8]) {
    method_args_of(guest("p3methods", "WEFT_FUZZ_P3_METHODS"), data);
}

/// A loaded guest and its exported functions' names, sorted.
type Guest = (App, Vec<String>);

fn method_args_of(guest: &Guest, data: &[u8]) {
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let (app, names) = guest;
    let name = &names[*selector as usize % names.len()];
    let method = app.method(name).expect("an exported function");
    let text = String::from_utf8_lossy(rest);
    let args: Vec<String> = text.split('\0').map(str::to_string).collect();
    match method.parse_args(&args) {
        Ok(values) => {
            for ((param, ty), value) in method.params.iter().zip(&values) {
                let wave = to_wave(value).expect("a parsed value prints as WAVE");
                let again = parse_value(param, ty, &wave)
                    .unwrap_or_else(|err| panic!("{wave} does not parse back: {err}"));
                let wave_again = to_wave(&again).expect("prints again");
                assert_eq!(wave, wave_again, "WAVE text does not round-trip");
            }
        }
        Err(err) => assert!(!err.to_string().trim().is_empty(), "an empty error message"),
    }
}

/// A manifest for `app.wasm` pinned to `hash` that grants every group.
fn manifest_for(hash: &str) -> String {
    format!(
        r#"[package]
id = "org.weft.fuzz"
name = "fuzz"
version = "0.1.0"

[runtime]
module = "app.wasm"
hash = "{hash}"
imports = ["wasi:io", "wasi:cli", "wasi:clocks", "wasi:filesystem", "wasi:random", "wasi:sockets", "wasi:http"]
"#
    )
}

/// A directory of this process's own for the package under test.
fn scratch_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("weft-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the scratch directory");
        dir
    })
    .clone()
}

/// A guest from `target/weft-guests/store` (`cargo xtask guests NAME`
/// builds it; `org.weft.guests.<id>`), loaded once, and its exported
/// functions' names. The environment variable `var` names another package
/// directory.
fn guest(id: &'static str, var: &str) -> &'static Guest {
    static GUESTS: std::sync::Mutex<Vec<(&'static str, &'static Guest)>> =
        std::sync::Mutex::new(Vec::new());
    let mut guests = GUESTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, loaded)) = guests.iter().find(|(name, _)| *name == id) {
        return loaded;
    }
    let dir = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../target/weft-guests/store/org.weft.guests.{id}"))
    });
    let package = Package::load(&dir)
        .unwrap_or_else(|err| panic!("{err} (build the guest first: cargo xtask guests)"));
    let options = LoadOptions {
        one_process: true,
        ..LoadOptions::default()
    };
    let app = App::load(package, &options).expect("loading the guest");
    let mut names = exported_functions(&app.inner.component, &app.inner.engine);
    assert!(!names.is_empty(), "the guest exports no functions");
    // By name, so that a seed's first byte always picks the same function.
    names.sort();
    let loaded: &'static Guest = Box::leak(Box::new((app, names)));
    guests.push((id, loaded));
    loaded
}

/// `weft serve`'s request path, driven in process: the first byte picks the
/// app (even: the WASI 0.2 `http-hello`, odd: the WASI 0.3 `p3-http`), the
/// rest is sent as it is to a server serving it, on a connection whose
/// sending side is then closed. Whatever the bytes, the server must answer
/// with a well-formed status line or close the connection, within its
/// limits (never hang), and must answer a normal request afterwards.
pub fn serve_request(data: &[u8]) {
    use std::io::{Read, Write};
    let Some((selector, raw)) = data.split_first() else {
        return;
    };
    let address = server(if selector % 2 == 0 {
        "httphello"
    } else {
        "p3http"
    });
    let exchange = |raw: &[u8]| -> Vec<u8> {
        let mut stream = std::net::TcpStream::connect(address).expect("connecting to the server");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .expect("a read timeout");
        // The server may close before it has read everything.
        let _ = stream.write_all(raw);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut answer = Vec::new();
        match stream.read_to_end(&mut answer) {
            Ok(_) => {}
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the server neither answered nor closed the connection in 20 s")
            }
            // A reset: the server gave up on the client.
            Err(_) => {}
        }
        answer
    };
    let answer = exchange(raw);
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 ") || answer.starts_with(b"HTTP/1.0 "),
        "not an HTTP response: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    );
    let normal = exchange(b"GET / HTTP/1.1\r\nhost: fuzz\r\nconnection: close\r\n\r\n");
    assert!(
        normal.starts_with(b"HTTP/1.1 200 "),
        "the server does not answer a normal request after that one: {:?}",
        String::from_utf8_lossy(&normal[..normal.len().min(200)])
    );
}

/// A server for the guest `org.weft.guests.<id>` in this process, started
/// once, with short client limits (so that a slow input is shed quickly);
/// its address.
fn server(id: &'static str) -> std::net::SocketAddr {
    static SERVERS: std::sync::Mutex<Vec<(&'static str, std::net::SocketAddr)>> =
        std::sync::Mutex::new(Vec::new());
    let mut servers = SERVERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, address)) = servers.iter().find(|(name, _)| *name == id) {
        return *address;
    }
    let dir = std::env::var_os("WEFT_FUZZ_STORE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/weft-guests/store")
        })
        .join(format!("org.weft.guests.{id}"));
    let package = Package::load(&dir)
        .unwrap_or_else(|err| panic!("{err} (build the guest first: cargo xtask guests)"));
    let limits = crate::limits::Limits {
        timeout: Some(std::time::Duration::from_secs(5)),
        ..Default::default()
    };
    let options = LoadOptions {
        limits,
        serve: Some(16),
        ..LoadOptions::default()
    };
    let app = App::load(package, &options).expect("loading the guest");
    let serve_options = crate::serve::ServeOptions {
        listen: crate::serve::Listen::Address("127.0.0.1:0".parse().expect("an address")),
        max_concurrent: 16,
        max_instances: 16,
        reuse: crate::serve::Reuse::default(),
        shutdown_grace: std::time::Duration::from_secs(1),
        threads: 1,
        client: crate::serve::ClientLimits {
            max_request_body: Some(1 << 20),
            timeouts: crate::serve::ClientTimeouts {
                header: std::time::Duration::from_secs(2),
                idle: std::time::Duration::from_secs(2),
                body: std::time::Duration::from_secs(2),
                send: std::time::Duration::from_secs(2),
            },
            ..Default::default()
        },
        env: None,
        // Counted, so that hostile requests go through the counting too.
        metrics: Some("127.0.0.1:0".parse().expect("an address")),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let served = crate::serve::serve(app, serve_options, move |address| {
            let _ = tx.send(address);
            Ok(())
        });
        panic!("the fuzzed server stopped: {served:?}");
    });
    let address = rx.recv().expect("the server's address");
    servers.push((id, address));
    address
}
