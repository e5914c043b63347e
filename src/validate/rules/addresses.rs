//! The istiod addresses of each proxy (Istio spec §1.1, §7.1, §7.2).

use super::Ctx;
use crate::diag::{Diagnostic, code};
use crate::values::Proxy;

/// `host:port` with a non-empty host and a port number.
pub fn is_host_port(address: &str) -> bool {
    match address.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty()
                && !host
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '/' | '#' | '"' | '\'' | '{' | '}' | ','))
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        }
        None => false,
    }
}

/// For `istiod[-<rev>].<ns>.svc[.<domain>]:15012`, the revision (empty for none); `None` when
/// the address does not have that shape.
fn istiod_revision(address: &str) -> Option<String> {
    let (host, port) = address.rsplit_once(':')?;
    let labels: Vec<&str> = host.split('.').collect();
    if port != "15012" || labels.len() < 3 || labels[2] != "svc" || labels[1].is_empty() {
        return None;
    }
    match labels[0] {
        "istiod" => Some(String::new()),
        service => service
            .strip_prefix("istiod-")
            .filter(|r| !r.is_empty())
            .map(str::to_string),
    }
}

pub fn check(ctx: &mut Ctx) {
    if !ctx.model.default_istio_proxy() {
        return;
    }
    let proxies: Vec<Proxy> = ctx.model.proxies.clone();
    for proxy in &proxies {
        let discovery = proxy.values.istio_discovery_address.clone().unwrap_or_default();
        if discovery.is_empty() {
            let d = Diagnostic::error(
                code::ISTIO_ADDRESS,
                format!(
                    "proxy `{}` has no istioDiscoveryAddress, so PROXY_CONFIG and CA_ADDR would be empty",
                    proxy.key
                ),
            )
            .path(ctx.proxy_path(proxy, "/istioDiscoveryAddress"))
            .at(ctx.proxy_at(proxy, "/istioDiscoveryAddress"))
            .help("set it to the istiod service, e.g. istiod.istio-system.svc:15012");
            ctx.push(d);
        } else if !is_host_port(&discovery) {
            let d = Diagnostic::error(
                code::ISTIO_ADDRESS,
                format!("istioDiscoveryAddress `{discovery}` is not host:port"),
            )
            .path(ctx.proxy_path(proxy, "/istioDiscoveryAddress"))
            .at(ctx.proxy_at(proxy, "/istioDiscoveryAddress"))
            .help("write the istiod service and port, e.g. istiod.istio-system.svc:15012");
            ctx.push(d);
        } else {
            shape(ctx, proxy, "/istioDiscoveryAddress", &discovery);
        }
        if let Some(ca) = proxy
            .values
            .istio_spiffe_cert_provider_address
            .clone()
            .filter(|a| !a.is_empty())
        {
            if !is_host_port(&ca) {
                let d = Diagnostic::error(
                    code::ISTIO_ADDRESS,
                    format!("istioSpiffeCertProviderAddress `{ca}` is not host:port"),
                )
                .path(ctx.proxy_path(proxy, "/istioSpiffeCertProviderAddress"))
                .at(ctx.proxy_at(proxy, "/istioSpiffeCertProviderAddress"))
                .help("write the certificate provider's host and port, e.g. istiod.istio-system.svc:15012");
                ctx.push(d);
            } else if let (Some(ca_rev), Some(disc_rev)) = (istiod_revision(&ca), istiod_revision(&discovery))
                && ca_rev != disc_rev
            {
                // Istio spec §7.14: a second proxy overriding only the discovery address keeps
                // the first proxy's certificate provider.
                let d = Diagnostic::warning(
                    code::ISTIOD_ADDRESS,
                    format!("proxy `{}` gets certificates from `{ca}` but its configuration from `{discovery}`", proxy.key),
                )
                .path(ctx.proxy_path(proxy, "/istioSpiffeCertProviderAddress"))
                .at(ctx.proxy_at(proxy, "/istioSpiffeCertProviderAddress"))
                .help("set istioSpiffeCertProviderAddress on this proxy too (it is inherited from gatewayProxy), or remove it");
                ctx.push(d);
            }
        }
    }
}

fn shape(ctx: &mut Ctx, proxy: &Proxy, field: &str, address: &str) {
    match istiod_revision(address) {
        None => {
            let d = Diagnostic::warning(
                code::ISTIOD_ADDRESS,
                format!("`{address}` does not look like an istiod service address (istiod[-<revision>].<namespace>.svc:15012)"),
            )
            .path(ctx.proxy_path(proxy, field))
            .at(ctx.proxy_at(proxy, field))
            .help("fine for an external istiod; otherwise check the service name and the port (15012)");
            ctx.push(d);
        }
        Some(revision) => {
            let integration = &ctx.model.values.global.istio_integration;
            if let Some(tag) = integration.istio_sidecar_rev_tag.as_deref().filter(|t| !t.is_empty())
                && !revision.is_empty()
                && revision != tag
            {
                let d = Diagnostic::warning(
                    code::ISTIOD_ADDRESS,
                    format!("`{address}` is istiod revision `{revision}`, but istioSidecarRevTag is `{tag}`"),
                )
                .path(ctx.proxy_path(proxy, field))
                .at(ctx.proxy_at(proxy, field))
                .help("point both at the same control plane revision");
                ctx.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_addresses() {
        assert!(is_host_port("istiod.istio-system.svc:15012"));
        assert!(is_host_port("10.0.0.1:15012"));
        assert!(!is_host_port("istiod.istio-system.svc"));
        assert!(!is_host_port(":15012"));
        assert!(!is_host_port("a b: c"));
        assert!(!is_host_port("istiod:0"));
        assert!(!is_host_port("istiod:99999"));
    }

    #[test]
    fn istiod_revisions() {
        assert_eq!(istiod_revision("istiod.istio-system.svc:15012").as_deref(), Some(""));
        assert_eq!(
            istiod_revision("istiod-1-22.istio-system.svc.cluster.local:15012").as_deref(),
            Some("1-22")
        );
        assert_eq!(istiod_revision("istiod.istio-system.svc:15010"), None);
        assert_eq!(istiod_revision("pilot.example.com:15012"), None);
    }
}
