//! `analyze`: the transport Gloo uses per Upstream against Istio peer authentication, with the
//! end-to-end semantics of `gloo-istio-behavior.md` §4.3 as the expected outcomes.

use std::sync::Arc;

use gloo_istio::analyze::{AnalyzeOptions, analyze};
use gloo_istio::diag::{Diagnostic, Level, SourceFile};

fn run(manifests: &str) -> Vec<Diagnostic> {
    let source: Arc<SourceFile> = SourceFile::new("manifests.yaml", manifests);
    analyze(&[source], &AnalyzeOptions::default())
}

fn codes(findings: &[Diagnostic], level: Level) -> Vec<&'static str> {
    findings.iter().filter(|d| d.level == level).map(|d| d.code).collect()
}

fn settings(integration: bool, auto_mtls: bool) -> String {
    format!(
        "---\napiVersion: gloo.solo.io/v1\nkind: Settings\nmetadata: {{name: default, namespace: gloo-system}}\nspec:\n  gloo:\n    istioOptions: {{enableIntegration: {integration}, enableAutoMtls: {auto_mtls}}}\n"
    )
}

fn peer_auth(namespace: &str, mode: &str) -> String {
    format!(
        "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: default, namespace: {namespace}}}\nspec:\n  mtls: {{mode: {mode}}}\n"
    )
}

const SSL: &str = "  sslConfig:\n    alpnProtocols: [istio]\n    sds:\n      certificatesSecretName: istio_server_cert\n      clusterName: gateway_proxy_sds\n      targetUri: 127.0.0.1:8234\n      validationContextName: istio_validation_context\n";

/// The httpbin pods in a namespace Istio injects, behind their Service.
const MESHED_PODS: &str = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: httpbin, labels: {istio-injection: enabled}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: httpbin, namespace: httpbin}\nspec:\n  selector: {app: httpbin}\n  ports: [{port: 8000, targetPort: 8080}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: httpbin, namespace: httpbin}\nspec:\n  template:\n    metadata: {labels: {app: httpbin}}\n    spec:\n      containers: [{name: httpbin, image: httpbin, ports: [{containerPort: 8080}]}]\n";

/// The Upstream of the httpbin Service, next to its pods.
fn upstream(extra: &str) -> String {
    format!(
        "{MESHED_PODS}---\napiVersion: gloo.solo.io/v1\nkind: Upstream\nmetadata: {{name: httpbin, namespace: gloo-system}}\nspec:\n  kube: {{serviceName: httpbin, serviceNamespace: httpbin, servicePort: 8000}}\n{extra}"
    )
}

#[test]
fn automtls_off_strict_without_sslconfig_fails() {
    // Istio spec §4.3: STRICT peer auth + no sslConfig → 503.
    let findings = run(&(settings(true, false) + &peer_auth("httpbin", "STRICT") + &upstream("")));
    assert_eq!(codes(&findings, Level::Error), ["GI031"]);
    let d = findings.iter().find(|d| d.code == "GI031").unwrap();
    assert!(d.message.contains("503"));
    let loc = d.location.as_ref().unwrap();
    assert_eq!(loc.source.name, "manifests.yaml");
}

#[test]
fn automtls_off_permissive_is_plaintext_and_fine() {
    let findings = run(&(settings(true, false) + &peer_auth("httpbin", "PERMISSIVE") + &upstream("")));
    assert!(codes(&findings, Level::Error).is_empty());
    let info = findings.iter().find(|d| d.code == "GI030").unwrap();
    assert!(
        info.message.contains("plain text") && info.message.contains("PERMISSIVE"),
        "{}",
        info.message
    );
}

#[test]
fn automtls_off_strict_with_sslconfig_is_fine() {
    let findings = run(&(settings(true, false) + &peer_auth("httpbin", "STRICT") + &upstream(SSL)));
    assert!(codes(&findings, Level::Error).is_empty(), "{findings:?}");
}

#[test]
fn automtls_on_strict_and_permissive_are_mtls() {
    for mode in ["STRICT", "PERMISSIVE"] {
        let findings = run(&(settings(true, true) + &peer_auth("httpbin", mode) + &upstream("")));
        assert!(codes(&findings, Level::Error).is_empty(), "{mode}");
        assert!(
            findings
                .iter()
                .any(|d| d.code == "GI030" && d.message.contains("auto-mTLS"))
        );
    }
}

#[test]
fn automtls_opt_out_under_disable_is_plaintext() {
    let findings =
        run(&(settings(true, true) + &peer_auth("httpbin", "DISABLE") + &upstream("  disableIstioAutoMtls: true\n")));
    assert!(codes(&findings, Level::Error).is_empty());
}

#[test]
fn sslconfig_under_disable_fails_even_with_the_opt_out() {
    // §4.3: sslConfig + disableIstioAutoMtls under DISABLE peer auth → 503.
    let extra = format!("  disableIstioAutoMtls: true\n{SSL}");
    let findings = run(&(settings(true, true) + &peer_auth("httpbin", "DISABLE") + &upstream(&extra)));
    assert_eq!(codes(&findings, Level::Error), ["GI032"]);
}

#[test]
fn automtls_without_integration_is_plaintext() {
    // §4.3 / §7.6: enableAutoMtls without enableIntegration → plain text and an error log.
    let findings = run(&(settings(false, true) + &peer_auth("httpbin", "STRICT") + &upstream("")));
    assert_eq!(codes(&findings, Level::Error), ["GI031"]);
    assert_eq!(codes(&findings, Level::Warning), ["GI033"]);
}

#[test]
fn mesh_wide_and_workload_peer_authentication() {
    // Mesh-wide STRICT in the root namespace applies; a workload-specific PERMISSIVE one that
    // selects the pods overrides it.
    let mesh = peer_auth("istio-system", "STRICT");
    assert_eq!(
        codes(&run(&(settings(true, false) + &mesh + &upstream(""))), Level::Error),
        ["GI031"]
    );
    let workload = "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: httpbin, namespace: httpbin}\nspec:\n  selector:\n    matchLabels: {app: httpbin}\n  mtls: {mode: PERMISSIVE}\n";
    let findings = run(&(settings(true, false) + &mesh + workload + &upstream("")));
    assert!(codes(&findings, Level::Error).is_empty(), "{findings:?}");
}

#[test]
fn sds_sslconfig_needs_the_sds_sidecar() {
    let without = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: gateway-proxy\n  namespace: gloo-system\n  labels: {gloo: gateway-proxy}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: gateway-proxy, image: x}\n";
    let findings = run(&(settings(true, false) + without + &upstream(SSL)));
    assert_eq!(codes(&findings, Level::Error), ["GI034"]);
    let with = without.replace(
        "      - {name: gateway-proxy, image: x}\n",
        "      - {name: gateway-proxy, image: x}\n      - {name: sds, image: y}\n",
    );
    assert!(codes(&run(&(settings(true, false) + &with + &upstream(SSL))), Level::Error).is_empty());
}

#[test]
fn rendered_gateway_proxies_carry_the_sds_cluster() {
    // Our own render of the Istio integration satisfies GI034's check end to end.
    let rendered = gloo_istio::pipeline::render_files(&gloo_istio::pipeline::RenderOptions {
        values_files: vec![concat!(env!("CARGO_MANIFEST_DIR"), "/values/upstreams.yaml").into()],
        ..Default::default()
    })
    .unwrap()
    .to_stream();
    let findings = run(&(rendered.clone() + &settings(true, false)));
    assert!(!findings.iter().any(|d| d.code == "GI034"), "{findings:?}");
    // Without Istio the same Upstream shape is flagged.
    let plain = gloo_istio::pipeline::render_files(&Default::default())
        .unwrap()
        .to_stream();
    let findings = run(&(plain + &settings(true, false) + &upstream(SSL)));
    assert!(findings.iter().any(|d| d.code == "GI034"), "{findings:?}");
}

#[test]
fn upstreams_example_under_mesh_wide_strict_has_no_error() {
    // The acceptance case: `render -f values/upstreams.yaml`, a mesh-wide STRICT policy,
    // and the legacy service's namespace not labelled for injection. The bookinfo pods are not in
    // the input (unknown), and the legacy service's plain text is not flagged.
    let rendered = gloo_istio::pipeline::render_files(&gloo_istio::pipeline::RenderOptions {
        values_files: vec![concat!(env!("CARGO_MANIFEST_DIR"), "/values/upstreams.yaml").into()],
        ..Default::default()
    })
    .unwrap()
    .to_stream();
    let mesh = peer_auth("istio-system", "STRICT") + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: legacy}\n";
    let findings = run(&(rendered.clone() + &mesh));
    assert!(codes(&findings, Level::Error).is_empty(), "{findings:?}");
    // With the legacy pods in the input, the verdict on them is certain: plain text is fine.
    let legacy = "---\napiVersion: v1\nkind: Service\nmetadata: {name: legacy-api, namespace: legacy}\nspec:\n  selector: {app: legacy-api}\n  ports: [{port: 8080}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: legacy-api, namespace: legacy}\nspec:\n  template:\n    metadata: {labels: {app: legacy-api}}\n    spec:\n      containers: [{name: api, image: api}]\n";
    let source = SourceFile::new("manifests.yaml", rendered + &mesh + legacy);
    let report = gloo_istio::analyze::report(&[source], &AnalyzeOptions::default());
    let line = report
        .upstreams
        .iter()
        .find(|u| u.name == "legacy-legacy-api-8080")
        .unwrap();
    assert_eq!(line.verdict, gloo_istio::analyze::Verdict::Ok, "{}", line.line());
    assert!(report.findings.iter().all(|d| d.level != Level::Error));
}

#[test]
fn without_the_pods_the_verdict_is_unknown_not_a_guess() {
    let upstream_only = "---\napiVersion: gloo.solo.io/v1\nkind: Upstream\nmetadata: {name: httpbin, namespace: gloo-system}\nspec:\n  kube: {serviceName: httpbin, serviceNamespace: httpbin, servicePort: 8000}\n";
    let findings = run(&(settings(true, false) + &peer_auth("httpbin", "STRICT") + upstream_only));
    assert!(codes(&findings, Level::Error).is_empty(), "{findings:?}");
    assert!(
        findings
            .iter()
            .any(|d| d.code == "GI050" && d.message.contains("not in the input"))
    );
}

#[test]
fn human_output_has_one_line_per_upstream_and_json_the_same_fields() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.yaml");
    std::fs::write(
        &file,
        settings(true, false) + &peer_auth("httpbin", "STRICT") + &upstream(""),
    )
    .unwrap();
    let out = |format: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_gloo-istio"))
            .args(["analyze", "--format", format, file.to_str().unwrap()])
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    let human = out("human");
    let line = human.lines().find(|l| l.contains("gloo-system/httpbin")).unwrap();
    for part in [
        "FAIL",
        "plaintext",
        "httpbin/httpbin:8000",
        "port 8080",
        "STRICT",
        "PeerAuthentication httpbin/default",
    ] {
        assert!(line.contains(part), "{part} missing from {line}");
    }
    let json: serde_json::Value = serde_json::from_str(&out("json")).unwrap();
    let upstream = &json["upstreams"][0];
    assert_eq!(upstream["verdict"], "fail");
    assert_eq!(upstream["transport"], "plaintext");
    assert_eq!(upstream["endpoints"][0]["port"], 8080);
    assert_eq!(upstream["endpoints"][0]["peer_mode"], "STRICT");
    assert_eq!(
        upstream["endpoints"][0]["policy"],
        "PeerAuthentication httpbin/default (namespace-wide)"
    );
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "GI031")
    );
}

#[test]
fn target_uri_typo() {
    let typo = SSL.replace("127.0.0.1:8234", "127.0.01:8234");
    let findings = run(&(settings(true, false) + &upstream(&typo)));
    assert_eq!(codes(&findings, Level::Warning), ["GI035"]);
    let without_cluster = typo.replace("      clusterName: gateway_proxy_sds\n", "");
    let findings = run(&(settings(true, false) + &upstream(&without_cluster)));
    assert_eq!(codes(&findings, Level::Error), ["GI035"]);
}

#[test]
fn a_broken_document_is_located_and_the_rest_still_analysed() {
    let broken = "---\nkind: Upstream\nmetadata: {name: [\n";
    let findings = run(&(settings(true, false) + &peer_auth("httpbin", "STRICT") + broken + &upstream("")));
    let syntax = findings.iter().find(|d| d.code == "GI001").expect("a syntax error");
    assert!(syntax.location.as_ref().unwrap().span.start.line > 10);
    assert!(findings.iter().any(|d| d.code == "GI031"));
}

#[test]
fn cli_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        settings(true, false) + &peer_auth("httpbin", "STRICT") + &upstream(""),
    )
    .unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        settings(true, false) + &peer_auth("httpbin", "STRICT") + &upstream(SSL),
    )
    .unwrap();
    let status = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gloo-istio"))
            .args(args)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(status(&["analyze", bad.to_str().unwrap()]), Some(1));
    assert_eq!(status(&["analyze", good.to_str().unwrap()]), Some(0));
    assert_eq!(
        status(&["analyze", "--fail-on", "info", good.to_str().unwrap()]),
        Some(1)
    );
    assert_eq!(status(&["analyze", "/nonexistent.yaml"]), Some(2));
}

/// The scenario suite: every `tests/analyze/*.yaml` is a small manifest set whose header states
/// the rule it covers (`# rule:`), the options (`# args:`), the expected verdict of Upstreams
/// (`# verdict ns/name: ok|fail|unknown`), the exact set of error and warning codes
/// (`# findings:`, or `none`) and info codes that must be among the findings (`# info:`). The
/// expectations follow from the rules of docs/analyze.md, not from a run of the tool.
#[test]
fn scenarios() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/analyze");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 45, "only {} scenarios", paths.len());
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let mut options = AnalyzeOptions::default();
        let mut verdicts = Vec::new();
        let mut expected_findings: Option<Vec<String>> = None;
        let mut infos = Vec::new();
        for line in text.lines().take_while(|l| l.starts_with('#')) {
            if let Some(args) = line.strip_prefix("# args:") {
                let words: Vec<&str> = args.split_whitespace().collect();
                for pair in words.chunks(2) {
                    let value = pair[1].to_string();
                    match pair[0] {
                        "-n" => options.default_namespace = value,
                        "--istio-root-namespace" => options.istio_root_namespace = Some(value),
                        "--istio-revision" => options.istio_revision = Some(value),
                        "--istio-version" => options.istio_version = Some(value),
                        other => panic!("{name}: unknown arg {other}"),
                    }
                }
            } else if let Some(rest) = line.strip_prefix("# verdict ") {
                let (upstream, verdict) = rest.split_once(':').unwrap();
                verdicts.push((upstream.trim().to_string(), verdict.trim().to_string()));
            } else if let Some(codes) = line.strip_prefix("# findings:") {
                expected_findings = Some(
                    codes
                        .split_whitespace()
                        .filter(|c| *c != "none")
                        .map(str::to_string)
                        .collect(),
                );
            } else if let Some(codes) = line.strip_prefix("# info:") {
                infos.extend(codes.split_whitespace().map(str::to_string));
            }
        }
        let source = SourceFile::new(format!("{name}.yaml"), text.clone());
        let report = gloo_istio::analyze::report(&[source], &options);
        for (upstream, verdict) in &verdicts {
            match report
                .upstreams
                .iter()
                .find(|u| format!("{}/{}", u.namespace, u.name) == *upstream)
            {
                Some(u) if u.verdict.as_str() == verdict => {}
                Some(u) => failures.push(format!(
                    "{name}: {upstream} is {}, expected {verdict}\n  {}",
                    u.verdict.as_str(),
                    u.line()
                )),
                None => failures.push(format!("{name}: no Upstream {upstream}")),
            }
        }
        let mut found: Vec<String> = report
            .findings
            .iter()
            .filter(|d| d.level >= Level::Warning)
            .map(|d| d.code.to_string())
            .collect();
        found.sort();
        found.dedup();
        let expected = expected_findings.unwrap_or_else(|| panic!("{name}: no `# findings:` line"));
        if found != expected {
            let shown: Vec<String> = report
                .findings
                .iter()
                .filter(|d| d.level >= Level::Warning)
                .map(|d| d.short())
                .collect();
            failures.push(format!(
                "{name}: findings {found:?}, expected {expected:?}\n  {}",
                shown.join("\n  ")
            ));
        }
        for info in &infos {
            if !report.findings.iter().any(|d| d.code == info) {
                failures.push(format!("{name}: no {info}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} scenario(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
