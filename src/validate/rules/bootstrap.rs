//! The envoy bootstrap: extra clusters, helper templates, custom bootstraps (Istio spec §7.18,
//! gateway-proxy-keys spec §2.7, §8.8).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use super::Ctx;
use crate::diag::{Diagnostic, code};
use crate::values::Proxy;
use crate::values::names;

/// Helm named templates of the chart that the `*Helper` keys may name: the four test helpers of
/// the open-source chart.
pub const KNOWN_HELPERS: [&str; 4] = [
    "gloo.testcontainer",
    "gloo.testVolume",
    "gloo.testVolumeMount",
    "gloo.testlistener",
];

pub fn check(ctx: &mut Ctx) {
    let proxies = ctx.model.proxies.clone();
    for proxy in &proxies {
        helpers(ctx, proxy);
        match proxy
            .values
            .config_map
            .as_ref()
            .and_then(|c| c.data.as_ref())
            .filter(|d| !d.is_empty())
        {
            Some(data) => custom_bootstrap(ctx, proxy, data),
            None => {
                static_clusters(ctx, proxy);
                static_layer(ctx, proxy);
            }
        }
    }
}

fn helpers(ctx: &mut Ctx, proxy: &Proxy) {
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
            let pointer = format!("/{field}");
            let d = Diagnostic::error(code::UNKNOWN_HELPER, format!("`{field}` names the Helm template `{name}`, which the chart does not define"))
                .path(ctx.proxy_path(proxy, &pointer))
                .at(ctx.proxy_at(proxy, &pointer))
                .help(format!(
                    "gloo-istio knows the chart's helpers {}; for your own containers, volumes and mounts use podTemplate.extraContainers, extraVolumes and extraProxyVolumeMounts",
                    KNOWN_HELPERS.join(", ")
                ));
            ctx.push(d);
        }
    }
}

/// A custom bootstrap must be one YAML mapping, as envoy reads it; and (Istio spec §7.18) it
/// replaces the whole default, `gateway_proxy_sds` included.
fn custom_bootstrap(ctx: &mut Ctx, proxy: &Proxy, data: &BTreeMap<String, String>) {
    let Some(envoy) = data.get("envoy.yaml") else {
        return;
    };
    let pointer = "/configMap/data/envoy.yaml";
    let bootstrap = match crate::yaml::parse_json(envoy) {
        Ok(bootstrap @ Value::Object(_)) => bootstrap,
        Ok(_) => {
            let d = Diagnostic::error(
                code::INVALID_VALUE,
                format!("the envoy bootstrap of proxy `{}` (configMap.data) is not a YAML mapping, so envoy cannot start", proxy.key),
            )
            .path(ctx.proxy_path(proxy, pointer))
            .at(ctx.proxy_at(proxy, pointer))
            .help("write the bootstrap as a mapping (node, static_resources, …), or drop configMap.data to use the chart's");
            ctx.push(d);
            return;
        }
        Err(error) => {
            let d = Diagnostic::error(
                code::YAML_SYNTAX,
                format!("the envoy bootstrap of proxy `{}` (configMap.data) {error}, so envoy cannot start", proxy.key),
            )
            .path(ctx.proxy_path(proxy, pointer))
            .at(ctx.proxy_at(proxy, pointer))
            .help("the line and column count from the start of the bootstrap text; a block scalar (`envoy.yaml: |`) keeps its layout");
            ctx.push(d);
            return;
        }
    };
    if !ctx.model.sds_on() {
        return;
    }
    let defines_sds = Some(bootstrap)
        .and_then(|b| b.pointer("/static_resources/clusters").cloned())
        .and_then(|c| c.as_array().cloned())
        .is_some_and(|clusters| {
            clusters
                .iter()
                .any(|c| c.get("name").and_then(Value::as_str) == Some("gateway_proxy_sds"))
        });
    if !defines_sds {
        let d = Diagnostic::warning(
            code::CUSTOM_BOOTSTRAP,
            format!("proxy `{}` replaces the envoy bootstrap (configMap.data) without a `gateway_proxy_sds` cluster, so the sds sidecar's certificates never reach envoy", proxy.key),
        )
        .path(ctx.proxy_path(proxy, pointer))
        .at(ctx.proxy_at(proxy, pointer))
        .help("add the gateway_proxy_sds static cluster (127.0.0.1:8234, HTTP/2) to your bootstrap, or drop configMap.data");
        ctx.push(d);
    }
}

fn static_layer(ctx: &mut Ctx, proxy: &Proxy) {
    for key in ["overload", "upstream"] {
        if proxy
            .values
            .custom_static_layer
            .as_ref()
            .is_some_and(|l| l.contains_key(key))
        {
            let pointer = format!("/customStaticLayer/{key}");
            let d = Diagnostic::error(
                code::DUPLICATE_CLUSTER,
                format!("`customStaticLayer.{key}` collides with the `{key}` layer key the bootstrap already writes"),
            )
            .path(ctx.proxy_path(proxy, &pointer))
            .at(ctx.proxy_at(proxy, &pointer))
            .help(match key {
                "overload" => "use globalDownstreamMaxConnections",
                _ => "use healthyPanicThreshold",
            });
            ctx.push(d);
        }
    }
}

/// Extra clusters must not reuse a chart cluster's name, and a STATIC cluster needs IP
/// addresses (envoy rejects names there).
fn static_clusters(ctx: &mut Ctx, proxy: &Proxy) {
    let reserved = names::chart_cluster_names(ctx.model);
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let lists = [
        (
            "/tracing/cluster",
            proxy.values.tracing.as_ref().and_then(|t| t.cluster.clone()),
        ),
        ("/envoyStaticClusters", proxy.values.envoy_static_clusters.clone()),
    ];
    for (list_pointer, clusters) in lists {
        for (i, cluster) in clusters.into_iter().flatten().enumerate() {
            let pointer = format!("{list_pointer}/{i}");
            let name = cluster.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            let name_pointer = format!("{pointer}/name");
            if reserved.contains(&name) {
                let d = Diagnostic::error(
                    code::DUPLICATE_CLUSTER,
                    format!("the extra cluster `{name}` has the name of a cluster the bootstrap already defines"),
                )
                .path(ctx.proxy_path(proxy, &name_pointer))
                .at(ctx.proxy_at(proxy, &name_pointer))
                .help("give the cluster another name; envoy rejects two clusters of one name");
                ctx.push(d);
            } else if let Some(first) = seen.insert(name.clone(), pointer.clone()) {
                let d = Diagnostic::error(
                    code::DUPLICATE_CLUSTER,
                    format!(
                        "two extra clusters are named `{name}` ({} and {})",
                        ctx.proxy_path(proxy, &first),
                        ctx.proxy_path(proxy, &pointer)
                    ),
                )
                .path(ctx.proxy_path(proxy, &name_pointer))
                .at(ctx.proxy_at(proxy, &name_pointer))
                .help("give each cluster its own name");
                ctx.push(d);
            }
            if cluster.get("type").and_then(Value::as_str).unwrap_or("STATIC") != "STATIC" {
                continue;
            }
            for (address_pointer, address) in socket_addresses(&cluster) {
                if address.parse::<IpAddr>().is_err() {
                    let full = format!("{pointer}{address_pointer}");
                    let d = Diagnostic::error(
                        code::STATIC_CLUSTER_NOT_IP,
                        format!("the STATIC cluster `{name}` points at `{address}`, which is not an IP address"),
                    )
                    .path(ctx.proxy_path(proxy, &full))
                    .at(ctx.proxy_at(proxy, &full))
                    .help("envoy resolves no names in STATIC clusters: use an IP address, or `type: STRICT_DNS`");
                    ctx.push(d);
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
