//! The Kubernetes Gateway API objects a user keeps in Git (Gateways, Gateway-level
//! GatewayParameters, GatewayClasses, the gloo mTLS Secret), read from manifest streams, and the
//! deployer's choice and merge of the GatewayParameters a Gateway gets (k8s-gateway spec §4).

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diag::{Location, SourceFile};
use crate::yaml::{self, stream};

/// The annotation that names a Gateway's own GatewayParameters (spec §4.1).
pub const PARAMETERS_ANNOTATION: &str = "gateway.gloo.solo.io/gateway-parameters-name";

/// One Kubernetes object of a manifest stream, where it was written.
#[derive(Debug, Clone)]
pub struct ApiObject {
    pub value: Value,
    pub location: Option<Location>,
}

impl ApiObject {
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The namespace; `default` when unset, as `kubectl apply` without `-n` would use.
    pub fn namespace(&self) -> &str {
        self.value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|ns| !ns.is_empty())
            .unwrap_or("default")
    }
}

/// The objects of every manifest, by kind. Documents of other kinds (HTTPRoutes …) are kept
/// out: the deployer does not read them.
#[derive(Debug, Clone, Default)]
pub struct GatewayApiObjects {
    pub gateways: Vec<ApiObject>,
    pub parameters: Vec<ApiObject>,
    pub classes: Vec<ApiObject>,
    pub secrets: Vec<ApiObject>,
}

impl GatewayApiObjects {
    /// Reads one manifest stream. A YAML error is returned with its place.
    pub fn add_stream(&mut self, name: &str, text: &str) -> Result<(), (String, Option<Location>)> {
        let source = SourceFile::new(name, text);
        for doc in stream::split_stream(text) {
            if !doc.has_content() {
                continue;
            }
            let node = doc.load(yaml::Limits::default()).map_err(|e| {
                (
                    format!("{name}: {}", e.message),
                    Some(Location {
                        source: Arc::clone(&source),
                        span: e.span,
                    }),
                )
            })?;
            let Some(node) = node else { continue };
            let location = Some(Location {
                source: Arc::clone(&source),
                span: node.span,
            });
            let object = ApiObject {
                value: node.to_json(),
                location,
            };
            let api_version = object.value.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            let list = match (api_version.split('/').next().unwrap_or(""), object.kind()) {
                ("gateway.networking.k8s.io", "Gateway") => &mut self.gateways,
                ("gateway.networking.k8s.io", "GatewayClass") => &mut self.classes,
                ("gateway.gloo.solo.io", "GatewayParameters") => &mut self.parameters,
                ("v1", "Secret") => &mut self.secrets,
                _ => continue,
            };
            list.push(object);
        }
        Ok(())
    }

    /// The GatewayParameters `namespace/name`, if given.
    pub fn parameters_named(&self, namespace: &str, name: &str) -> Option<&ApiObject> {
        self.parameters
            .iter()
            .find(|p| p.namespace() == namespace && p.name() == name)
    }

    /// The GatewayClass `name`, if given.
    pub fn class_named(&self, name: &str) -> Option<&ApiObject> {
        self.classes.iter().find(|c| c.name() == name)
    }

    /// The Gateways sorted by namespace and name (spec §10: the order of the output).
    pub fn sorted_gateways(&self) -> Vec<&ApiObject> {
        let mut gateways: Vec<&ApiObject> = self.gateways.iter().collect();
        gateways.sort_by(|a, b| (a.namespace(), a.name()).cmp(&(b.namespace(), b.name())));
        gateways
    }
}

/// How one field of a GatewayParameters merges (spec §4.2, the primitive rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// The source's value when present, else the destination's.
    Ptr,
    /// The source's value unless it is `""` or `0`.
    Cmp,
    /// Entries added; an empty source clears.
    Map,
    /// Items appended; an empty source clears.
    List,
    /// The source's list when present, even empty.
    ReplaceList,
    /// Field by field.
    Struct,
    /// Not merged: the destination's value stays.
    Kept,
    /// Taken from the source only when the destination has none (the mesh identity, §9.A3).
    DestinationFirst,
}

/// The rule of field `key` whose parent is `parent` (the previous key of the path).
fn rule(parent: &str, key: &str, source: &Value) -> Rule {
    match key {
        "extraLabels" | "extraAnnotations" | "nodeSelector" | "limits" | "requests" | "componentLogLevels" => Rule::Map,
        "imagePullSecrets"
        | "tolerations"
        | "topologySpreadConstraints"
        | "add"
        | "drop"
        | "supplementalGroups"
        | "sysctls"
        | "nodeSelectorTerms"
        | "preferredDuringSchedulingIgnoredDuringExecution"
        | "httpHeaders"
        | "env"
        | "customLabels" => Rule::List,
        "requiredDuringSchedulingIgnoredDuringExecution" if parent != "nodeAffinity" => Rule::List,
        "ports" => Rule::List,
        "customSidecars" | "command" => Rule::ReplaceList,
        "istioDiscoveryAddress" | "istioMetaMeshId" | "istioMetaClusterId" => Rule::DestinationFirst,
        "appArmorProfile" | "supplementalGroupsPolicy" | "seLinuxChangePolicy" | "claims" => Rule::Kept,
        "user" | "role" | "level" if parent == "seLinuxOptions" => Rule::Cmp,
        "type" if parent == "seLinuxOptions" || parent == "seccompProfile" => Rule::Cmp,
        "path" | "host" | "scheme" | "port" if matches!(parent, "httpGet" | "tcpSocket" | "grpc") => Rule::Cmp,
        "initialDelaySeconds" | "timeoutSeconds" | "periodSeconds" | "successThreshold" | "failureThreshold" => {
            Rule::Cmp
        }
        "insecure" => Rule::Cmp,
        _ if source.is_object() => Rule::Struct,
        _ => Rule::Ptr,
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

/// Merges the Gateway-level `spec` over the class default's (spec §4.2). `None` when the
/// result is self-managed (no objects).
pub fn merge_specs(class_default: &Value, gateway_level: Option<&Value>) -> Option<Value> {
    let destination = class_default.clone();
    let Some(source) = gateway_level else {
        return (destination.get("selfManaged").is_none()).then_some(destination);
    };
    if source.get("selfManaged").is_some() {
        return None;
    }
    // The merge result of a class default without `kube` is discarded upstream: the class
    // default stays as it is (spec §4.2, §9.B1).
    let (Some(d_kube), Some(s_kube)) = (destination.get("kube"), source.get("kube")) else {
        return (destination.get("selfManaged").is_none()).then_some(destination);
    };
    let mut kube = d_kube.clone();
    merge_struct(&mut kube, s_kube, "kube");
    let mut spec = destination;
    spec["kube"] = kube;
    Some(spec)
}

fn merge_struct(destination: &mut Value, source: &Value, name: &str) {
    let (Some(d), Some(s)) = (destination.as_object_mut(), source.as_object()) else {
        return;
    };
    for (key, s_value) in s {
        if s_value.is_null() {
            continue;
        }
        let rule = rule(name, key, s_value);
        let Some(d_value) = d.get_mut(key) else {
            // A field the merge does not copy is lost even when the destination has none.
            if rule != Rule::Kept {
                d.insert(key.clone(), s_value.clone());
            }
            continue;
        };
        match rule {
            Rule::Ptr | Rule::ReplaceList => *d_value = s_value.clone(),
            Rule::Cmp => {
                if !is_zero(s_value) {
                    *d_value = s_value.clone();
                }
            }
            Rule::Map => match (d_value.as_object_mut(), s_value.as_object()) {
                (_, Some(s_map)) if s_map.is_empty() => *d_value = Value::Object(Map::new()),
                (Some(d_map), Some(s_map)) => {
                    for (k, v) in s_map {
                        d_map.insert(k.clone(), v.clone());
                    }
                }
                _ => *d_value = s_value.clone(),
            },
            Rule::List => match (d_value.as_array_mut(), s_value.as_array()) {
                (_, Some(s_items)) if s_items.is_empty() => *d_value = Value::Array(Vec::new()),
                (Some(d_items), Some(s_items)) => d_items.extend(s_items.iter().cloned()),
                _ => *d_value = s_value.clone(),
            },
            Rule::Struct => merge_struct(d_value, s_value, key),
            Rule::Kept | Rule::DestinationFirst => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_append_maps_merge_and_empty_ones_clear() {
        let class = json!({"kube": {"podTemplate": {"extraLabels": {"a": "1"}, "tolerations": [{"key": "x"}]},
            "service": {"extraAnnotations": {"s": "1"}}}});
        let gateway = json!({"kube": {"podTemplate": {"extraLabels": {"b": "2"}, "tolerations": [{"key": "y"}]},
            "service": {"extraAnnotations": {}}}});
        let merged = merge_specs(&class, Some(&gateway)).unwrap();
        assert_eq!(
            merged["kube"]["podTemplate"]["extraLabels"],
            json!({"a": "1", "b": "2"})
        );
        assert_eq!(
            merged["kube"]["podTemplate"]["tolerations"],
            json!([{"key": "x"}, {"key": "y"}])
        );
        assert_eq!(merged["kube"]["service"]["extraAnnotations"], json!({}));
    }

    #[test]
    fn the_class_default_keeps_the_mesh_identity_and_zero_values_do_not_override() {
        let class = json!({"kube": {"istio": {"istioProxyContainer": {"istioMetaMeshId": "m", "logLevel": "warning"}},
            "podTemplate": {"readinessProbe": {"periodSeconds": 5}}}});
        let gateway = json!({"kube": {"istio": {"istioProxyContainer": {"istioMetaMeshId": "other", "logLevel": "debug"}},
            "podTemplate": {"readinessProbe": {"periodSeconds": 0}}}});
        let merged = merge_specs(&class, Some(&gateway)).unwrap();
        assert_eq!(merged["kube"]["istio"]["istioProxyContainer"]["istioMetaMeshId"], "m");
        assert_eq!(merged["kube"]["istio"]["istioProxyContainer"]["logLevel"], "debug");
        assert_eq!(merged["kube"]["podTemplate"]["readinessProbe"]["periodSeconds"], 5);
    }

    #[test]
    fn self_managed_gives_nothing_and_a_class_default_without_kube_wins() {
        let class = json!({"kube": {}});
        assert!(merge_specs(&class, Some(&json!({"selfManaged": {}}))).is_none());
        assert!(merge_specs(&json!({"selfManaged": {}}), None).is_none());
        let bare = json!({});
        let merged = merge_specs(&bare, Some(&json!({"kube": {"deployment": {"replicas": 3}}}))).unwrap();
        assert_eq!(merged, json!({}));
    }
}
