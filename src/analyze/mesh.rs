//! The mesh around the gateway: what Istio is installed as (an IstioOperator, istiod's Helm
//! values, a Flux HelmRelease of the istiod chart, the istiod Deployment, or the
//! `--istio-revision` and `--istio-version` flags) against what the gateway proxies are told,
//! and the Namespaces the gateway runs in.

use serde_json::{Value, json};

use super::Context;
use super::gateway::GatewayProxy;
use super::input::Doc;
use super::settings::SIDECAR_ON_GATEWAY_ENV;
use super::workloads::{INJECT, NAMESPACE_INJECTION, REVISION_LABEL, sidecar};
use crate::diag::{Diagnostic, Location, code};
use crate::values::label_selector::LabelSelector;

/// What the input says of the Istio installation.
#[derive(Default)]
pub(super) struct Mesh {
    /// Where it was read (`IstioOperator istio-system/x`, `--istio-revision`).
    pub source: Option<String>,
    pub location: Option<Location>,
    pub revision: Option<String>,
    pub version: Option<(u32, u32)>,
    pub mesh_id: Option<String>,
    pub cluster_name: Option<String>,
    pub discovery_selectors: Option<Vec<Value>>,
    pub namespace: Option<String>,
    pub root_namespace: Option<String>,
}

/// `1.22.0`, `1.22`, `1.22.0-distroless` → (1, 22).
pub(super) fn minor_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.trim_start_matches('v').split(['.', '-', '_']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn str_at(value: &Value, pointer: &str) -> Option<String> {
    match value.pointer(pointer)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Mesh {
    /// Fills what is still unknown from one source: the Helm-values shape of istiod (`values`)
    /// and its meshConfig.
    fn learn(&mut self, source: String, location: Option<Location>, values: &Value, mesh_config: Option<&Value>) {
        self.revision = self.revision.take().or_else(|| str_at(values, "/revision"));
        self.version = self
            .version
            .or_else(|| str_at(values, "/global/tag").and_then(|t| minor_version(&t)));
        self.mesh_id = self.mesh_id.take().or_else(|| str_at(values, "/global/meshID"));
        self.cluster_name = self
            .cluster_name
            .take()
            .or_else(|| str_at(values, "/global/multiCluster/clusterName"));
        if let Some(mc) = mesh_config {
            if self.discovery_selectors.is_none() {
                self.discovery_selectors = mc.get("discoverySelectors").and_then(Value::as_array).cloned();
            }
            self.root_namespace = self.root_namespace.take().or_else(|| str_at(mc, "/rootNamespace"));
        }
        if self.source.is_none() {
            self.source = Some(source);
            self.location = location;
        }
    }
}

/// The Istio installation as the flags and the input describe it; the flags win.
pub(super) fn read(docs: &[Doc], revision: Option<&str>, version: Option<&str>) -> Mesh {
    let mut mesh = Mesh {
        revision: revision.map(str::to_string),
        version: version.and_then(minor_version),
        ..Mesh::default()
    };
    if revision.is_some() || version.is_some() {
        mesh.source = Some("the --istio-revision/--istio-version flags".into());
    }
    for doc in docs {
        let ns = doc.namespace().unwrap_or("istio-system").to_string();
        if doc.is("install.istio.io", "IstioOperator") {
            let spec = doc.value.get("spec").cloned().unwrap_or(Value::Null);
            // The operator's own revision and tag, in the shape of istiod's Helm values.
            let mut values = spec
                .get("values")
                .cloned()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            if let Some(rev) = spec.get("revision") {
                values["revision"] = rev.clone();
            }
            if !values.get("global").is_some_and(Value::is_object) {
                values["global"] = json!({});
            }
            if let Some(tag) = spec.get("tag")
                && values.pointer("/global/tag").is_none()
            {
                values["global"]["tag"] = tag.clone();
            }
            mesh.namespace.get_or_insert(ns.clone());
            mesh.learn(
                format!("IstioOperator {ns}/{}", doc.name()),
                doc.at_key("/spec"),
                &values,
                spec.get("meshConfig"),
            );
        } else if doc.is("helm.toolkit.fluxcd.io", "HelmRelease") && doc.str("/spec/chart/spec/chart") == Some("istiod")
        {
            let values = doc.value.pointer("/spec/values").cloned().unwrap_or(Value::Null);
            let target = doc.str("/spec/targetNamespace").map_or(ns.clone(), str::to_string);
            mesh.namespace.get_or_insert(target);
            mesh.learn(
                format!("HelmRelease {ns}/{}", doc.name()),
                doc.at_key("/spec/values"),
                &values,
                values.get("meshConfig"),
            );
        } else if doc.kind().is_empty()
            && doc.value.is_object()
            && (doc.value.get("pilot").is_some()
                || doc.value.get("meshConfig").is_some()
                || doc.value.pointer("/global/meshID").is_some()
                || doc.value.pointer("/global/istioNamespace").is_some())
        {
            // istiod's Helm values, given as one more input file.
            if let Some(n) = str_at(&doc.value, "/global/istioNamespace") {
                mesh.namespace.get_or_insert(n);
            }
            mesh.learn(
                format!("istiod Helm values in {}", doc.source.name),
                doc.at("/global").or_else(|| doc.at("/meshConfig")),
                &doc.value,
                doc.value.get("meshConfig"),
            );
        } else if doc.is("apps", "Deployment") && doc.str("/metadata/labels/app") == Some("istiod") {
            let rev = doc
                .str("/metadata/labels/istio.io~1rev")
                .filter(|r| *r != "default")
                .map(str::to_string);
            let tag = doc
                .value
                .pointer("/spec/template/spec/containers")
                .and_then(Value::as_array)
                .and_then(|c| c.iter().find(|c| c["name"] == "discovery"))
                .and_then(|c| c.get("image"))
                .and_then(Value::as_str)
                .and_then(|image| image.rsplit_once(':').map(|(_, tag)| tag.to_string()));
            mesh.namespace.get_or_insert(ns.clone());
            let mut values = json!({"global": {}});
            if let Some(rev) = rev {
                values["revision"] = Value::String(rev);
            }
            if let Some(tag) = tag {
                values["global"]["tag"] = Value::String(tag);
            }
            mesh.learn(
                format!("Deployment {ns}/{}", doc.name()),
                doc.at_key("/metadata/name"),
                &values,
                None,
            );
        }
    }
    mesh
}

/// The checks of the mesh around the gateway (GI052–GI058).
pub(super) fn check(ctx: &Context, install_namespace: &str, out: &mut Vec<Diagnostic>) {
    let mesh = &ctx.mesh;
    let integrated: Vec<&GatewayProxy> = ctx.proxies.iter().filter(|p| p.istio_proxy.is_some()).collect();
    if mesh.source.is_some() {
        for proxy in &integrated {
            discovery_address(proxy, mesh, out);
            identities(proxy, mesh, out);
            proxy_version(proxy, mesh, out);
        }
        if !integrated.is_empty() {
            discovery_selectors(ctx, install_namespace, out);
        }
    }
    for proxy in &integrated {
        injection_collision(proxy, ctx, out);
    }
    hook_jobs(ctx, out);
    sidecar_on_gateway(ctx, out);
}

fn at(proxy: &GatewayProxy, pointer: &str) -> Option<Location> {
    proxy.doc.at(pointer)
}

/// The host of `istiod.istio-system.svc:15012` (or of a PROXY_CONFIG's discoveryAddress).
fn host(address: &str) -> &str {
    address.rsplit_once(':').map_or(address, |(h, _)| h)
}

fn discovery_address(proxy: &GatewayProxy, mesh: &Mesh, out: &mut Vec<Diagnostic>) {
    let ns = mesh.namespace.as_deref().unwrap_or("istio-system");
    let service = match mesh.revision.as_deref() {
        Some(rev) if !rev.is_empty() && rev != "default" => format!("istiod-{rev}"),
        _ => "istiod".to_string(),
    };
    let expected = format!("{service}.{ns}.svc");
    let mut addresses: Vec<(String, String)> = Vec::new();
    if let Some((ca, pointer)) = proxy.istio_env("CA_ADDR") {
        addresses.push((host(ca).to_string(), pointer));
    }
    if let Some((config, pointer)) = proxy.istio_env("PROXY_CONFIG")
        && let Ok(config) = serde_json::from_str::<Value>(config)
        && let Some(address) = config.get("discoveryAddress").and_then(Value::as_str)
    {
        addresses.push((host(address).to_string(), pointer));
    }
    for (found, pointer) in addresses {
        // Only an address of an in-cluster istiod can be checked; others may be remote.
        let in_cluster =
            found.starts_with("istiod") && (found.ends_with(".svc") || found.ends_with(".svc.cluster.local"));
        let same = found == expected || found == format!("{expected}.cluster.local");
        if in_cluster && !same {
            out.push(
                Diagnostic::error(
                    code::ANALYZE_DISCOVERY_ADDRESS,
                    format!(
                        "gateway proxy {} asks `{found}` for certificates, but {} installs istiod as `{expected}`: the Istio agent fails with \"no such host\" and the sds sidecar never gets certificates",
                        proxy.display(),
                        mesh.source.as_deref().unwrap_or("the mesh"),
                    ),
                )
                .at(at(proxy, &pointer))
                .help(format!(
                    "set global.istioIntegration.istioDiscoveryAddress (or the chart's istiod address keys) to {expected}:15012; a revision tag that keeps the `istiod` Service also works"
                )),
            );
            return;
        }
    }
}

fn identities(proxy: &GatewayProxy, mesh: &Mesh, out: &mut Vec<Diagnostic>) {
    for (env, expected, what) in [
        ("ISTIO_META_MESH_ID", &mesh.mesh_id, "meshID"),
        ("ISTIO_META_CLUSTER_ID", &mesh.cluster_name, "multiCluster.clusterName"),
    ] {
        let (Some(expected), Some((found, pointer))) = (expected, proxy.istio_env(env)) else {
            continue;
        };
        if found != expected {
            out.push(
                Diagnostic::warning(
                    code::ANALYZE_MESH_IDENTITY,
                    format!(
                        "gateway proxy {} says {env}={found}, but {} sets {what} `{expected}`: istiod serves it as another mesh or cluster, and multicluster routing and certificates break",
                        proxy.display(),
                        mesh.source.as_deref().unwrap_or("the mesh"),
                    ),
                )
                .at(at(proxy, &pointer))
                .help(format!("set the gateway proxy's {env} to `{expected}` (the chart's istioMetaMeshId / istioMetaClusterId)")),
            );
        }
    }
}

fn proxy_version(proxy: &GatewayProxy, mesh: &Mesh, out: &mut Vec<Diagnostic>) {
    let (Some(installed), Some((image, pointer))) = (mesh.version, proxy.istio_image()) else {
        return;
    };
    let tag = image.rsplit_once(':').map(|(_, t)| t).filter(|t| !t.contains('/'));
    let Some(found) = tag.and_then(minor_version) else {
        return;
    };
    if found != installed {
        out.push(
            Diagnostic::warning(
                code::ANALYZE_PROXY_VERSION,
                format!(
                    "gateway proxy {} runs {image}, but {} installs Istio {}.{}: an agent a minor or more away from istiod is outside Istio's supported skew",
                    proxy.display(),
                    mesh.source.as_deref().unwrap_or("the mesh"),
                    installed.0,
                    installed.1
                ),
            )
            .at(at(proxy, &pointer))
            .help(format!("use the proxyv2 image of Istio {}.{}", installed.0, installed.1)),
        );
    }
}

fn discovery_selectors(ctx: &Context, install_namespace: &str, out: &mut Vec<Diagnostic>) {
    let Some(selectors) = ctx.mesh.discovery_selectors.as_ref().filter(|s| !s.is_empty()) else {
        return;
    };
    let Some(ns) = ctx.namespaces.get(install_namespace) else {
        out.push(
            Diagnostic::info(
                code::ANALYZE_UNKNOWN,
                format!("istiod has discoverySelectors, and the Namespace {install_namespace} of the gateway is not in the input: whether istiod selects it is unknown"),
            )
            .at(ctx.mesh.location.clone())
            .help("add the Namespace manifest to the input"),
        );
        return;
    };
    // The name label is set by Kubernetes on every Namespace.
    let mut labels = ns.labels.clone();
    labels
        .entry("kubernetes.io/metadata.name".into())
        .or_insert_with(|| install_namespace.to_string());
    // A selector Kubernetes would refuse selects nothing.
    if !selectors
        .iter()
        .any(|s| LabelSelector::parse(s).is_ok_and(|s| s.selects(&labels)))
    {
        out.push(
            Diagnostic::error(
                code::ANALYZE_DISCOVERY_SELECTORS,
                format!(
                    "istiod's discoverySelectors ({}) do not select the gateway's namespace {install_namespace}: istiod never writes the istio-ca-root-cert ConfigMap there, and the gateway-proxy pods stay in FailedMount (istiod-ca-cert)",
                    ctx.mesh.source.as_deref().unwrap_or("the mesh")
                ),
            )
            .at(ns.doc.at_key("/metadata/labels").or_else(|| ns.doc.at_key("/metadata/name")))
            .help("label the namespace so that a discoverySelector selects it, or widen the discoverySelectors"),
        );
    }
}

fn injection_collision(proxy: &GatewayProxy, ctx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(ns) = ctx.namespaces.get(&proxy.namespace) else {
        return;
    };
    let injected = match (
        ns.labels.get(NAMESPACE_INJECTION).map(String::as_str),
        ns.labels.get(REVISION_LABEL),
    ) {
        (Some("enabled"), _) => Some(format!("{NAMESPACE_INJECTION}=enabled")),
        (None, Some(rev)) => Some(format!("{REVISION_LABEL}={rev}")),
        _ => None,
    };
    let choice = proxy.labels.get(INJECT).or_else(|| proxy.annotations.get(INJECT));
    if let (Some(label), None) = (injected, choice) {
        out.push(
            Diagnostic::error(
                code::ANALYZE_INJECTION_COLLISION,
                format!(
                    "gateway proxy {} runs the integration's istio-proxy container in namespace {} ({label}): Istio injects its own sidecar into the same pod, and it fails with PostStartHookError and CrashLoopBackOff",
                    proxy.display(),
                    proxy.namespace
                ),
            )
            .at(proxy.doc.at_key("/spec/template/metadata").or_else(|| proxy.doc.at_key("/metadata/name")))
            .help(format!(
                "label the gateway-proxy pods {INJECT}: \"false\" (global.istioIntegration.disableAutoinjection: true), or take the label off the namespace"
            )),
        );
    }
}

fn hook_jobs(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for job in ctx
        .workloads
        .iter()
        .filter(|w| w.kind == "Job" && w.doc.value.pointer("/metadata/annotations/helm.sh~1hook").is_some())
    {
        let Some(ns) = ctx.namespaces.get(&job.namespace) else {
            continue;
        };
        let presence = sidecar(Some(job), &job.namespace, Some(ns));
        if presence.possible == [true] {
            out.push(
                Diagnostic::warning(
                    code::ANALYZE_HOOK_JOB,
                    format!(
                        "Helm hook Job {}/{} gets Istio's sidecar ({}): the sidecar keeps running after the job's container exits, so the Job never completes and the Helm install or upgrade waits until it times out",
                        job.namespace, job.name, presence.why
                    ),
                )
                .at(job.doc.at_key("/metadata/name"))
                .help(format!("label the Job's pod template {INJECT}: \"false\"")),
            );
        }
    }
}

fn sidecar_on_gateway(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let hazard = "Gloo's auto-mTLS then sends plain text (Gloo leaves the tlsMode endpoint metadata out), the gateway's Istio sidecar rewrites the Host header of upstream requests, and DestinationRules apply to the gateway's traffic";
    if let Some((doc, pointer)) = &ctx.settings.sidecar_on_gateway {
        out.push(
            Diagnostic::warning(
                code::ANALYZE_SIDECAR_ON_GATEWAY,
                format!("the gloo Deployment sets {SIDECAR_ON_GATEWAY_ENV}=true, the sidecar on the gateway deprecated since Gloo 1.17: {hazard}"),
            )
            .at(doc.at(pointer))
            .help("turn off global.istioIntegration.enableIstioSidecarOnGateway and use the integration's sds sidecar with auto-mTLS"),
        );
        return;
    }
    for proxy in &ctx.proxies {
        let opted_in =
            proxy.labels.get(INJECT).map(String::as_str) == Some("true") || proxy.labels.contains_key(REVISION_LABEL);
        if opted_in {
            out.push(
                Diagnostic::warning(
                    code::ANALYZE_SIDECAR_ON_GATEWAY,
                    format!(
                        "gateway proxy {} asks for Istio's sidecar ({INJECT}: \"true\" or {REVISION_LABEL}), the sidecar on the gateway deprecated since Gloo 1.17: {hazard}",
                        proxy.display()
                    ),
                )
                .at(proxy.doc.at_key("/spec/template/metadata/labels"))
                .help("drop the label (global.istioIntegration.enableIstioSidecarOnGateway: false) and use the integration's sds sidecar with auto-mTLS"),
            );
        }
    }
}
