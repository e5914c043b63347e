//! Micro-benchmarks of `gloo-istio post-render` through the library: per document (the ones it
//! edits and the ones it passes through), the document splitter, and a whole stream through
//! [`gloo_istio::postrender::run`] into a [`Spool`].
//!
//! ```sh
//! cargo bench --bench postrender
//! ```
//!
//! The input is what helm 3 hands a post-renderer for the chart defaults (case `a`, no Istio:
//! `benches/data/helm3-stdin.a-defaults.yaml`, cut out of the reference render by
//! `benches/gen/helm3_stdin.py`) and the synthetic documents of
//! `shared/reference/gloo-chart/bench/gen_synth.py` (a Deployment with 60 env vars, a ConfigMap
//! carrying an envoy bootstrap), made here the same way. The values are
//! `values/istio-integration.yaml`, so the gateway-proxy Deployment, its ConfigMap and the
//! Settings are really edited (and one Upstream appended). Throughput is reported in bytes of
//! input. No timing is asserted; `cargo test --benches` runs each one once.

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use divan::Bencher;
use divan::counter::BytesCount;
use gloo_istio::postrender::edit::State;
use gloo_istio::postrender::{Document, DocumentReader, Operation, Spool, run};
use gloo_istio::validate::rules::RuleOptions;
use gloo_istio::values::layers::{CHART_DEFAULT_VERSION, LoadedValues, read_layer};
use gloo_istio::values::{Model, build_model};

fn main() {
    divan::main();
}

fn data(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The helm 3 post-renderer input of the chart defaults.
fn helm_stdin() -> String {
    data("helm3-stdin.a-defaults.yaml")
}

/// Synthetic document `i` of gen_synth.py: even `i` a Deployment with 60 env vars, odd `i` a
/// ConfigMap with an envoy bootstrap (`blob`, already indented by four spaces).
fn synthetic(i: usize, blob: &str) -> String {
    let (ns, owner, replicas) = (i % 50, i % 17, 1 + i % 3);
    if i % 2 == 1 {
        return format!(
            "---
# Source: synthetic/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{i}-config
  namespace: ns-{ns}
  labels:
    app: app-{i}
data:
  envoy.yaml: |
{blob}"
        );
    }
    let mut env = String::new();
    for j in 0..60 {
        let _ = write!(env, "        - name: VAR_{j}\n          value: \"value-{i}-{j}\"\n");
    }
    format!(
        r#"---
# Source: synthetic/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: ns-{ns}
  labels:
    app: app-{i}
    tier: backend
  annotations:
    example.com/owner: team-{owner}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      serviceAccountName: app-{i}
      containers:
      - name: main
        image: registry.example.com/app:{i}.0.0
        imagePullPolicy: IfNotPresent
        args: ["--port=8080", "--log-level=info", "--id={i}"]
        ports:
        - containerPort: 8080
          name: http
          protocol: TCP
        env:
{env}        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: "1", memory: 512Mi}}
        readinessProbe:
          httpGet: {{path: /ready, port: 8080}}
          periodSeconds: 10
        volumeMounts:
        - name: config
          mountPath: /etc/app
      volumes:
      - name: config
        configMap:
          name: app-{i}-config
"#
    )
}

fn bootstrap_blob() -> String {
    data("envoy-bootstrap.c.yaml")
        .lines()
        .map(|line| format!("    {line}\n"))
        .collect()
}

/// The helm stdin followed by `n` synthetic documents, as gen_synth.py builds it.
fn stream(n: usize) -> String {
    let blob = bootstrap_blob();
    let mut out = helm_stdin().trim_end_matches('\n').to_owned();
    out.push('\n');
    for i in 0..n {
        out.push_str(&synthetic(i, &blob));
    }
    out
}

fn values() -> (Model, LoadedValues) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("values/istio-integration.yaml");
    let loaded = LoadedValues::new(
        vec![read_layer(&path).expect("the values parse")],
        CHART_DEFAULT_VERSION,
    );
    let (model, _) = build_model(&loaded, "gloo-system", &RuleOptions::default()).expect("the values are valid");
    (model, loaded)
}

/// Every document of `text`, as the post-renderer reads them.
fn documents(text: &str) -> Vec<Document> {
    let mut reader = DocumentReader::new(text.as_bytes());
    let mut docs = Vec::new();
    while let Some(doc) = reader.next_document().expect("the stream reads") {
        docs.push(doc);
    }
    docs
}

/// The first document of the helm stdin that contains all of `needles`.
fn helm_document(needles: &[&str]) -> Document {
    documents(&helm_stdin())
        .into_iter()
        .find(|doc| needles.iter().all(|n| doc.text.contains(n)))
        .unwrap_or_else(|| panic!("no document with {needles:?}"))
}

const DOCUMENTS: &[&str] = &[
    "gateway-proxy-deployment",
    "gateway-proxy-configmap",
    "gloo-deployment",
    "settings",
    "passthrough-deployment",
    "passthrough-configmap",
    "passthrough-rbac",
];

fn document(name: &str) -> Document {
    match name {
        "gateway-proxy-deployment" => helm_document(&["kind: Deployment", "gateway-proxy-id: gateway-proxy"]),
        "gateway-proxy-configmap" => helm_document(&["kind: ConfigMap", "envoy.yaml", "gateway-proxy-id"]),
        "gloo-deployment" => helm_document(&["kind: Deployment", "gloo: gloo\n"]),
        "settings" => helm_document(&["kind: Settings"]),
        "passthrough-rbac" => helm_document(&["kind: ClusterRole\n"]),
        "passthrough-deployment" | "passthrough-configmap" => {
            let i = usize::from(name == "passthrough-configmap");
            let text = synthetic(i, &bootstrap_blob());
            documents(&text).remove(0)
        }
        other => panic!("unknown document {other}"),
    }
}

/// One document through the post-render edit (parse when it may concern us, edit, verify).
#[divan::bench(args = DOCUMENTS)]
fn per_document(bencher: Bencher, name: &str) {
    let (model, loaded) = values();
    let operation = Operation::PostRender;
    let doc = document(name);
    let mut state = State::new(&operation, &model, &loaded).expect("post-render applies");
    bencher.counter(BytesCount::of_str(&doc.text)).bench_local(|| {
        state
            .document(divan::black_box(&doc))
            .expect("the document post-renders")
    });
}

/// Under `cargo test` (no `--bench` argument, or `--test`: divan runs every benchmark once, in a
/// debug build) the streams are kept small, so that the test run stays quick.
fn sizes(full: &[usize]) -> Vec<usize> {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == "--test") || !args.iter().any(|arg| arg == "--bench") {
        full.iter().map(|n| n / 100).collect()
    } else {
        full.to_vec()
    }
}

/// Splitting a stream into documents (line reads, UTF-8 check, boundaries), nothing else.
#[divan::bench(args = sizes(&[100, 1000]))]
fn split(bencher: Bencher, n: usize) {
    let text = stream(n);
    bencher.counter(BytesCount::of_str(&text)).bench(|| {
        let mut reader = DocumentReader::new(divan::black_box(text.as_bytes()));
        let mut count = 0usize;
        while let Some(doc) = reader.next_document().expect("the stream reads") {
            count += doc.text.len();
        }
        count
    });
}

/// The whole post-render of the helm stdin plus `n` synthetic documents, into a spool (a
/// temporary file, as in the CLI), without copying the spool out.
#[divan::bench(args = sizes(&[0, 100, 1000]), sample_count = 20)]
fn stream_run(bencher: Bencher, n: usize) {
    let (model, loaded) = values();
    let operation = Operation::PostRender;
    let text = stream(n);
    bencher.counter(BytesCount::of_str(&text)).bench(|| {
        let mut spool = Spool::new().expect("a temporary file");
        let input: &mut dyn BufRead = &mut divan::black_box(text.as_bytes());
        run(input, &mut spool, &operation, &model, &loaded).expect("the stream post-renders")
    });
}
