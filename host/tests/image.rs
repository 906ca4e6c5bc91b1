//! `weft image` through the real binary: a package becomes an OCI image
//! tarball, the same bytes each time; bad names, bad packages and
//! unwritable outputs are refused with one line and exit 64 or 65/66; a
//! relative mount gets a note. (The image's content is checked in
//! `cli/src/image.rs`; running it, in `shim/tests/containerd.rs`.)

use xtask::testing::Weft;

const GUESTS: &[&str] = &["hello", "files"];

fn package(name: &str) -> std::path::PathBuf {
    xtask::test_package(GUESTS, name)
}

fn image(args: &[&std::ffi::OsStr]) -> xtask::testing::RunOutput {
    Weft::new("weft").arg("image").args(args).output()
}

#[test]
fn a_package_becomes_the_same_tarball_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let hello = package("hello");
    let first = dir.path().join("first.tar");
    let out = image(&[hello.as_os_str(), "-o".as_ref(), first.as_os_str()]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout.starts_with(&format!(
            "{}: weft.local/org.weft.guests.hello:0.1.0 (",
            first.display()
        )),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("ctr image import --all-platforms"),
        "{out:?}"
    );
    assert_eq!(out.stderr, "", "{out:?}");
    let second = dir.path().join("second.tar");
    let out = image(&[hello.as_os_str(), "-o".as_ref(), second.as_os_str()]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap()
    );
    // No temporary file is left beside it.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");

    let named = dir.path().join("named.tar");
    let out = image(&[
        hello.as_os_str(),
        "-o".as_ref(),
        named.as_os_str(),
        "--name".as_ref(),
        "hello".as_ref(),
    ]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stdout.contains(": docker.io/library/hello:latest ("),
        "{out:?}"
    );
}

#[test]
fn a_relative_mount_gets_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("files.tar");
    let out = image(&[package("files").as_os_str(), "-o".as_ref(), tar.as_os_str()]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains("weft: note: the image does not carry mount /input's host directory input; in a container it names /input in the container's filesystem"),
        "{out:?}"
    );
}

#[test]
fn bad_names_packages_and_outputs_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let hello = package("hello");
    let tar = dir.path().join("x.tar");
    let one_line = |out: &xtask::testing::RunOutput, code: i32, text: &str| {
        assert_eq!(out.code, Some(code), "{out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
        assert!(out.stderr.starts_with("weft: error: "), "{out:?}");
        assert!(out.stderr.contains(text), "{out:?}");
        assert!(!tar.exists(), "no image is written");
    };
    let out = image(&[
        hello.as_os_str(),
        "-o".as_ref(),
        tar.as_os_str(),
        "--name".as_ref(),
        "Not/A:Name!".as_ref(),
    ]);
    one_line(&out, 64, "--name \"Not/A:Name!\" is not an image reference");

    let missing = dir.path().join("no-such-dir/x.tar");
    let out = image(&[hello.as_os_str(), "-o".as_ref(), missing.as_os_str()]);
    one_line(&out, 64, "cannot write the image to");

    let out = image(&[
        dir.path().join("nothing").as_os_str(),
        "-o".as_ref(),
        tar.as_os_str(),
    ]);
    assert_ne!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");

    // A package whose wasm is not the one its manifest pins.
    let copy = dir.path().join("hello");
    xtask::copy_tree(&hello, &copy).unwrap();
    let wasm = copy.join("app.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes.push(0);
    std::fs::write(&wasm, bytes).unwrap();
    let out = image(&[copy.as_os_str(), "-o".as_ref(), tar.as_os_str()]);
    one_line(&out, 66, "integrity check failed");
}
