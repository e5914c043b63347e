//! Our rendered output, checked by the real tools that consume it ("peers"):
//!
//! * `kubernetes-validate --strict -k 1.33.0` on every Deployment, DaemonSet and ConfigMap;
//! * `envoy --mode validate` on every envoy bootstrap;
//! * `check-jsonschema` with a strict copy of Gloo's Upstream CRD schema on every Upstream;
//! * `yamllint` on every manifest and bootstrap.
//!
//! Each runs over every example values file (`values/*.yaml`) and every reference case
//! (`shared/reference/gloo-chart/*.values.yaml`) and reports all failures at once, named by
//! input. Two kinds of control keep the checks honest without our renderer: the same checks
//! pass on the real chart's output (`reference_renders_*`), and each peer rejects a known-bad
//! input (`*_rejects_*`). Peers come from `bash .ci/install-peers.sh`; see
//! `tests/common/mod.rs` for when a missing one skips and when it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use gloo_istio::pipeline::{RenderOptions, render_files};
use gloo_istio::render::{Manifest, ManifestKind};

/// The Kubernetes version our manifests must be valid for.
const KUBERNETES_VERSION: &str = "1.33.0";

/// yamllint rules for the manifests: the default (strict) rule set, minus what the real chart's
/// output does, and a faithful render therefore reproduces byte for byte (reference README,
/// "Quirks"), and minus what does not apply to machine-written YAML:
///
/// * long lines (`line-length`); no `---` (a `Manifest::text` has none);
/// * sequences both indented and not (the chart's templates mix the two); trailing spaces
///   (`port: 8234 `, `name: workload-certs `) and runs of blank lines left by the templates;
/// * one space before a comment (`sidecar.istio.io/inject: "false" # this deployment ...`).
///
/// Still enforced: syntax, duplicate keys, consistent indentation, truthy values, brackets,
/// braces, colons, commas, hyphens, empty values, new lines, anchors.
/// `reference_renders_pass_yamllint` shows the real chart's output passes this config.
const YAMLLINT_MANIFESTS: &str = "{extends: default, rules: {\
    line-length: disable, document-start: disable, trailing-spaces: disable, \
    empty-lines: disable, comments: {min-spaces-from-content: 1}, \
    indentation: {spaces: consistent, indent-sequences: whatever, \
    check-multi-line-strings: false}}}";

/// The same for the envoy bootstraps, minus indentation: the chart indents some bootstrap
/// blocks irregularly (reference k7 and k8: `prefix:` one column deeper than its sibling
/// `- match:` key in the admin routes; the access-logger cluster at 4 spaces a level, not 2).
const YAMLLINT_BOOTSTRAPS: &str = "{extends: default, rules: {\
    line-length: disable, document-start: disable, trailing-spaces: disable, \
    empty-lines: disable, comments: {min-spaces-from-content: 1}, indentation: disable}}";

const WORKLOAD_AND_CONFIG_KINDS: [ManifestKind; 3] = [
    ManifestKind::Deployment,
    ManifestKind::DaemonSet,
    ManifestKind::ConfigMap,
];

/// One rendered resource, as much of a `Manifest` as the peers need. The controls build
/// these from files, so they do not depend on how `Manifest` grows.
struct Resource {
    kind: ManifestKind,
    name: String,
    /// `Manifest::file_name()`: `<kind>-<namespace>-<name>.yaml`.
    file_name: String,
    text: String,
    envoy_bootstrap: Option<String>,
}

impl Resource {
    fn new(kind: ManifestKind, namespace: &str, name: &str, text: String, envoy_bootstrap: Option<String>) -> Self {
        let file_name = format!("{}-{namespace}-{name}.yaml", kind.as_str().to_ascii_lowercase());
        Resource {
            kind,
            name: name.to_string(),
            file_name,
            text,
            envoy_bootstrap,
        }
    }
}

impl From<Manifest> for Resource {
    fn from(manifest: Manifest) -> Self {
        Resource {
            kind: manifest.kind,
            file_name: manifest.file_name(),
            name: manifest.name,
            text: manifest.text,
            envoy_bootstrap: manifest.envoy_bootstrap,
        }
    }
}

/// The resources rendered from one values file.
struct RenderedInput {
    label: String,
    manifests: Vec<Resource>,
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/// Every input rendered, and the inputs that failed to render. Rendered once per test binary
/// (the tests run as threads of one process) and shared by the four checks.
struct Renders {
    inputs: Vec<RenderedInput>,
    failures: Vec<String>,
}

fn renders() -> &'static Renders {
    static RENDERS: OnceLock<Renders> = OnceLock::new();
    RENDERS.get_or_init(|| {
        let mut inputs = Vec::new();
        let mut failures = Vec::new();
        for (label, values) in common::all_values_inputs() {
            let opts = RenderOptions {
                values_files: vec![values],
                ..RenderOptions::default()
            };
            match render_files(&opts) {
                Ok(out) => inputs.push(RenderedInput {
                    label,
                    manifests: out.manifests.into_iter().map(Resource::from).collect(),
                }),
                Err(e) => failures.push(format!("{label}: render failed:\n{e}")),
            }
        }
        Renders { inputs, failures }
    })
}

/// The real chart's gateway-proxy Deployments/DaemonSets and envoy ConfigMaps (with their
/// bootstraps) for every reference case, read from `split/`, as if we had rendered them.
fn reference_renders(reference: &Path) -> Vec<RenderedInput> {
    let split = reference.join("split");
    let read = |name: String| {
        let path = split.join(&name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    };
    let mut inputs = Vec::new();
    for (case, _) in common::reference_cases() {
        let mut manifests = Vec::new();
        for part in ["gateway-proxy-deployments", "gateway-proxy-configmaps"] {
            for text in split_documents(&read(format!("{case}.{part}.yaml"))) {
                let field = |key: &str| {
                    text.lines()
                        .find_map(|line| line.strip_prefix(key))
                        .unwrap_or_else(|| panic!("{case}.{part}.yaml: a document without `{key}`"))
                        .trim()
                        .to_string()
                };
                let kind = match field("kind: ").as_str() {
                    "Deployment" => ManifestKind::Deployment,
                    "DaemonSet" => ManifestKind::DaemonSet,
                    "ConfigMap" => ManifestKind::ConfigMap,
                    other => panic!("{case}.{part}.yaml: unexpected kind {other}"),
                };
                let name = field("  name: ");
                let envoy_bootstrap =
                    (kind == ManifestKind::ConfigMap).then(|| read(format!("{case}.envoy.{name}.yaml")));
                manifests.push(Resource::new(
                    kind,
                    &field("  namespace: "),
                    &name,
                    text,
                    envoy_bootstrap,
                ));
            }
        }
        inputs.push(RenderedInput {
            label: format!("helm/{case}"),
            manifests,
        });
    }
    inputs
}

/// The documents of a multi-document YAML stream, each without its `---` line.
fn split_documents(stream: &str) -> Vec<String> {
    let mut documents = vec![String::new()];
    for line in stream.split_inclusive('\n') {
        if line.trim_end() == "---" {
            documents.push(String::new());
        } else {
            documents.last_mut().expect("one document at least").push_str(line);
        }
    }
    documents.retain(|d| !d.trim().is_empty());
    documents
}

fn upstream_data_dir() -> PathBuf {
    common::manifest_dir().join("tests/data/upstream")
}

/// An Upstream from `tests/data/upstream` as a one-manifest input labelled `control/<file>`.
fn upstream_control(file: &str) -> RenderedInput {
    let path = upstream_data_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let manifest = Resource::new(
        ManifestKind::Upstream,
        "gloo-system",
        "default-productpage-9080",
        text,
        None,
    );
    RenderedInput {
        label: format!("control/{file}"),
        manifests: vec![manifest],
    }
}

// ---------------------------------------------------------------------------------------------
// Running the peers
// ---------------------------------------------------------------------------------------------

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

/// A file name that says which input and which manifest it holds: `<n>-<input>--<leaf>`.
fn file_name_for(index: usize, label: &str, leaf: &str) -> String {
    let label: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{index:03}-{label}--{leaf}")
}

/// Writes `text` into `dir` under `name` and returns the path.
fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// Writes every manifest of the given kinds into `dir`, one file each.
fn write_manifests(dir: &Path, inputs: &[RenderedInput], kinds: &[ManifestKind]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        for manifest in input.manifests.iter().filter(|m| kinds.contains(&m.kind)) {
            let name = file_name_for(index, &input.label, &manifest.file_name);
            files.push(write_file(dir, &name, &manifest.text));
        }
    }
    files
}

/// Writes every envoy bootstrap into `dir`; returns (input label, ConfigMap name, file).
fn write_bootstraps<'a>(dir: &Path, inputs: &'a [RenderedInput]) -> Vec<(&'a str, &'a str, PathBuf)> {
    let mut files = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        for manifest in &input.manifests {
            if let Some(bootstrap) = &manifest.envoy_bootstrap {
                let name = file_name_for(index, &input.label, &format!("{}.envoy.yaml", manifest.name));
                files.push((
                    input.label.as_str(),
                    manifest.name.as_str(),
                    write_file(dir, &name, bootstrap),
                ));
            }
        }
    }
    files
}

fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// One `kubernetes-validate --strict` run over every Deployment, DaemonSet and ConfigMap (a
/// start costs most of a second, so never one per file). Returns the failures.
fn check_kubernetes_validate(tool: &Path, inputs: &[RenderedInput]) -> Vec<String> {
    let dir = tempdir();
    let files = write_manifests(dir.path(), inputs, &WORKLOAD_AND_CONFIG_KINDS);
    if files.is_empty() {
        return if inputs.is_empty() {
            Vec::new()
        } else {
            vec!["no input rendered a Deployment, DaemonSet or ConfigMap".to_string()]
        };
    }
    let output = common::run(
        Command::new(tool)
            .args(["--strict", "-k", KUBERNETES_VERSION, "--quiet"])
            .args(&files),
    );
    if output.status.success() {
        return Vec::new();
    }
    vec![format!(
        "kubernetes-validate --strict -k {KUBERNETES_VERSION} ({}); files are <n>-<input>--<manifest>:\n{}",
        output.status,
        common::output_text(&output)
    )]
}

/// `envoy --mode validate` on one bootstrap; `Err(report)` unless it exits 0 saying OK.
fn envoy_validate(envoy: &Path, bootstrap: &Path) -> Result<(), String> {
    // Validate mode opens no sockets, resolves no DNS and makes no hot-restart shared memory,
    // so it needs neither --base-id nor a writable HOME, and several can run at once.
    // --log-level error keeps out the chart's deprecation warnings; errors are `critical`.
    let output = common::run(
        Command::new(envoy)
            .args(["--mode", "validate", "--log-level", "error", "-c"])
            .arg(bootstrap),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    if output.status.success() && stdout.trim_end().ends_with(" OK") {
        Ok(())
    } else {
        Err(format!(
            "envoy --mode validate ({}):\n{}",
            output.status,
            common::output_text(&output)
        ))
    }
}

/// `envoy --mode validate` on every bootstrap, one process each (envoy takes one config a
/// run), spread over the cores. Returns the failures.
fn check_envoy(envoy: &Path, inputs: &[RenderedInput]) -> Vec<String> {
    let dir = tempdir();
    let jobs = write_bootstraps(dir.path(), inputs);
    if jobs.is_empty() {
        return if inputs.is_empty() {
            Vec::new()
        } else {
            vec!["no input rendered a ConfigMap with an envoy bootstrap".to_string()]
        };
    }
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(jobs.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some((label, configmap, file)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(report) = envoy_validate(envoy, file) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{label}: ConfigMap {configmap}: {report}"));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    failures
}

/// One `check-jsonschema` run of every Upstream against the strict Upstream CRD schema.
/// The schema is the CRD's `openAPIV3Schema` with `additionalProperties: false` added: it
/// describes the whole object (apiVersion, kind, metadata, spec, status), not only `spec`,
/// so each file is a whole Upstream. Returns the failures and how many Upstreams were checked.
fn check_upstreams(tool: &Path, inputs: &[RenderedInput]) -> (Vec<String>, usize) {
    let dir = tempdir();
    let files = write_manifests(dir.path(), inputs, &[ManifestKind::Upstream]);
    if files.is_empty() {
        return (Vec::new(), 0);
    }
    let output = common::run(
        Command::new(tool)
            .arg("--schemafile")
            .arg(upstream_data_dir().join("upstream.gloo.solo.io_v1.strict.schema.json"))
            .args(["--output-format", "text", "--color", "never"])
            .args(&files),
    );
    if output.status.success() {
        return (Vec::new(), files.len());
    }
    let report = format!(
        "check-jsonschema, strict Upstream schema ({}); files are <n>-<input>--<manifest>:\n{}",
        output.status,
        common::output_text(&output)
    );
    (vec![report], files.len())
}

/// `yamllint -s -f parsable -d CONFIG FILES…`; `Some(report)` when it finds anything.
fn yamllint(tool: &Path, config: &str, files: &[PathBuf]) -> Option<String> {
    let output = common::run(
        Command::new(tool)
            .args(["-s", "-f", "parsable", "-d", config])
            .args(files),
    );
    (!output.status.success()).then(|| format!("yamllint ({}):\n{}", output.status, common::output_text(&output)))
}

/// yamllint over every manifest (one run) and every bootstrap (one run). Returns the failures.
fn check_yamllint(tool: &Path, inputs: &[RenderedInput]) -> Vec<String> {
    let dir = tempdir();
    let all_kinds = [
        ManifestKind::Deployment,
        ManifestKind::DaemonSet,
        ManifestKind::ConfigMap,
        ManifestKind::Upstream,
    ];
    let manifests = write_manifests(dir.path(), inputs, &all_kinds);
    let bootstraps: Vec<PathBuf> = write_bootstraps(dir.path(), inputs)
        .into_iter()
        .map(|(_, _, f)| f)
        .collect();
    let mut failures = Vec::new();
    if !manifests.is_empty() {
        failures.extend(yamllint(tool, YAMLLINT_MANIFESTS, &manifests).map(|r| format!("manifests: {r}")));
    }
    if !bootstraps.is_empty() {
        failures.extend(yamllint(tool, YAMLLINT_BOOTSTRAPS, &bootstraps).map(|r| format!("bootstraps: {r}")));
    }
    failures
}

// ---------------------------------------------------------------------------------------------
// Our rendered output
// ---------------------------------------------------------------------------------------------

#[test]
fn kubernetes_validate_strict() {
    let Some(tool) = common::peer("kubernetes-validate") else {
        return;
    };
    let Renders { inputs, failures } = renders();
    let mut failures = failures.clone();
    failures.extend(check_kubernetes_validate(&tool, inputs));
    assert_no_failures("kubernetes-validate", &failures);
}

#[test]
fn envoy_validate_bootstraps() {
    let Some(envoy) = common::peer("envoy") else {
        return;
    };
    let Renders { inputs, failures } = renders();
    let mut failures = failures.clone();
    failures.extend(check_envoy(&envoy, inputs));
    assert_no_failures("envoy --mode validate", &failures);
}

#[test]
fn upstreams_match_strict_crd_schema() {
    let Some(tool) = common::peer("check-jsonschema") else {
        return;
    };
    let Renders { inputs, failures } = renders();
    let mut failures = failures.clone();
    let (upstream_failures, checked) = check_upstreams(&tool, inputs);
    failures.extend(upstream_failures);
    if checked == 0 {
        eprintln!("note: no input rendered an Upstream; only the schema controls check them");
    }
    assert_no_failures("check-jsonschema", &failures);
}

#[test]
fn yamllint_output_is_clean() {
    let Some(tool) = common::peer("yamllint") else {
        return;
    };
    let Renders { inputs, failures } = renders();
    let mut failures = failures.clone();
    failures.extend(check_yamllint(&tool, inputs));
    assert_no_failures("yamllint", &failures);
}

// ---------------------------------------------------------------------------------------------
// Positive controls: the same checks pass on the real chart's output, which we reproduce.
// ---------------------------------------------------------------------------------------------

#[test]
fn reference_renders_pass_kubernetes_validate() {
    let Some(tool) = common::peer("kubernetes-validate") else {
        return;
    };
    let Some(reference) = common::reference_dir() else {
        return;
    };
    assert_no_failures(
        "kubernetes-validate on helm's output",
        &check_kubernetes_validate(&tool, &reference_renders(&reference)),
    );
}

#[test]
fn reference_renders_pass_envoy_validate() {
    let Some(envoy) = common::peer("envoy") else {
        return;
    };
    let Some(reference) = common::reference_dir() else {
        return;
    };
    assert_no_failures(
        "envoy --mode validate on helm's output",
        &check_envoy(&envoy, &reference_renders(&reference)),
    );
}

#[test]
fn reference_renders_pass_yamllint() {
    let Some(tool) = common::peer("yamllint") else {
        return;
    };
    let Some(reference) = common::reference_dir() else {
        return;
    };
    assert_no_failures(
        "yamllint on helm's output",
        &check_yamllint(&tool, &reference_renders(&reference)),
    );
}

// ---------------------------------------------------------------------------------------------
// Negative controls: each peer, as we call it, rejects what it must.
// ---------------------------------------------------------------------------------------------

const DEPLOYMENT_OK: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: control
  namespace: gloo-system
spec:
  selector:
    matchLabels:
      app: control
  template:
    metadata:
      labels:
        app: control
    spec:
      containers:
      - name: control
        image: quay.io/solo-io/gloo-envoy-wrapper:1.0.0-ci
";

fn deployment_control(label: &str, text: String) -> RenderedInput {
    let manifest = Resource::new(ManifestKind::Deployment, "gloo-system", "control", text, None);
    RenderedInput {
        label: label.to_string(),
        manifests: vec![manifest],
    }
}

#[test]
fn kubernetes_validate_rejects_unknown_container_field() {
    let Some(tool) = common::peer("kubernetes-validate") else {
        return;
    };
    let good = deployment_control("control/good", DEPLOYMENT_OK.to_string());
    let bad = deployment_control(
        "control/bad",
        format!("{DEPLOYMENT_OK}        imagePullPolicyy: Always\n"),
    );

    assert_no_failures("the control Deployment", &check_kubernetes_validate(&tool, &[good]));
    let report = check_kubernetes_validate(&tool, &[bad]).join("\n");
    assert!(
        report.contains("imagePullPolicyy"),
        "--strict must reject and name an unknown container field:\n{report}"
    );
}

const BOOTSTRAP_OK: &str = r#"node:
  cluster: gateway
  id: "{{.PodName}}.{{.PodNamespace}}"
static_resources:
  clusters:
  - name: xds_cluster
    connect_timeout: 5.000s
    type: STRICT_DNS
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config:
          http2_protocol_options: {}
    load_assignment:
      cluster_name: xds_cluster
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address:
                address: gloo.gloo-system.svc.cluster.local
                port_value: 9977
dynamic_resources:
  ads_config:
    transport_api_version: V3
    api_type: GRPC
    grpc_services:
    - envoy_grpc: {cluster_name: xds_cluster}
  cds_config:
    resource_api_version: V3
    ads: {}
  lds_config:
    resource_api_version: V3
    ads: {}
"#;

fn bootstrap_control(label: &str, bootstrap: String) -> RenderedInput {
    let manifest = Resource::new(
        ManifestKind::ConfigMap,
        "gloo-system",
        "control-envoy-config",
        String::new(),
        Some(bootstrap),
    );
    RenderedInput {
        label: label.to_string(),
        manifests: vec![manifest],
    }
}

#[test]
fn envoy_rejects_bootstrap_whose_ads_cluster_is_missing() {
    let Some(envoy) = common::peer("envoy") else {
        return;
    };
    let bad_bootstrap = BOOTSTRAP_OK.replace("{cluster_name: xds_cluster}", "{cluster_name: no_such_cluster}");
    assert_ne!(bad_bootstrap, BOOTSTRAP_OK);

    let good = bootstrap_control("control/good", BOOTSTRAP_OK.to_string());
    assert_no_failures("the control bootstrap", &check_envoy(&envoy, &[good]));
    let report = check_envoy(&envoy, &[bootstrap_control("control/bad", bad_bootstrap)]).join("\n");
    assert!(
        report.contains("control/bad") && report.contains("Unknown gRPC client cluster 'no_such_cluster'"),
        "an ADS cluster that does not exist must fail validation, named:\n{report}"
    );
}

#[test]
fn check_jsonschema_rejects_bad_upstreams_and_accepts_the_sds_example() {
    let Some(tool) = common::peer("check-jsonschema") else {
        return;
    };
    let (failures, checked) = check_upstreams(&tool, &[upstream_control("upstream-sds-ok.yaml")]);
    assert_eq!(checked, 1);
    assert_no_failures("upstream-sds-ok.yaml", &failures);

    let mut bad: Vec<String> = std::fs::read_dir(upstream_data_dir())
        .expect("read tests/data/upstream")
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .into_string()
                .expect("UTF-8 file name")
        })
        .filter(|name| name.starts_with("upstream-bad-") && name.ends_with(".yaml"))
        .collect();
    bad.sort();
    // A wrong type in alpnProtocols and servicePort, and a misspelt sds key, which only the
    // strict copy of the schema rejects.
    assert_eq!(
        bad,
        [
            "upstream-bad-alpn-int.yaml",
            "upstream-bad-port-string.yaml",
            "upstream-bad-unknown-field.yaml"
        ]
    );
    let inputs: Vec<RenderedInput> = bad.iter().map(|file| upstream_control(file)).collect();
    let (failures, checked) = check_upstreams(&tool, &inputs);
    assert_eq!(checked, bad.len());
    let report = failures.join("\n");
    for (index, file) in bad.iter().enumerate() {
        // The file name's stem as `file_name_for` writes it, followed by the error's JSON path.
        let stem = file_name_for(index, &format!("control/{file}"), "");
        assert!(
            report.contains(&format!("{stem}upstream-gloo-system-default-productpage-9080.yaml::$")),
            "{file} must be rejected:\n{report}"
        );
    }
    for expected in ["alpnProtocols[0]", "servicePort", "'clustername' was unexpected"] {
        assert!(
            report.contains(expected),
            "the report must mention {expected}:\n{report}"
        );
    }
}

#[test]
fn yamllint_config_rejects_duplicate_keys_and_bad_indentation() {
    let Some(tool) = common::peer("yamllint") else {
        return;
    };
    let good = deployment_control("control/good", DEPLOYMENT_OK.to_string());
    assert_no_failures("the control Deployment", &check_yamllint(&tool, &[good]));

    let duplicate = DEPLOYMENT_OK.replace("  name: control\n", "  name: control\n  name: again\n");
    let report = check_yamllint(&tool, &[deployment_control("control/duplicate", duplicate)]).join("\n");
    assert!(
        report.contains("key-duplicates"),
        "a duplicate key must be reported:\n{report}"
    );

    let misindented = DEPLOYMENT_OK.replace("      labels:\n        app:", "      labels:\n         app:");
    let report = check_yamllint(&tool, &[deployment_control("control/misindented", misindented)]).join("\n");
    assert!(
        report.contains("(indentation)"),
        "inconsistent indentation must be reported:\n{report}"
    );
}
