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
        let (ours, theirs) = (resources(&out), resources(&expected));
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
    }
    assert!(report.is_empty(), "{report}");
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
