//! Names the chart derives from the values: cluster names, domains, Upstream names.

use crate::values::{Model, UpstreamValues};

/// The cluster domain (`k8s.clusterName`, default `cluster.local`).
pub fn cluster_domain(model: &Model) -> String {
    model
        .values
        .k8s
        .cluster_name
        .clone()
        .unwrap_or_else(|| "cluster.local".into())
}

/// The gloo xDS port (`gloo.deployment.xdsPort`, default 9977).
pub fn xds_port(model: &Model) -> u16 {
    model.values.gloo.deployment.xds_port.unwrap_or(9977)
}

/// The gloo REST xDS port (`gloo.deployment.restXdsPort`, default 9976).
pub fn rest_xds_port(model: &Model) -> u16 {
    model.values.gloo.deployment.rest_xds_port.unwrap_or(9976)
}

/// The name of the xDS cluster: `gloo.<ns>.svc.<domain>:<xdsPort>` (gateway-proxy-keys §4.2).
pub fn xds_cluster_name(model: &Model) -> String {
    format!(
        "gloo.{}.svc.{}:{}",
        model.namespace,
        cluster_domain(model),
        xds_port(model)
    )
}

/// The names of the static clusters the default bootstrap may define; extra clusters must not
/// reuse them.
pub fn chart_cluster_names(model: &Model) -> Vec<String> {
    let mut names = vec![xds_cluster_name(model)];
    names.extend(
        [
            "gateway_proxy_sds",
            "rest_xds_cluster",
            "wasm-cache",
            "access_log_cluster",
            "aws_sts_cluster",
            "admin_port_cluster",
        ]
        .map(String::from),
    );
    names
}

/// The Upstream's name: its own, or `<namespace>-<service>-<port>` as Gloo discovery names it.
pub fn upstream_name(upstream: &UpstreamValues) -> String {
    upstream
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{}", upstream.namespace, upstream.service, upstream.port))
}

/// A DNS-1123 label: at most 63 lower-case alphanumerics or '-', alphanumeric at both ends.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert!(is_dns_subdomain("default-productpage-9080"));
        assert!(is_dns_subdomain("a.b-c"));
        assert!(!is_dns_subdomain("Default"));
        assert!(!is_dns_subdomain("a..b"));
        assert!(!is_dns_label("a.b"));
    }
}
