//! `analyze`: which transport Gloo uses for each Upstream, what the Upstream's pods accept
//! under Istio's peer authentication, and the mesh around the gateway, all from manifests.
//!
//! The rules and the Gloo and Istio sources they follow are in docs/analyze.md. The modules
//! follow the domain: `input` (documents with positions), `settings` (what Gloo runs with),
//! `workloads` (Services, pods, sidecars), `peer_auth` (Istio's composition), `transport`
//! (Gloo's decision and the sds plumbing), `gateway` (the gateway proxies), `discovery` (the
//! Upstreams Gloo writes itself), `upstream` (one Upstream against its pods) and `mesh` (the
//! Istio installation against the gateway).

mod discovery;
mod gateway;
mod input;
mod mesh;
mod peer_auth;
mod settings;
mod transport;
mod upstream;
mod workloads;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diag::{Diagnostic, SourceFile};

pub use peer_auth::PeerMode;
pub use upstream::{EndpointReport, UpstreamReport, Verdict};

/// Options of the analysis.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Istio's root namespace, where a PeerAuthentication without selector is mesh-wide; None:
    /// the IstioOperator's `meshConfig.rootNamespace`, else Istio's namespace, else `istio-system`.
    pub istio_root_namespace: Option<String>,
    /// The namespace of the Gloo install (whose Settings count), and of resources that do not
    /// name one.
    pub default_namespace: String,
    /// The revision istiod is installed as (`--istio-revision`), when the input does not say.
    pub istio_revision: Option<String>,
    /// The installed Istio version (`--istio-version`, `1.22`).
    pub istio_version: Option<String>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            istio_root_namespace: None,
            default_namespace: "gloo-system".into(),
            istio_revision: None,
            istio_version: None,
        }
    }
}

/// The outcome: one line per Upstream, then the findings.
#[derive(Debug, Clone)]
pub struct Report {
    pub upstreams: Vec<UpstreamReport>,
    pub findings: Vec<Diagnostic>,
}

impl Report {
    /// The JSON form: the Upstream lines and the findings.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "upstreams": self.upstreams,
            "findings": self.findings.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
        })
    }
}

impl UpstreamReport {
    /// One line, as `istioctl x describe` would put it: verdict, Upstream, transport, service,
    /// then per pod and port the peer mode, the policy that decided it and the sidecar.
    pub fn line(&self) -> String {
        let discovered = if self.discovered { " (discovered)" } else { "" };
        let mut line = format!(
            "{:<7} {}/{}{discovered}  {}",
            self.verdict.as_str().to_uppercase(),
            self.namespace,
            self.name,
            self.transport
        );
        if let Some(service) = &self.service {
            line.push_str(&format!(" -> {service}"));
        }
        let endpoints: Vec<String> = self
            .endpoints
            .iter()
            .map(|e| {
                let port = e.port.map_or("port ?".into(), |p| format!("port {p}"));
                let mode = e.peer_mode.map_or("?", PeerMode::as_str);
                format!(
                    "{} {port}: {mode} by {}, sidecar {}",
                    e.workload.as_deref().unwrap_or("pods not in input"),
                    e.policy,
                    e.sidecar
                )
            })
            .collect();
        if !endpoints.is_empty() {
            line.push_str(&format!("  [{}]", endpoints.join("; ")));
        }
        if !self.reason.is_empty() && self.verdict != Verdict::Ok {
            line.push_str(&format!("  {}", self.reason));
        }
        line
    }
}

/// Everything one analysis reads, indexed.
struct Context<'a> {
    settings: settings::GlooSettings<'a>,
    policies: peer_auth::Policies,
    services: BTreeMap<(String, String), workloads::Service<'a>>,
    workloads: Vec<workloads::Workload<'a>>,
    namespaces: BTreeMap<String, workloads::Namespace<'a>>,
    proxies: Vec<gateway::GatewayProxy<'a>>,
    mesh: mesh::Mesh,
}

/// Analyses the manifests of `sources`: the findings only.
pub fn analyze(sources: &[Arc<SourceFile>], options: &AnalyzeOptions) -> Vec<Diagnostic> {
    report(sources, options).findings
}

/// Analyses the manifests of `sources`.
pub fn report(sources: &[Arc<SourceFile>], options: &AnalyzeOptions) -> Report {
    let mut out = Vec::new();
    let docs = input::documents(sources, &mut out);
    let install = options.default_namespace.as_str();
    let mesh = mesh::read(
        &docs,
        options.istio_revision.as_deref(),
        options.istio_version.as_deref(),
    );
    let root = options
        .istio_root_namespace
        .clone()
        .or_else(|| mesh.root_namespace.clone())
        .or_else(|| mesh.namespace.clone())
        .unwrap_or_else(|| "istio-system".into());
    let ctx = Context {
        settings: settings::read(&docs, install, &mut out),
        policies: peer_auth::Policies::new(&docs, &root, install),
        services: workloads::services(&docs, install),
        workloads: workloads::workloads(&docs, install),
        namespaces: workloads::namespaces(&docs),
        proxies: gateway::gateway_proxies(&docs, install),
        mesh,
    };
    if let Some(s) = ctx.settings.doc
        && ctx.settings.auto_mtls
        && !ctx.settings.integration
    {
        out.push(
            Diagnostic::warning(
                crate::diag::code::ANALYZE_AUTOMTLS,
                "Settings turn on enableAutoMtls without enableIntegration: Gloo logs an error and sends plain text",
            )
            .path("spec.gloo.istioOptions.enableAutoMtls")
            .at(s.at("/spec/gloo/istioOptions/enableAutoMtls"))
            .help("set spec.gloo.istioOptions.enableIntegration: true (the chart does so with global.istioIntegration.enabled)"),
        );
    }
    transport::check_tls_mode_labels(&ctx.workloads, &ctx.settings, &mut out);
    mesh::check(&ctx, install, &mut out);

    let explicit: Vec<upstream::UpstreamSpec> = docs
        .iter()
        .filter(|d| d.is("gloo.solo.io", "Upstream"))
        .map(|d| upstream::UpstreamSpec::from_doc(d, install))
        .collect();
    let discovered = discovery::discovered(&ctx, &explicit, install);
    let upstreams = explicit
        .iter()
        .chain(&discovered)
        .map(|u| upstream::evaluate(u, &ctx, &mut out))
        .collect();
    Report {
        upstreams,
        findings: out,
    }
}
