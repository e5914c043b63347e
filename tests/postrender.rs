//! `post-render` and the four glooctl-style stream commands, on the chart's real output.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;

use gloo_istio::yaml::{self, stream};
use serde_json::Value;

fn run(args: &[&str], stdin: &[u8]) -> Output {
    common::run_bin(args, stdin, None)
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn parse(text: &str) -> Value {
    yaml::load_document(text.as_bytes(), yaml::Limits::default())
        .unwrap()
        .map(|n| n.to_json())
        .unwrap_or(Value::Null)
}

/// The documents of a stream by (kind, namespace, name), with the documented deviations
/// normalised (the checksum value, PROXY_CONFIG as parsed YAML, the bootstrap as parsed YAML).
fn resources(text: &str) -> BTreeMap<(String, String, String), Value> {
    let mut out = BTreeMap::new();
    for doc in stream::split_stream(text) {
        if !doc.has_content() {
            continue;
        }
        let mut v = parse(doc.text);
        if let Some(Value::Object(a)) = v.pointer_mut("/spec/template/metadata/annotations") {
            for (k, val) in a.iter_mut() {
                if k.starts_with("checksum/") {
                    *val = Value::String("<sha256>".into());
                }
            }
        }
        if let Some(Value::Array(containers)) = v.pointer_mut("/spec/template/spec/containers") {
            for c in containers {
                if let Some(Value::Array(env)) = c.get_mut("env") {
                    for e in env {
                        if e["name"] == "PROXY_CONFIG"
                            && let Some(t) = e["value"].as_str().map(str::to_string)
                        {
                            e["value"] = parse(&t);
                        }
                    }
                }
            }
        }
        if let Some(Value::String(t)) = v.pointer("/data/envoy.yaml").cloned() {
            v["data"]["envoy.yaml"] = parse(&t);
        }
        let key = (
            v["kind"].as_str().unwrap_or("").to_string(),
            v["metadata"]["namespace"].as_str().unwrap_or("").to_string(),
            v["metadata"]["name"].as_str().unwrap_or("").to_string(),
        );
        out.insert(key, v);
    }
    out
}

fn reference(name: &str) -> Option<PathBuf> {
    common::reference_dir().map(|d| d.join(name))
}

/// Cases whose values change nothing but the Istio integration, so that the chart's render of
/// the defaults is the chart's render of the case with Istio off.
const ISTIO_ONLY_CASES: [&str; 11] = [
    "b-istio-sds",
    "c-istio-integration-automtls",
    "d-istio-sds-custom-sidecar",
    "e1-disable-autoinjection",
    "e2-sidecar-on-gateway",
    "e3-sidecar-on-gateway-revtag",
    "e4-sidecar-on-gateway-disable-autoinjection",
    "e2e-istio-automtls-disabled-helm",
    "e2e-istio-automtls-enabled-helm",
    "e2e-istio-regression-helm",
    "e2e-istio-revision-helm",
];

/// Cases whose values turn nothing of Istio on: post-render with them must leave the chart's
/// render as it is.
const ISTIO_OFF_CASES: [&str; 3] = [
    "a-defaults",
    "k3-probes-graceful-shutdown",
    "k6-envoy-args-loglevel-coredumps",
];

/// Istio-on cases whose values also change other things, so that no render of the chart with
/// their values and Istio off exists offline: the chart's templates are not available, only
/// its renders of the reference cases, and none of those is such a variant. For these the
/// Istio-off stream is derived from the chart's Istio-on render by taking out exactly what the
/// contract says the Istio switches add ([`without_istio`]); the derivation is checked against
/// the Istio-only cases, whose real Istio-off render is `a-defaults`.
const NO_ISTIO_OFF_RENDER: [(&str, &str); 9] = [
    ("e2e-istio-revision-k8s-gateway-helm", "kubeGateway on as well"),
    (
        "f-gloo-mtls-istio-sds",
        "glooMtls on as well: the chart's glooMtls-only render is not in the reference set",
    ),
    ("g-two-proxies-istio-sds", "a second proxy as well"),
    (
        "k1-replicas-resources-scheduling",
        "replicas, resources and scheduling keys as well",
    ),
    ("k2-daemonset-hostnetwork", "DaemonSets and host networking as well"),
    ("k4-security-contexts", "security contexts as well"),
    (
        "k5-extra-volumes-containers-ports",
        "glooMtls, extra volumes, containers and ports as well",
    ),
    ("k7-bootstrap-customizations", "bootstrap keys as well"),
    (
        "k8-second-proxy-inheriting-these",
        "three proxies, one with its own bootstrap, as well",
    ),
];

/// Every `*.values.yaml` of the reference set, by name.
fn reference_cases() -> Vec<String> {
    let dir = common::reference_dir().unwrap();
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_str()?
                .strip_suffix(".values.yaml")
                .map(str::to_string)
        })
        .collect();
    cases.sort();
    cases
}

/// The key paths of a values file, each as `a.b.c` (list items as their index).
fn key_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                key_paths(v, &format!("{prefix}.{k}"), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                key_paths(v, &format!("{prefix}.{i}"), out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

/// The key paths of a reference case's values.
fn case_keys(case: &str) -> Vec<String> {
    let text = std::fs::read_to_string(reference(&format!("{case}.values.yaml")).unwrap()).unwrap();
    let mut keys = Vec::new();
    key_paths(&parse(&text), "", &mut keys);
    keys
}

/// The three lists above hold every reference case, each where its values put it: no key about
/// Istio (Istio off), only keys about Istio (Istio-only), or both.
#[test]
fn every_reference_case_has_an_oracle() {
    if common::reference_dir().is_none() {
        return;
    }
    let mut listed: Vec<String> = ISTIO_ONLY_CASES
        .iter()
        .chain(&ISTIO_OFF_CASES)
        .chain(NO_ISTIO_OFF_RENDER.iter().map(|(c, _)| c))
        .map(|c| c.to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, reference_cases());
    let istio = |key: &String| key.to_ascii_lowercase().contains("istio");
    for case in reference_cases() {
        let keys = case_keys(&case);
        let (any, all) = (keys.iter().any(istio), keys.iter().all(istio));
        assert_eq!(ISTIO_OFF_CASES.contains(&case.as_str()), !any, "{case}: {keys:?}");
        assert_eq!(
            ISTIO_ONLY_CASES.contains(&case.as_str()),
            any && all,
            "{case}: {keys:?}"
        );
    }
}

/// The differences between two streams, as parsed resources, for a report.
fn differences(case: &str, ours: &str, theirs: &str) -> String {
    let (ours, theirs) = (resources(ours), resources(theirs));
    let mut report = String::new();
    for (key, want) in &theirs {
        match ours.get(key) {
            Some(got) if got == want => {}
            Some(got) => {
                let at = gloo_istio::render::check::first_difference(got, want, "").unwrap_or_default();
                report.push_str(&format!(
                    "{case}: {key:?} differs at {at}: ours {:?} chart {:?}\n",
                    got.pointer(&at),
                    want.pointer(&at)
                ));
            }
            None => report.push_str(&format!("{case}: {key:?} missing\n")),
        }
    }
    for key in ours.keys().filter(|k| !theirs.contains_key(*k)) {
        report.push_str(&format!("{case}: {key:?} only in ours\n"));
    }
    report
}

#[test]
fn chart_without_istio_post_rendered_with_istio_equals_the_chart_with_istio() {
    let Some(plain) = reference("a-defaults.rendered.yaml") else {
        return;
    };
    let input = std::fs::read(&plain).unwrap();
    let mut report = String::new();
    for case in ISTIO_ONLY_CASES {
        let values = reference(&format!("{case}.values.yaml")).unwrap();
        let expected = std::fs::read_to_string(reference(&format!("{case}.rendered.yaml")).unwrap()).unwrap();
        let out = ok(&run(&["post-render", "-q", "-f", values.to_str().unwrap()], &input));
        report.push_str(&differences(case, &out, &expected));
    }
    assert!(report.is_empty(), "{report}");
}

/// Post-render is a no-op on a stream that already is what its values ask: the chart's render
/// of every reference case, post-rendered with that case's values, comes out byte for byte.
#[test]
fn the_charts_render_post_rendered_with_its_own_values_is_unchanged() {
    if common::reference_dir().is_none() {
        return;
    }
    let mut changed = Vec::new();
    for case in reference_cases() {
        let values = reference(&format!("{case}.values.yaml")).unwrap();
        let input = std::fs::read_to_string(reference(&format!("{case}.rendered.yaml")).unwrap()).unwrap();
        let out = ok(&run(
            &["post-render", "-q", "-f", values.to_str().unwrap()],
            input.as_bytes(),
        ));
        if out != input {
            changed.push(case);
        }
    }
    assert!(changed.is_empty(), "changed: {changed:?}");
}

/// The chart's render with Istio off, derived from its render with Istio on by taking out what
/// the contract says the Istio switches add: the istio-proxy container (Istio spec §2.5), the
/// sds container, or only its Istio env variable and mounts when it serves glooMtls (§2.4), the
/// Istio volumes (§2.7), the Istio pod label and annotation (§2.2), the `gateway_proxy_sds`
/// cluster unless glooMtls uses it (§3.1, §3.2), Settings `istioOptions` and the gloo
/// Deployment's Istio label and variable (§2.11). Changed documents are written again as
/// plain YAML; the others keep their text.
fn without_istio(chart: &str) -> String {
    let mut out = String::new();
    for doc in stream::split_stream(chart) {
        if !doc.has_content() {
            out.push_str(doc.text);
            continue;
        }
        let mut v = parse(doc.text);
        let before = v.clone();
        let label = v
            .pointer("/metadata/labels/gloo")
            .and_then(Value::as_str)
            .map(str::to_string);
        let kind = v["kind"].as_str().unwrap_or("").to_string();
        match (kind.as_str(), label.as_deref()) {
            ("Deployment" | "DaemonSet", Some("gateway-proxy")) => strip_gateway_proxy(&mut v),
            ("Deployment", Some("gloo")) => strip_gloo(&mut v),
            ("ConfigMap", Some("gateway-proxy")) => strip_bootstrap(&mut v),
            ("Settings", _) => {
                if let Some(Value::Object(options)) = v.pointer_mut("/spec/gloo/istioOptions") {
                    options.insert("enableIntegration".into(), Value::Bool(false));
                    options.insert("enableAutoMtls".into(), Value::Bool(false));
                }
            }
            _ => {}
        }
        if v == before {
            out.push_str(doc.text);
        } else {
            out.push_str("---\n");
            out.push_str(&yaml::emit::document(&v));
        }
    }
    out
}

fn strip_gateway_proxy(v: &mut Value) {
    let istio_volumes = gloo_istio::istio::ISTIO_VOLUMES;
    for (section, key) in [
        ("labels", "sidecar.istio.io/inject"),
        ("labels", "istio.io/rev"),
        ("annotations", "traffic.sidecar.istio.io/excludeInboundPorts"),
    ] {
        if let Some(Value::Object(m)) = v.pointer_mut(&format!("/spec/template/metadata/{section}")) {
            m.remove(key);
        }
    }
    let spec = v.pointer_mut("/spec/template/spec").unwrap();
    if let Some(Value::Array(volumes)) = spec.get_mut("volumes") {
        volumes.retain(|vol| !istio_volumes.contains(&vol["name"].as_str().unwrap_or("")));
    }
    let Some(Value::Array(containers)) = spec.get_mut("containers") else {
        return;
    };
    containers.retain(|c| c["name"] != "istio-proxy");
    for c in containers.iter_mut().filter(|c| c["name"] == "sds") {
        let env = c["env"].as_array_mut().unwrap();
        env.retain(|e| e["name"] != "ISTIO_MTLS_SDS_ENABLED");
        let mounts = c["volumeMounts"].as_array_mut().unwrap();
        mounts.retain(|m| m["name"] != "istio-certs" && m["name"] != "envoy-config");
    }
    containers.retain(|c| {
        c["name"] != "sds"
            || c["env"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["name"] == "GLOO_MTLS_SDS_ENABLED")
    });
}

fn strip_gloo(v: &mut Value) {
    if let Some(Value::Object(labels)) = v.pointer_mut("/spec/template/metadata/labels") {
        labels.remove("sidecar.istio.io/inject");
    }
    if let Some(Value::Array(containers)) = v.pointer_mut("/spec/template/spec/containers") {
        for c in containers {
            if let Some(Value::Array(env)) = c.get_mut("env") {
                env.retain(|e| e["name"] != "ENABLE_ISTIO_SIDECAR_ON_GATEWAY");
            }
        }
    }
}

fn strip_bootstrap(v: &mut Value) {
    let Some(text) = v.pointer("/data/envoy.yaml").and_then(Value::as_str) else {
        return;
    };
    // glooMtls names the cluster in the xDS clusters' TLS transport sockets (§3.2).
    if text.matches("gateway_proxy_sds").count() > 2 {
        return;
    }
    let mut bootstrap = parse(text);
    let Some(Value::Array(clusters)) = bootstrap.pointer_mut("/static_resources/clusters") else {
        return;
    };
    let before = clusters.len();
    clusters.retain(|c| c["name"] != "gateway_proxy_sds");
    if clusters.len() != before {
        v["data"]["envoy.yaml"] = Value::String(yaml::emit::document(&bootstrap));
    }
}

/// The derivation of an Istio-off render is right where the real one is known: for every
/// Istio-only case it gives the chart's render of the defaults.
#[test]
fn the_derived_istio_off_render_is_the_charts_where_that_is_known() {
    let Some(plain) = reference("a-defaults.rendered.yaml") else {
        return;
    };
    let plain = std::fs::read_to_string(plain).unwrap();
    let mut report = String::new();
    for case in ISTIO_ONLY_CASES {
        let chart = std::fs::read_to_string(reference(&format!("{case}.rendered.yaml")).unwrap()).unwrap();
        report.push_str(&differences(case, &without_istio(&chart), &plain));
    }
    assert!(report.is_empty(), "{report}");
}

/// For the Istio-on cases without a real Istio-off render (glooMtls among them, issue 20):
/// the derived Istio-off stream, post-rendered with the case's values, is the chart's render.
#[test]
fn derived_istio_off_post_rendered_with_istio_equals_the_chart_with_istio() {
    if common::reference_dir().is_none() {
        return;
    }
    let mut report = String::new();
    for (case, _why) in NO_ISTIO_OFF_RENDER {
        let values = reference(&format!("{case}.values.yaml")).unwrap();
        let chart = std::fs::read_to_string(reference(&format!("{case}.rendered.yaml")).unwrap()).unwrap();
        let off = without_istio(&chart);
        assert_ne!(off, chart, "{case}: Istio is on");
        let out = run(&["post-render", "-q", "-f", values.to_str().unwrap()], off.as_bytes());
        if !out.status.success() {
            report.push_str(&format!("{case}: {}\n", String::from_utf8_lossy(&out.stderr)));
            continue;
        }
        report.push_str(&differences(case, &String::from_utf8(out.stdout).unwrap(), &chart));
    }
    assert!(report.is_empty(), "{report}");
}

/// glooMtls asked of a stream without it: refused, located, saying what is missing (GI041).
#[test]
fn gloo_mtls_values_on_a_stream_without_gloo_mtls_are_refused() {
    let Some(plain) = reference("a-defaults.rendered.yaml") else {
        return;
    };
    let input = std::fs::read(&plain).unwrap();
    let f = reference("f-gloo-mtls-istio-sds.values.yaml").unwrap();
    for args in [
        vec!["post-render", "-q", "-f", f.to_str().unwrap()],
        vec!["post-render", "-q", "--set", "global.glooMtls.enabled=true"],
    ] {
        let out = run(&args, &input);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("GI041")
                && stderr.contains("global.glooMtls.enabled")
                && stderr.contains("<stdin> (document")
                && [
                    "no sds sidecar",
                    "not in mTLS mode",
                    "does not connect to gloo over mTLS"
                ]
                .iter()
                .any(|missing| stderr.contains(missing)),
            "{args:?}: {stderr}"
        );
    }
    // A gloo Deployment that is not in mTLS mode next to gateway proxies that are.
    let chart = std::fs::read_to_string(reference("f-gloo-mtls-istio-sds.rendered.yaml").unwrap()).unwrap();
    let gloo = stream::split_stream(&std::fs::read_to_string(&plain).unwrap())
        .iter()
        .find(|d| d.text.contains("\n  name: gloo\n") && d.text.contains("kind: Deployment"))
        .unwrap()
        .text
        .to_string();
    let out = run(
        &["post-render", "-q", "-f", f.to_str().unwrap()],
        format!("{chart}{gloo}").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GI041") && stderr.contains("gloo Deployment is not in mTLS mode"),
        "{stderr}"
    );
}

/// `inject` follows post-render's rule: on a glooMtls stream it adds the Istio parts to the
/// glooMtls sds sidecar, as the chart renders glooMtls and Istio together.
#[test]
fn inject_adds_istio_to_a_gloo_mtls_stream_as_the_chart_does() {
    let Some(path) = reference("f-gloo-mtls-istio-sds.rendered.yaml") else {
        return;
    };
    let chart = std::fs::read_to_string(path).unwrap();
    let off = without_istio(&chart);
    let out = run(&["inject"], off.as_bytes());
    let injected = ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("already"), "{stderr}");
    let (ours, theirs) = (resources(&injected), resources(&chart));
    for key in [
        ("Deployment", "gloo-system", "gateway-proxy"),
        ("ConfigMap", "gloo-system", "gateway-proxy-envoy-config"),
    ] {
        let key = (key.0.to_string(), key.1.to_string(), key.2.to_string());
        assert_eq!(ours[&key], theirs[&key], "{key:?}");
    }
    // And `uninject` still refuses to take the sds sidecar glooMtls needs.
    let out = run(&["uninject"], injected.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("glooMtls"));
}

/// The documents of a stream as text.
fn texts(text: &str) -> Vec<String> {
    stream::split_stream(text).iter().map(|d| d.text.to_string()).collect()
}

#[test]
fn unrelated_documents_pass_through_byte_for_byte_in_order() {
    let Some(plain) = reference("a-defaults.rendered.yaml") else {
        return;
    };
    let input = std::fs::read_to_string(&plain).unwrap();
    let values = reference("e4-sidecar-on-gateway-disable-autoinjection.values.yaml").unwrap();
    let out = ok(&run(
        &["post-render", "-q", "-f", values.to_str().unwrap()],
        input.as_bytes(),
    ));
    let (before, after) = (texts(&input), texts(&out));
    assert_eq!(before.len(), after.len());
    let mut changed = Vec::new();
    for (b, a) in before.iter().zip(&after) {
        if a != b {
            let v = parse(a);
            changed.push(format!(
                "{} {}",
                v["kind"].as_str().unwrap(),
                v["metadata"]["name"].as_str().unwrap()
            ));
            // A changed document keeps its `# Source:` line.
            assert_eq!(a.lines().nth(1), b.lines().nth(1));
        }
    }
    changed.sort();
    assert_eq!(
        changed,
        [
            "ConfigMap gateway-proxy-envoy-config",
            "Deployment gateway-proxy",
            "Deployment gloo",
            "Settings default"
        ]
    );
}

#[test]
fn post_render_is_idempotent() {
    let Some(plain) = reference("a-defaults.rendered.yaml") else {
        return;
    };
    let input = std::fs::read(&plain).unwrap();
    for case in [
        "c-istio-integration-automtls",
        "d-istio-sds-custom-sidecar",
        "e3-sidecar-on-gateway-revtag",
    ] {
        let values = reference(&format!("{case}.values.yaml")).unwrap();
        let args = ["post-render", "-q", "-f", values.to_str().unwrap()];
        let once = ok(&run(&args, &input));
        let twice = ok(&run(&args, once.as_bytes()));
        assert_eq!(once, twice, "{case}");
    }
}

#[test]
fn the_chart_with_istio_is_left_as_it_is() {
    // Helm 3 and Helm 4 stdin of case c (Istio on): post-rendering with the same values changes
    // nothing, and Helm 4's filename annotations stay.
    for file in [
        "postrender/helm3-stdin.c-istio-integration-automtls.yaml",
        "postrender/helm4-stdin.c-istio-integration-automtls.yaml",
    ] {
        let Some(path) = reference(file) else { return };
        let input = std::fs::read_to_string(&path).unwrap();
        let values = reference("c-istio-integration-automtls.values.yaml").unwrap();
        let out = ok(&run(
            &["post-render", "-q", "-f", values.to_str().unwrap()],
            input.as_bytes(),
        ));
        assert_eq!(out, input, "{file}");
    }
}

#[test]
fn helm4_input_keeps_its_annotations_when_edited() {
    let Some(path) = reference("postrender/helm4-stdin.c-istio-integration-automtls.yaml") else {
        return;
    };
    let input = std::fs::read_to_string(&path).unwrap();
    // Take the Istio parts out, then put them back.
    let bare = ok(&run(&["uninject"], input.as_bytes()));
    let values = reference("c-istio-integration-automtls.values.yaml").unwrap();
    let out = ok(&run(
        &["post-render", "-q", "-f", values.to_str().unwrap()],
        bare.as_bytes(),
    ));
    let gp = resources(&out)
        .remove(&("Deployment".into(), "gloo-system".into(), "gateway-proxy".into()))
        .unwrap();
    assert_eq!(
        gp["metadata"]["annotations"]["postrenderer.helm.sh/postrender-filename"],
        "gloo/templates/7-gateway-proxy-deployment.yaml"
    );
    assert_eq!(
        gp["spec"]["template"]["spec"]["containers"].as_array().unwrap().len(),
        3
    );
}

#[test]
fn empty_input_gives_empty_output() {
    // Helm 3 `template --output-dir` sends nothing: nothing comes back, Upstreams or not.
    let values = concat!(env!("CARGO_MANIFEST_DIR"), "/values/upstreams.yaml");
    assert_eq!(ok(&run(&["post-render", "-q", "-f", values], b"")), "");
    assert_eq!(ok(&run(&["post-render", "-q"], b"")), "");
    assert_eq!(
        ok(&run(&["post-render", "-q", "-f", values], b"---\n# only a comment\n")),
        "---\n# only a comment\n"
    );
}

#[test]
fn appended_upstreams_carry_helm4_file_names() {
    let Some(path) = reference("postrender/helm4-stdin.c-istio-integration-automtls.yaml") else {
        return;
    };
    let values = reference("c-istio-integration-automtls.values.yaml").unwrap();
    let set = "upstreams[0].service=a,upstreams[0].namespace=b,upstreams[0].port=80,\
               upstreams[1].service=c,upstreams[1].namespace=d,upstreams[1].port=81";
    let args = ["post-render", "-q", "-f", values.to_str().unwrap(), "--set", set];
    let out = ok(&run(&args, &std::fs::read(&path).unwrap()));
    let upstreams: Vec<Value> = resources(&out)
        .into_iter()
        .filter(|(k, _)| k.0 == "Upstream")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(upstreams.len(), 2);
    for u in upstreams {
        assert_eq!(
            u["metadata"]["annotations"]["postrenderer.helm.sh/postrender-filename"],
            "gloo-istio/templates/upstream.yaml"
        );
    }
}

#[test]
fn the_sds_image_follows_the_gloo_version_of_the_stream() {
    let Some(plain) = reference("a-defaults.rendered.yaml") else {
        return;
    };
    let input = std::fs::read_to_string(&plain)
        .unwrap()
        .replace("gloo-envoy-wrapper:1.0.0-ci", "gloo-envoy-wrapper:1.19.4");
    let values = reference("c-istio-integration-automtls.values.yaml").unwrap();
    let sds_image = |out: &str| {
        let gp = resources(out)
            .remove(&("Deployment".into(), "gloo-system".into(), "gateway-proxy".into()))
            .unwrap();
        gp["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "sds")
            .unwrap()["image"]
            .clone()
    };
    let out = ok(&run(
        &["post-render", "-q", "-f", values.to_str().unwrap()],
        input.as_bytes(),
    ));
    assert_eq!(sds_image(&out), "quay.io/solo-io/sds:1.19.4");
    // An explicit version wins.
    let out = ok(&run(
        &[
            "post-render",
            "-q",
            "--gloo-version",
            "1.19.5",
            "-f",
            values.to_str().unwrap(),
        ],
        input.as_bytes(),
    ));
    assert_eq!(sds_image(&out), "quay.io/solo-io/sds:1.19.5");
}

#[test]
fn upstreams_of_the_values_are_appended_once() {
    let Some(plain) = reference("a-defaults.rendered.yaml") else {
        return;
    };
    let input = std::fs::read(&plain).unwrap();
    let values = concat!(env!("CARGO_MANIFEST_DIR"), "/values/upstreams.yaml");
    let once = ok(&run(&["post-render", "-q", "-f", values], &input));
    let upstreams: Vec<_> = resources(&once).into_keys().filter(|k| k.0 == "Upstream").collect();
    assert_eq!(upstreams.len(), 3);
    let twice = ok(&run(&["post-render", "-q", "-f", values], once.as_bytes()));
    assert_eq!(once, twice);
}

#[test]
fn crlf_streams_and_end_markers() {
    let Some(plain) = reference("a-defaults.rendered.yaml") else {
        return;
    };
    let input = std::fs::read_to_string(&plain).unwrap().replace('\n', "\r\n");
    let values = reference("c-istio-integration-automtls.values.yaml").unwrap();
    let out = ok(&run(
        &["post-render", "-q", "-f", values.to_str().unwrap()],
        input.as_bytes(),
    ));
    assert!(!out.replace("\r\n", "").contains('\n'), "every line ends in CRLF");
    let gp = resources(&out.replace("\r\n", "\n"))
        .remove(&("Deployment".into(), "gloo-system".into(), "gateway-proxy".into()))
        .unwrap();
    assert_eq!(
        gp["spec"]["template"]["spec"]["containers"].as_array().unwrap().len(),
        3
    );
    let marked = "kind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n...\n---\nkind: Secret\napiVersion: v1\nmetadata: {name: b}";
    assert_eq!(ok(&run(&["post-render", "-q"], marked.as_bytes())), marked);
}

#[test]
fn a_gateway_proxy_that_cannot_be_edited_safely_fails_and_prints_nothing() {
    let Some(plain) = reference("c-istio-integration-automtls.rendered.yaml") else {
        return;
    };
    let input = std::fs::read_to_string(&plain).unwrap();
    // Values that give another istio-proxy than the one in the stream.
    let out = run(
        &["post-render", "-q", "--set", "global.istioIntegration.enabled=true"],
        input.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GI040") && stderr.contains("istio-proxy") && stderr.contains("<stdin>"),
        "{stderr}"
    );
    // A broken document among the interesting ones is located.
    let broken = format!("{input}---\nkind: Settings\napiVersion: gloo.solo.io/v1\nmetadata: {{name: [\n");
    let out = run(&["post-render", "-q"], broken.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("GI001"));
}

#[test]
fn a_conflicting_container_names_the_fields_that_differ() {
    let Some(chart) = reference("c-istio-integration-automtls.rendered.yaml") else {
        return;
    };
    let input = std::fs::read_to_string(&chart).unwrap();
    // The istio-proxy image the chart rendered, read from its output.
    let stream_image = resources(&input)
        .values()
        .flat_map(|doc| {
            doc.pointer("/spec/template/spec/containers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .find(|c| c["name"] == "istio-proxy")
        .and_then(|c| c["image"].as_str().map(str::to_string))
        .expect("the chart renders an istio-proxy container");
    let out = run(
        &[
            "post-render",
            "-q",
            "--set",
            "global.istioIntegration.enabled=true,global.istioIntegration.enableAutoMtls=true",
            "--set",
            "global.glooMtls.istioProxy.image.tag=9.9.9",
        ],
        input.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!("`image`: `{stream_image}` ≠ `docker.io/istio/proxyv2:9.9.9`");
    assert!(
        stderr.contains("GI040") && stderr.contains(&expected),
        "`{expected}` missing:\n{stderr}"
    );
}

#[test]
fn uninject_is_the_exact_inverse_of_inject() {
    let Some(plain) = reference("a-defaults.rendered.yaml") else {
        return;
    };
    let input = std::fs::read_to_string(&plain).unwrap();
    let injected = run(&["inject", "--istio-meta-mesh-id", "mesh1"], input.as_bytes());
    let injected_text = ok(&injected);
    assert!(String::from_utf8_lossy(&injected.stderr).contains("Istio injection was successful!"));
    let gp = resources(&injected_text)
        .remove(&("Deployment".into(), "gloo-system".into(), "gateway-proxy".into()))
        .unwrap();
    let names: Vec<&str> = gp["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gateway-proxy", "sds", "istio-proxy"]);
    let uninjected = run(&["uninject"], injected_text.as_bytes());
    assert_eq!(ok(&uninjected), input, "byte for byte");
    assert!(String::from_utf8_lossy(&uninjected.stderr).contains("Istio was successfully uninjected"));
}

#[test]
fn inject_leaves_injected_proxies_alone_with_a_message() {
    let Some(path) = reference("c-istio-integration-automtls.rendered.yaml") else {
        return;
    };
    let input = std::fs::read_to_string(&path).unwrap();
    let out = run(&["inject"], input.as_bytes());
    assert_eq!(ok(&out), input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sidecar container already exists on gateway-proxy pod"),
        "{stderr}"
    );
    assert!(stderr.contains("gateway_proxy_sds cluster already found"), "{stderr}");
}

#[test]
fn uninject_refuses_to_break_gloo_mtls_and_needs_both_sidecars() {
    let Some(path) = reference("f-gloo-mtls-istio-sds.rendered.yaml") else {
        return;
    };
    let out = run(&["uninject"], &std::fs::read(&path).unwrap());
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("glooMtls"));
    let plain = std::fs::read(reference("a-defaults.rendered.yaml").unwrap()).unwrap();
    let out = run(&["uninject"], &plain);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("both the sds and istio-proxy sidecars"));
}

const UPSTREAM: &str = "---\napiVersion: gloo.solo.io/v1\nkind: Upstream\nmetadata:\n  name: default-productpage-9080\n  namespace: gloo-system\nspec:\n  kube:\n    serviceName: productpage\n    serviceNamespace: default\n    servicePort: 9080\n";

#[test]
fn enable_and_disable_mtls() {
    let enabled = ok(&run(
        &["enable-mtls", "-u", "default-productpage-9080"],
        UPSTREAM.as_bytes(),
    ));
    let v = resources(&enabled).into_values().next().unwrap();
    assert_eq!(
        v["spec"]["sslConfig"],
        serde_json::json!({"alpnProtocols": ["istio"], "sds": {"certificatesSecretName": "istio_server_cert", "clusterName": "gateway_proxy_sds", "targetUri": "127.0.0.1:8234", "validationContextName": "istio_validation_context"}})
    );
    // Already set: an error, not glooctl's silent success (Istio spec §7.13).
    let again = run(&["enable-mtls", "-u", "default-productpage-9080"], enabled.as_bytes());
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("Error upstream already has an sslConfig set"));
    // disable-mtls is the inverse.
    assert_eq!(
        ok(&run(
            &["disable-mtls", "-u", "default-productpage-9080"],
            enabled.as_bytes()
        )),
        UPSTREAM
    );
    let none = run(&["disable-mtls", "-u", "default-productpage-9080"], UPSTREAM.as_bytes());
    assert_eq!(none.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&none.stderr)
            .contains("upstream does not have an sslConfig set: upstream already has mTLS disabled")
    );
    // Not an Istio sslConfig: kept unless --force.
    let tls = format!("{UPSTREAM}  sslConfig:\n    secretRef:\n      name: my-tls\n      namespace: default\n");
    assert_eq!(
        run(&["disable-mtls", "-u", "default-productpage-9080"], tls.as_bytes())
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        ok(&run(
            &["disable-mtls", "--force", "-u", "default-productpage-9080"],
            tls.as_bytes()
        )),
        UPSTREAM
    );
    let missing = run(&["enable-mtls", "-u", "nope"], UPSTREAM.as_bytes());
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("Error reading upstream"));
}

#[test]
fn uninject_and_upstreams() {
    let Some(path) = reference("c-istio-integration-automtls.rendered.yaml") else {
        return;
    };
    let input = std::fs::read_to_string(&path).unwrap();
    let enabled = ok(&run(
        &["enable-mtls", "-u", "default-productpage-9080"],
        UPSTREAM.as_bytes(),
    ));
    let stream = format!("{input}{enabled}");
    let refused = run(&["uninject"], stream.as_bytes());
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--include-upstreams"));
    let out = ok(&run(&["uninject", "--include-upstreams"], stream.as_bytes()));
    let up = resources(&out)
        .remove(&(
            "Upstream".into(),
            "gloo-system".into(),
            "default-productpage-9080".into(),
        ))
        .unwrap();
    assert!(up["spec"].get("sslConfig").is_none());
}

/// Values that turn Istio off, for pods that run it, cannot be honoured by adding: refused,
/// located (GI041). Values silent about Istio leave the stream as it is.
#[test]
fn values_that_turn_istio_off_for_pods_that_run_it_are_refused() {
    let Some(path) = reference("c-istio-integration-automtls.rendered.yaml") else {
        return;
    };
    let input = std::fs::read(path).unwrap();
    for set in ["global.istioIntegration.enabled=false", "global.istioSDS.enabled=false"] {
        let out = run(&["post-render", "-q", "--set", set], &input);
        assert_eq!(out.status.code(), Some(1), "{set}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("GI041") && stderr.contains("<stdin> (document 27)") && stderr.contains("uninject"),
            "{set}: {stderr}"
        );
    }
}
