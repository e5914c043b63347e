//! The command line as users run it: exit codes, nothing on stdout on failure, located
//! messages, atomic `--output-dir DIR`, hostile values that must come out exactly as they went in.

use std::path::Path;

use gloo_istio::yaml;
use predicates::prelude::*;
use serde_json::Value;

mod common;

use common::gloo_istio as cmd;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Renders `file` and requires the run to fail as invalid values: exit 1, nothing on stdout, and
/// every one of `needles` on stderr.
fn render_is_invalid(file: &str, needles: &[&str]) {
    let assert = cmd()
        .args(["render", "-f", file])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty());
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    for needle in needles {
        assert!(stderr.contains(needle), "stderr lacks {needle:?}:\n{stderr}");
    }
}

/// The documents of a rendered stream.
fn documents(stream: &str) -> Vec<Value> {
    stream
        .split("\n---\n")
        .map(|d| d.trim_start_matches("---\n"))
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            yaml::load_document(d.as_bytes(), yaml::Limits::default())
                .unwrap()
                .unwrap()
                .to_json()
        })
        .collect()
}

#[test]
fn renders_the_defaults_without_values() {
    let out = cmd().arg("render").assert().success().get_output().stdout.clone();
    let docs = documents(&String::from_utf8(out).unwrap());
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Deployment", "ConfigMap"]);
}

#[test]
fn invalid_values_exit_1_with_a_located_message_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.yaml",
        "global:\n  istioIntegration:\n    enabled: \"yes\"\n",
    );
    render_is_invalid(
        &file,
        &[&format!("{file}:3:14"), "GI004", "global.istioIntegration.enabled"],
    );
}

#[test]
fn a_misspelt_owned_key_is_an_error_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "v.yaml", "global:\n  istioSds:\n    enabled: true\n");
    render_is_invalid(&file, &["GI003", "did you mean `istioSDS`?", &format!("{file}:2:3")]);
}

#[test]
fn chart_keys_we_do_not_render_are_reported_once_as_info() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "v.yaml",
        "gloo:\n  deployment:\n    replicas: 2\ndiscovery:\n  enabled: true\nsettings:\n  singleNamespace: true\n",
    );
    let assert = cmd().args(["render", "-f", &file]).assert().success();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    for key in ["gloo.deployment.replicas", "discovery", "settings.singleNamespace"] {
        assert_eq!(
            stderr.matches(&format!("`{key}` is checked but not rendered")).count(),
            1,
            "{key}: {stderr}"
        );
    }
    cmd()
        .args(["render", "-q", "-f", &file])
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
    cmd()
        .args(["lint", "-q", &file])
        .assert()
        .success()
        .stdout(predicate::str::contains("GI006").not());
}

#[test]
fn an_unreadable_file_exits_2() {
    cmd()
        .args(["render", "-f", "/nonexistent/values.yaml"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("cannot read /nonexistent/values.yaml"));
}

#[test]
fn yaml_syntax_errors_and_duplicate_keys_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let syntax = write(
        dir.path(),
        "syntax.yaml",
        "global:\n  istioIntegration: {enabled: true\n",
    );
    render_is_invalid(&syntax, &["GI001"]);
    let dup = write(
        dir.path(),
        "dup.yaml",
        "global:\n  istioIntegration:\n    enabled: true\n    enabled: false\n",
    );
    render_is_invalid(&dup, &["GI002", &format!("{dup}:4:5")]);
}

#[test]
fn later_files_and_set_override_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.yaml",
        "global: {istioIntegration: {enabled: true}}\ngatewayProxies: {gatewayProxy: {istioMetaMeshId: a}}\n",
    );
    let b = write(
        dir.path(),
        "b.yaml",
        "gatewayProxies: {gatewayProxy: {istioMetaMeshId: b, istioMetaClusterId: b}}\n",
    );
    let out = cmd()
        .args([
            "render",
            "-f",
            &a,
            "-f",
            &b,
            "--set",
            "gatewayProxies.gatewayProxy.istioMetaClusterId=c",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let docs = documents(&String::from_utf8(out).unwrap());
    let env = &docs[0]["spec"]["template"]["spec"]["containers"][2]["env"];
    let get = |name: &str| env.as_array().unwrap().iter().find(|e| e["name"] == name).unwrap()["value"].clone();
    assert_eq!(get("ISTIO_META_MESH_ID"), "b");
    assert_eq!(get("ISTIO_META_CLUSTER_ID"), "c");
}

#[test]
fn output_dir_gets_one_file_per_resource() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    cmd()
        .args([
            "render",
            "-f",
            "values/upstreams.yaml",
            "--output-dir",
            out.to_str().unwrap(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "configmap-gloo-system-gateway-proxy-envoy-config.yaml",
            "deployment-gloo-system-gateway-proxy.yaml",
            "upstream-gloo-system-bookinfo-productpage-9080.yaml",
            "upstream-gloo-system-legacy-legacy-api-8080.yaml",
            "upstream-gloo-system-reviews.yaml",
        ]
    );
}

#[test]
fn failed_render_writes_nothing_into_the_output_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.yaml"), "old").unwrap();
    let bad = write(
        dir.path(),
        "bad.yaml",
        "gatewayProxies: {gatewayProxy: {kind: {workloadType: Daemonset}}}\n",
    );
    cmd()
        .args(["render", "-f", &bad, "--output-dir", out.to_str().unwrap()])
        .assert()
        .code(1);
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["keep.yaml"]);
    assert_eq!(std::fs::read_to_string(out.join("keep.yaml")).unwrap(), "old");
}

#[cfg(unix)]
#[test]
fn read_only_output_dir_exits_2_and_leaves_it_untouched() {
    use std::os::unix::fs::PermissionsExt;
    if nix_is_root() {
        // root ignores directory permissions; the case cannot be produced.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ro");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    cmd()
        .args(["render", "--output-dir", out.to_str().unwrap()])
        .assert()
        .code(2);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

#[cfg(unix)]
fn nix_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gloo-istio"))
        .args(["render", "-f", "values/two-gateway-proxies.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[test]
fn strict_templates_reject_undefined_variables() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in gloo_istio::render::engine::TEMPLATES {
        write(dir.path(), name, text);
    }
    write(
        dir.path(),
        "upstream.yaml",
        "apiVersion: v1\nkind: Upstream\nspec: {{ u.no_such_field }}\n",
    );
    cmd()
        .args([
            "render",
            "--templates",
            dir.path().to_str().unwrap(),
            "--set",
            "upstreams[0].service=a,upstreams[0].namespace=b,upstreams[0].port=80",
        ])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("GI099"));
}

#[test]
fn hostile_strings_come_out_exactly_as_they_went_in() {
    let hostile = [
        "a\nb: c",
        "x: y\n---\nkind: Secret",
        "# not a comment",
        "{{ .Values.x }} {% if %} {# c #}",
        "'\"\\",
        "*alias &anchor !tag %directive @at",
        "yes",
        "0x10",
        "~",
        "line\u{2028}separator\u{85}next",
        "tab\there",
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, value) in hostile.iter().enumerate() {
        let values = serde_json::json!({
            "global": {"istioIntegration": {"enabled": true}},
            "gatewayProxies": {"gatewayProxy": {"istioMetaMeshId": value, "istioMetaClusterId": value}},
        });
        // JSON is YAML: the values file carries the string exactly. (Raw U+0085 and U+2028 are
        // refused, GI008, as Helm reads them as line breaks: they are written as escapes.)
        let text = values
            .to_string()
            .replace('\u{85}', "\\u0085")
            .replace('\u{2028}', "\\u2028");
        let file = write(dir.path(), &format!("h{i}.yaml"), &text);
        let out = cmd()
            .args(["render", "-f", &file])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let docs = documents(&String::from_utf8(out).unwrap());
        assert_eq!(docs.len(), 2, "{value:?} added or removed a document");
        let istio = &docs[0]["spec"]["template"]["spec"]["containers"][2];
        let env = istio["env"].as_array().unwrap();
        assert_eq!(env.len(), 15, "{value:?} changed the env list");
        let get = |name: &str| env.iter().find(|e| e["name"] == name).unwrap()["value"].clone();
        assert_eq!(get("ISTIO_META_MESH_ID"), *value);
        assert_eq!(get("ISTIO_META_CLUSTER_ID"), *value);
    }
}

#[test]
fn schema_prints_a_draft_07_schema() {
    let out = cmd().arg("schema").assert().success().get_output().stdout.clone();
    let schema: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(schema["properties"]["global"].is_object());
}

#[test]
fn a_whole_gloo_values_file_loads() {
    // The chart's complete generated values.yaml, as a user would copy it: every key is accepted,
    // the ones we do not render are reported as info, and the render succeeds.
    let chart_values = concat!(env!("CARGO_MANIFEST_DIR"), "/src/values/chart-defaults.yaml");
    let assert = cmd().args(["render", "-f", chart_values]).assert().success();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("`kubeGateway.portal` is checked but not rendered"),
        "{stderr}"
    );
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn rendering_is_deterministic() {
    let run = || {
        cmd()
            .args([
                "render",
                "-f",
                "values/two-gateway-proxies.yaml",
                "-f",
                "values/upstreams.yaml",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    assert_eq!(run(), run());
}

#[test]
fn lint_reports_the_files_in_the_order_given_whichever_thread_checks_them() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "global:\n  istioSds: {}\n";
    let mut args = vec!["lint".to_string(), "--format".into(), "json".into()];
    let mut expected = Vec::new();
    for i in 0..80 {
        if i == 40 {
            args.push("-".into());
            expected.push("<stdin>".to_string());
        }
        let file = write(dir.path(), &format!("v{i:02}.yaml"), bad);
        expected.push(file.clone());
        args.push(file);
    }
    let out = cmd()
        .args(&args)
        .write_stdin(bad)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let findings: Vec<Value> = serde_json::from_slice(&out).unwrap();
    let files: Vec<&str> = findings.iter().map(|f| f["file"].as_str().unwrap()).collect();
    assert_eq!(files, expected);
}

/// The names in `dir` of the temporary files `render --output-dir` stages.
fn staged_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with(".gloo-istio-") && n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

/// SIGINT or SIGTERM while `render --output-dir` stages its files leaves no `.gloo-istio-*.tmp`
/// file behind: the signal removes them, and the process still dies of it.
#[cfg(unix)]
#[test]
fn an_interrupted_render_o_leaves_no_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    // Two hundred files to stage, each synced: long enough to be interrupted.
    let mut values = String::from("gatewayProxies:\n");
    for i in 0..100 {
        values.push_str(&format!("  gw{i}: {{}}\n"));
    }
    let values = write(dir.path(), "many.yaml", &values);
    let bin = assert_cmd::cargo::cargo_bin("gloo-istio");
    for (signal, number) in [("INT", 2), ("TERM", 15)] {
        let mut interrupted = false;
        for attempt in 0..5 {
            let out = dir.path().join(format!("out-{signal}-{attempt}"));
            let mut child = std::process::Command::new(&bin)
                .args(["render", "-q", "-f", &values, "--output-dir", out.to_str().unwrap()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(120);
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                if !interrupted && !staged_files(&out).is_empty() {
                    let sent = std::process::Command::new("kill")
                        .args([format!("-{signal}"), child.id().to_string()])
                        .status()
                        .unwrap();
                    assert!(sent.success());
                    interrupted = true;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("render --output-dir did not end");
                }
                std::thread::sleep(Duration::from_micros(200));
            };
            if !interrupted {
                continue;
            }
            assert_eq!(status.signal(), Some(number), "SIG{signal}: {status:?}");
            assert_eq!(
                staged_files(&out),
                Vec::<String>::new(),
                "SIG{signal} left staged files"
            );
            // All files or none.
            let written = std::fs::read_dir(&out).map(|e| e.count()).unwrap_or(0);
            assert!(written == 0 || written == 200, "SIG{signal}: {written} files in place");
            break;
        }
        assert!(
            interrupted,
            "render --output-dir ended five times before SIG{signal} could reach it"
        );
    }
}

/// Every file `render --output-dir` writes names the tool that generated it on its first line, the
/// header that `diff --update` recognises its own files by.
#[test]
fn output_dir_files_start_with_the_generated_file_header() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    cmd()
        .args([
            "render",
            "-q",
            "-f",
            "values/upstreams.yaml",
            "--output-dir",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    for entry in std::fs::read_dir(&out).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            text.starts_with("# Code generated by gloo-istio. DO NOT EDIT.\napiVersion: "),
            "{text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// --output-dir, --show-only, --fail-on
// ---------------------------------------------------------------------------------------------

const HEADER: &str = "# Code generated by gloo-istio. DO NOT EDIT.\n";

fn listing(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let text = std::fs::read_to_string(e.path()).unwrap_or_else(|_| "<not a file>".into());
            (e.file_name().into_string().unwrap(), text)
        })
        .collect();
    files.sort();
    files
}

/// `render --output-dir DIR` with the values file `values`.
fn render_into(out: &Path, values: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    cmd()
        .args(["render", "-q", "-f", values, "--output-dir", out.to_str().unwrap()])
        .args(extra)
        .assert()
}

/// `-o` is not a short form of `--output-dir`: `-o json` (kubectl's and helm's output format)
/// is a usage error, and no directory `json` appears.
#[test]
fn dash_o_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["render", "-o", "json"][..],
        &["render", "-ojson"],
        &["diff", "-o", "json"],
    ] {
        cmd()
            .args(args)
            .current_dir(dir.path())
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("unexpected argument '-o'"));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// `--output-dir` owns what it writes: a resource no longer rendered loses its file, while
/// files gloo-istio did not write stay: other names, and generated names without its header.
#[test]
fn output_dir_removes_its_stale_files_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let theirs = [
        ("README.md", "# rendered by CI\n"),
        ("kustomization.yaml", "resources: []\n"),
        (".gitkeep", ""),
        ("upstream-gloo-system-hand-written.yaml", "kind: Upstream\n"),
    ];
    for (name, text) in theirs {
        std::fs::write(out.join(name), text).unwrap();
    }
    render_into(&out, "values/upstreams.yaml", &[]).success();
    assert_eq!(listing(&out).len(), theirs.len() + 5);
    // Two Upstreams fewer.
    render_into(&out, "values/istio-integration.yaml", &[]).success();
    let after = listing(&out);
    let ours: Vec<&str> = after
        .iter()
        .filter(|(_, text)| text.starts_with(HEADER))
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        ours,
        [
            "configmap-gloo-system-gateway-proxy-envoy-config.yaml",
            "deployment-gloo-system-gateway-proxy.yaml",
            "upstream-gloo-system-bookinfo-productpage-9080.yaml",
        ]
    );
    for (name, text) in theirs {
        assert!(
            after.contains(&(name.to_string(), text.to_string())),
            "{name} changed or went"
        );
    }
    assert_eq!(after.len(), theirs.len() + 3, "{after:?}");
}

/// A symlink, FIFO or directory under the name of a generated file is refused (exit 2) before
/// anything is written; the directory itself may be a symlink, which stays one.
#[cfg(unix)]
#[test]
fn output_dir_refuses_a_symlink_under_a_generated_name() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let out = dir.path().join("out");
    std::os::unix::fs::symlink(&real, &out).unwrap();
    render_into(&out, "values/upstreams.yaml", &[]).success();
    assert!(out.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(listing(&real).len(), 5);

    let target = dir.path().join("elsewhere.yaml");
    std::fs::write(&target, format!("{HEADER}kind: Upstream\n")).unwrap();
    std::os::unix::fs::symlink(&target, real.join("upstream-gloo-system-planted.yaml")).unwrap();
    let before = listing(&real);
    render_into(&out, "values/istio-integration.yaml", &[])
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains("GI005")
                .and(predicate::str::contains("upstream-gloo-system-planted.yaml"))
                .and(predicate::str::contains("symbolic link")),
        );
    assert_eq!(listing(&real), before, "something changed although the render failed");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        format!("{HEADER}kind: Upstream\n")
    );
    assert!(
        std::fs::read_dir(&real).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".gloo-istio-")),
        "a staged file was left behind"
    );
}

/// A regular file where `--output-dir` should be: exit 2, the file untouched.
#[test]
fn output_dir_that_is_a_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    std::fs::write(&file, "keep\n").unwrap();
    render_into(&file, "values/upstreams.yaml", &[])
        .code(2)
        .stdout(predicate::str::is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep\n");
}

/// `--show-only KIND/NAME` prints the resources it names (kind in any case), in render order;
/// one that names nothing, or is not KIND/NAME, is a usage error (exit 2) with nothing printed.
#[test]
fn show_only_selects_by_kind_and_name() {
    let out = cmd()
        .args(["render", "-q", "-f", "values/upstreams.yaml"])
        .args([
            "--show-only",
            "upstream/reviews",
            "--show-only",
            "Deployment/gateway-proxy",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let docs = documents(&String::from_utf8(out).unwrap());
    let picked: Vec<(&str, &str)> = docs
        .iter()
        .map(|d| (d["kind"].as_str().unwrap(), d["metadata"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(picked, [("Deployment", "gateway-proxy"), ("Upstream", "reviews")]);

    for (selector, needle) in [
        ("Upstream/nope", "no rendered resource"),
        ("Service/gateway-proxy", "no rendered resource"),
        ("gateway-proxy", "write KIND/NAME"),
        ("Deployment/", "write KIND/NAME"),
        ("Deployment/gloo-system/gateway-proxy", "write KIND/NAME"),
    ] {
        cmd()
            .args(["render", "-q", "-f", "values/upstreams.yaml", "--show-only", selector])
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("GI061").and(predicate::str::contains(needle)));
    }
}

/// With `--output-dir`, `--show-only` writes the resources it names and removes nothing: the
/// other files are not stale, only not asked for.
#[test]
fn show_only_into_an_output_dir_removes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    render_into(&out, "values/upstreams.yaml", &[]).success();
    let before = listing(&out);
    std::fs::remove_file(out.join("upstream-gloo-system-reviews.yaml")).unwrap();
    render_into(
        &out,
        "values/istio-integration.yaml",
        &["--show-only", "Upstream/reviews"],
    )
    .code(2);
    render_into(&out, "values/upstreams.yaml", &["--show-only", "Upstream/reviews"]).success();
    assert_eq!(listing(&out), before);
}

/// Contradictory settings (GI017, GI018) are warnings: render prints and exits 0 by default;
/// `--fail-on warning` rejects them with exit 1 and prints or writes nothing.
#[test]
fn render_fail_on_warning_rejects_contradictory_settings() {
    let dir = tempfile::tempdir().unwrap();
    let values = write(
        dir.path(),
        "v.yaml",
        "global:\n  istioSDS: {enabled: true}\n  istioIntegration: {enabled: true, enableIstioSidecarOnGateway: true}\n",
    );
    cmd()
        .args(["render", "-q", "-f", &values])
        .assert()
        .success()
        .stdout(predicate::str::contains("kind: Deployment"))
        .stderr(predicate::str::contains("GI017").and(predicate::str::contains("GI018")));
    let out = dir.path().join("out");
    for extra in [&[][..], &["--output-dir", out.to_str().unwrap()]] {
        cmd()
            .args(["render", "-q", "-f", &values, "--fail-on", "warning"])
            .args(extra)
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("GI018").and(predicate::str::contains("--fail-on warning")));
    }
    assert!(!out.exists());
    // Clean values pass any threshold but info; info findings count for `--fail-on info`.
    cmd()
        .args([
            "render",
            "-q",
            "-f",
            "values/istio-integration.yaml",
            "--fail-on",
            "warning",
        ])
        .assert()
        .success();
    cmd().args(["render", "--fail-on", "nope"]).assert().code(2);
}

// ---------------------------------------------------------------------------------------------
// Value flags against real Helm
// ---------------------------------------------------------------------------------------------

/// Files for the value-flag cases, in a fresh directory: a chart whose only template prints
/// `.Values` as JSON (and no values.yaml, so `.Values` is exactly what the user gave), two
/// values files and a file for `--set-file`. No key reads as a YAML 1.1 boolean (`y`, `n`, ...).
fn value_flags_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: values\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(chart.join("templates/values.yaml"), "values: {{ toJson .Values }}\n").unwrap();
    write(
        dir.path(),
        "l.yaml",
        "l:\n- a: 1\n- b: 2\n- 3\nm:\n  x: 1\n  z:\n    w: 2\ns: str\nnul: null\n",
    );
    write(dir.path(), "l2.yaml", "m:\n  x: null\n  z: {q: 1}\nl: [9]\n");
    write(dir.path(), "f.txt", "file text, with a comma\nline 2\n");
    dir
}

/// What `helm template` hands the chart for `args`, or its error.
fn helm_values(helm: &Path, dir: &Path, args: &[&str]) -> Result<Value, String> {
    let home = dir.join("helm-home");
    let output = std::process::Command::new(helm)
        .args(["template", "v", "chart"])
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("KUBECONFIG", home.join("no-kubeconfig"))
        .output()
        .unwrap();
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let stdout = String::from_utf8(output.stdout).unwrap();
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("values: "))
        .unwrap_or_else(|| panic!("no values line in:\n{stdout}"));
    Ok(serde_json::from_str(line).unwrap())
}

/// What gloo-istio merges for `args` (the user values, before the chart defaults), or its error.
fn our_values(dir: &Path, args: &[&str]) -> Result<Value, String> {
    use gloo_istio::values::set_flags::SetFlags;
    let mut files = Vec::new();
    let mut flags = SetFlags::default();
    for pair in args.chunks(2) {
        let value = pair[1].to_string();
        match pair[0] {
            "-f" => files.push(dir.join(&value)),
            "--set" => flags.set.push(value),
            "--set-string" => flags.string.push(value),
            "--set-json" => flags.json.push(value),
            "--set-literal" => flags.literal.push(value),
            "--set-file" => flags.file.push(value),
            other => panic!("unknown flag {other}"),
        }
    }
    // `--set-file` names are relative to the working directory, as in Helm.
    flags.file = flags
        .file
        .iter()
        .map(|a| {
            a.split(',')
                .map(|piece| match piece.split_once('=') {
                    Some((key, file)) => format!("{key}={}", dir.join(file).display()),
                    None => piece.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    gloo_istio::pipeline::load_values(&files, &flags, "1.0.0-ci")
        .map(|loaded| loaded.user)
        .map_err(|failure| failure.to_string())
}

/// Flag sets whose merged values gloo-istio and Helm must agree on.
const VALUE_FLAG_CASES: &[&[&str]] = &[
    // Every kind, out of Helm's order on the command line: Helm applies --set-json, --set,
    // --set-string, --set-file, --set-literal, whatever the order typed.
    &[
        "-f",
        "l.yaml",
        "--set-string",
        "a=2",
        "--set",
        "a=1",
        "--set-literal",
        "lit=x,y\\,z",
        "--set-file",
        "f=f.txt",
        "--set",
        "l[1].c=x",
        "--set-json",
        r#"j={"k":[1,2]}"#,
    ],
    &[
        "--set-literal",
        "a=4",
        "--set-string",
        "a=2",
        "--set-json",
        "a=3",
        "--set",
        "a=1",
    ],
    &["-f", "l.yaml", "--set", "l[0].a=9", "--set-json", r#"l[0]={"z":1}"#],
    &["--set-string", "a=1", "--set", "a.b=2"],
    // Typing of --set and --set-string.
    &[
        "--set",
        "b=TRUE,nu=Null,c=007,d=+5,e=-0,g=0,h=1e3,big=9223372036854775808,k=,lst={1,TRUE},empty={},neg=-12,fl=1.5",
    ],
    &["--set-string", "a={1,2},b=true,c=7,d=null"],
    // Escapes, trailing comma.
    &["--set", "a\\.b=1,c=x\\,y,d=p\\=q,"],
    // --set-json values and whitespace.
    &[
        "-f",
        "l.yaml",
        "--set-json",
        "a= 1 , b={\"c\":[true,null]}",
        "--set-json",
        "m.z=null,s=\"x,y\"",
    ],
    // --set-literal: no escapes, the rest of the argument.
    &["--set-literal", "a\\.b=x,{y}", "--set-literal", "q[1]="],
    // Lists from files are changed in place; padding with nulls; nested lists.
    &["-f", "l.yaml", "--set", "l[5]=x,m.z.w=3,s=null"],
    &["--set", "l[0][1]=x,l[2].k=v"],
    &["-f", "l.yaml", "--set", "l[3][0]=x,l[2]=null"],
    // Files merge maps and replace lists; a null in a later file stays in the user values.
    &["-f", "l.yaml", "-f", "l2.yaml"],
    &["--set-file", "a=f.txt,b.c=f.txt"],
];

/// Flag sets that Helm refuses; gloo-istio must refuse them too.
const REFUSED_VALUE_FLAG_CASES: &[&[&str]] = &[
    &["-f", "l.yaml", "--set", "s.b=1"],
    &["-f", "l.yaml", "--set", "nul.b=1"],
    &["-f", "l.yaml", "--set", "m[0]=1"],
    &["-f", "l.yaml", "--set", "l[2][0]=1"],
    &["-f", "l.yaml", "--set", "l[1][0]=x"],
    &["--set", "a=1", "--set", "a.b=2"],
    &["--set", "a=1,,b=2"],
    &["--set", "a"],
    &["--set", "a.=1"],
    &["--set", "a[65537]=1"],
    &["--set", "a={x}y"],
    &["--set-json", "a=1x"],
    &["--set-json", "a=nul"],
    &["--set-json", "a=\"x\\,y\""],
    &["--set-literal", "a"],
    &["--set-file", "a=missing.txt"],
];

/// `--set`, `--set-string`, `--set-json`, `--set-file`, `--set-literal` and `-f` give the values
/// that Helm 3 and Helm 4 give the chart for the same flags, and fail where they fail.
#[test]
fn value_flags_merge_as_helm_3_and_4_merge_them() {
    let helms: Vec<std::path::PathBuf> = ["helm", "helm4"].into_iter().filter_map(common::peer).collect();
    if helms.is_empty() {
        return;
    }
    let dir = value_flags_workspace();
    for args in VALUE_FLAG_CASES {
        let ours = our_values(dir.path(), args).unwrap_or_else(|e| panic!("{args:?}: gloo-istio fails:\n{e}"));
        for helm in &helms {
            let theirs = helm_values(helm, dir.path(), args)
                .unwrap_or_else(|e| panic!("{args:?}: {} fails:\n{e}", helm.display()));
            assert_eq!(ours, theirs, "{args:?}: gloo-istio and {} differ", helm.display());
        }
    }
    for args in REFUSED_VALUE_FLAG_CASES {
        for helm in &helms {
            assert!(
                helm_values(helm, dir.path(), args).is_err(),
                "{args:?}: {} accepts it",
                helm.display()
            );
        }
        assert!(our_values(dir.path(), args).is_err(), "{args:?}: gloo-istio accepts it");
    }
    // Helm 4 (not 3) takes a whole JSON object; gloo-istio does as Helm 4 does.
    let args = &["-f", "l.yaml", "--set-json", r#"{"m":{"x":5},"t":[1]}"#];
    let ours = our_values(dir.path(), args).unwrap();
    if let Some(helm4) = helms.iter().find(|h| h.ends_with("helm4")) {
        assert_eq!(ours, helm_values(helm4, dir.path(), args).unwrap());
    }
}

/// Every command that takes values takes every value flag: render, lint, diff and post-render
/// read `--set-literal`, `--set-file`, `--set-json` and `--set-string` (here the mesh ID, which
/// must be a string: `--set` types `123` as a number, `--set-string` does not).
#[test]
fn every_values_command_takes_every_value_flag() {
    let dir = tempfile::tempdir().unwrap();
    let mesh_file = write(dir.path(), "mesh.txt", "mesh-from-file");
    let key = "gatewayProxies.gatewayProxy.istioMetaMeshId";
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--set-literal".into(), format!("{key}=a,b")], "a,b"),
        (
            vec!["--set-file".into(), format!("{key}={mesh_file}")],
            "mesh-from-file",
        ),
        (vec!["--set-json".into(), format!("{key}=\"from-json\"")], "from-json"),
        (vec!["--set-string".into(), format!("{key}=123")], "123"),
        (
            vec!["--values".into(), "values/istio-integration.yaml".into()],
            "cluster.local",
        ),
    ];
    let plain = cmd()
        .args(["render", "-q"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let snaps = dir.path().join("snaps");
    std::fs::create_dir(&snaps).unwrap();
    for (flags, mesh) in &cases {
        let want = format!("value: \"{mesh}\"");
        let base = ["-q", "-f", "values/istio-integration.yaml"];
        cmd()
            .arg("render")
            .args(base)
            .args(flags)
            .assert()
            .success()
            .stdout(predicate::str::contains(want.as_str()));
        cmd()
            .arg("post-render")
            .args(base)
            .args(flags)
            .write_stdin(plain.clone())
            .assert()
            .success()
            .stdout(predicate::str::contains(want.as_str()));
        cmd().arg("lint").args(base).args(flags).assert().success();
        cmd()
            .args(["diff", "--snapshots", snaps.to_str().unwrap()])
            .args(base)
            .args(flags)
            .assert()
            .code(3)
            .stdout(predicate::str::contains(want.as_str()));
    }
    // The same value with --set is a number: invalid for every command.
    let typed = [
        "-q",
        "-f",
        "values/istio-integration.yaml",
        "--set",
        &format!("{key}=123"),
    ];
    for command in ["render", "post-render"] {
        cmd()
            .arg(command)
            .args(typed)
            .write_stdin(plain.clone())
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("GI004"));
    }
    cmd()
        .arg("lint")
        .args(typed)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("GI004"));
}

/// `-f` and `--set-file` refuse URLs with a message that says so (exit 2), where Helm would
/// download them.
#[test]
fn values_urls_are_refused_with_a_clear_message() {
    for flags in [
        &["-f", "https://example.com/values.yaml"][..],
        &["--values", "http://127.0.0.1:1/values.yaml"],
        &["--set-file", "a=https://example.com/ca.pem"],
        &["-f", "oci://registry.example.com/values"],
    ] {
        cmd()
            .arg("render")
            .args(flags)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("not from URLs").and(predicate::str::contains("No such file").not()));
    }
    cmd()
        .args(["lint", "-f", "https://example.com/values.yaml"])
        .assert()
        .code(2);
}

/// Without `-n`, post-render works in the namespace of the gateway-proxy workloads of the stream
/// (Helm gives `--namespace` to the chart, not to the post-renderer); with a `-n` that differs it
/// warns (GI060) at the stream's namespace, and does as `-n` says.
#[test]
fn post_render_takes_the_namespace_from_the_stream() {
    let plain = cmd()
        .args(["render", "-q", "-n", "my-gloo"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let upstream_namespaces = |stream: &[u8]| -> Vec<String> {
        documents(std::str::from_utf8(stream).unwrap())
            .iter()
            .filter(|d| d["kind"] == "Upstream")
            .map(|d| d["metadata"]["namespace"].as_str().unwrap().to_string())
            .collect()
    };
    let assert = cmd()
        .args(["post-render", "-f", "values/upstreams.yaml"])
        .write_stdin(plain.clone())
        .assert()
        .success()
        .stderr(predicate::str::contains("GI060").not());
    assert_eq!(upstream_namespaces(&assert.get_output().stdout), ["my-gloo"; 3]);

    let assert = cmd()
        .args(["post-render", "-q", "-f", "values/upstreams.yaml", "-n", "gloo-system"])
        .write_stdin(plain.clone())
        .assert()
        .success()
        .stderr(
            predicate::str::contains("warning[GI060]")
                .and(predicate::str::contains("<stdin> (document 1):11:14"))
                .and(predicate::str::contains("`my-gloo`")),
        );
    assert_eq!(upstream_namespaces(&assert.get_output().stdout), ["gloo-system"; 3]);
    // The same -n as the stream: no warning.
    cmd()
        .args(["post-render", "-q", "-f", "values/upstreams.yaml", "-n", "my-gloo"])
        .write_stdin(plain)
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
    // Gateway proxies in two namespaces: the first one, with a warning at the other.
    let mut two = cmd()
        .args(["render", "-q", "-n", "aa"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    two.extend(
        cmd()
            .args(["render", "-q", "-n", "bb"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    );
    let assert = cmd()
        .args(["post-render", "-q", "-f", "values/upstreams.yaml"])
        .write_stdin(two)
        .assert()
        .success()
        .stderr(predicate::str::contains("warning[GI060]").and(predicate::str::contains("not in `bb`")));
    assert_eq!(upstream_namespaces(&assert.get_output().stdout), ["aa"; 3]);
    // Standard input holds the stream: values cannot come from it too.
    for flags in [&["-f", "-"][..], &["--set-file", "a=-"]] {
        cmd()
            .arg("post-render")
            .args(flags)
            .write_stdin("a: 1\n")
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("standard input"));
    }
    // No gateway proxy in the stream: gloo-system, as before.
    let assert = cmd()
        .args(["post-render", "-q", "-f", "values/upstreams.yaml"])
        .write_stdin("apiVersion: v1\nkind: Service\nmetadata: {name: x, namespace: other}\n")
        .assert()
        .success();
    assert_eq!(upstream_namespaces(&assert.get_output().stdout), ["gloo-system"; 3]);
}
