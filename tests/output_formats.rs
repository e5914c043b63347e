//! `lint`'s and `analyze`'s output formats (docs/output-formats.md), lint going on past files it
//! cannot read, and the release file (`.gloo-istio.yaml`) that lints layered values merged.

mod common;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn lint_in(dir: &Path, args: &[&str]) -> Output {
    common::run_bin(&[&["lint"], args].concat(), b"", Some(dir))
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn write(dir: &Path, name: &str, text: &[u8]) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A directory with values files of every kind of trouble, each at a known place.
fn troubled_files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // GI002 at 4:5 (the second `enabled`), first defined at 3:5.
    write(
        dir.path(),
        "dup.yaml",
        b"global:\n  istioIntegration:\n    enabled: true\n    enabled: false\n",
    );
    // GI003 at 2:3, and GI018 at 4:34 (two Istio agents in one pod).
    write(
        dir.path(),
        "both.yaml",
        b"global:\n  istioSds: {}\n  istioIntegration:\n    enabled: true\n    enableIstioSidecarOnGateway: true\n",
    );
    // Not UTF-8: GI001 at 1:1.
    write(dir.path(), "latin1.yaml", b"\xff\xfe: x\n");
    std::fs::create_dir(dir.path().join("a-directory")).unwrap();
    write(
        dir.path(),
        "good.yaml",
        b"global:\n  istioIntegration:\n    enabled: true\n",
    );
    dir
}

const TROUBLED: [&str; 6] = [
    "dup.yaml",
    "missing.yaml",
    "a-directory",
    "latin1.yaml",
    "both.yaml",
    "good.yaml",
];

fn json_findings(dir: &Path, files: &[&str]) -> (Output, Vec<Value>) {
    let output = lint_in(dir, &[&["--format", "json", "-q"], files].concat());
    let findings: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", common::output_text(&output)));
    (output, findings.as_array().expect("an array").clone())
}

#[test]
fn unreadable_files_are_reported_by_name_and_the_others_still_linted() {
    let dir = troubled_files();
    let (output, findings) = json_findings(dir.path(), &TROUBLED);
    assert_eq!(output.status.code(), Some(2), "{}", common::output_text(&output));
    let by_code = |code: &str| -> Vec<&Value> { findings.iter().filter(|f| f["code"] == code).collect() };
    let unreadable = by_code("GI005");
    let files: Vec<&str> = unreadable.iter().map(|f| f["file"].as_str().unwrap()).collect();
    assert_eq!(files, ["missing.yaml", "a-directory"], "{findings:#?}");
    for f in &unreadable {
        assert!(f["line"].is_null() && f["column"].is_null(), "{f}");
    }
    // The files after them were linted.
    let duplicate = by_code("GI002");
    assert_eq!(
        (
            &duplicate[0]["file"],
            &duplicate[0]["line"],
            &duplicate[0]["column"],
            &duplicate[0]["path"]
        ),
        (
            &Value::from("dup.yaml"),
            &Value::from(4),
            &Value::from(5),
            &Value::from("global.istioIntegration.enabled")
        )
    );
    assert_eq!(by_code("GI001")[0]["file"], "latin1.yaml");
    assert_eq!(by_code("GI003")[0]["path"], "global.istioSds");
    assert_eq!(
        by_code("GI018")[0]["path"],
        "global.istioIntegration.enableIstioSidecarOnGateway",
        "the schema error of both.yaml must not hide its rule finding"
    );
    assert!(
        !findings
            .iter()
            .any(|f| f["file"] == "good.yaml" && f["level"] == "error")
    );
}

#[cfg(unix)]
#[test]
fn a_file_without_read_permission_does_not_stop_the_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = troubled_files();
    let locked = dir.path().join("locked.yaml");
    std::fs::write(&locked, "global: {}\n").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let (output, findings) = if std::fs::read(&locked).is_ok() {
        // This user (root) reads a file of mode 000 anyway: run gloo-istio as `nobody`.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let output = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", common::BIN])
            .args(["lint", "--format", "json", "-q", "locked.yaml", "dup.yaml"])
            .current_dir(dir.path())
            .output()
            .expect("setpriv (util-linux) runs");
        let findings: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", common::output_text(&output)));
        let findings = findings.as_array().expect("an array").clone();
        (output, findings)
    } else {
        json_findings(dir.path(), &["locked.yaml", "dup.yaml"])
    };
    assert_eq!(output.status.code(), Some(2));
    assert!(
        findings
            .iter()
            .any(|f| f["code"] == "GI005" && f["file"] == "locked.yaml")
    );
    assert!(findings.iter().any(|f| f["code"] == "GI002"));
}

#[test]
fn short_format_is_one_line_per_finding() {
    let dir = troubled_files();
    let (_, findings) = json_findings(dir.path(), &TROUBLED);
    let output = lint_in(dir.path(), &[&["--format", "short", "-q"], &TROUBLED[..]].concat());
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), findings.len(), "one line per finding, no summary:\n{text}");
    for (line, finding) in lines.iter().zip(&findings) {
        // `file:line:col: level[code]: message`, or `file: level[code]: …` without a place.
        let place = match (&finding["line"], &finding["column"]) {
            (Value::Number(l), Value::Number(c)) => format!("{}:{l}:{c}", finding["file"].as_str().unwrap()),
            _ => finding["file"].as_str().unwrap().to_string(),
        };
        let head = format!(
            "{place}: {}[{}]: {}",
            finding["level"].as_str().unwrap(),
            finding["code"].as_str().unwrap(),
            finding["message"].as_str().unwrap()
        );
        assert!(line.starts_with(&head), "{line:?} does not start with {head:?}");
    }
    // The form GCC and problem matchers read.
    assert!(lines.contains(&"dup.yaml:4:5: error[GI002]: duplicate key `enabled` on line 4: it is already defined on line 3 (at global.istioIntegration.enabled)"), "{text}");
}

/// The JSON fields that docs/output-formats.md documents: the first column of its finding table.
fn documented_fields() -> Vec<String> {
    let doc = std::fs::read_to_string(common::manifest_dir().join("docs/output-formats.md")).unwrap();
    let section = doc
        .split("## JSON")
        .nth(1)
        .expect("docs/output-formats.md has a JSON section");
    section
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_json_field_is_documented() {
    let dir = troubled_files();
    let (_, findings) = json_findings(dir.path(), &TROUBLED);
    let documented = documented_fields();
    let mut seen: Vec<String> = findings
        .iter()
        .flat_map(|f| f.as_object().unwrap().keys().cloned())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 8, "{seen:?}");
    let mut listed = documented.clone();
    listed.sort();
    assert_eq!(
        seen, listed,
        "the JSON fields and the table of docs/output-formats.md differ"
    );
}

/// The sections of docs/diagnostics.md, read here on their own: code → title.
fn documented_codes() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(common::manifest_dir().join("docs/diagnostics.md")).unwrap();
    doc.lines()
        .filter_map(|l| l.strip_prefix("## GI"))
        .map(|l| {
            let (number, title) = l.split_once(' ').unwrap();
            (format!("GI{number}"), title.to_string())
        })
        .collect()
}

/// SARIF 2.1.0's required structure (§3.13 sarifLog, §3.14 run, §3.18 tool, §3.19
/// toolComponent, §3.27 result, §3.28 location, §3.29 physicalLocation, §3.30 region) and what
/// GitHub code scanning reads: rule ids, levels, relative URIs and 1-based regions.
fn assert_sarif_structure(log: &Value, json: &[Value]) {
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif"));
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "gloo-istio");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = driver["rules"].as_array().expect("rules");
    // Rule metadata from docs/diagnostics.md: one rule per section, with its title.
    let codes = documented_codes();
    assert_eq!(rules.len(), codes.len());
    for (rule, (code, title)) in rules.iter().zip(&codes) {
        assert_eq!(&rule["id"], code);
        assert!(
            rule["shortDescription"]["text"]
                .as_str()
                .unwrap()
                .contains(title.as_str()),
            "{rule}"
        );
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
    }
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), json.len());
    for (result, finding) in results.iter().zip(json) {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(result["ruleId"], finding["code"]);
        assert_eq!(rules[index]["id"], finding["code"]);
        let level = match finding["level"].as_str().unwrap() {
            "info" => "note",
            other => other,
        };
        assert_eq!(result["level"], level);
        assert!(
            result["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with(finding["message"].as_str().unwrap())
        );
        let locations = result["locations"].as_array().unwrap();
        match finding["file"].as_str() {
            Some(file) if !file.starts_with('<') => {
                let physical = &locations[0]["physicalLocation"];
                assert_eq!(physical["artifactLocation"]["uri"], file);
                match finding["line"].as_u64() {
                    Some(line) => {
                        let region = &physical["region"];
                        assert_eq!(region["startLine"].as_u64(), Some(line));
                        assert_eq!(region["startColumn"], finding["column"]);
                        assert!(region["endLine"].as_u64().unwrap() >= line);
                        assert!(region["endColumn"].as_u64().unwrap() >= 1);
                    }
                    None => assert!(physical.get("region").is_none()),
                }
            }
            _ => assert!(locations.is_empty(), "{result}"),
        }
    }
}

/// Validates `log` with check-jsonschema against the SARIF 2.1.0 schema of tests/data.
fn check_against_sarif_schema(log: &str) {
    let Some(check) = common::peer("check-jsonschema") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let instance = dir.path().join("lint.sarif.json");
    std::fs::write(&instance, log).unwrap();
    let schema = common::manifest_dir().join("tests/data/sarif-schema-2.1.0.json");
    let output = common::run(
        std::process::Command::new(check)
            .arg("--schemafile")
            .arg(&schema)
            .arg(&instance),
    );
    assert!(
        output.status.success(),
        "check-jsonschema rejects the SARIF log:\n{}",
        common::output_text(&output)
    );
    // The control: a log without its required `version` is rejected.
    let mut broken: Value = serde_json::from_str(log).unwrap();
    broken.as_object_mut().unwrap().remove("version");
    std::fs::write(&instance, broken.to_string()).unwrap();
    let control = common::run(
        std::process::Command::new(common::peer("check-jsonschema").unwrap())
            .arg("--schemafile")
            .arg(&schema)
            .arg(&instance),
    );
    assert!(!control.status.success(), "control: a log without `version` passed");
}

#[test]
fn sarif_log_is_sarif_2_1_0_with_the_documented_rules() {
    let dir = troubled_files();
    let (_, findings) = json_findings(dir.path(), &TROUBLED);
    let output = lint_in(dir.path(), &[&["--format", "sarif", "-q"], &TROUBLED[..]].concat());
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    let log: Value = serde_json::from_str(&text).expect("SARIF is JSON");
    assert_sarif_structure(&log, &findings);
    // The duplicate key's first place is a related location.
    let gi002 = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "GI002")
        .unwrap();
    assert_eq!(
        gi002["relatedLocations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    check_against_sarif_schema(&text);
    // A clean run is a log with no results.
    let clean = lint_in(dir.path(), &["--format", "sarif", "-q", "good.yaml"]);
    assert_eq!(clean.status.code(), Some(0));
    let log: Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(log["runs"][0]["results"], Value::Array(Vec::new()));
    check_against_sarif_schema(&stdout(&clean));
}

#[test]
fn analyze_speaks_short_and_sarif_too() {
    let dir = tempfile::tempdir().unwrap();
    // An Upstream with Istio's sslConfig to pods whose peer authentication is DISABLE (GI032).
    write(
        dir.path(),
        "mesh.yaml",
        b"apiVersion: gloo.solo.io/v1\nkind: Upstream\nmetadata: {name: reviews, namespace: gloo-system}\n\
spec:\n  kube: {serviceName: reviews, serviceNamespace: bookinfo, servicePort: 9080}\n  sslConfig:\n    sds:\n      targetUri: 127.0.0.1:8234\n      clusterName: gateway_proxy_sds\n      certificatesSecretName: istio_server_cert\n      validationContextName: istio_validation_context\n\
---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: plain, namespace: bookinfo}\nspec:\n  mtls: {mode: DISABLE}\n",
    );
    let json = common::run_bin(&["analyze", "--format", "json", "mesh.yaml"], b"", Some(dir.path()));
    let report: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let findings = report["findings"].as_array().expect("findings").clone();
    assert!(!findings.is_empty(), "{report}");
    let short = common::run_bin(&["analyze", "--format", "short", "mesh.yaml"], b"", Some(dir.path()));
    assert_eq!(short.status.code(), json.status.code());
    assert_eq!(stdout(&short).lines().count(), findings.len(), "{}", stdout(&short));
    let sarif = common::run_bin(&["analyze", "--format", "sarif", "mesh.yaml"], b"", Some(dir.path()));
    assert_eq!(sarif.status.code(), json.status.code());
    let log: Value = serde_json::from_slice(&sarif.stdout).expect("SARIF is JSON");
    assert_sarif_structure(&log, &findings);
    check_against_sarif_schema(&stdout(&sarif));
}

/// A release in two layers: the base turns the integration on, the overlay adds an Upstream
/// with the sds sslConfig, which needs the integration (GI025 on the overlay alone).
fn layered_release() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "values.yaml",
        b"global:\n  istioIntegration:\n    enabled: true\n",
    );
    write(
        dir.path(),
        "values-prod.yaml",
        b"upstreams:\n- {service: reviews, namespace: bookinfo, port: 9080, mtls: istio-sds}\n",
    );
    dir
}

const RELEASES: &[u8] = b"releases:\n  - name: prod\n    files: [values.yaml, values-prod.yaml]\n";

#[test]
fn an_overlay_of_a_declared_release_is_linted_merged() {
    let dir = layered_release();
    // The control: alone, the overlay fails.
    let alone = lint_in(dir.path(), &["--format", "short", "values-prod.yaml"]);
    assert_eq!(alone.status.code(), Some(1), "{}", common::output_text(&alone));
    assert!(stdout(&alone).contains("error[GI025]"), "{}", stdout(&alone));
    // Declared with its base, it is checked merged, and passes.
    write(dir.path(), ".gloo-istio.yaml", RELEASES);
    let merged = lint_in(dir.path(), &["--format", "short", "-q", "values-prod.yaml"]);
    assert_eq!(merged.status.code(), Some(0), "{}", common::output_text(&merged));
    // Each file alone is still held to the schema: a misspelt key in the overlay is reported
    // once, although the overlay is checked alone and in the release.
    write(
        dir.path(),
        "values-prod.yaml",
        b"upstreams:\n- {service: reviews, namespace: bookinfo, port: 9080, mtls: istio-sds}\nglobal: {istioSds: {}}\n",
    );
    let typo = lint_in(dir.path(), &["--format", "short", "-q", "values-prod.yaml"]);
    assert_eq!(typo.status.code(), Some(1));
    let text = stdout(&typo);
    assert_eq!(text.matches("error[GI003]").count(), 1, "{text}");
    assert!(text.contains("values-prod.yaml:3:10: error[GI003]"), "{text}");
    // A rule the merged set breaks is reported at its file: the base turns the integration off.
    write(
        dir.path(),
        "values-prod.yaml",
        b"upstreams:\n- {service: reviews, namespace: bookinfo, port: 9080, mtls: istio-sds}\n",
    );
    write(
        dir.path(),
        "values.yaml",
        b"global:\n  istioIntegration:\n    enabled: false\n",
    );
    let broken = lint_in(dir.path(), &["--format", "short", "-q", "values.yaml"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stdout(&broken).contains("values-prod.yaml:2:61: error[GI025]"),
        "{}",
        stdout(&broken)
    );
    // The release file as a FILE (pre-commit passes it when it changes), or no FILE at all:
    // every release.
    for args in [
        &["--format", "short", "-q", ".gloo-istio.yaml"][..],
        &["--format", "short", "-q"],
    ] {
        let every = lint_in(dir.path(), args);
        assert_eq!(every.status.code(), Some(1), "{args:?}");
        assert!(stdout(&every).contains("error[GI025]"), "{args:?}");
    }
    // --config names another file, relative to which the release's files are found.
    write(
        dir.path(),
        "deploy/releases.yaml",
        b"releases:\n  - {name: prod, files: [../values.yaml, ../values-prod.yaml]}\n",
    );
    std::fs::remove_file(dir.path().join(".gloo-istio.yaml")).unwrap();
    let explicit = lint_in(
        dir.path(),
        &[
            "--config",
            "deploy/releases.yaml",
            "--format",
            "short",
            "-q",
            "values-prod.yaml",
        ],
    );
    assert_eq!(explicit.status.code(), Some(1));
    assert_eq!(
        stdout(&explicit).matches("error[GI025]").count(),
        1,
        "{}",
        stdout(&explicit)
    );
}

#[test]
fn a_broken_release_file_is_reported_where_it_is_wrong() {
    let dir = layered_release();
    write(
        dir.path(),
        ".gloo-istio.yaml",
        b"releases:\n  - name: prod\n    file: [values.yaml]\nrelease: {}\n",
    );
    let output = lint_in(dir.path(), &["--format", "short", "values.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", common::output_text(&output));
    let text = stdout(&output);
    for expected in [
        ".gloo-istio.yaml:4:1: error[GI044]: unknown key `release` in the release file",
        ".gloo-istio.yaml:3:5: error[GI044]: unknown key `file` in `releases[0]`",
        ".gloo-istio.yaml:2:5: error[GI044]: `releases[0]` needs `files`",
    ] {
        assert!(text.contains(expected), "`{expected}` missing:\n{text}");
    }
    // A missing file named by a release is an unreadable file of that release.
    write(
        dir.path(),
        ".gloo-istio.yaml",
        b"releases:\n  - {name: prod, files: [values.yaml, values-eu.yaml]}\n",
    );
    let output = lint_in(dir.path(), &["--format", "short", "values.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stdout(&output).contains("values-eu.yaml: error[GI005]"),
        "{}",
        stdout(&output)
    );
}
