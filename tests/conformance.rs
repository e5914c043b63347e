//! Conformance with the real Gloo chart: for every reference case (a values file rendered by the
//! real chart with helm), our gateway-proxy workloads and envoy ConfigMaps must be semantically
//! identical to the chart's, except for the deviations listed in docs/deviations.md:
//!
//! - the `checksum/<id>-envoy-config` value (ours hashes our own ConfigMap; both must be SHA-256);
//! - `PROXY_CONFIG` is valid JSON (compared as the parsed mapping; Istio spec §7.2);
//! - the envoy bootstrap inside the ConfigMap is compared as parsed YAML.
//!
//! Every difference is printed with its JSON path.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use gloo_istio::pipeline::{RenderOptions, render_files};
use gloo_istio::yaml;
use serde_json::Value;

fn parse(text: &str) -> Value {
    yaml::load_document(text.as_bytes(), yaml::Limits::default())
        .unwrap_or_else(|e| panic!("cannot parse: {e:?}\n{text}"))
        .map(|n| n.to_json())
        .unwrap_or(Value::Null)
}

/// Splits a multi-document file of the reference renders at its `---` lines.
fn documents(text: &str) -> Vec<Value> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line == "---" {
            if !current.trim().is_empty() {
                docs.push(parse(&current));
            }
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    if !current.trim().is_empty() {
        docs.push(parse(&current));
    }
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn key(doc: &Value) -> (String, String) {
    (
        doc["kind"].as_str().unwrap_or("?").to_string(),
        doc["metadata"]["name"].as_str().unwrap_or("?").to_string(),
    )
}

/// Applies the documented deviations to one document so that the two sides compare.
fn normalize(doc: &mut Value, problems: &mut Vec<String>, side: &str) {
    if let Some(Value::Object(annotations)) = doc.pointer_mut("/spec/template/metadata/annotations") {
        for (k, v) in annotations.iter_mut() {
            if k.starts_with("checksum/") {
                let ok = v
                    .as_str()
                    .is_some_and(|s| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()));
                if !ok {
                    problems.push(format!("{side}: annotation {k} is not a SHA-256: {v}"));
                }
                *v = Value::String("<sha256>".into());
            }
        }
    }
    if let Some(Value::Array(containers)) = doc.pointer_mut("/spec/template/spec/containers") {
        for container in containers {
            if let Some(Value::Array(env)) = container.get_mut("env") {
                for var in env {
                    if var["name"] == "PROXY_CONFIG"
                        && let Some(text) = var["value"].as_str().map(str::to_string)
                    {
                        var["value"] = parse(&text);
                    }
                }
            }
        }
    }
    if let Some(Value::String(text)) = doc.pointer("/data/envoy.yaml").cloned() {
        doc["data"]["envoy.yaml"] = parse(&text);
    }
}

fn differences(ours: &Value, theirs: &Value, path: &str, out: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get(k) {
                    Some(u) => differences(u, v, &format!("{path}/{k}"), out),
                    None => out.push(format!("{path}/{k}: missing in ours (chart: {v})")),
                }
            }
            for (k, u) in a {
                if !b.contains_key(k) {
                    out.push(format!("{path}/{k}: only in ours ({u})"));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!("{path}: {} items in ours, {} in the chart's", a.len(), b.len()));
            }
            for (i, (u, v)) in a.iter().zip(b).enumerate() {
                differences(u, v, &format!("{path}/{i}"), out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        _ if ours == theirs => {}
        _ => out.push(format!("{path}: ours {ours}, chart {theirs}")),
    }
}

fn compare_case(name: &str, values: &Path, split_dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let opts = RenderOptions {
        values_files: vec![values.to_path_buf()],
        ..RenderOptions::default()
    };
    let rendered = match render_files(&opts) {
        Ok(r) => r,
        Err(failure) => return vec![format!("render failed: {failure}")],
    };
    let mut ours: BTreeMap<(String, String), Value> = BTreeMap::new();
    // The GatewayClass and GatewayParameters are compared in tests/k8s_gateway.rs.
    for m in rendered
        .manifests
        .iter()
        .filter(|m| m.kind.as_str() != "Upstream" && !m.template.starts_with("k8s-gateway/"))
    {
        let mut doc = parse(&m.text);
        normalize(&mut doc, &mut problems, "ours");
        ours.insert(key(&doc), doc);
    }
    let mut theirs: BTreeMap<(String, String), Value> = BTreeMap::new();
    for file in ["gateway-proxy-deployments", "gateway-proxy-configmaps"] {
        let path = split_dir.join(format!("{name}.{file}.yaml"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for mut doc in documents(&text) {
            normalize(&mut doc, &mut problems, "chart");
            theirs.insert(key(&doc), doc);
        }
    }
    for (k, doc) in &theirs {
        match ours.get(k) {
            Some(mine) => {
                let mut diffs = Vec::new();
                differences(mine, doc, "", &mut diffs);
                problems.extend(diffs.into_iter().map(|d| format!("{} {}: {d}", k.0, k.1)));
            }
            None => problems.push(format!("{} {}: not rendered by us", k.0, k.1)),
        }
    }
    for k in ours.keys().filter(|k| !theirs.contains_key(*k)) {
        problems.push(format!("{} {}: rendered by us, not by the chart", k.0, k.1));
    }
    problems
}

#[test]
fn every_reference_case_matches_the_chart() {
    let Some(dir) = common::reference_dir() else {
        return;
    };
    let cases = common::reference_cases();
    assert!(
        cases.len() >= 20,
        "expected the reference cases in {}, found {}",
        dir.display(),
        cases.len()
    );
    let mut report = String::new();
    for (name, values) in &cases {
        let problems = compare_case(name, values, &dir.join("split"));
        if !problems.is_empty() {
            report.push_str(&format!("\n== {name}: {} difference(s)\n", problems.len()));
            for p in problems {
                report.push_str(&format!("  {p}\n"));
            }
        }
    }
    assert!(report.is_empty(), "differences from the chart's renders:{report}");
}

#[test]
fn the_comparison_catches_a_changed_value() {
    // A guard against a comparison that cannot fail: change one field of a reference document
    // and the difference must be reported at its path.
    let theirs = serde_json::json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a"}]}}}});
    let mut ours = theirs.clone();
    ours["spec"]["template"]["spec"]["containers"][0]["name"] = "b".into();
    let mut diffs = Vec::new();
    differences(&ours, &theirs, "", &mut diffs);
    assert_eq!(
        diffs,
        vec!["/spec/template/spec/containers/0/name: ours \"b\", chart \"a\"".to_string()]
    );
}
