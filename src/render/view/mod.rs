//! What the templates see: for each resource, the decisions of the chart already taken (which
//! containers, which labels, which image string), so that the templates only lay them out.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::values::security;
use crate::values::{Model, Proxy, Stats, UpstreamMtlsMode, UpstreamValues, WorkloadType};
use crate::values::{image, names};

/// A label or annotation, kept in the chart's order.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub key: String,
    pub value: String,
}

fn entry(key: impl Into<String>, value: impl Into<String>) -> Entry {
    Entry {
        key: key.into(),
        value: value.into(),
    }
}

fn to_value<T: Serialize>(value: &T) -> Value {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    crate::values::proxy::strip_nulls(&mut v);
    v
}

fn on(flag: Option<bool>) -> bool {
    flag.unwrap_or(false)
}

/// The effective stats of a proxy (Istio spec §1.2 `STATS(P)`): its own `stats` when that is
/// set at all, else `global.glooStats`, as a whole.
pub fn effective_stats<'a>(model: &'a Model, proxy: &'a Proxy) -> &'a Stats {
    match &proxy.values.stats {
        Some(own) if *own != Stats::default() => own,
        _ => &model.values.global.gloo_stats,
    }
}

/// `metadata.labels` of the workload and the ConfigMap.
fn resource_labels(model: &Model, proxy: &Proxy) -> Vec<Entry> {
    let mut labels = vec![entry("app", "gloo")];
    for (k, v) in model.values.global.additional_labels.iter().flatten() {
        labels.push(entry(k, v));
    }
    labels.push(entry("gloo", "gateway-proxy"));
    labels.push(entry("gateway-proxy-id", &proxy.id));
    labels
}

fn namespace(model: &Model, proxy: &Proxy) -> String {
    proxy
        .values
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| model.namespace.clone())
}

// ---------------------------------------------------------------------------------------------
// The envoy bootstrap and its ConfigMap.

#[derive(Debug, Serialize)]
pub struct PrometheusView {
    pub route_prefix_rewrite: String,
    pub stats_prefix_rewrite: Option<String>,
}

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
    pub gloo_mtls: bool,
    pub gloo_mtls_transport_socket: Value,
    pub sds_cluster: bool,
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
    pub overload_manager: Option<Value>,
}

/// The TLS transport socket of both xDS clusters under gloo mTLS (Istio spec §3.2).
fn gloo_mtls_transport_socket() -> Value {
    let sds_config = json!({
        "resource_api_version": "V3",
        "api_config_source": {
            "api_type": "GRPC",
            "transport_api_version": "V3",
            "grpc_services": [{"envoy_grpc": {"cluster_name": "gateway_proxy_sds"}}],
        },
    });
    json!({
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            "common_tls_context": {
                "tls_certificate_sds_secret_configs": [{"name": "server_cert", "sds_config": sds_config.clone()}],
                "validation_context_sds_secret_config": {"name": "validation_context", "sds_config": sds_config},
            },
        },
    })
}

pub fn bootstrap(model: &Model, proxy: &Proxy) -> BootstrapView {
    let p = &proxy.values;
    let stats = effective_stats(model, proxy);
    let global_stats = &model.values.global.gloo_stats;
    let domain = names::cluster_domain(model);
    let gloo_service_address = format!("gloo.{}.svc.{domain}", model.namespace);

    let mut static_layer = p.custom_static_layer.clone().unwrap_or_default();
    static_layer.insert(
        "overload".into(),
        json!({"global_downstream_max_connections": p.global_downstream_max_connections.unwrap_or(250_000)}),
    );
    static_layer.insert(
        "upstream".into(),
        json!({"healthy_panic_threshold": {"value": p.healthy_panic_threshold.unwrap_or(50)}}),
    );

    let prometheus = on(stats.enabled).then(|| PrometheusView {
        // A proxy-level `stats` without `routePrefixRewrite` leaves the chart's route without a
        // rewrite (gateway-proxy-keys §8.2); fall back to the global one instead.
        route_prefix_rewrite: stats
            .route_prefix_rewrite
            .clone()
            .or_else(|| global_stats.route_prefix_rewrite.clone())
            .unwrap_or_else(|| "/stats/prometheus".into()),
        stats_prefix_rewrite: on(global_stats.enable_stats_route)
            .then(|| global_stats.stats_prefix_rewrite.clone().unwrap_or_default()),
    });
    let read_config = on(p.read_config);
    let custom_bootstrap = p
        .config_map
        .as_ref()
        .and_then(|c| c.data.as_ref())
        .is_some_and(|d| !d.is_empty());
    let aws = model.values.settings.aws.as_ref();
    let overload = p.envoy_overload_manager.as_ref().filter(|o| on(o.enabled)).map(|o| {
        json!({
            "actions": o.actions.clone().unwrap_or_default(),
            "buffer_factory_config": o.buffer_factory_config.clone().unwrap_or_default(),
            "refresh_interval": o.refresh_interval.clone().unwrap_or_else(|| "1s".into()),
            "resource_monitors": o.resource_monitors.clone().unwrap_or_default(),
        })
    });

    BootstrapView {
        static_layer: Value::Object(static_layer),
        role: format!(
            "{}~{}",
            model
                .values
                .settings
                .write_namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| model.namespace.clone()),
            proxy.id
        ),
        stats_config: p
            .envoy_stats_config
            .clone()
            .filter(|m| !m.is_empty())
            .map(Value::Object),
        listeners_helper: p.extra_listeners_helper.as_deref().is_some_and(|h| !h.is_empty()),
        prometheus,
        read_config,
        xds_cluster_name: names::xds_cluster_name(model),
        xds_address: p
            .xds_service_address
            .clone()
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| gloo_service_address.clone()),
        xds_port: p
            .xds_service_port
            .filter(|port| *port != 0)
            .unwrap_or_else(|| names::xds_port(model)),
        rest_xds_port: p
            .xds_service_port
            .filter(|port| *port != 0)
            .unwrap_or_else(|| names::rest_xds_port(model)),
        keepalive_time: p.tcp_keepalive_time_seconds.unwrap_or(60),
        gloo_mtls: model.gloo_mtls(),
        gloo_mtls_transport_socket: gloo_mtls_transport_socket(),
        sds_cluster: model.sds_on() && !custom_bootstrap,
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
        overload_manager: overload,
    }
}

fn loop_back_address(proxy: &Proxy) -> String {
    proxy
        .values
        .loop_back_address
        .clone()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "127.0.0.1".into())
}

#[derive(Debug, Serialize)]
pub struct ConfigMapView {
    pub name: String,
    pub namespace: String,
    pub labels: Vec<Entry>,
    pub data: Value,
}

/// The ConfigMap: the user's `configMap.data` if set, else the rendered bootstrap.
pub fn config_map(model: &Model, proxy: &Proxy, bootstrap_text: Option<&str>) -> ConfigMapView {
    let data = match proxy
        .values
        .config_map
        .as_ref()
        .and_then(|c| c.data.as_ref())
        .filter(|d| !d.is_empty())
    {
        Some(user) => to_value(user),
        None => json!({"envoy.yaml": bootstrap_text.unwrap_or_default()}),
    };
    ConfigMapView {
        name: format!("{}-envoy-config", proxy.id),
        namespace: namespace(model, proxy),
        labels: resource_labels(model, proxy),
        data,
    }
}

// ---------------------------------------------------------------------------------------------
// The workload.

#[derive(Debug, Serialize)]
pub struct EnvoyView {
    pub name: String,
    pub image: String,
    pub pull_policy: &'static str,
    pub args: Vec<String>,
    pub custom_env: Vec<Value>,
    pub disable_core_dumps: String,
    pub pre_stop: Option<String>,
    pub security_context: Option<Value>,
    pub ports: Vec<Value>,
    pub resources: Option<Value>,
    pub readiness_probe: Option<Value>,
    pub liveness_probe: Option<Value>,
    pub extra_mounts: Vec<Value>,
}

#[derive(Debug, Serialize)]
pub struct SdsView {
    pub image: String,
    pub pull_policy: &'static str,
    pub security_context: Option<Value>,
    pub resources: Option<Value>,
    pub log_level: Option<String>,
    pub stats: bool,
    pub pod_monitor: bool,
    pub readiness_probe: Option<Value>,
}

#[derive(Debug, Serialize)]
pub struct IstioProxyView {
    pub image: String,
    pub pull_policy: &'static str,
    pub security_context: Option<Value>,
    pub resources: Option<Value>,
    pub proxy_log_level_arg: String,
    pub ca_addr: String,
    pub mesh_id: String,
    pub cluster_id: String,
    pub proxy_config: String,
}

#[derive(Debug, Serialize)]
pub struct WorkloadView {
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub labels: Vec<Entry>,
    pub replicas: Option<i32>,
    pub pod_labels: Vec<Entry>,
    pub pod_annotations: Vec<Entry>,
    pub pod_security_context: Option<Value>,
    pub affinity: Option<Value>,
    pub topology_spread_constraints: Option<Value>,
    pub image_pull_secret: Option<String>,
    pub host_network: Option<bool>,
    pub node_name: Option<String>,
    pub priority_class_name: Option<String>,
    pub node_selector: Option<Value>,
    pub tolerations: Option<Value>,
    pub termination_grace_period_seconds: Option<i64>,
    pub init_containers: Vec<Value>,
    pub extra_containers: Vec<Value>,
    pub envoy: EnvoyView,
    pub helper_containers: Vec<Value>,
    pub sds: Option<SdsView>,
    pub istio_proxy: Option<IstioProxyView>,
    pub custom_sidecars: Vec<Value>,
    pub istio: bool,
    pub gloo_mtls: bool,
    pub shared_data: bool,
    pub istio_files: bool,
    pub extra_volumes: Vec<Value>,
    pub config_map_name: String,
}

/// The chart's test helper `gloo.testcontainer` (gateway-proxy-keys spec §2.7).
fn test_container() -> Value {
    json!({"name": "nginx", "image": "nginx:1.7.9", "ports": [{"containerPort": 80}]})
}

fn helper_is(name: &Option<String>, helper: &str) -> bool {
    name.as_deref() == Some(helper)
}

/// The Istio pod label, first rule that applies (Istio spec §2.2).
fn istio_pod_label(model: &Model) -> Option<Entry> {
    let integration = &model.values.global.istio_integration;
    if on(integration.disable_autoinjection) {
        Some(entry("sidecar.istio.io/inject", "false"))
    } else if model.sidecar_on_gateway() {
        match integration.istio_sidecar_rev_tag.as_deref().filter(|t| !t.is_empty()) {
            Some(tag) => Some(entry("istio.io/rev", tag)),
            None => Some(entry("sidecar.istio.io/inject", "true")),
        }
    } else {
        None
    }
}

/// `traffic.sidecar.istio.io/excludeInboundPorts`: the http and https ports and every
/// `extraPorts` containerPort (the chart prints the extraPorts objects with Go's `%v`, Istio
/// spec §7.3).
fn exclude_inbound_ports(http: u16, https: u16, proxy: &Proxy) -> String {
    let mut ports = vec![http.to_string(), https.to_string()];
    let extra = proxy.values.pod_template.as_ref().and_then(|t| t.extra_ports.as_ref());
    ports.extend(extra.into_iter().flatten().map(|p| p.container_port.to_string()));
    ports.join(",")
}

/// The Datadog autodiscovery annotations (gateway-proxy-keys spec §2.2); the container name in
/// the keys is the literal `gateway-proxy`, as in the chart.
fn datadog_annotations() -> [Entry; 4] {
    [
        entry("ad.datadoghq.com/gateway-proxy.check_names", "[\"envoy\"]"),
        entry("ad.datadoghq.com/gateway-proxy.init_configs", "[{}]"),
        entry(
            "ad.datadoghq.com/gateway-proxy.instances",
            "[{\"stats_url\": \"http://%%host%%:8081/stats\"}]",
        ),
        entry(
            "ad.datadoghq.com/gateway-proxy.logs",
            "[{\"source\": \"envoy\", \"service\": \"gloo\",\"log_processing_rules\":[{\"type\": \"multi_line\", \"name\": \"log_start_with_date\",\"pattern\" : \"^\\\\[[0-9]{4}-[0-9]{2}-[0-9]{2}\"}]}]",
        ),
    ]
}

fn wget_probe(loop_back: &str, path: &str) -> Value {
    json!({
        "exec": {"command": ["wget", "-O", "/dev/null", format!("{loop_back}:19000/{path}")]},
        "initialDelaySeconds": 3,
        "periodSeconds": 10,
        "failureThreshold": 3,
    })
}

fn non_empty(value: Value) -> Option<Value> {
    match &value {
        Value::Object(m) if m.is_empty() => None,
        Value::Array(a) if a.is_empty() => None,
        Value::Null => None,
        _ => Some(value),
    }
}

/// Whether any Upstream is rendered in the file-mounted certificates mode, which needs the
/// `istio.default` secret mounted in every gateway proxy.
pub fn istio_files_mode(model: &Model) -> bool {
    model
        .values
        .upstreams
        .iter()
        .any(|u| model.upstream_mode(u) == UpstreamMtlsMode::IstioFiles)
}

pub fn workload(model: &Model, proxy: &Proxy, checksum: &str, istio_files: bool) -> WorkloadView {
    let p = &proxy.values;
    let global = &model.values.global;
    let pod = p.pod_template.clone().unwrap_or_default();
    let kind = p.kind.clone().unwrap_or_default();
    let is_deployment = match kind.workload_type {
        Some(WorkloadType::Deployment) => true,
        Some(WorkloadType::DaemonSet) => false,
        None => kind.deployment.is_some(),
    };
    // `workloadType: Deployment` drops `kind.daemonSet`; otherwise it is read for both kinds.
    let daemon_set = match kind.workload_type {
        Some(WorkloadType::Deployment) => None,
        _ => kind.daemon_set.clone(),
    };
    let deployment = kind.deployment.clone().unwrap_or_default();
    let stats = effective_stats(model, proxy);
    let stats_on = on(stats.enabled);
    let pod_monitor = stats_on && on(stats.pod_monitor_enabled);
    let http_port = pod.http_port.unwrap_or(8080);
    let https_port = pod.https_port.unwrap_or(8443);
    let loop_back = loop_back_address(proxy);
    let sidecar_on_gw = model.sidecar_on_gateway();

    // Pod labels and annotations, in the chart's order.
    let mut pod_labels = vec![entry("gloo", "gateway-proxy"), entry("gateway-proxy-id", &proxy.id)];
    if !on(model.values.gateway.upgrade) {
        pod_labels.push(entry("gateway-proxy", "live"));
    }
    for (k, v) in pod.extra_gateway_proxy_labels.iter().flatten() {
        pod_labels.push(entry(k, v));
    }
    pod_labels.extend(istio_pod_label(model));

    let exclude = exclude_inbound_ports(http_port, https_port, proxy);
    let mut pod_annotations = vec![entry(format!("checksum/{}-envoy-config", proxy.id), checksum)];
    for (k, v) in pod.extra_annotations.iter().flatten() {
        pod_annotations.push(entry(k, v));
    }
    if on(global.gloo_stats.set_datadog_annotations) {
        pod_annotations.extend(datadog_annotations());
    }
    let mut exclude_written = false;
    if stats_on {
        pod_annotations.push(entry("prometheus.io/path", "/metrics"));
        pod_annotations.push(entry("prometheus.io/port", "8081"));
        pod_annotations.push(entry("prometheus.io/scrape", "true"));
        if sidecar_on_gw {
            pod_annotations.push(entry("traffic.sidecar.istio.io/excludeInboundPorts", &exclude));
            exclude_written = true;
        }
    }
    if on(p.read_config) {
        pod_annotations.push(entry("readconfig-stats", "/stats"));
        pod_annotations.push(entry("readconfig-ready", "/ready"));
        pod_annotations.push(entry("readconfig-config_dump", "/config_dump"));
        pod_annotations.push(entry("readconfig-port", "8082"));
        // The chart writes the key a second time here (Istio spec §7.4); once is enough.
        if sidecar_on_gw && !exclude_written {
            pod_annotations.push(entry("traffic.sidecar.istio.io/excludeInboundPorts", &exclude));
        }
    }

    // Pod and envoy container securityContext (gateway-proxy-keys spec §2.4).
    let pod_security_context = security::gateway_proxy_pod_context(model, &pod);
    let envoy_security = security::envoy_container_context(model, &pod);

    // Envoy container.
    let envoy_image = image::merged(&pod.image.clone().unwrap_or_default(), &global.image);
    let mut args = vec!["--disable-hot-restart".to_string()];
    if let Some(level) = p.envoy_log_level.as_deref().filter(|l| !l.is_empty()) {
        args.push(format!("--log-level {level}"));
    }
    args.extend(p.extra_envoy_args.clone().unwrap_or_default());

    let host_ports = daemon_set.as_ref().is_some_and(|d| on(d.host_port));
    let mut ports = vec![
        port("http", http_port, host_ports),
        port("https", https_port, host_ports),
    ];
    if pod_monitor {
        ports.push(json!({"name": "http-monitoring", "containerPort": 8081}));
    }
    ports.extend(pod.extra_ports.iter().flatten().map(to_value));

    let graceful = pod.graceful_shutdown.clone().unwrap_or_default();
    let pre_stop = on(graceful.enabled).then(|| {
        format!(
            "wget --post-data \"\" -O /dev/null {loop_back}:19000/healthcheck/fail; sleep {}",
            graceful.sleep_time_seconds.unwrap_or(25)
        )
    });

    let probes = on(pod.probes);
    let custom_readiness = pod.custom_readiness_probe.as_ref().map(to_value).and_then(non_empty);
    let custom_liveness = pod.custom_liveness_probe.as_ref().map(to_value).and_then(non_empty);
    let readiness_probe = probes.then(|| custom_readiness.unwrap_or_else(|| wget_probe(&loop_back, "ready")));
    let liveness_probe = (probes && on(pod.liveness_probe_enabled))
        .then(|| custom_liveness.unwrap_or_else(|| wget_probe(&loop_back, "server_info")));

    let mut extra_mounts: Vec<Value> = p.extra_proxy_volume_mounts.iter().flatten().map(to_value).collect();
    if helper_is(&p.extra_proxy_volume_mount_helper, "gloo.testVolumeMount") {
        extra_mounts.push(json!({"mountPath": "/var/run/sds", "name": "sds-uds-path"}));
    }

    let envoy = EnvoyView {
        name: proxy.id.clone(),
        image: image::reference(&envoy_image),
        pull_policy: image::pull_policy(&envoy_image),
        args,
        custom_env: if is_deployment {
            deployment.custom_env.iter().flatten().map(to_value).collect()
        } else {
            Vec::new()
        },
        disable_core_dumps: on(p.disable_core_dumps).to_string(),
        pre_stop,
        security_context: envoy_security,
        ports,
        resources: pod.resources.as_ref().map(to_value).and_then(non_empty),
        readiness_probe,
        liveness_probe,
        extra_mounts,
    };

    // The sds container (Istio spec §2.4).
    let mtls = &global.gloo_mtls;
    let sds = model.sds_on().then(|| {
        let sds_image = image::merged(&mtls.sds.image, &global.image);
        SdsView {
            image: image::reference(&sds_image),
            pull_policy: image::pull_policy(&sds_image),
            security_context: security::container_context(model, mtls.sds.security_context.as_ref(), Map::new()),
            resources: mtls.sds_resources.as_ref().map(to_value).and_then(non_empty),
            log_level: mtls.sds.log_level.clone().filter(|l| !l.is_empty()),
            stats: stats_on,
            pod_monitor,
            readiness_probe: mtls.sds.readiness_probe.as_ref().map(to_value).and_then(non_empty),
        }
    });

    // The default istio-proxy container (Istio spec §2.5).
    let istio_proxy = model.default_istio_proxy().then(|| {
        let istio_image = image::merged(&mtls.istio_proxy.image, &global.image);
        let discovery = p.istio_discovery_address.clone().unwrap_or_default();
        IstioProxyView {
            image: image::reference(&istio_image),
            pull_policy: image::pull_policy(&istio_image),
            security_context: security::container_context(
                model,
                mtls.istio_proxy.security_context.as_ref(),
                Map::new(),
            ),
            resources: mtls.envoy_sidecar_resources.as_ref().map(to_value).and_then(non_empty),
            proxy_log_level_arg: format!(
                "--proxyLogLevel={}",
                mtls.istio_proxy.log_level.clone().unwrap_or_default()
            ),
            ca_addr: p
                .istio_spiffe_cert_provider_address
                .clone()
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| discovery.clone()),
            mesh_id: p
                .istio_meta_mesh_id
                .clone()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "cluster.local".into()),
            cluster_id: p
                .istio_meta_cluster_id
                .clone()
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "Kubernetes".into()),
            // Valid JSON, where the chart leaves the address unquoted (Istio spec §7.2).
            proxy_config: json!({"discoveryAddress": discovery}).to_string(),
        }
    });

    // Affinity and topology spread: Deployment only (gateway-proxy-keys spec §2.3).
    let mut affinity = Map::new();
    if is_deployment && on(p.anti_affinity) {
        affinity.insert(
            "podAntiAffinity".into(),
            json!({"preferredDuringSchedulingIgnoredDuringExecution": [{
                "weight": 100,
                "podAffinityTerm": {
                    "labelSelector": {"matchLabels": {"gloo": "gateway-proxy"}},
                    "topologyKey": "kubernetes.io/hostname",
                },
            }]}),
        );
    }
    if is_deployment && let Some(Value::Object(user)) = p.affinity.as_ref().map(to_value) {
        // A user `podAntiAffinity` next to `antiAffinity: true` would be a duplicate key in the
        // chart's output, where the last one wins; the user's wins here too.
        affinity.extend(user);
    }

    let mut init_containers: Vec<Value> = pod.extra_init_containers.iter().flatten().map(to_value).collect();
    if helper_is(&p.extra_init_containers_helper, "gloo.testcontainer") {
        init_containers.push(test_container());
    }
    let shared_data = p.extra_containers_helper.as_deref().is_some_and(|h| !h.is_empty());
    let helper_containers = if helper_is(&p.extra_containers_helper, "gloo.testcontainer") {
        vec![test_container()]
    } else {
        Vec::new()
    };
    let mut extra_volumes: Vec<Value> = p.extra_volumes.iter().flatten().map(to_value).collect();
    if helper_is(&p.extra_volume_helper, "gloo.testVolume") {
        extra_volumes.push(json!({"hostPath": {"path": "/var/run/sds"}, "name": "sds-uds-path"}));
    }

    let pull_secret = pod
        .image
        .as_ref()
        .and_then(|i| i.pull_secret.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| global.image.pull_secret.clone().filter(|s| !s.is_empty()));

    WorkloadView {
        kind: if is_deployment { "Deployment" } else { "DaemonSet" },
        name: proxy.id.clone(),
        namespace: namespace(model, proxy),
        labels: resource_labels(model, proxy),
        replicas: if is_deployment {
            deployment.replicas.filter(|r| *r != 0)
        } else {
            None
        },
        pod_labels,
        pod_annotations,
        pod_security_context,
        affinity: non_empty(Value::Object(affinity)),
        topology_spread_constraints: if is_deployment {
            p.topology_spread_constraints.as_ref().map(to_value).and_then(non_empty)
        } else {
            None
        },
        image_pull_secret: pull_secret,
        host_network: host_ports.then(|| daemon_set.as_ref().and_then(|d| d.host_network) != Some(false)),
        node_name: pod.node_name.clone().filter(|n| !n.is_empty()),
        priority_class_name: if is_deployment {
            deployment.priority_class_name.clone().filter(|n| !n.is_empty())
        } else {
            None
        },
        node_selector: pod.node_selector.as_ref().map(to_value).and_then(non_empty),
        tolerations: pod.tolerations.as_ref().map(to_value).and_then(non_empty),
        termination_grace_period_seconds: pod.termination_grace_period_seconds.filter(|t| *t != 0),
        init_containers,
        extra_containers: pod.extra_containers.iter().flatten().map(to_value).collect(),
        envoy,
        helper_containers,
        sds,
        istio_proxy,
        custom_sidecars: model.custom_sidecars().into_iter().flatten().map(to_value).collect(),
        istio: model.istio_on(),
        gloo_mtls: model.gloo_mtls(),
        shared_data,
        istio_files,
        extra_volumes,
        config_map_name: format!("{}-envoy-config", proxy.id),
    }
}

fn port(name: &str, number: u16, host_port: bool) -> Value {
    let mut port = json!({"containerPort": number, "name": name, "protocol": "TCP"});
    if host_port {
        port["hostPort"] = json!(number);
    }
    port
}

// ---------------------------------------------------------------------------------------------
// Upstreams.

#[derive(Debug, Serialize)]
pub struct UpstreamView {
    pub name: String,
    pub namespace: String,
    pub service: String,
    pub service_namespace: String,
    pub port: u16,
    pub mode: &'static str,
    pub disable_istio_auto_mtls: bool,
}

pub fn upstream(model: &Model, upstream: &UpstreamValues) -> UpstreamView {
    let mode = model.upstream_mode(upstream);
    UpstreamView {
        name: names::upstream_name(upstream),
        namespace: model.namespace.clone(),
        service: upstream.service.clone(),
        service_namespace: upstream.namespace.clone(),
        port: upstream.port,
        mode: match mode {
            UpstreamMtlsMode::IstioSds => "istio-sds",
            UpstreamMtlsMode::IstioFiles => "istio-files",
            UpstreamMtlsMode::None | UpstreamMtlsMode::Auto => "none",
        },
        // An explicit `none` while auto-mTLS is on must opt out of it, or it would get mTLS.
        disable_istio_auto_mtls: upstream.mtls == UpstreamMtlsMode::None && model.auto_mtls_active(),
    }
}
