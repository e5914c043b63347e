//! The published JSON Schema of the values (`gloo-istio schema`, committed as
//! `docs/values.schema.json`) used by the real tools that consume it (peers, see
//! `tests/common/mod.rs`):
//!
//! * Helm 3 and Helm 4, as a chart's `values.schema.json`. Helm validates the chart's
//!   `values.yaml` merged with the `-f` files, so two charts: the small `tests/data/schema-chart`
//!   (`helm lint` and `helm template`), and the real Gloo chart's `Chart.yaml` and `values.yaml`
//!   (`<reference>/generated-chart`; `helm lint` and `helm template`), i.e. the schema dropped
//!   into the Gloo chart. Both accept their own values, every example and reference case, and
//!   reject every file of `tests/data/bad-values` with a schema error at the expected place
//!   (`helm lint` on the test chart, `helm template` on both).
//! * `check-jsonschema --schemafile docs/values.schema.json` accepts every example, every
//!   reference case, the test chart's `values.yaml` and the Gloo chart's own `values.yaml`, and
//!   rejects every bad file, each on its own, at the expected path: the same verdicts as Helm and
//!   `gloo-istio lint`.
//!
//! The bad files hold mistakes in the sections gloo-istio renders and in those it only checks
//! against the chart's key table (typos, quoted booleans, negative unsigned integers). Every bad
//! file is also rejected by `gloo-istio lint` itself, so each tool's rejection is the schema doing
//! its job, not a broken input.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// What each file of `tests/data/bad-values` must be rejected for: the JSON path
/// check-jsonschema reports and a piece of its message, and a piece of Helm's message (the same
/// for Helm 3 and Helm 4, which share a validator).
struct BadFile {
    file: &'static str,
    json_path: &'static str,
    check_jsonschema: &'static str,
    helm: &'static str,
}

const BAD_FILES: [BadFile; 16] = [
    BadFile {
        file: "bool-as-string.yaml",
        json_path: "$.global.istioIntegration.enabled",
        check_jsonschema: "'yes' is not of type 'boolean'",
        helm: "at '/global/istioIntegration/enabled': got string, want null or boolean",
    },
    BadFile {
        file: "chart-bool-as-string.yaml",
        json_path: "$.discovery.enabled",
        check_jsonschema: "'false' is not of type 'boolean', 'null'",
        helm: "at '/discovery/enabled': got string, want null or boolean",
    },
    BadFile {
        file: "chart-key-typo.yaml",
        json_path: "$.gloo",
        check_jsonschema: "Additional properties are not allowed ('deploymnet' was unexpected)",
        helm: "at '/gloo': additional properties 'deploymnet' not allowed",
    },
    BadFile {
        file: "misspelt-owned-key.yaml",
        json_path: "$.global",
        check_jsonschema: "Additional properties are not allowed ('istioSds' was unexpected)",
        helm: "at '/global': additional properties 'istioSds' not allowed",
    },
    BadFile {
        file: "negative-uint32.yaml",
        json_path: "$.settings.regexMaxProgramSize",
        check_jsonschema: "-1 is less than the minimum of 0",
        helm: "at '/settings/regexMaxProgramSize': minimum: got -1, want 0",
    },
    BadFile {
        file: "out-of-range-port.yaml",
        json_path: "$.upstreams[0].port",
        check_jsonschema: "70000 is greater than the maximum of 65535",
        helm: "at '/upstreams/0/port': maximum: got 70,000, want 65,535",
    },
    BadFile {
        file: "port-as-string.yaml",
        json_path: "$.upstreams[0].port",
        check_jsonschema: "'9080' is not of type 'integer'",
        helm: "at '/upstreams/0/port': got string, want integer",
    },
    BadFile {
        file: "proxy-service-typo.yaml",
        json_path: "$.gatewayProxies.gatewayProxy.service",
        check_jsonschema: "Additional properties are not allowed ('tpye' was unexpected)",
        helm: "at '/gatewayProxies/gatewayProxy/service': additional properties 'tpye' not allowed",
    },
    BadFile {
        file: "settings-typo.yaml",
        json_path: "$.settings",
        check_jsonschema: "Additional properties are not allowed ('watchNamespacez' was unexpected)",
        helm: "at '/settings': additional properties 'watchNamespacez' not allowed",
    },
    BadFile {
        file: "unknown-container-field.yaml",
        json_path: "$.global.istioSDS.customSidecars[0]",
        check_jsonschema: "Additional properties are not allowed ('resource' was unexpected)",
        helm: "at '/global/istioSDS/customSidecars/0': additional properties 'resource' not allowed",
    },
    BadFile {
        file: "unknown-mtls-mode.yaml",
        json_path: "$.upstreams[0].mtls",
        check_jsonschema: "'strict' is not valid under any of the given schemas",
        helm: "at '/upstreams/0/mtls': 'oneOf' failed, none matched",
    },
    BadFile {
        file: "optional-object-field-type.yaml",
        json_path: "$.gatewayProxies.gatewayProxy.podTemplate.httpPort",
        check_jsonschema: "'8080' is not of type 'integer', 'null'",
        helm: "at '/gatewayProxies/gatewayProxy/podTemplate/httpPort': got string, want null or integer",
    },
    BadFile {
        file: "optional-object-type.yaml",
        json_path: "$.gatewayProxies.gatewayProxy.podTemplate",
        check_jsonschema: "8080 is not of type 'object', 'null'",
        helm: "at '/gatewayProxies/gatewayProxy/podTemplate': got number, want null or object",
    },
    BadFile {
        file: "optional-enum-value.yaml",
        json_path: "$.global.image.pullPolicy",
        check_jsonschema: "'Sometimes' is not one of ['Always', 'IfNotPresent', 'Never']",
        helm: "at '/global/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'",
    },
    BadFile {
        file: "kubernetes-object-type.yaml",
        json_path: "$.global.glooMtls.sdsResources.limits",
        check_jsonschema: "'500m' is not of type 'object', 'null'",
        helm: "at '/global/glooMtls/sdsResources/limits': got string, want null or object",
    },
    BadFile {
        file: "wrong-workload-type.yaml",
        json_path: "$.gatewayProxies.gatewayProxy.kind.workloadType",
        check_jsonschema: "'Daemonset' is not one of ['Deployment', 'DaemonSet']",
        helm: "at '/gatewayProxies/gatewayProxy/kind/workloadType': value must be one of 'Deployment', \
               'DaemonSet'",
    },
];

/// Whether a validator's message blames the value for not being `null` (what a schema that
/// writes "may be null" as `anyOf: [X, null]` makes Helm and check-jsonschema say), or wraps
/// the real error in a failed `anyOf`/`allOf`. Every message must be about the key's own type.
fn speaks_of_null_only(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_end();
        line.ends_with("want null")
            || line.contains("is not of type 'null'")
            || line.contains("'anyOf' failed")
            || line.contains("'allOf' failed")
    })
}

/// What Helm 3.19 and 4.3 print before the errors of a values schema.
const HELM_SCHEMA_ERROR: &str = "values don't meet the specifications of the schema(s)";

fn data_dir() -> PathBuf {
    common::manifest_dir().join("tests/data")
}

/// The bad files with their expectations; panics when a file has no expectation or the other
/// way round.
fn bad_files() -> Vec<(PathBuf, &'static BadFile)> {
    let dir = data_dir().join("bad-values");
    let on_disk: BTreeSet<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let expected: BTreeSet<String> = BAD_FILES.iter().map(|bad| bad.file.to_string()).collect();
    assert_eq!(
        on_disk, expected,
        "tests/data/bad-values and BAD_FILES in tests/schema_tools.rs must list the same files"
    );
    BAD_FILES.iter().map(|bad| (dir.join(bad.file), bad)).collect()
}

fn name(path: &Path) -> String {
    path.file_name()
        .and_then(OsStr::to_str)
        .expect("UTF-8 file name")
        .to_string()
}

/// The schema as `gloo-istio schema` prints it.
fn schema_text() -> String {
    let output = common::run(Command::new(env!("CARGO_BIN_EXE_gloo-istio")).arg("schema"));
    assert!(
        output.status.success(),
        "gloo-istio schema failed:\n{}",
        common::output_text(&output)
    );
    String::from_utf8(output.stdout).expect("UTF-8 schema")
}

/// Copies `files` of the chart in `source` into `dir/chart` and adds `values.schema.json` from
/// `gloo-istio schema`. Helm keeps its own files in `dir/home`.
fn chart_with_schema(dir: &Path, source: &Path, files: &[&str]) -> PathBuf {
    let chart = dir.join("chart");
    for relative in files {
        let dest = chart.join(relative);
        fs::create_dir_all(dest.parent().expect("a parent")).expect("create the chart's directories");
        fs::copy(source.join(relative), &dest).unwrap_or_else(|e| panic!("copy {relative}: {e}"));
    }
    fs::write(chart.join("values.schema.json"), schema_text()).expect("write values.schema.json");
    chart
}

/// The test chart `tests/data/schema-chart` with the schema.
fn test_chart(dir: &Path) -> PathBuf {
    let source = data_dir().join("schema-chart");
    chart_with_schema(dir, &source, &["Chart.yaml", "values.yaml", "templates/configmap.yaml"])
}

/// The real Gloo chart's `Chart.yaml` and `values.yaml` (`<reference>/generated-chart`, the
/// chart the reference cases were rendered with; its templates are not there) with the schema:
/// the schema dropped into the Gloo chart. `None` when the reference directory is absent (and
/// not required).
fn gloo_chart(dir: &Path) -> Option<PathBuf> {
    let source = common::reference_dir()?.join("generated-chart");
    Some(chart_with_schema(
        &dir.join("gloo"),
        &source,
        &["Chart.yaml", "values.yaml"],
    ))
}

/// A Helm command with its cache, configuration and data kept beside the chart.
fn helm(binary: &Path, chart: &Path) -> Command {
    let home = chart.with_file_name("home");
    let mut cmd = Command::new(binary);
    cmd.env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1");
    cmd
}

/// One finished Helm run, described for messages.
struct HelmRun {
    command: String,
    output: Output,
}

/// `helm template r CHART [-f VALUES]`, and before it `helm lint CHART [-f VALUES]` if `lint`.
fn helm_runs(binary: &Path, chart: &Path, values: Option<&Path>, lint: bool) -> Vec<HelmRun> {
    let mut commands: Vec<Vec<&OsStr>> = Vec::new();
    if lint {
        commands.push(vec![OsStr::new("lint"), chart.as_os_str()]);
    }
    commands.push(vec![OsStr::new("template"), OsStr::new("r"), chart.as_os_str()]);
    commands
        .into_iter()
        .map(|mut args| {
            if let Some(values) = values {
                args.extend([OsStr::new("-f"), values.as_os_str()]);
            }
            let output = common::run(helm(binary, chart).args(&args));
            let args: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
            HelmRun {
                command: format!("{} {}", name(binary), args.join(" ")),
                output,
            }
        })
        .collect()
}

/// On the test chart: its defaults and every example pass `lint` and `template`, every
/// reference case passes `template`, and the rendered ConfigMap is there. On the Gloo chart: its
/// own values pass `lint` and `template`, and (merged with them) every example and reference case
/// passes `template`.
fn helm_accepts_good_values(binary: &Path) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let chart = test_chart(dir.path());
    let mut runs = helm_runs(binary, &chart, None, true);
    for example in common::example_values() {
        runs.extend(helm_runs(binary, &chart, Some(&example), true));
    }
    for (_, case) in common::reference_cases() {
        runs.extend(helm_runs(binary, &chart, Some(&case), false));
    }
    let mut failures = Vec::new();
    for run in &runs {
        let stdout = String::from_utf8_lossy(&run.output.stdout);
        let rendered = !run.command.contains(" template ") || stdout.contains("r-gloo-istio-values");
        if !run.output.status.success() || !rendered {
            failures.push(format!("`{}`:\n{}", run.command, common::output_text(&run.output)));
        }
    }
    if let Some(gloo) = gloo_chart(dir.path()) {
        // The chart's own values alone, through `lint` and `template`.
        for run in helm_runs(binary, &gloo, None, true) {
            if !run.output.status.success() {
                failures.push(format!("`{}`:\n{}", run.command, common::output_text(&run.output)));
            }
            runs.push(run);
        }
        let inputs = common::all_values_inputs();
        for (_, values) in &inputs {
            for run in helm_runs(binary, &gloo, Some(values), false) {
                if !run.output.status.success() {
                    failures.push(format!("`{}`:\n{}", run.command, common::output_text(&run.output)));
                }
                runs.push(run);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} helm runs failed on valid values:\n\n{}",
        failures.len(),
        runs.len(),
        failures.join("\n")
    );
}

/// Every bad file fails `lint` and `template` on the test chart, and `template` on the Gloo
/// chart, with a schema error at the expected place.
fn helm_rejects_bad_values(binary: &Path) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let chart = test_chart(dir.path());
    let gloo = gloo_chart(dir.path());
    let mut failures = Vec::new();
    let mut count = 0;
    for (path, bad) in bad_files() {
        let mut runs = helm_runs(binary, &chart, Some(&path), true);
        if let Some(gloo) = &gloo {
            runs.extend(helm_runs(binary, gloo, Some(&path), false));
        }
        for run in runs {
            count += 1;
            let text = common::output_text(&run.output);
            if run.output.status.success()
                || !text.contains(HELM_SCHEMA_ERROR)
                || !text.contains(bad.helm)
                || speaks_of_null_only(&text)
            {
                failures.push(format!(
                    "`{}` must fail with `{HELM_SCHEMA_ERROR}` and `{}` (exit {:?}):\n{text}",
                    run.command,
                    bad.helm,
                    run.output.status.code()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} helm runs did not reject a bad values file as expected:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn helm3_schema_accepts_the_examples_and_reference_cases() {
    let Some(helm) = common::peer("helm") else {
        return;
    };
    helm_accepts_good_values(&helm);
}

#[test]
fn helm3_schema_rejects_each_bad_values_file() {
    let Some(helm) = common::peer("helm") else {
        return;
    };
    helm_rejects_bad_values(&helm);
}

#[test]
fn helm4_schema_accepts_the_examples_and_reference_cases() {
    let Some(helm) = common::peer("helm4") else {
        return;
    };
    helm_accepts_good_values(&helm);
}

#[test]
fn helm4_schema_rejects_each_bad_values_file() {
    let Some(helm) = common::peer("helm4") else {
        return;
    };
    helm_rejects_bad_values(&helm);
}

#[test]
fn check_jsonschema_accepts_the_examples_reference_cases_and_test_chart() {
    let Some(binary) = common::peer("check-jsonschema") else {
        return;
    };
    let mut files: Vec<PathBuf> = common::all_values_inputs().into_iter().map(|(_, path)| path).collect();
    files.push(data_dir().join("schema-chart/values.yaml"));
    if let Some(reference) = common::reference_dir() {
        files.push(reference.join("generated-chart/values.yaml"));
    }
    let (output, report) =
        common::check_jsonschema(&binary, &common::manifest_dir().join("docs/values.schema.json"), &files);
    assert!(
        output.status.success() && report["status"] == "ok",
        "check-jsonschema rejected valid values files ({} checked):\n{}",
        files.len(),
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
}

#[test]
fn check_jsonschema_rejects_each_bad_values_file() {
    let Some(binary) = common::peer("check-jsonschema") else {
        return;
    };
    let bad = bad_files();
    let files: Vec<PathBuf> = bad.iter().map(|(path, _)| path.clone()).collect();
    // One run for all files (each start costs about a second); the report names the file of
    // every error, so each file is checked on its own below.
    let (output, report) =
        common::check_jsonschema(&binary, &common::manifest_dir().join("docs/values.schema.json"), &files);
    assert_eq!(
        output.status.code(),
        Some(1),
        "check-jsonschema must exit 1 on bad values:\n{}",
        common::output_text(&output)
    );
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    let parse_errors = report["parse_errors"].as_array().cloned().unwrap_or_default();
    assert!(
        parse_errors.is_empty(),
        "the bad files must be valid YAML: {parse_errors:#?}"
    );
    let mut failures = Vec::new();
    for (path, bad) in &bad {
        let shown = path.to_string_lossy();
        let of_file: Vec<&Value> = errors.iter().filter(|error| error["filename"] == *shown).collect();
        // An error, or the deepest of its sub-errors (for `anyOf`/`oneOf`), at the expected
        // path with the expected message.
        let found = of_file.iter().any(|error| {
            [error, &error["best_deep_match"]].iter().any(|e| {
                e["path"] == bad.json_path && e["message"].as_str().is_some_and(|m| m.contains(bad.check_jsonschema))
            })
        });
        let report = serde_json::to_string_pretty(&of_file).unwrap_or_default();
        if !found || speaks_of_null_only(&report) {
            failures.push(format!(
                "{}: expected `{}` at {}; got {}",
                bad.file, bad.check_jsonschema, bad.json_path, report
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "check-jsonschema did not reject these files as expected:\n{}",
        failures.join("\n")
    );
}

#[test]
fn gloo_istio_lint_rejects_each_bad_values_file_too() {
    let mut failures = Vec::new();
    for (path, bad) in bad_files() {
        let output = common::run(
            Command::new(env!("CARGO_BIN_EXE_gloo-istio"))
                .args(["lint", "--format", "json"])
                .arg(&path),
        );
        let findings: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        // Located at the key the other tools name (or, for an unknown key, under it).
        let want = bad.json_path.trim_start_matches("$.");
        let located = findings.as_array().is_some_and(|all| {
            all.iter().any(|f| {
                f["path"].as_str().is_some_and(|p| p.starts_with(want)) && f["line"].is_u64() && f["column"].is_u64()
            })
        });
        if output.status.code() != Some(1) || !located {
            failures.push(format!(
                "{}: exit {:?}\n{}",
                bad.file,
                output.status.code(),
                common::output_text(&output)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "gloo-istio lint must reject every bad values file:\n{}",
        failures.join("\n")
    );
}

/// The published schema, parsed.
fn published_schema() -> Value {
    serde_json::from_str(&schema_text()).expect("the schema is JSON")
}

/// The chart's defaults, read with the independent YAML parser.
fn chart_defaults() -> Value {
    use saphyr::LoadableYamlNode;
    let text =
        fs::read_to_string(common::manifest_dir().join("src/values/chart-defaults.yaml")).expect("chart defaults");
    let docs = saphyr::Yaml::load_from_str(&text).expect("chart defaults parse");
    common::saphyr_to_json(&docs[0])
}

/// The schema of the key at `path` (object keys; an entry of a user-named map through
/// `additionalProperties`), or `None` where the schema does not describe the key itself (a
/// Kubernetes type).
fn schema_at<'a>(schema: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut at = schema;
    for key in path {
        let next = at.get("properties").and_then(|p| p.get(key));
        at = match next {
            Some(next) => next,
            None => at.get("additionalProperties").filter(|a| a.is_object())?,
        };
        // A gateway proxy's keys may hold the `gloo.omitOverwrite` marker instead.
        if let Some(otherwise) = at.get("else") {
            at = otherwise;
        }
    }
    Some(at)
}

/// Every value the chart's `values.yaml` sets (but the Gloo image tags' placeholder, which
/// `--gloo-version` replaces) is the `default` of its key in the published schema, so that
/// editors complete and show it. Where the schema does not describe the key (inside a
/// Kubernetes type), the nearest key it describes has the chart's value as a whole.
#[test]
fn published_schema_carries_the_charts_defaults() {
    let schema = published_schema();
    let defaults = chart_defaults();
    let mut leaves = Vec::new();
    fn walk(value: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, child) in map {
                    path.push(key.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            // Nothing to complete: an empty mapping, or null.
            Value::Object(_) | Value::Null => {}
            _ => out.push((path.clone(), value.clone())),
        }
    }
    walk(&defaults, &mut Vec::new(), &mut leaves);
    let mut checked = 0;
    let mut failures = Vec::new();
    for (path, value) in &leaves {
        let last = path.last().map(String::as_str);
        if matches!(last, Some("tag" | "ossImageTag")) && value == "1.0.0-ci" {
            continue;
        }
        // The deepest key the schema describes, and the chart's value there.
        let mut depth = path.len();
        while depth > 1 && schema_at(&schema, &path[..depth]).is_none() {
            depth -= 1;
        }
        let Some(at) = schema_at(&schema, &path[..depth]) else {
            failures.push(format!("{}: no schema", path.join(".")));
            continue;
        };
        let mut expected = &defaults;
        for key in &path[..depth] {
            expected = &expected[key.as_str()];
        }
        checked += 1;
        if at.get("default") != Some(expected) {
            failures.push(format!(
                "{}: default {:?}, the chart says {expected}",
                path[..depth].join("."),
                at.get("default")
            ));
        }
    }
    assert!(checked > 150, "only {checked} defaults checked");
    assert!(
        failures.is_empty(),
        "{} of {checked}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// No `enum` offers `null`, no key is `anyOf: [X, null]`, and a nullable key names its own type
/// first (editors insert the first type's empty value when there is no default).
#[test]
fn published_schema_writes_null_as_a_second_type_only() {
    fn walk(value: &Value, pointer: String, out: &mut Vec<String>) {
        match value {
            Value::Object(obj) => {
                if let Some(Value::Array(values)) = obj.get("enum")
                    && values.contains(&Value::Null)
                {
                    out.push(format!("{pointer}: enum with null"));
                }
                for key in ["anyOf", "oneOf"] {
                    if let Some(Value::Array(alternatives)) = obj.get(key)
                        && alternatives.iter().any(|a| a.get("type") == Some(&Value::from("null")))
                    {
                        out.push(format!("{pointer}: {key} with a null alternative"));
                    }
                }
                if let Some(Value::Array(types)) = obj.get("type")
                    && types.first() == Some(&Value::from("null"))
                {
                    out.push(format!("{pointer}: null first"));
                }
                for (key, child) in obj {
                    walk(child, format!("{pointer}/{key}"), out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, format!("{pointer}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let schema = published_schema();
    let mut problems = Vec::new();
    walk(&schema, String::new(), &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The keys that may be null still are: an optional object, an enumeration, a Kubernetes type.
    let validator = jsonschema::draft7::new(&schema).expect("a draft-07 schema");
    for nulls in [
        serde_json::json!({"gatewayProxies": {"gatewayProxy": {"podTemplate": null}}}),
        serde_json::json!({"global": {"image": {"pullPolicy": null, "variant": null}}}),
        serde_json::json!({"global": {"glooMtls": {"sdsResources": null}}}),
        serde_json::json!({"discovery": {"deployment": null}}),
    ] {
        assert!(validator.is_valid(&nulls), "{nulls} is rejected");
    }
    // A required key may not be null.
    let upstream = serde_json::json!({"upstreams": [{"service": null, "namespace": "b", "port": 1}]});
    assert!(!validator.is_valid(&upstream));
}

/// Negative control of `speaks_of_null_only`: with "may be null" written as `anyOf: [X, null]`,
/// real Helm blames the value for not being null.
#[test]
fn helm4_blames_null_for_an_any_of_null_schema() {
    let Some(helm4) = common::peer("helm4") else {
        return;
    };
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let chart = dir.path().join("chart");
    fs::create_dir_all(chart.join("templates")).expect("chart directory");
    fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n").expect("Chart.yaml");
    fs::write(chart.join("values.yaml"), "{}\n").expect("values.yaml");
    let schema = serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "properties": {"o": {"anyOf": [
            {"type": "object", "properties": {"x": {"type": "integer"}}},
            {"type": "null"}
        ]}}
    });
    fs::write(chart.join("values.schema.json"), schema.to_string()).expect("schema");
    let values = dir.path().join("v.yaml");
    fs::write(&values, "o:\n  x: text\n").expect("values");
    let output = common::run(
        helm(&helm4, &chart)
            .args(["template", "r"])
            .arg(&chart)
            .arg("-f")
            .arg(&values),
    );
    let text = common::output_text(&output);
    assert!(!output.status.success(), "{text}");
    assert!(speaks_of_null_only(&text), "{text}");
}

/// The completions the real yaml-language-server (what VS Code's YAML extension, Neovim's
/// `yamlls` and others run) offers at the end of `text`, a values file that names the published
/// schema in its first line, through `tests/data/lsp-complete.js`: (label, inserted text).
fn editor_completions(server: &Path, dir: &Path, text: &str) -> Vec<(String, String)> {
    let schema = dir.join("values.schema.json");
    if !schema.exists() {
        fs::write(&schema, schema_text()).expect("write the schema");
    }
    let file = dir.join("values.yaml");
    let text = format!("# yaml-language-server: $schema=file://{}\n{text}", schema.display());
    fs::write(&file, &text).expect("write the values");
    let line = text.lines().count() - 1;
    let character = text.lines().last().map_or(0, |l| l.chars().count());
    let node = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("node"))
        .find(|p| p.is_file())
        .or_else(|| common::peer("node"))
        .expect("node");
    let output = common::run(
        Command::new(node)
            .arg(data_dir().join("lsp-complete.js"))
            .arg(server)
            .arg(&file)
            .arg(line.to_string())
            .arg(character.to_string()),
    );
    assert!(output.status.success(), "{}", common::output_text(&output));
    let items: Vec<Value> = serde_json::from_slice(&output.stdout).expect("the completions as JSON");
    items
        .iter()
        .map(|i| {
            (
                i["label"].as_str().unwrap_or("").to_string(),
                i["insertText"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// In an editor: completing a key inserts the chart's default (`enabled: ${1:false}`, never
/// `${1:null}`), and completing an enumeration's value offers its values.
#[test]
fn yaml_language_server_completes_defaults_and_enum_values() {
    let Some(server) = common::peer("yaml-language-server") else {
        return;
    };
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let mut failures = Vec::new();
    let keys = [
        ("global:\n  istioIntegration:\n    ", "enabled", "enabled: ${1:false}"),
        (
            "gatewayProxies:\n  gatewayProxy:\n    podTemplate:\n      ",
            "httpPort",
            "httpPort: ${1:8080}",
        ),
        (
            "gatewayProxies:\n  gatewayProxy:\n    ",
            "loopBackAddress",
            "loopBackAddress: ${1:127.0.0.1}",
        ),
        ("global:\n  image:\n    ", "registry", "registry: ${1:quay.io/solo-io}"),
        ("discovery:\n  ", "fdsMode", "fdsMode: ${1:WHITELIST}"),
    ];
    for (text, key, want) in keys {
        let items = editor_completions(&server, dir.path(), text);
        match items.iter().find(|(label, _)| label == key) {
            Some((_, insert)) if insert == want => {}
            other => failures.push(format!("{key}: {other:?}, want {want}")),
        }
        for (label, insert) in &items {
            if insert.contains("${1:null}") {
                failures.push(format!("{label} inserts {insert}"));
            }
        }
    }
    let values = [
        (
            "global:\n  image:\n    pullPolicy: ",
            &["Always", "IfNotPresent", "Never"][..],
        ),
        (
            "gatewayProxies:\n  gatewayProxy:\n    kind:\n      workloadType: ",
            &["Deployment", "DaemonSet"][..],
        ),
        (
            "global:\n  podSecurityStandards:\n    container:\n      defaultSeccompProfileType: ",
            &["RuntimeDefault", "Localhost"][..],
        ),
    ];
    for (text, want) in values {
        let items = editor_completions(&server, dir.path(), text);
        let offered: BTreeSet<&str> = items
            .iter()
            .map(|(label, _)| label.as_str())
            .filter(|l| *l != "null")
            .collect();
        let want: BTreeSet<&str> = want.iter().copied().collect();
        if offered != want {
            failures.push(format!("{text:?}: offers {offered:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
