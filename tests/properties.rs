//! Properties over generated input (proptest), through the library API:
//!
//! - every string of generated values comes out of `render` exactly, where it belongs;
//! - `post-render` is idempotent on the chart's reference renders with generated Istio values;
//! - `uninject(inject(x)) == x`, byte for byte, on the reference renders without Istio;
//! - documents `post-render` does not concern (odd formatting, CRLF, block scalars holding
//!   `---`, end markers, anything at all after an unrelated `kind:`) pass through byte for byte,
//!   in order, interleaved with the reference stream;
//! - the stream splitters give the input back and agree with each other;
//! - `yaml::parse_json`'s fast path answers as the full loader does.
//!
//! The runs are deterministic (a fixed seed; set `PROPTEST_RNG_SEED` to explore others, and
//! `PROPTEST_CASES` for more cases) and each property stays within a few seconds in a debug
//! build.

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gloo_istio::Failure;
use gloo_istio::diag::SourceFile;
use gloo_istio::pipeline::build_model;
use gloo_istio::postrender::{DocumentReader, Operation, Spool, run};
use gloo_istio::render::{engine, render_model};
use gloo_istio::validate::rules::RuleOptions;
use gloo_istio::values::Model;
use gloo_istio::values::layers::{CHART_DEFAULT_VERSION, Layer, LoadedValues};
use gloo_istio::yaml::{self, stream::split_stream};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Value, json};

use common::{to_yaml, yaml_quote};

/// A configuration with `cases` cases, a fixed seed (unless `PROPTEST_RNG_SEED` is set), and no
/// regression files written into the source tree.
fn config(cases: u32) -> Config {
    let mut config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0x6170_1570);
    }
    if let Ok(n) = std::env::var("PROPTEST_CASES")
        && let Ok(n) = n.parse()
    {
        config.cases = n;
    }
    config
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Characters that break naive YAML writers, and some ordinary ones.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range(' ', '~'),
        3 => proptest::sample::select(vec![
            '\n', '\r', '\t', '\0', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{2029}',
            '\u{feff}', '\u{fffe}', ':', '#', '-', '{', '}', '[', ']', '"', '\'', '\\', '*', '&', '!', '%', '@',
            '|', '>', '?', ',', '`', '$', '~', 'é', '😀',
        ]),
        1 => any::<char>(),
    ]
}

/// A non-empty string mixing printable and hostile characters, or a look-alike of another type.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::collection::vec(hostile_char(), 1..24).prop_map(|chars| chars.into_iter().collect()),
        1 => proptest::sample::select(vec![
            "yes", "no", "on", "off", "~", "null", "true", "1e3", "0x10", "017", ".inf", "---", "...", "- a",
            "a: b", "{{ .Values.x }}", "{% if %}", "{# c #}", "${HOME}", "*a", "&a", "!!str", " ", "\n",
        ])
        .prop_map(String::from),
    ]
}

/// A DNS label, for names that must be one.
fn dns_label() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}[a-z0-9]"
}

/// Loads values text the way `-f` does, and builds the model.
fn model(text: &str) -> Result<(Model, LoadedValues), String> {
    let layer = Layer::parse(SourceFile::new("values.yaml", text)).map_err(|d| d.short())?;
    let loaded = LoadedValues::new(vec![layer], CHART_DEFAULT_VERSION);
    let (model, _) = build_model(&loaded, "gloo-system", &RuleOptions::default())
        .map_err(|d| d.iter().map(|d| d.short()).collect::<Vec<_>>().join("\n"))?;
    Ok((model, loaded))
}

fn apply(input: &[u8], operation: &Operation, model: &Model, loaded: &LoadedValues) -> Result<Vec<u8>, Failure> {
    let mut spool = Spool::new()?;
    run(Cursor::new(input), &mut spool, operation, model, loaded)?;
    let mut out = Vec::new();
    spool.copy_to(&mut out)?;
    Ok(out)
}

fn reference(name: &str) -> Option<String> {
    let dir = common::reference_dir()?;
    Some(std::fs::read_to_string(dir.join(format!("{name}.rendered.yaml"))).unwrap())
}

/// The reference renders of the chart without Istio (the input post-render and inject are for).
const NO_ISTIO: [&str; 3] = [
    "a-defaults",
    "k3-probes-graceful-shutdown",
    "k6-envoy-args-loglevel-coredumps",
];

/// Every reference render, read once.
fn all_references() -> &'static Vec<(String, String)> {
    static ALL: OnceLock<Vec<(String, String)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let Some(dir) = common::reference_dir() else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".rendered.yaml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| (file_stem(p), std::fs::read_to_string(p).unwrap()))
            .collect()
    })
}

fn file_stem(path: &Path) -> String {
    path.file_name()
        .unwrap()
        .to_string_lossy()
        .trim_end_matches(".rendered.yaml")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// render: every string round-trips
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Strings {
    mesh: String,
    cluster: String,
    proxy_log: String,
    sds_log: String,
    envoy_log: String,
    registry: String,
    repository: String,
    tag: String,
    annotation: String,
    envoy_args: Vec<String>,
    write_namespace: String,
    cluster_domain: String,
}

fn strings() -> impl Strategy<Value = Strings> {
    (
        (hostile_string(), hostile_string(), hostile_string(), hostile_string()),
        (hostile_string(), hostile_string(), hostile_string(), hostile_string()),
        hostile_string(),
        proptest::collection::vec(hostile_string(), 0..3),
        hostile_string(),
        hostile_string(),
    )
        .prop_map(
            |(
                (mesh, cluster, proxy_log, sds_log),
                (envoy_log, registry, repository, tag),
                annotation,
                envoy_args,
                w,
                d,
            )| {
                Strings {
                    mesh,
                    cluster,
                    proxy_log,
                    sds_log,
                    envoy_log,
                    registry,
                    repository,
                    tag,
                    annotation,
                    envoy_args,
                    write_namespace: w,
                    cluster_domain: d,
                }
            },
        )
}

fn strings_values(s: &Strings) -> Value {
    json!({
        "global": {
            "istioIntegration": {"enabled": true},
            "glooMtls": {"istioProxy": {"logLevel": s.proxy_log}, "sds": {"logLevel": s.sds_log}},
        },
        "gatewayProxies": {"gatewayProxy": {
            "istioMetaMeshId": s.mesh,
            "istioMetaClusterId": s.cluster,
            "envoyLogLevel": s.envoy_log,
            "extraEnvoyArgs": s.envoy_args,
            "podTemplate": {
                "image": {"registry": s.registry, "repository": s.repository, "tag": s.tag},
                "extraAnnotations": {"example.com/note": s.annotation},
            },
        }},
        "settings": {"writeNamespace": s.write_namespace},
        "k8s": {"clusterName": s.cluster_domain},
    })
}

fn container<'a>(workload: &'a Value, name: &str) -> &'a Value {
    workload["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

fn env<'a>(container: &'a Value, name: &str) -> &'a Value {
    &container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap()["value"]
}

#[test]
fn every_rendered_string_round_trips() {
    proptest!(config(64), |(s in strings())| {
        let text = to_yaml(&strings_values(&s));
        let (model, _) = model(&text).map_err(TestCaseError::fail)?;
        let manifests = render_model(&model, engine::embedded()).map_err(|f| TestCaseError::fail(f.to_string()))?;
        let docs: Vec<Value> = manifests
            .iter()
            .map(|m| yaml::parse_json(&m.text).map_err(|e| TestCaseError::fail(format!("{} {e}", m.name))))
            .collect::<Result<_, _>>()?;
        prop_assert_eq!(docs.len(), 2, "a document added or lost");
        let workload = &docs[0];
        let istio = container(workload, "istio-proxy");
        prop_assert_eq!(env(istio, "ISTIO_META_MESH_ID"), &Value::String(s.mesh.clone()));
        prop_assert_eq!(env(istio, "ISTIO_META_CLUSTER_ID"), &Value::String(s.cluster.clone()));
        let log_arg = Value::String(format!("--proxyLogLevel={}", s.proxy_log));
        prop_assert!(istio["args"].as_array().unwrap().contains(&log_arg), "istio-proxy args");
        prop_assert_eq!(env(container(workload, "sds"), "LOG_LEVEL"), &Value::String(s.sds_log.clone()));
        let envoy = container(workload, "gateway-proxy");
        let mut args = vec![json!("--disable-hot-restart"), json!(format!("--log-level {}", s.envoy_log))];
        args.extend(s.envoy_args.iter().map(|a| json!(a)));
        prop_assert_eq!(&envoy["args"], &Value::Array(args));
        prop_assert_eq!(&envoy["image"], &json!(format!("{}/{}:{}", s.registry, s.repository, s.tag)));
        prop_assert_eq!(
            &workload["spec"]["template"]["metadata"]["annotations"]["example.com/note"],
            &json!(s.annotation)
        );
        let bootstrap = yaml::parse_json(docs[1]["data"]["envoy.yaml"].as_str().unwrap()).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&bootstrap["node"]["metadata"]["role"], &json!(format!("{}~gateway-proxy", s.write_namespace)));
        prop_assert_eq!(
            &bootstrap["static_resources"]["clusters"][0]["name"],
            &json!(format!("gloo.gloo-system.svc.{}:9977", s.cluster_domain))
        );
    });
}

// ---------------------------------------------------------------------------------------------
// post-render: idempotent on the reference renders
// ---------------------------------------------------------------------------------------------

/// Generated Istio values a post-render can apply.
fn istio_values() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        any::<bool>(),
        hostile_string(),
        hostile_string(),
        proptest::option::of(dns_label()),
        hostile_string(),
        proptest::collection::vec((dns_label(), dns_label(), 1u16..65535), 0..3),
    )
        .prop_map(|(integration, auto_mtls, mesh, cluster, revision, log, upstreams)| {
            let switch = if integration { "istioIntegration" } else { "istioSDS" };
            let mut global = json!({ switch: {"enabled": true}, "glooMtls": {"sds": {"logLevel": log}} });
            if integration {
                global["istioIntegration"]["enableAutoMtls"] = json!(auto_mtls);
            }
            let discovery = match revision {
                Some(rev) => format!("istiod-{rev}.istio-system.svc:15012"),
                None => "istiod.istio-system.svc:15012".into(),
            };
            let mut seen = std::collections::BTreeSet::new();
            let upstreams: Vec<Value> = upstreams
                .into_iter()
                .filter(|(service, namespace, port)| seen.insert(format!("{namespace}-{service}-{port}")))
                .map(|(service, namespace, port)| json!({"service": service, "namespace": namespace, "port": port}))
                .collect();
            to_yaml(&json!({
                "global": global,
                "gatewayProxies": {"gatewayProxy": {
                    "istioMetaMeshId": mesh,
                    "istioMetaClusterId": cluster,
                    "istioDiscoveryAddress": discovery,
                }},
                "upstreams": upstreams,
            }))
        })
}

#[test]
fn post_render_is_idempotent_on_the_reference_renders() {
    let references = all_references();
    if references.is_empty() {
        return;
    }
    let edited = std::sync::atomic::AtomicUsize::new(0);
    proptest!(config(32), |(values in istio_values(), which in 0..references.len())| {
        let (name, input) = &references[which];
        let (model, loaded) = model(&values).map_err(TestCaseError::fail)?;
        let once = match apply(input.as_bytes(), &Operation::PostRender, &model, &loaded) {
            Ok(out) => out,
            // A chart render with other Istio settings: a conflict, reported; nothing to repeat.
            Err(failure) => {
                prop_assert!(
                    failure.kind == gloo_istio::FailureKind::Invalid && !failure.diagnostics.is_empty(),
                    "{name}: {:?} {failure}", failure.kind
                );
                prop_assert!(!failure.to_string().contains("GI099"), "{name}: internal error {failure}");
                return Ok(());
            }
        };
        edited.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let twice = apply(&once, &Operation::PostRender, &model, &loaded)
            .map_err(|f| TestCaseError::fail(format!("{name}: post-render fails on its own output: {f}")))?;
        prop_assert!(once == twice, "{name}: post-render is not idempotent");
        // Everything it printed parses.
        let text = String::from_utf8(once).unwrap();
        for doc in split_stream(&text) {
            prop_assert!(doc.load(yaml::Limits::default()).is_ok(), "{name}: document at line {} does not parse", doc.line);
        }
    });
    let edited = edited.into_inner();
    assert!(
        edited >= 6,
        "only {edited} reference renders were post-rendered; the property is vacuous"
    );
}

// ---------------------------------------------------------------------------------------------
// inject / uninject
// ---------------------------------------------------------------------------------------------

fn inject_values() -> impl Strategy<Value = Value> {
    (
        hostile_string(),
        hostile_string(),
        proptest::option::of(dns_label()),
        proptest::option::of(("[a-z]{1,8}\\.example", "[0-9]\\.[0-9]{1,2}\\.[0-9]")),
    )
        .prop_map(|(mesh, cluster, revision, image)| {
            let mut mtls = json!({});
            if let Some((registry, tag)) = image {
                mtls["istioProxy"] = json!({"image": {"registry": registry, "repository": "proxyv2", "tag": tag}});
            }
            json!({
                "global": {"istioIntegration": {"enabled": true}, "glooMtls": mtls},
                "gatewayProxies": {"gatewayProxy": {
                    "istioMetaMeshId": mesh,
                    "istioMetaClusterId": cluster,
                    "istioDiscoveryAddress": format!("istiod{}.istio-system.svc:15012",
                        revision.map(|r| format!("-{r}")).unwrap_or_default()),
                }},
            })
        })
}

/// The model `gloo-istio inject` builds from its flags: one in-memory layer.
fn flag_model(values: Value) -> Result<(Model, LoadedValues), String> {
    let layer = Layer {
        source: SourceFile::new("inject flags", ""),
        value: values,
        spans: Default::default(),
    };
    let loaded = LoadedValues::new(vec![layer], CHART_DEFAULT_VERSION);
    let (model, _) = build_model(&loaded, "gloo-system", &RuleOptions::default())
        .map_err(|d| d.iter().map(|d| d.short()).collect::<Vec<_>>().join("\n"))?;
    Ok((model, loaded))
}

#[test]
fn uninject_inverts_inject() {
    let inputs: Vec<(String, String)> = NO_ISTIO
        .iter()
        .filter_map(|name| reference(name).map(|text| (name.to_string(), text)))
        .collect();
    if inputs.is_empty() {
        return;
    }
    let (plain, plain_loaded) = flag_model(json!({})).unwrap();
    let namespace = "gloo-system".to_string();
    proptest!(config(24), |(values in inject_values(), which in 0..inputs.len())| {
        let (name, input) = &inputs[which];
        let (model, loaded) = flag_model(values).map_err(TestCaseError::fail)?;
        let injected = apply(input.as_bytes(), &Operation::Inject { namespace: namespace.clone() }, &model, &loaded)
            .map_err(|f| TestCaseError::fail(format!("{name}: inject: {f}")))?;
        prop_assert!(injected != input.as_bytes(), "{name}: inject changed nothing");
        let uninject = Operation::Uninject { namespace: namespace.clone(), include_upstreams: false };
        let back = apply(&injected, &uninject, &plain, &plain_loaded)
            .map_err(|f| TestCaseError::fail(format!("{name}: uninject: {f}")))?;
        prop_assert!(back == input.as_bytes(), "{name}: uninject(inject(x)) != x");
    });
}

// ---------------------------------------------------------------------------------------------
// Pass-through of unrelated documents
// ---------------------------------------------------------------------------------------------

/// One line of an unrelated document's body: never a document marker at column 0.
fn body_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (dns_label(), hostile_string()).prop_map(|(k, v)| format!("{k}: {}", yaml_quote(&v))),
        (dns_label(), "[ -~]{0,30}").prop_map(|(k, v)| format!("{k}: {v}")),
        Just("flow: {a: [1, 2, {b: c}], 'd': \"e\"}".to_string()),
        Just("block: |\n  ---\n  ...\n  --- not a marker\n  kind: Deployment".to_string()),
        Just("folded: >-\n  gateway-proxy-id\n  gloo: gateway-proxy".to_string()),
        Just("anchor: &a [1, 2]\nalias: *a".to_string()),
        Just("# a comment: with `---` in it".to_string()),
        Just("trailing: spaces   ".to_string()),
        Just("tab:\t\"after colon\"".to_string()),
        Just("? complex key\n: complex value".to_string()),
        Just("list:\n- a\n-   b\n-\n  - nested".to_string()),
        Just("".to_string()),
        "[ -~]{0,40}".prop_map(|t| format!("  {t}")),
    ]
}

#[derive(Debug, Clone)]
struct Unrelated {
    text: String,
}

/// A document post-render does not concern: a `kind:` line of an unrelated kind, or no `kind`
/// at all; odd markers, comments, CRLF, end markers. It is YAML (post-render refuses a document
/// that is not): body lines that would break it are left out.
fn unrelated_document() -> impl Strategy<Value = Unrelated> {
    (
        proptest::sample::select(vec!["---\n", "--- \n", "---\t# marker comment\n", "--- # c\n"]),
        proptest::option::of("# [ -~]{0,30}"),
        proptest::option::of(proptest::sample::select(vec![
            "Service",
            "Secret",
            "ServiceAccount",
            "Job",
            "CustomResourceDefinition",
            "\"Role\"",
            "'List'",
        ])),
        proptest::collection::vec(body_line(), 0..6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(marker, comment, kind, lines, end_marker, crlf)| {
            let build = |lines: &[String]| unrelated_text(marker, &comment, kind, lines, end_marker, crlf);
            let text = build(&lines);
            let is_yaml = |text: &str| {
                <saphyr::Yaml as saphyr::LoadableYamlNode>::load_from_str(
                    text.strip_suffix("...\n")
                        .or(text.strip_suffix("...\r\n"))
                        .unwrap_or(text),
                )
                .is_ok()
            };
            let text = if is_yaml(&text) { text } else { build(&[]) };
            Unrelated { text }
        })
}

/// The text of one unrelated document.
fn unrelated_text(
    marker: &str,
    comment: &Option<String>,
    kind: Option<&str>,
    lines: &[String],
    end_marker: bool,
    crlf: bool,
) -> String {
    {
        {
            let mut text = marker.to_string();
            if let Some(comment) = comment {
                text.push_str(comment);
                text.push('\n');
            }
            match kind {
                Some(kind) => text.push_str(&format!("kind: {kind}\n")),
                // Without a `kind:` line, the text must not mention a kind at all.
                None => text.push_str("apiVersion: v1\n"),
            }
            for line in lines {
                let line = if kind.is_none() {
                    line.replace("kind", "sort")
                } else {
                    line.clone()
                };
                text.push_str(&line);
                text.push('\n');
            }
            if end_marker {
                text.push_str("...\n");
            }
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            text
        }
    }
}

#[test]
fn unrelated_documents_pass_through_byte_for_byte() {
    let Some(input) = reference("a-defaults") else { return };
    // With Upstreams in the values, so that documents are appended at the end too. (The stream
    // always ends with a newline here: a final document without one is
    // tests/hostile/streams/final-document-no-newline-then-upstreams.)
    let values = "{global: {istioIntegration: {enabled: true}}, upstreams: [{service: reviews, namespace: bookinfo, port: 9080}]}";
    let (model, loaded) = model(values).unwrap();
    let ref_docs: Vec<&str> = split_stream(&input).iter().map(|d| d.text).collect();
    let alone = String::from_utf8(apply(input.as_bytes(), &Operation::PostRender, &model, &loaded).unwrap()).unwrap();
    // The post-rendered reference: its documents, then what post-render appends.
    let out_docs: Vec<&str> = split_stream(&alone).iter().map(|d| d.text).collect();
    assert!(out_docs.len() > ref_docs.len(), "the values' Upstream was not appended");
    let (edited, appended) = out_docs.split_at(ref_docs.len());
    let appended = appended.concat();
    proptest!(config(32), |(
        extra in proptest::collection::vec((0..ref_docs.len() + 1, unrelated_document()), 1..8)
    )| {
        // Insert the unrelated documents before reference document `i` (or at the end).
        let mut input = String::new();
        let mut expected = String::new();
        for i in 0..=ref_docs.len() {
            for (_, doc) in extra.iter().filter(|(at, _)| *at == i) {
                input.push_str(&doc.text);
                expected.push_str(&doc.text);
            }
            if i < ref_docs.len() {
                input.push_str(ref_docs[i]);
                expected.push_str(edited[i]);
            }
        }
        expected.push_str(&appended);
        let out = apply(input.as_bytes(), &Operation::PostRender, &model, &loaded)
            .map_err(|f| TestCaseError::fail(f.to_string()))?;
        let out = String::from_utf8(out).unwrap();
        if out != expected {
            let at = out.bytes().zip(expected.bytes()).take_while(|(a, b)| a == b).count();
            let context = |s: &str| {
                let floor = |i: usize| (0..=i.min(s.len())).rev().find(|j| s.is_char_boundary(*j)).unwrap_or(0);
                s[floor(at.saturating_sub(80))..floor(at + 80)].to_string()
            };
            prop_assert!(false, "output differs at byte {at}:\n--- expected:\n{}\n--- got:\n{}", context(&expected), context(&out));
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The splitters
// ---------------------------------------------------------------------------------------------

fn stream_line() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{0,12}",
        1 => proptest::sample::select(vec![
            "---", "--- ", "---\t", "--- a: 1", "---x", "----", "...", "... ", "....", " ---", "# c", "", "\u{feff}---",
            "\u{b}", "\u{c}", "\u{a0}", "\u{85}", "\u{2028}", "a: 1", "- x",
        ])
        .prop_map(String::from),
        1 => proptest::collection::vec(hostile_char(), 0..8).prop_map(|c| c.into_iter().collect()),
    ]
}

/// Line breaks as YAML 1.2 counts them: `\n`, `\r\n` and a lone `\r`.
fn yaml_line_breaks(text: &str) -> usize {
    text.matches('\n').count() + text.matches('\r').count() - text.matches("\r\n").count()
}

#[test]
fn the_splitters_give_the_stream_back_and_agree() {
    proptest!(config(256), |(
        lines in proptest::collection::vec((stream_line(), proptest::sample::select(vec!["\n", "\r\n", "\r", ""])), 0..24)
    )| {
        let text: String = lines.iter().map(|(l, end)| format!("{l}{end}")).collect();
        let docs = split_stream(&text);
        let concatenated: String = docs.iter().map(|d| d.text).collect();
        prop_assert_eq!(&concatenated, &text);
        let mut line = 1;
        for doc in &docs {
            prop_assert_eq!(doc.line, line);
            prop_assert_eq!(&text[doc.offset..doc.offset + doc.text.len()], doc.text);
            line += yaml_line_breaks(doc.text);
        }
        let mut reader = DocumentReader::new(Cursor::new(text.as_bytes()));
        let mut streamed = Vec::new();
        while let Some(doc) = reader.next_document().map_err(|f| TestCaseError::fail(f.to_string()))? {
            streamed.push((doc.text, doc.line));
        }
        let split: Vec<(String, usize)> = docs.iter().map(|d| (d.text.to_string(), d.line)).collect();
        prop_assert_eq!(streamed, split);
    });
}

/// Each piece the splitter cuts is at most one YAML document: two mean a boundary it missed
/// (a `---` after a line YAML reads as content but the splitter as blank, such as `\v` or
/// U+00A0: tests/hostile/streams/unicode-blank-line-before-marker).
#[test]
fn each_piece_of_the_splitter_is_one_yaml_document() {
    proptest!(config(256), |(
        lines in proptest::collection::vec((stream_line(), proptest::sample::select(vec!["\n", "\r\n", "\r", ""])), 0..24)
    )| {
        let text: String = lines.iter().map(|(l, end)| format!("{l}{end}")).collect();
        for doc in split_stream(&text) {
            if let Err(err) = doc.load(yaml::Limits::default()) {
                prop_assert!(
                    err.kind != yaml::LoadErrorKind::MultipleDocuments,
                    "two documents in one piece: {:?}",
                    doc.text
                );
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Negative controls
// ---------------------------------------------------------------------------------------------

/// The properties can fail: a broken post-render (here, one that drops a byte) is caught by the
/// same comparison the pass-through property makes, and a non-idempotent edit by the same check
/// the idempotence property makes.
#[test]
fn the_properties_can_fail() {
    let doc = "---\nkind: Service\nmetadata: {name: x}\n";
    let (model, loaded) = model("{}").unwrap();
    let out = apply(doc.as_bytes(), &Operation::PostRender, &model, &loaded).unwrap();
    assert_eq!(out, doc.as_bytes());
    let broken = &out[..out.len() - 1];
    assert_ne!(broken, doc.as_bytes(), "the comparison must see one byte lost");
    // A value that did not round-trip is seen by the extraction the render property uses.
    let rendered = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "istio-proxy", "env": [{"name": "ISTIO_META_MESH_ID", "value": "a"}]}
    ]}}}});
    assert_ne!(
        env(container(&rendered, "istio-proxy"), "ISTIO_META_MESH_ID"),
        &json!("a\nb")
    );
    // The YAML writer of the generated values is exact, for every character class generated.
    let mut runner = proptest::test_runner::TestRunner::new(config(64));
    runner
        .run(&hostile_string(), |s| {
            let parsed = yaml::parse_json(&format!("v: {}\n", yaml_quote(&s))).map_err(TestCaseError::fail)?;
            prop_assert_eq!(&parsed["v"], &Value::String(s));
            Ok(())
        })
        .unwrap();
    // And a property over a deliberately wrong claim fails.
    let mut runner = proptest::test_runner::TestRunner::new(config(64));
    let result = runner.run(&hostile_string(), |s| {
        prop_assert!(!s.contains(['\n', ':', '#', '"', '\\', '\u{2028}']), "hostile");
        Ok(())
    });
    assert!(result.is_err(), "the strategy never generated a hostile character");
}
