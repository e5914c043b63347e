//! Label values Kubernetes would reject, and values that survive only because we quote them
//! (Istio spec §7.1).

use super::Ctx;
use crate::diag::{Diagnostic, code};

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

/// Whether a label or annotation key is within the lengths Kubernetes allows: an optional DNS
/// subdomain prefix of at most 253 characters, `/`, and a name of at most 63.
fn key_fits(key: &str) -> bool {
    let (prefix, name) = key.split_once('/').unwrap_or(("", key));
    prefix.len() <= 253 && name.len() <= 63
}

/// The error for a label or annotation `key` (a `what` such as "pod label") that is longer than
/// Kubernetes allows.
fn key_too_long(what: &str, key: &str) -> Diagnostic {
    let shown: String = key.chars().take(80).collect();
    Diagnostic::error(
        code::LABEL_VALUE,
        format!(
            "{what} key `{shown}{}` ({} characters) is longer than Kubernetes allows",
            if shown.len() < key.len() { "…" } else { "" },
            key.chars().count()
        ),
    )
    .help("a key is an optional prefix of at most 253 characters (a DNS subdomain), `/`, and a name of at most 63")
}

/// Whether an unquoted YAML scalar with this text would not be a string (`true`, `123`, `~`).
fn looks_like_non_string(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~" | ""
    ) || value.parse::<f64>().is_ok()
        || (lower.starts_with("0x") && i64::from_str_radix(&lower[2..], 16).is_ok())
}

pub fn check(ctx: &mut Ctx) {
    let integration = ctx.model.values.global.istio_integration.clone();
    if let Some(tag) = integration.istio_sidecar_rev_tag.as_deref() {
        if !is_label_value(tag) {
            let d = Diagnostic::error(code::LABEL_VALUE, format!("istioSidecarRevTag `{tag}` is not a valid label value, so Kubernetes would reject the label istio.io/rev"))
                .path("global.istioIntegration.istioSidecarRevTag")
                .at(ctx.at("/global/istioIntegration/istioSidecarRevTag"))
                .help("use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit");
            ctx.push(d);
        } else if looks_like_non_string(tag) {
            let d = Diagnostic::warning(code::LABEL_VALUE, format!("istioSidecarRevTag `{tag}` reads as a number or boolean where the chart writes it unquoted"))
                .path("global.istioIntegration.istioSidecarRevTag")
                .at(ctx.at("/global/istioIntegration/istioSidecarRevTag"))
                .help("gloo-istio quotes it, but the Helm chart would render a label Kubernetes rejects; prefer a name such as rev-123");
            ctx.push(d);
        }
    }
    for (key, value) in ctx.model.values.global.additional_labels.clone().unwrap_or_default() {
        // The labels of every workload and ConfigMap, checked as extraGatewayProxyLabels are.
        let pointer = format!("/global/additionalLabels/{}", key.replace('~', "~0").replace('/', "~1"));
        if !key_fits(&key) {
            let d = key_too_long("additional label", &key)
                .path(format!("global.additionalLabels.{key}"))
                .at(ctx.at_key(&pointer));
            ctx.push(d);
        }
        if !is_label_value(&value) {
            let d = Diagnostic::error(
                code::LABEL_VALUE,
                format!("additional label `{key}: {value}` has a value Kubernetes rejects"),
            )
            .path(format!("global.additionalLabels.{key}"))
            .at(ctx.at(&pointer))
            .help("use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit");
            ctx.push(d);
        }
        if matches!(key.as_str(), "app" | "gloo" | "gateway-proxy-id") {
            let pointer = format!("/global/additionalLabels/{key}");
            let d = Diagnostic::error(
                code::LABEL_VALUE,
                format!("additional label `{key}` is set by the chart itself; the chart writes the key twice"),
            )
            .path(format!("global.additionalLabels.{key}"))
            .at(ctx.at_key(&pointer))
            .help("remove it");
            ctx.push(d);
        }
    }
    let proxies = ctx.model.proxies.clone();
    for proxy in &proxies {
        if let Some(namespace) = proxy
            .values
            .namespace
            .as_deref()
            .filter(|n| !n.is_empty() && !crate::values::names::is_dns_label(n))
        {
            let d = Diagnostic::error(
                code::INVALID_VALUE,
                format!("`{namespace}` is not a valid Kubernetes namespace"),
            )
            .path(ctx.proxy_path(proxy, "/namespace"))
            .at(ctx.proxy_at(proxy, "/namespace"))
            .help("use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit");
            ctx.push(d);
        }
        let annotations = proxy
            .values
            .pod_template
            .as_ref()
            .and_then(|t| t.extra_annotations.clone())
            .unwrap_or_default();
        for key in annotations.keys() {
            if !key_fits(key) {
                let pointer = format!(
                    "/podTemplate/extraAnnotations/{}",
                    key.replace('~', "~0").replace('/', "~1")
                );
                let d = key_too_long("pod annotation", key)
                    .path(ctx.proxy_path(proxy, &pointer))
                    .at(ctx.proxy_at(proxy, &pointer));
                ctx.push(d);
            }
            let chart_key = key.starts_with("prometheus.io/")
                || key.starts_with("readconfig-")
                || key.starts_with("checksum/")
                || key == "traffic.sidecar.istio.io/excludeInboundPorts"
                || key.starts_with("ad.datadoghq.com/gateway-proxy.");
            if chart_key {
                let pointer = format!(
                    "/podTemplate/extraAnnotations/{}",
                    key.replace('~', "~0").replace('/', "~1")
                );
                let d = Diagnostic::error(
                    code::LABEL_VALUE,
                    format!("pod annotation `{key}` is one the chart sets itself; the chart writes the key twice"),
                )
                .path(ctx.proxy_path(proxy, &pointer))
                .at(ctx.proxy_at(proxy, &pointer))
                .help("remove it, or use the values key that controls it (stats, readConfig, glooStats)");
                ctx.push(d);
            }
        }
        for field in ["istioMetaMeshId", "istioMetaClusterId"] {
            let value = match field {
                "istioMetaMeshId" => proxy.values.istio_meta_mesh_id.as_deref(),
                _ => proxy.values.istio_meta_cluster_id.as_deref(),
            };
            if let Some(value) = value.filter(|v| !v.is_empty() && looks_like_non_string(v)) {
                let pointer = format!("/{field}");
                let d = Diagnostic::warning(
                    code::LABEL_VALUE,
                    format!("{field} `{value}` reads as a number or boolean where the chart writes it unquoted"),
                )
                .path(ctx.proxy_path(proxy, &pointer))
                .at(ctx.proxy_at(proxy, &pointer))
                .help(
                    "gloo-istio quotes it, but the Helm chart renders an env value Kubernetes rejects; prefer a name",
                );
                ctx.push(d);
            }
        }
        let labels = proxy
            .values
            .pod_template
            .as_ref()
            .and_then(|t| t.extra_gateway_proxy_labels.clone())
            .unwrap_or_default();
        for (key, value) in &labels {
            if !key_fits(key) {
                let pointer = format!(
                    "/podTemplate/extraGatewayProxyLabels/{}",
                    key.replace('~', "~0").replace('/', "~1")
                );
                let d = key_too_long("pod label", key)
                    .path(ctx.proxy_path(proxy, &pointer))
                    .at(ctx.proxy_at(proxy, &pointer));
                ctx.push(d);
            }
            if !is_label_value(value) {
                let pointer = format!(
                    "/podTemplate/extraGatewayProxyLabels/{}",
                    key.replace('~', "~0").replace('/', "~1")
                );
                let d = Diagnostic::error(
                    code::LABEL_VALUE,
                    format!("pod label `{key}: {value}` has a value Kubernetes rejects"),
                )
                .path(ctx.proxy_path(proxy, &pointer))
                .at(ctx.proxy_at(proxy, &pointer))
                .help("use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit");
                ctx.push(d);
            }
            if matches!(
                key.as_str(),
                "gloo" | "gateway-proxy-id" | "gateway-proxy" | "sidecar.istio.io/inject" | "istio.io/rev"
            ) {
                let pointer = format!(
                    "/podTemplate/extraGatewayProxyLabels/{}",
                    key.replace('~', "~0").replace('/', "~1")
                );
                let d = Diagnostic::error(
                    code::LABEL_VALUE,
                    format!("pod label `{key}` is set by the chart itself; the chart writes the key twice"),
                )
                .path(ctx.proxy_path(proxy, &pointer))
                .at(ctx.proxy_at(proxy, &pointer))
                .help("remove it: the Service selects pods by this label");
                ctx.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values() {
        assert!(is_label_value("canary"));
        assert!(is_label_value("1-22"));
        assert!(!is_label_value("-canary"));
        assert!(!is_label_value("a b"));
        assert!(!is_label_value(&"x".repeat(64)));
    }

    #[test]
    fn key_lengths() {
        assert!(key_fits("app"));
        assert!(key_fits(&format!("{}/{}", "p".repeat(253), "n".repeat(63))));
        assert!(!key_fits(&format!("{}/n", "p".repeat(254))));
        assert!(!key_fits(&format!("example.com/{}", "n".repeat(64))));
        assert!(!key_fits(&"k".repeat(1100)));
    }

    #[test]
    fn non_strings() {
        for v in ["true", "123", "1e3", "0x10", "~", "On"] {
            assert!(looks_like_non_string(v), "{v}");
        }
        for v in ["canary", "mesh1", "1-22"] {
            assert!(!looks_like_non_string(v), "{v}");
        }
    }
}
