//! The Kubernetes Gateway API capability against its contract (`shared/spec/k8s-gateway-deployer.md`
//! §10): every K, C and R case is a named test here, or listed in [`NOT_DONE`] with the reason.
//! Reference cases are compared, as parsed YAML, with the real helm renders of
//! `shared/reference/k8s-gateway/`, after the controller's own changes (spec §8: nulls dropped by
//! typed decoding, the Gateway's namespace set) and the deviations of `docs/deviations.md`.

use std::path::{Path, PathBuf};

use gloo_istio::pipeline::{RenderOptions, render_files};
use gloo_istio::render::Manifest;
use serde_json::Value;

fn reference() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/k8s-gateway");
    assert!(
        dir.is_dir(),
        "the k8s-gateway reference renders are missing at {}",
        dir.display()
    );
    dir
}

fn parse_stream(text: &str) -> Vec<Value> {
    text.split("\n---")
        .flat_map(|doc| {
            let doc = doc.strip_prefix("---").unwrap_or(doc);
            gloo_istio::yaml::parse_json(doc).ok()
        })
        .filter(|v| !v.is_null())
        .collect()
}

/// Nulls go (the API server and typed decoding drop them, spec §8.2).
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// The bootstrap parsed, PROXY_CONFIG's address read (upstream writes it as invalid JSON, we
/// quote it: a listed deviation).
fn normalize(doc: &mut Value, namespace: Option<&str>) {
    drop_nulls(doc);
    if let (Some(ns), Some(meta)) = (namespace, doc.get_mut("metadata").and_then(Value::as_object_mut)) {
        meta.insert("namespace".into(), ns.into());
    }
    if let Some(text) = doc.pointer("/data/envoy.yaml").and_then(Value::as_str) {
        let parsed = gloo_istio::yaml::parse_json(text).unwrap();
        doc["data"]["envoy.yaml"] = parsed;
    }
    if let Some(containers) = doc
        .pointer_mut("/spec/template/spec/containers")
        .and_then(Value::as_array_mut)
    {
        for container in containers {
            for env in container
                .get_mut("env")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if env["name"] == "PROXY_CONFIG" {
                    let text = env["value"].as_str().unwrap_or("").trim();
                    let address = text
                        .trim_start_matches("{\"discoveryAddress\":")
                        .trim_end_matches('}')
                        .trim()
                        .trim_matches('"')
                        .to_string();
                    env["value"] = Value::String(address);
                }
            }
        }
    }
}

fn render(values: &Path, manifests: &[PathBuf]) -> Result<Vec<Manifest>, String> {
    let opts = RenderOptions {
        values_files: vec![values.to_path_buf()],
        manifests: manifests.to_vec(),
        ..RenderOptions::default()
    };
    render_files(&opts).map(|r| r.manifests).map_err(|f| f.to_string())
}

fn ours(manifests: &[Manifest], deployer: bool) -> Vec<Value> {
    manifests
        .iter()
        .filter(|m| m.template.starts_with("k8s-gateway/"))
        .filter(|m| deployer != matches!(m.kind.as_str(), "GatewayClass" | "GatewayParameters"))
        .map(|m| {
            let mut doc = gloo_istio::yaml::parse_json(&m.text).unwrap();
            normalize(&mut doc, None);
            doc
        })
        .collect()
}

fn assert_same(ours: &[Value], expected: &[Value], case: &str) {
    let kinds = |docs: &[Value]| -> Vec<String> {
        docs.iter()
            .map(|d| {
                format!(
                    "{}/{}",
                    d["kind"].as_str().unwrap_or(""),
                    d["metadata"]["name"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    assert_eq!(kinds(ours), kinds(expected), "{case}: the objects differ");
    for (a, b) in ours.iter().zip(expected) {
        if a != b {
            panic!(
                "{case}: {} {} differs\n--- ours\n{}\n--- reference\n{}",
                a["kind"],
                a["metadata"]["name"],
                serde_json::to_string_pretty(a).unwrap(),
                serde_json::to_string_pretty(b).unwrap()
            );
        }
    }
}

fn chart_case(name: &str) {
    let dir = reference();
    let manifests = render(&dir.join(format!("{name}.values.yaml")), &[]).unwrap();
    let expected: Vec<Value> =
        parse_stream(&std::fs::read_to_string(dir.join(format!("{name}.rendered.yaml"))).unwrap())
            .into_iter()
            .map(|mut d| {
                normalize(&mut d, None);
                d
            })
            .collect();
    assert_same(&ours(&manifests, false), &expected, name);
}

/// A deployer case's input split as its README says: the values document to a file, the objects
/// to another.
fn split_input(name: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let text = std::fs::read_to_string(reference().join(format!("{name}.input.yaml"))).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (mut values, mut objects) = (String::new(), String::new());
    for doc in text.split("\n---") {
        let parsed = gloo_istio::yaml::parse_json(doc.strip_prefix("---").unwrap_or(doc)).unwrap_or(Value::Null);
        let target = if parsed.get("kind").is_some() {
            &mut objects
        } else {
            &mut values
        };
        target.push_str("---\n");
        target.push_str(doc.strip_prefix("---").unwrap_or(doc).trim_start_matches('\n'));
        target.push('\n');
    }
    let (v, o) = (tmp.path().join("values.yaml"), tmp.path().join("gateways.yaml"));
    std::fs::write(&v, values).unwrap();
    std::fs::write(&o, objects).unwrap();
    (tmp, v, o)
}

fn gateway_namespace(objects: &Path) -> String {
    parse_stream(&std::fs::read_to_string(objects).unwrap())
        .into_iter()
        .find(|d| d["kind"] == "Gateway")
        .and_then(|d| d["metadata"]["namespace"].as_str().map(str::to_string))
        .unwrap_or_else(|| "default".into())
}

fn deployer_case(name: &str) -> Vec<Value> {
    let dir = reference();
    let (_tmp, values, objects) = split_input(name);
    let namespace = gateway_namespace(&objects);
    let manifests = render(&values, &[objects]).unwrap_or_else(|e| panic!("{name}: {e}"));
    let expected: Vec<Value> =
        parse_stream(&std::fs::read_to_string(dir.join(format!("{name}.rendered.yaml"))).unwrap())
            .into_iter()
            .map(|mut d| {
                normalize(&mut d, Some(&namespace));
                d
            })
            .collect();
    let ours = ours(&manifests, true);
    assert_same(&ours, &expected, name);
    ours
}

fn refused_case(name: &str, expect: &[&str]) {
    let (_tmp, values, objects) = split_input(name);
    let error = render(&values, &[objects]).expect_err(name);
    for needle in expect {
        assert!(error.contains(needle), "{name}: {error}");
    }
    assert!(error.contains("GI070"), "{name}: {error}");
}

fn container<'a>(docs: &'a [Value], name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == "Deployment")
        .and_then(|d| {
            d.pointer("/spec/template/spec/containers")?
                .as_array()?
                .iter()
                .find(|c| c["name"] == name)
        })
        .unwrap_or_else(|| panic!("no container {name}"))
}

// ---- 10.2 the chart side -----------------------------------------------------------------

#[test]
fn c01_chart_defaults() {
    chart_case("chart-01-defaults");
}

#[test]
fn c02_chart_istio_overrides() {
    chart_case("chart-02-istio-overrides");
}

#[test]
fn c03_chart_custom_sidecars() {
    chart_case("chart-03-custom-sidecars");
}

#[test]
fn c04_chart_minimal_null() {
    chart_case("chart-04-minimal-null");
}

#[test]
fn c05_chart_probes_floating_user_id() {
    chart_case("chart-05-probes-floating-user-id");
}

fn chart_kube(values: &str) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("values.yaml");
    std::fs::write(&path, format!("kubeGateway:\n  enabled: true\n{values}")).unwrap();
    let manifests = render(&path, &[]).unwrap();
    let docs = ours(&manifests, false);
    docs.into_iter().find(|d| d["kind"] == "GatewayParameters").unwrap()["spec"]["kube"].clone()
}

#[test]
fn c06_to_c14_floating_user_id_global_wins() {
    let cases = [
        (Some(true), Some(true), true),
        (Some(true), Some(false), false),
        (Some(true), None, true),
        (Some(false), Some(true), true),
        (Some(false), Some(false), false),
        (Some(false), None, false),
        (None, Some(true), true),
        (None, Some(false), false),
        (None, None, false),
    ];
    for (local, global, expected) in cases {
        let mut values = String::new();
        if let Some(local) = local {
            values.push_str(&format!(
                "  gatewayParameters:\n    glooGateway:\n      floatingUserId: {local}\n"
            ));
        }
        if let Some(global) = global {
            values.push_str(&format!("global:\n  securitySettings:\n    floatingUserId: {global}\n"));
        }
        assert_eq!(chart_kube(&values)["floatingUserId"], expected, "{local:?} {global:?}");
    }
}

#[test]
fn c15_probes_only_give_the_default_readiness_probe() {
    let kube = chart_kube("  gatewayParameters:\n    glooGateway:\n      podTemplate:\n        probes: true\n");
    assert_eq!(
        kube["podTemplate"]["readinessProbe"],
        serde_json::json!({"httpGet": {"scheme": "HTTP", "port": 8082, "path": "/envoy-hc"},
            "initialDelaySeconds": 5, "periodSeconds": 5, "failureThreshold": 2})
    );
    assert!(kube["podTemplate"].get("livenessProbe").is_none());
}

fn variant_image(section: &str, repository: &str) -> Vec<String> {
    ["", "standard", "fips", "distroless", "fips-distroless"]
        .iter()
        .map(|variant| {
            let global = if variant.is_empty() {
                String::new()
            } else {
                format!("global:\n  image:\n    variant: {variant}\n")
            };
            let kube = chart_kube(&format!(
                "  gatewayParameters:\n    glooGateway:\n      {section}:\n        image:\n          registry: my-reg\n          repository: {repository}\n          tag: my-tag\n{global}"
            ));
            let image = &kube[section]["image"];
            format!("{}/{}:{}", image["registry"].as_str().unwrap(), image["repository"].as_str().unwrap(), image["tag"].as_str().unwrap())
        })
        .collect()
}

#[test]
fn c16_sds_image_variants() {
    assert_eq!(
        variant_image("sdsContainer", "sds-ee"),
        [
            "my-reg/sds-ee:my-tag",
            "my-reg/sds-ee:my-tag",
            "my-reg/sds-ee-fips:my-tag",
            "my-reg/sds-ee:my-tag-distroless",
            "my-reg/sds-ee-fips:my-tag-distroless"
        ]
    );
}

#[test]
fn c17_envoy_image_variants() {
    assert_eq!(
        variant_image("envoyContainer", "gloo-ee-envoy-wrapper"),
        [
            "my-reg/gloo-ee-envoy-wrapper:my-tag",
            "my-reg/gloo-ee-envoy-wrapper:my-tag",
            "my-reg/gloo-ee-envoy-wrapper-fips:my-tag",
            "my-reg/gloo-ee-envoy-wrapper:my-tag-distroless",
            "my-reg/gloo-ee-envoy-wrapper-fips:my-tag-distroless"
        ]
    );
}

#[test]
fn c18_kube_gateway_off_renders_neither_object() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("values.yaml");
    std::fs::write(&path, "kubeGateway:\n  enabled: false\n").unwrap();
    assert!(ours(&render(&path, &[]).unwrap(), false).is_empty());
}

// ---- 10.3 end to end -------------------------------------------------------------------------

#[test]
fn r01_defaults_istio_off() {
    let docs = deployer_case("01-defaults-istio-off");
    assert_eq!(docs.len(), 4);
}

#[test]
fn r02_istio_defaults_two_listeners() {
    let docs = deployer_case("02-istio-defaults-two-listeners");
    assert_eq!(
        container(&docs, "istio-proxy")["image"],
        "docker.io/istio/proxyv2:1.22.0"
    );
}

#[test]
fn r03_e2e_istio_revision_gateway_params() {
    deployer_case("03-e2e-istio-revision-gateway-params");
}

#[test]
fn r04_istio_gateway_override_mesh_fields() {
    deployer_case("04-istio-gateway-override-mesh-fields");
}

#[test]
fn r06_istio_gateway_custom_sidecars_ignored() {
    deployer_case("06-istio-gateway-custom-sidecars-ignored");
}

#[test]
fn r07_istio_class_custom_sidecars_refused() {
    refused_case(
        "07-istio-class-custom-sidecars-helm-error",
        &["istioProxyContainer", "customSidecars"],
    );
}

#[test]
fn r08_istio_class_custom_sidecars_gateway_istio_container() {
    deployer_case("08-istio-class-custom-sidecars-gateway-istio-container");
}

#[test]
fn r10_istio_and_gloo_mtls() {
    deployer_case("10-istio-and-gloo-mtls");
}

#[test]
fn r11_istio_off_gateway_istio_params() {
    deployer_case("11-istio-off-gateway-istio-params");
}

#[test]
fn r12_nodeport_class_default_wins() {
    deployer_case("12-nodeport-class-default-wins");
}

#[test]
fn r13_istio_probes_graceful_shutdown() {
    deployer_case("13-istio-probes-graceful-shutdown");
}

#[test]
fn r15_no_listeners_53_char_name() {
    deployer_case("15-no-listeners-53-char-name");
}

#[test]
fn r16_self_managed_gives_no_objects() {
    let dir = reference();
    let (_tmp, _values, objects) = split_input("16-self-managed");
    // The case has no values document: the chart defaults with kubeGateway on.
    let values = dir.join("chart-01-defaults.values.yaml");
    let opts = RenderOptions {
        values_files: vec![values],
        manifests: vec![objects],
        ..RenderOptions::default()
    };
    let rendered = render_files(&opts).unwrap();
    assert!(ours(&rendered.manifests, true).is_empty());
    assert!(
        rendered
            .findings
            .iter()
            .any(|d| d.code == "GI071" && d.message.contains("self-managed")),
        "{:?}",
        rendered.findings
    );
}

#[test]
fn r17_e2e_minimal_class_default() {
    let docs = deployer_case("17-e2e-minimal-class-default");
    assert_eq!(
        container(&docs, "gloo-gateway")["image"],
        "quay.io/solo-io/%!s(<nil>):%!s(<nil>)"
    );
}

#[test]
fn r18_istio_minimal_class_default_refused() {
    refused_case(
        "18-istio-minimal-class-default-helm-error",
        &["sdsContainer", "glooGateway: null"],
    );
}

#[test]
fn r19_name_54_chars_refused() {
    refused_case("19-name-54-chars-helm-error", &["54 characters", "release name"]);
}

#[test]
fn r21_gateway_annotated_with_class_default() {
    deployer_case("21-gateway-annotated-with-class-default");
}

/// Cases of spec §10 that are not tests yet, each with the reason. The list is exact: a case
/// that gets a test must leave it (the test below checks both directions).
const NOT_DONE: &[(&str, &str)] = &[
    (
        "K01",
        "deployer-suite fixture (IN: xDS something.cluster.local:1234) needs controller-setting overrides, not exposed yet",
    ),
    (
        "K02",
        "AWS STS with a custom cluster name needs controller-setting overrides",
    ),
    ("K03", "needs the IN fixture (controller-setting overrides)"),
    ("K04", "needs the IN fixture (controller-setting overrides)"),
    ("K05", "the controller's watch setup render, not a user-facing render"),
    ("K06", "needs the IN fixture (controller-setting overrides)"),
    ("K07", "needs the IN fixture (controller-setting overrides)"),
    ("K08", "needs the IN fixture (controller-setting overrides)"),
    ("K09", "AI extension container not rendered yet"),
    ("K10", "AI extension container not rendered yet"),
    ("K11", "AI extension container not rendered yet"),
    ("K12", "AI extension container not rendered yet"),
    ("K13", "AI extension container not rendered yet"),
    ("K14", "needs the IN fixture (controller-setting overrides)"),
    ("K15", "needs the IN fixture (controller-setting overrides)"),
    ("K16", "needs the IN fixture (controller-setting overrides)"),
    ("K17", "needs the IN fixture (controller-setting overrides)"),
    ("K18", "needs the IN fixture (controller-setting overrides)"),
    (
        "K19",
        "ownerReferences are left out offline (the uid is unknown): a listed deviation",
    ),
    ("K20", "needs the IN fixture (controller-setting overrides)"),
    ("K21", "needs the IN fixture (controller-setting overrides)"),
    ("K22", "needs the IN fixture (controller-setting overrides)"),
    ("K23", "controller wiring; no offline equivalent"),
    ("K24", "needs the IN fixture (controller-setting overrides)"),
    ("K25", "needs the IN fixture (controller-setting overrides)"),
    ("K26", "needs the IN-MTLS fixture (controller-setting overrides)"),
    ("K27", "AI extension container not rendered yet"),
    ("K28", "ListenerSets are not read yet"),
    (
        "C19",
        "YAML 1.1 booleans: the values loader reads `y` as a string, not as the chart's boolean",
    ),
    ("C20", "nulled sds image: not reproduced as the chart's failure yet"),
    ("R05", "no reference files: to be built from the spec's description"),
    ("R09", "no reference files: to be built from the spec's description"),
    ("R14", "no reference files: to be built from the spec's description"),
    ("R20", "no reference files: to be built from the spec's description"),
];

/// Every case id of §10 and whether a test above covers it.
#[test]
fn every_case_is_a_test_or_listed_as_not_done() {
    let source = std::fs::read_to_string(file!()).unwrap();
    let mut missing = Vec::new();
    let ids = (1..=28)
        .map(|i| format!("K{i:02}"))
        .chain((1..=20).map(|i| format!("C{i:02}")))
        .chain((1..=21).map(|i| format!("R{i:02}")));
    for id in ids {
        let lower = id.to_ascii_lowercase();
        let tested = source.contains(&format!("fn {lower}_"))
            || (id.starts_with('C')
                && (6..=14).contains(&id[1..].parse::<u32>().unwrap())
                && source.contains("fn c06_to_c14_"));
        let listed = NOT_DONE.iter().any(|(listed, _)| *listed == id);
        assert!(!(tested && listed), "{id} has a test and is listed as not done");
        if !tested && !listed {
            missing.push(id);
        }
    }
    assert!(missing.is_empty(), "cases neither tested nor listed: {missing:?}");
}
