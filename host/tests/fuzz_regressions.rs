//! Replays the fuzz targets' seeds (`fuzz/seeds/<target>/`) and every input
//! that once crashed one (`fuzz/regressions/<target>/`) through the same
//! functions the targets call, on stable Rust, in every test run.

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files = Vec::new();
    for kind in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(kind).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() && path.file_name().is_some_and(|n| n != "README") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Builds the guests the targets call into, once for all the tests here
/// (into target/weft-guests/store, where `weft::fuzzing` looks).
fn build_guests() {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        xtask::build_guests(
            &xtask::workspace_root(),
            &xtask::fuzz::GUESTS.map(String::from),
        )
        .expect("building the guests the targets call into");
    });
}

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let files = inputs(target);
    for file in &files {
        let data = std::fs::read(file).unwrap();
        eprintln!("{target}: {}", file.display());
        run(&data);
    }
    files.len()
}

#[test]
fn manifest_inputs() {
    assert!(
        replay("manifest", weft::fuzzing::manifest) >= 10,
        "seeds are missing"
    );
}

#[test]
fn package_inputs() {
    assert!(
        replay("package", weft::fuzzing::package) >= 5,
        "seeds are missing"
    );
}

#[test]
fn method_args_inputs() {
    build_guests();
    assert!(
        replay("method_args", weft::fuzzing::method_args) >= 10,
        "seeds are missing"
    );
}

#[test]
fn method_args_p3_inputs() {
    build_guests();
    assert!(
        replay("method_args_p3", weft::fuzzing::method_args_p3) >= 5,
        "seeds are missing"
    );
}

#[test]
fn serve_request_inputs() {
    build_guests();
    assert!(
        replay("serve_request", weft::fuzzing::serve_request) >= 20,
        "seeds are missing"
    );
}

/// Every fuzz target is one of those replayed above, calls the function of
/// `weft::fuzzing` of its name, and is declared in the fuzz crate.
#[test]
fn every_fuzz_target_is_replayed_here() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut found: Vec<String> = std::fs::read_dir(fuzz.join("fuzz_targets"))
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            path.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    found.sort();
    let mut replayed = xtask::fuzz::TARGETS.map(String::from).to_vec();
    replayed.sort();
    assert_eq!(
        found, replayed,
        "fuzz/fuzz_targets/ and xtask::fuzz::TARGETS differ"
    );
    let crate_manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
    let this_file = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions.rs"),
    )
    .unwrap();
    for target in xtask::fuzz::TARGETS {
        let source =
            std::fs::read_to_string(fuzz.join(format!("fuzz_targets/{target}.rs"))).unwrap();
        let call = format!("weft::fuzzing::{target}(data)");
        assert!(
            source.contains(&call),
            "fuzz target {target} does not call {call}"
        );
        assert!(
            crate_manifest.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml declares no target {target}"
        );
        assert!(
            this_file.contains(&format!("replay(\"{target}\", weft::fuzzing::{target})")),
            "no test here replays {target}"
        );
    }
}
