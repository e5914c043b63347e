//! The Argo CD Config Management Plugin in `deploy/argocd/`: its `generate` command, run exactly
//! as `plugin.yaml` writes it (`command` + `args`, in the source directory, with the variables
//! Argo CD sets), on a copy of the Gloo-shaped test chart, with the real helm 3 and gloo-istio
//! on PATH. Argo CD requires standard output to be only Kubernetes manifests and shows standard
//! error in its UI; a non-zero exit fails the sync.
//!
//! Also checks that the plugin, the repo-server patch, the example Application and the
//! Dockerfile agree with each other (names, paths, user 999).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::saphyr_to_json as to_json;
use common::{BIN, MISSPELT_VALUES as BAD_VALUES, copy_tree, path_str};
use saphyr::{LoadableYamlNode, Yaml};
use serde_json::Value;

const APP_NAME: &str = "gloo";
/// Not gloo-istio's default, to see that the namespace reaches both helm and gloo-istio.
const APP_NAMESPACE: &str = "gloo-edge";
const ISTIO_OFF_VALUES: &str = "global:\n  istioIntegration:\n    enabled: false\n";
/// A template that makes helm fail (and only helm: gloo-istio never reads templates).
const BREAKING_TEMPLATE: &str = "{{ fail \"this chart cannot render\" }}\n";

fn deploy_dir() -> PathBuf {
    common::manifest_dir().join("deploy/argocd")
}

// ---------------------------------------------------------------------------------------------
// YAML
// ---------------------------------------------------------------------------------------------

/// Every document of a stream, parsed with saphyr (independent of gloo-istio's parser).
fn parse_stream(text: &str) -> Result<Vec<Value>, String> {
    let docs = Yaml::load_from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    Ok(docs.iter().map(to_json).collect())
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut docs = parse_stream(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{} must hold one document", path.display());
    docs.remove(0)
}

/// The column-0 `---` documents of a stream, as text.
fn split_text(stream: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in stream.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if (bare == "---" || bare.starts_with("--- ")) && !current.trim().is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        current.push_str(line);
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
}

/// What is wrong with `stdout` as Argo CD's input: it must be one YAML stream of Kubernetes
/// objects, each with a string apiVersion, kind and metadata.name, and nothing else (no empty
/// documents, no log lines). Returns the objects too.
fn manifest_problems(stdout: &str) -> (Vec<Value>, Vec<String>) {
    let mut problems = Vec::new();
    if stdout.trim().is_empty() {
        return (Vec::new(), vec!["standard output is empty".into()]);
    }
    let docs = match parse_stream(stdout) {
        Ok(docs) => docs,
        Err(e) => return (Vec::new(), vec![format!("standard output is not YAML: {e}")]),
    };
    let parts = split_text(stdout);
    if parts.len() != docs.len() {
        problems.push(format!(
            "{} `---` parts but {} YAML documents (an empty or stray document)",
            parts.len(),
            docs.len()
        ));
    }
    for (i, doc) in docs.iter().enumerate() {
        let name = &doc["metadata"]["name"];
        for (field, value) in [
            ("apiVersion", &doc["apiVersion"]),
            ("kind", &doc["kind"]),
            ("metadata.name", name),
        ] {
            if value.as_str().is_none_or(str::is_empty) {
                problems.push(format!("document {} has no {field}: {doc}", i + 1));
            }
        }
    }
    (docs, problems)
}

fn kubernetes_validate_problems(tool: &Path, dir: &Path, stream: &str, docs: &[Value]) -> Vec<String> {
    let objects: Vec<(String, String)> = docs
        .iter()
        .map(|doc| {
            let field = |v: &Value| v.as_str().unwrap_or("").to_string();
            (field(&doc["kind"]), field(&doc["metadata"]["name"]))
        })
        .collect();
    common::kubernetes_validate_problems(tool, dir, stream, &objects)
}

// ---------------------------------------------------------------------------------------------
// Running `generate`
// ---------------------------------------------------------------------------------------------

/// `spec.generate.command` followed by `spec.generate.args` of plugin.yaml.
fn generate_argv() -> Vec<String> {
    let plugin = read_yaml(&deploy_dir().join("plugin.yaml"));
    let generate = &plugin["spec"]["generate"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().expect("a string").to_string()).collect())
            .unwrap_or_default()
    };
    let mut argv = strings(&generate["command"]);
    argv.extend(strings(&generate["args"]));
    assert!(!argv.is_empty(), "plugin.yaml has no generate command");
    argv
}

/// A source directory (a copy of the test chart plus values files) and a bin directory with
/// `helm` and `gloo-istio`, in a temporary directory.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new(helm: &Path) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let source = dir.path().join("source");
        copy_tree(
            &common::manifest_dir().join("tests/data/gloo-shaped-chart"),
            &source,
            &[],
        );
        std::fs::copy(
            common::manifest_dir().join("values/istio-integration.yaml"),
            source.join("values-istio.yaml"),
        )
        .expect("copy values");
        std::fs::write(source.join("values-bad.yaml"), BAD_VALUES).expect("write values");
        std::fs::write(source.join("values-off.yaml"), ISTIO_OFF_VALUES).expect("write values");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin dir");
        std::os::unix::fs::symlink(helm, bin.join("helm")).expect("link helm");
        std::os::unix::fs::symlink(BIN, bin.join("gloo-istio")).expect("link gloo-istio");
        for sub in ["home", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("create a directory");
        }
        Sandbox { dir }
    }

    fn source(&self) -> PathBuf {
        self.dir.path().join("source")
    }

    /// `argv` in the source directory with a cleared environment: PATH (the bin directory,
    /// then the system's), HOME and helm's directories in the
    /// sandbox, and the Argo CD build environment. `env` adds parameters (`PARAM_*`) and
    /// Application variables (`ARGOCD_ENV_*`).
    fn run(&self, argv: &[String], env: &[(&str, &str)]) -> Output {
        let d = self.dir.path();
        let system = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect::<Vec<_>>();
        let path = std::env::join_paths(std::iter::once(d.join("bin")).chain(system)).expect("PATH");
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(self.source())
            .env_clear()
            .env("PATH", path)
            .env("HOME", d.join("home"))
            .env("TMPDIR", d.join("tmp"))
            .env("HELM_CONFIG_HOME", d.join("home/helm/config"))
            .env("HELM_CACHE_HOME", d.join("home/helm/cache"))
            .env("HELM_DATA_HOME", d.join("home/helm/data"))
            .env("KUBECONFIG", d.join("no-kubeconfig"))
            .env("ARGOCD_APP_NAME", APP_NAME)
            .env("ARGOCD_APP_NAMESPACE", APP_NAMESPACE)
            .env("ARGOCD_APP_REVISION", "0123456789abcdef0123456789abcdef01234567")
            .env("ARGOCD_APP_SOURCE_PATH", "charts/gloo")
            .env(
                "ARGOCD_APP_SOURCE_REPO_URL",
                "https://git.example.com/platform/gloo.git",
            )
            .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
            .env("KUBE_VERSION", "1.33.0");
        for (name, value) in env {
            cmd.env(name, value);
        }
        common::run(&mut cmd)
    }

    fn generate(&self, env: &[(&str, &str)]) -> Output {
        self.run(&generate_argv(), env)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter().find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

fn container_names(docs: &[Value]) -> Vec<String> {
    let deployment = find(docs, "Deployment", "gateway-proxy").expect("Deployment gateway-proxy");
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("?").to_string())
        .collect()
}

fn first_clusters(docs: &[Value]) -> Vec<String> {
    let config_map = find(docs, "ConfigMap", "gateway-proxy-envoy-config").expect("the envoy ConfigMap");
    let boot = parse_stream(config_map["data"]["envoy.yaml"].as_str().expect("envoy.yaml")).expect("bootstrap");
    boot[0]["static_resources"]["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .take(2)
        .map(|c| c["name"].as_str().unwrap_or("?").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn generate_prints_only_kubernetes_manifests_with_the_istio_integration() {
    let Some(helm) = common::peer("helm") else { return };
    let Some(validate) = common::peer("kubernetes-validate") else {
        return;
    };
    let sandbox = Sandbox::new(&helm);
    let output = sandbox.generate(&[("PARAM_VALUES_FILES_0", "values-istio.yaml")]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(
        output.status.success(),
        "generate failed:\n{}",
        common::output_text(&output)
    );

    let (docs, problems) = manifest_problems(&stdout);
    assert!(problems.is_empty(), "{}\n--- stdout\n{stdout}", problems.join("\n"));
    let problems = kubernetes_validate_problems(&validate, sandbox.dir.path(), &stdout, &docs);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The Istio integration, in the Application's namespace.
    assert_eq!(container_names(&docs), ["gateway-proxy", "sds", "istio-proxy"]);
    let xds = format!("gloo.{APP_NAMESPACE}.svc.cluster.local:9977");
    assert_eq!(first_clusters(&docs), [xds.as_str(), "gateway_proxy_sds"]);
    let settings = find(&docs, "Settings", "default").expect("Settings");
    assert_eq!(settings["spec"]["gloo"]["istioOptions"]["enableIntegration"], true);
    let upstream = find(&docs, "Upstream", "bookinfo-productpage-9080").expect("the Upstream");
    assert_eq!(upstream["metadata"]["namespace"], APP_NAMESPACE);
    // The hook is there, for Argo CD to map to a sync hook.
    assert!(find(&docs, "Job", "gloo-resource-cleanup").is_some(), "no hook Job");

    // Findings go to standard error, never to standard output.
    assert!(stderr.contains("info[GI024]"), "no info finding on stderr:\n{stderr}");
    assert!(!stdout.contains("GI0"), "a finding on stdout:\n{stdout}");
    assert!(!stdout.contains("${"), "a Flux substitution marker on stdout");
}

/// Negative control of the standard-output check: a log line, an empty document and a
/// document without kind are each reported.
#[test]
fn manifest_check_rejects_what_is_not_a_manifest_stream() {
    let good = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";
    assert!(manifest_problems(good).1.is_empty(), "{:?}", manifest_problems(good).1);
    for bad in [
        format!("info[GI024]: the istio-proxy image is the chart's default\n{good}"),
        format!("{good}---\n# Source: gloo/templates/empty.yaml\n"),
        format!("{good}---\napiVersion: v1\nmetadata:\n  name: b\n"),
        format!("{good}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{}}\n"),
        String::new(),
        "{not yaml".to_string(),
    ] {
        assert!(!manifest_problems(&bad).1.is_empty(), "accepted:\n{bad}");
    }
}

/// Negative control for kubernetes-validate: an unknown field in a core kind is rejected.
#[test]
fn kubernetes_validate_rejects_an_unknown_field() {
    let Some(validate) = common::peer("kubernetes-validate") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let stream = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nbogusField: 1\ndata: {}\n";
    let docs = parse_stream(stream).expect("YAML");
    let problems = kubernetes_validate_problems(&validate, dir.path(), stream, &docs);
    assert!(problems.iter().any(|p| p.contains("bogusField")), "{problems:?}");
}

/// Without the `values-files` parameter, the Application's `plugin.env` VALUES (Argo CD
/// passes it as ARGOCD_ENV_VALUES) names the files; the output is the same.
#[test]
fn generate_reads_the_values_files_from_argocd_env_values() {
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    let by_param = sandbox.generate(&[("PARAM_VALUES_FILES_0", "values-istio.yaml")]);
    let by_env = sandbox.generate(&[("ARGOCD_ENV_VALUES", "values-istio.yaml")]);
    assert!(by_env.status.success(), "{}", common::output_text(&by_env));
    assert_eq!(text(&by_env.stdout), text(&by_param.stdout));
    // Without either, the chart's own values.yaml: no Istio.
    let neither = sandbox.generate(&[]);
    assert!(neither.status.success(), "{}", common::output_text(&neither));
    let (docs, problems) = manifest_problems(&text(&neither.stdout));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(container_names(&docs), ["gateway-proxy"]);
}

/// The files of the parameter are merged in order, by helm and gloo-istio alike.
#[test]
fn generate_merges_the_values_files_in_order() {
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    let sidecars = |first: &str, second: &str| {
        let output = sandbox.generate(&[("PARAM_VALUES_FILES_0", first), ("PARAM_VALUES_FILES_1", second)]);
        assert!(output.status.success(), "{}", common::output_text(&output));
        let (docs, problems) = manifest_problems(&text(&output.stdout));
        assert!(problems.is_empty(), "{problems:?}");
        container_names(&docs)
    };
    assert_eq!(
        sidecars("values-off.yaml", "values-istio.yaml"),
        ["gateway-proxy", "sds", "istio-proxy"]
    );
    assert_eq!(sidecars("values-istio.yaml", "values-off.yaml"), ["gateway-proxy"]);
}

#[test]
fn generate_fails_on_invalid_values_with_the_message_on_stderr() {
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    let output = sandbox.generate(&[("PARAM_VALUES_FILES_0", "values-bad.yaml")]);
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "generate succeeded:\n{}",
        common::output_text(&output)
    );
    assert!(output.stdout.is_empty(), "stdout:\n{}", text(&output.stdout));
    assert!(stderr.contains("istioSds"), "{stderr}");
    assert!(stderr.contains("values-bad.yaml:2:3"), "{stderr}");
}

/// A helm failure fails the generate, although gloo-istio would succeed on empty input: the
/// script does not depend on `pipefail`, which dash lacks. The control shows that a plain
/// `helm template … | gloo-istio post-render` under `set -eu` exits 0 on the same input,
/// so this test would catch that mistake.
#[test]
fn generate_fails_when_helm_fails() {
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    let broken = sandbox.source().join("templates/zz-broken.yaml");
    std::fs::write(broken, BREAKING_TEMPLATE).expect("write a template");
    let params = [("PARAM_VALUES_FILES_0", "values-istio.yaml")];
    let output = sandbox.generate(&params);
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "generate succeeded:\n{}",
        common::output_text(&output)
    );
    assert!(output.stdout.is_empty(), "stdout:\n{}", text(&output.stdout));
    assert!(stderr.contains("this chart cannot render"), "no helm error:\n{stderr}");

    let naive = "set -eu; helm template \"$ARGOCD_APP_NAME\" . --namespace \"$ARGOCD_APP_NAMESPACE\" \
                 --values=\"$PARAM_VALUES_FILES_0\" | gloo-istio post-render -q --values=\"$PARAM_VALUES_FILES_0\"";
    let argv = ["sh".to_string(), "-c".to_string(), naive.to_string()];
    let control = sandbox.run(&argv, &params);
    assert!(
        control.status.success(),
        "the naive pipeline failed too, so the test above proves nothing:\n{}",
        common::output_text(&control)
    );
}

#[test]
fn generate_rejects_values_files_outside_the_source_directory() {
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    let outside = sandbox.dir.path().join("outside.yaml");
    std::fs::write(&outside, "{}\n").expect("write a file");
    for file in [
        path_str(&outside),
        "../outside.yaml",
        "charts/../../outside.yaml",
        "missing.yaml",
    ] {
        let output = sandbox.generate(&[("PARAM_VALUES_FILES_0", file)]);
        assert!(!output.status.success(), "{file} was accepted");
        assert!(output.stdout.is_empty(), "{file}: stdout:\n{}", text(&output.stdout));
        assert!(text(&output.stderr).contains(file), "{file}: {}", text(&output.stderr));
    }
}

/// plugin.yaml, the repo-server patch, the example Application and the Dockerfile agree.
#[test]
fn plugin_patch_application_and_image_agree() {
    let plugin = read_yaml(&deploy_dir().join("plugin.yaml"));
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    let name = plugin["metadata"]["name"].as_str().expect("metadata.name");
    assert!(
        plugin["spec"]["version"].is_null(),
        "a version changes the name Applications use"
    );
    assert!(
        plugin["spec"]["discover"].is_null(),
        "discovery would claim every chart"
    );
    assert_eq!(plugin["spec"]["generate"]["command"], serde_json::json!(["sh", "-c"]));
    let params = plugin["spec"]["parameters"]["static"]
        .as_array()
        .expect("static parameters");
    let values_files = params
        .iter()
        .find(|p| p["name"] == "values-files")
        .expect("values-files");
    assert_eq!(values_files["collectionType"], "array");

    let app = read_yaml(&deploy_dir().join("application.yaml"));
    assert_eq!(app["spec"]["source"]["plugin"]["name"], name);
    let app_params = &app["spec"]["source"]["plugin"]["parameters"];
    assert_eq!(app_params[0]["name"], "values-files");

    let patch = read_yaml(&deploy_dir().join("repo-server-patch.yaml"));
    let containers = patch["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    let sidecar = &containers[0];
    assert_eq!(
        sidecar["command"],
        serde_json::json!(["/var/run/argocd/argocd-cmp-server"])
    );
    assert_eq!(sidecar["securityContext"]["runAsUser"], 999);
    let mounts: Vec<&str> = sidecar["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .filter_map(|m| m["mountPath"].as_str())
        .collect();
    for path in ["/var/run/argocd", "/home/argocd/cmp-server/plugins", "/tmp"] {
        assert!(mounts.contains(&path), "no mount at {path}: {mounts:?}");
    }

    let dockerfile = std::fs::read_to_string(common::manifest_dir().join("Dockerfile")).expect("Dockerfile");
    assert!(
        dockerfile.contains("COPY deploy/argocd/plugin.yaml /rootfs/home/argocd/cmp-server/config/plugin.yaml"),
        "the image does not put plugin.yaml where Argo CD reads it"
    );
    assert!(dockerfile.contains("\nUSER 999"), "the image does not run as 999");
    assert!(dockerfile.contains("x86_64-unknown-linux-musl"), "not a static build");
}

/// The `gloo-version` parameter reaches gloo-istio (the sds image tag) and not helm.
#[test]
fn generate_passes_the_gloo_version_parameter_to_gloo_istio() {
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    let image_of = |env: &[(&str, &str)]| {
        let output = sandbox.generate(env);
        assert!(output.status.success(), "{}", common::output_text(&output));
        let (docs, problems) = manifest_problems(&text(&output.stdout));
        assert!(problems.is_empty(), "{problems:?}");
        let deployment = find(&docs, "Deployment", "gateway-proxy").expect("Deployment");
        let containers = deployment["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("containers");
        let sds = containers.iter().find(|c| c["name"] == "sds").expect("sds");
        sds["image"].as_str().expect("image").to_string()
    };
    let values = ("PARAM_VALUES_FILES_0", "values-istio.yaml");
    let pinned = image_of(&[values, ("PARAM_GLOO_VERSION", "1.17.3")]);
    assert!(pinned.ends_with("/sds:1.17.3"), "{pinned}");
    let default = image_of(&[values]);
    assert!(!default.ends_with(":1.17.3"), "{default}");
}
