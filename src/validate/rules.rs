//! Checks that need the whole model: things the chart renders into broken or unsafe manifests
//! without a word (Istio spec §7, gateway-proxy-keys spec §7–8).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use crate::diag::{Diagnostic, Location, code};
use crate::render::names;
use crate::values::layers::{LoadedValues, dotted_path};
use crate::values::proxy::DEFAULT_PROXY;
use crate::values::{Model, Proxy};

/// Helm named templates of the chart that the `*Helper` keys may name (gateway-proxy-keys
/// spec §2.7): the four test helpers of the open-source chart.
pub const KNOWN_HELPERS: [&str; 4] = [
    "gloo.testcontainer",
    "gloo.testVolume",
    "gloo.testVolumeMount",
    "gloo.testlistener",
];

/// Runs every model-level rule.
pub fn check(model: &Model, loaded: &LoadedValues) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if model.values.gateway.update_values == Some(true) {
        out.push(
            Diagnostic::error(code::UNSUPPORTED, "`gateway.updateValues` needs the Helm template `gloo.updatevalues`, which the open-source chart does not define")
                .path("gateway.updateValues")
                .at(loaded.locate("/gateway/updateValues"))
                .help("remove the key; the chart itself fails to render with it"),
        );
    }
    for proxy in &model.proxies {
        istio_addresses(model, proxy, loaded, &mut out);
        helpers(proxy, loaded, &mut out);
        static_clusters(model, proxy, loaded, &mut out);
    }
    rev_tag(model, loaded, &mut out);
    upstreams(model, loaded, &mut out);
    if model.values.global.istio_integration.enable_auto_mtls == Some(true) && !model.settings_integration() {
        out.push(
            Diagnostic::warning(
                code::AUTOMTLS_INERT,
                "`enableAutoMtls` is on but `global.istioIntegration.enabled` is not, so Gloo's auto-mTLS does nothing",
            )
            .path("global.istioIntegration.enableAutoMtls")
            .at(loaded.locate("/global/istioIntegration/enableAutoMtls"))
            .help("set global.istioIntegration.enabled: true (istioSDS.enabled does not turn on Settings enableIntegration)"),
        );
    }
    out
}

/// Where a key of a proxy's effective values was written: on the proxy itself, or on
/// `gatewayProxy` it inherits from, or (failing both) the proxy's key.
pub fn locate_proxy_field(proxy: &Proxy, field_pointer: &str, loaded: &LoadedValues) -> Option<Location> {
    loaded
        .locate_exact(&format!("{}{field_pointer}", proxy.pointer))
        .or_else(|| loaded.locate_exact(&format!("/gatewayProxies/{DEFAULT_PROXY}{field_pointer}")))
        .or_else(|| loaded.locate_key(&proxy.pointer))
}

fn field_path(proxy: &Proxy, field_pointer: &str) -> String {
    dotted_path(&format!("{}{field_pointer}", proxy.pointer))
}

/// `host:port` with a non-empty host and a port number.
fn is_host_port(address: &str) -> bool {
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

fn istio_addresses(model: &Model, proxy: &Proxy, loaded: &LoadedValues, out: &mut Vec<Diagnostic>) {
    if !model.default_istio_proxy() {
        return;
    }
    let discovery = proxy.values.istio_discovery_address.as_deref().unwrap_or("");
    if discovery.is_empty() {
        out.push(
            Diagnostic::error(
                code::ISTIO_ADDRESS,
                format!(
                    "proxy `{}` has no istioDiscoveryAddress, so PROXY_CONFIG and CA_ADDR would be empty",
                    proxy.key
                ),
            )
            .path(field_path(proxy, "/istioDiscoveryAddress"))
            .at(locate_proxy_field(proxy, "/istioDiscoveryAddress", loaded))
            .help("set it to the istiod service, e.g. istiod.istio-system.svc:15012"),
        );
    } else if !is_host_port(discovery) {
        out.push(
            Diagnostic::error(
                code::ISTIO_ADDRESS,
                format!("istioDiscoveryAddress `{discovery}` is not host:port"),
            )
            .path(field_path(proxy, "/istioDiscoveryAddress"))
            .at(locate_proxy_field(proxy, "/istioDiscoveryAddress", loaded))
            .help("write the istiod service and port, e.g. istiod.istio-system.svc:15012"),
        );
    }
    if let Some(ca) = proxy
        .values
        .istio_spiffe_cert_provider_address
        .as_deref()
        .filter(|a| !a.is_empty())
        && !is_host_port(ca)
    {
        out.push(
            Diagnostic::error(
                code::ISTIO_ADDRESS,
                format!("istioSpiffeCertProviderAddress `{ca}` is not host:port"),
            )
            .path(field_path(proxy, "/istioSpiffeCertProviderAddress"))
            .at(locate_proxy_field(proxy, "/istioSpiffeCertProviderAddress", loaded))
            .help("write the certificate provider's host and port, e.g. istiod.istio-system.svc:15012"),
        );
    }
}

fn helpers(proxy: &Proxy, loaded: &LoadedValues, out: &mut Vec<Diagnostic>) {
    let v = &proxy.values;
    for (field, value) in [
        ("extraContainersHelper", &v.extra_containers_helper),
        ("extraInitContainersHelper", &v.extra_init_containers_helper),
        ("extraVolumeHelper", &v.extra_volume_helper),
        ("extraProxyVolumeMountHelper", &v.extra_proxy_volume_mount_helper),
        ("extraListenersHelper", &v.extra_listeners_helper),
    ] {
        let Some(name) = value.as_deref().filter(|n| !n.is_empty()) else {
            continue;
        };
        if !KNOWN_HELPERS.contains(&name) {
            out.push(
                Diagnostic::error(code::UNKNOWN_HELPER, format!("`{field}` names the Helm template `{name}`, which the chart does not define"))
                    .path(field_path(proxy, &format!("/{field}")))
                    .at(locate_proxy_field(proxy, &format!("/{field}"), loaded))
                    .help(format!(
                        "gloo-istio knows the chart's helpers {}; for your own containers, volumes and mounts use podTemplate.extraContainers, extraVolumes and extraProxyVolumeMounts",
                        KNOWN_HELPERS.join(", ")
                    )),
            );
        }
    }
}

/// Istio spec §7.18 and gateway-proxy-keys spec §8.8: extra clusters must not reuse a chart
/// cluster's name, and a STATIC cluster needs IP addresses (envoy rejects names there).
fn static_clusters(model: &Model, proxy: &Proxy, loaded: &LoadedValues, out: &mut Vec<Diagnostic>) {
    if proxy
        .values
        .config_map
        .as_ref()
        .and_then(|c| c.data.as_ref())
        .is_some_and(|d| !d.is_empty())
    {
        return;
    }
    let reserved = names::chart_cluster_names(model);
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let lists = [
        (
            "/tracing/cluster",
            proxy.values.tracing.as_ref().and_then(|t| t.cluster.as_ref()),
        ),
        ("/envoyStaticClusters", proxy.values.envoy_static_clusters.as_ref()),
    ];
    for (list_pointer, clusters) in lists {
        for (i, cluster) in clusters.into_iter().flatten().enumerate() {
            let pointer = format!("{list_pointer}/{i}");
            let name = cluster.get("name").and_then(Value::as_str).unwrap_or("");
            if reserved.iter().any(|r| r == name) {
                out.push(
                    Diagnostic::error(
                        code::DUPLICATE_CLUSTER,
                        format!("the extra cluster `{name}` has the name of a cluster the bootstrap already defines"),
                    )
                    .path(field_path(proxy, &format!("{pointer}/name")))
                    .at(locate_proxy_field(proxy, &format!("{pointer}/name"), loaded))
                    .help("give the cluster another name; envoy rejects two clusters of one name"),
                );
            } else if let Some(first) = seen.insert(name.to_string(), pointer.clone()) {
                out.push(
                    Diagnostic::error(
                        code::DUPLICATE_CLUSTER,
                        format!(
                            "two extra clusters are named `{name}` ({} and {})",
                            dotted_path(&first),
                            dotted_path(&pointer)
                        ),
                    )
                    .path(field_path(proxy, &format!("{pointer}/name")))
                    .at(locate_proxy_field(proxy, &format!("{pointer}/name"), loaded))
                    .help("give each cluster its own name"),
                );
            }
            let cluster_type = cluster.get("type").and_then(Value::as_str).unwrap_or("STATIC");
            if cluster_type != "STATIC" {
                continue;
            }
            for (address_pointer, address) in socket_addresses(cluster) {
                if address.parse::<IpAddr>().is_err() {
                    let full = format!("{pointer}{address_pointer}");
                    out.push(
                        Diagnostic::error(
                            code::STATIC_CLUSTER_NOT_IP,
                            format!("the STATIC cluster `{name}` points at `{address}`, which is not an IP address"),
                        )
                        .path(field_path(proxy, &full))
                        .at(locate_proxy_field(proxy, &full, loaded))
                        .help("envoy resolves no names in STATIC clusters: use an IP address, or `type: STRICT_DNS`"),
                    );
                }
            }
        }
    }
}

/// Every `load_assignment…socket_address.address` of a cluster, with its pointer.
fn socket_addresses(cluster: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(endpoints) = cluster
        .get("load_assignment")
        .and_then(|l| l.get("endpoints"))
        .and_then(Value::as_array)
    else {
        return out;
    };
    for (e, endpoint) in endpoints.iter().enumerate() {
        let Some(lb_endpoints) = endpoint.get("lb_endpoints").and_then(Value::as_array) else {
            continue;
        };
        for (l, lb) in lb_endpoints.iter().enumerate() {
            if let Some(address) = lb
                .pointer("/endpoint/address/socket_address/address")
                .and_then(Value::as_str)
            {
                out.push((
                    format!("/load_assignment/endpoints/{e}/lb_endpoints/{l}/endpoint/address/socket_address/address"),
                    address.to_string(),
                ));
            }
        }
    }
    out
}

/// A Kubernetes label value: at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both
/// ends (or empty).
pub fn is_label_value(value: &str) -> bool {
    value.is_empty()
        || (value.len() <= 63
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && value.chars().last().is_some_and(|c| c.is_ascii_alphanumeric()))
}

fn rev_tag(model: &Model, loaded: &LoadedValues, out: &mut Vec<Diagnostic>) {
    let Some(tag) = model.values.global.istio_integration.istio_sidecar_rev_tag.as_deref() else {
        return;
    };
    {
        if !is_label_value(tag) {
            out.push(
                Diagnostic::error(code::INVALID_VALUE, format!("istioSidecarRevTag `{tag}` is not a valid label value, so Kubernetes would reject the pod label istio.io/rev"))
                    .path("global.istioIntegration.istioSidecarRevTag")
                    .at(loaded.locate("/global/istioIntegration/istioSidecarRevTag"))
                    .help("use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"),
            );
        }
    }
}

fn upstreams(model: &Model, loaded: &LoadedValues, out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, upstream) in model.values.upstreams.iter().enumerate() {
        let pointer = format!("/upstreams/{i}");
        let name = names::upstream_name(upstream);
        if !names::is_dns_subdomain(&name) {
            let field = if upstream.name.is_some() { "/name" } else { "" };
            out.push(
                Diagnostic::error(
                    code::UPSTREAM,
                    format!("`{name}` is not a valid Kubernetes resource name"),
                )
                .path(dotted_path(&format!("{pointer}{field}")))
                .at(loaded.locate(&format!("{pointer}{field}")))
                .help("use lower-case letters, digits, '-' and '.', at most 253 characters"),
            );
        }
        for (field, value) in [("service", &upstream.service), ("namespace", &upstream.namespace)] {
            if !names::is_dns_label(value) {
                out.push(
                    Diagnostic::error(
                        code::UPSTREAM,
                        format!("`{value}` is not a valid Kubernetes {field} name"),
                    )
                    .path(dotted_path(&format!("{pointer}/{field}")))
                    .at(loaded.locate(&format!("{pointer}/{field}")))
                    .help("use at most 63 lower-case letters, digits and '-'"),
                );
            }
        }
        if upstream.port == 0 {
            out.push(
                Diagnostic::error(code::UPSTREAM, "the Upstream port must be between 1 and 65535")
                    .path(dotted_path(&format!("{pointer}/port")))
                    .at(loaded.locate(&format!("{pointer}/port"))),
            );
        }
        if let Some(first) = seen.insert(name.clone(), i) {
            out.push(
                Diagnostic::error(
                    code::UPSTREAM,
                    format!("upstreams[{first}] and upstreams[{i}] are both named `{name}`"),
                )
                .path(dotted_path(&pointer))
                .at(loaded.locate(&pointer))
                .help("give one of them a `name:`"),
            );
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
    fn label_values() {
        assert!(is_label_value("canary"));
        assert!(is_label_value("1-22"));
        assert!(!is_label_value("-canary"));
        assert!(!is_label_value("a b"));
        assert!(!is_label_value(&"x".repeat(64)));
    }
}
