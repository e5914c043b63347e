//! The typed values model: one Rust type per section of the chart's values that changes the
//! gateway-proxy workload, its envoy bootstrap or the Upstreams we render.
//!
//! Sections we own reject unknown keys (`deny_unknown_fields`), so a misspelt key is an error
//! with a suggestion rather than a silent no-op. Chart keys that we accept but do not render are
//! typed as [`Unrendered`](super::unrendered::Unrendered) and reported once at info level. Kubernetes objects embedded in the
//! values (probes, tolerations, containers …) use the `k8s-openapi` types.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerPort, EnvVar, PodSecurityContext, Probe, ResourceRequirements, SecurityContext,
    Toleration, TopologySpreadConstraint, Volume, VolumeMount,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::image::Image;
use super::merge_policy::WithMergePolicy;
use super::unrendered::Unrendered;

/// The whole values file.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
#[schemars(title = "gloo-istio values")]
pub struct Values {
    /// Settings shared by every component of the chart.
    #[serde(default)]
    pub global: Global,
    /// The gateway: `gateway.enabled: false` renders no gateway proxy at all.
    #[serde(default)]
    pub gateway: Gateway,
    /// The gateway proxies, by name. Every entry inherits the keys of `gatewayProxy`.
    #[serde(default)]
    pub gateway_proxies: BTreeMap<String, GatewayProxy>,
    /// The gloo control plane; only the xDS ports are read.
    #[serde(default)]
    pub gloo: Gloo,
    /// Gloo Settings; only the keys that change the envoy bootstrap are read.
    #[serde(default)]
    pub settings: Settings,
    /// Kubernetes cluster facts.
    #[serde(default)]
    pub k8s: K8s,
    /// The access logger; its cluster is added to the bootstrap when enabled.
    #[serde(default)]
    pub access_logger: AccessLogger,
    /// Upstreams to render (a gloo-istio extension; the chart has no such key).
    #[serde(default)]
    pub upstreams: Vec<UpstreamValues>,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub namespace: Unrendered,
    /// The `gloo-gateway` GatewayClass and its default GatewayParameters (Kubernetes Gateway API).
    #[serde(default)]
    pub kube_gateway: super::kube_gateway::KubeGateway,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub discovery: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub ingress: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub ingress_proxy: Unrendered,
}

/// `global`: only the keys that reach the gateway proxy are typed; the rest are accepted.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Global {
    /// Fallback for every image field.
    #[serde(default)]
    pub image: Image,
    /// Prometheus stats defaults for every proxy without its own `stats`.
    #[serde(default)]
    pub gloo_stats: Stats,
    /// Internal (control-plane) mTLS, and the sds and istio-proxy containers' settings.
    #[serde(default)]
    pub gloo_mtls: GlooMtls,
    /// Deprecated switch for the sds and istio-proxy sidecars; use `istioIntegration.enabled`.
    #[serde(default, rename = "istioSDS")]
    pub istio_sds: IstioSds,
    /// The Istio integration.
    #[serde(default)]
    pub istio_integration: IstioIntegration,
    /// Labels added to the workload, ConfigMap and Service metadata (not to pods).
    pub additional_labels: Option<BTreeMap<String, String>>,
    /// Restricted Pod Security Standard defaults for every container.
    pub pod_security_standards: Option<PodSecurityStandards>,
    /// Global security settings.
    pub security_settings: Option<SecuritySettings>,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub extensions: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub gloo_rbac: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub extra_specs: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub extauth_custom_yaml: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub console: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub graphql: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub config_maps: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub extra_custom_resources: Unrendered,
}

/// `global.istioIntegration`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct IstioIntegration {
    /// Main switch: adds the sds and istio-proxy containers, the Istio volumes and the
    /// `gateway_proxy_sds` bootstrap cluster to every gateway proxy.
    pub enabled: Option<bool>,
    /// Automatic mTLS for Upstreams without an `sslConfig` (needs `enabled`).
    pub enable_auto_mtls: Option<bool>,
    /// Label gateway-proxy pods `sidecar.istio.io/inject: "false"`.
    pub disable_autoinjection: Option<bool>,
    /// Deprecated: ask Istio to inject its own full sidecar into the gateway proxy.
    pub enable_istio_sidecar_on_gateway: Option<bool>,
    /// Deprecated: revision label used with `enableIstioSidecarOnGateway`.
    pub istio_sidecar_rev_tag: Option<String>,
    /// Deprecated; labels the install namespace (not rendered by gloo-istio).
    #[serde(default)]
    pub label_install_namespace: Unrendered<bool>,
    /// Deprecated; labels the discovery pod (not rendered by gloo-istio).
    #[serde(default)]
    pub whitelist_discovery: Unrendered<bool>,
    /// Deprecated; Settings `istioOptions.appendXForwardedHost`.
    pub append_x_forwarded_host: Option<bool>,
}

/// `global.istioSDS`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct IstioSds {
    /// Deprecated alias of `istioIntegration.enabled` for the pods and the bootstrap only.
    pub enabled: Option<bool>,
    /// Containers that replace the default istio-proxy sidecar.
    pub custom_sidecars: Option<Vec<Container>>,
}

/// `global.glooMtls`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct GlooMtls {
    /// Internal mTLS between the proxies and gloo; also adds the sds container.
    pub enabled: Option<bool>,
    /// The sds container.
    #[serde(default)]
    pub sds: SdsContainer,
    /// The envoy sidecar of the gloo pod (not rendered by gloo-istio).
    #[serde(default)]
    pub envoy: Unrendered,
    /// The default istio-proxy container.
    #[serde(default)]
    pub istio_proxy: IstioProxyContainer,
    /// Resources of the default istio-proxy container.
    pub envoy_sidecar_resources: Option<ResourceRequirements>,
    /// Resources of every sds container.
    pub sds_resources: Option<ResourceRequirements>,
}

/// `global.glooMtls.sds`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SdsContainer {
    /// The sds image, merged over `global.image`.
    #[serde(default)]
    pub image: Image,
    /// The sds container securityContext.
    pub security_context: Option<WithMergePolicy<SecurityContext>>,
    /// `LOG_LEVEL` of the sds container.
    pub log_level: Option<String>,
    /// The sds readiness probe; `null` removes it.
    pub readiness_probe: Option<Probe>,
    /// Documented by the chart but never used; use `global.glooMtls.sdsResources`.
    #[serde(default)]
    pub sds_resources: Unrendered,
}

/// `global.glooMtls.istioProxy`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct IstioProxyContainer {
    /// The istio-proxy (`proxyv2`) image, merged over `global.image`.
    #[serde(default)]
    pub image: Image,
    /// The istio-proxy container securityContext.
    pub security_context: Option<WithMergePolicy<SecurityContext>>,
    /// `--proxyLogLevel` of the istio agent.
    pub log_level: Option<String>,
    /// Kubernetes Gateway API only: ignored for Gloo Edge proxies.
    #[serde(default)]
    pub istio_meta_mesh_id: Unrendered,
    /// Kubernetes Gateway API only: ignored for Gloo Edge proxies.
    #[serde(default)]
    pub istio_meta_cluster_id: Unrendered,
    /// Kubernetes Gateway API only: ignored for Gloo Edge proxies.
    #[serde(default)]
    pub istio_discovery_address: Unrendered,
}

/// Prometheus stats (`global.glooStats` and `gatewayProxies.<name>.stats`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Stats {
    /// Stats annotations, the prometheus listener and `START_STATS_SERVER` of sds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `prefix_rewrite` of the `/metrics` route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_prefix_rewrite: Option<String>,
    /// Datadog autodiscovery annotations (global only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_datadog_annotations: Option<bool>,
    /// Adds a `/stats` route (global only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_stats_route: Option<bool>,
    /// `prefix_rewrite` of the `/stats` route (global only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats_prefix_rewrite: Option<String>,
    /// A monitoring Service (not rendered by gloo-istio).
    #[serde(default, skip_serializing_if = "Unrendered::is_none")]
    pub service_monitor_enabled: Unrendered<bool>,
    /// The `http-monitoring` container ports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_monitor_enabled: Option<bool>,
}

/// `global.podSecurityStandards`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PodSecurityStandards {
    /// Container settings.
    pub container: Option<ContainerSecurityStandards>,
}

/// `global.podSecurityStandards.container`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ContainerSecurityStandards {
    /// Give every container the restricted profile's securityContext defaults.
    pub enable_restricted_container_defaults: Option<bool>,
    /// Seccomp profile type of those defaults.
    pub default_seccomp_profile_type: Option<SeccompProfileType>,
}

/// The seccomp profile types the chart allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum SeccompProfileType {
    RuntimeDefault,
    Localhost,
}

/// `global.securitySettings`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Drop every `runAsUser` and the gateway-proxy pod securityContext.
    pub floating_user_id: Option<bool>,
}

/// `gateway`: only the keys that reach the gateway proxy are read.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Gateway {
    /// When false, no gateway proxy is rendered.
    pub enabled: Option<bool>,
    /// When true, the pods lose the `gateway-proxy: live` label.
    pub upgrade: Option<bool>,
    /// Needs a Helm template the open-source chart does not define.
    pub update_values: Option<bool>,
    /// Not in the chart's key table: the chart's generator writes `Service: null` into its
    /// `values.yaml` (a Go struct field without a YAML name), and no template reads it.
    #[serde(default, rename = "Service")]
    pub service: Unrendered,
}

/// `gloo`: only the xDS ports are read.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Gloo {
    /// The gloo deployment.
    #[serde(default)]
    pub deployment: GlooDeployment,
}

/// `gloo.deployment`: only the xDS ports are read.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GlooDeployment {
    /// Port of gloo's xDS server.
    pub xds_port: Option<u16>,
    /// Port of gloo's REST xDS server.
    pub rest_xds_port: Option<u16>,
}

/// `settings`: only the keys that reach the bootstrap are read.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Namespace of gloo's xDS cache keys (the bootstrap `role`).
    pub write_namespace: Option<String>,
    /// AWS settings.
    pub aws: Option<AwsSettings>,
}

/// `settings.aws`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsSettings {
    /// Adds the `aws_sts_cluster` to every bootstrap.
    pub enable_service_account_credentials: Option<bool>,
    /// Region of the STS endpoint.
    pub sts_credentials_region: Option<String>,
}

/// `k8s`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct K8s {
    /// DNS suffix of cluster services.
    pub cluster_name: Option<String>,
}

/// `accessLogger`: only the keys that reach the bootstrap are read.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogger {
    /// Adds the `access_log_cluster` to every bootstrap.
    pub enabled: Option<bool>,
    /// Port of the access logger service.
    pub port: Option<u16>,
}

/// `gatewayProxies.<name>`: one gateway proxy. Entries other than `gatewayProxy` inherit every
/// key of `gatewayProxy` that they do not set.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct GatewayProxy {
    /// Deployment or DaemonSet.
    pub kind: Option<GatewayProxyKind>,
    /// Namespace of the workload and ConfigMap (default: the release namespace).
    pub namespace: Option<String>,
    /// The pod template.
    pub pod_template: Option<PodTemplate>,
    /// The envoy bootstrap ConfigMap.
    pub config_map: Option<ConfigMapValues>,
    /// Extra keys at the top of the envoy runtime static layer.
    pub custom_static_layer: Option<serde_json::Map<String, serde_json::Value>>,
    /// `overload.global_downstream_max_connections` of the static layer.
    pub global_downstream_max_connections: Option<u32>,
    /// `upstream.healthy_panic_threshold` of the static layer.
    pub healthy_panic_threshold: Option<i8>,
    /// Preferred pod anti-affinity against all gateway proxies (Deployment only).
    pub anti_affinity: Option<bool>,
    /// Pod affinity (Deployment only).
    pub affinity: Option<Affinity>,
    /// Topology spread constraints (Deployment only).
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    /// Tracing: `cluster` entries become static bootstrap clusters.
    pub tracing: Option<Tracing>,
    /// Extra envoy arguments.
    pub extra_envoy_args: Option<Vec<String>>,
    /// A chart test helper template adding containers (`gloo.testcontainer`).
    pub extra_containers_helper: Option<String>,
    /// A chart test helper template adding init containers (`gloo.testcontainer`).
    pub extra_init_containers_helper: Option<String>,
    /// Extra pod volumes.
    pub extra_volumes: Option<Vec<Volume>>,
    /// A chart test helper template adding volumes (`gloo.testVolume`).
    pub extra_volume_helper: Option<String>,
    /// A chart test helper template adding listeners (`gloo.testlistener`).
    pub extra_listeners_helper: Option<String>,
    /// Stats for this proxy; replaces `global.glooStats` as a whole when set.
    pub stats: Option<Stats>,
    /// Expose a read-only subset of the envoy admin API on port 8082.
    pub read_config: Option<bool>,
    /// Extra mounts of the envoy container.
    pub extra_proxy_volume_mounts: Option<Vec<VolumeMount>>,
    /// A chart test helper template adding envoy mounts (`gloo.testVolumeMount`).
    pub extra_proxy_volume_mount_helper: Option<String>,
    /// Address envoy's admin interface binds to.
    pub loop_back_address: Option<String>,
    /// Render nothing for this proxy.
    pub disabled: Option<bool>,
    /// Envoy API version of xDS.
    pub envoy_api_version: Option<String>,
    /// Bootstrap extensions.
    pub envoy_bootstrap_extensions: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
    /// The envoy overload manager.
    pub envoy_overload_manager: Option<OverloadManager>,
    /// Extra static clusters, appended last.
    pub envoy_static_clusters: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
    /// `ISTIO_META_MESH_ID` (default `cluster.local`).
    pub istio_meta_mesh_id: Option<String>,
    /// `ISTIO_META_CLUSTER_ID` (default `Kubernetes`).
    pub istio_meta_cluster_id: Option<String>,
    /// istiod address in `PROXY_CONFIG`, and `CA_ADDR` by default.
    pub istio_discovery_address: Option<String>,
    /// `CA_ADDR` when set.
    pub istio_spiffe_cert_provider_address: Option<String>,
    /// `--log-level` of envoy.
    pub envoy_log_level: Option<String>,
    /// Top-level `stats_config` of the bootstrap.
    pub envoy_stats_config: Option<serde_json::Map<String, serde_json::Value>>,
    /// Address of the xDS server (default `gloo.<namespace>.svc.<cluster domain>`).
    pub xds_service_address: Option<String>,
    /// Port of both xDS clusters.
    pub xds_service_port: Option<u16>,
    /// TCP keepalive of the xDS clusters.
    pub tcp_keepalive_time_seconds: Option<u32>,
    /// `DISABLE_CORE_DUMPS` of the envoy container.
    pub disable_core_dumps: Option<bool>,
    /// Fields merged over the rendered workload (never inherited).
    pub kube_resource_override: Option<serde_json::Map<String, serde_json::Value>>,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub service: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub gateway_settings: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub failover: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub horizontal_pod_autoscaler: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub pod_disruption_budget: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub read_config_multicluster: Unrendered,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub disable_extauth_sidecar: Unrendered,
}

/// `gatewayProxies.<name>.kind`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct GatewayProxyKind {
    /// Forces the workload kind.
    pub workload_type: Option<WorkloadType>,
    /// Present (even `{}`): the workload is a Deployment; absent or null: a DaemonSet.
    pub deployment: Option<DeploymentValues>,
    /// DaemonSet host networking (read even for a Deployment).
    pub daemon_set: Option<DaemonSetValues>,
}

/// The two workload kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum WorkloadType {
    Deployment,
    DaemonSet,
}

/// `kind.deployment`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DeploymentValues {
    /// `spec.replicas`; 0 or null leaves it out (for an autoscaler).
    pub replicas: Option<i32>,
    /// Pod priority class.
    pub priority_class_name: Option<String>,
    /// Env vars at the head of the envoy container's env.
    pub custom_env: Option<Vec<EnvVar>>,
    /// Accepted by the chart's schema but never read: use `podTemplate`.
    #[serde(default)]
    pub restart_policy: Unrendered,
    /// Accepted by the chart's schema but never read: use `podTemplate.nodeName`.
    #[serde(default)]
    pub node_name: Unrendered,
    /// Accepted by the chart's schema but never read: use `podTemplate.nodeSelector`.
    #[serde(default)]
    pub node_selector: Unrendered,
    /// Accepted by the chart's schema but never read: use `podTemplate.tolerations`.
    #[serde(default)]
    pub tolerations: Unrendered,
    /// Accepted by the chart's schema but never read: use `affinity` on the proxy.
    #[serde(default)]
    pub affinity: Unrendered,
    /// Accepted by the chart's schema but never read.
    #[serde(default)]
    pub host_aliases: Unrendered,
    /// Accepted by the chart's schema but never read: use `podTemplate.extraInitContainers`.
    #[serde(default)]
    pub init_containers: Unrendered,
    /// Accepted by the chart's schema but never read: use `kubeResourceOverride` on the proxy.
    #[serde(default)]
    pub kube_resource_override: Unrendered,
}

/// `kind.daemonSet`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DaemonSetValues {
    /// Host ports on `http`/`https` and host networking.
    pub host_port: Option<bool>,
    /// Host networking with `hostPort` (default true).
    pub host_network: Option<bool>,
}

/// `gatewayProxies.<name>.podTemplate`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PodTemplate {
    /// Container port `http`.
    pub http_port: Option<u16>,
    /// Container port `https`.
    pub https_port: Option<u16>,
    /// More envoy container ports.
    pub extra_ports: Option<Vec<ContainerPort>>,
    /// Pod annotations.
    pub extra_annotations: Option<BTreeMap<String, String>>,
    /// Pod node name.
    pub node_name: Option<String>,
    /// Pod node selector (replaces an inherited one as a whole).
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Pod tolerations.
    pub tolerations: Option<Vec<Toleration>>,
    /// Readiness probe of envoy (and liveness with `livenessProbeEnabled`).
    pub probes: Option<bool>,
    /// Liveness probe of envoy, with `probes`.
    pub liveness_probe_enabled: Option<bool>,
    /// Resources of the envoy container.
    pub resources: Option<ResourceRequirements>,
    /// Without it, envoy gets the `NET_BIND_SERVICE` capability.
    pub disable_net_bind: Option<bool>,
    /// `runAsNonRoot` of the envoy container.
    pub run_unprivileged: Option<bool>,
    /// Leave `runAsUser` to the cluster.
    pub floating_user_id: Option<bool>,
    /// User id of the pod and the envoy container.
    pub run_as_user: Option<i64>,
    /// `fsGroup` of the pod.
    pub fs_group: Option<i64>,
    /// A preStop hook that fails health checks before envoy stops.
    pub graceful_shutdown: Option<GracefulShutdown>,
    /// Pod termination grace period.
    pub termination_grace_period_seconds: Option<i64>,
    /// Replaces the default readiness probe.
    pub custom_readiness_probe: Option<Probe>,
    /// Replaces the default liveness probe.
    pub custom_liveness_probe: Option<Probe>,
    /// Pod labels.
    pub extra_gateway_proxy_labels: Option<BTreeMap<String, String>>,
    /// Containers placed before the envoy container.
    pub extra_containers: Option<Vec<Container>>,
    /// Init containers.
    pub extra_init_containers: Option<Vec<Container>>,
    /// Render the pod securityContext.
    pub enable_pod_security_context: Option<bool>,
    /// The pod securityContext.
    pub pod_security_context: Option<WithMergePolicy<PodSecurityContext>>,
    /// The envoy image, merged over `global.image`.
    pub image: Option<Image>,
    /// The envoy container securityContext.
    pub gloo_container_security_context: Option<WithMergePolicy<SecurityContext>>,
}

/// `podTemplate.gracefulShutdown`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct GracefulShutdown {
    /// Add the preStop hook.
    pub enabled: Option<bool>,
    /// Seconds to sleep in the hook.
    pub sleep_time_seconds: Option<i64>,
}

/// `gatewayProxies.<name>.configMap`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ConfigMapValues {
    /// Replaces the whole ConfigMap data (and so the default bootstrap).
    pub data: Option<BTreeMap<String, String>>,
    /// Fields merged over the rendered ConfigMap (never inherited).
    pub kube_resource_override: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `gatewayProxies.<name>.tracing`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Tracing {
    /// Used by the chart's default Gateway resources; not rendered by gloo-istio.
    #[serde(default)]
    pub provider: Unrendered,
    /// Static clusters for the tracing provider.
    pub cluster: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
}

/// `gatewayProxies.<name>.envoyOverloadManager`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct OverloadManager {
    /// Add `overload_manager` to the bootstrap.
    pub enabled: Option<bool>,
    /// Overload actions.
    pub actions: Option<Vec<serde_json::Value>>,
    /// `buffer_factory_config`.
    pub buffer_factory_config: Option<serde_json::Map<String, serde_json::Value>>,
    /// `refresh_interval`.
    pub refresh_interval: Option<String>,
    /// Resource monitors.
    pub resource_monitors: Option<Vec<serde_json::Value>>,
}

/// An Upstream to render (`upstreams[]`, a gloo-istio extension).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct UpstreamValues {
    /// Upstream name (default `<namespace>-<service>-<port>`, as Gloo discovery names them).
    pub name: Option<String>,
    /// The Kubernetes service.
    pub service: String,
    /// The service's namespace.
    pub namespace: String,
    /// The service port.
    pub port: u16,
    /// How the gateway proxy talks TLS to it.
    #[serde(default)]
    pub mtls: UpstreamMtlsMode,
}

/// mTLS modes of an Upstream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UpstreamMtlsMode {
    /// Auto-mTLS when it is on, otherwise the sds sslConfig when Istio is on, otherwise none.
    #[default]
    Auto,
    /// The Istio sslConfig served by the sds sidecar.
    IstioSds,
    /// The file-mounted certificates of Istio before 1.1 (the `istio.default` secret).
    IstioFiles,
    /// Plain text.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::ImageVariant;

    #[test]
    fn an_empty_image_variant_is_unset_and_falls_back_to_the_global_one() {
        let own: Image = serde_json::from_value(serde_json::json!({"variant": ""})).unwrap();
        assert_eq!(own.variant, None);
        let global: Image = serde_json::from_value(serde_json::json!({"variant": "distroless"})).unwrap();
        assert_eq!(
            crate::values::image::merged(&own, &global).variant,
            Some(ImageVariant::Distroless)
        );
        assert!(serde_json::from_value::<Image>(serde_json::json!({"variant": "fipz"})).is_err());
    }

    #[test]
    fn an_unrendered_value_of_another_type_reads_as_unset() {
        let flag: Unrendered<bool> = serde_json::from_value(serde_json::json!("yes")).unwrap();
        assert_eq!(flag, Unrendered(None));
    }
}
