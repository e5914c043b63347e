//! The view of `envoy-bootstrap.yaml`: the envoy bootstrap of one gateway proxy
//! (gateway-proxy-keys spec §4).

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{effective_stats, loop_back_address, on, to_value};
use crate::istio;
use crate::values::{Model, Proxy, names};

#[derive(Debug, Serialize)]
pub struct BootstrapView {
    pub static_layer: Value,
    pub role: String,
    pub stats_config: Option<Value>,
    pub listeners_helper: bool,
    pub prometheus: Option<PrometheusView>,
    pub read_config: bool,
    pub xds_cluster_name: String,
    pub xds_address: String,
    pub xds_port: u16,
    pub rest_xds_port: u16,
    pub keepalive_time: u32,
    /// Both xDS clusters connect over TLS with certificates from the sds sidecar.
    pub gloo_mtls: bool,
    /// The cluster that serves the sds sidecar's certificates, named in the TLS transport
    /// socket of the xDS clusters.
    pub sds_cluster_name: &'static str,
    pub sds_cluster: Option<istio::SdsCluster>,
    pub gloo_service_address: String,
    pub access_log_address: Option<String>,
    pub access_log_port: u16,
    pub tracing_clusters: Vec<Value>,
    pub aws_sts_host: Option<String>,
    pub admin_port_cluster: bool,
    pub static_clusters: Vec<Value>,
    pub loop_back_address: String,
    pub api_version: String,
    pub bootstrap_extensions: Option<Value>,
    pub overload_manager: Option<OverloadManagerView>,
}

/// The routes of the prometheus listener.
#[derive(Debug, Serialize)]
pub struct PrometheusView {
    pub route_prefix_rewrite: String,
    pub stats_prefix_rewrite: Option<String>,
}

/// `overload_manager`, with the chart's defaults for what `envoyOverloadManager` leaves unset.
#[derive(Debug, Serialize)]
pub struct OverloadManagerView {
    pub actions: Vec<Value>,
    pub buffer_factory_config: Map<String, Value>,
    pub refresh_interval: String,
    pub resource_monitors: Vec<Value>,
}

/// The envoy bootstrap of `proxy`: its node role, listeners, static clusters (xDS, sds, access
/// log, tracing, AWS STS, admin) and the user's additions.
pub fn bootstrap(model: &Model, proxy: &Proxy) -> BootstrapView {
    let p = &proxy.values;
    let stats = effective_stats(model, proxy);
    let domain = names::cluster_domain(model);
    let gloo_service_address = format!("gloo.{}.svc.{domain}", model.namespace);
    let read_config = on(p.read_config);
    let custom_bootstrap = p
        .config_map
        .as_ref()
        .and_then(|c| c.data.as_ref())
        .is_some_and(|d| !d.is_empty());
    let aws = model.values.settings.aws.as_ref();
    // A given xDS port serves both the gRPC and the REST xDS cluster.
    let xds_port = p.xds_service_port.filter(|port| *port != 0);

    BootstrapView {
        static_layer: static_layer(proxy),
        role: role(model, proxy),
        stats_config: p
            .envoy_stats_config
            .clone()
            .filter(|m| !m.is_empty())
            .map(Value::Object),
        listeners_helper: p.extra_listeners_helper.as_deref().is_some_and(|h| !h.is_empty()),
        prometheus: prometheus(model, proxy),
        read_config,
        xds_cluster_name: names::xds_cluster_name(model),
        xds_address: p
            .xds_service_address
            .clone()
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| gloo_service_address.clone()),
        xds_port: xds_port.unwrap_or_else(|| names::xds_port(model)),
        rest_xds_port: xds_port.unwrap_or_else(|| names::rest_xds_port(model)),
        keepalive_time: p.tcp_keepalive_time_seconds.unwrap_or(60),
        gloo_mtls: model.gloo_mtls(),
        sds_cluster_name: istio::SDS_CLUSTER,
        // A user's own bootstrap replaces this one, cluster included (Istio spec §3.1).
        sds_cluster: (model.sds_on() && !custom_bootstrap).then(istio::SdsCluster::new),
        access_log_address: on(model.values.access_logger.enabled)
            .then(|| format!("gateway-proxy-access-logger.{}.svc.{domain}", model.namespace)),
        access_log_port: model.values.access_logger.port.unwrap_or(8083),
        gloo_service_address,
        tracing_clusters: p
            .tracing
            .as_ref()
            .and_then(|t| t.cluster.clone())
            .unwrap_or_default()
            .into_iter()
            .map(Value::Object)
            .collect(),
        aws_sts_host: aws.filter(|a| on(a.enable_service_account_credentials)).map(|a| {
            match a.sts_credentials_region.as_deref().filter(|r| !r.is_empty()) {
                Some(region) => format!("sts.{region}.amazonaws.com"),
                None => "sts.amazonaws.com".into(),
            }
        }),
        admin_port_cluster: on(stats.enabled) || read_config,
        static_clusters: p
            .envoy_static_clusters
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(Value::Object)
            .collect(),
        loop_back_address: loop_back_address(proxy),
        api_version: p
            .envoy_api_version
            .clone()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "V3".into()),
        bootstrap_extensions: p
            .envoy_bootstrap_extensions
            .clone()
            .filter(|e| !e.is_empty())
            .map(|e| to_value(&e)),
        overload_manager: overload_manager(proxy),
    }
}

/// The static runtime layer: the user's `customStaticLayer` with the connection limit and the
/// panic threshold of the values set over it. The two keys are merged into the user's mapping
/// (which is printed in key order), so the view builds them rather than the template.
fn static_layer(proxy: &Proxy) -> Value {
    let p = &proxy.values;
    let mut layer = p.custom_static_layer.clone().unwrap_or_default();
    layer.insert(
        "overload".into(),
        json!({"global_downstream_max_connections": p.global_downstream_max_connections.unwrap_or(250_000)}),
    );
    layer.insert(
        "upstream".into(),
        json!({"healthy_panic_threshold": {"value": p.healthy_panic_threshold.unwrap_or(50)}}),
    );
    Value::Object(layer)
}

/// `node.metadata.role`: the proxy's xDS cache key, `<writeNamespace>~<proxy id>`.
fn role(model: &Model, proxy: &Proxy) -> String {
    let write_namespace = model
        .values
        .settings
        .write_namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| model.namespace.clone());
    format!("{write_namespace}~{}", proxy.id)
}

/// The prometheus listener, when the proxy's effective stats are on.
fn prometheus(model: &Model, proxy: &Proxy) -> Option<PrometheusView> {
    let stats = effective_stats(model, proxy);
    let global_stats = &model.values.global.gloo_stats;
    on(stats.enabled).then(|| PrometheusView {
        // A proxy-level `stats` without `routePrefixRewrite` leaves the chart's route without a
        // rewrite (gateway-proxy-keys §8.2); fall back to the global one instead.
        route_prefix_rewrite: stats
            .route_prefix_rewrite
            .clone()
            .or_else(|| global_stats.route_prefix_rewrite.clone())
            .unwrap_or_else(|| "/stats/prometheus".into()),
        stats_prefix_rewrite: on(global_stats.enable_stats_route)
            .then(|| global_stats.stats_prefix_rewrite.clone().unwrap_or_default()),
    })
}

/// `overload_manager`, when `envoyOverloadManager.enabled`.
fn overload_manager(proxy: &Proxy) -> Option<OverloadManagerView> {
    let o = proxy.values.envoy_overload_manager.as_ref().filter(|o| on(o.enabled))?;
    Some(OverloadManagerView {
        actions: o.actions.clone().unwrap_or_default(),
        buffer_factory_config: o.buffer_factory_config.clone().unwrap_or_default(),
        refresh_interval: o.refresh_interval.clone().unwrap_or_else(|| "1s".into()),
        resource_monitors: o.resource_monitors.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::view::tests::{model, rendered};

    fn clusters(set: &[&str]) -> Vec<Value> {
        let model = model(set);
        let view = bootstrap(&model, &model.proxies[0]);
        rendered("envoy-bootstrap.yaml", "b", &view)["static_resources"]["clusters"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// The sds cluster render writes is the one post-render inserts, right after the xDS
    /// cluster (Istio spec §3.1); without the sds sidecar there is none.
    #[test]
    fn the_rendered_sds_cluster_is_the_istio_one() {
        let with_sds = clusters(&["global.istioIntegration.enabled=true"]);
        assert_eq!(with_sds[1], istio::sds_cluster());
        let plain = clusters(&[]);
        assert!(plain.iter().all(|c| c["name"] != istio::SDS_CLUSTER));
    }

    /// Under gloo mTLS both xDS clusters take their certificates from the sds cluster.
    #[test]
    fn gloo_mtls_points_both_xds_clusters_at_the_sds_cluster() {
        let clusters = clusters(&["global.glooMtls.enabled=true"]);
        let sds_clusters: Vec<&str> = clusters
            .iter()
            .filter_map(|c| c.pointer("/transport_socket/typed_config/common_tls_context"))
            .flat_map(|tls| {
                [
                    "/tls_certificate_sds_secret_configs/0/sds_config",
                    "/validation_context_sds_secret_config/sds_config",
                ]
                .map(|p| {
                    tls.pointer(&format!(
                        "{p}/api_config_source/grpc_services/0/envoy_grpc/cluster_name"
                    ))
                })
            })
            .map(|name| name.and_then(Value::as_str).unwrap())
            .collect();
        assert_eq!(sds_clusters, [istio::SDS_CLUSTER; 4]);
    }
}
