//! The view of `workload.yaml`: the gateway-proxy Deployment or DaemonSet (Istio spec §2,
//! gateway-proxy-keys spec §3). Each part of the pod is one function below, named after what it
//! decides; the template holds the chart's fixed text (annotations, probe commands, the preStop
//! hook, the anti-affinity rule, the test helpers).

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{
    Entry, config_map_name, effective_stats, entry, loop_back_address, namespace, non_empty, on, resource_labels,
    to_value,
};
use crate::values::{DeploymentValues, Model, PodTemplate, Proxy, WorkloadType, image, security};

#[derive(Debug, Serialize)]
pub struct WorkloadView {
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub labels: Vec<Entry>,
    pub replicas: Option<i32>,
    pub pod_labels: Vec<Entry>,
    pub pod_annotations: PodAnnotationsView,
    pub pod_security_context: Option<Value>,
    pub affinity: Option<AffinityView>,
    pub topology_spread_constraints: Option<Value>,
    pub image_pull_secret: Option<String>,
    pub host_network: Option<bool>,
    pub node_name: Option<String>,
    pub priority_class_name: Option<String>,
    pub node_selector: Option<Value>,
    pub tolerations: Option<Value>,
    pub termination_grace_period_seconds: Option<i64>,
    pub init_containers: Vec<Value>,
    /// The chart's test container (`gloo.testcontainer`) after the init containers.
    pub test_init_container: bool,
    pub extra_containers: Vec<Value>,
    pub envoy: EnvoyView,
    /// The chart's test container (`gloo.testcontainer`) after envoy.
    pub test_container: bool,
    pub sds: Option<SdsView>,
    pub istio_proxy: Option<IstioProxyView>,
    pub custom_sidecars: Vec<Value>,
    pub istio: bool,
    pub gloo_mtls: bool,
    pub shared_data: bool,
    pub istio_files: bool,
    pub extra_volumes: Vec<Value>,
    /// The chart's test volume (`gloo.testVolume`) after the extra volumes.
    pub test_volume: bool,
    pub config_map_name: String,
}

/// The pod annotations: the entries of the values in order, then which of the chart's fixed
/// annotations follow them.
#[derive(Debug, Serialize)]
pub struct PodAnnotationsView {
    /// The ConfigMap checksum, then `extraAnnotations`.
    pub entries: Vec<Entry>,
    /// The Datadog autodiscovery annotations (gateway-proxy-keys spec §2.2).
    pub datadog: bool,
    /// The Prometheus scrape annotations.
    pub prometheus: bool,
    /// The `readconfig-*` annotations.
    pub read_config: bool,
    /// `traffic.sidecar.istio.io/excludeInboundPorts`, when Istio's sidecar runs on the gateway
    /// and the Prometheus or readConfig annotations are written (Istio spec §7.3).
    pub exclude_inbound_ports: Option<String>,
}

/// The pod's affinity (Deployment only): the user's `affinity`, with the chart's preferred
/// anti-affinity against all gateway proxies unless the user gives a `podAntiAffinity`.
#[derive(Debug, Serialize)]
pub struct AffinityView {
    pub node_affinity: Option<Value>,
    pub pod_affinity: Option<Value>,
    pub pod_anti_affinity: Option<Value>,
    pub anti_affinity: bool,
}

#[derive(Debug, Serialize)]
pub struct EnvoyView {
    pub name: String,
    pub image: String,
    pub pull_policy: &'static str,
    /// `--log-level` of envoy.
    pub log_level: Option<String>,
    pub extra_args: Vec<String>,
    pub custom_env: Vec<Value>,
    pub disable_core_dumps: String,
    /// Where envoy's admin interface listens, for the probes and the preStop hook.
    pub loop_back_address: String,
    /// The preStop hook (`gracefulShutdown`): fail the health check, then sleep this long.
    pub graceful_shutdown_sleep_seconds: Option<i64>,
    pub security_context: Option<Value>,
    pub http_port: u16,
    pub https_port: u16,
    /// The http and https ports are also host ports (a DaemonSet's `hostPort`).
    pub host_ports: bool,
    /// The `http-monitoring` port of the prometheus listener.
    pub monitoring_port: bool,
    pub extra_ports: Vec<Value>,
    pub resources: Option<Value>,
    /// `podTemplate.probes`: a readiness probe, the user's or the chart's.
    pub probes: bool,
    pub custom_readiness_probe: Option<Value>,
    /// A liveness probe too (`livenessProbeEnabled`), the user's or the chart's.
    pub liveness_probe: bool,
    pub custom_liveness_probe: Option<Value>,
    pub extra_mounts: Vec<Value>,
    /// The chart's test volume mount (`gloo.testVolumeMount`) after the extra mounts.
    pub test_volume_mount: bool,
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
    /// `--proxyLogLevel=`, empty when unset (as the chart writes it).
    pub log_level: String,
    pub ca_addr: String,
    pub mesh_id: String,
    pub cluster_id: String,
    pub proxy_config: String,
}

/// The workload of `proxy`: a Deployment or a DaemonSet (`kind`, `kind.workloadType`), with the
/// pod parts below. `checksum` is the ConfigMap's (Istio spec §3.4); `istio_files` mounts the
/// `istio.default` secret for Upstreams in the istio-files mode.
pub fn workload(model: &Model, proxy: &Proxy, checksum: &str, istio_files: bool) -> WorkloadView {
    let p = &proxy.values;
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
    let host_ports = daemon_set.as_ref().is_some_and(|d| on(d.host_port));
    let deployment = is_deployment.then(|| kind.deployment.clone().unwrap_or_default());

    WorkloadView {
        kind: if is_deployment { "Deployment" } else { "DaemonSet" },
        name: proxy.id.clone(),
        namespace: namespace(model, proxy),
        labels: resource_labels(model, proxy),
        replicas: deployment.as_ref().and_then(|d| d.replicas).filter(|r| *r != 0),
        pod_labels: pod_labels(model, proxy, &pod),
        pod_annotations: pod_annotations(model, proxy, &pod, checksum),
        pod_security_context: security::gateway_proxy_pod_context(model, &pod),
        affinity: affinity(proxy).filter(|_| is_deployment),
        topology_spread_constraints: p
            .topology_spread_constraints
            .as_ref()
            .filter(|_| is_deployment)
            .map(to_value)
            .and_then(non_empty),
        image_pull_secret: image_pull_secret(model, &pod),
        host_network: host_ports.then(|| daemon_set.as_ref().and_then(|d| d.host_network) != Some(false)),
        node_name: pod.node_name.clone().filter(|n| !n.is_empty()),
        priority_class_name: deployment
            .as_ref()
            .and_then(|d| d.priority_class_name.clone())
            .filter(|n| !n.is_empty()),
        node_selector: pod.node_selector.as_ref().map(to_value).and_then(non_empty),
        tolerations: pod.tolerations.as_ref().map(to_value).and_then(non_empty),
        termination_grace_period_seconds: pod.termination_grace_period_seconds.filter(|t| *t != 0),
        init_containers: pod.extra_init_containers.iter().flatten().map(to_value).collect(),
        test_init_container: helper_is(&p.extra_init_containers_helper, "gloo.testcontainer"),
        extra_containers: pod.extra_containers.iter().flatten().map(to_value).collect(),
        envoy: envoy_container(model, proxy, &pod, deployment.as_ref(), host_ports),
        test_container: helper_is(&p.extra_containers_helper, "gloo.testcontainer"),
        sds: sds_container(model, proxy),
        istio_proxy: istio_proxy_container(model, proxy),
        custom_sidecars: model.custom_sidecars().into_iter().flatten().map(to_value).collect(),
        istio: model.istio_on(),
        gloo_mtls: model.gloo_mtls(),
        // Any containers helper shares a volume with envoy (gateway-proxy-keys spec §2.7).
        shared_data: p.extra_containers_helper.as_deref().is_some_and(|h| !h.is_empty()),
        istio_files,
        extra_volumes: p.extra_volumes.iter().flatten().map(to_value).collect(),
        test_volume: helper_is(&p.extra_volume_helper, "gloo.testVolume"),
        config_map_name: config_map_name(proxy),
    }
}

/// Whether a `*Helper` value names the chart's test template `helper` (gateway-proxy-keys
/// spec §2.7); the template writes what that helper writes.
fn helper_is(name: &Option<String>, helper: &str) -> bool {
    name.as_deref() == Some(helper)
}

/// The pod labels, in the chart's order: the proxy's selector labels, `gateway-proxy: live`
/// unless a gateway upgrade is running, `extraGatewayProxyLabels`, and the Istio label.
fn pod_labels(model: &Model, proxy: &Proxy, pod: &PodTemplate) -> Vec<Entry> {
    let mut labels = vec![entry("gloo", "gateway-proxy"), entry("gateway-proxy-id", &proxy.id)];
    if !on(model.values.gateway.upgrade) {
        labels.push(entry("gateway-proxy", "live"));
    }
    for (k, v) in pod.extra_gateway_proxy_labels.iter().flatten() {
        labels.push(entry(k, v));
    }
    labels.extend(istio_pod_label(model));
    labels
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

/// The pod annotations: the ConfigMap checksum (Istio spec §3.4) and `extraAnnotations`, then
/// which fixed annotations the chart adds: Datadog's (`glooStats.setDatadogAnnotations`),
/// Prometheus' (the proxy's effective stats) and readConfig's, with the inbound ports
/// Istio's sidecar must leave alone when it runs on the gateway.
fn pod_annotations(model: &Model, proxy: &Proxy, pod: &PodTemplate, checksum: &str) -> PodAnnotationsView {
    let mut entries = vec![entry(format!("checksum/{}-envoy-config", proxy.id), checksum)];
    for (k, v) in pod.extra_annotations.iter().flatten() {
        entries.push(entry(k, v));
    }
    let prometheus = on(effective_stats(model, proxy).enabled);
    let read_config = on(proxy.values.read_config);
    PodAnnotationsView {
        entries,
        datadog: on(model.values.global.gloo_stats.set_datadog_annotations),
        prometheus,
        read_config,
        exclude_inbound_ports: (model.sidecar_on_gateway() && (prometheus || read_config))
            .then(|| exclude_inbound_ports(proxy, pod)),
    }
}

/// `traffic.sidecar.istio.io/excludeInboundPorts`: the http and https ports and every
/// `extraPorts` containerPort (the chart prints the extraPorts objects with Go's `%v`, Istio
/// spec §7.3).
fn exclude_inbound_ports(proxy: &Proxy, pod: &PodTemplate) -> String {
    let (http, https) = envoy_ports(pod);
    let mut ports = vec![http.to_string(), https.to_string()];
    let extra = proxy.values.pod_template.as_ref().and_then(|t| t.extra_ports.as_ref());
    ports.extend(extra.into_iter().flatten().map(|p| p.container_port.to_string()));
    ports.join(",")
}

/// envoy's http and https container ports.
fn envoy_ports(pod: &PodTemplate) -> (u16, u16) {
    (pod.http_port.unwrap_or(8080), pod.https_port.unwrap_or(8443))
}

/// The pod's affinity, before the Deployment-only rule (gateway-proxy-keys spec §2.3). A user
/// `podAntiAffinity` next to `antiAffinity: true` would be a duplicate key in the chart's
/// output, where the last one wins; the user's wins here too.
fn affinity(proxy: &Proxy) -> Option<AffinityView> {
    let mut user = match proxy.values.affinity.as_ref().map(to_value) {
        Some(Value::Object(user)) => user,
        _ => Map::new(),
    };
    let pod_anti_affinity = user.remove("podAntiAffinity");
    let view = AffinityView {
        node_affinity: user.remove("nodeAffinity"),
        pod_affinity: user.remove("podAffinity"),
        anti_affinity: on(proxy.values.anti_affinity) && pod_anti_affinity.is_none(),
        pod_anti_affinity,
    };
    let any = view.anti_affinity
        || view.node_affinity.is_some()
        || view.pod_affinity.is_some()
        || view.pod_anti_affinity.is_some();
    any.then_some(view)
}

/// `imagePullSecrets`: the proxy image's pull secret, else the global one.
fn image_pull_secret(model: &Model, pod: &PodTemplate) -> Option<String> {
    pod.image
        .as_ref()
        .and_then(|i| i.pull_secret.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| model.values.global.image.pull_secret.clone().filter(|s| !s.is_empty()))
}

/// The gateway-proxy (envoy) container: image, arguments, env, ports, probes, the preStop
/// hook and mounts, from the proxy's values (gateway-proxy-keys spec §3).
fn envoy_container(
    model: &Model,
    proxy: &Proxy,
    pod: &PodTemplate,
    deployment: Option<&DeploymentValues>,
    host_ports: bool,
) -> EnvoyView {
    let p = &proxy.values;
    let envoy_image = image::merged(&pod.image.clone().unwrap_or_default(), &model.values.global.image);
    let stats = effective_stats(model, proxy);
    let graceful = pod.graceful_shutdown.clone().unwrap_or_default();
    let probes = on(pod.probes);
    let (http_port, https_port) = envoy_ports(pod);
    EnvoyView {
        name: proxy.id.clone(),
        image: image::reference(&envoy_image),
        pull_policy: image::pull_policy(&envoy_image),
        log_level: p.envoy_log_level.clone().filter(|l| !l.is_empty()),
        extra_args: p.extra_envoy_args.clone().unwrap_or_default(),
        // `customEnv` is read from `kind.deployment` only, so a DaemonSet has none.
        custom_env: deployment
            .into_iter()
            .flat_map(|d| d.custom_env.iter().flatten())
            .map(to_value)
            .collect(),
        disable_core_dumps: on(p.disable_core_dumps).to_string(),
        loop_back_address: loop_back_address(proxy),
        graceful_shutdown_sleep_seconds: on(graceful.enabled).then(|| graceful.sleep_time_seconds.unwrap_or(25)),
        // gateway-proxy-keys spec §2.4.
        security_context: security::envoy_container_context(model, pod),
        http_port,
        https_port,
        host_ports,
        monitoring_port: on(stats.enabled) && on(stats.pod_monitor_enabled),
        extra_ports: pod.extra_ports.iter().flatten().map(to_value).collect(),
        resources: pod.resources.as_ref().map(to_value).and_then(non_empty),
        probes,
        custom_readiness_probe: pod.custom_readiness_probe.as_ref().map(to_value).and_then(non_empty),
        liveness_probe: probes && on(pod.liveness_probe_enabled),
        custom_liveness_probe: pod.custom_liveness_probe.as_ref().map(to_value).and_then(non_empty),
        extra_mounts: p.extra_proxy_volume_mounts.iter().flatten().map(to_value).collect(),
        test_volume_mount: helper_is(&p.extra_proxy_volume_mount_helper, "gloo.testVolumeMount"),
    }
}

/// The sds container, when gloo mTLS or the Istio integration is on (Istio spec §2.4): its
/// image, resources and log level from `global.glooMtls`, its stats server and monitoring
/// port from the proxy's effective stats.
fn sds_container(model: &Model, proxy: &Proxy) -> Option<SdsView> {
    let global = &model.values.global;
    let mtls = &global.gloo_mtls;
    let stats = effective_stats(model, proxy);
    model.sds_on().then(|| {
        let sds_image = image::merged(&mtls.sds.image, &global.image);
        SdsView {
            image: (model.whole_images.sds.clone()).unwrap_or_else(|| image::reference(&sds_image)),
            pull_policy: image::pull_policy(&sds_image),
            security_context: security::container_context(model, mtls.sds.security_context.as_ref(), Map::new()),
            resources: mtls.sds_resources.as_ref().map(to_value).and_then(non_empty),
            log_level: mtls.sds.log_level.clone().filter(|l| !l.is_empty()),
            stats: on(stats.enabled),
            pod_monitor: on(stats.enabled) && on(stats.pod_monitor_enabled),
            readiness_probe: mtls.sds.readiness_probe.as_ref().map(to_value).and_then(non_empty),
        }
    })
}

/// The default istio-proxy container, when the Istio integration adds it (Istio spec §2.5):
/// the Istio agent's image and log level from `global.glooMtls.istioProxy`, its istiod
/// address, mesh and cluster from the proxy's values.
fn istio_proxy_container(model: &Model, proxy: &Proxy) -> Option<IstioProxyView> {
    let p = &proxy.values;
    let global = &model.values.global;
    let istio_proxy = &global.gloo_mtls.istio_proxy;
    model.default_istio_proxy().then(|| {
        let istio_image = image::merged(&istio_proxy.image, &global.image);
        let discovery = p.istio_discovery_address.clone().unwrap_or_default();
        IstioProxyView {
            image: (model.whole_images.istio_proxy.clone()).unwrap_or_else(|| image::reference(&istio_image)),
            pull_policy: image::pull_policy(&istio_image),
            security_context: security::container_context(model, istio_proxy.security_context.as_ref(), Map::new()),
            resources: global
                .gloo_mtls
                .envoy_sidecar_resources
                .as_ref()
                .map(to_value)
                .and_then(non_empty),
            log_level: istio_proxy.log_level.clone().unwrap_or_default(),
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::istio::ISTIO_VOLUMES;
    use crate::render::view::tests::{model, rendered};

    fn pod(set: &[&str]) -> Value {
        let model = model(set);
        let view = workload(&model, &model.proxies[0], "0", false);
        rendered("workload.yaml", "w", &view)["spec"]["template"]["spec"].clone()
    }

    /// The Istio volumes the template writes are those post-render knows by name.
    #[test]
    fn the_rendered_istio_volumes_are_the_istio_ones() {
        let names = |pod: &Value| -> Vec<String> {
            pod["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["name"].as_str().unwrap().to_string())
                .filter(|n| ISTIO_VOLUMES.contains(&n.as_str()))
                .collect()
        };
        assert_eq!(names(&pod(&["global.istioIntegration.enabled=true"])), ISTIO_VOLUMES);
        assert!(names(&pod(&[])).is_empty());
    }

    /// The user's `podAntiAffinity` replaces the chart's rule; the other affinities stay.
    #[test]
    fn a_user_pod_anti_affinity_replaces_the_charts() {
        let charts = pod(&["gatewayProxies.gatewayProxy.antiAffinity=true"]);
        assert_eq!(
            charts["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
                ["topologyKey"],
            "kubernetes.io/hostname"
        );
        let users = pod(&[
            "gatewayProxies.gatewayProxy.antiAffinity=true",
            "gatewayProxies.gatewayProxy.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey=zone",
            "gatewayProxies.gatewayProxy.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey=rack",
        ]);
        assert_eq!(
            users["affinity"],
            serde_json::json!({
                "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "rack"}]},
                "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "zone"}]},
            })
        );
        assert!(pod(&[]).get("affinity").is_none());
    }
}
