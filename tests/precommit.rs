//! The hooks of `.pre-commit-hooks.yaml`, run by the real `pre-commit` (a peer, see
//! `tests/common/mod.rs`) from `git commit` in a throw-away consumer repository:
//! `gloo-istio-lint` (`language: rust`, built by pre-commit) and `gloo-istio-lint-system`
//! (`language: system`, the binary of this build on PATH), with a release file.
//!
//! The hook repository is a temporary git repository holding a copy of this working tree (every
//! file but `target/` and `.git/`), committed: the test exercises the code as it is on disk, not
//! HEAD. pre-commit builds it with `cargo install` (`language: rust`); the environment below keeps
//! that offline and short: a persistent target directory (`target/precommit-cargo`), no LTO, many
//! codegen units and no optimisation (the hook lints a few small files; an optimised build of
//! k8s-openapi alone takes minutes on two cores). Measured on a busy 2-core machine: 131 s cold
//! (empty `target/precommit-cargo`, as in CI; 8.5 minutes with opt-level 3), 10 s warm (only
//! this crate is rebuilt); 393 s cold under a load average of 10. The system hook's test builds
//! nothing and takes about 10 s. `PRE_COMMIT_HOME` is temporary: the hook repository's commit
//! changes with every run, so pre-commit's own cache would never hit.

mod common;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// Variables git sets for hooks (and a user may have exported) that would point our git
/// commands at another repository: the tests must also pass when run from a git hook.
const GIT_LOCATION_VARS: [&str; 9] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CONFIG_PARAMETERS",
];

/// The identity of every commit the test makes.
const GIT_IDENTITY: [&str; 4] = [
    "-c",
    "user.name=gloo-istio test",
    "-c",
    "user.email=test@gloo-istio.invalid",
];

/// A git configuration that replaces the user's and the system's (no `core.hooksPath`, signing
/// or templates of theirs).
const GIT_CONFIG: &str = "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n\
                          [core]\n\tautocrlf = false\n[advice]\n\tdetachedHead = false\n";

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: productpage
spec:
  replicas: 1
";

/// `istioSds` misspelt: GI003 at 2:3 with a did-you-mean.
const BAD_VALUES: &str = "global:\n  istioSds:\n    enabled: true\n";
/// A quoted boolean: GI004 at 3:14.
const BAD_PROD_VALUES: &str = "global:\n  istioIntegration:\n    enabled: \"yes\"\n";
const GOOD_VALUES: &str = "global:\n  istioIntegration:\n    enabled: true\n";

/// Where the test's repositories live and how its commands are started.
struct Sandbox {
    dir: tempfile::TempDir,
    path: OsString,
}

impl Sandbox {
    /// With `installed`, the gloo-istio binary of this build is on PATH, as an installed one
    /// would be for `language: system`.
    fn new(installed: bool) -> Sandbox {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        fs::write(dir.path().join("gitconfig"), GIT_CONFIG).expect("write the git configuration");
        // The cargo running this test first on PATH, so that pre-commit's `language: rust`
        // builds with the same toolchain (and finds one at all).
        let cargo = std::env::var_os("CARGO").map(PathBuf::from);
        let mut dirs: Vec<PathBuf> = cargo.iter().filter_map(|c| c.parent().map(Path::to_path_buf)).collect();
        if installed {
            dirs.extend(
                Path::new(env!("CARGO_BIN_EXE_gloo-istio"))
                    .parent()
                    .map(Path::to_path_buf),
            );
        }
        dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        let path = std::env::join_paths(dirs).expect("join PATH");
        Sandbox { dir, path }
    }

    fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `program` in `cwd`, with the isolated git configuration and the build settings for
    /// pre-commit's `cargo install`.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>, cwd: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(cwd)
            .env("PATH", &self.path)
            .env("GIT_CONFIG_GLOBAL", self.join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PRE_COMMIT_HOME", self.join("pre-commit-home"))
            .env(
                "CARGO_TARGET_DIR",
                common::manifest_dir().join("target/precommit-cargo"),
            )
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
            .env("CARGO_NET_OFFLINE", "true")
            .env("NO_COLOR", "1")
            .env_remove("SKIP")
            .env_remove("PRE_COMMIT_COLOR")
            .env_remove("PRE_COMMIT_ALLOW_NO_CONFIG");
        for var in GIT_LOCATION_VARS {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs git in `repo`; panics with its output when it fails.
    fn git(&self, repo: &Path, args: &[&str]) -> String {
        let output = common::run(self.command("git", repo).args(args));
        assert!(
            output.status.success(),
            "git {args:?} failed in {}:\n{}",
            repo.display(),
            common::output_text(&output)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// `git commit` in `repo`, with the pre-commit hook; the output is returned, not checked.
    fn commit(&self, repo: &Path, message: &str) -> Output {
        common::run(
            self.command("git", repo)
                .args(GIT_IDENTITY)
                .args(["commit", "-m", message]),
        )
    }
}

fn write(repo: &Path, name: &str, text: &str) {
    let path = repo.join(name);
    fs::create_dir_all(path.parent().expect("a parent")).expect("create the file's directory");
    fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Makes the hook repository from the working tree and returns its path and commit.
fn hook_repository(sandbox: &Sandbox) -> (PathBuf, String) {
    let repo = sandbox.join("hook-repo");
    common::copy_tree(&common::manifest_dir(), &repo, &["target", ".git"]);
    assert!(
        repo.join(".pre-commit-hooks.yaml").is_file(),
        "the working tree has no .pre-commit-hooks.yaml"
    );
    sandbox.git(&repo, &["init", "-q"]);
    sandbox.git(&repo, &["add", "-A"]);
    let mut args = GIT_IDENTITY.to_vec();
    args.extend(["commit", "-q", "--no-verify", "-m", "working tree"]);
    sandbox.git(&repo, &args);
    let rev = sandbox.git(&repo, &["rev-parse", "HEAD"]);
    (repo, rev)
}

/// A consumer repository whose `.pre-commit-config.yaml` uses hook `id` of the hook repository,
/// with pre-commit installed as its git hook.
fn consumer_repository(sandbox: &Sandbox, pre_commit: &Path, id: &str) -> PathBuf {
    let (hook_repo, rev) = hook_repository(sandbox);
    let consumer = sandbox.join("consumer");
    fs::create_dir_all(&consumer).expect("create the consumer repository");
    sandbox.git(&consumer, &["init", "-q"]);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: {id}\n",
        serde_json::to_string(&hook_repo.to_string_lossy()).expect("quote the path")
    );
    write(&consumer, ".pre-commit-config.yaml", &config);
    let installed = common::run(sandbox.command(pre_commit, &consumer).arg("install"));
    assert!(
        installed.status.success(),
        "pre-commit install failed:\n{}",
        common::output_text(&installed)
    );
    consumer
}

fn commit_count(sandbox: &Sandbox, repo: &Path) -> usize {
    sandbox
        .git(repo, &["rev-list", "--count", "HEAD"])
        .parse()
        .expect("a count")
}

#[test]
fn precommit_hook_rejects_bad_values_files_and_ignores_other_yaml() {
    let Some(pre_commit) = common::peer("pre-commit") else {
        return;
    };
    let sandbox = Sandbox::new(false);
    let consumer = consumer_repository(&sandbox, &pre_commit, "gloo-istio-lint");

    // 1. A Kubernetes manifest is YAML but not a values file: the hook must not run on it,
    //    although gloo-istio would reject it (the control below). pre-commit builds the hook's
    //    environment here, before running any hook.
    write(&consumer, "k8s/deploy.yaml", DEPLOYMENT);
    let control = common::run(
        Command::new(env!("CARGO_BIN_EXE_gloo-istio"))
            .args(["lint", "k8s/deploy.yaml"])
            .current_dir(&consumer),
    );
    assert_eq!(
        control.status.code(),
        Some(1),
        "control: gloo-istio lint must reject a Deployment manifest:\n{}",
        common::output_text(&control)
    );
    sandbox.git(&consumer, &["add", "-A"]);
    let started = Instant::now();
    let first = sandbox.commit(&consumer, "a manifest");
    let install_time = started.elapsed();
    let text = common::output_text(&first);
    assert!(first.status.success(), "committing k8s/deploy.yaml failed:\n{text}");
    assert!(
        text.contains("gloo-istio lint") && text.contains("(no files to check)Skipped"),
        "the hook ran on a file that is not a values file:\n{text}"
    );
    eprintln!("pre-commit: hook environment built and first commit made in {install_time:.1?}");

    // 2. Two bad values files, in two of the name forms the regex matches: the commit fails
    //    and shows every finding with its place, code and help.
    write(&consumer, "values.yaml", BAD_VALUES);
    write(&consumer, "values/prod.yaml", BAD_PROD_VALUES);
    sandbox.git(&consumer, &["add", "-A"]);
    let rejected = sandbox.commit(&consumer, "bad values");
    let text = common::output_text(&rejected);
    assert!(
        !rejected.status.success(),
        "a commit of bad values files succeeded:\n{text}"
    );
    for expected in [
        "gloo-istio lint",
        "Failed",
        "- hook id: gloo-istio-lint",
        "error[GI003]: unknown key `istioSds` in `global`",
        "[values.yaml:2:3]",
        "help: did you mean `istioSDS`?",
        "error[GI004]",
        "[values/prod.yaml:3:14]",
        "2 error(s)",
    ] {
        assert!(text.contains(expected), "the hook's output lacks `{expected}`:\n{text}");
    }
    assert_eq!(commit_count(&sandbox, &consumer), 1, "the rejected commit was made");

    // 3. Fixed: the commit goes through with the hook passing.
    write(&consumer, "values.yaml", GOOD_VALUES);
    let example = fs::read_to_string(common::manifest_dir().join("values/istio-integration.yaml"))
        .expect("read values/istio-integration.yaml");
    write(&consumer, "values/prod.yaml", &example);
    sandbox.git(&consumer, &["add", "-A"]);
    let accepted = sandbox.commit(&consumer, "good values");
    let text = common::output_text(&accepted);
    assert!(
        accepted.status.success(),
        "a commit of good values files failed:\n{text}"
    );
    assert!(
        text.contains("gloo-istio lint") && text.contains("Passed"),
        "the hook did not run on the values files:\n{text}"
    );
    assert_eq!(commit_count(&sandbox, &consumer), 2);
}

/// The base values of a release: the integration on.
const BASE_VALUES: &str = "global:\n  istioIntegration:\n    enabled: true\n";
/// An overlay that needs the base: an Upstream with the sds sslConfig (GI025 alone, at 2:61).
const OVERLAY: &str = "upstreams:\n- {service: reviews, namespace: bookinfo, port: 9080, mtls: istio-sds}\n";
const RELEASE_FILE: &str = "releases:\n  - name: prod\n    files: [values.yaml, values-prod.yaml]\n";

#[test]
fn system_hook_lints_declared_releases_merged() {
    let Some(pre_commit) = common::peer("pre-commit") else {
        return;
    };
    let started = Instant::now();
    let sandbox = Sandbox::new(true);
    let consumer = consumer_repository(&sandbox, &pre_commit, "gloo-istio-lint-system");
    let expect = |output: &Output, ok: bool, what: &str, expected: &[&str]| {
        let text = common::output_text(output);
        assert_eq!(output.status.success(), ok, "{what}:\n{text}");
        for piece in expected {
            assert!(
                text.contains(piece),
                "{what}: the hook's output lacks `{piece}`:\n{text}"
            );
        }
    };

    // 1. The overlay without a release file is linted alone: GI025.
    write(&consumer, "values.yaml", BASE_VALUES);
    write(&consumer, "values-prod.yaml", OVERLAY);
    sandbox.git(&consumer, &["add", "-A"]);
    let alone = sandbox.commit(&consumer, "layered values");
    expect(
        &alone,
        false,
        "the overlay alone",
        &[
            "- hook id: gloo-istio-lint-system",
            "error[GI025]",
            "[values-prod.yaml:2:61]",
        ],
    );

    // 2. Declared as one release, the same files pass; the release file runs the hook too.
    write(&consumer, ".gloo-istio.yaml", RELEASE_FILE);
    sandbox.git(&consumer, &["add", "-A"]);
    let merged = sandbox.commit(&consumer, "a release of two files");
    expect(&merged, true, "the declared release", &["gloo-istio lint", "Passed"]);
    assert_eq!(commit_count(&sandbox, &consumer), 1);

    // 3. Only the base changes, and breaks the overlay: pre-commit passes values.yaml alone,
    //    the release is linted merged and the finding is in the file that was not changed.
    write(
        &consumer,
        "values.yaml",
        "global:\n  istioIntegration:\n    enabled: false\n",
    );
    sandbox.git(&consumer, &["add", "-A"]);
    let broken = sandbox.commit(&consumer, "integration off");
    expect(
        &broken,
        false,
        "the base breaks the overlay",
        &["error[GI025]", "[values-prod.yaml:2:61]"],
    );

    // 4. A typo in the overlay is caught in the file alone as well as in the release: once.
    write(&consumer, "values.yaml", BASE_VALUES);
    write(
        &consumer,
        "values-prod.yaml",
        &format!("{OVERLAY}global: {{istioSds: {{}}}}\n"),
    );
    sandbox.git(&consumer, &["add", "-A"]);
    let typo = sandbox.commit(&consumer, "a typo");
    expect(
        &typo,
        false,
        "a typo in the overlay",
        &["error[GI003]", "[values-prod.yaml:3:10]"],
    );
    assert_eq!(common::output_text(&typo).matches("error[GI003]").count(), 1);
    assert_eq!(commit_count(&sandbox, &consumer), 1, "a rejected commit was made");
    eprintln!("pre-commit: system hook test took {:.1?}", started.elapsed());
}
