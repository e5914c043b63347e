//! The Gloo custom resources gloo-istio renders and reads, checked against the CRD schemas of the
//! Gloo chart (`tests/data/crds/`, provenance in its README) by the real `check-jsonschema` peer.
//! `kubernetes-validate` has no schema for these kinds (`tests/peers_validate.rs` checks only the
//! rendered Upstreams, against a strict copy of the Upstream schema).
//!
//! Each CRD's `openAPIV3Schema` becomes a JSON Schema ([`crd_json_schema`]) that refuses what
//! the API server refuses under strict field validation: unknown fields wherever the schema is
//! structural, wrong types, `x-kubernetes-int-or-string` as integer or string,
//! `x-kubernetes-preserve-unknown-fields` as open, `nullable` as null allowed. Before the check,
//! nulls in fields that are not `nullable` are dropped, as the API server prunes them.
//!
//! Checked, one `check-jsonschema` run per kind:
//! * GatewayParameters: the class default `render` makes for `values/*.yaml` and for the chart
//!   values of every k8s-gateway reference case; the reference's own GatewayParameters (the
//!   chart's real renders, the Gateway-level inputs, the derived effective specs);
//! * Settings and Upstream: `render` of `values/*.yaml`, `post-render` of every reference chart
//!   render with its values, `snapshots/`, and the reference chart renders themselves;
//! * per kind, a broken object that must be refused at the expected places, so the check can
//!   fail.
//!
//! The stored GatewayParameters and Settings CRDs are older than the chart of the reference
//! renders (no newer version of them is available), so a few fields the chart writes are unknown
//! to them: [`KNOWN_FAILURES`] lists each one, and the test fails when one of them no longer
//! happens, happens only on our output, or when any other error appears.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, Yaml};
use serde_json::{Map, Value, json};

/// A CRD of the Gloo chart stored under `tests/data/crds/`: the CRD itself, or only its
/// `openAPIV3Schema` as JSON, with the `apiVersion` of its objects.
struct Crd {
    kind: &'static str,
    file: &'static str,
    schema_only: Option<&'static str>,
}

const CRDS: [Crd; 3] = [
    Crd {
        kind: "GatewayParameters",
        file: "gateway.gloo.solo.io_gatewayparameters.yaml",
        schema_only: None,
    },
    Crd {
        kind: "Settings",
        file: "gloo.solo.io_v1_Settings.yaml",
        schema_only: None,
    },
    Crd {
        kind: "Upstream",
        // The reference chart's own Upstream schema, which tests/peers_validate.rs also reads
        // (strict form); kept once, in the reference data.
        file: "upstream/upstream.gloo.solo.io_v1.schema.json",
        schema_only: Some("gloo.solo.io/v1"),
    },
];

/// The CEL rules of the CRDs, each with the JSON Schema that says the same. A rule missing here
/// fails the conversion, so no rule goes unchecked without notice.
const CEL_RULES: [(&str, &str); 1] = [(
    "(has(self.kube) && !has(self.selfManaged)) || (!has(self.kube) && has(self.selfManaged))",
    r#"{"oneOf": [{"required": ["kube"]}, {"required": ["selfManaged"]}]}"#,
)];

/// An error `check-jsonschema` reports because the stored CRD predates a field the chart of the
/// reference commit writes. Each must also happen on upstream's own objects (the real chart
/// renders, the reference inputs): that shows the CRD, not gloo-istio, lacks the field.
struct KnownFailure {
    kind: &'static str,
    path: &'static str,
    message: &'static str,
}

const KNOWN_FAILURES: [KnownFailure; 4] = [
    // Settings of the chart: `gloo.istioOptions` (the Istio integration switches) and
    // `enableAutoWebsocketTransformationPassthrough` are newer than the stored Settings CRD.
    KnownFailure {
        kind: "Settings",
        path: "$.spec.gloo",
        message: "Additional properties are not allowed ('enableAutoWebsocketTransformationPassthrough', \
                  'istioOptions' were unexpected)",
    },
    KnownFailure {
        kind: "Settings",
        path: "$.spec.gateway.validation",
        message: "Additional properties are not allowed ('fullEnvoyValidation', 'warnMissingTlsSecret' \
                  were unexpected)",
    },
    // `settings.aws.region` of reference case k7.
    KnownFailure {
        kind: "Settings",
        path: "$.spec.gloo.awsOptions.serviceAccountCredentials",
        message: "Additional properties are not allowed ('region' was unexpected)",
    },
    // `podTemplate.topologySpreadConstraints`, which the deployer of the reference commit reads.
    KnownFailure {
        kind: "GatewayParameters",
        path: "$.spec.kube.podTemplate",
        message: "Additional properties are not allowed ('topologySpreadConstraints' was unexpected)",
    },
];

// ---- the CRD as a JSON Schema --------------------------------------------------------------

fn crds_dir() -> PathBuf {
    common::manifest_dir().join("tests/data/crds")
}

fn load_yaml(text: &str, what: &str) -> Vec<Value> {
    Yaml::load_from_str(text)
        .unwrap_or_else(|e| panic!("{what} is not YAML: {e}"))
        .iter()
        .map(common::saphyr_to_json)
        .collect()
}

/// The `apiVersion` of the objects of `kind` and the `openAPIV3Schema` of its CRD (of the
/// served storage version).
fn crd_schema(kind: &str) -> (String, Value) {
    let entry = CRDS.iter().find(|c| c.kind == kind).expect("a CRD of that kind");
    let path = match entry.schema_only {
        Some(_) => common::reference_dir().expect("the reference data").join(entry.file),
        None => crds_dir().join(entry.file),
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    if let Some(api_version) = entry.schema_only {
        let schema = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", entry.file));
        return (api_version.to_string(), schema);
    }
    let crd = load_yaml(&text, entry.file)
        .into_iter()
        .find(|d| !d.is_null())
        .expect("a CRD document");
    assert_eq!(crd["kind"], "CustomResourceDefinition", "{}", entry.file);
    assert_eq!(crd["spec"]["names"]["kind"], kind, "{}", entry.file);
    let group = crd["spec"]["group"].as_str().expect("spec.group");
    let versions = crd["spec"]["versions"].as_array().expect("spec.versions");
    let version = versions
        .iter()
        .find(|v| v["storage"] == true && v["served"] == true)
        .expect("a served storage version");
    let name = version["name"].as_str().expect("version name");
    (format!("{group}/{name}"), version["schema"]["openAPIV3Schema"].clone())
}

/// One node of an `openAPIV3Schema` as JSON Schema.
fn convert(node: &Value) -> Value {
    let Some(source) = node.as_object() else {
        panic!("a schema node is not a mapping: {node}");
    };
    let flag = |key: &str| source.get(key) == Some(&Value::Bool(true));
    let (preserve, int_or_string, nullable) = (
        flag("x-kubernetes-preserve-unknown-fields"),
        flag("x-kubernetes-int-or-string"),
        flag("nullable"),
    );
    let mut out = Map::new();
    let mut all_of = Vec::new();
    for (key, value) in source {
        match key.as_str() {
            "properties" => {
                let properties = value.as_object().expect("properties is a mapping");
                out.insert(
                    key.clone(),
                    Value::Object(properties.iter().map(|(k, v)| (k.clone(), convert(v))).collect()),
                );
            }
            "items" => {
                out.insert(key.clone(), convert(value));
            }
            "additionalProperties" if value.is_object() => {
                out.insert(key.clone(), convert(value));
            }
            "anyOf" | "allOf" | "oneOf" => {
                let items = value.as_array().expect("a list of schemas");
                out.insert(key.clone(), Value::Array(items.iter().map(convert).collect()));
            }
            "x-kubernetes-validations" => {
                for validation in value.as_array().expect("a list of validations") {
                    let rule = validation["rule"].as_str().expect("a CEL rule");
                    let (_, schema) = CEL_RULES
                        .iter()
                        .find(|(known, _)| *known == rule)
                        .unwrap_or_else(|| panic!("no JSON Schema for the CEL rule `{rule}`: add it to CEL_RULES"));
                    all_of.push(serde_json::from_str(schema).expect("a JSON Schema in CEL_RULES"));
                }
            }
            "nullable" | "description" | "format" => {}
            k if k.starts_with("x-kubernetes-") => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if int_or_string {
        out.remove("type");
        out.insert("anyOf".into(), json!([{"type": "integer"}, {"type": "string"}]));
    }
    // Structural: the API server keeps only the declared fields of an object, unless the schema
    // keeps unknown fields or declares a map.
    if out.get("type") == Some(&json!("object")) && !preserve && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    if !all_of.is_empty() {
        out.insert("allOf".into(), Value::Array(all_of));
    }
    if nullable {
        match out.get("type").cloned() {
            Some(Value::String(t)) => {
                out.insert("type".into(), json!([t, "null"]));
            }
            _ => return json!({"anyOf": [{"type": "null"}, Value::Object(out)]}),
        }
    }
    Value::Object(out)
}

/// The CRD of `kind` as a JSON Schema of a whole object. `apiVersion` and `kind` must be the
/// CRD's; `metadata` is the API server's own ObjectMeta, checked here only for its name and the
/// types of the fields gloo-istio writes.
fn crd_json_schema(kind: &str) -> Value {
    let (api_version, schema) = crd_schema(kind);
    let mut root = convert(&schema);
    let object = root.as_object_mut().expect("the root schema is a mapping");
    object.insert("$schema".into(), json!("http://json-schema.org/draft-07/schema#"));
    let properties = object
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("root properties");
    properties.insert("apiVersion".into(), json!({"const": api_version}));
    properties.insert("kind".into(), json!({"const": kind}));
    properties.insert(
        "metadata".into(),
        json!({
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "namespace": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        }),
    );
    object.insert("required".into(), json!(["apiVersion", "kind", "metadata"]));
    root
}

/// Drops the nulls of `value` in fields whose schema (the CRD's own `openAPIV3Schema`) is not
/// `nullable`, as the API server prunes them before validation.
fn prune_nulls(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(map) => {
            let field_schema = |key: &str| -> Value {
                schema["properties"]
                    .get(key)
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            map.retain(|key, v| !v.is_null() || field_schema(key)["nullable"] == true);
            for (key, v) in map.iter_mut() {
                prune_nulls(v, &field_schema(key));
            }
        }
        Value::Array(items) => {
            for item in items {
                prune_nulls(item, &schema["items"]);
            }
        }
        _ => {}
    }
}

// ---- the objects ---------------------------------------------------------------------------

/// An object to check: where it comes from (for messages) and whether it is upstream's own data
/// (a real chart render, a reference input) rather than gloo-istio's output.
struct Object {
    label: String,
    upstream: bool,
    value: Value,
}

fn k8s_gateway_reference() -> PathBuf {
    let dir = common::manifest_dir().join("../shared/reference/k8s-gateway");
    assert!(
        dir.is_dir(),
        "the k8s-gateway reference renders are missing at {}",
        dir.display()
    );
    dir
}

fn files_ending_with(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(suffix))
        })
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Runs gloo-istio; panics with its output unless it succeeds.
fn gloo_istio(args: &[&str], stdin: &[u8]) -> String {
    let output = common::run_bin(args, stdin, None);
    assert!(
        output.status.success(),
        "gloo-istio {args:?} failed:\n{}",
        common::output_text(&output)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The documents of a YAML stream.
fn documents(text: &str, what: &str) -> Vec<Value> {
    load_yaml(text, what).into_iter().filter(|d| !d.is_null()).collect()
}

/// The objects of the three kinds in a YAML stream, each labelled with its position.
fn add(out: &mut Vec<Object>, label: String, upstream: bool, text: &str) {
    for (i, value) in documents(text, &label).into_iter().enumerate() {
        if CRDS.iter().any(|c| value["kind"] == c.kind) {
            out.push(Object {
                label: format!("{label} #{i}"),
                upstream,
                value,
            });
        }
    }
}

/// Every object gloo-istio writes or reads of the three kinds, ours and upstream's.
fn objects() -> Vec<Object> {
    let mut out = Vec::new();
    for values in common::example_values() {
        let rendered = gloo_istio(&["render", "-q", "-f", common::path_str(&values)], b"");
        add(
            &mut out,
            format!("render -f values/{}", file_name(&values)),
            false,
            &rendered,
        );
    }
    for snapshot in files_ending_with(&common::manifest_dir().join("snapshots"), ".yaml") {
        add(
            &mut out,
            format!("snapshots/{}", file_name(&snapshot)),
            false,
            &read(&snapshot),
        );
    }
    for (case, values) in common::reference_cases() {
        let chart = values.with_file_name(format!("{case}.rendered.yaml"));
        let chart_text = read(&chart);
        add(&mut out, format!("gloo-chart/{case}.rendered.yaml"), true, &chart_text);
        let post = gloo_istio(
            &["post-render", "-q", "-f", common::path_str(&values)],
            chart_text.as_bytes(),
        );
        add(&mut out, format!("post-render of gloo-chart/{case}"), false, &post);
    }
    let k8s = k8s_gateway_reference();
    for values in files_ending_with(&k8s, ".values.yaml") {
        let rendered = gloo_istio(&["render", "-q", "-f", common::path_str(&values)], b"");
        add(
            &mut out,
            format!("render -f k8s-gateway/{}", file_name(&values)),
            false,
            &rendered,
        );
    }
    let scratch = tempfile::tempdir().expect("a temporary directory");
    for input in files_ending_with(&k8s, ".input.yaml") {
        let name = file_name(&input).trim_end_matches(".input.yaml");
        let text = read(&input);
        add(&mut out, format!("k8s-gateway/{name}.input.yaml"), true, &text);
        // The one document without a kind holds the chart values: the class default comes from
        // them.
        let values: Vec<&str> = text
            .split("\n---")
            .map(|doc| doc.strip_prefix("---").unwrap_or(doc))
            .filter(|doc| {
                documents(doc, name)
                    .first()
                    .is_some_and(|d| d.is_object() && d.get("kind").is_none())
            })
            .collect();
        if let Some(values) = values.first() {
            let file = scratch.path().join(format!("{name}.values.yaml"));
            std::fs::write(&file, values).expect("write the values");
            let rendered = gloo_istio(&["render", "-q", "-f", common::path_str(&file)], b"");
            add(
                &mut out,
                format!("render of the values of k8s-gateway/{name}"),
                false,
                &rendered,
            );
        }
    }
    for file in files_ending_with(&k8s, ".gatewayparameters.yaml") {
        let name = file_name(&file).to_string();
        for (i, mut doc) in documents(&read(&file), &name).into_iter().enumerate() {
            if doc.get("kind").is_none() {
                // The derived effective spec: an object of its own.
                doc = json!({
                    "apiVersion": "gateway.gloo.solo.io/v1alpha1",
                    "kind": "GatewayParameters",
                    "metadata": {"name": "effective", "namespace": "default"},
                    "spec": doc["spec"].clone(),
                });
            }
            out.push(Object {
                label: format!("k8s-gateway/{name} #{i}"),
                upstream: true,
                value: doc,
            });
        }
    }
    for file in files_ending_with(&k8s, ".rendered.yaml")
        .into_iter()
        .filter(|f| file_name(f).starts_with("chart-"))
    {
        add(
            &mut out,
            format!("k8s-gateway/{}", file_name(&file)),
            true,
            &read(&file),
        );
    }
    out
}

/// Per kind, a broken object and what check-jsonschema must say of it (path, message). Each
/// also holds what must pass: a `nullable` field set to null, integers and strings for
/// int-or-string, unknown fields under preserve-unknown-fields.
fn controls() -> Vec<(Value, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            json!({
                "apiVersion": "gateway.gloo.solo.io/v1alpha1",
                "kind": "GatewayParameters",
                "metadata": {"name": "broken", "namespace": "default"},
                "spec": {
                    "kube": {
                        "deployment": {"replicas": "2"},
                        "podTemplate": {"extraLabelz": {"a": "b"}},
                        "envoyContainer": {"resources": {"limits": {"cpu": 1, "memory": "256Mi"}}}
                    },
                    "selfManaged": {"anything": {"goes": 1}}
                }
            }),
            vec![
                ("$.spec.kube.deployment.replicas", "'2' is not of type 'integer'"),
                (
                    "$.spec.kube.podTemplate",
                    "Additional properties are not allowed ('extraLabelz' was unexpected)",
                ),
                ("$.spec", "is valid under each of"),
            ],
        ),
        (
            json!({
                "apiVersion": "gloo.solo.io/v1",
                "kind": "Settings",
                "metadata": {"name": "default", "namespace": "gloo-system"},
                "spec": {
                    "discoveryNamespace": 7,
                    "gloo": {"xdsBindAddr": "0.0.0.0:9977", "xdsBindAdress": "0.0.0.0:9977", "disableGrpcWeb": null},
                    "extensions": {"configs": {"any": {"free": ["form"]}}},
                    "discovery": {"fdsMode": 1}
                }
            }),
            vec![
                ("$.spec.discoveryNamespace", "7 is not of type 'string'"),
                (
                    "$.spec.gloo",
                    "Additional properties are not allowed ('xdsBindAdress' was unexpected)",
                ),
            ],
        ),
        (
            json!({
                "apiVersion": "gloo.solo.io/v1",
                "kind": "Upstream",
                "metadata": {"name": "broken", "namespace": "gloo-system"},
                "spec": {
                    "kube": {"serviceName": "a", "serviceNamespace": "b", "servicePort": "9080", "serviceNmae": "c"},
                    "circuitBreakers": {"maxConnections": null},
                    "healthChecks": [{"httpHealthCheck": {"expectedStatuses": [{"start": "200", "end": 300}]}}]
                }
            }),
            vec![
                ("$.spec.kube.servicePort", "'9080' is not of type 'integer'"),
                (
                    "$.spec.kube",
                    "Additional properties are not allowed ('serviceNmae' was unexpected)",
                ),
            ],
        ),
    ]
}

// ---- the check -----------------------------------------------------------------------------

/// One error of the report, with the object it is about.
struct Finding {
    label: String,
    upstream: bool,
    path: String,
    message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: at {}: {}", self.label, self.path, self.message)
    }
}

#[test]
fn gloo_custom_resources_pass_the_crd_schemas_of_the_chart() {
    let Some(binary) = common::peer("check-jsonschema") else {
        return;
    };
    let objects = objects();
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let mut problems = Vec::new();
    let mut findings: Vec<(&'static str, Finding)> = Vec::new();
    for (index, crd_entry) in CRDS.iter().enumerate() {
        let kind = crd_entry.kind;
        let (_, raw_schema) = crd_schema(kind);
        let schema_file = scratch.path().join(format!("{kind}.schema.json"));
        let schema = serde_json::to_string_pretty(&crd_json_schema(kind)).expect("serialize");
        std::fs::write(&schema_file, schema).expect("write the schema");

        // Every object of the kind, and the control, in one run.
        let mut files = Vec::new();
        let mut by_file: BTreeMap<String, (String, bool)> = BTreeMap::new();
        for object in objects.iter().filter(|o| o.value["kind"] == kind) {
            let mut value = object.value.clone();
            prune_nulls(&mut value, &raw_schema);
            let file = scratch.path().join(format!("{kind}-{}.json", files.len()));
            std::fs::write(&file, value.to_string()).expect("write an object");
            by_file.insert(
                common::path_str(&file).to_string(),
                (object.label.clone(), object.upstream),
            );
            files.push(file);
        }
        let checked = files.len();
        let ours = by_file.values().filter(|(_, upstream)| !upstream).count();
        assert!(ours > 0, "no {kind} rendered by gloo-istio to check");
        if kind != "Upstream" {
            // The reference chart renders have no Upstream.
            assert!(ours < checked, "no {kind} of upstream's own to check");
        }
        let (mut control, expected) = controls().swap_remove(index);
        assert_eq!(control["kind"], kind, "controls() are in the order of CRDS");
        prune_nulls(&mut control, &raw_schema);
        let control_file = scratch.path().join(format!("{kind}-control.json"));
        std::fs::write(&control_file, control.to_string()).expect("write the control");
        files.push(control_file.clone());

        let (output, report) = common::check_jsonschema(&binary, &schema_file, &files);
        assert_eq!(
            output.status.code(),
            Some(1),
            "check-jsonschema must refuse the broken {kind}:\n{}",
            common::output_text(&output)
        );
        let parse_errors = report["parse_errors"].as_array().cloned().unwrap_or_default();
        assert!(parse_errors.is_empty(), "{kind}: parse errors {parse_errors:#?}");
        let errors = report["errors"].as_array().cloned().unwrap_or_default();

        let control_name = common::path_str(&control_file);
        let of_control: BTreeSet<(String, String)> = errors
            .iter()
            .filter(|e| e["filename"] == control_name)
            .map(|e| {
                (
                    e["path"].as_str().unwrap_or("").to_string(),
                    e["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let control_matches = of_control.len() == expected.len()
            && expected
                .iter()
                .all(|(path, message)| of_control.iter().any(|(p, m)| p == path && m.contains(message)));
        if !control_matches {
            problems.push(format!(
                "the broken {kind} must be refused with exactly {expected:?}; check-jsonschema said {of_control:#?}"
            ));
        }

        for error in errors.iter().filter(|e| e["filename"] != control_name) {
            let filename = error["filename"].as_str().unwrap_or("");
            let (label, upstream) = by_file
                .get(filename)
                .cloned()
                .unwrap_or_else(|| (filename.to_string(), false));
            findings.push((
                kind,
                Finding {
                    label,
                    upstream,
                    path: error["path"].as_str().unwrap_or("").to_string(),
                    message: error["message"].as_str().unwrap_or("").to_string(),
                },
            ));
        }
        eprintln!("{kind}: {checked} objects checked");
    }

    let known = |kind: &str, finding: &Finding| {
        KNOWN_FAILURES
            .iter()
            .position(|k| k.kind == kind && k.path == finding.path && k.message == finding.message)
    };
    for (kind, finding) in &findings {
        if known(kind, finding).is_none() {
            problems.push(format!("{kind} refused by its CRD schema: {finding}"));
        }
    }
    for (i, failure) in KNOWN_FAILURES.iter().enumerate() {
        let hits: Vec<&Finding> = findings
            .iter()
            .filter(|(kind, f)| known(kind, f) == Some(i))
            .map(|(_, f)| f)
            .collect();
        if hits.is_empty() {
            problems.push(format!(
                "the known failure {} at {} ({}) no longer happens: remove it from KNOWN_FAILURES",
                failure.kind, failure.path, failure.message
            ));
        }
        if !hits.is_empty() && !hits.iter().any(|f| f.upstream) {
            problems.push(format!(
                "the known failure {} at {} happens only on gloo-istio's output, so it is ours: {}",
                failure.kind,
                failure.path,
                hits.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_conversion_follows_the_api_servers_rules() {
    let node = json!({
        "type": "object",
        "properties": {
            "port": {"type": "string", "format": "int64", "x-kubernetes-int-or-string": true},
            "weight": {"type": "integer", "nullable": true, "maximum": 10},
            "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "empty": {"type": "object"}
        }
    });
    assert_eq!(
        convert(&node),
        json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "port": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                "weight": {"type": ["integer", "null"], "maximum": 10},
                "config": {"type": "object"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "empty": {"type": "object", "additionalProperties": false}
            }
        })
    );
    let mut object = json!({"weight": null, "port": null, "labels": {"a": null}});
    prune_nulls(&mut object, &node);
    assert_eq!(object, json!({"weight": null, "labels": {}}));
    let kinds: Vec<Value> = controls().iter().map(|(c, _)| c["kind"].clone()).collect();
    let expected: Vec<Value> = CRDS.iter().map(|c| json!(c.kind)).collect();
    assert_eq!(kinds, expected, "one control per CRD, in the order of CRDS");
    for crd in &CRDS {
        let schema = crd_json_schema(crd.kind);
        assert_eq!(schema["properties"]["kind"]["const"], crd.kind);
        assert_eq!(
            schema["additionalProperties"], false,
            "{}: the root is structural",
            crd.kind
        );
    }
}
