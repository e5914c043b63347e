//! The Argo CD Config Management Plugin in `deploy/argocd/`: its `generate` command, run exactly
//! as `plugin.yaml` writes it (`command` + `args`, in the source directory, with the variables
//! Argo CD sets), on a copy of the Gloo-shaped test chart, with the real helm 3 and gloo-istio
//! on PATH. Argo CD requires standard output to be only Kubernetes manifests and shows standard
//! error in its UI; a non-zero exit fails the sync.
//!
//! The `gloo-istio-cmp` image (`Containerfile`, built by `bash scripts/image.sh build`) runs the
//! same command with podman as the CMP server would: as user 999, `sh -c` with the same
//! variables, no network, a read-only root file system and a read-only source directory. Its
//! output must be the host's, byte for byte, and every failure must exit non-zero with nothing
//! on standard output.
//!
//! Also checks that the plugin, the repo-server patch, the example Application, the
//! Containerfile and the Dockerfile agree with each other (names, paths, user 999).

mod common;
mod podman;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::saphyr_to_json as to_json;
use common::{BIN, MISSPELT_VALUES as BAD_VALUES, copy_tree, path_str};
use podman::{CMP, Podman};
use saphyr::{LoadableYamlNode, Yaml};
use serde_json::Value;

const APP_NAME: &str = "gloo";
/// Not gloo-istio's default, to see that the namespace reaches both helm and gloo-istio.
const APP_NAMESPACE: &str = "gloo-edge";
const ISTIO_OFF_VALUES: &str = "global:\n  istioIntegration:\n    enabled: false\n";
/// An unpinned istio-proxy image: a warning (GI024), which `quiet` keeps.
const UNPINNED_PROXY_VALUES: &str = "global:\n  glooMtls:\n    istioProxy:\n      image:\n        tag: latest\n";
/// A template that makes helm fail (and only helm: gloo-istio never reads templates).
const BREAKING_TEMPLATE: &str = "{{ fail \"this chart cannot render\" }}\n";
/// The Gloo chart's CRDs for the two kinds its templates render (its `crds/` directory holds
/// more): helm prints them only with `--include-crds`.
const CRDS: [(&str, &str, &str, &str); 2] = [
    ("settings", "Settings", "SettingsList", "st"),
    ("upstreams", "Upstream", "UpstreamList", "us"),
];

fn crd(plural: &str, kind: &str, list_kind: &str, short: &str) -> String {
    let singular = kind.to_ascii_lowercase();
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  \
         name: {plural}.gloo.solo.io\nspec:\n  group: gloo.solo.io\n  names:\n    kind: {kind}\n    \
         listKind: {list_kind}\n    plural: {plural}\n    shortNames:\n      - {short}\n    \
         singular: {singular}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      \
         storage: true\n      subresources:\n        status: {{}}\n      schema:\n        \
         openAPIV3Schema:\n          type: object\n          x-kubernetes-preserve-unknown-fields: true\n"
    )
}

/// The variables the CMP server sets for every Application (besides the `ARGOCD_ENV_*` of its
/// `plugin.env` and the `PARAM_*` of its parameters).
const ARGOCD_ENV: [(&str, &str); 7] = [
    ("ARGOCD_APP_NAME", APP_NAME),
    ("ARGOCD_APP_NAMESPACE", APP_NAMESPACE),
    ("ARGOCD_APP_REVISION", "0123456789abcdef0123456789abcdef01234567"),
    ("ARGOCD_APP_SOURCE_PATH", "charts/gloo"),
    (
        "ARGOCD_APP_SOURCE_REPO_URL",
        "https://git.example.com/platform/gloo.git",
    ),
    ("ARGOCD_APP_SOURCE_TARGET_REVISION", "main"),
    ("KUBE_VERSION", "1.33.0"),
];

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
        std::fs::write(source.join("values-latest.yaml"), UNPINNED_PROXY_VALUES).expect("write values");
        std::fs::create_dir_all(source.join("crds")).expect("crds dir");
        for (plural, kind, list_kind, short) in CRDS {
            let file = source.join(format!("crds/gloo.solo.io_v1_{kind}.yaml"));
            std::fs::write(file, crd(plural, kind, list_kind, short)).expect("write a CRD");
        }
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
            .env("KUBECONFIG", d.join("no-kubeconfig"));
        for (name, value) in ARGOCD_ENV.iter().chain(env) {
            cmd.env(name, value);
        }
        common::run(&mut cmd)
    }

    fn generate(&self, env: &[(&str, &str)]) -> Output {
        self.run(&generate_argv(), env)
    }

    /// The generate command in the plugin image, as the CMP server runs it there: with the
    /// image's user and environment plus the same Argo CD variables and `env`, in the source
    /// directory (mounted read-only), with no network and a read-only root file system.
    fn generate_in_image(&self, podman: &Podman, image: &str, env: &[(&str, &str)]) -> Output {
        let argv = generate_argv();
        let mut opts = podman::mount_ro(&self.source(), IMAGE_SOURCE_DIR);
        opts.extend(["-w", IMAGE_SOURCE_DIR, "--entrypoint", &argv[0]].map(String::from));
        for (name, value) in ARGOCD_ENV.iter().chain(env) {
            opts.extend(["-e".to_string(), format!("{name}={value}")]);
        }
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        podman.run(image, &opts, &args, b"")
    }
}

/// Where the CMP server unpacks an Application's source in the sidecar (under its /tmp).
const IMAGE_SOURCE_DIR: &str = "/tmp/_cmp_server/gloo/charts/gloo";

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

/// plugin.yaml, the repo-server patch, the example Application and the Containerfile agree.
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
    for flag in ["skip-crds", "quiet"] {
        let param = params.iter().find(|p| p["name"] == flag).expect(flag);
        assert_eq!(param["collectionType"], "string", "{flag}");
        assert_eq!(param["itemType"], "boolean", "{flag}");
        assert_eq!(
            param["string"], "false",
            "{flag}: the default the script applies when unset"
        );
    }

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

    // The image: user 999, plugin.yaml where the CMP server reads it (the image tests below
    // look inside the built image).
    let containerfile = read_text("Containerfile");
    assert!(
        containerfile.contains("\nFROM scratch AS gloo-istio-cmp\n"),
        "no plugin image stage"
    );
    assert!(
        containerfile.contains("\nUSER 999:999\n"),
        "the image does not run as 999"
    );
    let script = read_text("scripts/image.sh");
    assert!(
        script.contains("deploy/argocd/plugin.yaml \"$rootfs/home/argocd/cmp-server/config/plugin.yaml\""),
        "the image does not put plugin.yaml where Argo CD reads it"
    );
    assert!(
        script.contains("TARGET=x86_64-unknown-linux-musl"),
        "not a static build"
    );
}

fn read_text(path: &str) -> String {
    let path = common::manifest_dir().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The instructions of a Containerfile or Dockerfile: continuation lines joined, comments and
/// blank lines dropped.
fn instructions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        match line.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head.trim_end());
                current.push(' ');
            }
            None => {
                current.push_str(line);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

/// The Containerfile is all `FROM scratch`; the Dockerfile (for machines that can pull) builds
/// the same context with scripts/image.sh in one builder stage and ends with the Containerfile's
/// stages, instruction for instruction, copying from that stage.
#[test]
fn dockerfile_ends_with_the_containerfile_stages() {
    let tested = instructions(&read_text("Containerfile"));
    let froms: Vec<&String> = tested.iter().filter(|i| i.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "{froms:?}");
    assert!(froms.iter().all(|f| f.starts_with("FROM scratch AS ")), "{froms:?}");

    let published = instructions(&read_text("Dockerfile"));
    let first_scratch = published
        .iter()
        .position(|i| i.starts_with("FROM scratch"))
        .expect("a FROM scratch stage in the Dockerfile");
    let (builder, last) = published.split_at(first_scratch);
    assert!(
        builder
            .iter()
            .filter(|i| i.starts_with("FROM "))
            .all(|f| f.ends_with(" AS artefacts")),
        "a registry image outside the builder stage: {builder:?}"
    );
    assert!(
        builder
            .iter()
            .any(|i| i.starts_with("RUN ") && i.contains("bash scripts/image.sh context /context")),
        "the builder does not run scripts/image.sh: {builder:?}"
    );
    let last: Vec<String> = last
        .iter()
        .map(|i| i.replace("COPY --from=artefacts /context/", "COPY "))
        .collect();
    assert_eq!(
        last, tested,
        "the Dockerfile's final stages differ from the Containerfile's"
    );
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

/// The kinds and names of the documents of a successful generate.
fn generated(output: &Output) -> Vec<Value> {
    assert!(output.status.success(), "{}", common::output_text(output));
    let (docs, problems) = manifest_problems(&text(&output.stdout));
    assert!(problems.is_empty(), "{problems:?}");
    docs
}

fn is_crd(doc: &Value) -> bool {
    doc["kind"] == "CustomResourceDefinition"
}

/// As Argo CD's own Helm source does (`skipCrds` opts out), the chart's CRDs come first, so
/// that a fresh cluster knows Settings and Upstream before they are applied; `skip-crds: true`
/// leaves them out and changes nothing else.
#[test]
fn generate_renders_the_crds_first_unless_skip_crds_is_true() {
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    let values = ("PARAM_VALUES_FILES_0", "values-istio.yaml");
    let by_default = sandbox.generate(&[values]);
    let docs = generated(&by_default);
    let crds: Vec<&str> = docs
        .iter()
        .take_while(|d| is_crd(d))
        .filter_map(|d| d["metadata"]["name"].as_str())
        .collect();
    assert_eq!(crds, ["settings.gloo.solo.io", "upstreams.gloo.solo.io"]);
    assert_eq!(
        docs.iter().filter(|d| is_crd(d)).count(),
        2,
        "CRDs after other documents"
    );

    let explicit = sandbox.generate(&[values, ("PARAM_SKIP_CRDS", "false")]);
    assert_eq!(text(&explicit.stdout), text(&by_default.stdout));

    let skipped = generated(&sandbox.generate(&[values, ("PARAM_SKIP_CRDS", "true")]));
    assert!(!skipped.iter().any(is_crd), "CRDs despite skip-crds");
    let rest: Vec<&Value> = docs.iter().filter(|d| !is_crd(d)).collect();
    assert_eq!(skipped.iter().collect::<Vec<_>>(), rest);
}

/// `quiet: true` drops the info findings and keeps warnings; the manifests do not change.
#[test]
fn generate_quiet_drops_the_info_findings_and_keeps_warnings() {
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    let values = [("PARAM_VALUES_FILES_0", "values-istio.yaml")];
    let loud = sandbox.generate(&values);
    let quiet = sandbox.generate(&[values[0], ("PARAM_QUIET", "true")]);
    generated(&quiet);
    assert!(text(&loud.stderr).contains("info[GI024]"), "{}", text(&loud.stderr));
    assert!(!text(&quiet.stderr).contains("info["), "{}", text(&quiet.stderr));
    assert_eq!(text(&quiet.stdout), text(&loud.stdout));

    let unpinned = [
        ("PARAM_VALUES_FILES_0", "values-istio.yaml"),
        ("PARAM_VALUES_FILES_1", "values-latest.yaml"),
        ("PARAM_QUIET", "true"),
    ];
    let output = sandbox.generate(&unpinned);
    generated(&output);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("warning[GI024]"), "no warning:\n{stderr}");
    assert!(!stderr.contains("info["), "{stderr}");
}

/// A true/false parameter with another value fails the generate before helm runs.
#[test]
fn generate_rejects_a_flag_parameter_that_is_not_true_or_false() {
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    for (variable, name, value) in [
        ("PARAM_SKIP_CRDS", "skip-crds", "yes"),
        ("PARAM_SKIP_CRDS", "skip-crds", "True"),
        ("PARAM_QUIET", "quiet", "1"),
        ("PARAM_QUIET", "quiet", "true; rm -rf /"),
    ] {
        let output = sandbox.generate(&[("PARAM_VALUES_FILES_0", "values-istio.yaml"), (variable, value)]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{variable}={value}: {stderr}");
        assert!(
            output.stdout.is_empty(),
            "{variable}={value}: stdout:\n{}",
            text(&output.stdout)
        );
        let message = format!("parameter `{name}` must be true or false, not `{value}`");
        assert!(stderr.contains(&message), "{variable}={value}: {stderr}");
    }
}

// ---------------------------------------------------------------------------------------------
// The plugin image
// ---------------------------------------------------------------------------------------------

/// `sh -c SCRIPT` in the image, as its default user, with no network and a read-only root.
fn image_sh(podman: &Podman, image: &str, script: &str) -> Output {
    let opts = ["--entrypoint", "sh"].map(String::from);
    podman.run(image, &opts, &["-c", script], b"")
}

/// FROM scratch: the static busybox as /bin/sh, helm 3, gloo-istio, plugin.yaml where the CMP
/// server reads it, a world-writable /tmp, nothing else; user 999.
#[test]
fn plugin_image_holds_what_the_sidecar_needs_and_runs_as_999() {
    let Some((podman, image)) = podman::image(CMP) else {
        return;
    };
    let Some(helm) = common::peer("helm") else { return };
    assert_eq!(podman.inspect(&image, "{{.Config.User}}"), "999:999");
    let files = podman.files(&image);
    let listing: Vec<String> = files
        .iter()
        .map(|line| {
            let mut fields = line.splitn(3, ' ');
            let (mode, owner, path) = (fields.next(), fields.next(), fields.next());
            assert_eq!(owner, Some("0/0"), "not owned by root: {line}");
            let mode = mode.unwrap_or_default();
            // The mode matters for /tmp only (sticky and world-writable).
            match path.unwrap_or_default() {
                "tmp/" => format!("tmp/ {mode}"),
                path => path.to_string(),
            }
        })
        .collect();
    assert_eq!(
        listing,
        [
            "bin/",
            "bin/busybox",
            "bin/sh -> busybox",
            "home/",
            "home/argocd/",
            "home/argocd/cmp-server/",
            "home/argocd/cmp-server/config/",
            "home/argocd/cmp-server/config/plugin.yaml",
            "tmp/ drwxrwxrwt",
            "usr/",
            "usr/local/",
            "usr/local/bin/",
            "usr/local/bin/gloo-istio",
            "usr/local/bin/helm",
        ],
        "{files:#?}"
    );

    let output = image_sh(
        &podman,
        &image,
        "busybox id -u; busybox id -g; cat /home/argocd/cmp-server/config/plugin.yaml",
    );
    assert!(output.status.success(), "{}", common::output_text(&output));
    let plugin = read_text("deploy/argocd/plugin.yaml");
    assert_eq!(text(&output.stdout), format!("999\n999\n{plugin}"));

    // The same helm and gloo-istio as on the host.
    let output = image_sh(&podman, &image, "helm version --short; gloo-istio --version");
    assert!(output.status.success(), "{}", common::output_text(&output));
    let host_helm = common::run(Command::new(&helm).args(["version", "--short"]));
    let host_gloo = common::run_bin(&["--version"], b"", None);
    assert_eq!(
        text(&output.stdout),
        format!("{}{}", text(&host_helm.stdout), text(&host_gloo.stdout))
    );

    // Without a /tmp volume, the image's own /tmp is writable by user 999.
    let output = common::run(podman.command().args([
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        &image,
        "-c",
        "echo written > /tmp/probe && cat /tmp/probe",
    ]));
    assert_eq!(text(&output.stdout), "written\n", "{}", common::output_text(&output));
}

/// The generate command in the image prints what it prints on the host, byte for byte, for
/// every parameter and variable the plugin reads.
#[test]
fn plugin_image_generates_what_the_host_generates() {
    let Some((podman, image)) = podman::image(CMP) else {
        return;
    };
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    with_gateway_example(&sandbox);
    let istio = ("PARAM_VALUES_FILES_0", "values-istio.yaml");
    let cases: [&[(&str, &str)]; 7] = [
        &[istio],
        &[("ARGOCD_ENV_VALUES", "values-istio.yaml values-latest.yaml")],
        &[
            ("PARAM_VALUES_FILES_0", "values-off.yaml"),
            ("PARAM_VALUES_FILES_1", "values-istio.yaml"),
        ],
        &[istio, ("PARAM_GLOO_VERSION", "1.17.3")],
        &[istio, ("PARAM_SKIP_CRDS", "true")],
        &[istio, ("PARAM_QUIET", "true")],
        &[
            ("PARAM_VALUES_FILES_0", "values-k8s.yaml"),
            ("PARAM_GATEWAY_MANIFESTS_0", "gateways/edge.yaml"),
            ("PARAM_QUIET", "true"),
        ],
    ];
    for env in cases {
        let host = sandbox.generate(env);
        let docs = generated(&host);
        assert!(docs.len() > 5, "{env:?}: too few documents");
        let started = std::time::Instant::now();
        let in_image = sandbox.generate_in_image(&podman, &image, env);
        let seconds = started.elapsed().as_secs_f64();
        assert!(
            in_image.status.success(),
            "{env:?}:\n{}",
            common::output_text(&in_image)
        );
        assert!(
            in_image.stdout == host.stdout,
            "{env:?}: the image's output differs from the host's:\n{}",
            similar::TextDiff::from_lines(text(&host.stdout).as_str(), text(&in_image.stdout).as_str())
                .unified_diff()
                .header("host", "image")
        );
        let quiet = env.contains(&("PARAM_QUIET", "true"));
        let stderr = text(&in_image.stderr);
        // Findings reach the log, except info ones with `quiet`.
        assert!(quiet || stderr.contains("[GI024]"), "{env:?}: {stderr}");
        assert!(!(quiet && stderr.contains("info[")), "{env:?}: {stderr}");
        eprintln!("{env:?}: {} documents, {seconds:.1}s in the image", docs.len());
    }
}

/// Each failure of the generate, in the image: the host's exit code, a message on standard
/// error, nothing on standard output.
#[test]
fn plugin_image_fails_like_the_host_with_nothing_on_stdout() {
    let Some((podman, image)) = podman::image(CMP) else {
        return;
    };
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    let broken = Sandbox::new(&helm);
    std::fs::write(broken.source().join("templates/zz-broken.yaml"), BREAKING_TEMPLATE).expect("write a template");
    let no_chart = Sandbox::new(&helm);
    std::fs::remove_file(no_chart.source().join("Chart.yaml")).expect("remove Chart.yaml");

    let istio = ("PARAM_VALUES_FILES_0", "values-istio.yaml");
    type Case<'a> = (&'a Sandbox, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 7] = [
        (
            &sandbox,
            &[("PARAM_VALUES_FILES_0", "values-bad.yaml")],
            "values-bad.yaml:2:3",
        ),
        (
            &sandbox,
            &[("PARAM_VALUES_FILES_0", "../outside.yaml")],
            "../outside.yaml",
        ),
        (&sandbox, &[("PARAM_VALUES_FILES_0", "missing.yaml")], "missing.yaml"),
        (&sandbox, &[istio, ("PARAM_SKIP_CRDS", "yes")], "skip-crds"),
        (&sandbox, &[istio, ("PARAM_QUIET", "1")], "quiet"),
        (&broken, &[istio], "this chart cannot render"),
        (&no_chart, &[istio], "no Chart.yaml"),
    ];
    for (sandbox, env, message) in cases {
        let host = sandbox.generate(env);
        let in_image = sandbox.generate_in_image(&podman, &image, env);
        assert!(!host.status.success(), "{env:?}: the host succeeded");
        assert_eq!(
            in_image.status.code(),
            host.status.code(),
            "{env:?}:\n{}",
            common::output_text(&in_image)
        );
        assert!(
            in_image.stdout.is_empty(),
            "{env:?}: stdout:\n{}",
            text(&in_image.stdout)
        );
        let stderr = text(&in_image.stderr);
        assert!(stderr.contains(message), "{env:?}: no `{message}` in:\n{stderr}");
    }
}

/// The source directory of `sandbox` with the Gateway API example: its values and its Gateway
/// manifests under `gateways/`.
fn with_gateway_example(sandbox: &Sandbox) {
    let root = common::manifest_dir();
    let source = sandbox.source();
    std::fs::copy(
        root.join("values/k8s-gateway-istio.yaml"),
        source.join("values-k8s.yaml"),
    )
    .expect("copy values");
    std::fs::create_dir_all(source.join("gateways")).expect("gateways dir");
    let gateways = std::fs::read_to_string(root.join("values/k8s-gateway-istio/gateways.yaml")).expect("gateways");
    // A file that starts with `---`, as many do.
    std::fs::write(source.join("gateways/edge.yaml"), format!("---\n{gateways}")).expect("write gateways");
}

#[test]
fn generate_appends_the_gateways_and_what_the_controller_deploys_for_them() {
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    with_gateway_example(&sandbox);
    // The release namespace of the example's snapshot: the deployer's bootstrap reaches the
    // Gloo control plane there.
    let release = ("ARGOCD_APP_NAMESPACE", "gloo-system");
    let output = sandbox.generate(&[
        release,
        ("PARAM_VALUES_FILES_0", "values-k8s.yaml"),
        ("PARAM_GATEWAY_MANIFESTS_0", "gateways/edge.yaml"),
        ("PARAM_QUIET", "true"),
    ]);
    assert!(output.status.success(), "{}", common::output_text(&output));
    let (docs, problems) = manifest_problems(&text(&output.stdout));
    assert!(problems.is_empty(), "{problems:?}");
    // helm's objects, post-rendered: the chart's gateway-proxy has the Istio sidecars.
    let proxy = find(&docs, "Deployment", "gateway-proxy").expect("the chart's gateway-proxy");
    assert!(container_names(std::slice::from_ref(proxy)).contains(&"istio-proxy".to_string()));
    // The Gateway manifests, as written.
    let root = common::manifest_dir();
    let gateways = parse_stream(&std::fs::read_to_string(root.join("values/k8s-gateway-istio/gateways.yaml")).unwrap())
        .expect("gateways.yaml");
    for gateway in &gateways {
        assert!(docs.contains(gateway), "not passed through: {gateway}");
    }
    // What the controller deploys for the Gateway: the example's snapshot holds it (in the
    // Gateway's namespace), and tests/k8s_gateway.rs holds that to the real deployer's render.
    let snapshot = parse_stream(&std::fs::read_to_string(root.join("snapshots/k8s-gateway-istio.yaml")).unwrap())
        .expect("snapshot");
    let deployed: Vec<&Value> = snapshot
        .iter()
        .filter(|d| d["metadata"]["namespace"] == "apps")
        .collect();
    let kinds: Vec<&str> = deployed.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ServiceAccount", "ConfigMap", "Service", "Deployment"]);
    for object in deployed {
        assert!(
            docs.contains(object),
            "{} {} missing or different",
            object["kind"],
            object["metadata"]["name"]
        );
    }
    assert_eq!(
        docs.len(),
        generated(&sandbox.generate(&[
            release,
            ("PARAM_VALUES_FILES_0", "values-k8s.yaml"),
            ("PARAM_QUIET", "true"),
        ]))
        .len()
            + gateways.len()
            + 4,
        "helm's objects, the Gateway manifests and the deployer's, nothing else"
    );
}

#[test]
fn generate_with_gateways_fails_whole_with_nothing_on_stdout() {
    let Some(helm) = common::peer("helm") else { return };
    let sandbox = Sandbox::new(&helm);
    with_gateway_example(&sandbox);
    let long = "g".repeat(60);
    std::fs::write(
        sandbox.source().join("gateways/long.yaml"),
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: {long}\n  namespace: apps\nspec:\n  gatewayClassName: gloo-gateway\n  listeners:\n  - name: http\n    protocol: HTTP\n    port: 80\n"
        ),
    )
    .unwrap();
    for (file, why) in [
        ("gateways/missing.yaml", "not found in the source directory"),
        (
            "../gateways/edge.yaml",
            "must be a relative path inside the source directory",
        ),
        ("gateways/long.yaml", long.as_str()),
    ] {
        let output = sandbox.generate(&[
            ("PARAM_VALUES_FILES_0", "values-k8s.yaml"),
            ("PARAM_GATEWAY_MANIFESTS_0", "gateways/edge.yaml"),
            ("PARAM_GATEWAY_MANIFESTS_1", file),
        ]);
        assert!(!output.status.success(), "{file}: {}", common::output_text(&output));
        assert!(output.stdout.is_empty(), "{file}: something on stdout");
        assert!(
            text(&output.stderr).contains(why),
            "{file}: {}",
            common::output_text(&output)
        );
    }
}
