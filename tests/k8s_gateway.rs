//! The Kubernetes Gateway API capability against its contract (`shared/spec/k8s-gateway-deployer.md`
//! §10): every K, C and R case is a named test here.
//! Reference cases are compared, as parsed YAML, with the real helm renders of
//! `shared/reference/k8s-gateway/`, after the controller's own changes (spec §8: nulls dropped by
//! typed decoding, the Gateway's namespace set) and the deviations of `docs/deviations.md`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use gloo_istio::diag::Diagnostic;
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

// ---- 10.1 the deployer's own suite ------------------------------------------------------------
//
// The fixtures of `deployer_test.go` as manifests. IN is `--controller xds-host=… xds-port=…`
// with the chart values' Istio and mTLS off; GWC is a GatewayClass in the manifests (the chart's
// own is off), so the class default is the manifest's GatewayParameters `default/gloo-gateway`.
// The suite's Gateway has apiVersion `gateway.solo.io/v1beta1`, Gloo Edge's group, which
// gloo-istio reads as an Edge Gateway: the Gateways here are `gateway.networking.k8s.io/v1`.

const IN: &[&str] = &["xds-host=something.cluster.local", "xds-port=1234"];

const GWC: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: gloo-gateway
spec:
  controllerName: solo.io/gloo-gateway
  parametersRef:
    group: gateway.gloo.solo.io
    kind: GatewayParameters
    name: gloo-gateway
    namespace: default
";

const DEF: &str = "apiVersion: gateway.gloo.solo.io/v1alpha1
kind: GatewayParameters
metadata:
  name: gloo-gateway
  namespace: default
spec:
  kube:
    deployment:
      replicas: 2
    envoyContainer:
      bootstrap:
        logLevel: debug
        componentLogLevels: {router: info, listener: warn}
      image: {registry: scooby, repository: dooby, tag: doo, pullPolicy: Always}
    podTemplate:
      extraAnnotations: {foo: bar}
      securityContext: {runAsUser: 1, runAsGroup: 2}
    service:
      type: ClusterIP
      clusterIP: 99.99.99.99
      extraLabels: {foo-label: bar-label}
      extraAnnotations: {foo: bar}
      externalTrafficPolicy: Cluster
    serviceAccount:
      extraLabels: {default-label-key: default-label-val}
      extraAnnotations: {default-anno-key: default-anno-val}
    stats:
      enabled: true
      routePrefixRewrite: /stats/prometheus
      enableStatsRoute: true
      statsRoutePrefixRewrite: /stats
";

const OVR: &str = "apiVersion: gateway.gloo.solo.io/v1alpha1
kind: GatewayParameters
metadata:
  name: gateway-params-override
  namespace: default
spec:
  kube:
    deployment:
      replicas: 3
    envoyContainer:
      bootstrap:
        logLevel: debug
        componentLogLevels: {router: info, listener: warn}
      image: {registry: foo, repository: bar, tag: bat, pullPolicy: Always}
    podTemplate:
      extraAnnotations: {override-foo: override-bar}
      securityContext: {runAsUser: 3, runAsGroup: 4}
    service:
      type: ClusterIP
      clusterIP: 99.99.99.99
      extraLabels: {override-foo-label: override-bar-label}
      extraAnnotations: {override-foo: override-bar}
      externalTrafficPolicy: Local
    serviceAccount:
      extraLabels: {override-label-key: override-label-val}
      extraAnnotations: {override-anno-key: override-anno-val}
";

/// SDS of the suite, as a `sdsContainer:` block under `spec.kube`.
const SDS: &str = "    sdsContainer:
      image: {registry: sds-registry, repository: sds-repository, tag: sds-tag, digest: sds-digest, pullPolicy: Always}
      securityContext: {runAsUser: 222}
      resources:
        limits: {cpu: 201m}
        requests: {cpu: 203m}
      bootstrap: {logLevel: debug}
";

/// GW: `default/foo`, one listener `listener-1` on 80; `annotation` names its GatewayParameters.
fn gw(annotation: Option<&str>) -> String {
    gateway(
        "foo",
        annotation,
        "  listeners:\n  - {name: listener-1, port: 80, protocol: HTTP}\n",
    )
}

fn gateway(name: &str, annotation: Option<&str>, listeners: &str) -> String {
    let annotations = annotation
        .map(|a| format!("  annotations:\n    gateway.gloo.solo.io/gateway-parameters-name: {a}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: default\n{annotations}spec:\n  gatewayClassName: gloo-gateway\n{listeners}"
    )
}

/// What `render -f VALUES -n default --controller … MANIFEST` gives: the deployer's objects
/// (parsed, the bootstrap parsed) and the findings, or the error text.
fn k_render(values: &str, documents: &[&str], controller: &[&str]) -> Result<(Vec<Value>, Vec<Diagnostic>), String> {
    let opts = RenderOptions {
        namespace: "default".into(),
        controller: controller.iter().map(|c| c.to_string()).collect(),
        ..RenderOptions::default()
    };
    render_with(values, documents, opts)
}

/// `render` with `opts`, the values and the manifest documents written to files first.
fn render_with(
    values: &str,
    documents: &[&str],
    mut opts: RenderOptions,
) -> Result<(Vec<Value>, Vec<Diagnostic>), String> {
    let tmp = tempfile::tempdir().unwrap();
    let values_path = tmp.path().join("values.yaml");
    std::fs::write(&values_path, values).unwrap();
    let manifest = tmp.path().join("gateways.yaml");
    std::fs::write(&manifest, documents.join("---\n")).unwrap();
    opts.values_files = vec![values_path];
    opts.manifests = vec![manifest];
    render_files(&opts)
        .map(|r| (ours(&r.manifests, true), r.findings))
        .map_err(|f| f.to_string())
}

fn k_docs(documents: &[&str], controller: &[&str]) -> Vec<Value> {
    k_render("{}\n", documents, controller).unwrap().0
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {docs:#?}"))
}

fn kinds_and_names(docs: &[Value]) -> Vec<(String, String)> {
    docs.iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The Service's ports: (name, port).
fn service_ports(docs: &[Value]) -> Vec<(&str, i64)> {
    of_kind(docs, "Service")["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["port"].as_i64().unwrap()))
        .collect()
}

fn bootstrap(docs: &[Value]) -> &Value {
    docs.iter()
        .find(|d| d["kind"] == "ConfigMap" && d.pointer("/data/envoy.yaml").is_some())
        .map(|d| &d["data"]["envoy.yaml"])
        .unwrap_or_else(|| panic!("no bootstrap in {docs:#?}"))
}

fn cluster<'a>(docs: &'a [Value], name: &str) -> Option<&'a Value> {
    bootstrap(docs)["static_resources"]["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
}

fn listener<'a>(docs: &'a [Value], name: &str) -> Option<&'a Value> {
    bootstrap(docs)["static_resources"]["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
}

fn env<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["env"].as_array().unwrap().iter().find(|e| e["name"] == name)
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()
}

fn the_four(name: &str) -> Vec<(String, String)> {
    ["ServiceAccount", "ConfigMap", "Service", "Deployment"]
        .iter()
        .map(|k| (k.to_string(), name.to_string()))
        .collect()
}

/// K07's facts, on the objects of DEF (or of DEF merged with OVR).
fn facts_of_k07(docs: &[Value]) {
    let pod = &of_kind(docs, "Deployment")["spec"]["template"];
    assert_eq!(pod["metadata"]["annotations"]["foo"], "bar");
    assert_eq!(pod["metadata"]["annotations"]["prometheus.io/scrape"], "true");
    let service = of_kind(docs, "Service");
    assert_eq!(service["metadata"]["annotations"]["foo"], "bar");
    assert_eq!(service["metadata"]["labels"]["foo-label"], "bar-label");
    assert_eq!(service["spec"]["type"], "ClusterIP");
    assert_eq!(service["spec"]["clusterIP"], "99.99.99.99");
    let account = of_kind(docs, "ServiceAccount");
    assert_eq!(
        account["metadata"]["annotations"]["default-anno-key"],
        "default-anno-val"
    );
    assert_eq!(account["metadata"]["labels"]["default-label-key"], "default-label-val");
    let args = strings(&container(docs, "gloo-gateway")["args"]);
    for arg in [
        "--log-level",
        "debug",
        "--component-log-level",
        "listener:warn,router:info",
    ] {
        assert!(args.contains(&arg), "{args:?}");
    }
}

#[test]
fn k01_class_default_without_spec() {
    let class_default = "apiVersion: gateway.gloo.solo.io/v1alpha1\nkind: GatewayParameters\nmetadata:\n  name: gloo-gateway\n  namespace: default\n";
    let docs = k_docs(&[GWC, class_default, &gateway("foo", None, "")], IN);
    assert_eq!(kinds_and_names(&docs), the_four("gloo-proxy-foo"));
    let envoy = container(&docs, "gloo-gateway");
    assert_eq!(envoy["image"], "%!s(<nil>)/%!s(<nil>):%!s(<nil>)");
    assert_eq!(envoy["imagePullPolicy"], "IfNotPresent");
    let service = of_kind(&docs, "Service");
    assert_eq!(service["spec"]["type"], "LoadBalancer");
    assert_eq!(
        service["spec"]["ports"],
        serde_json::json!([{"name": "http", "protocol": "TCP", "targetPort": 80, "port": 80}])
    );
    let address = &cluster(&docs, "xds_cluster").unwrap()["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
        ["address"]["socket_address"];
    assert_eq!(address["address"], "something.cluster.local");
    assert_eq!(address["port_value"], 1234);
}

#[test]
fn k02_aws_sts_cluster_from_the_controller() {
    let controller = [IN, &["aws-sts-cluster=my_sts_cluster", "aws-sts-uri=sts.cluster.uri"]].concat();
    let docs = k_docs(&[GWC, DEF, &gw(None)], &controller);
    let sts = cluster(&docs, "my_sts_cluster").expect("the STS cluster");
    assert_eq!(sts["load_assignment"]["cluster_name"], "my_sts_cluster");
    assert_eq!(sts["transport_socket"]["typed_config"]["sni"], "sts.cluster.uri");
}

#[test]
fn k03_no_aws_no_sts_cluster() {
    let docs = k_docs(&[GWC, DEF, &gw(None)], IN);
    let text = serde_json::to_string(bootstrap(&docs)).unwrap();
    assert!(
        !text.contains("my_sts_cluster") && !text.contains("sts.cluster.uri"),
        "{text}"
    );
    assert!(!text.contains("sts_cluster") && !text.contains("amazonaws"), "{text}");
}

#[test]
fn k04_aws_without_service_account_credentials_no_sts_cluster() {
    let values = "settings:\n  aws:\n    enableServiceAccountCredentials: false\n    stsCredentialsRegion: us-east-1\n";
    let (docs, _) = k_render(values, &[GWC, DEF, &gw(None)], IN).unwrap();
    let clusters: Vec<&str> = bootstrap(&docs)["static_resources"]["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(clusters, ["xds_cluster", "admin_port_cluster"]);
}

#[test]
fn k06_two_gateways_each_get_their_own_names() {
    let docs = k_docs(&[GWC, DEF, &gateway("foo", None, ""), &gateway("bar", None, "")], IN);
    let mut expected = the_four("gloo-proxy-bar");
    expected.extend(the_four("gloo-proxy-foo"));
    assert_eq!(kinds_and_names(&docs), expected);
    for doc in &docs {
        let name = doc["metadata"]["name"].as_str().unwrap();
        assert_eq!(doc["metadata"]["labels"]["app.kubernetes.io/name"], name);
    }
}

#[test]
fn k07_class_default_gateway_parameters() {
    let docs = k_docs(&[GWC, DEF, &gw(None)], IN);
    assert_eq!(kinds_and_names(&docs), the_four("gloo-proxy-foo"));
    assert_eq!(of_kind(&docs, "Deployment")["spec"]["replicas"], 2);
    let envoy = container(&docs, "gloo-gateway");
    assert_eq!(envoy["image"], "scooby/dooby:doo");
    assert_eq!(envoy["imagePullPolicy"], "Always");
    let pod = &of_kind(&docs, "Deployment")["spec"]["template"]["spec"];
    assert_eq!(
        pod["securityContext"],
        serde_json::json!({"runAsUser": 1, "runAsGroup": 2})
    );
    assert_eq!(of_kind(&docs, "Service")["spec"]["externalTrafficPolicy"], "Cluster");
    facts_of_k07(&docs);
}

#[test]
fn k08_gateway_level_parameters_merge_over_the_class_default() {
    let docs = k_docs(&[GWC, DEF, OVR, &gw(Some("gateway-params-override"))], IN);
    assert_eq!(kinds_and_names(&docs), the_four("gloo-proxy-foo"));
    assert_eq!(of_kind(&docs, "Deployment")["spec"]["replicas"], 3);
    let envoy = container(&docs, "gloo-gateway");
    assert_eq!(envoy["image"], "foo/bar:bat");
    assert_eq!(envoy["imagePullPolicy"], "Always");
    let pod = &of_kind(&docs, "Deployment")["spec"]["template"];
    assert_eq!(pod["metadata"]["annotations"]["override-foo"], "override-bar");
    assert_eq!(
        pod["spec"]["securityContext"],
        serde_json::json!({"runAsUser": 3, "runAsGroup": 4})
    );
    let service = of_kind(&docs, "Service");
    assert_eq!(
        service["metadata"]["labels"]["override-foo-label"],
        "override-bar-label"
    );
    assert_eq!(service["metadata"]["annotations"]["override-foo"], "override-bar");
    assert_eq!(service["spec"]["externalTrafficPolicy"], "Local");
    let account = of_kind(&docs, "ServiceAccount");
    assert_eq!(
        account["metadata"]["labels"]["override-label-key"],
        "override-label-val"
    );
    assert_eq!(
        account["metadata"]["annotations"]["override-anno-key"],
        "override-anno-val"
    );
    facts_of_k07(&docs);
}

/// FULL of the suite (`default/gloo-gateway`), with `extra` appended under `spec.kube`.
fn full(extra: &str) -> String {
    format!(
        "apiVersion: gateway.gloo.solo.io/v1alpha1
kind: GatewayParameters
metadata:
  name: gloo-gateway
  namespace: default
spec:
  kube:
    deployment:
      replicas: 3
    envoyContainer:
      bootstrap:
        logLevel: debug
        componentLogLevels: {{router: info, listener: warn}}
      image: {{registry: foo, repository: bar, tag: bat, pullPolicy: Always}}
      securityContext: {{runAsUser: 111}}
      resources:
        limits: {{cpu: 101m}}
        requests: {{cpu: 103m}}
{SDS}    podTemplate:
      extraAnnotations: {{pod-anno: foo}}
      extraLabels: {{pod-label: foo}}
      securityContext: {{runAsUser: 333}}
      imagePullSecrets: [{{name: pod-image-pull-secret}}]
      nodeSelector: {{pod-node-selector: foo}}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {{key: pod-affinity-nodeAffinity-required-expression-key, operator: In, values: [foo]}}
      tolerations:
      - {{key: pod-toleration-key, operator: Equal, value: foo, effect: NoExecute, tolerationSeconds: 1}}
    service:
      type: ClusterIP
      clusterIP: 99.99.99.99
      extraAnnotations: {{service-anno: foo}}
      extraLabels: {{service-label: foo}}
      externalTrafficPolicy: Local
    serviceAccount:
      extraLabels: {{a: b}}
      extraAnnotations: {{c: d}}
    istio:
      istioProxyContainer:
        image: {{registry: istio-registry, repository: istio-repository, tag: istio-tag, digest: istio-digest, pullPolicy: Always}}
        securityContext: {{runAsUser: 444}}
        resources:
          limits: {{cpu: 301m}}
          requests: {{cpu: 303m}}
        logLevel: debug
        istioDiscoveryAddress: istioDiscoveryAddress
        istioMetaMeshId: istioMetaMeshId
        istioMetaClusterId: istioMetaClusterId
    aiExtension:
      enabled: true
      ports: [{{name: foo, containerPort: 80}}]
      image: {{registry: ai-extension-registry, repository: ai-extension-repository, tag: ai-extension-tag, digest: ai-extension-digest, pullPolicy: Always}}
{extra}"
    )
}

/// OVR-SDS of the suite, with `extra` appended under `spec.kube`.
fn ovr_sds(extra: &str) -> String {
    format!(
        "apiVersion: gateway.gloo.solo.io/v1alpha1
kind: GatewayParameters
metadata:
  name: gateway-params-override
  namespace: default
spec:
  kube:
    sdsContainer:
      image: {{registry: foo, repository: bar, tag: baz}}
    istio:
      istioProxyContainer:
        image: {{registry: scooby, repository: dooby, tag: doo}}
        istioDiscoveryAddress: can't
        istioMetaMeshId: be
        istioMetaClusterId: overridden
    aiExtension:
      enabled: true
      image: {{registry: foo, repository: bar, tag: baz}}
      ports: [{{name: foo, containerPort: 80}}]
{extra}"
    )
}

fn in_istio() -> Vec<&'static str> {
    [IN, &["istio=true"]].concat()
}

fn container_names(docs: &[Value]) -> Vec<&str> {
    of_kind(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

fn cpu(container: &Value) -> (Value, Value) {
    (
        container["resources"]["limits"]["cpu"].clone(),
        container["resources"]["requests"]["cpu"].clone(),
    )
}

/// K09's facts; `floating` leaves out every `runAsUser` (K11).
fn facts_of_k09(docs: &[Value], floating: bool) {
    let mut expected = vec![
        ("ServiceAccount", "gloo-proxy-foo"),
        ("ConfigMap", "gloo-proxy-foo-ai-stats-config"),
    ];
    expected.extend([
        ("ConfigMap", "gloo-proxy-foo"),
        ("Service", "gloo-proxy-foo"),
        ("Deployment", "gloo-proxy-foo"),
    ]);
    let expected: Vec<(String, String)> = expected.into_iter().map(|(k, n)| (k.into(), n.into())).collect();
    assert_eq!(kinds_and_names(docs), expected);
    let deployment = of_kind(docs, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 3);
    assert_eq!(
        container_names(docs),
        ["gloo-gateway", "sds", "istio-proxy", "gloo-ai-extension"]
    );
    let envoy = container(docs, "gloo-gateway");
    assert_eq!(envoy["image"], "foo/bar:bat");
    assert_eq!(envoy["imagePullPolicy"], "Always");
    assert_eq!(cpu(envoy), ("101m".into(), "103m".into()));
    let args = strings(&envoy["args"]);
    for arg in [
        "--log-level",
        "debug",
        "--component-log-level",
        "listener:warn,router:info",
    ] {
        assert!(args.contains(&arg), "{args:?}");
    }
    let sds = container(docs, "sds");
    assert_eq!(sds["image"], "sds-registry/sds-repository:sds-tag@sds-digest");
    assert_eq!(sds["imagePullPolicy"], "Always");
    assert_eq!(cpu(sds), ("201m".into(), "203m".into()));
    assert_eq!(env(sds, "LOG_LEVEL").unwrap()["value"], "debug");
    assert_eq!(env(sds, "ISTIO_MTLS_SDS_ENABLED").unwrap()["value"], "true");
    let istio = container(docs, "istio-proxy");
    assert_eq!(istio["image"], "istio-registry/istio-repository:istio-tag@istio-digest");
    assert_eq!(istio["imagePullPolicy"], "Always");
    assert_eq!(cpu(istio), ("301m".into(), "303m".into()));
    assert!(strings(&istio["args"]).contains(&"--proxyLogLevel=debug"));
    assert_eq!(env(istio, "CA_ADDR").unwrap()["value"], "istioDiscoveryAddress");
    assert_eq!(env(istio, "ISTIO_META_MESH_ID").unwrap()["value"], "istioMetaMeshId");
    assert_eq!(
        env(istio, "ISTIO_META_CLUSTER_ID").unwrap()["value"],
        "istioMetaClusterId"
    );
    let ai = container(docs, "gloo-ai-extension");
    assert!(
        ai["image"]
            .as_str()
            .unwrap()
            .contains("ai-extension-registry/ai-extension-repository"),
        "{}",
        ai["image"]
    );
    assert_eq!(ai["ports"].as_array().unwrap().len(), 1);
    let pod = &deployment["spec"]["template"]["spec"];
    if floating {
        assert!(!serde_json::to_string(docs).unwrap().contains("runAsUser"));
        for name in ["gloo-gateway", "sds", "istio-proxy"] {
            assert!(container(docs, name).get("securityContext").is_none(), "{name}");
        }
    } else {
        assert_eq!(pod["securityContext"]["runAsUser"], 333);
        assert_eq!(envoy["securityContext"]["runAsUser"], 111);
        assert_eq!(sds["securityContext"]["runAsUser"], 222);
        assert_eq!(istio["securityContext"]["runAsUser"], 444);
    }
    assert_eq!(
        pod["imagePullSecrets"],
        serde_json::json!([{"name": "pod-image-pull-secret"}])
    );
    assert_eq!(pod["nodeSelector"], serde_json::json!({"pod-node-selector": "foo"}));
    assert!(pod["affinity"]["nodeAffinity"].is_object());
    assert_eq!(pod["tolerations"][0]["tolerationSeconds"], 1);
    let service = of_kind(docs, "Service");
    assert_eq!(
        service["metadata"]["annotations"],
        serde_json::json!({"service-anno": "foo"})
    );
    assert_eq!(service["metadata"]["labels"]["service-label"], "foo");
    assert_eq!(service["spec"]["externalTrafficPolicy"], "Local");
    let account = of_kind(docs, "ServiceAccount");
    assert_eq!(account["metadata"]["labels"]["a"], "b");
    assert_eq!(account["metadata"]["annotations"], serde_json::json!({"c": "d"}));
    assert!(cluster(docs, "gateway_proxy_sds").is_some());
    assert!(listener(docs, "prometheus_listener").is_none());
}

#[test]
fn k09_full_class_default_with_istio_and_the_ai_extension() {
    let docs = k_docs(&[GWC, &full(""), &gw(None)], &in_istio());
    facts_of_k09(&docs, false);
}

#[test]
fn k10_probes_termination_grace_and_graceful_shutdown() {
    let extra = "    podTemplate:
      livenessProbe:
        exec:
          command: [wget, -O, /dev/null, 127.0.0.1:19000/server_info]
        initialDelaySeconds: 3
        periodSeconds: 10
        failureThreshold: 3
      readinessProbe:
        httpGet: {scheme: HTTP, port: 8082, path: /envoy-hc}
        initialDelaySeconds: 5
        periodSeconds: 5
        failureThreshold: 2
      terminationGracePeriodSeconds: 5
      gracefulShutdown: {enabled: true, sleepTimeSeconds: 7}
";
    // The probe settings go in the one podTemplate of FULL.
    let parameters = full("").replace("    podTemplate:\n", extra);
    let docs = k_docs(&[GWC, &parameters, &gw(None)], &in_istio());
    facts_of_k09(&docs, false);
    let pod = &of_kind(&docs, "Deployment")["spec"]["template"]["spec"];
    assert_eq!(pod["terminationGracePeriodSeconds"], 5);
    let envoy = container(&docs, "gloo-gateway");
    assert_eq!(
        envoy["livenessProbe"],
        serde_json::json!({"exec": {"command": ["wget", "-O", "/dev/null", "127.0.0.1:19000/server_info"]},
            "initialDelaySeconds": 3, "periodSeconds": 10, "failureThreshold": 3})
    );
    assert_eq!(
        envoy["readinessProbe"],
        serde_json::json!({"httpGet": {"scheme": "HTTP", "port": 8082, "path": "/envoy-hc"},
            "initialDelaySeconds": 5, "periodSeconds": 5, "failureThreshold": 2})
    );
    assert_eq!(
        envoy["lifecycle"]["preStop"]["exec"]["command"],
        serde_json::json!([
            "/bin/sh",
            "-c",
            "wget --post-data \"\" -O /dev/null 127.0.0.1:19000/healthcheck/fail; sleep 7"
        ])
    );
    let filters = serde_json::to_string(&listener(&docs, "readiness_listener").unwrap()).unwrap();
    assert!(filters.contains("envoy.filters.http.health_check"), "{filters}");
}

#[test]
fn k11_floating_user_id_drops_every_run_as_user() {
    let docs = k_docs(&[GWC, &full("    floatingUserId: true\n"), &gw(None)], &in_istio());
    facts_of_k09(&docs, true);
}

/// K12/K13's facts: DEF has no istio block, so the Gateway-level istio-proxy comes whole.
fn facts_of_k12(docs: &[Value]) {
    assert_eq!(
        container_names(docs),
        ["gloo-gateway", "sds", "istio-proxy", "gloo-ai-extension"]
    );
    assert!(cluster(docs, "gateway_proxy_sds").is_some());
    let sds = container(docs, "sds");
    assert_eq!(sds["image"], "foo/bar:baz");
    assert!(sds.get("imagePullPolicy").is_none());
    assert_eq!(
        env(sds, "LOG_LEVEL").unwrap(),
        &serde_json::json!({"name": "LOG_LEVEL"})
    );
    let istio = container(docs, "istio-proxy");
    assert_eq!(istio["image"], "scooby/dooby:doo");
    assert_eq!(env(istio, "CA_ADDR").unwrap()["value"], "can't");
    assert_eq!(env(istio, "ISTIO_META_MESH_ID").unwrap()["value"], "be");
    assert_eq!(env(istio, "ISTIO_META_CLUSTER_ID").unwrap()["value"], "overridden");
}

#[test]
fn k12_gateway_level_sds_istio_and_ai_extension() {
    let docs = k_docs(
        &[GWC, DEF, &ovr_sds(""), &gw(Some("gateway-params-override"))],
        &in_istio(),
    );
    facts_of_k12(&docs);
}

#[test]
fn k13_gateway_level_floating_user_id() {
    let docs = k_docs(
        &[
            GWC,
            DEF,
            &ovr_sds("    floatingUserId: true\n"),
            &gw(Some("gateway-params-override")),
        ],
        &in_istio(),
    );
    facts_of_k12(&docs);
    assert!(!serde_json::to_string(&docs).unwrap().contains("runAsUser"));
}

#[test]
fn k27_topology_spread_constraints() {
    let spread = "      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {pod-label: default}
";
    let parameters = full("").replace("    podTemplate:\n", &format!("    podTemplate:\n{spread}"));
    let docs = k_docs(&[GWC, &parameters, &gw(None)], &in_istio());
    facts_of_k09(&docs, false);
    assert_eq!(
        of_kind(&docs, "Deployment")["spec"]["template"]["spec"]["topologySpreadConstraints"],
        serde_json::json!([{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"pod-label": "default"}}}])
    );
}

#[test]
fn ai_extension_without_enabled_is_refused() {
    let parameters = full("").replace("      enabled: true\n      ports:", "      ports:");
    let error = k_render("{}\n", &[GWC, &parameters, &gw(None)], &in_istio()).unwrap_err();
    assert!(
        error.contains("GI070") && error.contains("aiExtension.enabled"),
        "{error}"
    );
}

#[test]
fn k14_no_replicas_without_deployment_replicas() {
    let class_default = "apiVersion: gateway.gloo.solo.io/v1alpha1\nkind: GatewayParameters\nmetadata:\n  name: gloo-gateway\n  namespace: default\nspec:\n  kube:\n    service:\n      type: LoadBalancer\n";
    let docs = k_docs(&[GWC, class_default, &gw(None)], IN);
    assert!(of_kind(&docs, "Deployment")["spec"].get("replicas").is_none());
}

#[test]
fn k15_gateway_without_listeners_gets_the_default_port() {
    let docs = k_docs(&[GWC, DEF, &gateway("foo", None, "")], IN);
    assert_eq!(kinds_and_names(&docs), the_four("gloo-proxy-foo"));
    let ports = &of_kind(&docs, "Service")["spec"]["ports"];
    assert_eq!(
        ports,
        &serde_json::json!([{"name": "http", "protocol": "TCP", "targetPort": 80, "port": 80}])
    );
}

#[test]
fn k16_port_80_targets_8080_without_node_port() {
    let docs = k_docs(&[GWC, DEF, &gw(None)], IN);
    let ports = &of_kind(&docs, "Service")["spec"]["ports"];
    assert_eq!(
        ports,
        &serde_json::json!([{"name": "listener-1", "protocol": "TCP", "targetPort": 8080, "port": 80}])
    );
}

#[test]
fn k17_node_port_from_the_gateway_level_service_ports() {
    let node_port = "apiVersion: gateway.gloo.solo.io/v1alpha1\nkind: GatewayParameters\nmetadata:\n  name: node-port\n  namespace: default\nspec:\n  kube:\n    service:\n      type: NodePort\n      ports:\n      - {port: 80, nodePort: 30000}\n";
    let docs = k_docs(&[GWC, DEF, node_port, &gw(Some("node-port"))], IN);
    let service = of_kind(&docs, "Service");
    assert_eq!(service["spec"]["type"], "NodePort");
    assert_eq!(
        service["spec"]["ports"],
        serde_json::json!([{"name": "listener-1", "protocol": "TCP", "targetPort": 8080, "port": 80, "nodePort": 30000}])
    );
}

#[test]
fn k18_the_first_listener_of_a_port_counts() {
    let listeners = "  listeners:\n  - {name: listener-1, port: 80, protocol: HTTP}\n  - {name: listener-2, port: 80, protocol: HTTP}\n";
    let docs = k_docs(&[GWC, DEF, &gateway("foo", None, listeners)], IN);
    assert_eq!(
        of_kind(&docs, "Service")["spec"]["ports"],
        serde_json::json!([{"name": "listener-1", "protocol": "TCP", "targetPort": 8080, "port": 80}])
    );
}

/// The suite's Gateway has uid `1235`. Offline, the uid is known only when the manifest carries
/// it (a Gateway read back from the cluster); without it the reference is left out (the
/// reference cases, and docs/k8s-gateway.md).
#[test]
fn k19_owner_reference_when_the_gateway_uid_is_known() {
    let with_uid = gw(None).replace("  namespace: default\n", "  namespace: default\n  uid: \"1235\"\n");
    let docs = k_docs(&[GWC, DEF, &with_uid], IN);
    assert_eq!(docs.len(), 4);
    for doc in &docs {
        assert_eq!(
            doc["metadata"]["ownerReferences"],
            serde_json::json!([{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                "name": "foo", "uid": "1235", "controller": true}]),
            "{}",
            doc["kind"]
        );
    }
    let without = k_docs(&[GWC, DEF, &gw(None)], IN);
    assert!(without.iter().all(|d| d["metadata"].get("ownerReferences").is_none()));
}

#[test]
fn k20_bootstrap_role_and_prometheus_listener() {
    let docs = k_docs(&[GWC, DEF, &gw(None)], IN);
    assert_eq!(
        bootstrap(&docs)["node"]["metadata"],
        serde_json::json!({"role": "gloo-kube-gateway-api~default~default-foo"})
    );
    assert!(listener(&docs, "prometheus_listener").is_some());
}

#[test]
fn k21_gateway_level_stats_off() {
    let stats_off = "apiVersion: gateway.gloo.solo.io/v1alpha1\nkind: GatewayParameters\nmetadata:\n  name: no-stats\n  namespace: default\nspec:\n  kube:\n    stats: {enabled: false, enableStatsRoute: false}\n";
    let docs = k_docs(&[GWC, DEF, stats_off, &gw(Some("no-stats"))], IN);
    assert_eq!(
        bootstrap(&docs)["node"]["metadata"]["role"],
        "gloo-kube-gateway-api~default~default-foo"
    );
    assert!(listener(&docs, "prometheus_listener").is_none());
    let pod = &of_kind(&docs, "Deployment")["spec"]["template"];
    let annotations = serde_json::to_string(&pod["metadata"]["annotations"]).unwrap();
    assert!(!annotations.contains("prometheus"), "{annotations}");
    let ports = serde_json::to_string(&container(&docs, "gloo-gateway")["ports"]).unwrap();
    assert!(!ports.contains("http-monitoring"), "{ports}");
}

#[test]
fn k22_missing_gateway_level_parameters_refused() {
    let error = k_render("{}\n", &[GWC, DEF, &gw(Some("bad-gwp"))], IN).unwrap_err();
    assert!(
        error.contains("could not retrieve GatewayParameters default.bad-gwp"),
        "{error}"
    );
    assert!(error.contains("GI070"), "{error}");
}

/// The deployer built without its inputs fails; offline, its inputs are the chart values that
/// install the class (`kubeGateway.enabled`) or a GatewayClass in the manifests. A Gateway given
/// without either is refused: exit 1, located, nothing on stdout.
#[test]
fn k23_gateway_without_the_deployer_inputs_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = tmp.path().join("gateways.yaml");
    std::fs::write(&manifest, gw(None)).unwrap();
    let empty = tmp.path().join("values.yaml");
    std::fs::write(&empty, "{}\n").unwrap();
    for args in [
        vec!["render", common::path_str(&manifest)],
        vec!["render", "-f", common::path_str(&empty), common::path_str(&manifest)],
    ] {
        let output = common::run_bin(&args, b"", None);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("error[GI070]"), "{stderr}");
        assert!(stderr.contains("gateways.yaml:1:1"), "{stderr}");
        assert!(stderr.contains("kubeGateway.enabled"), "{stderr}");
    }
}

#[test]
fn k24_self_managed_class_default_gives_no_objects() {
    let class_default = "apiVersion: gateway.gloo.solo.io/v1alpha1\nkind: GatewayParameters\nmetadata:\n  name: gloo-gateway\n  namespace: default\nspec:\n  selfManaged: {}\n";
    let (docs, findings) = k_render("{}\n", &[GWC, class_default, &gw(None)], IN).unwrap();
    assert!(docs.is_empty());
    assert!(findings.iter().any(|d| d.code == "GI071"), "{findings:?}");
}

#[test]
fn k25_self_managed_gateway_level_parameters_give_no_objects() {
    let self_managed = "apiVersion: gateway.gloo.solo.io/v1alpha1\nkind: GatewayParameters\nmetadata:\n  name: self-managed\n  namespace: default\nspec:\n  selfManaged: {}\n";
    let (docs, findings) = k_render("{}\n", &[GWC, DEF, self_managed, &gw(Some("self-managed"))], IN).unwrap();
    assert!(docs.is_empty());
    assert!(findings.iter().any(|d| d.code == "GI071"), "{findings:?}");
}

/// The controller's watch setup renders a placeholder Gateway (Istio off, `image: {}`) to learn
/// which kinds the deployer creates; offline, the same render of a Gateway whose class default
/// has no `spec` gives those kinds: the four objects, and the mTLS Secret with gloo mTLS on
/// (the watch setup's `image: {}` stands in for the sds container, which a real render needs).
#[test]
fn k05_kinds_the_deployer_creates_with_and_without_gloo_mtls() {
    let class_default = "apiVersion: gateway.gloo.solo.io/v1alpha1\nkind: GatewayParameters\nmetadata:\n  name: gloo-gateway\n  namespace: default\n";
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gloo-mtls-certs\n  namespace: default\ntype: kubernetes.io/tls\ndata:\n  ca.crt: Y2E=\n  tls.crt: Y2VydA==\n  tls.key: a2V5\n";
    let kinds = |docs: &[Value]| {
        let mut kinds: Vec<String> = docs.iter().map(|d| d["kind"].as_str().unwrap().to_string()).collect();
        kinds.sort();
        kinds
    };
    let placeholder = gateway("placeholder", None, "");
    let plain = k_docs(&[GWC, class_default, &placeholder], &[IN, &["istio=false"]].concat());
    assert_eq!(kinds(&plain), ["ConfigMap", "Deployment", "Service", "ServiceAccount"]);
    assert_eq!(
        container(&plain, "gloo-gateway")["image"],
        "%!s(<nil>)/%!s(<nil>):%!s(<nil>)"
    );
    // gloo mTLS needs the sds container, which the class default then carries.
    let with_sds = format!("{class_default}spec:\n  kube:\n{SDS}");
    let mtls = k_docs(
        &[GWC, &with_sds, secret, &placeholder],
        &[IN, &["istio=false", "gloo-mtls=true"]].concat(),
    );
    assert_eq!(
        kinds(&mtls),
        ["ConfigMap", "Deployment", "Secret", "Service", "ServiceAccount"]
    );
}

/// IN-MTLS: mTLS on, the control plane (the release namespace) is `default`.
#[test]
fn k26_gloo_mtls_copies_the_secret_and_secures_xds() {
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gloo-mtls-certs\n  namespace: default\ntype: kubernetes.io/tls\ndata:\n  ca.crt: Y2E=\n  tls.crt: Y2VydA==\n  tls.key: a2V5\n";
    let with_sds = format!("{DEF}{SDS}");
    let controller = [IN, &["gloo-mtls=true"]].concat();
    let docs = k_docs(&[GWC, &with_sds, secret, &gw(None)], &controller);
    let mut expected = the_four("gloo-proxy-foo");
    expected.insert(1, ("Secret".into(), "gloo-mtls-certs".into()));
    assert_eq!(kinds_and_names(&docs), expected);
    let copy = of_kind(&docs, "Secret");
    assert_eq!(copy["type"], "kubernetes.io/tls");
    assert_eq!(
        copy["data"],
        serde_json::json!({"ca.crt": "Y2E=", "tls.crt": "Y2VydA==", "tls.key": "a2V5"})
    );
    facts_of_k07(&docs);
    let sds = container(&docs, "sds");
    assert_eq!(env(sds, "GLOO_MTLS_SDS_ENABLED").unwrap()["value"], "true");
    assert!(env(sds, "ISTIO_MTLS_SDS_ENABLED").is_none());
    assert_eq!(
        sds["readinessProbe"],
        serde_json::json!({"failureThreshold": 3, "initialDelaySeconds": 3, "periodSeconds": 10,
            "successThreshold": 1, "tcpSocket": {"port": 8234}, "timeoutSeconds": 1})
    );
    let xds = cluster(&docs, "xds_cluster").unwrap();
    assert_eq!(xds["transport_socket"]["name"], "envoy.transport_sockets.tls");
    for name in ["gloo-gateway", "sds"] {
        let mounts = serde_json::to_string(&container(&docs, name)["volumeMounts"]).unwrap();
        assert!(mounts.contains("\"/etc/envoy/ssl\""), "{name}: {mounts}");
    }
}

#[test]
fn k28_accepted_listener_set_adds_its_listeners() {
    let gateway = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: foo\n  namespace: default\nspec:\n  gatewayClassName: gloo-gateway\n  allowedListeners:\n    namespaces:\n      from: All\n  listeners:\n  - {name: listener-1, port: 1234, protocol: HTTP}\n";
    let listener_set = "apiVersion: gateway.networking.x-k8s.io/v1alpha1\nkind: XListenerSet\nmetadata:\n  name: ls-1\n  namespace: default\nspec:\n  parentRef:\n    name: foo\n  listeners:\n  - {name: listener-1, port: 4567, protocol: HTTP}\n";
    let docs = k_docs(&[GWC, DEF, gateway, listener_set], IN);
    assert_eq!(docs.len(), 4);
    assert_eq!(
        of_kind(&docs, "Service")["spec"]["ports"],
        serde_json::json!([
            {"name": "listener-1", "protocol": "TCP", "targetPort": 1234, "port": 1234},
            {"name": "1-listener-1", "protocol": "TCP", "targetPort": 4567, "port": 4567}
        ])
    );
    let ports: Vec<(&str, i64)> = container(&docs, "gloo-gateway")["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["containerPort"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        ports,
        [("listener-1", 1234), ("1-listener-1", 4567), ("http-monitoring", 9091)]
    );
    // Without allowedListeners the ListenerSet is not accepted, and an info finding says so.
    let closed = gateway.replace("  allowedListeners:\n    namespaces:\n      from: All\n", "");
    let (docs, findings) = k_render("{}\n", &[GWC, DEF, &closed, listener_set], IN).unwrap();
    assert_eq!(of_kind(&docs, "Service")["spec"]["ports"].as_array().unwrap().len(), 1);
    assert!(
        findings
            .iter()
            .any(|d| d.code == "GI071" && d.message.contains("ListenerSet default/ls-1")),
        "{findings:?}"
    );
}

/// `from: Selector`: the labels of the ListenerSet's Namespace decide when the manifests hold
/// it (with the `kubernetes.io/metadata.name` label every Namespace has); without it the
/// ListenerSet is taken as selected, and a warning says so.
#[test]
fn listener_sets_by_namespace_selector() {
    let gateway = |selector: &str| {
        let selector = if selector.is_empty() {
            String::new()
        } else {
            format!("      selector: {selector}\n")
        };
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: foo\n  namespace: default\nspec:\n  gatewayClassName: gloo-gateway\n  allowedListeners:\n    namespaces:\n      from: Selector\n{selector}  listeners:\n  - {{name: listener-1, port: 1234, protocol: HTTP}}\n"
        )
    };
    let listener_set = "apiVersion: gateway.networking.x-k8s.io/v1alpha1\nkind: XListenerSet\nmetadata:\n  name: ls-1\n  namespace: team-a\nspec:\n  parentRef:\n    name: foo\n    namespace: default\n  listeners:\n  - {name: listener-1, port: 4567, protocol: HTTP}\n";
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n  labels:\n    shared-gateway: \"true\"\n    tier: web\n";
    let ports = |documents: &[&str]| {
        let (docs, findings) = k_render("{}\n", documents, IN).unwrap();
        let ports: Vec<i64> = of_kind(&docs, "Service")["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["port"].as_i64().unwrap())
            .collect();
        let codes: Vec<&'static str> = findings
            .iter()
            .filter(|d| d.message.contains("ListenerSet team-a/ls-1"))
            .map(|d| d.code)
            .collect();
        (ports, codes)
    };
    let selectors = [
        ("{matchLabels: {shared-gateway: \"true\"}}", true),
        ("{matchLabels: {shared-gateway: \"false\"}}", false),
        ("{matchLabels: {kubernetes.io/metadata.name: team-a}}", true),
        ("{}", true),
        ("", false),
        (
            "{matchExpressions: [{key: tier, operator: In, values: [web, api]}]}",
            true,
        ),
        ("{matchExpressions: [{key: tier, operator: In, values: [api]}]}", false),
        (
            "{matchExpressions: [{key: tier, operator: NotIn, values: [web]}]}",
            false,
        ),
        ("{matchExpressions: [{key: team, operator: NotIn, values: [b]}]}", true),
        (
            "{matchExpressions: [{key: shared-gateway, operator: Exists}, {key: legacy, operator: DoesNotExist}]}",
            true,
        ),
        ("{matchExpressions: [{key: tier, operator: DoesNotExist}]}", false),
        (
            "{matchLabels: {tier: web}, matchExpressions: [{key: team, operator: Exists}]}",
            false,
        ),
    ];
    for (selector, selected) in selectors {
        let gateway = gateway(selector);
        let (ports, codes) = ports(&[GWC, DEF, &gateway, listener_set, namespace]);
        if selected {
            assert_eq!((ports, codes), (vec![1234, 4567], vec![]), "{selector}");
        } else {
            assert_eq!((ports, codes), (vec![1234], vec!["GI071"]), "{selector}");
        }
    }
    // What the API server refuses is refused, located: a selector of the wrong shape, an
    // operator without the values it needs or with values it forbids, Namespace labels that
    // are not a map of strings.
    for (selector, problem) in [
        ("oops", "is not a label selector"),
        ("{matchLabels: [a, b]}", "is not a label selector"),
        ("{matchLabels: {tier: 1}}", "is not a label selector"),
        (
            "{matchExpressions: [{key: tier, operator: In}]}",
            "operator In and no values",
        ),
        (
            "{matchExpressions: [{key: tier, operator: Exists, values: [web]}]}",
            "operator Exists and values",
        ),
        (
            "{matchExpressions: [{key: tier, operator: Gt, values: [\"1\"]}]}",
            "operator `Gt`",
        ),
        ("{matchLabel: {tier: web}}", "unknown field `matchLabel`"),
    ] {
        let gateway = gateway(selector);
        let error = k_render("{}\n", &[GWC, DEF, &gateway, listener_set, namespace], IN).unwrap_err();
        assert!(
            error.contains("error[GI070]") && error.contains(problem),
            "{selector}: {error}"
        );
        assert!(error.contains("spec.allowedListeners.namespaces.selector"), "{error}");
    }
    let listed = namespace.replace(
        "  labels:\n    shared-gateway: \"true\"\n    tier: web\n",
        "  labels: [a]\n",
    );
    let error = k_render("{}\n", &[GWC, DEF, &gateway(selectors[0].0), listener_set, &listed], IN).unwrap_err();
    assert!(
        error.contains("the labels of Namespace team-a are not a map of strings"),
        "{error}"
    );
    // Without the Namespace, its labels are unknown: selected, with a warning.
    let gateway = gateway(selectors[1].0);
    let (docs, findings) = k_render("{}\n", &[GWC, DEF, &gateway, listener_set], IN).unwrap();
    assert_eq!(of_kind(&docs, "Service")["spec"]["ports"].as_array().unwrap().len(), 2);
    let warning = findings.iter().find(|d| d.code == "GI079").expect("GI079");
    assert_eq!(warning.level, gloo_istio::diag::Level::Warning);
    assert!(warning.message.contains("no Namespace team-a"), "{}", warning.message);
    // `--fail-on warning` then renders nothing.
    let tmp = tempfile::tempdir().unwrap();
    let manifest = tmp.path().join("gateways.yaml");
    std::fs::write(&manifest, [GWC, DEF, &gateway, listener_set].join("---\n")).unwrap();
    let values = tmp.path().join("values.yaml");
    std::fs::write(&values, "{}\n").unwrap();
    let mut args = vec!["render", "-n", "default", "--fail-on", "warning"];
    args.extend(["-f", common::path_str(&values)]);
    for pair in IN {
        args.extend(["--controller", pair]);
    }
    args.push(common::path_str(&manifest));
    let output = common::run_bin(&args, b"", None);
    assert_eq!(output.status.code(), Some(1), "{}", common::output_text(&output));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("warning[GI079]"));
}

/// Gateways and ListenerSets that the API server refuses never reach the deployer: refused,
/// located at the field. A Gateway without listeners passes (K01, K15).
#[test]
fn listener_fields_the_api_server_refuses_are_refused() {
    let gateway = |namespace: &str, listeners: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: foo\n  namespace: {namespace}\nspec:\n  gatewayClassName: gloo-gateway\n  allowedListeners:\n    namespaces:\n      from: All\n  listeners: {listeners}\n"
        )
    };
    let ok = "[{name: http, port: 80, protocol: HTTP}]";
    let set = |fields: &str| {
        format!(
            "apiVersion: gateway.networking.x-k8s.io/v1alpha1\nkind: XListenerSet\nmetadata:\n  name: ls\n  namespace: default\nspec:\n{fields}"
        )
    };
    let set_listeners = "  listeners: [{name: extra, port: 8081, protocol: HTTP}]\n";
    // (Gateway, ListenerSet, the message, where the error points: the text it starts at)
    let cases = [
        (
            gateway("default", "[{name: http, port: \"80\", protocol: HTTP}]"),
            None,
            "listener `http` has no port",
            "port: \"80\"",
        ),
        (
            gateway("default", "[{name: http, port: 70000, protocol: HTTP}]"),
            None,
            "from 1 to 65535",
            "port: 70000",
        ),
        (
            gateway("default", "[{name: http, port: 0, protocol: HTTP}]"),
            None,
            "from 1 to 65535",
            "port: 0",
        ),
        (
            gateway("default", "{http: 80}"),
            None,
            "spec.listeners is not a list",
            "listeners: {",
        ),
        (
            gateway("default", "[{port: 80, protocol: HTTP}]"),
            None,
            "listener 0 has no name",
            "{port: 80",
        ),
        (
            gateway("default", "[{name: Web_1, port: 80, protocol: HTTP}]"),
            None,
            "DNS subdomain: `Web_1`",
            "name: Web_1",
        ),
        (
            gateway(
                "default",
                "[{name: a, port: 80, protocol: HTTP}, {name: a, port: 81, protocol: HTTP}]",
            ),
            None,
            "two listeners are named `a`",
            "name: a, port: 81",
        ),
        (
            gateway("default", "[{name: http, port: 80}]"),
            None,
            "listener `http` has no protocol",
            "{name: http, port: 80}",
        ),
        (
            gateway("Team_A", ok),
            None,
            "metadata.namespace is not a namespace name",
            "namespace: Team_A",
        ),
        (
            gateway("default", ok),
            Some(set(&format!("  parentRef: {{kind: Gateway}}\n{set_listeners}"))),
            "XListenerSet default/ls: spec.parentRef has no name",
            "parentRef: {kind",
        ),
        (
            gateway("default", ok),
            Some(set(
                "  parentRef: {name: foo}\n  listeners: [{name: extra, port: -1, protocol: HTTP}]\n",
            )),
            "XListenerSet default/ls: listener `extra` has no port",
            "port: -1",
        ),
    ];
    for (gateway, listener_set, message, at) in &cases {
        let mut documents = vec![GWC, DEF, gateway.as_str()];
        documents.extend(listener_set.as_deref());
        let error = k_render("{}\n", &documents, IN).unwrap_err();
        assert!(
            error.contains("error[GI070]") && error.contains(message),
            "{message}: {error}"
        );
        // The error's place is where `at` starts in the manifest (line and column from 1).
        let text = documents.join("---\n");
        let offset = text.find(at).unwrap_or_else(|| panic!("{at} not in {text}"));
        let line = text[..offset].matches('\n').count() + 1;
        let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
        assert!(
            error.contains(&format!("gateways.yaml:{line}:{column}:")),
            "{message}: expected at {line}:{column}: {error}"
        );
    }
    // The same Gateways, written right, render; so does one without listeners.
    assert_eq!(k_docs(&[GWC, DEF, &gateway("default", ok)], IN).len(), 4);
    assert_eq!(k_docs(&[GWC, DEF, &gateway("default", "[]")], IN).len(), 4);
    // Through the binary: exit 1, nothing on stdout.
    let tmp = tempfile::tempdir().unwrap();
    let manifest = tmp.path().join("gateways.yaml");
    std::fs::write(&manifest, [GWC, DEF, cases[0].0.as_str()].join("---\n")).unwrap();
    let values = tmp.path().join("values.yaml");
    std::fs::write(&values, "kubeGateway: {enabled: true}\n").unwrap();
    let output = common::run_bin(
        &["render", "-f", common::path_str(&values), common::path_str(&manifest)],
        b"",
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", common::output_text(&output));
    assert!(output.stdout.is_empty());
}

/// ListenerSets come oldest first when the manifests carry their creation time; those without
/// one (not created yet) after them, by namespace and name.
#[test]
fn listener_sets_in_creation_order() {
    let gateway = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: foo\n  namespace: default\nspec:\n  gatewayClassName: gloo-gateway\n  allowedListeners:\n    namespaces:\n      from: All\n  listeners:\n  - {name: own, port: 1000, protocol: HTTP}\n";
    let set = |name: &str, created: Option<&str>, port: u16| {
        let created = created
            .map(|c| format!("  creationTimestamp: \"{c}\"\n"))
            .unwrap_or_default();
        format!(
            "apiVersion: gateway.networking.x-k8s.io/v1alpha1\nkind: XListenerSet\nmetadata:\n  name: {name}\n  namespace: default\n{created}spec:\n  parentRef:\n    name: foo\n  listeners:\n  - {{name: l, port: {port}, protocol: HTTP}}\n"
        )
    };
    let sets = [
        set("a-new", None, 2001),
        set("b-late", Some("2026-03-01T10:00:00Z"), 2002),
        set("c-early", Some("2025-12-31T23:59:59Z"), 2003),
        set("d-new", None, 2004),
    ];
    let mut documents = vec![GWC, DEF, gateway];
    documents.extend(sets.iter().map(String::as_str));
    let docs = k_docs(&documents, IN);
    let ports = service_ports(&docs);
    // The index in each name is the ListenerSet's place; the Service lists the ports sorted.
    let expected = [
        ("own", 1000),
        ("3-l", 2001),
        ("2-l", 2002),
        ("1-l", 2003),
        ("4-l", 2004),
    ];
    assert_eq!(ports, expected);
}

#[test]
fn controller_overrides_are_checked() {
    for (bad, why) in [
        ("xds-port=0", "not a port"),
        ("istio=yes", "not true or false"),
        ("xds-host=a\nb: c", "not a host"),
        ("colour=blue", "unknown key"),
        ("istio", "KEY=VALUE"),
    ] {
        let error = k_render("{}\n", &[GWC, DEF, &gw(None)], &[bad]).unwrap_err();
        assert!(error.contains(why), "{bad}: {error}");
    }
}

// R05, R09, R14 and R20 have no reference files: their inputs are built from the spec's
// description (release `gloo` in `gloo-system`, controller settings from the values).

fn e2e(values: &str, documents: &[&str]) -> Result<(Vec<Value>, Vec<Diagnostic>), String> {
    render_with(values, documents, RenderOptions::default())
}

/// [`e2e`] of one of the `input_of_r…` cases.
fn e2e_case((values, documents): (&str, Vec<String>)) -> Result<(Vec<Value>, Vec<Diagnostic>), String> {
    let documents: Vec<&str> = documents.iter().map(String::as_str).collect();
    e2e(values, &documents)
}

fn parameters(name: &str, namespace: &str, kube: &str) -> String {
    format!(
        "apiVersion: gateway.gloo.solo.io/v1alpha1\nkind: GatewayParameters\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  kube:\n{kube}"
    )
}

fn annotated_gateway(name: &str, namespace: &str, parameters: &str, listeners: &[(&str, i64)]) -> String {
    let listeners: String = listeners
        .iter()
        .map(|(n, p)| format!("  - {{name: {n}, port: {p}, protocol: HTTP}}\n"))
        .collect();
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  annotations:\n    gateway.gloo.solo.io/gateway-parameters-name: {parameters}\nspec:\n  gatewayClassName: gloo-gateway\n  listeners:\n{listeners}"
    )
}

fn input_of_r05() -> (&'static str, Vec<String>) {
    let values = "global:\n  istioIntegration:\n    enabled: true\nkubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      sdsContainer:\n        image:\n          tag: sds-override-tag\n          registry: sds-override-registry\n          repository: sds-override-repository\n          pullPolicy: Never\n        logLevel: debug\n        securityContext:\n          runAsNonRoot: null\n          runAsUser: 999\n        sdsResources:\n          requests: {memory: 101Mi, cpu: 201m}\n          limits: {memory: 301Mi, cpu: 401m}\n      istio:\n        istioProxyContainer:\n          image:\n            tag: istio-override-tag\n            registry: istio-override-registry\n            repository: istio-override-repository\n            pullPolicy: Never\n          logLevel: debug\n          securityContext:\n            runAsNonRoot: null\n            runAsUser: 888\n";
    let sds = parameters(
        "shop-proxy",
        "shop",
        "    sdsContainer:\n      image: {tag: sds-gateway-tag}\n      bootstrap: {logLevel: warn}\n      resources:\n        limits: {cpu: 500m}\n      securityContext: {runAsNonRoot: true}\n",
    );
    let gateway = annotated_gateway(
        "shop",
        "shop",
        "shop-proxy",
        &[("https", 443), ("http", 80), ("grpc-over-tls-listener", 9443)],
    );
    (values, vec![sds, gateway])
}

#[test]
fn r05_istio_sds_overrides_three_listeners() {
    let (docs, _) = e2e_case(input_of_r05()).unwrap();
    let sds = container(&docs, "sds");
    assert_eq!(
        sds["image"],
        "sds-override-registry/sds-override-repository:sds-gateway-tag"
    );
    assert_eq!(sds["imagePullPolicy"], "Never");
    assert_eq!(env(sds, "LOG_LEVEL").unwrap()["value"], "warn");
    assert_eq!(
        sds["resources"],
        serde_json::json!({"limits": {"cpu": "500m", "memory": "301Mi"}, "requests": {"cpu": "201m", "memory": "101Mi"}})
    );
    assert_eq!(
        sds["securityContext"],
        serde_json::json!({"runAsNonRoot": true, "runAsUser": 999})
    );
    let istio = container(&docs, "istio-proxy");
    assert_eq!(
        istio["image"],
        "istio-override-registry/istio-override-repository:istio-override-tag"
    );
    assert_eq!(istio["imagePullPolicy"], "Never");
    assert!(strings(&istio["args"]).contains(&"--proxyLogLevel=debug"));
    assert_eq!(istio["securityContext"], serde_json::json!({"runAsUser": 888}));
    let ports = service_ports(&docs);
    assert_eq!(ports, [("http", 80), ("https", 443), ("grpc-over-tls-l", 9443)]);
}

fn input_of_r09() -> (&'static str, Vec<String>) {
    let values = "global:\n  istioIntegration:\n    enabled: true\n  securitySettings:\n    floatingUserId: true\nkubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      sdsContainer:\n        securityContext: {runAsUser: 999, runAsNonRoot: true}\n      istio:\n        istioProxyContainer:\n          securityContext: {runAsUser: 1337, readOnlyRootFilesystem: true}\n";
    let pod = parameters(
        "openshift-proxy",
        "edge",
        "    podTemplate:\n      securityContext: {runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000}\n",
    );
    let gateway = annotated_gateway("openshift-edge", "edge", "openshift-proxy", &[("http", 80)]);
    (values, vec![pod, gateway])
}

#[test]
fn r09_istio_floating_user_id() {
    let (docs, _) = e2e_case(input_of_r09()).unwrap();
    let text = serde_json::to_string(&docs).unwrap();
    assert!(!text.contains("runAsUser"), "{text}");
    let pod = &of_kind(&docs, "Deployment")["spec"]["template"]["spec"];
    assert_eq!(
        pod["securityContext"],
        serde_json::json!({"runAsGroup": 1000, "fsGroup": 2000})
    );
    assert_eq!(
        container(&docs, "sds")["securityContext"],
        serde_json::json!({"runAsNonRoot": true})
    );
    assert_eq!(
        container(&docs, "istio-proxy")["securityContext"],
        serde_json::json!({"readOnlyRootFilesystem": true})
    );
    assert_eq!(
        container(&docs, "gloo-gateway")["securityContext"],
        serde_json::json!({"allowPrivilegeEscalation": false,
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
            "readOnlyRootFilesystem": true, "runAsNonRoot": true})
    );
}

fn input_of_r14() -> (&'static str, Vec<String>) {
    let values = "global:\n  istioIntegration:\n    enabled: true\nkubeGateway:\n  enabled: true\nsettings:\n  aws:\n    enableServiceAccountCredentials: true\n    stsCredentialsRegion: us-west-2\n";
    let gateway = gateway(
        "lambda",
        None,
        "  listeners:\n  - {name: http, port: 80, protocol: HTTP}\n",
    );
    (values, vec![gateway])
}

#[test]
fn r14_istio_aws_sts() {
    let (docs, _) = e2e_case(input_of_r14()).unwrap();
    let clusters: Vec<&str> = bootstrap(&docs)["static_resources"]["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        clusters,
        [
            "xds_cluster",
            "admin_port_cluster",
            "gateway_proxy_sds",
            "aws_sts_cluster"
        ]
    );
    let sts = cluster(&docs, "aws_sts_cluster").unwrap();
    assert_eq!(sts["type"], "LOGICAL_DNS");
    assert_eq!(
        sts["transport_socket"]["typed_config"]["sni"],
        "sts.us-west-2.amazonaws.com"
    );
    assert_eq!(
        sts["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]["address"],
        "sts.us-west-2.amazonaws.com"
    );
}

fn input_of_r20() -> (&'static str, Vec<String>) {
    let values = "global:\n  istioIntegration:\n    enabled: true\nkubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      service:\n        extraAnnotations:\n          example.com/owner: platform\n";
    let empty = parameters(
        "public-proxy",
        "default",
        "    podTemplate:\n      extraLabels: {}\n    service:\n      extraAnnotations: {}\n    envoyContainer:\n      securityContext:\n        capabilities:\n          add: []\n",
    );
    let gateway = annotated_gateway("public", "default", "public-proxy", &[("http", 80)]);
    (values, vec![empty, gateway])
}

#[test]
fn r20_istio_empty_overrides_clear_defaults() {
    let (docs, _) = e2e_case(input_of_r20()).unwrap();
    let deployment = of_kind(&docs, "Deployment");
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["labels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(
        deployment["spec"]["selector"]["matchLabels"].as_object().unwrap().len(),
        3
    );
    assert!(of_kind(&docs, "Service")["metadata"].get("annotations").is_none());
    assert_eq!(
        container(&docs, "gloo-gateway")["securityContext"]["capabilities"],
        serde_json::json!({"drop": ["ALL"]})
    );
}

/// C19: Helm (YAML 1.1) reads an unquoted `y` as `true`, and the chart writes `svcanno1: true`,
/// which the API server rejects. gloo-istio reads it as the text `y` (a listed deviation), and
/// warns (GI077) at the value.
#[test]
fn c19_unquoted_yaml_1_1_boolean_is_reported_and_kept_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("values.yaml");
    std::fs::write(
        &path,
        "kubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      service:\n        extraAnnotations:\n          svcanno1: y\n          svcanno2: \"y\"\n",
    )
    .unwrap();
    let opts = RenderOptions {
        values_files: vec![path],
        ..RenderOptions::default()
    };
    let rendered = render_files(&opts).unwrap();
    let kube = &ours(&rendered.manifests, false)[1]["spec"]["kube"];
    assert_eq!(
        kube["service"]["extraAnnotations"],
        serde_json::json!({"svcanno1": "y", "svcanno2": "y"})
    );
    let found = with_code(&rendered.findings, "GI077");
    assert_eq!(found.len(), 1, "{:?}", rendered.findings);
    assert!(found[0].message.contains("writes `true`"), "{}", found[0].message);
    assert!(
        found[0].path.ends_with("extraAnnotations.svcanno1"),
        "{}",
        found[0].path
    );
}

/// C20: `sdsContainer.image: null` makes the Gloo chart fail; gloo-istio refuses it at the key.
/// Nulling single keys leaves them out of the image block.
#[test]
fn c20_null_sds_image_refused_and_nulled_keys_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("values.yaml");
    std::fs::write(
        &path,
        "kubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      sdsContainer:\n        image: null\n",
    )
    .unwrap();
    let error = render(&path, &[]).unwrap_err();
    assert!(error.contains("GI004"), "{error}");
    assert!(error.contains("sdsContainer.image: null"), "{error}");
    assert!(error.contains("values.yaml:6"), "{error}");
    let kube = chart_kube(
        "  gatewayParameters:\n    glooGateway:\n      sdsContainer:\n        image:\n          repository: null\n          tag: null\n",
    );
    assert_eq!(
        kube["sdsContainer"]["image"],
        serde_json::json!({"registry": "quay.io/solo-io", "pullPolicy": "IfNotPresent"})
    );
}

/// GatewayParameters fields of the wrong shape give objects the API server would refuse: a
/// located refusal of that Gateway, not an internal error.
#[test]
fn gateway_parameters_of_the_wrong_shape_are_refused() {
    for kube in [
        "    podTemplate:\n      tolerations: x\n",
        "    podTemplate:\n      extraLabels: {a: [1]}\n",
        "    envoyContainer:\n      resources: {limits: [1]}\n",
    ] {
        let bad = parameters("bad", "default", kube);
        let error = k_render("{}\n", &[GWC, DEF, &bad, &gw(Some("bad"))], IN).unwrap_err();
        assert!(error.contains("error[GI070]"), "{kube}: {error}");
        assert!(error.contains("not a valid Kubernetes object"), "{kube}: {error}");
    }
}

/// `render -o DIR` and `diff --snapshots DIR` with the example's Gateways: the snapshots hold
/// the deployer's objects, and a change of a Gateway shows as drift of its proxy.
#[test]
fn diff_snapshots_cover_the_deployer_objects() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let values = root.join("values/k8s-gateway-istio.yaml");
    let gateways = root.join("values/k8s-gateway-istio/gateways.yaml");
    let tmp = tempfile::tempdir().unwrap();
    let snapshots = tmp.path().join("snapshots");
    let (values, gateways, dir) = (
        common::path_str(&values),
        common::path_str(&gateways),
        common::path_str(&snapshots),
    );
    let output = common::run_bin(
        &["render", "-q", "-f", values, "--output-dir", dir, gateways],
        b"",
        None,
    );
    assert!(output.status.success(), "{}", common::output_text(&output));
    assert!(snapshots.join("deployment-apps-gloo-proxy-edge.yaml").is_file());
    assert!(snapshots.join("configmap-apps-gloo-proxy-edge.yaml").is_file());
    let output = common::run_bin(&["diff", "-q", "--snapshots", dir, "-f", values, gateways], b"", None);
    assert!(output.status.success(), "{}", common::output_text(&output));
    // Without the Gateways, their proxies' snapshots are stale.
    let output = common::run_bin(&["diff", "-q", "--snapshots", dir, "-f", values], b"", None);
    assert_eq!(output.status.code(), Some(3));
    let drift = String::from_utf8_lossy(&output.stdout);
    assert!(drift.contains("deployment-apps-gloo-proxy-edge.yaml"), "{drift}");
    // Another listener port: the Service and the Deployment drift.
    let moved = tmp.path().join("gateways.yaml");
    std::fs::write(
        &moved,
        std::fs::read_to_string(root.join("values/k8s-gateway-istio/gateways.yaml"))
            .unwrap()
            .replace("port: 443", "port: 8443"),
    )
    .unwrap();
    let output = common::run_bin(
        &["diff", "-q", "--snapshots", dir, "-f", values, common::path_str(&moved)],
        b"",
        None,
    );
    assert_eq!(output.status.code(), Some(3));
    let drift = String::from_utf8_lossy(&output.stdout);
    assert!(drift.contains("rendered/service-apps-gloo-proxy-edge.yaml"), "{drift}");
    assert!(drift.contains("+    port: 8443"), "{drift}");
}

/// A refusal through the command line: exit 1, nothing on standard output, the error located
/// in the user's file.
#[test]
fn refusals_exit_1_with_nothing_on_stdout() {
    let (_tmp, values, objects) = split_input("07-istio-class-custom-sidecars-helm-error");
    let output = common::run_bin(
        &["render", "-f", common::path_str(&values), common::path_str(&objects)],
        b"",
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error[GI070]"), "{stderr}");
    assert!(stderr.contains("gateways.yaml:"), "{stderr}");
    assert!(stderr.contains("customSidecars"), "{stderr}");
    let tmp = tempfile::tempdir().unwrap();
    let null_image = tmp.path().join("values.yaml");
    std::fs::write(
        &null_image,
        "kubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      istio:\n        istioProxyContainer:\n          image: null\n",
    )
    .unwrap();
    let output = common::run_bin(&["render", "-f", common::path_str(&null_image)], b"", None);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("error[GI004]"));
}

// ---- the mesh traps of §9.A, reported beside the render ---------------------------------------

/// The findings of a reference case's render.
fn findings_of(name: &str) -> Vec<Diagnostic> {
    let (_tmp, values, objects) = split_input(name);
    let opts = RenderOptions {
        values_files: vec![values],
        manifests: vec![objects],
        ..RenderOptions::default()
    };
    render_files(&opts).unwrap_or_else(|e| panic!("{name}: {e}")).findings
}

fn with_code<'a>(findings: &'a [Diagnostic], code: &str) -> Vec<&'a Diagnostic> {
    findings.iter().filter(|d| d.code == code).collect()
}

/// The line a finding points at, from its rendered form.
fn line_of(d: &Diagnostic) -> String {
    d.render_human(false)
}

#[test]
fn gateway_level_custom_sidecars_are_reported_as_ignored() {
    let findings = findings_of("06-istio-gateway-custom-sidecars-ignored");
    let found = with_code(&findings, "GI072");
    assert_eq!(found.len(), 1, "{findings:?}");
    assert_eq!(found[0].level, gloo_istio::diag::Level::Warning);
    assert!(found[0].message.contains("never used"), "{}", found[0].message);
    assert!(line_of(found[0]).contains("customSidecars:"), "{}", line_of(found[0]));
}

#[test]
fn proxies_without_the_inject_label_are_reported() {
    // R02: the chart defaults, no Gateway-level labels.
    let findings = findings_of("02-istio-defaults-two-listeners");
    let warnings: Vec<_> = with_code(&findings, "GI073")
        .into_iter()
        .filter(|d| d.level == gloo_istio::diag::Level::Warning)
        .collect();
    assert_eq!(warnings.len(), 1, "{findings:?}");
    assert!(
        warnings[0].message.contains("Gateway apps/edge"),
        "{}",
        warnings[0].message
    );
    // R04 sets `sidecar.istio.io/inject: "false"` in its pod labels: no warning for it.
    let findings = findings_of("04-istio-gateway-override-mesh-fields");
    assert!(
        with_code(&findings, "GI073")
            .iter()
            .all(|d| d.level == gloo_istio::diag::Level::Info),
        "{findings:?}"
    );
    // Istio off (R01): nothing.
    assert!(with_code(&findings_of("01-defaults-istio-off"), "GI073").is_empty());
}

#[test]
fn gateway_level_mesh_identity_is_reported_as_ignored() {
    let findings = findings_of("04-istio-gateway-override-mesh-fields");
    let found = with_code(&findings, "GI074");
    let fields: Vec<&str> = found
        .iter()
        .map(|d| d.message.split(": ").nth(1).unwrap().split(' ').next().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["istioDiscoveryAddress", "istioMetaMeshId", "istioMetaClusterId"],
        "{findings:?}"
    );
    assert!(
        line_of(found[0]).contains("istioDiscoveryAddress:"),
        "{}",
        line_of(found[0])
    );
    // R03's Gateway-level object sets no mesh field: nothing.
    assert!(with_code(&findings_of("03-e2e-istio-revision-gateway-params"), "GI074").is_empty());
}

#[test]
fn istio_settings_with_the_integration_off_are_reported() {
    let findings = findings_of("11-istio-off-gateway-istio-params");
    let found = with_code(&findings, "GI075");
    assert_eq!(found.len(), 1, "{findings:?}");
    assert!(
        found[0].message.contains("Istio integration is off"),
        "{}",
        found[0].message
    );
    assert!(with_code(&findings_of("02-istio-defaults-two-listeners"), "GI075").is_empty());
}

#[test]
fn unquoted_gateway_level_mesh_values_are_reported() {
    // DEF has no istio block, so the Gateway-level container comes whole (as in K12), ids included.
    let parameters = "apiVersion: gateway.gloo.solo.io/v1alpha1\nkind: GatewayParameters\nmetadata:\n  name: mesh\n  namespace: default\nspec:\n  kube:\n    istio:\n      istioProxyContainer:\n        image: {registry: docker.io/istio, repository: proxyv2, tag: 1.22.0}\n        istioDiscoveryAddress: istiod.istio-system.svc:15012\n        istioMetaMeshId: \"true\"\n        istioMetaClusterId: \"42\"\n";
    let with_sds = format!("{DEF}{SDS}");
    let controller = [IN, &["istio=true"]].concat();
    let (docs, findings) = k_render("{}\n", &[GWC, &with_sds, parameters, &gw(Some("mesh"))], &controller).unwrap();
    let fields: Vec<&str> = with_code(&findings, "GI076")
        .iter()
        .map(|d| d.message.split(' ').next().unwrap())
        .collect();
    assert_eq!(fields, ["istioMetaMeshId", "istioMetaClusterId"], "{findings:?}");
    // Our output keeps them text (quoted): a listed deviation.
    let istio = container(&docs, "istio-proxy");
    assert_eq!(env(istio, "ISTIO_META_MESH_ID").unwrap()["value"], "true");
    assert_eq!(env(istio, "ISTIO_META_CLUSTER_ID").unwrap()["value"], "42");
}

#[test]
fn images_without_repository_or_tag_are_reported() {
    let findings = findings_of("17-e2e-minimal-class-default");
    let found = with_code(&findings, "GI078");
    assert_eq!(found.len(), 1, "{findings:?}");
    assert!(
        found[0].message.contains("gloo-gateway image has no repository, tag"),
        "{}",
        found[0].message
    );
    assert!(with_code(&findings_of("02-istio-defaults-two-listeners"), "GI078").is_empty());
}

// ---- the example and its snapshot -----------------------------------------------------------

/// `snapshots/k8s-gateway-istio.yaml` (written by tests/snapshots.rs) holds, for the Gateway API,
/// what the real chart and deployer render for reference case 02 (same chart values, same
/// Gateway), plus the one pod label that the example's Gateway-level GatewayParameters adds.
#[test]
fn the_example_snapshot_is_the_reference_render_of_case_02() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = reference();
    let snapshot = std::fs::read_to_string(root.join("snapshots/k8s-gateway-istio.yaml")).unwrap();
    let docs: Vec<Value> = parse_stream(&snapshot)
        .into_iter()
        .filter(|d| {
            d["kind"] == "GatewayClass"
                || d["kind"] == "GatewayParameters"
                || d.pointer("/metadata/labels/gateway.networking.k8s.io~1gateway-name")
                    .is_some()
        })
        .map(|mut d| {
            normalize(&mut d, None);
            d
        })
        .collect();
    let read = |file: &str| parse_stream(&std::fs::read_to_string(dir.join(file)).unwrap());
    let class = read("chart-01-defaults.rendered.yaml")
        .into_iter()
        .find(|d| d["kind"] == "GatewayClass")
        .unwrap();
    let class_default = read("02-istio-defaults-two-listeners.gatewayparameters.yaml").remove(0);
    let mut expected = vec![class, class_default];
    for mut doc in read("02-istio-defaults-two-listeners.rendered.yaml") {
        normalize(&mut doc, Some("apps"));
        if doc["kind"] == "Deployment" {
            doc["spec"]["template"]["metadata"]["labels"]["sidecar.istio.io/inject"] = "false".into();
        }
        expected.push(doc);
    }
    for doc in &mut expected {
        normalize(doc, None);
    }
    assert_same(&docs, &expected, "snapshots/k8s-gateway-istio.yaml");
    // The example's findings: the class-level inject-label info only, no warning.
    let opts = RenderOptions {
        values_files: vec![root.join("values/k8s-gateway-istio.yaml")],
        manifests: vec![root.join("values/k8s-gateway-istio/gateways.yaml")],
        ..RenderOptions::default()
    };
    let findings = render_files(&opts).unwrap().findings;
    assert!(
        findings.iter().all(|d| d.level == gloo_istio::diag::Level::Info),
        "{findings:?}"
    );
}

// ---- the real validators ---------------------------------------------------------------------

/// Every deployer render of this file's inputs: the reference cases, the suite's fixtures with
/// Istio, mTLS, AWS, NodePort, a ListenerSet and an ownerReference, and the example.
fn all_deployer_renders() -> Vec<(String, Vec<Manifest>)> {
    let dir = reference();
    let mut out = Vec::new();
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".rendered.yaml").map(str::to_string))
        .filter(|f| !f.starts_with("chart-"))
        .collect();
    cases.sort();
    for case in cases {
        let (_tmp, values, objects) = split_input(&case);
        out.push((
            case.clone(),
            render(&values, &[objects]).unwrap_or_else(|e| panic!("{case}: {e}")),
        ));
    }
    let tmp = tempfile::tempdir().unwrap();
    let with_sds = format!("{DEF}{SDS}");
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gloo-mtls-certs\n  namespace: default\ntype: kubernetes.io/tls\ndata:\n  ca.crt: Y2E=\n  tls.crt: Y2VydA==\n  tls.key: a2V5\n";
    let istio = "apiVersion: gateway.gloo.solo.io/v1alpha1\nkind: GatewayParameters\nmetadata:\n  name: mesh\n  namespace: default\nspec:\n  kube:\n    istio:\n      istioProxyContainer:\n        image: {registry: docker.io/istio, repository: proxyv2, tag: 1.22.0}\n        istioDiscoveryAddress: istiod.istio-system.svc:15012\n        istioMetaMeshId: cluster.local\n        istioMetaClusterId: Kubernetes\n    service:\n      type: NodePort\n      ports:\n      - {port: 80, nodePort: 30080}\n";
    let with_uid = gw(Some("mesh")).replace("  namespace: default\n", "  namespace: default\n  uid: 0f6a2b1c-1235\n");
    let overridden = gw(Some("gateway-params-override"));
    let full_ai = full("    floatingUserId: false\n").replace(
        "    podTemplate:\n",
        "    podTemplate:\n      readinessProbe:\n        httpGet: {scheme: HTTP, port: 8082, path: /envoy-hc}\n      terminationGracePeriodSeconds: 5\n      gracefulShutdown: {enabled: true, sleepTimeSeconds: 7}\n",
    );
    let ai_istio = [IN, &["istio=true"]].concat();
    let gateway_level_ai = ovr_sds("");
    let fixtures: [(&str, Vec<&str>, Vec<&str>); 5] = [
        (
            "fixture/full-istio-ai",
            vec![GWC, &full_ai, &overridden, OVR],
            ai_istio.clone(),
        ),
        (
            "fixture/istio-gateway-level-ai",
            vec![GWC, DEF, &gateway_level_ai, &overridden],
            ai_istio,
        ),
        (
            "fixture/mtls-aws",
            vec![GWC, &with_sds, secret, OVR, &overridden],
            [
                IN,
                &[
                    "gloo-mtls=true",
                    "aws-sts-cluster=my_sts_cluster",
                    "aws-sts-uri=sts.cluster.uri",
                ],
            ]
            .concat(),
        ),
        (
            "fixture/istio-mtls-nodeport-owner",
            vec![GWC, &with_sds, secret, istio, &with_uid],
            [IN, &["istio=true", "gloo-mtls=true"]].concat(),
        ),
        (
            "fixture/listener-set",
            vec![
                GWC,
                DEF,
                "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: foo\n  namespace: default\nspec:\n  gatewayClassName: gloo-gateway\n  allowedListeners:\n    namespaces:\n      from: Same\n  listeners:\n  - {name: listener-1, port: 1234, protocol: HTTP}\n",
                "apiVersion: gateway.networking.x-k8s.io/v1alpha1\nkind: XListenerSet\nmetadata:\n  name: ls-1\n  namespace: default\nspec:\n  parentRef:\n    name: foo\n  listeners:\n  - {name: extra, port: 4567, protocol: HTTP}\n",
            ],
            IN.to_vec(),
        ),
    ];
    for (label, documents, controller) in fixtures {
        let values = tmp.path().join("values.yaml");
        std::fs::write(&values, "{}\n").unwrap();
        let manifest = tmp.path().join(format!("{}.yaml", label.replace('/', "-")));
        std::fs::write(&manifest, documents.join("---\n")).unwrap();
        let opts = RenderOptions {
            values_files: vec![values],
            manifests: vec![manifest],
            namespace: "default".into(),
            controller: controller.iter().map(|c| c.to_string()).collect(),
            ..RenderOptions::default()
        };
        out.push((
            label.to_string(),
            render_files(&opts).unwrap_or_else(|e| panic!("{label}: {e}")).manifests,
        ));
    }
    for (label, (values, documents)) in [
        ("R05", input_of_r05()),
        ("R09", input_of_r09()),
        ("R14", input_of_r14()),
        ("R20", input_of_r20()),
    ] {
        let values_path = tmp.path().join(format!("{label}.values.yaml"));
        std::fs::write(&values_path, values).unwrap();
        let manifest = tmp.path().join(format!("{label}.yaml"));
        std::fs::write(&manifest, documents.join("---\n")).unwrap();
        out.push((format!("spec/{label}"), render(&values_path, &[manifest]).unwrap()));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    out.push((
        "values/k8s-gateway-istio".into(),
        render(
            &root.join("values/k8s-gateway-istio.yaml"),
            &[root.join("values/k8s-gateway-istio/gateways.yaml")],
        )
        .unwrap(),
    ));
    for (label, manifests) in &mut out {
        manifests.retain(|m| {
            m.template.starts_with("k8s-gateway/") && !matches!(m.kind.as_str(), "GatewayClass" | "GatewayParameters")
        });
        assert!(!manifests.is_empty(), "{label}: no deployer objects");
    }
    out
}

/// `kubernetes-validate --strict` over every deployer object (one run), and
/// `envoy --mode validate --service-node <pod>.<namespace>` over every bootstrap, as the
/// container starts envoy. The GatewayParameters CRD schema is not among the reference data, so
/// the chart's objects are checked against the reference renders only.
#[test]
fn every_deployer_render_passes_kubernetes_validate_and_envoy() {
    let Some(validate) = common::peer("kubernetes-validate") else {
        return;
    };
    let Some(envoy) = common::peer("envoy") else {
        return;
    };
    let renders = all_deployer_renders();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut bootstraps = Vec::new();
    for (index, (label, manifests)) in renders.iter().enumerate() {
        for manifest in manifests {
            let name = format!("{index:02}-{}--{}", label.replace('/', "_"), manifest.file_name());
            let path = dir.path().join(&name);
            std::fs::write(&path, &manifest.text).unwrap();
            files.push(path);
            if let Some(bootstrap) = &manifest.envoy_bootstrap {
                let path = dir.path().join(format!("{name}.envoy.yaml"));
                std::fs::write(&path, bootstrap).unwrap();
                bootstraps.push((
                    format!("{label}: {}", manifest.name),
                    path,
                    format!("{}-0.{}", manifest.name, manifest.namespace),
                ));
            }
        }
    }
    let output = common::run(
        Command::new(&validate)
            .args(["--strict", "-k", common::KUBERNETES_VERSION])
            .args(&files),
    );
    let text = common::output_text(&output);
    assert!(output.status.success(), "kubernetes-validate --strict:\n{text}");
    let passed = text.lines().filter(|l| l.contains("passed for resource")).count();
    assert_eq!(passed, files.len(), "every object validated:\n{text}");
    let mut failures = Vec::new();
    for (what, path, node) in &bootstraps {
        let output = common::run(
            Command::new(&envoy)
                .args([
                    "--mode",
                    "validate",
                    "--log-level",
                    "error",
                    "--service-node",
                    node,
                    "-c",
                ])
                .arg(path),
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !(output.status.success() && stdout.trim_end().ends_with(" OK")) {
            failures.push(format!("{what}:\n{}", common::output_text(&output)));
        }
    }
    assert!(failures.is_empty(), "envoy --mode validate:\n{}", failures.join("\n"));
    assert_eq!(bootstraps.len(), renders.len(), "one bootstrap per Gateway");
    // Control: without --service-node envoy refuses the bootstrap (no node id), as it does the
    // real deployer's.
    let output = common::run(
        Command::new(&envoy)
            .args(["--mode", "validate", "--log-level", "error", "-c"])
            .arg(&bootstraps[0].1),
    );
    assert!(!output.status.success(), "{}", common::output_text(&output));
}

/// Every case id of §10 has a test named after it.
#[test]
fn every_case_is_a_named_test() {
    let source = std::fs::read_to_string(file!()).unwrap();
    let ids = (1..=28)
        .map(|i| format!("K{i:02}"))
        .chain((1..=20).map(|i| format!("C{i:02}")))
        .chain((1..=21).map(|i| format!("R{i:02}")));
    let missing: Vec<String> = ids
        .filter(|id| {
            let tested = source.contains(&format!("fn {}_", id.to_ascii_lowercase()))
                || (id.starts_with('C')
                    && (6..=14).contains(&id[1..].parse::<u32>().unwrap())
                    && source.contains("fn c06_to_c14_"));
            !tested
        })
        .collect();
    assert!(missing.is_empty(), "cases without a test: {missing:?}");
}
