//! One Upstream against its pods: the Service and port it names, the pods behind them, what
//! Gloo sends each pod and what each pod's port accepts.
//!
//! Where the input leaves a piece out (the Service, the pods, their namespace, which policy is
//! older), every answer the missing piece allows is tried: the verdict stands when they all
//! agree, and is "unknown" (GI050, with the missing piece) when they do not.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::Context;
use super::input::{Doc, as_port, selects, string_map};
use super::peer_auth::{Decision, PeerMode};
use super::transport::{Transport, Wire, check_sds};
use super::workloads::{TLS_MODE_LABEL, TargetPort, Workload, sidecar};
use crate::diag::{Diagnostic, Location, code};

/// An Upstream to check: one of the input, or one Gloo's discovery would write.
pub(super) struct UpstreamSpec<'a> {
    pub doc: Option<&'a Doc>,
    pub namespace: String,
    pub name: String,
    pub spec: Value,
    /// Discovered: not in the input; `at` is then the Service it comes from.
    pub discovered: bool,
    pub at: Option<Location>,
}

impl<'a> UpstreamSpec<'a> {
    pub fn from_doc(doc: &'a Doc, default_namespace: &str) -> Self {
        UpstreamSpec {
            doc: Some(doc),
            namespace: doc.namespace().unwrap_or(default_namespace).to_string(),
            name: doc.name().to_string(),
            spec: doc.value.get("spec").cloned().unwrap_or(Value::Null),
            discovered: false,
            at: doc.at_key("/metadata/name"),
        }
    }

    fn display(&self) -> String {
        let discovered = if self.discovered { " (discovered)" } else { "" };
        format!("{}/{}{discovered}", self.namespace, self.name)
    }

    fn at(&self, pointer: &str) -> Option<Location> {
        self.doc.and_then(|d| d.at_key(pointer)).or_else(|| self.at.clone())
    }
}

/// A verdict: the request works, fails, or the input cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Unknown,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Unknown => "unknown",
            Verdict::Fail => "fail",
        }
    }
}

/// One pod's port behind an Upstream.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointReport {
    /// `Deployment ns/name`, or None when the pods are not in the input.
    pub workload: Option<String>,
    /// The pod's port the Service's targetPort resolves to.
    pub port: Option<u16>,
    /// `yes`, `no` or `unknown`.
    pub sidecar: &'static str,
    pub sidecar_reason: String,
    /// The sidecar leaves this port alone (excludeInboundPorts).
    pub excluded: bool,
    /// The peer authentication mode of the port, when the input decides it.
    pub peer_mode: Option<PeerMode>,
    /// The policy that decided it (or the candidates).
    pub policy: String,
    pub verdict: Verdict,
    pub reason: String,
    /// The code of a failure.
    #[serde(skip)]
    code: Option<&'static str>,
}

/// One Upstream's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamReport {
    pub namespace: String,
    pub name: String,
    pub discovered: bool,
    /// `ns/service:port`, for a kube Upstream.
    pub service: Option<String>,
    pub transport: String,
    pub transport_detail: String,
    pub endpoints: Vec<EndpointReport>,
    pub verdict: Verdict,
    pub reason: String,
}

/// What one combination of the possible answers gives.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    Fail(&'static str, String),
    Unknown(String),
}

pub(super) fn evaluate(u: &UpstreamSpec, ctx: &Context, out: &mut Vec<Diagnostic>) -> UpstreamReport {
    let transport = Transport::decide(&u.spec, &ctx.settings);
    let name = u.display();
    if let Some(doc) = u.doc {
        check_sds(doc, &name, &ctx.proxies, out);
    }
    let mut report = UpstreamReport {
        namespace: u.namespace.clone(),
        name: u.name.clone(),
        discovered: u.discovered,
        service: None,
        transport: transport.short(),
        transport_detail: transport.describe(),
        endpoints: Vec::new(),
        verdict: Verdict::Unknown,
        reason: String::new(),
    };
    let target = resolve(u, ctx, &mut report, out);
    if let Some((namespace, target_port, pods)) = target {
        let pods: Vec<Option<&Workload>> = if pods.is_empty() {
            vec![None]
        } else {
            pods.into_iter().map(Some).collect()
        };
        for pod in pods {
            report
                .endpoints
                .push(endpoint(&transport, &namespace, &target_port, pod, ctx));
        }
        report.verdict = report
            .endpoints
            .iter()
            .map(|e| e.verdict)
            .max()
            .unwrap_or(Verdict::Unknown);
        let endpoint_reason = report
            .endpoints
            .iter()
            .find(|e| e.verdict == report.verdict)
            .map(|e| e.reason.clone())
            .unwrap_or_default();
        // A missing Service is the first cause of an unknown verdict.
        report.reason = match (report.verdict, report.reason.is_empty()) {
            (Verdict::Unknown, false) => format!("{}; {endpoint_reason}", report.reason),
            _ => endpoint_reason,
        };
        findings(u, &transport, &report, out);
    }
    summary(u, &report, ctx, out);
    report
}

/// The namespace, targetPort and pods (empty: not in the input) of a kube Upstream; None when
/// the Upstream has no pods to judge (findings and the report say why).
fn resolve<'c>(
    u: &UpstreamSpec,
    ctx: &'c Context,
    report: &mut UpstreamReport,
    out: &mut Vec<Diagnostic>,
) -> Option<(String, TargetPort, Vec<&'c Workload<'c>>)> {
    let name = u.display();
    let Some(kube) = u.spec.get("kube") else {
        report.reason = if u.spec.get("static").is_some() {
            "static hosts: their pods and peer authentication are outside the input".into()
        } else {
            "not a kube Upstream: its endpoints are outside the input".into()
        };
        return None;
    };
    let service_name = kube.get("serviceName").and_then(Value::as_str).unwrap_or("");
    let service_port = kube.get("servicePort").and_then(as_port);
    let Some(namespace) = kube
        .get("serviceNamespace")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return broken(
            u,
            report,
            out,
            "/spec/kube",
            format!(
                "Upstream {name} has no spec.kube.serviceNamespace: Gloo looks for Service `{service_name}` in no namespace and finds no endpoints (503 no healthy upstream)"
            ),
            "set spec.kube.serviceNamespace to the Service's namespace",
            code::ANALYZE_TARGET,
        );
    };
    report.service = Some(format!(
        "{namespace}/{service_name}:{}",
        service_port.map_or("?".into(), |p| p.to_string())
    ));
    let Some(service) = ctx.services.get(&(namespace.to_string(), service_name.to_string())) else {
        // The pods may still be in the input, but without the Service neither its selector nor
        // its targetPort is known.
        report.reason = format!("Service {namespace}/{service_name} is not in the input");
        return Some((namespace.to_string(), TargetPort::Name(String::new()), Vec::new()));
    };
    if service.external_name {
        return broken(
            u,
            report,
            out,
            "/spec/kube/serviceName",
            format!(
                "Upstream {name} names Service {namespace}/{service_name}, an ExternalName Service: it has no pods, so Gloo finds no endpoints (503 no healthy upstream)"
            ),
            "use a static Upstream for the external name, or point the Upstream at a Service with a selector",
            code::ANALYZE_TARGET,
        );
    }
    let Some(port) = service.ports.iter().find(|p| Some(p.port) == service_port) else {
        let known: Vec<String> = service.ports.iter().map(|p| p.port.to_string()).collect();
        return broken(
            u,
            report,
            out,
            "/spec/kube/servicePort",
            format!(
                "Upstream {name} uses port {} of Service {namespace}/{service_name}, which has only [{}]: Gloo finds no endpoints (503 no healthy upstream)",
                service_port.map_or("(none)".into(), |p| p.to_string()),
                known.join(", ")
            ),
            "set spec.kube.servicePort to one of the Service's ports",
            code::ANALYZE_TARGET,
        );
    };
    let Some(selector) = &service.selector else {
        report.reason = format!(
            "Service {namespace}/{service_name} has no selector: its endpoints are written by hand, outside the input"
        );
        return None;
    };
    let narrowing = string_map(kube.get("selector"));
    let pods: Vec<&Workload> = ctx
        .workloads
        .iter()
        .filter(|w| w.namespace == namespace && selects(selector, &w.labels) && selects(&narrowing, &w.labels))
        .collect();
    if pods.is_empty() && ctx.workloads.iter().any(|w| w.namespace == namespace) {
        let with = if narrowing.is_empty() {
            ""
        } else {
            " and the Upstream's spec.kube.selector"
        };
        let d = Diagnostic::warning(
            code::ANALYZE_TARGET,
            format!("Upstream {name}: no pod of namespace {namespace} in the input matches the selector of Service {namespace}/{service_name}{with}; if none exists in the cluster either, requests fail with 503 (no healthy upstream)"),
        )
        .path("spec.kube")
        .at(u.at("/spec/kube"))
        .help("check the Service's selector and spec.kube.selector against the pod labels");
        out.push(d);
        report.verdict = Verdict::Fail;
        report.reason = format!("no pod in the input matches Service {namespace}/{service_name}");
        return None;
    }
    Some((namespace.to_string(), port.target.clone(), pods))
}

fn broken<T>(
    u: &UpstreamSpec,
    report: &mut UpstreamReport,
    out: &mut Vec<Diagnostic>,
    pointer: &str,
    message: String,
    help: &str,
    code: &'static str,
) -> Option<T> {
    out.push(
        Diagnostic::error(code, message.clone())
            .path(pointer.trim_start_matches('/').replace('/', "."))
            .at(u.at(pointer))
            .help(help),
    );
    report.verdict = Verdict::Fail;
    report.reason = message;
    None
}

/// One pod (None: not in the input) behind the Upstream.
fn endpoint(
    transport: &Transport,
    namespace: &str,
    target: &TargetPort,
    pod: Option<&Workload>,
    ctx: &Context,
) -> EndpointReport {
    let port = match (pod, target) {
        (Some(w), t) => w.resolve(t),
        (None, TargetPort::Number(n)) => Some(*n),
        (None, TargetPort::Name(_)) => None,
    };
    let presence = sidecar(pod, namespace, ctx.namespaces.get(namespace));
    let excluded = matches!((pod, port), (Some(w), Some(p)) if w.port_excluded(p));
    let explicit_label = pod.is_some_and(|w| w.labels.contains_key(TLS_MODE_LABEL));
    let decisions = ctx.policies.decide(namespace, pod.map(|w| &w.labels), port);
    let mut outcomes = Vec::new();
    for &has_sidecar in &presence.possible {
        for decision in &decisions {
            outcomes.push(judge(transport, has_sidecar, excluded, explicit_label, decision));
        }
    }
    let mut unknowns = Vec::new();
    if presence.possible.len() > 1 {
        unknowns.push(presence.why.clone());
    }
    if decisions.len() > 1 {
        unknowns.push(if pod.is_none() {
            format!("a workload PeerAuthentication of {namespace} may select the pods, which are not in the input")
        } else if port.is_none() {
            format!("the pod's port for targetPort `{target}` is not known, and port-level modes differ")
        } else {
            "several PeerAuthentications compete at one level and the input has no creationTimestamp to tell the oldest"
                .into()
        });
    }
    if port.is_none() && pod.is_some() {
        unknowns.push(format!("no container port of the pod is named `{target}`"));
    }
    // The verdict stands when every possible answer gives the same outcome.
    let first = outcomes.first().cloned().unwrap_or(Outcome::Ok);
    let same_failure = |code: &str| outcomes.iter().all(|o| matches!(o, Outcome::Fail(c, _) if *c == code));
    let (verdict, reason, code) = match first {
        Outcome::Fail(code, why) if same_failure(code) => (Verdict::Fail, why, Some(code)),
        first if outcomes.iter().all(|o| *o == first) => match first {
            Outcome::Unknown(why) => (Verdict::Unknown, why, None),
            _ => (Verdict::Ok, "accepted".to_string(), None),
        },
        _ => (Verdict::Unknown, unknowns.join("; "), None),
    };
    let (peer_mode, policy) = match decisions.as_slice() {
        [one] => (Some(one.mode), one.by.clone()),
        many => (
            None,
            format!(
                "one of: {}",
                many.iter()
                    .map(|d| format!("{} by {}", d.mode.as_str(), d.by))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    };
    EndpointReport {
        workload: pod.map(Workload::display),
        port,
        sidecar: presence.summary(),
        sidecar_reason: presence.why,
        excluded,
        peer_mode,
        policy,
        verdict,
        reason,
        code,
    }
}

/// One combination: a sidecar or not, and the mode the port gets.
fn judge(
    transport: &Transport,
    has_sidecar: bool,
    excluded: bool,
    explicit_label: bool,
    decision: &Decision,
) -> Outcome {
    // Istio's injector adds the tlsMode label to every pod it injects.
    let wire = transport.wire(has_sidecar || explicit_label);
    let (accepts_mtls, accepts_plain, refusal) = if !has_sidecar {
        (false, true, "the pod has no Istio sidecar".to_string())
    } else if excluded {
        (
            false,
            true,
            "the port is excluded from the sidecar (traffic.sidecar.istio.io inbound ports)".into(),
        )
    } else {
        match decision.mode {
            PeerMode::Strict => (true, false, String::new()),
            PeerMode::Permissive => (true, true, String::new()),
            PeerMode::Disable => (false, true, format!("{} is DISABLE", decision.by)),
        }
    };
    match wire {
        Wire::GatewaySidecar => {
            Outcome::Unknown("the gateway's own Istio sidecar and the DestinationRules decide the transport".into())
        }
        Wire::IstioMtls if accepts_mtls => Outcome::Ok,
        Wire::IstioMtls => {
            let code = if *transport == Transport::AutoMtls {
                code::ANALYZE_AUTOMTLS_REFUSED
            } else {
                code::ANALYZE_DISABLE_MTLS
            };
            Outcome::Fail(code, format!("Istio mTLS, but {refusal}"))
        }
        Wire::Plain if accepts_plain => Outcome::Ok,
        Wire::Plain => Outcome::Fail(
            code::ANALYZE_STRICT_PLAINTEXT,
            format!("plain text, but {} is STRICT", decision.by),
        ),
        Wire::Tls => Outcome::Unknown(
            "TLS without Istio's certificates: it works only if the app itself serves TLS and the sidecar lets it through".into(),
        ),
    }
}

/// The errors of the failing endpoints, one per code, and the GI050 note of unknown ones.
fn findings(u: &UpstreamSpec, transport: &Transport, report: &UpstreamReport, out: &mut Vec<Diagnostic>) {
    let name = u.display();
    let mut by_code: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for e in report.endpoints.iter().filter(|e| e.verdict == Verdict::Fail) {
        if let Some(code) = e.code {
            by_code.entry(code).or_default().push(where_(e));
        }
    }
    for (code, places) in by_code {
        let places = places.join("; ");
        let d = match code {
            code::ANALYZE_STRICT_PLAINTEXT => Diagnostic::error(
                code,
                format!("Upstream {name} sends plain text to pods that require mTLS ({places}): requests fail with 503 \"upstream connect error or disconnect/reset before headers\""),
            )
            .path("spec.sslConfig")
            .at(u.at("/spec"))
            .help(if *transport == Transport::Plaintext("auto-mTLS without enableIntegration") {
                "turn on Settings enableIntegration (global.istioIntegration.enabled), or give the Upstream the Istio sslConfig"
            } else {
                "give the Upstream the Istio sslConfig (gloo-istio render with mtls: istio-sds), or turn on auto-mTLS"
            }),
            code::ANALYZE_DISABLE_MTLS => Diagnostic::error(
                code,
                format!("Upstream {name} always sends Istio mTLS (its sslConfig), but the pods do not accept it ({places}): requests fail with 503"),
            )
            .path("spec.sslConfig")
            .at(u.at("/spec/sslConfig"))
            .help("remove the sslConfig and, while Settings turn on auto-mTLS, also set disableIstioAutoMtls: true (auto-mTLS would send Istio mTLS to every pod with a sidecar); or let these pods accept mTLS"),
            _ => Diagnostic::error(
                code,
                format!("Upstream {name} gets Gloo's auto-mTLS, which sends Istio mTLS to every pod labelled {TLS_MODE_LABEL} without reading PeerAuthentication, but the pods do not accept it ({places}): requests fail with 503"),
            )
            .path("spec.disableIstioAutoMtls")
            .at(u.at("/spec"))
            .help("set disableIstioAutoMtls: true on the Upstream (Gloo then sends plain text), or let these pods accept mTLS"),
        };
        out.push(d);
    }
    if report.verdict == Verdict::Unknown {
        let reasons: Vec<String> = report
            .endpoints
            .iter()
            .filter(|e| e.verdict == Verdict::Unknown)
            .map(|e| e.reason.clone())
            .filter(|r| !r.is_empty())
            .collect();
        let mut reasons = reasons;
        reasons.sort();
        reasons.dedup();
        if reasons.is_empty() || report.endpoints.iter().all(|e| e.workload.is_none()) {
            reasons = vec![report.reason.clone()];
        }
        out.push(
            Diagnostic::info(
                code::ANALYZE_UNKNOWN,
                format!("Upstream {name}: the verdict is unknown: {}", reasons.join("; ")),
            )
            .path("spec")
            .at(u.at("/metadata/name"))
            .help("add the missing manifests (Service, workloads, Namespace) to the input to get a verdict"),
        );
    }
}

fn where_(e: &EndpointReport) -> String {
    let pod = e.workload.clone().unwrap_or_else(|| "its pods".into());
    let port = e.port.map_or(String::new(), |p| format!(" port {p}"));
    format!("{pod}{port}: {}", e.reason)
}

/// GI030: the Upstream's line, for the formats that list findings only.
fn summary(u: &UpstreamSpec, report: &UpstreamReport, ctx: &Context, out: &mut Vec<Diagnostic>) {
    let mut text = format!("Upstream {}: {}", u.display(), report.transport_detail);
    if let Some(service) = &report.service {
        text.push_str(&format!(" -> {service}"));
    }
    for e in &report.endpoints {
        let mode = e.peer_mode.map_or("mode unknown", PeerMode::as_str);
        text.push_str(&format!(
            "; {}{}: sidecar {}, {mode} ({})",
            e.workload.as_deref().unwrap_or("pods not in the input"),
            e.port.map_or(String::new(), |p| format!(" port {p}")),
            e.sidecar,
            e.policy
        ));
    }
    text.push_str(&format!("; verdict {}", report.verdict.as_str()));
    let help = if ctx.settings.doc.is_some() {
        "transport chosen from the Upstream's sslConfig and the Settings istioOptions"
    } else {
        "no Gloo Settings of this install in the input: auto-mTLS assumed off (pass the Settings manifest to include it)"
    };
    out.push(
        Diagnostic::info(code::ANALYZE_TRANSPORT, text)
            .path("spec")
            .at(u.at("/metadata/name"))
            .help(help),
    );
}
