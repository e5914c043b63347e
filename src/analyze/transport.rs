//! Gloo's transport decision for an Upstream, as Gloo computes it (docs/analyze.md,
//! "Transport"), and the sds plumbing an sds sslConfig relies on.
//!
//! An sslConfig, any sslConfig (`{}` included), is the transport. Without one, auto-mTLS applies
//! when Settings turn on both `enableAutoMtls` and `enableIntegration` and the Upstream does not
//! opt out; it then decides per endpoint: a pod that carries the label key
//! `security.istio.io/tlsMode` gets Istio mTLS, any other endpoint plain text. Static Upstreams
//! have no pods, so all their endpoints get plain text. PeerAuthentication is never consulted.

use std::net::SocketAddr;

use serde_json::Value;

use super::gateway::GatewayProxy;
use super::input::Doc;
use super::settings::GlooSettings;
use super::workloads::{TLS_MODE_LABEL, Workload};
use crate::diag::{Diagnostic, code};
use crate::istio::{SDS_CLUSTER, SDS_PORT, is_istio_ssl_config};

/// The transport Gloo picks for an Upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Transport {
    /// An sslConfig with Istio's certificates (`sds` or `sslFiles`): Istio mTLS to every pod.
    IstioSsl(&'static str),
    /// An sslConfig without Istio's certificates: TLS that Istio's sidecar does not accept as
    /// mesh mTLS.
    OtherTls(&'static str),
    /// Gloo's auto-mTLS: Istio mTLS to pods with the tlsMode label key, plain text to others.
    AutoMtls,
    /// auto-mTLS with the deprecated sidecar on the gateway: Gloo sends plain text and the
    /// gateway's own Istio sidecar decides.
    GatewaySidecar,
    /// Plain text, with the reason.
    Plaintext(&'static str),
}

/// What reaches one pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wire {
    IstioMtls,
    Plain,
    Tls,
    GatewaySidecar,
}

impl Transport {
    /// Gloo's decision for an Upstream's `spec`.
    pub fn decide(spec: &Value, settings: &GlooSettings) -> Transport {
        let is_static = spec.get("static").is_some();
        match spec.get("sslConfig").filter(|s| !s.is_null()) {
            Some(ssl) => {
                let kind = if ssl.get("sds").is_some() {
                    "sds"
                } else if ssl.get("sslFiles").is_some() {
                    "sslFiles"
                } else if ssl.get("secretRef").is_some() {
                    "secretRef"
                } else if ssl.as_object().is_some_and(|m| m.is_empty()) {
                    "empty sslConfig"
                } else {
                    "sslConfig"
                };
                if is_istio_ssl_config(ssl) {
                    Transport::IstioSsl(kind)
                } else {
                    Transport::OtherTls(kind)
                }
            }
            None => {
                let opted_out = spec.get("disableIstioAutoMtls").and_then(super::input::as_bool) == Some(true);
                if !settings.auto_mtls {
                    Transport::Plaintext("no sslConfig, auto-mTLS off")
                } else if opted_out {
                    Transport::Plaintext("no sslConfig, disableIstioAutoMtls")
                } else if !settings.integration {
                    Transport::Plaintext("auto-mTLS without enableIntegration")
                } else if is_static {
                    Transport::Plaintext("static Upstream: auto-mTLS has no pod labels")
                } else if settings.sidecar_on_gateway.is_some() {
                    Transport::GatewaySidecar
                } else {
                    Transport::AutoMtls
                }
            }
        }
    }

    /// What reaches a pod that carries (or not) the tlsMode label key.
    pub fn wire(&self, tls_label: bool) -> Wire {
        match self {
            Transport::IstioSsl(_) => Wire::IstioMtls,
            Transport::OtherTls(_) => Wire::Tls,
            Transport::AutoMtls if tls_label => Wire::IstioMtls,
            Transport::AutoMtls | Transport::Plaintext(_) => Wire::Plain,
            Transport::GatewaySidecar => Wire::GatewaySidecar,
        }
    }

    /// The short name of the report's transport column.
    pub fn short(&self) -> String {
        match self {
            Transport::IstioSsl(kind) => format!("istio-mtls ({kind})"),
            Transport::OtherTls(kind) => format!("tls ({kind})"),
            Transport::AutoMtls => "auto-mtls".into(),
            Transport::GatewaySidecar => "plaintext (gateway sidecar)".into(),
            Transport::Plaintext(_) => "plaintext".into(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Transport::IstioSsl(kind) => format!("its own sslConfig ({kind}, Istio's certificates): Istio mTLS to every pod"),
            Transport::OtherTls(kind) => format!("its own sslConfig ({kind}): TLS without Istio's certificates"),
            Transport::AutoMtls => {
                "Gloo's auto-mTLS: Istio mTLS to pods labelled security.istio.io/tlsMode, plain text to others".into()
            }
            Transport::GatewaySidecar => {
                "plain text from Gloo (auto-mTLS with the deprecated sidecar on the gateway); the gateway's Istio sidecar decides".into()
            }
            Transport::Plaintext(why) => format!("plain text ({why})"),
        }
    }
}

/// The sds plumbing of an sds sslConfig: the `targetUri`, the bootstrap cluster it names, and
/// the sds sidecar behind it (GI034, GI035, GI037).
pub(super) fn check_sds(doc: &Doc, name: &str, proxies: &[GatewayProxy], out: &mut Vec<Diagnostic>) {
    let Some(sds) = doc.value.pointer("/spec/sslConfig/sds") else {
        return;
    };
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
    if !cluster.is_empty() && cluster != SDS_CLUSTER {
        // Another cluster: it must be in every gateway proxy's bootstrap whose clusters we see.
        let lacking: Vec<String> = proxies
            .iter()
            .filter(|p| p.clusters.as_ref().is_some_and(|c| !c.iter().any(|n| n == cluster)))
            .map(GatewayProxy::display)
            .collect();
        if !lacking.is_empty() {
            out.push(
                Diagnostic::error(
                    code::ANALYZE_SDS_CLUSTER,
                    format!(
                        "Upstream {name} takes its certificates from the cluster `{cluster}`, which the bootstrap of these gateway proxies lacks: {}; envoy rejects the cluster and the route returns 503",
                        lacking.join(", ")
                    ),
                )
                .path("spec.sslConfig.sds.clusterName")
                .at(doc.at("/spec/sslConfig/sds/clusterName"))
                .help(format!("use clusterName: {SDS_CLUSTER} (the cluster the Istio integration adds), or add `{cluster}` to the bootstrap")),
            );
        }
        return;
    }
    // gateway_proxy_sds by name, or a targetUri the sds sidecar serves on the pod's loopback.
    let via_cluster = cluster == SDS_CLUSTER || target.is_none();
    let via_sidecar = via_cluster
        || target.is_some_and(|t| {
            t.parse::<SocketAddr>()
                .is_ok_and(|a| a.ip().is_loopback() && a.port() == SDS_PORT)
        });
    if !via_sidecar {
        return;
    }
    let lacking: Vec<String> = proxies
        .iter()
        .filter_map(|p| p.sds_missing(via_cluster).map(|why| format!("{} ({why})", p.display())))
        .collect();
    if !lacking.is_empty() {
        let source = if via_cluster {
            format!("the {SDS_CLUSTER} cluster")
        } else {
            format!("the sds sidecar at targetUri {}", target.unwrap_or_default())
        };
        out.push(
            Diagnostic::error(
                code::ANALYZE_NO_SDS,
                format!(
                    "Upstream {name} takes its certificates from {source}, which these gateway proxies lack: {}",
                    lacking.join(", ")
                ),
            )
            .path("spec.sslConfig.sds")
            .at(doc.at("/spec/sslConfig/sds/clusterName").or_else(|| doc.at_key("/spec/sslConfig/sds")))
            .help("render the gateway proxies with global.istioIntegration.enabled: true (gloo-istio render or post-render)"),
        );
    }
}

/// GI038: a pod template that sets the tlsMode label to anything but `istio`. Gloo's auto-mTLS
/// looks at the key only, so such a pod still gets Istio mTLS.
pub(super) fn check_tls_mode_labels(workloads: &[Workload], settings: &GlooSettings, out: &mut Vec<Diagnostic>) {
    if !(settings.auto_mtls && settings.integration) || settings.sidecar_on_gateway.is_some() {
        return;
    }
    for w in workloads {
        let Some(value) = w.labels.get(TLS_MODE_LABEL).filter(|v| *v != "istio") else {
            continue;
        };
        let pointer = format!("{}/metadata/labels/{}", w.template, TLS_MODE_LABEL.replace('/', "~1"));
        out.push(
            Diagnostic::warning(
                code::ANALYZE_TLS_MODE_LABEL,
                format!(
                    "{} labels its pods {TLS_MODE_LABEL}: {value}, but Gloo's auto-mTLS only looks for the label key: Gloo sends these pods Istio mTLS all the same",
                    w.display()
                ),
            )
            .at(w.doc.at(&pointer))
            .help("remove the label (Istio's injector sets it on the pods it injects), or set disableIstioAutoMtls: true on the Upstreams of these pods"),
        );
    }
}
