//! GitOps: `diff` against committed snapshots, shell completions and the man page, and output
//! that Flux's `${var}` substitution cannot eat.

use std::path::Path;

use predicates::prelude::*;

mod common;

use common::gloo_istio as cmd;

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// `gloo-istio diff -q --snapshots SNAPS -f VALUES EXTRA...`.
fn diff(snaps: &Path, values: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    cmd()
        .args(["diff", "-q", "--snapshots", snaps.to_str().unwrap(), "-f", values])
        .args(extra)
        .assert()
}

#[test]
fn diff_reports_drift_and_update_rewrites_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = dir.path().join("snapshots");
    std::fs::create_dir(&snaps).unwrap();
    // Nothing committed yet: everything is drift.
    diff(&snaps, "values/upstreams.yaml", &[])
        .code(3)
        .stdout(predicate::str::contains("+kind: Deployment"));
    diff(&snaps, "values/upstreams.yaml", &["--update"]).success();
    assert_eq!(files(&snaps).len(), 5);
    diff(&snaps, "values/upstreams.yaml", &[])
        .success()
        .stdout(predicate::str::is_empty());
    // A changed value is drift, shown as a unified diff of that resource only.
    diff(
        &snaps,
        "values/upstreams.yaml",
        &["--set", "gatewayProxies.gatewayProxy.istioMetaMeshId=m2"],
    )
    .code(3)
    .stdout(
        predicate::str::contains("-          value: \"cluster.local\"")
            .and(predicate::str::contains("+          value: \"m2\"")),
    )
    .stdout(predicate::str::contains("upstream-").not());
    // A resource that is no longer rendered is drift; --update removes its file.
    diff(&snaps, "values/istio-integration.yaml", &[])
        .code(3)
        .stdout(predicate::str::contains("/dev/null"));
    diff(&snaps, "values/istio-integration.yaml", &["--update"]).success();
    assert_eq!(files(&snaps).len(), 3);
    assert!(
        files(dir.path()).iter().all(|n| !n.starts_with('.')),
        "no staging directory left behind"
    );
}

#[test]
fn diff_with_invalid_values_exits_1_and_leaves_the_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = dir.path().join("s");
    std::fs::create_dir(&snaps).unwrap();
    std::fs::write(snaps.join("keep.yaml"), "x: 1\n").unwrap();
    cmd()
        .args([
            "diff",
            "--snapshots",
            snaps.to_str().unwrap(),
            "--update",
            "--set",
            "global.istioIntegration.enabled=maybe",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty());
    assert_eq!(files(&snaps), ["keep.yaml"]);
}

/// `diff`'s exit codes tell the cases apart, as documented in the README: 0 in sync, 3 drift,
/// 1 invalid values (whatever the snapshots hold), 2 a snapshot directory that is missing or
/// not a directory, and a usage error.
#[test]
fn diff_exit_codes_tell_drift_invalid_values_and_errors_apart() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = dir.path().join("snapshots");
    // A missing directory is an error, not an empty set of snapshots; nothing is created.
    diff(&snaps, "values/upstreams.yaml", &[])
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("GI005").and(predicate::str::contains("does not exist")));
    assert!(!snaps.exists());
    // --update creates it.
    diff(&snaps, "values/upstreams.yaml", &["--update"]).success();
    diff(&snaps, "values/upstreams.yaml", &[]).code(0);
    diff(&snaps, "values/istio-integration.yaml", &[]).code(3);
    // Invalid values exit 1 even where the snapshots drift.
    diff(
        &snaps,
        "values/istio-integration.yaml",
        &["--set", "global.istioIntegration.enabled=maybe"],
    )
    .code(1)
    .stdout(predicate::str::is_empty());
    // A file where the directory should be.
    let file = dir.path().join("file");
    std::fs::write(&file, "x\n").unwrap();
    diff(&file, "values/upstreams.yaml", &[])
        .code(2)
        .stderr(predicate::str::contains("not a directory"));
    // Usage errors.
    diff(&snaps, "values/upstreams.yaml", &["--no-such-flag"]).code(2);
    cmd().args(["diff", "-f", "values/upstreams.yaml"]).assert().code(2);
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        cmd()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("post-render"));
    }
    cmd()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH gloo-istio 1"));
}

#[test]
fn output_has_no_flux_substitution_unless_marked() {
    let dir = tempfile::tempdir().unwrap();
    for example in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("values")).unwrap() {
        let path = example.unwrap().path();
        // `values/<example>/` holds an example's Gateway manifests, not values.
        if path.is_dir() {
            continue;
        }
        let out = cmd()
            .args(["render", "-q", "-f", path.to_str().unwrap()])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        assert!(!String::from_utf8(out).unwrap().contains("${"), "{}", path.display());
    }
    // A value that carries `${` marks its document for Flux.
    let values = dir.path().join("v.yaml");
    std::fs::write(
        &values,
        "global: {istioIntegration: {enabled: true}}\ngatewayProxies: {gatewayProxy: {istioMetaMeshId: '${MESH}'}}\n",
    )
    .unwrap();
    let out = cmd()
        .args(["render", "-q", "-f", values.to_str().unwrap()])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let deployment = out
        .split("---\n")
        .find(|d| d.contains("\"Deployment\"") || d.contains("kind: Deployment"))
        .unwrap();
    assert!(
        deployment.contains("kustomize.toolkit.fluxcd.io/substitute: \"disabled\""),
        "{deployment}"
    );
    assert!(deployment.contains("${MESH}"));
}

/// `diff --update` changes only its own files: those it writes, and stale ones that carry its
/// header. README.md, .gitkeep and kustomization.yaml stay, the directory keeps its mode, a
/// symlinked directory stays a symlink, and the directory is never missing, not even for a moment.
#[cfg(unix)]
#[test]
fn update_changes_only_the_files_it_owns() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o750)).unwrap();
    let snaps = dir.path().join("snapshots");
    std::os::unix::fs::symlink(&real, &snaps).unwrap();
    let theirs = [
        (".gitkeep", ""),
        ("README.md", "# Rendered by CI\n"),
        ("kustomization.yaml", "resources: [namespace.yaml]\n"),
        ("namespace.yaml", "kind: Namespace\n"),
        // A generated file's name, but not gloo-istio's header: someone else's.
        ("upstream-gloo-system-hand-written.yaml", "kind: Upstream\n"),
    ];
    for (name, text) in theirs {
        std::fs::write(real.join(name), text).unwrap();
    }
    let inode = real.metadata().unwrap().ino();

    diff(&snaps, "values/upstreams.yaml", &["--update"]).success();
    assert_eq!(files(&real).len(), theirs.len() + 5);
    // Two Upstreams are no longer rendered: their files go, nothing else does.
    diff(&snaps, "values/istio-integration.yaml", &[])
        .code(3)
        .stdout(predicate::str::contains("/dev/null"))
        .stdout(predicate::str::contains("hand-written").not());
    diff(&snaps, "values/istio-integration.yaml", &["--update"]).success();
    diff(&snaps, "values/istio-integration.yaml", &[])
        .success()
        .stdout(predicate::str::is_empty());

    let names = files(&real);
    assert_eq!(names.len(), theirs.len() + 3, "{names:?}");
    for (name, text) in theirs {
        assert_eq!(std::fs::read_to_string(real.join(name)).unwrap(), text, "{name}");
    }
    for name in names.iter().filter(|n| !theirs.iter().any(|(t, _)| t == *n)) {
        let text = std::fs::read_to_string(real.join(name)).unwrap();
        assert!(
            text.starts_with("# Code generated by gloo-istio. DO NOT EDIT.\n"),
            "{name}"
        );
    }
    assert!(snaps.symlink_metadata().unwrap().file_type().is_symlink());
    let meta = real.metadata().unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o750);
    assert_eq!(meta.ino(), inode, "the directory was replaced");
    assert!(
        files(dir.path()).iter().all(|n| !n.starts_with('.')),
        "something was staged beside the directory"
    );
}
