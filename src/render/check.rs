//! The typed output check: every rendered workload and ConfigMap must parse into its
//! `k8s-openapi` type with no field the type does not know (so none is unknown, misspelt or of
//! the wrong type), and every bootstrap must be a YAML mapping. A failure is our bug.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ManifestKind;
use crate::yaml;

/// Parses one rendered YAML document.
pub fn parse(text: &str) -> Result<Value, String> {
    yaml::parse_json(text)
}

/// The first place where `a` and `b` differ, as a JSON pointer.
pub fn first_difference(a: &Value, b: &Value, pointer: &str) -> Option<String> {
    fn diff(a: &Value, b: &Value, path: &mut Vec<String>) -> bool {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (key, u) in x {
                    match y.get(key) {
                        Some(v) => {
                            if diff(u, v, path) {
                                path.push(key.clone());
                                return true;
                            }
                        }
                        None => {
                            path.push(key.clone());
                            return true;
                        }
                    }
                }
                if let Some(key) = y.keys().find(|k| !x.contains_key(*k)) {
                    path.push(key.clone());
                    return true;
                }
                false
            }
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    return true;
                }
                for (i, (u, v)) in x.iter().zip(y).enumerate() {
                    if diff(u, v, path) {
                        path.push(i.to_string());
                        return true;
                    }
                }
                false
            }
            (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => false,
            _ => a != b,
        }
    }
    let mut path = Vec::new();
    if !diff(a, b, &mut path) {
        return None;
    }
    let mut out = pointer.to_string();
    for seg in path.iter().rev() {
        out.push('/');
        out.push_str(seg);
    }
    Some(out)
}

/// Reads `value` as a `T`: it must parse, and `T` must know every field of it (the API server
/// drops a field its type does not know, and `kubectl apply` refuses it). The deserialiser
/// reports each field it skips ([`serde_ignored`]); the first one is the error.
fn known_fields<T: DeserializeOwned>(value: &Value) -> Result<(), String> {
    let mut unknown: Option<String> = None;
    serde_ignored::deserialize::<_, _, T>(value, |path| {
        unknown.get_or_insert_with(|| json_pointer(&path));
    })
    .map_err(|e| format!("does not parse as its Kubernetes type: {e}"))?;
    match unknown {
        None => Ok(()),
        Some(at) => Err(format!("has a field its Kubernetes type does not know, at {at}")),
    }
}

fn json_pointer(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}/{index}", json_pointer(parent)),
        Path::Map { parent, key } => format!("{}/{}", json_pointer(parent), key.replace('~', "~0").replace('/', "~1")),
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            json_pointer(parent)
        }
    }
}

fn typed_check(kind: ManifestKind, value: &Value) -> Result<(), String> {
    match kind {
        ManifestKind::Deployment => known_fields::<Deployment>(value),
        ManifestKind::DaemonSet => known_fields::<DaemonSet>(value),
        ManifestKind::ConfigMap => known_fields::<ConfigMap>(value),
        ManifestKind::Service => known_fields::<Service>(value),
        ManifestKind::ServiceAccount => known_fields::<ServiceAccount>(value),
        ManifestKind::Secret => known_fields::<Secret>(value),
        ManifestKind::Upstream | ManifestKind::GatewayClass | ManifestKind::GatewayParameters => {
            match value.get("spec") {
                Some(Value::Object(_)) => Ok(()),
                _ => Err("has no spec".into()),
            }
        }
    }
}

/// Whether a document parses as its Kubernetes type at all (unknown fields tolerated).
pub fn deserializes(kind: ManifestKind, value: &Value) -> Result<(), String> {
    let result = match kind {
        ManifestKind::Deployment => serde_json::from_value::<Deployment>(value.clone()).map(drop),
        ManifestKind::DaemonSet => serde_json::from_value::<DaemonSet>(value.clone()).map(drop),
        ManifestKind::ConfigMap => serde_json::from_value::<ConfigMap>(value.clone()).map(drop),
        ManifestKind::Service => serde_json::from_value::<Service>(value.clone()).map(drop),
        ManifestKind::ServiceAccount => serde_json::from_value::<ServiceAccount>(value.clone()).map(drop),
        ManifestKind::Secret => serde_json::from_value::<Secret>(value.clone()).map(drop),
        ManifestKind::Upstream | ManifestKind::GatewayClass | ManifestKind::GatewayParameters => Ok(()),
    };
    result.map_err(|e| e.to_string())
}

/// Kubernetes' strategic merge as the chart's `kubeResourceOverride` does it: maps recurse,
/// everything else (lists included) is replaced.
pub fn merge_override(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                match base.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => merge_override(existing, value),
                    _ => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

/// Why a rendered document failed its check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishError {
    /// The template's own output is wrong: a bug (or a broken `--templates` copy).
    Rendered(String),
    /// The output is right, but the user's `kubeResourceOverride` makes it invalid.
    Override(String),
}

impl std::fmt::Display for FinishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FinishError::Rendered(e) => f.write_str(e),
            FinishError::Override(e) => write!(f, "with its kubeResourceOverride applied {e}"),
        }
    }
}

/// Checks a rendered document and applies `kubeResourceOverride` to it. Returns the final text:
/// the template's own text, or, with an override, the merged document written out again.
pub fn finish(
    kind: ManifestKind,
    text: &str,
    override_fields: Option<&Map<String, Value>>,
) -> Result<String, FinishError> {
    let mut value = parse(text).map_err(FinishError::Rendered)?;
    typed_check(kind, &value).map_err(FinishError::Rendered)?;
    match override_fields.filter(|o| !o.is_empty()) {
        None => Ok(text.to_string()),
        Some(patch) => {
            merge_override(&mut value, &Value::Object(patch.clone()));
            typed_check(kind, &value).map_err(FinishError::Override)?;
            Ok(yaml::emit::document(&value))
        }
    }
}

/// Checks that an envoy bootstrap parses and is a mapping with static resources.
pub fn bootstrap(text: &str) -> Result<(), String> {
    match parse(text)? {
        Value::Object(map) if map.contains_key("static_resources") => Ok(()),
        _ => Err("is not a mapping with static_resources".into()),
    }
}

/// The `envoy.yaml` key of a rendered ConfigMap.
pub fn config_map_bootstrap(text: &str) -> Option<String> {
    parse(text)
        .ok()?
        .pointer("/data/envoy.yaml")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": spec})
    }

    #[test]
    fn a_field_the_type_does_not_know_is_found_where_it_is() {
        let containers =
            json!([{"name": "a", "image": "i"}, {"name": "b", "imagePullPolicy": "Always", "imageTag": "x"}]);
        let spec = json!({"selector": {}, "template": {"spec": {"containers": containers}}});
        assert_eq!(
            typed_check(ManifestKind::Deployment, &deployment(spec)),
            Err("has a field its Kubernetes type does not know, at /spec/template/spec/containers/1/imageTag".into())
        );
        let misspelt = json!({"selector": {}, "strategy?": {}, "template": {}});
        assert_eq!(
            typed_check(ManifestKind::Deployment, &deployment(misspelt)),
            Err("has a field its Kubernetes type does not know, at /spec/strategy?".into())
        );
        let escaped = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "a/b~c": 1}});
        assert_eq!(
            typed_check(ManifestKind::ConfigMap, &escaped),
            Err("has a field its Kubernetes type does not know, at /metadata/a~1b~0c".into())
        );
    }

    #[test]
    fn known_fields_of_any_shape_pass_and_wrong_types_fail() {
        let spec = json!({
            "replicas": 2,
            "selector": {"matchLabels": {"gloo": "gateway-proxy"}},
            "template": {"metadata": {"labels": {"prometheus.io/x": "y"}, "creationTimestamp": null},
                "spec": {"containers": [{"name": "a", "ports": [{"containerPort": 8080}],
                    "resources": {"limits": {"cpu": "500m"}}, "securityContext": {}}]}},
        });
        assert_eq!(typed_check(ManifestKind::Deployment, &deployment(spec)), Ok(()));
        let wrong = deployment(json!({"replicas": "2", "selector": {}, "template": {}}));
        let err = typed_check(ManifestKind::Deployment, &wrong).unwrap_err();
        assert!(err.starts_with("does not parse as its Kubernetes type: "), "{err}");
        let data =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"envoy.yaml": 1}});
        assert!(typed_check(ManifestKind::ConfigMap, &data).is_err());
    }
}
