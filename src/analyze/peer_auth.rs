//! Istio's PeerAuthentication composition: which mTLS mode a workload's port accepts.
//!
//! The rules, with the Istio source that implements each, are in docs/analyze.md
//! ("Peer authentication"): a workload policy beats the namespace-wide one, which beats the
//! mesh-wide one of the root namespace; within a level the oldest wins; a level without a mode
//! inherits from the level above; port-level modes come from the workload policy only, keyed
//! on the pod's port; selector policies in the root namespace apply to nothing; with nothing
//! set the mode is PERMISSIVE.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::input::{Doc, as_port, selects, string_map};

/// A peer authentication mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PeerMode {
    Strict,
    Permissive,
    Disable,
}

impl PeerMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PeerMode::Strict => "STRICT",
            PeerMode::Permissive => "PERMISSIVE",
            PeerMode::Disable => "DISABLE",
        }
    }

    /// UNSET, a missing mode and an unknown one all inherit.
    fn parse(value: Option<&Value>) -> Option<PeerMode> {
        match value.and_then(Value::as_str) {
            Some("STRICT") => Some(PeerMode::Strict),
            Some("PERMISSIVE") => Some(PeerMode::Permissive),
            Some("DISABLE") => Some(PeerMode::Disable),
            _ => None,
        }
    }
}

/// One PeerAuthentication of the input.
pub(super) struct Policy {
    pub namespace: String,
    pub name: String,
    selector: BTreeMap<String, String>,
    mode: Option<PeerMode>,
    ports: BTreeMap<u16, Option<PeerMode>>,
    created: Option<String>,
}

/// A mode and the policy that decided it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Decision {
    pub mode: PeerMode,
    pub by: String,
}

/// The PeerAuthentications of the input and Istio's root namespace.
pub(super) struct Policies {
    list: Vec<Policy>,
    root: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Mesh,
    Namespace,
    Workload,
}

impl Policies {
    pub fn new(docs: &[Doc], root: &str, default_namespace: &str) -> Policies {
        let list = docs
            .iter()
            .filter(|d| d.is("security.istio.io", "PeerAuthentication"))
            .map(|d| Policy {
                namespace: d.namespace().unwrap_or(default_namespace).to_string(),
                name: d.name().to_string(),
                selector: string_map(d.value.pointer("/spec/selector/matchLabels")),
                mode: PeerMode::parse(d.value.pointer("/spec/mtls/mode")),
                ports: d
                    .value
                    .pointer("/spec/portLevelMtls")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .filter_map(|(port, v)| {
                                let port = as_port(&Value::String(port.clone()))?;
                                Some((port, PeerMode::parse(v.get("mode"))))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                created: d.str("/metadata/creationTimestamp").map(str::to_string),
            })
            .collect();
        Policies {
            list,
            root: root.to_string(),
        }
    }

    fn level(&self, p: &Policy) -> Option<Level> {
        match (p.selector.is_empty(), p.namespace == self.root) {
            (true, true) => Some(Level::Mesh),
            (true, false) => Some(Level::Namespace),
            (false, false) => Some(Level::Workload),
            // A selector policy in the root namespace applies to no workload.
            (false, true) => None,
        }
    }

    /// The modes `port` of a pod in `namespace` may accept: one when the input decides it.
    /// `labels` is None when the pod is not in the input, `port` None when the pod's port is
    /// not known; each unknown widens the answer to every policy that could apply.
    pub fn decide(
        &self,
        namespace: &str,
        labels: Option<&BTreeMap<String, String>>,
        port: Option<u16>,
    ) -> Vec<Decision> {
        let candidates = |level: Level| -> Vec<&Policy> {
            self.list
                .iter()
                .filter(|p| self.level(p) == Some(level))
                .filter(|p| match level {
                    Level::Mesh => true,
                    Level::Namespace => p.namespace == namespace,
                    Level::Workload => p.namespace == namespace && labels.is_none_or(|l| selects(&p.selector, l)),
                })
                .collect()
        };
        let mesh = pick(candidates(Level::Mesh), false);
        let namespace_wide = pick(candidates(Level::Namespace), false);
        let workload = pick(candidates(Level::Workload), labels.is_none());
        let mut out = Vec::new();
        for m in &mesh {
            for n in &namespace_wide {
                for w in &workload {
                    compose(*m, *n, *w, port, &mut out);
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The policies a level may select: the oldest one (Istio breaks ties by name, then
/// namespace); every one when a timestamp is missing, as the cluster sets it at creation; and
/// none as well when `maybe_none` (the pod's labels are unknown).
fn pick(mut candidates: Vec<&Policy>, maybe_none: bool) -> Vec<Option<&Policy>> {
    let mut out: Vec<Option<&Policy>> = Vec::new();
    if candidates.is_empty() || maybe_none {
        out.push(None);
    }
    if maybe_none || (candidates.len() > 1 && candidates.iter().any(|p| p.created.is_none())) {
        out.extend(candidates.into_iter().map(Some));
        return out;
    }
    candidates.sort_by(|a, b| (&a.created, &a.name, &a.namespace).cmp(&(&b.created, &b.name, &b.namespace)));
    if let Some(oldest) = candidates.first() {
        out.push(Some(oldest));
    }
    out
}

fn compose(
    mesh: Option<&Policy>,
    namespace: Option<&Policy>,
    workload: Option<&Policy>,
    port: Option<u16>,
    out: &mut Vec<Decision>,
) {
    let mut decision = Decision {
        mode: PeerMode::Permissive,
        by: "no PeerAuthentication sets a mode (Istio's default)".into(),
    };
    for (policy, scope) in [
        (mesh, "mesh-wide"),
        (namespace, "namespace-wide"),
        (workload, "workload"),
    ] {
        if let Some(p) = policy
            && let Some(mode) = p.mode
        {
            decision = Decision {
                mode,
                by: format!("PeerAuthentication {}/{} ({scope})", p.namespace, p.name),
            };
        }
    }
    let Some(w) = workload else {
        out.push(decision);
        return;
    };
    let port_mode = |mode: Option<PeerMode>, port: u16| match mode {
        Some(mode) => Decision {
            mode,
            by: format!("PeerAuthentication {}/{} (port {port})", w.namespace, w.name),
        },
        None => decision.clone(),
    };
    match port {
        Some(port) => out.push(match w.ports.get(&port) {
            Some(mode) => port_mode(*mode, port),
            None => decision.clone(),
        }),
        None => {
            out.extend(w.ports.iter().map(|(port, mode)| port_mode(*mode, *port)));
            out.push(decision);
        }
    }
}
