//! The view of the Gloo chart's class default GatewayParameters (k8s-gateway spec §2.3–2.5):
//! which sections of `spec.kube` the chart writes, from `kubeGateway.gatewayParameters.glooGateway`
//! and `global.*`.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::values::kube_gateway::GlooGateway;
use crate::values::proxy::truthy;
use crate::values::{Image, ImageVariant, Model};

/// One key of `spec.kube` with its value.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub key: &'static str,
    pub value: Value,
}

/// The context of `gatewayparameters.yaml` and `gatewayclass.yaml`.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayParametersView {
    pub namespace: String,
    pub sections: Vec<Section>,
}

impl GatewayParametersView {
    /// `spec` of the object as the controller reads it.
    pub fn spec(&self) -> Value {
        let kube: Map<String, Value> = self
            .sections
            .iter()
            .map(|s| (s.key.to_string(), s.value.clone()))
            .collect();
        json!({ "kube": kube })
    }
}

fn to_value(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn insert_if(map: &mut Map<String, Value>, key: &str, value: Value) {
    if truthy(&value) {
        map.insert(key.to_string(), value);
    }
}

/// Repositories with a `-fips` variant, and with a `-distroless` one (spec §2.4).
/// An image block of the GatewayParameters: `own` completed from `global.image`, the keys the
/// helper `gloo-gateway.gatewayParametersImage` writes (spec §2.4).
pub fn image_block(own: &Image, global: &Image) -> Value {
    let image = crate::values::image::merged(own, global);
    let fips =
        image.fips == Some(true) || matches!(image.variant, Some(ImageVariant::Fips | ImageVariant::FipsDistroless));
    let distroless = matches!(
        image.variant,
        Some(ImageVariant::Distroless | ImageVariant::FipsDistroless)
    );
    let mut block = Map::new();
    if let Some(registry) = image.registry.clone().filter(|r| !r.is_empty()) {
        block.insert("registry".into(), registry.into());
    }
    let repository = image.repository.clone().unwrap_or_default();
    if !repository.is_empty() {
        let mut name = repository.clone();
        if fips && crate::values::image::FIPS_REPOSITORIES.contains(&repository.as_str()) {
            name.push_str("-fips");
        }
        block.insert("repository".into(), name.into());
    }
    if let Some(tag) = image.tag.clone().filter(|t| !t.is_empty()) {
        let mut tag = tag;
        if distroless && crate::values::image::DISTROLESS_REPOSITORIES.contains(&repository.as_str()) {
            tag.push_str("-distroless");
        }
        block.insert("tag".into(), tag.into());
    }
    if image.digest.as_deref().is_some_and(|d| !d.is_empty()) {
        let digest = if image.disable_digest == Some(true) {
            None
        } else if fips && distroless {
            image.fips_distroless_digest.clone()
        } else if fips {
            image.fips_digest.clone()
        } else if distroless {
            image.distroless_digest.clone()
        } else {
            image.digest.clone()
        };
        block.insert("digest".into(), digest.unwrap_or_default().into());
    }
    if let Some(policy) = image.pull_policy {
        block.insert("pullPolicy".into(), policy.as_str().into());
    }
    Value::Object(block)
}

/// The class default GatewayParameters the chart renders (spec §2.3).
pub fn gateway_parameters(model: &Model) -> GatewayParametersView {
    let gg: GlooGateway = model.values.kube_gateway.gloo_gateway();
    let global_image = &model.values.global.image;
    let mut sections = Vec::new();
    let mut push = |key: &'static str, value: Value| sections.push(Section { key, value });

    if let Some(replicas) = gg
        .proxy_deployment
        .as_ref()
        .and_then(|d| d.replicas)
        .filter(|r| *r != 0)
    {
        push("deployment", json!({ "replicas": replicas }));
    }
    let service = gg.service.clone().unwrap_or_default();
    let mut service_map = Map::new();
    service_map.insert(
        "type".into(),
        service
            .service_type
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "LoadBalancer".into())
            .into(),
    );
    insert_if(
        &mut service_map,
        "externalTrafficPolicy",
        to_value(&service.external_traffic_policy),
    );
    insert_if(&mut service_map, "extraLabels", to_value(&service.extra_labels));
    insert_if(
        &mut service_map,
        "extraAnnotations",
        to_value(&service.extra_annotations),
    );
    insert_if(&mut service_map, "ports", to_value(&service.ports));
    push("service", Value::Object(service_map));
    if let Some(account) = &gg.service_account {
        let mut map = Map::new();
        insert_if(&mut map, "extraLabels", to_value(&account.extra_labels));
        insert_if(&mut map, "extraAnnotations", to_value(&account.extra_annotations));
        push("serviceAccount", Value::Object(map));
    }
    // spec §2.5: the global setting wins whenever it is present, in both directions.
    let floating_user_id = match model
        .values
        .global
        .security_settings
        .as_ref()
        .and_then(|s| s.floating_user_id)
    {
        Some(global) => global,
        None => gg.floating_user_id == Some(true),
    };
    push("floatingUserId", floating_user_id.into());

    let envoy = gg.envoy_container.clone().unwrap_or_default();
    let mut envoy_map = Map::new();
    envoy_map.insert(
        "image".into(),
        image_block(&envoy.image.unwrap_or_default(), global_image),
    );
    insert_if(&mut envoy_map, "securityContext", to_value(&envoy.security_context));
    insert_if(&mut envoy_map, "resources", to_value(&envoy.resources));
    push("envoyContainer", Value::Object(envoy_map));

    let pod = gg.pod_template.clone().unwrap_or_default();
    let mut pod_map = Map::new();
    pod_map.insert("extraLabels".into(), json!({ "gloo": "kube-gateway" }));
    insert_if(
        &mut pod_map,
        "terminationGracePeriodSeconds",
        to_value(&pod.termination_grace_period_seconds),
    );
    insert_if(&mut pod_map, "gracefulShutdown", to_value(&pod.graceful_shutdown));
    if pod.probes == Some(true) {
        let readiness = match &pod.custom_readiness_probe {
            Some(probe) if truthy(&to_value(probe)) => to_value(probe),
            _ => json!({
                "httpGet": {"scheme": "HTTP", "port": 8082, "path": "/envoy-hc"},
                "initialDelaySeconds": 5, "periodSeconds": 5, "failureThreshold": 2
            }),
        };
        pod_map.insert("readinessProbe".into(), readiness);
        insert_if(&mut pod_map, "livenessProbe", to_value(&pod.custom_liveness_probe));
    }
    insert_if(
        &mut pod_map,
        "topologySpreadConstraints",
        to_value(&pod.topology_spread_constraints),
    );
    push("podTemplate", Value::Object(pod_map));

    // spec §2.5: without `sdsContainer` there is no `istio` and no `stats` either.
    if let Some(sds) = &gg.sds_container {
        let mut sds_map = Map::new();
        sds_map.insert(
            "image".into(),
            image_block(&sds.image.clone().unwrap_or_default(), global_image),
        );
        insert_if(&mut sds_map, "securityContext", to_value(&sds.security_context));
        let mut bootstrap = Map::new();
        insert_if(&mut bootstrap, "logLevel", to_value(&sds.log_level));
        sds_map.insert("bootstrap".into(), Value::Object(bootstrap));
        insert_if(&mut sds_map, "resources", to_value(&sds.sds_resources));
        push("sdsContainer", Value::Object(sds_map));

        let istio = gg.istio.clone().unwrap_or_default();
        let mut istio_map = Map::new();
        let custom_sidecars = to_value(&istio.custom_sidecars);
        insert_if(&mut istio_map, "customSidecars", custom_sidecars.clone());
        let mut stats = None;
        if let Some(container) = istio
            .istio_proxy_container
            .as_ref()
            .filter(|_| !truthy(&custom_sidecars))
        {
            let mut map = Map::new();
            map.insert(
                "image".into(),
                image_block(&container.image.clone().unwrap_or_default(), global_image),
            );
            insert_if(&mut map, "securityContext", to_value(&container.security_context));
            insert_if(&mut map, "logLevel", to_value(&container.log_level));
            // Written unquoted and always: empty when unset, which reads back as null.
            for (key, value) in [
                ("istioDiscoveryAddress", &container.istio_discovery_address),
                ("istioMetaMeshId", &container.istio_meta_mesh_id),
                ("istioMetaClusterId", &container.istio_meta_cluster_id),
            ] {
                if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                    map.insert(key.into(), value.clone().into());
                }
            }
            istio_map.insert("istioProxyContainer".into(), Value::Object(map));
            stats = Some(to_value(&gg.stats)).filter(truthy);
        }
        push("istio", Value::Object(istio_map));
        if let Some(stats) = stats {
            push("stats", stats);
        }
    }
    if let Some(ai) = &gg.ai_extension {
        let mut map = Map::new();
        map.insert("enabled".into(), to_value(&ai.enabled));
        map.insert(
            "image".into(),
            image_block(&ai.image.clone().unwrap_or_default(), global_image),
        );
        insert_if(&mut map, "securityContext", to_value(&ai.security_context));
        insert_if(&mut map, "resources", to_value(&ai.resources));
        insert_if(&mut map, "env", to_value(&ai.env));
        insert_if(&mut map, "ports", to_value(&ai.ports));
        push("aiExtension", Value::Object(map));
    }
    GatewayParametersView {
        namespace: model.namespace.clone(),
        sections,
    }
}
