//! The views of the objects the deployer renders for one Gateway (k8s-gateway spec §5–7): what
//! the merged GatewayParameters, the Gateway and the controller settings decide.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::istio::{ISTIO_PROXY_CONTAINER, SDS_CLUSTER, SDS_CONTAINER, SDS_PORT};
use crate::values::gateway_api::Listener;

/// What the controller reads once at start (spec §3).
#[derive(Debug, Clone)]
pub struct ControllerSettings {
    pub xds_host: String,
    pub xds_port: u16,
    pub istio: bool,
    pub gloo_mtls: bool,
    /// `(cluster, uri)` of the AWS STS cluster, with service-account credentials.
    pub aws_sts: Option<(String, String)>,
    pub version: String,
}

/// One Service and container port (spec §5.1).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PortView {
    pub name: String,
    pub port: i64,
    pub target_port: i64,
    pub node_port: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetadataView {
    pub labels: BTreeMap<String, Value>,
    pub annotations: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceView {
    pub labels: BTreeMap<String, Value>,
    pub annotations: Option<Value>,
    #[serde(rename = "type")]
    pub service_type: String,
    pub external_traffic_policy: Option<Value>,
    pub cluster_ip: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PodView {
    pub image_pull_secrets: Option<Value>,
    pub security_context: Option<Value>,
    pub node_selector: Option<Value>,
    pub affinity: Option<Value>,
    pub tolerations: Option<Value>,
    pub termination_grace_period_seconds: Option<Value>,
    pub topology_spread_constraints: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvoyView {
    pub image: String,
    pub pull_policy: String,
    pub security_context: Option<Value>,
    pub log_level: Option<String>,
    pub component_log_level: String,
    pub readiness_probe: Option<Value>,
    pub liveness_probe: Option<Value>,
    pub pre_stop_sleep_seconds: Option<i64>,
    pub resources: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SdsView {
    pub name: &'static str,
    pub port: u16,
    pub image: String,
    pub pull_policy: Option<String>,
    pub log_level: Option<String>,
    pub resources: Option<Value>,
    pub security_context: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvView {
    pub name: &'static str,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IstioProxyView {
    pub name: &'static str,
    pub image: String,
    pub pull_policy: Option<String>,
    pub log_level: String,
    pub mesh_env: Vec<EnvView>,
    pub resources: Option<Value>,
    pub security_context: Option<Value>,
}

/// The controller ownerReference to the Gateway (spec §7.3), when the Gateway's uid is known.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
    pub controller: bool,
}

/// The `gloo-ai-extension` container (spec §6.7.5).
#[derive(Debug, Clone, Serialize)]
pub struct AiView {
    pub image: String,
    pub pull_policy: Option<String>,
    /// `POD_NAME`, `POD_NAMESPACE`, then the user's.
    pub env: Vec<Value>,
    pub ports: Option<Value>,
    pub resources: Option<Value>,
    pub security_context: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretView {
    pub ca: String,
    pub cert: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatsView {
    pub route_prefix_rewrite: Option<String>,
    pub stats_route: bool,
    pub stats_prefix_rewrite: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AwsView {
    pub cluster: String,
    pub uri: String,
}

/// The context of `k8s-gateway/envoy-bootstrap.yaml`.
#[derive(Debug, Clone, Serialize)]
pub struct BootstrapView {
    pub node_cluster: String,
    pub role: String,
    pub health_check: bool,
    pub stats: Option<StatsView>,
    pub xds_host: String,
    pub xds_port: u16,
    pub gloo_mtls: bool,
    pub sds: bool,
    pub sds_cluster: &'static str,
    pub sds_port: u16,
    pub aws: Option<AwsView>,
}

/// The context of every deployer template but the bootstrap.
#[derive(Debug, Clone, Serialize)]
pub struct DeployerView {
    pub name: String,
    pub namespace: String,
    /// Every object's `ownerReferences`: empty when the Gateway has no `metadata.uid`.
    pub owner_references: Vec<OwnerReference>,
    pub labels: BTreeMap<String, Value>,
    pub selector: BTreeMap<String, Value>,
    pub service_account: MetadataView,
    pub service: ServiceView,
    pub ports: Vec<PortView>,
    pub replicas: Option<Value>,
    pub pod_annotations: BTreeMap<String, Value>,
    pub pod_labels: BTreeMap<String, Value>,
    pub pod: PodView,
    pub stats: bool,
    pub envoy: EnvoyView,
    pub sds: Option<SdsView>,
    pub istio_proxy: Option<IstioProxyView>,
    pub ai: Option<AiView>,
    /// `data` of the ConfigMap `<name>-ai-stats-config` that comes with the AI extension:
    /// `stats.json` and `tracing.json`, each when set.
    pub ai_config_data: BTreeMap<String, String>,
    pub gloo_mtls: bool,
    pub mtls_secret: Option<SecretView>,
    /// Filled by the renderer: `envoy.yaml` of the ConfigMap.
    pub config_map_data: BTreeMap<String, String>,
}

/// Why the deployer renders nothing for a Gateway: the chart's `nil pointer` failures (§6.1),
/// and the controller's own (§9.B6).
#[derive(Debug, Clone, PartialEq)]
pub enum Missing {
    SdsContainer,
    IstioProxyContainer,
    AiExtensionEnabled,
}

/// `F`: `gloo-proxy-<name>` cut to 63 characters, without a trailing `-` (spec §7.1).
pub fn full_name(gateway: &str) -> String {
    let mut name: String = format!("gloo-proxy-{gateway}").chars().take(63).collect();
    if name.ends_with('-') {
        name.pop();
    }
    name
}

/// A field of `kube` that the controller copies into the values: absent, empty map and empty
/// list are left out (JSON `omitempty`, spec §5); inside Kubernetes types empty lists and maps
/// are dropped too, except `nodeSelectorTerms`.
fn present(kube: &Value, pointer: &str) -> Option<Value> {
    let mut value = kube.pointer(pointer)?.clone();
    prune(&mut value);
    match &value {
        Value::Null => None,
        Value::Object(m) if m.is_empty() => None,
        Value::Array(a) if a.is_empty() => None,
        _ => Some(value),
    }
}

fn prune(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, child| {
                prune(child);
                match child {
                    Value::Null => false,
                    Value::Array(a) => !a.is_empty() || key == "nodeSelectorTerms",
                    Value::Object(m) => {
                        !(m.is_empty()
                            && matches!(
                                key.as_str(),
                                "limits" | "requests" | "matchLabels" | "nodeSelector" | "labels" | "annotations"
                            ))
                    }
                    _ => true,
                }
            });
        }
        Value::Array(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}

fn string_at(kube: &Value, pointer: &str) -> Option<String> {
    kube.pointer(pointer).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    })
}

/// `"<registry>/<repository>:<tag>[@digest]"`, a missing part as Go prints a nil (spec §6.7.2).
fn image_reference(image: Option<&Value>) -> String {
    let part = |key: &str| {
        image
            .and_then(|i| i.get(key))
            .and_then(Value::as_str)
            .map_or_else(|| "%!s(<nil>)".to_string(), str::to_string)
    };
    let mut out = format!("{}/{}:{}", part("registry"), part("repository"), part("tag"));
    if let Some(digest) = image
        .and_then(|i| i.get("digest"))
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
    {
        out.push('@');
        out.push_str(digest);
    }
    out
}

fn pull_policy(image: Option<&Value>) -> Option<String> {
    image
        .and_then(|i| i.get("pullPolicy"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Service ports from the listeners (spec §5.1), in their deployer order. Without listeners the
/// chart's default port 80 → 80 applies.
pub fn ports(listeners: &[Listener], kube: &Value) -> Vec<PortView> {
    if listeners.is_empty() {
        return vec![PortView {
            name: "http".into(),
            port: 80,
            target_port: 80,
            node_port: None,
        }];
    }
    let node_port_type = kube.pointer("/service/type").and_then(Value::as_str) == Some("NodePort");
    let service_ports = kube.pointer("/service/ports").and_then(Value::as_array);
    let mut out: Vec<PortView> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for listener in listeners {
        let port = listener.port;
        if !seen.insert(port) {
            continue;
        }
        let node_port = if node_port_type {
            service_ports
                .and_then(|ports| {
                    ports
                        .iter()
                        .find(|p| p.get("port").and_then(Value::as_i64) == Some(port))
                })
                .and_then(|p| p.get("nodePort"))
                .and_then(Value::as_i64)
        } else {
            None
        };
        out.push(PortView {
            name: sanitize_port_name(&listener.name),
            port,
            target_port: if port < 1024 { port + 8000 } else { port },
            node_port,
        });
    }
    out.sort_by_key(|p| p.port);
    out
}

/// Runs of characters outside `[a-zA-Z0-9-]` become `-`, runs of `-` one, cut to 15.
fn sanitize_port_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' };
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    out.chars().take(15).collect()
}

/// spec §4.3: with `floatingUserId`, every `runAsUser` goes.
pub fn drop_run_as_user(kube: &mut Value) {
    for pointer in [
        "/podTemplate/securityContext",
        "/envoyContainer/securityContext",
        "/sdsContainer/securityContext",
        "/istio/istioProxyContainer/securityContext",
        "/aiExtension/securityContext",
    ] {
        if let Some(Value::Object(context)) = kube.pointer_mut(pointer) {
            context.remove("runAsUser");
        }
    }
}

fn labeled(pairs: &[(&str, &str)]) -> BTreeMap<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect()
}

fn extend(map: &mut BTreeMap<String, Value>, extra: Option<Value>) {
    if let Some(Value::Object(extra)) = extra {
        map.extend(extra);
    }
}

/// The views of one Gateway's objects from the merged `kube` (after §4.3).
pub fn deployer_view(
    gateway_name: &str,
    namespace: &str,
    gateway: &Value,
    listeners: &[Listener],
    kube: &Value,
    settings: &ControllerSettings,
    mtls_secret: Option<SecretView>,
) -> Result<(DeployerView, BootstrapView), Missing> {
    let name = full_name(gateway_name);
    let selector = labeled(&[
        ("app.kubernetes.io/name", &name),
        ("app.kubernetes.io/instance", gateway_name),
        ("gateway.networking.k8s.io/gateway-name", gateway_name),
    ]);
    let mut labels = selector.clone();
    labels.extend(labeled(&[
        ("gloo", "kube-gateway"),
        ("helm.sh/chart", &format!("gloo-gateway-{}", settings.version)),
        ("app.kubernetes.io/version", &settings.version),
        ("app.kubernetes.io/managed-by", "Helm"),
    ]));
    let stats = kube
        .get("stats")
        .filter(|s| s.get("enabled") == Some(&Value::Bool(true)));
    let sds_on = settings.istio || settings.gloo_mtls;
    if sds_on && kube.get("sdsContainer").is_none() {
        return Err(Missing::SdsContainer);
    }
    if settings.istio && kube.pointer("/istio/istioProxyContainer").is_none() {
        return Err(Missing::IstioProxyContainer);
    }
    let ai_extension = kube.get("aiExtension").filter(|a| !a.is_null());
    if ai_extension.is_some_and(|a| a.get("enabled").is_none_or(Value::is_null)) {
        return Err(Missing::AiExtensionEnabled);
    }
    let ai_on = ai_extension.is_some_and(|a| a.get("enabled") == Some(&Value::Bool(true)));

    let mut service_account_labels = labels.clone();
    extend(
        &mut service_account_labels,
        present(kube, "/serviceAccount/extraLabels"),
    );
    let mut service_labels = labels.clone();
    extend(&mut service_labels, present(kube, "/service/extraLabels"));
    let mut pod_annotations = BTreeMap::new();
    extend(&mut pod_annotations, present(kube, "/podTemplate/extraAnnotations"));
    if stats.is_some() {
        pod_annotations.extend(labeled(&[
            ("prometheus.io/path", "/metrics"),
            ("prometheus.io/port", "9091"),
            ("prometheus.io/scrape", "true"),
        ]));
    }
    let mut pod_labels = selector.clone();
    extend(&mut pod_labels, present(kube, "/podTemplate/extraLabels"));

    let components = kube
        .pointer("/envoyContainer/bootstrap/componentLogLevels")
        .and_then(Value::as_object)
        .map(|levels| {
            let mut pairs: Vec<String> = levels
                .iter()
                .map(|(k, v)| format!("{k}:{}", v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect();
            pairs.sort();
            pairs.join(",")
        })
        .unwrap_or_default();
    let graceful = kube.pointer("/podTemplate/gracefulShutdown");
    let pre_stop_sleep_seconds = graceful
        .filter(|g| g.get("enabled") == Some(&Value::Bool(true)))
        .map(|g| {
            g.get("sleepTimeSeconds")
                .and_then(Value::as_i64)
                .filter(|s| *s != 0)
                .unwrap_or(10)
        });
    let envoy_image = kube.pointer("/envoyContainer/image");
    let readiness_probe = present(kube, "/podTemplate/readinessProbe");

    let sds = sds_on.then(|| {
        let image = kube.pointer("/sdsContainer/image");
        SdsView {
            name: SDS_CONTAINER,
            port: SDS_PORT,
            image: image_reference(image),
            pull_policy: pull_policy(image),
            log_level: string_at(kube, "/sdsContainer/bootstrap/logLevel"),
            resources: present(kube, "/sdsContainer/resources"),
            security_context: present(kube, "/sdsContainer/securityContext"),
        }
    });
    let istio_proxy = settings.istio.then(|| {
        let image = kube.pointer("/istio/istioProxyContainer/image");
        let field = |key: &str| string_at(kube, &format!("/istio/istioProxyContainer/{key}"));
        let address = field("istioDiscoveryAddress");
        // PROXY_CONFIG is written as valid JSON: upstream leaves the address unquoted (§9.A5).
        let proxy_config = format!(
            "{{\"discoveryAddress\": {} }}\n",
            serde_json::to_string(address.as_deref().unwrap_or("")).unwrap_or_default()
        );
        IstioProxyView {
            name: ISTIO_PROXY_CONTAINER,
            image: image_reference(image),
            pull_policy: pull_policy(image),
            log_level: field("logLevel").unwrap_or_default(),
            mesh_env: vec![
                EnvView {
                    name: "CA_ADDR",
                    value: address.clone(),
                },
                EnvView {
                    name: "ISTIO_META_MESH_ID",
                    value: field("istioMetaMeshId"),
                },
                EnvView {
                    name: "ISTIO_META_CLUSTER_ID",
                    value: field("istioMetaClusterId"),
                },
                EnvView {
                    name: "PROXY_CONFIG",
                    value: Some(proxy_config),
                },
            ],
            resources: present(kube, "/istio/istioProxyContainer/resources"),
            security_context: present(kube, "/istio/istioProxyContainer/securityContext"),
        }
    });
    let ai = ai_on.then(|| {
        let image = kube.pointer("/aiExtension/image");
        AiView {
            image: image_reference(image),
            pull_policy: pull_policy(image),
            env: [("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace")]
                .into_iter()
                .map(|(name, path)| json!({"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}))
                .chain(
                    present(kube, "/aiExtension/env")
                        .and_then(|e| e.as_array().cloned())
                        .unwrap_or_default(),
                )
                .collect(),
            ports: present(kube, "/aiExtension/ports"),
            resources: present(kube, "/aiExtension/resources"),
            security_context: present(kube, "/aiExtension/securityContext"),
        }
    });
    let ai_config_data = if ai_on {
        [
            ("stats.json", "/aiExtension/stats"),
            ("tracing.json", "/aiExtension/tracing"),
        ]
        .into_iter()
        .filter_map(|(file, pointer)| {
            let value = present(kube, pointer)?;
            Some((file.to_string(), serde_json::to_string(&value).ok()?))
        })
        .collect()
    } else {
        BTreeMap::new()
    };
    let owner_references = owner_reference(gateway, gateway_name).into_iter().collect();
    let view = DeployerView {
        name: name.clone(),
        namespace: namespace.to_string(),
        owner_references,
        labels: labels.clone(),
        selector,
        service_account: MetadataView {
            labels: service_account_labels,
            annotations: present(kube, "/serviceAccount/extraAnnotations"),
        },
        service: ServiceView {
            labels: service_labels,
            annotations: present(kube, "/service/extraAnnotations"),
            service_type: string_at(kube, "/service/type").unwrap_or_else(|| "LoadBalancer".into()),
            external_traffic_policy: present(kube, "/service/externalTrafficPolicy"),
            cluster_ip: present(kube, "/service/clusterIP"),
        },
        ports: ports(listeners, kube),
        replicas: present(kube, "/deployment/replicas").filter(|r| r.as_i64() != Some(0)),
        pod_annotations,
        pod_labels,
        pod: PodView {
            image_pull_secrets: present(kube, "/podTemplate/imagePullSecrets"),
            security_context: present(kube, "/podTemplate/securityContext"),
            node_selector: present(kube, "/podTemplate/nodeSelector"),
            affinity: present(kube, "/podTemplate/affinity"),
            tolerations: present(kube, "/podTemplate/tolerations"),
            termination_grace_period_seconds: present(kube, "/podTemplate/terminationGracePeriodSeconds")
                .filter(|t| t.as_i64() != Some(0)),
            topology_spread_constraints: present(kube, "/podTemplate/topologySpreadConstraints"),
        },
        stats: stats.is_some(),
        envoy: EnvoyView {
            image: image_reference(envoy_image.filter(|i| i.is_object())),
            pull_policy: pull_policy(envoy_image).unwrap_or_else(|| "IfNotPresent".into()),
            security_context: present(kube, "/envoyContainer/securityContext"),
            log_level: string_at(kube, "/envoyContainer/bootstrap/logLevel"),
            component_log_level: components,
            readiness_probe: readiness_probe.clone(),
            liveness_probe: present(kube, "/podTemplate/livenessProbe"),
            pre_stop_sleep_seconds,
            resources: present(kube, "/envoyContainer/resources"),
        },
        sds,
        istio_proxy,
        ai,
        ai_config_data,
        gloo_mtls: settings.gloo_mtls,
        mtls_secret,
        config_map_data: BTreeMap::new(),
    };
    let bootstrap = BootstrapView {
        node_cluster: format!("{name}.{namespace}"),
        role: format!("gloo-kube-gateway-api~{namespace}~{namespace}-{gateway_name}"),
        health_check: readiness_probe.is_some(),
        stats: stats.map(|s| StatsView {
            route_prefix_rewrite: string_at(s, "/routePrefixRewrite"),
            stats_route: s.get("enableStatsRoute") == Some(&Value::Bool(true)),
            stats_prefix_rewrite: string_at(s, "/statsRoutePrefixRewrite"),
        }),
        xds_host: settings.xds_host.clone(),
        xds_port: settings.xds_port,
        gloo_mtls: settings.gloo_mtls,
        sds: sds_on,
        sds_cluster: SDS_CLUSTER,
        sds_port: SDS_PORT,
        aws: settings.aws_sts.as_ref().map(|(cluster, uri)| AwsView {
            cluster: cluster.clone(),
            uri: uri.clone(),
        }),
    };
    Ok((view, bootstrap))
}

/// The ownerReference the controller gives every object, from the Gateway as read: only when
/// the manifest carries the Gateway's `metadata.uid` (a Gateway read back from the cluster).
fn owner_reference(gateway: &Value, name: &str) -> Option<OwnerReference> {
    let uid = gateway
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())?;
    let text = |key: &str| gateway.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    Some(OwnerReference {
        api_version: text("apiVersion"),
        kind: text("kind"),
        name: name.to_string(),
        uid: uid.to_string(),
        controller: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut_and_ports_sorted_deduplicated_and_named() {
        assert_eq!(
            full_name("checkout-gateway-for-the-eu-west-production-cluster-a"),
            "gloo-proxy-checkout-gateway-for-the-eu-west-production-cluster"
        );
        let listeners =
            [("grpc-over-tls-listener", 9443), ("https", 443), ("again", 443)].map(|(name, port)| Listener {
                name: name.into(),
                port,
            });
        let ports = ports(&listeners, &json!({}));
        let names: Vec<_> = ports.iter().map(|p| (p.name.as_str(), p.target_port)).collect();
        assert_eq!(names, [("https", 8443), ("grpc-over-tls-l", 9443)]);
    }
}
