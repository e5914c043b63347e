//! The Upstreams Gloo's discovery writes: with discovery on, one per port of every Service
//! (`<namespace>-<service>-<port>`, in the install's namespace). They are not in Git, yet they
//! carry traffic like the others, so they are checked like the others.

use serde_json::json;

use super::Context;
use super::upstream::UpstreamSpec;

/// Namespaces whose Services Gloo's discovery skips.
const SKIPPED_NAMESPACES: [&str; 2] = ["kube-system", "kube-public"];

/// The Upstreams discovery would write for the Services of the input that no Upstream of the
/// input already covers (by name, or by service, namespace and port).
pub(super) fn discovered<'a>(
    ctx: &Context<'a>,
    explicit: &[UpstreamSpec],
    install_namespace: &str,
) -> Vec<UpstreamSpec<'a>> {
    if !ctx.settings.discovery {
        return Vec::new();
    }
    let covered = |ns: &str, name: &str, port: u16, upstream_name: &str| {
        explicit.iter().any(|u| {
            (u.namespace == install_namespace && u.name == upstream_name)
                || (u.spec.pointer("/kube/serviceName").and_then(|v| v.as_str()) == Some(name)
                    && u.spec.pointer("/kube/serviceNamespace").and_then(|v| v.as_str()) == Some(ns)
                    && u.spec.pointer("/kube/servicePort").and_then(super::input::as_port) == Some(port))
        })
    };
    let mut out = Vec::new();
    for service in ctx.services.values() {
        if SKIPPED_NAMESPACES.contains(&service.namespace.as_str()) || service.external_name {
            continue;
        }
        for port in &service.ports {
            // Gloo's name: namespace, service and port joined by dashes, dots made dashes.
            let name = format!("{}-{}-{}", service.namespace, service.name, port.port).replace('.', "-");
            if covered(&service.namespace, &service.name, port.port, &name) {
                continue;
            }
            out.push(UpstreamSpec {
                doc: None,
                namespace: install_namespace.to_string(),
                name,
                spec: json!({"kube": {
                    "serviceName": service.name,
                    "serviceNamespace": service.namespace,
                    "servicePort": port.port,
                }}),
                discovered: true,
                at: service.doc.at_key("/metadata/name"),
            });
        }
    }
    out
}
