//! Helpers shared by the integration tests: where the peer tools and the reference renders are,
//! and which inputs to run them on.
//!
//! A peer (helm, envoy, kubernetes-validate, ...) is installed by `bash .ci/install-peers.sh`
//! into `target/peers/bin`, or wherever `$GLOO_ISTIO_PEERS` points. A test that needs one and
//! cannot find it fails in CI (`CI` set to anything but `false`/`0`) or under
//! `GLOO_ISTIO_REQUIRE_PEERS=1` (which `scripts/test.sh` sets), and is skipped, loudly,
//! elsewhere.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const INSTALL_HINT: &str = "bash .ci/install-peers.sh";

/// The crate root.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether a missing peer or reference directory fails the test instead of skipping it.
pub fn peers_required() -> bool {
    let ci = std::env::var("CI")
        .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "false" | "0"))
        .unwrap_or(false);
    ci || std::env::var("GLOO_ISTIO_REQUIRE_PEERS").as_deref() == Ok("1")
}

/// Prints straight to the process's stderr. `eprintln!` inside a test is captured and shown
/// only when the test fails; a skip must be seen when it passes.
fn loud(message: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** {message} ***");
}

/// Where the peer tools are linked: `$GLOO_ISTIO_PEERS`, else `target/peers/bin`.
pub fn peers_dir() -> PathBuf {
    match std::env::var_os("GLOO_ISTIO_PEERS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => manifest_dir().join("target/peers/bin"),
    }
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// The peer tool `name`, or `None` (after a loud notice) when it is not installed and the run
/// does not require peers. Panics when it is missing and peers are required.
pub fn peer(name: &str) -> Option<PathBuf> {
    let dir = peers_dir();
    let path = dir.join(name);
    if is_executable(&path) {
        return Some(path);
    }
    if peers_required() {
        panic!(
            "peer tool `{name}` is not installed (looked for {}); run `{INSTALL_HINT}` \
             (a missing peer fails the test because CI or GLOO_ISTIO_REQUIRE_PEERS=1 is set)",
            path.display()
        );
    }
    loud(&format!("SKIPPED: {name} not installed (run {INSTALL_HINT})"));
    None
}

/// The reference renders of the real chart (`shared/reference/gloo-chart`, or
/// `$GLOO_REFERENCE_DIR`). `None` (after a loud notice) when it is absent and the run does not
/// require it; panics when it is absent and required.
pub fn reference_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("GLOO_REFERENCE_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => manifest_dir().join("../shared/reference/gloo-chart"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    if peers_required() {
        panic!(
            "the reference renders are missing (looked for {}); set GLOO_REFERENCE_DIR or put \
             shared/ beside the repository",
            dir.display()
        );
    }
    loud(&format!(
        "SKIPPED: reference renders not found at {} (set GLOO_REFERENCE_DIR)",
        dir.display()
    ));
    None
}

/// Files in `dir` whose names end with `suffix`, sorted by name. Empty if `dir` is missing.
fn files_ending_with(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("read a directory entry").path())
        .filter(|path| {
            path.is_file()
                && path
                    .file_name()
                    .and_then(OsStr::to_str)
                    .is_some_and(|n| n.ends_with(suffix))
        })
        .collect();
    files.sort();
    files
}

/// Every reference case as (name, values file): `<ref>/NAME.values.yaml`, sorted by name.
/// Empty when the reference directory is absent (and not required).
pub fn reference_cases() -> Vec<(String, PathBuf)> {
    let Some(dir) = reference_dir() else {
        return Vec::new();
    };
    files_ending_with(&dir, ".values.yaml")
        .into_iter()
        .map(|path| {
            let file = path.file_name().and_then(OsStr::to_str).expect("UTF-8 file name");
            (file.trim_end_matches(".values.yaml").to_string(), path)
        })
        .collect()
}

/// The project's example values files, `values/*.yaml`, sorted.
pub fn example_values() -> Vec<PathBuf> {
    files_ending_with(&manifest_dir().join("values"), ".yaml")
}

/// Every values file worth rendering, labelled for messages: `values/<file>` for the examples,
/// then `reference/<case>` for the reference cases.
pub fn all_values_inputs() -> Vec<(String, PathBuf)> {
    let examples = example_values().into_iter().map(|path| {
        let file = path.file_name().and_then(OsStr::to_str).expect("UTF-8 file name");
        (format!("values/{file}"), path)
    });
    let cases = reference_cases()
        .into_iter()
        .map(|(name, path)| (format!("reference/{name}"), path));
    examples.chain(cases).collect()
}

/// Runs a command to completion; panics if it cannot be started.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()))
}

/// stdout and stderr of a finished command, for a failure message.
pub fn output_text(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !stderr.trim().is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&stderr);
    }
    text
}

/// A YAML node of `saphyr` (the independent parser the peer tests read output with, so that
/// they do not trust our own loader) as JSON.
pub fn saphyr_to_json(node: &saphyr::Yaml) -> serde_json::Value {
    use saphyr::{Scalar, Yaml};
    use serde_json::Value;
    match node {
        Yaml::Value(scalar) => match scalar {
            Scalar::Null => Value::Null,
            Scalar::Boolean(b) => Value::Bool(*b),
            Scalar::Integer(i) => Value::from(*i),
            Scalar::FloatingPoint(f) => {
                serde_json::Number::from_f64(f.0).map_or(Value::String(f.0.to_string()), Value::Number)
            }
            Scalar::String(s) => Value::String(s.to_string()),
        },
        Yaml::Representation(text, _, _) => Value::String(text.to_string()),
        Yaml::Sequence(items) => Value::Array(items.iter().map(saphyr_to_json).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match saphyr_to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, saphyr_to_json(v))
                })
                .collect(),
        ),
        Yaml::Tagged(_, inner) => saphyr_to_json(inner),
        Yaml::Alias(_) | Yaml::BadValue => panic!("unexpected YAML node {node:?}"),
    }
}

/// The gloo-istio binary of this build as a test command, without colours (so messages compare
/// as plain text), run from the crate root (where `values/` and `snapshots/` are).
pub fn gloo_istio() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("gloo-istio").expect("the gloo-istio binary is built");
    command.env("NO_COLOR", "1").current_dir(manifest_dir());
    command
}

/// A YAML double-quoted scalar holding exactly `s` (every non-printable character escaped).
pub fn yaml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// `value` as flow-style YAML, every string a double-quoted scalar written by [`yaml_quote`].
pub fn to_yaml(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => yaml_quote(s),
        serde_json::Value::Array(items) => format!("[{}]", items.iter().map(to_yaml).collect::<Vec<_>>().join(", ")),
        serde_json::Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", yaml_quote(k), to_yaml(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The gloo-istio binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_gloo-istio");

/// The Kubernetes version the peer validators check against (`k8s-openapi`'s `v1_33`).
pub const KUBERNETES_VERSION: &str = "1.33.0";

/// Kinds that `kubernetes-validate` has no schema for (Gloo CRDs); every other kind must pass.
pub const GLOO_CRD_KINDS: [&str; 2] = ["Settings", "Upstream"];

/// A values file with a misspelt key (`istioSds`), which gloo-istio rejects at 2:3.
pub const MISSPELT_VALUES: &str = "global:\n  istioSds:\n    enabled: true\n";

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Runs the gloo-istio binary with `args`, feeding `stdin` from a second thread (so a large
/// input cannot dead-lock against a full output pipe), without colours.
pub fn run_bin(args: &[&str], stdin: &[u8], dir: Option<&Path>) -> Output {
    use std::process::Stdio;
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn().expect("start gloo-istio");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().expect("wait for gloo-istio");
    writer.join().expect("the stdin writer");
    output
}

/// Copies the tree at `from` into `to` (symbolic links as links), leaving out the entries of
/// its top level named in `skip_top`.
pub fn copy_tree(from: &Path, to: &Path, skip_top: &[&str]) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    let entries = std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("read a directory entry");
        let name = entry.file_name();
        if skip_top.iter().any(|skip| name == OsStr::new(skip)) {
            continue;
        }
        let (source, dest) = (entry.path(), to.join(&name));
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_tree(&source, &dest, &[]);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&source).expect("read a link"), &dest)
                .unwrap_or_else(|e| panic!("link {}: {e}", dest.display()));
        } else if kind.is_file() {
            std::fs::copy(&source, &dest).unwrap_or_else(|e| panic!("copy {}: {e}", source.display()));
        }
    }
}

/// Writes `stream` into `dir` and runs `kubernetes-validate --strict` on it: it must succeed,
/// each of `objects` (kind, name) that is not a Gloo CRD must be reported as passed, and the
/// only warnings allowed are the missing schemas of the Gloo CRDs.
pub fn kubernetes_validate_problems(
    tool: &Path,
    dir: &Path,
    stream: &str,
    objects: &[(String, String)],
) -> Vec<String> {
    let file = dir.join("stream.yaml");
    std::fs::write(&file, stream).expect("write the stream");
    let output = run(Command::new(tool).args(["--strict", "-k", KUBERNETES_VERSION, path_str(&file)]));
    let text = output_text(&output);
    let mut problems = Vec::new();
    if !output.status.success() {
        problems.push(format!("kubernetes-validate failed ({}):\n{text}", output.status));
    }
    for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with("INFO")) {
        let crd_warning = line.starts_with("WARN")
            && GLOO_CRD_KINDS
                .iter()
                .any(|k| line.contains(&format!("Couldn't find schema for kind {k} ")));
        if !crd_warning {
            problems.push(format!("kubernetes-validate: {line}"));
        }
    }
    for (kind, name) in objects
        .iter()
        .filter(|(kind, _)| !GLOO_CRD_KINDS.contains(&kind.as_str()))
    {
        if !text.contains(&format!("passed for resource {}/{name} ", kind.to_ascii_lowercase())) {
            problems.push(format!("kubernetes-validate did not pass {kind}/{name}"));
        }
    }
    problems
}

/// `check-jsonschema -o json --schemafile SCHEMA FILE...`: the exit code and the parsed report.
pub fn check_jsonschema(binary: &Path, schema: &Path, files: &[PathBuf]) -> (Output, serde_json::Value) {
    let output = run(Command::new(binary)
        .args(["--output-format", "json", "--schemafile"])
        .arg(schema)
        .args(files));
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "check-jsonschema printed no JSON report ({e}):\n{}",
            output_text(&output)
        )
    });
    (output, report)
}
