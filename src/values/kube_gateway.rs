//! `kubeGateway`: the Kubernetes Gateway API side of the Gloo chart. With `enabled`, the chart
//! renders the `gloo-gateway` GatewayClass and its default GatewayParameters, filled from
//! `gatewayParameters.glooGateway` (k8s-gateway spec §2). Kubernetes objects embedded here use
//! the `k8s-openapi` types, so a misspelt field is an error, as for the Edge proxies.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, Probe, ResourceRequirements, SecurityContext, TopologySpreadConstraint,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::image::Image;
use super::unrendered::Unrendered;

/// `kubeGateway`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeGateway {
    /// Renders the `gloo-gateway` GatewayClass and its default GatewayParameters (spec §2.1).
    pub enabled: Option<bool>,
    /// The class default GatewayParameters.
    #[serde(default)]
    pub gateway_parameters: Option<GatewayParametersValues>,
    /// Chart key, not rendered by gloo-istio.
    #[serde(default)]
    pub portal: Unrendered,
}

/// `kubeGateway.gatewayParameters`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayParametersValues {
    /// `GG` of the spec: the settings of the class default GatewayParameters. `null` empties it
    /// (spec §2.5, chart-04).
    pub gloo_gateway: Option<GlooGateway>,
}

/// `kubeGateway.gatewayParameters.glooGateway` (spec §2.3).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GlooGateway {
    /// `spec.kube.deployment`.
    pub proxy_deployment: Option<ProxyDeployment>,
    /// `spec.kube.service`.
    pub service: Option<KubeGatewayService>,
    /// `spec.kube.serviceAccount`.
    pub service_account: Option<ExtraMetadata>,
    /// Drops every `runAsUser` of the proxies; `global.securitySettings.floatingUserId` wins
    /// when set (spec §2.5).
    pub floating_user_id: Option<bool>,
    /// The envoy container `gloo-gateway`.
    pub envoy_container: Option<EnvoyContainer>,
    /// Pod settings of the proxies.
    pub pod_template: Option<PodTemplate>,
    /// The sds container (needed when the Istio integration or gloo mTLS is on, spec §9.A6).
    pub sds_container: Option<SdsContainer>,
    /// The istio-proxy container.
    pub istio: Option<IstioValues>,
    /// The prometheus listener and annotations; written only with an `istioProxyContainer`
    /// (spec §2.5).
    pub stats: Option<KubeGatewayStats>,
    /// The AI extension container.
    pub ai_extension: Option<AiExtension>,
}

/// `proxyDeployment`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProxyDeployment {
    /// `spec.replicas` of every proxy Deployment of the class.
    pub replicas: Option<i32>,
}

/// `service`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeGatewayService {
    /// The Service type (`LoadBalancer` when unset).
    #[serde(rename = "type")]
    pub service_type: Option<String>,
    /// `externalTrafficPolicy` of the Service.
    pub external_traffic_policy: Option<String>,
    /// Labels added to the Service.
    pub extra_labels: Option<BTreeMap<String, serde_json::Value>>,
    /// Annotations added to the Service.
    pub extra_annotations: Option<BTreeMap<String, serde_json::Value>>,
    /// Node ports by Service port (not in the chart's values struct, rendered when given).
    pub ports: Option<Vec<ServicePortValues>>,
}

/// One entry of `service.ports`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServicePortValues {
    /// The Service port this entry is for.
    pub port: i32,
    /// Its node port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_port: Option<i32>,
}

/// `extraLabels` and `extraAnnotations` (of the ServiceAccount).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtraMetadata {
    /// Labels added to the object.
    pub extra_labels: Option<BTreeMap<String, serde_json::Value>>,
    /// Annotations added to the object.
    pub extra_annotations: Option<BTreeMap<String, serde_json::Value>>,
}

/// `envoyContainer`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvoyContainer {
    /// The envoy image, completed from `global.image` (spec §2.4).
    pub image: Option<Image>,
    /// The envoy container's securityContext.
    pub security_context: Option<SecurityContext>,
    /// The envoy container's resources.
    pub resources: Option<ResourceRequirements>,
}

/// `podTemplate`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodTemplate {
    /// Gates both probes (spec §2.5).
    pub probes: Option<bool>,
    /// The readiness probe used instead of the default one when `probes` is on.
    pub custom_readiness_probe: Option<Probe>,
    /// The liveness probe, used only when `probes` is on.
    pub custom_liveness_probe: Option<Probe>,
    /// `terminationGracePeriodSeconds` of the pods.
    pub termination_grace_period_seconds: Option<i64>,
    /// The preStop hook that fails the health check before envoy stops.
    pub graceful_shutdown: Option<GracefulShutdown>,
    /// `topologySpreadConstraints` of the pods.
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
}

/// `podTemplate.gracefulShutdown`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GracefulShutdown {
    /// Adds the preStop hook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Seconds the hook sleeps (10 when unset or 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sleep_time_seconds: Option<i64>,
}

/// `sdsContainer`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SdsContainer {
    /// The sds image, completed from `global.image`.
    pub image: Option<Image>,
    /// The sds container's securityContext.
    pub security_context: Option<SecurityContext>,
    /// `LOG_LEVEL` of sds (`bootstrap.logLevel` in the GatewayParameters).
    pub log_level: Option<String>,
    /// The sds container's resources (`resources` in the GatewayParameters).
    pub sds_resources: Option<ResourceRequirements>,
}

/// `istio`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IstioValues {
    /// Accepted by the CRD and never used by the deployer; at this level it removes
    /// `istioProxyContainer` and `stats` from the class default (spec §9.A2).
    pub custom_sidecars: Option<Vec<Container>>,
    /// The istio-proxy container.
    pub istio_proxy_container: Option<IstioProxyContainer>,
}

/// `istio.istioProxyContainer`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IstioProxyContainer {
    /// The proxyv2 image, completed from `global.image`.
    pub image: Option<Image>,
    /// The istio-proxy container's securityContext.
    pub security_context: Option<SecurityContext>,
    /// `--proxyLogLevel`.
    pub log_level: Option<String>,
    /// `CA_ADDR` and the `PROXY_CONFIG` discovery address: istiod of the mesh (or revision).
    pub istio_discovery_address: Option<String>,
    /// `ISTIO_META_MESH_ID`.
    pub istio_meta_mesh_id: Option<String>,
    /// `ISTIO_META_CLUSTER_ID`.
    pub istio_meta_cluster_id: Option<String>,
}

/// `stats`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeGatewayStats {
    /// The prometheus listener, port and annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `prefix_rewrite` of `/metrics`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_prefix_rewrite: Option<String>,
    /// Adds the `/stats` route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_stats_route: Option<bool>,
    /// `prefix_rewrite` of `/stats`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats_route_prefix_rewrite: Option<String>,
}

/// `aiExtension`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AiExtension {
    /// Adds the `gloo-ai-extension` container.
    pub enabled: Option<bool>,
    /// Its image, completed from `global.image`.
    pub image: Option<Image>,
    /// Its securityContext.
    pub security_context: Option<SecurityContext>,
    /// Its resources.
    pub resources: Option<ResourceRequirements>,
    /// Its environment.
    pub env: Option<Vec<EnvVar>>,
    /// Its ports.
    pub ports: Option<Vec<ContainerPort>>,
}

impl KubeGateway {
    /// Whether the chart renders the GatewayClass and its GatewayParameters.
    pub fn is_enabled(&self) -> bool {
        self.enabled == Some(true)
    }

    /// `GG`: empty when null or missing.
    pub fn gloo_gateway(&self) -> GlooGateway {
        self.gateway_parameters
            .as_ref()
            .and_then(|p| p.gloo_gateway.clone())
            .unwrap_or_default()
    }
}
