//! The Kubernetes manifests in `deploy/kubernetes/` are valid against the
//! Kubernetes schemas (strictly: no unknown fields), checked offline by
//! `kubernetes-validate`; and the validator does refuse a broken one.

use std::process::Command;
use std::time::Duration;

use xtask::testing::run_bounded;

fn validate(files: &[std::path::PathBuf]) -> xtask::testing::RunOutput {
    let root = xtask::workspace_root();
    let program = xtask::deploy::kubernetes_validate(&root)
        .unwrap_or_else(|err| panic!("cannot install kubernetes-validate: {err:#}"));
    let mut command = Command::new(program);
    command
        .args(["--strict", "-k", xtask::deploy::KUBERNETES_VERSION])
        .args(files);
    run_bounded(command, Duration::from_secs(120)).unwrap()
}

#[test]
fn the_kubernetes_manifests_are_valid_and_a_broken_one_is_not() {
    let root = xtask::workspace_root();
    let files = xtask::deploy::kubernetes_manifests(&root).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in ["runtimeclass.yaml", "hello-http.yaml"] {
        assert!(
            names.iter().any(|n| n == expected),
            "no {expected} in {names:?}"
        );
    }
    let out = validate(&files);
    assert_eq!(out.code, Some(0), "{out:?}");
    let passed = format!("{}{}", out.stdout, out.stderr);
    for resource in [
        "runtimeclass/weft",
        "deployment/hello-http",
        "service/hello-http",
    ] {
        assert!(
            passed.contains(&format!("passed for resource {resource}")),
            "{out:?}"
        );
    }

    // The same Deployment with a field misspelt and a count as text.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root.join("deploy/kubernetes/hello-http.yaml")).unwrap();
    let broken = text
        .replace("replicas: 3", "replicas: three")
        .replace("containerPort: 80", "containerPortt: 80");
    assert_ne!(broken, text);
    let file = dir.path().join("broken.yaml");
    std::fs::write(&file, broken).unwrap();
    let out = validate(&[file]);
    assert_ne!(out.code, Some(0), "{out:?}");
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("did not validate"),
        "{out:?}"
    );
}
