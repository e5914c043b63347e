//! The Kubernetes Gateway API objects a user keeps in Git (Gateways, Gateway-level
//! GatewayParameters, GatewayClasses, ListenerSets, Namespaces, the gloo mTLS Secret), read from
//! manifest streams, and the deployer's choice and merge of the GatewayParameters a Gateway gets
//! (k8s-gateway spec §4), and the listeners it exposes (§5.1).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diag::{Location, SourceFile};
use crate::values::label_selector::LabelSelector;
use crate::values::names::{is_dns_label, is_dns_subdomain};
use crate::yaml::{self, Span, stream};

/// The annotation that names a Gateway's own GatewayParameters (spec §4.1).
pub const PARAMETERS_ANNOTATION: &str = "gateway.gloo.solo.io/gateway-parameters-name";

/// One Kubernetes object of a manifest stream, where it was written.
#[derive(Debug, Clone)]
pub struct ApiObject {
    pub value: Value,
    pub location: Option<Location>,
    /// Where each field was written: JSON pointer → (key span, value span).
    spans: BTreeMap<String, (Option<Span>, Span)>,
}

impl ApiObject {
    /// Where the key of the field at `pointer` was written (the object itself when the field
    /// is not there).
    pub fn at_key(&self, pointer: &str) -> Option<Location> {
        let location = self.location.as_ref()?;
        let span = match self.spans.get(pointer) {
            Some((key, value)) => key.unwrap_or(*value),
            None => location.span,
        };
        Some(Location {
            source: Arc::clone(&location.source),
            span,
        })
    }

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

/// A field of an object that the API server would refuse, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// JSON pointer of the field.
    pub pointer: String,
    pub message: String,
}

impl ApiObject {
    /// The fields the deployer reads of a Gateway or an XListenerSet, checked as the API server
    /// checks them: a namespace that is a DNS label; listeners, each with a `name` (a DNS
    /// subdomain, unique), a `port` (1 to 65535) and a `protocol`; a ListenerSet's
    /// `parentRef.name`. A Gateway without listeners passes, as the deployer takes it.
    pub fn check_listener_fields(&self) -> Result<(), Refused> {
        let refused = |pointer: String, message: String| Err(Refused { pointer, message });
        if let Some(namespace) = self.value.pointer("/metadata/namespace")
            && !namespace.as_str().is_some_and(|ns| ns.is_empty() || is_dns_label(ns))
        {
            return refused(
                "/metadata/namespace".into(),
                "metadata.namespace is not a namespace name (at most 63 lower-case letters, digits and '-')".into(),
            );
        }
        if self.kind() == "XListenerSet"
            && self
                .value
                .pointer("/spec/parentRef/name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        {
            return refused("/spec/parentRef".into(), "spec.parentRef has no name".into());
        }
        let listeners = match self.value.pointer("/spec/listeners") {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Array(listeners)) => listeners,
            Some(_) => return refused("/spec/listeners".into(), "spec.listeners is not a list".into()),
        };
        let mut names = std::collections::BTreeSet::new();
        for (i, listener) in listeners.iter().enumerate() {
            let at = format!("/spec/listeners/{i}");
            let field = |key: &str| listener.get(key);
            // The field's place, or the listener's when the field is missing.
            let place = |key: &str| match field(key) {
                Some(_) => format!("{at}/{key}"),
                None => at.clone(),
            };
            let name = field("name").and_then(Value::as_str).unwrap_or("");
            if !is_dns_subdomain(name) {
                return refused(
                    place("name"),
                    format!("listener {i} has no name or one that is not a DNS subdomain: `{name}`"),
                );
            }
            if !names.insert(name) {
                return refused(place("name"), format!("two listeners are named `{name}`"));
            }
            if !field("port")
                .and_then(Value::as_i64)
                .is_some_and(|p| (1..=65535).contains(&p))
            {
                return refused(
                    place("port"),
                    format!("listener `{name}` has no port, or one that is not a number from 1 to 65535"),
                );
            }
            if field("protocol").and_then(Value::as_str).is_none_or(str::is_empty) {
                return refused(place("protocol"), format!("listener `{name}` has no protocol"));
            }
        }
        Ok(())
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
    /// Experimental `XListenerSet`s, whose listeners a Gateway may accept (spec §5.1).
    pub listener_sets: Vec<ApiObject>,
    /// Namespaces, whose labels `allowedListeners.namespaces.from: Selector` selects by.
    pub namespaces: Vec<ApiObject>,
}

/// One listener as the deployer counts it (spec §5.1): its port name before sanitising.
#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    pub name: String,
    pub port: i64,
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
            let mut spans = BTreeMap::new();
            node.index_spans(&mut spans);
            let object = ApiObject {
                value: node.to_json(),
                location,
                spans,
            };
            let api_version = object.value.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            let list = match (api_version.split('/').next().unwrap_or(""), object.kind()) {
                ("gateway.networking.k8s.io", "Gateway") => &mut self.gateways,
                ("gateway.networking.k8s.io", "GatewayClass") => &mut self.classes,
                ("gateway.gloo.solo.io", "GatewayParameters") => &mut self.parameters,
                ("v1", "Secret") => &mut self.secrets,
                ("gateway.networking.x-k8s.io", "XListenerSet") => &mut self.listener_sets,
                ("v1", "Namespace") => &mut self.namespaces,
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

    /// The listeners of `gateway` in the deployer's order (spec §5.1): its own, then those of
    /// every ListenerSet it accepts, by creation time when the manifests carry it, then by
    /// namespace and name. A ListenerSet listener's name is `<i>-<name>`, `i` its index in
    /// the combined list. Also the ListenerSets attached to the Gateway, each with whether it
    /// let them in. A selector or Namespace labels the API server would refuse are an error,
    /// with where it is.
    pub fn listeners_of<'a>(
        &'a self,
        gateway: &ApiObject,
    ) -> Result<(Vec<Listener>, AttachedSets<'a>), (String, Option<Location>)> {
        let listeners_in = |object: &ApiObject| -> Vec<(String, i64)> {
            object
                .value
                .pointer("/spec/listeners")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|l| {
                    let port = l.get("port").and_then(Value::as_i64)?;
                    let name = l.get("name").and_then(Value::as_str).unwrap_or("");
                    Some((name.to_string(), port))
                })
                .collect()
        };
        let mut listeners: Vec<Listener> = listeners_in(gateway)
            .into_iter()
            .map(|(name, port)| Listener { name, port })
            .collect();
        let mut attached: Vec<&ApiObject> = self
            .listener_sets
            .iter()
            .filter(|set| attaches_to(set, gateway))
            .collect();
        // Oldest first, as the controller orders them; objects from Git have no creation time
        // yet and come after those that carry one (`kubectl get -o yaml`), by namespace and name.
        attached.sort_by_key(|set| {
            let created = set.value.pointer("/metadata/creationTimestamp").and_then(Value::as_str);
            (created.is_none(), created, set.namespace(), set.name())
        });
        let admitted: Vec<(&ApiObject, Admission)> = attached
            .into_iter()
            .map(|set| Ok((set, self.admission(gateway, set)?)))
            .collect::<Result<_, (String, Option<Location>)>>()?;
        for (set, _) in admitted.iter().filter(|(_, admission)| admission.accepted()) {
            for (name, port) in listeners_in(set) {
                let index = listeners.len();
                listeners.push(Listener {
                    name: format!("{index}-{name}"),
                    port,
                });
            }
        }
        Ok((listeners, admitted))
    }

    /// Whether the Gateway's `spec.allowedListeners` lets the ListenerSet in: `All`, `Same` (its
    /// own namespace) or `Selector` (the labels of its Namespace, when the manifests hold it).
    /// Without `allowedListeners` (`from: None`) no ListenerSet is accepted.
    fn admission(&self, gateway: &ApiObject, set: &ApiObject) -> Result<Admission, (String, Option<Location>)> {
        let namespaces = gateway.value.pointer("/spec/allowedListeners/namespaces");
        let admission = match namespaces.and_then(|n| n.get("from")).and_then(Value::as_str) {
            Some("All") => Admission::Accepted,
            Some("Same") if set.namespace() == gateway.namespace() => Admission::Accepted,
            Some("Selector") => {
                // No selector selects nothing.
                let selector = match namespaces.and_then(|n| n.get("selector")) {
                    None | Some(Value::Null) => None,
                    Some(value) => Some(LabelSelector::parse(value).map_err(|e| {
                        (
                            format!("spec.allowedListeners.namespaces.selector {e}"),
                            gateway.at_key("/spec/allowedListeners/namespaces/selector"),
                        )
                    })?),
                };
                let Some(namespace) = self.namespaces.iter().find(|n| n.name() == set.namespace()) else {
                    return Ok(Admission::AssumedSelected);
                };
                let mut labels: BTreeMap<String, String> = match namespace.value.pointer("/metadata/labels") {
                    None | Some(Value::Null) => BTreeMap::new(),
                    Some(labels) => serde_json::from_value(labels.clone()).map_err(|_| {
                        (
                            format!(
                                "the labels of Namespace {} are not a map of strings, which the API server refuses",
                                namespace.name()
                            ),
                            namespace.at_key("/metadata/labels"),
                        )
                    })?,
                };
                // The API server labels every Namespace with its own name.
                labels.insert("kubernetes.io/metadata.name".into(), namespace.name().to_string());
                if selector.is_some_and(|s| s.selects(&labels)) {
                    Admission::Accepted
                } else {
                    Admission::Refused
                }
            }
            _ => Admission::Refused,
        };
        Ok(admission)
    }

    /// The Gateways sorted by namespace and name (spec §10: the order of the output).
    pub fn sorted_gateways(&self) -> Vec<&ApiObject> {
        let mut gateways: Vec<&ApiObject> = self.gateways.iter().collect();
        gateways.sort_by(|a, b| (a.namespace(), a.name()).cmp(&(b.namespace(), b.name())));
        gateways
    }
}

/// Whether the ListenerSet's `spec.parentRef` names `gateway` (group and kind default to the
/// Gateway's, the namespace to the ListenerSet's own).
fn attaches_to(set: &ApiObject, gateway: &ApiObject) -> bool {
    let Some(parent) = set.value.pointer("/spec/parentRef") else {
        return false;
    };
    let field = |key: &str| parent.get(key).and_then(Value::as_str);
    field("group").unwrap_or("gateway.networking.k8s.io") == "gateway.networking.k8s.io"
        && field("kind").unwrap_or("Gateway") == "Gateway"
        && field("name") == Some(gateway.name())
        && field("namespace")
            .filter(|ns| !ns.is_empty())
            .unwrap_or(set.namespace())
            == gateway.namespace()
}

/// The ListenerSets attached to a Gateway, each with whether it lets them in.
pub type AttachedSets<'a> = Vec<(&'a ApiObject, Admission)>;

/// Whether a Gateway lets an attached ListenerSet in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Accepted,
    Refused,
    /// Let in by `from: Selector`, with its Namespace not in the manifests: taken as selected.
    AssumedSelected,
}

impl Admission {
    pub fn accepted(self) -> bool {
        self != Admission::Refused
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
    fn listener_sets_attach_by_parent_ref_and_enter_as_allowed() {
        let gateway = |from: &str| {
            format!(
                "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: apps}}\nspec:\n  allowedListeners: {{namespaces: {{from: {from}}}}}\n  listeners: [{{name: http, port: 80}}]\n"
            )
        };
        let set = |name: &str, namespace: &str, parent: &str| {
            format!(
                "---\napiVersion: gateway.networking.x-k8s.io/v1alpha1\nkind: XListenerSet\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  parentRef: {parent}\n  listeners: [{{name: extra, port: 8080}}]\n"
            )
        };
        let sets = [
            set("b", "apps", "{name: gw}"),
            set("a", "other", "{name: gw, namespace: apps}"),
            set("c", "other", "{name: gw}"),
            set("d", "apps", "{name: gw, kind: Service}"),
        ]
        .concat();
        let listeners = |from: &str| {
            let mut objects = GatewayApiObjects::default();
            objects
                .add_stream("m.yaml", &format!("{}{sets}", gateway(from)))
                .unwrap();
            let (listeners, sets) = objects.listeners_of(&objects.gateways[0]).unwrap();
            let names: Vec<String> = listeners.into_iter().map(|l| l.name).collect();
            let refused: Vec<String> = sets
                .iter()
                .filter(|(_, admission)| *admission == Admission::Refused)
                .map(|(s, _)| s.name().to_string())
                .collect();
            (names, refused)
        };
        assert_eq!(
            listeners("All"),
            (vec!["http".into(), "1-extra".into(), "2-extra".into()], vec![])
        );
        assert_eq!(
            listeners("Same"),
            (vec!["http".into(), "1-extra".into()], vec!["a".into()])
        );
        assert_eq!(listeners("None"), (vec!["http".into()], vec!["b".into(), "a".into()]));
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
