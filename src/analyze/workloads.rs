//! The pods behind a Service, and whether Istio gives them a sidecar.
//!
//! A Service selects pods by label; the pods are the templates of the workloads in the input
//! (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and bare Pods). Whether a
//! pod gets Istio's sidecar is decided by Istio's injection webhook from the namespace's labels
//! and the pod's own label or annotation (docs/analyze.md, "Sidecars"); which inbound ports the
//! sidecar captures, by the pod's `traffic.sidecar.istio.io/*InboundPorts` annotations.

use std::collections::BTreeMap;

use serde_json::Value;

use super::input::{Doc, as_port, string_map};

/// The pod label and annotation with which a pod opts in or out of injection.
pub(super) const INJECT: &str = "sidecar.istio.io/inject";
/// The namespace label that turns injection on or off for a whole namespace.
pub(super) const NAMESPACE_INJECTION: &str = "istio-injection";
/// The namespace (or pod) label that asks a revision of istiod to inject.
pub(super) const REVISION_LABEL: &str = "istio.io/rev";
/// The pod label that Istio's injector sets and Gloo's auto-mTLS looks for.
pub(super) const TLS_MODE_LABEL: &str = "security.istio.io/tlsMode";
const EXCLUDE_INBOUND: &str = "traffic.sidecar.istio.io/excludeInboundPorts";
const INCLUDE_INBOUND: &str = "traffic.sidecar.istio.io/includeInboundPorts";

/// A Namespace of the input.
pub(super) struct Namespace<'a> {
    pub doc: &'a Doc,
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

pub(super) fn namespaces(docs: &[Doc]) -> BTreeMap<String, Namespace<'_>> {
    docs.iter()
        .filter(|d| d.is("", "Namespace"))
        .map(|d| {
            let ns = Namespace {
                doc: d,
                name: d.name().to_string(),
                labels: string_map(d.value.pointer("/metadata/labels")),
            };
            (ns.name.clone(), ns)
        })
        .collect()
}

/// A pod template of the input (or a bare Pod).
pub(super) struct Workload<'a> {
    pub doc: &'a Doc,
    pub kind: &'a str,
    pub namespace: String,
    pub name: String,
    /// JSON pointer of the pod template (`/spec/template`), empty for a Pod.
    pub template: &'static str,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl Workload<'_> {
    pub fn display(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }

    pub fn containers(&self) -> &[Value] {
        self.doc
            .value
            .pointer(&format!("{}/spec/containers", self.template))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The container port a Service's `targetPort` names, by number or by name.
    pub fn resolve(&self, target: &TargetPort) -> Option<u16> {
        match target {
            TargetPort::Number(n) => Some(*n),
            TargetPort::Name(name) => self.containers().iter().find_map(|c| {
                c.get("ports")?
                    .as_array()?
                    .iter()
                    .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
                    .and_then(|p| p.get("containerPort"))
                    .and_then(as_port)
            }),
        }
    }

    /// The pod's own choice of injection: its label, else its annotation.
    fn inject_choice(&self) -> Option<&str> {
        self.labels
            .get(INJECT)
            .or_else(|| self.annotations.get(INJECT))
            .map(String::as_str)
    }

    /// A sidecar written into the manifest itself (`istioctl kube-inject`). The integration's
    /// agent-only `istio-proxy` of a gateway proxy (DISABLE_ENVOY) intercepts nothing.
    fn has_injected_sidecar(&self) -> bool {
        self.containers().iter().any(|c| {
            c.get("name").and_then(Value::as_str) == Some("istio-proxy")
                && !c.get("env").and_then(Value::as_array).is_some_and(|env| {
                    env.iter().any(|e| {
                        e.get("name").and_then(Value::as_str) == Some("DISABLE_ENVOY")
                            && e.get("value").and_then(Value::as_str) == Some("true")
                    })
                })
        })
    }

    /// Whether the sidecar leaves inbound `port` alone: listed in excludeInboundPorts, or left
    /// out of an includeInboundPorts that is not `*`.
    pub fn port_excluded(&self, port: u16) -> bool {
        let listed = |key: &str| {
            self.annotations.get(key).map(|list| {
                list.split(',')
                    .map(str::trim)
                    .any(|p| p == "*" || p.parse::<u16>() == Ok(port))
            })
        };
        listed(EXCLUDE_INBOUND) == Some(true) || listed(INCLUDE_INBOUND) == Some(false)
    }
}

pub(super) fn workloads<'a>(docs: &'a [Doc], default_namespace: &str) -> Vec<Workload<'a>> {
    let mut out = Vec::new();
    for doc in docs {
        let template = match (doc.group(), doc.kind()) {
            ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch", "Job") => "/spec/template",
            ("batch", "CronJob") => "/spec/jobTemplate/spec/template",
            ("", "Pod") => "",
            _ => continue,
        };
        out.push(Workload {
            doc,
            kind: doc.kind(),
            namespace: doc.namespace().unwrap_or(default_namespace).to_string(),
            name: doc.name().to_string(),
            template,
            labels: string_map(doc.value.pointer(&format!("{template}/metadata/labels"))),
            annotations: string_map(doc.value.pointer(&format!("{template}/metadata/annotations"))),
        });
    }
    out
}

/// Whether a pod runs Istio's sidecar: the possible answers (one when the input decides it,
/// both when it does not) and why.
pub(super) struct Presence {
    pub possible: Vec<bool>,
    pub why: String,
}

impl Presence {
    fn known(value: bool, why: String) -> Self {
        Presence {
            possible: vec![value],
            why,
        }
    }

    fn unknown(why: String) -> Self {
        Presence {
            possible: vec![true, false],
            why,
        }
    }

    pub fn summary(&self) -> &'static str {
        match self.possible.as_slice() {
            [true] => "yes",
            [false] => "no",
            _ => "unknown",
        }
    }
}

/// Istio's injection decision for a pod (`pod` is None when its workload is not in the input)
/// in namespace `namespace_name`.
pub(super) fn sidecar(pod: Option<&Workload>, namespace_name: &str, namespace: Option<&Namespace>) -> Presence {
    if let Some(pod) = pod {
        if pod.has_injected_sidecar() {
            return Presence::known(true, "an istio-proxy container is in the manifest".into());
        }
        if pod.inject_choice() == Some("false") {
            return Presence::known(false, format!("the pod opts out ({INJECT}: \"false\")"));
        }
    }
    let pod_opts_in =
        pod.map(|p| p.labels.get(INJECT).map(String::as_str) == Some("true") || p.labels.contains_key(REVISION_LABEL));
    let Some(ns) = namespace else {
        return Presence::unknown(format!("namespace {namespace_name} is not in the input"));
    };
    match (
        ns.labels.get(NAMESPACE_INJECTION).map(String::as_str),
        ns.labels.get(REVISION_LABEL),
    ) {
        (Some("disabled"), _) => Presence::known(
            false,
            format!("namespace {namespace_name} has {NAMESPACE_INJECTION}=disabled"),
        ),
        (Some("enabled"), _) | (None, Some(_)) => {
            let label = match ns.labels.get(REVISION_LABEL) {
                Some(rev) if !ns.labels.contains_key(NAMESPACE_INJECTION) => format!("{REVISION_LABEL}={rev}"),
                _ => format!("{NAMESPACE_INJECTION}=enabled"),
            };
            if pod.is_some() {
                Presence::known(true, format!("namespace {namespace_name} has {label}"))
            } else {
                Presence::unknown(format!(
                    "namespace {namespace_name} has {label}, but the pods are not in the input (a pod may opt out)"
                ))
            }
        }
        _ => match pod_opts_in {
            Some(true) => Presence::known(true, "the pod opts in".into()),
            Some(false) => Presence::known(
                false,
                format!("namespace {namespace_name} is not labelled for injection"),
            ),
            None => Presence::unknown(format!(
                "namespace {namespace_name} is not labelled for injection, but the pods are not in the input (a pod may opt in)"
            )),
        },
    }
}

/// A Service's `targetPort`: a number, or the name of a container port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TargetPort {
    Number(u16),
    Name(String),
}

impl std::fmt::Display for TargetPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetPort::Number(n) => write!(f, "{n}"),
            TargetPort::Name(name) => write!(f, "{name}"),
        }
    }
}

pub(super) struct ServicePort {
    pub port: u16,
    pub target: TargetPort,
}

/// A Service of the input.
pub(super) struct Service<'a> {
    pub doc: &'a Doc,
    pub namespace: String,
    pub name: String,
    pub external_name: bool,
    /// None when the Service has no selector (its Endpoints are written by hand).
    pub selector: Option<BTreeMap<String, String>>,
    pub ports: Vec<ServicePort>,
}

pub(super) fn services<'a>(docs: &'a [Doc], default_namespace: &str) -> BTreeMap<(String, String), Service<'a>> {
    docs.iter()
        .filter(|d| d.is("", "Service"))
        .map(|d| {
            let ports = d
                .value
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|ports| {
                    ports
                        .iter()
                        .filter_map(|p| {
                            let port = p.get("port").and_then(as_port)?;
                            let target = match p.get("targetPort") {
                                Some(Value::String(s)) if s.parse::<u16>().is_err() => TargetPort::Name(s.clone()),
                                Some(v) => TargetPort::Number(as_port(v).unwrap_or(port)),
                                None => TargetPort::Number(port),
                            };
                            Some(ServicePort { port, target })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let selector = d
                .value
                .pointer("/spec/selector")
                .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
                .map(|s| string_map(Some(s)));
            let service = Service {
                doc: d,
                namespace: d.namespace().unwrap_or(default_namespace).to_string(),
                name: d.name().to_string(),
                external_name: d.str("/spec/type") == Some("ExternalName"),
                selector,
                ports,
            };
            ((service.namespace.clone(), service.name.clone()), service)
        })
        .collect()
}
