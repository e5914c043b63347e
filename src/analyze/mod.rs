//! `analyze`: which transport Gloo uses for each Upstream, given the manifests around it
//! (Settings, Istio PeerAuthentication, Services, gateway-proxy workloads and their bootstrap
//! ConfigMaps), and the combinations that fail at run time (Istio spec §4.1–4.3).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::Value;

use crate::diag::{Diagnostic, Location, SourceFile, code};
use crate::yaml::{Limits, Span, stream};

/// One parsed document with the positions of its values.
struct Doc {
    source: Arc<SourceFile>,
    value: Value,
    spans: BTreeMap<String, (Option<Span>, Span)>,
}

impl Doc {
    fn str(&self, pointer: &str) -> Option<&str> {
        self.value.pointer(pointer).and_then(Value::as_str)
    }

    fn kind(&self) -> &str {
        self.str("/kind").unwrap_or("")
    }

    fn name(&self) -> &str {
        self.str("/metadata/name").unwrap_or("")
    }

    fn namespace(&self) -> Option<&str> {
        self.str("/metadata/namespace")
    }

    /// The value at `pointer`, or the closest enclosing one that was written.
    fn at(&self, pointer: &str) -> Option<Location> {
        let mut current = pointer;
        loop {
            if let Some((_, value)) = self.spans.get(current) {
                return Some(Location {
                    source: self.source.clone(),
                    span: *value,
                });
            }
            current = &current[..current.rfind('/')?];
        }
    }

    fn at_key(&self, pointer: &str) -> Option<Location> {
        match self.spans.get(pointer) {
            Some((Some(key), _)) => Some(Location {
                source: self.source.clone(),
                span: *key,
            }),
            _ => self.at(pointer),
        }
    }
}

/// Options of the analysis.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Istio's root namespace, where a PeerAuthentication without selector is mesh-wide.
    pub istio_root_namespace: String,
    /// The namespace of resources that do not name one.
    pub default_namespace: String,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            istio_root_namespace: "istio-system".into(),
            default_namespace: "gloo-system".into(),
        }
    }
}

/// Peer authentication modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeerMode {
    Strict,
    Permissive,
    Disable,
}

struct PeerAuth {
    namespace: String,
    selector: BTreeMap<String, String>,
    mode: Option<PeerMode>,
    name: String,
}

fn labels(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The transport Gloo picks for an Upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Transport {
    /// The Upstream's own sslConfig (of the named kind).
    Manual(&'static str),
    /// Gloo's automatic mTLS (with plain-text fallback for pods without a sidecar).
    AutoMtls,
    /// Plain text because auto-mTLS is on without the integration.
    AutoMtlsInert,
    /// Plain text.
    Plaintext,
}

impl Transport {
    fn describe(&self) -> String {
        match self {
            Transport::Manual(kind) => format!("its own sslConfig ({kind})"),
            Transport::AutoMtls => "Gloo's auto-mTLS (Istio mTLS to pods with a sidecar, plain text to others)".into(),
            Transport::AutoMtlsInert => "plain text: auto-mTLS is on but Settings enableIntegration is off".into(),
            Transport::Plaintext => "plain text".into(),
        }
    }

    fn plaintext(&self) -> bool {
        matches!(self, Transport::Plaintext | Transport::AutoMtlsInert)
    }
}

/// Reads the documents of every source. YAML errors are findings; such documents are skipped.
fn documents(sources: &[Arc<SourceFile>], out: &mut Vec<Diagnostic>) -> Vec<Doc> {
    let mut docs = Vec::new();
    for source in sources {
        source.mark_manifest_secrets();
        for raw in stream::split_stream(&source.text) {
            if !raw.has_content() {
                continue;
            }
            match raw.load(Limits::default()) {
                Ok(Some(node)) => {
                    let mut spans = BTreeMap::new();
                    node.index_spans(&mut spans);
                    docs.push(Doc {
                        source: source.clone(),
                        value: node.to_json(),
                        spans,
                    });
                }
                Ok(None) => {}
                Err(err) => {
                    let mut d = Diagnostic::error(code::YAML_SYNTAX, err.message.clone())
                        .at(Some(Location {
                            source: source.clone(),
                            span: err.span,
                        }))
                        .help("fix the YAML of this document");
                    if let Some((span, label)) = err.related {
                        d = d.related(
                            Location {
                                source: source.clone(),
                                span,
                            },
                            label,
                        );
                    }
                    out.push(d);
                }
            }
        }
    }
    docs
}

/// Analyses the manifests of `sources`.
pub fn analyze(sources: &[Arc<SourceFile>], options: &AnalyzeOptions) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let docs = documents(sources, &mut out);
    let ns = |doc: &Doc| doc.namespace().unwrap_or(&options.default_namespace).to_string();

    // Settings: the first one wins (one Gloo install per analysis).
    let settings = docs
        .iter()
        .find(|d| d.kind() == "Settings" && d.str("/apiVersion").is_some_and(|a| a.starts_with("gloo.solo.io/")));
    let flag = |pointer: &str| {
        settings
            .and_then(|s| s.value.pointer(pointer))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let auto_mtls = flag("/spec/gloo/istioOptions/enableAutoMtls");
    let integration = flag("/spec/gloo/istioOptions/enableIntegration");
    if let Some(s) = settings
        && auto_mtls
        && !integration
    {
        out.push(
            Diagnostic::warning(code::ANALYZE_AUTOMTLS, "Settings turn on enableAutoMtls without enableIntegration: Gloo logs an error and sends plain text")
                .path("spec.gloo.istioOptions.enableAutoMtls")
                .at(s.at("/spec/gloo/istioOptions/enableAutoMtls"))
                .help("set spec.gloo.istioOptions.enableIntegration: true (the chart does so with global.istioIntegration.enabled)"),
        );
    }

    let peer_auths: Vec<PeerAuth> = docs
        .iter()
        .filter(|d| d.kind() == "PeerAuthentication")
        .map(|d| PeerAuth {
            namespace: ns(d),
            selector: labels(d.value.pointer("/spec/selector/matchLabels")),
            mode: match d.str("/spec/mtls/mode") {
                Some("STRICT") => Some(PeerMode::Strict),
                Some("PERMISSIVE") => Some(PeerMode::Permissive),
                Some("DISABLE") => Some(PeerMode::Disable),
                _ => None,
            },
            name: format!("{}/{}", ns(d), d.name()),
        })
        .collect();
    let services: BTreeMap<(String, String), BTreeMap<String, String>> = docs
        .iter()
        .filter(|d| d.kind() == "Service")
        .map(|d| ((ns(d), d.name().to_string()), labels(d.value.pointer("/spec/selector"))))
        .collect();

    // Gateway proxies: do they run the sds sidecar, and does their bootstrap have the cluster?
    let config_maps: BTreeMap<(String, String), &Doc> = docs
        .iter()
        .filter(|d| d.kind() == "ConfigMap")
        .map(|d| ((ns(d), d.name().to_string()), d))
        .collect();
    let mut proxies_without_sds = Vec::new();
    let mut proxies = 0;
    for doc in docs.iter().filter(|d| {
        matches!(d.kind(), "Deployment" | "DaemonSet") && d.str("/metadata/labels/gloo") == Some("gateway-proxy")
    }) {
        proxies += 1;
        let containers = doc
            .value
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let has_sds = containers.iter().any(|c| c["name"] == "sds");
        let config_map = doc
            .value
            .pointer("/spec/template/spec/volumes")
            .and_then(Value::as_array)
            .and_then(|v| v.iter().find(|v| v["name"] == "envoy-config"))
            .and_then(|v| v.pointer("/configMap/name"))
            .and_then(Value::as_str)
            .and_then(|name| config_maps.get(&(ns(doc), name.to_string())));
        let cluster_missing = config_map.is_some_and(|cm| {
            let bootstrap = cm.str("/data/envoy.yaml").and_then(|t| crate::yaml::parse_json(t).ok());
            !bootstrap
                .and_then(|b| {
                    b.pointer("/static_resources/clusters")
                        .and_then(Value::as_array)
                        .cloned()
                })
                .unwrap_or_default()
                .iter()
                .any(|c| c["name"] == "gateway_proxy_sds")
        });
        if !has_sds || cluster_missing {
            let why = if !has_sds {
                "no sds sidecar"
            } else {
                "no gateway_proxy_sds cluster in its bootstrap"
            };
            proxies_without_sds.push(format!("{}/{} ({why})", ns(doc), doc.name()));
        }
    }

    for doc in docs
        .iter()
        .filter(|d| d.kind() == "Upstream" && d.str("/apiVersion").is_some_and(|a| a.starts_with("gloo.solo.io/")))
    {
        upstream(
            doc,
            &ns(doc),
            auto_mtls,
            integration,
            settings.is_some(),
            &peer_auths,
            &services,
            options,
            proxies,
            &proxies_without_sds,
            &mut out,
        );
    }
    out
}

/// The peer authentication mode that applies to a service's pods: workload-specific, then
/// namespace-wide, then mesh-wide; PERMISSIVE when none is set.
fn peer_mode(
    namespace: &str,
    service_selector: Option<&BTreeMap<String, String>>,
    peer_auths: &[PeerAuth],
    options: &AnalyzeOptions,
) -> (PeerMode, String) {
    let workload = peer_auths.iter().find(|p| {
        p.namespace == namespace
            && !p.selector.is_empty()
            && p.mode.is_some()
            && service_selector.is_some_and(|s| p.selector.iter().all(|(k, v)| s.get(k) == Some(v)))
    });
    let namespace_wide = || {
        peer_auths
            .iter()
            .find(|p| p.namespace == namespace && p.selector.is_empty() && p.mode.is_some())
    };
    let mesh_wide = || {
        peer_auths
            .iter()
            .find(|p| p.namespace == options.istio_root_namespace && p.selector.is_empty() && p.mode.is_some())
    };
    match workload.or_else(namespace_wide).or_else(mesh_wide) {
        Some(p) => (
            p.mode.unwrap_or(PeerMode::Permissive),
            format!("PeerAuthentication {}", p.name),
        ),
        None => (PeerMode::Permissive, "no PeerAuthentication (Istio's default)".into()),
    }
}

fn mode_name(mode: PeerMode) -> &'static str {
    match mode {
        PeerMode::Strict => "STRICT",
        PeerMode::Permissive => "PERMISSIVE",
        PeerMode::Disable => "DISABLE",
    }
}

#[allow(clippy::too_many_arguments)]
fn upstream(
    doc: &Doc,
    namespace: &str,
    auto_mtls: bool,
    integration: bool,
    have_settings: bool,
    peer_auths: &[PeerAuth],
    services: &BTreeMap<(String, String), BTreeMap<String, String>>,
    options: &AnalyzeOptions,
    proxies: usize,
    proxies_without_sds: &[String],
    out: &mut Vec<Diagnostic>,
) {
    let name = format!("{namespace}/{}", doc.name());
    let ssl = doc
        .value
        .pointer("/spec/sslConfig")
        .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()));
    let opted_out = doc
        .value
        .pointer("/spec/disableIstioAutoMtls")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let transport = match ssl {
        Some(ssl) if ssl.get("sds").is_some() => Transport::Manual("sds"),
        Some(ssl) if ssl.get("sslFiles").is_some() => Transport::Manual("sslFiles"),
        Some(ssl) if ssl.get("secretRef").is_some() => Transport::Manual("secretRef"),
        Some(_) => Transport::Manual("TLS"),
        None if auto_mtls && !opted_out && integration => Transport::AutoMtls,
        None if auto_mtls && !opted_out => Transport::AutoMtlsInert,
        None => Transport::Plaintext,
    };
    let service_ns = doc.str("/spec/kube/serviceNamespace").map(str::to_string);
    let service_name = doc.str("/spec/kube/serviceName").map(str::to_string);
    let peer = service_ns.as_deref().map(|sns| {
        let selector = service_name
            .as_ref()
            .and_then(|s| services.get(&(sns.to_string(), s.clone())));
        peer_mode(sns, selector, peer_auths, options)
    });

    let mut summary = format!("Upstream {name}: {}", transport.describe());
    if let Some((mode, source)) = &peer {
        summary.push_str(&format!("; the service's pods accept {} ({source})", mode_name(*mode)));
    }
    let help = if have_settings {
        "transport chosen from the Upstream's sslConfig and the Settings istioOptions".to_string()
    } else {
        "no Gloo Settings in the input: auto-mTLS assumed off (pass the Settings manifest to include it)".to_string()
    };
    out.push(
        Diagnostic::info(code::ANALYZE_TRANSPORT, summary)
            .path("spec")
            .at(doc.at_key("/metadata/name"))
            .help(help),
    );

    if let Some((mode, source)) = &peer {
        if *mode == PeerMode::Strict && transport.plaintext() {
            out.push(
                Diagnostic::error(
                    code::ANALYZE_STRICT_PLAINTEXT,
                    format!("Upstream {name} sends plain text to pods that require mTLS ({source} is STRICT): requests fail with 503 \"upstream connect error or disconnect/reset before headers\""),
                )
                .path("spec.sslConfig")
                .at(doc.at_key("/spec").or_else(|| doc.at_key("/metadata/name")))
                .help(if transport == Transport::AutoMtlsInert {
                    "turn on Settings enableIntegration (global.istioIntegration.enabled), or give the Upstream the Istio sslConfig"
                } else {
                    "give the Upstream the Istio sslConfig (gloo-istio render with mtls: istio-sds), or turn on auto-mTLS"
                }),
            );
        }
        if *mode == PeerMode::Disable && transport == Transport::Manual("sds") {
            out.push(
                Diagnostic::error(
                    code::ANALYZE_DISABLE_MTLS,
                    format!("Upstream {name} always sends Istio mTLS, but its pods have mTLS disabled ({source} is DISABLE): requests fail with 503"),
                )
                .path("spec.sslConfig")
                .at(doc.at_key("/spec/sslConfig"))
                .help("remove the sslConfig (with auto-mTLS on, Gloo then falls back to plain text), or stop disabling mTLS for these pods"),
            );
        }
    }

    if let Some(sds) = ssl.and_then(|s| s.get("sds")) {
        let cluster = sds.get("clusterName").and_then(Value::as_str).unwrap_or("");
        let target = sds.get("targetUri").and_then(Value::as_str);
        if let Some(target) = target
            && target.parse::<SocketAddr>().is_err()
            && !target.starts_with("unix:")
        {
            let level_error = cluster.is_empty();
            let message = format!("sslConfig.sds.targetUri `{target}` is not an IP address and port");
            let d = if level_error {
                Diagnostic::error(code::ANALYZE_TARGET_URI, message)
            } else {
                Diagnostic::warning(code::ANALYZE_TARGET_URI, message)
            };
            out.push(
                d.path("spec.sslConfig.sds.targetUri")
                    .at(doc.at("/spec/sslConfig/sds/targetUri"))
                    .help(if level_error {
                        "Gloo dials targetUri when clusterName is empty: use 127.0.0.1:8234"
                    } else {
                        "harmless while clusterName is set (it wins), but fix it to 127.0.0.1:8234"
                    }),
            );
        }
        let uses_sds_cluster = cluster == "gateway_proxy_sds" || (cluster.is_empty() && target.is_none());
        if uses_sds_cluster && proxies > 0 && !proxies_without_sds.is_empty() {
            out.push(
                Diagnostic::error(
                    code::ANALYZE_NO_SDS,
                    format!(
                        "Upstream {name} takes its certificates from the gateway_proxy_sds cluster, which these gateway proxies lack: {}",
                        proxies_without_sds.join(", ")
                    ),
                )
                .path("spec.sslConfig.sds.clusterName")
                .at(doc.at("/spec/sslConfig/sds/clusterName").or_else(|| doc.at_key("/spec/sslConfig")))
                .help("render the gateway proxies with global.istioIntegration.enabled: true (gloo-istio render or post-render)"),
            );
        }
    }
}
