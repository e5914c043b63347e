//! The typed output check: every rendered workload and ConfigMap must parse into its
//! `k8s-openapi` type and serialise back to the same tree (so no field is unknown, misspelt or
//! of the wrong type), and every bootstrap must be a YAML mapping. A failure is our bug.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::ConfigMap;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use super::ManifestKind;
use crate::values::proxy::strip_nulls;
use crate::yaml;

/// Parses one rendered YAML document.
pub fn parse(text: &str) -> Result<Value, String> {
    yaml::parse_json(text)
}

/// The first place where `a` and `b` differ, as a JSON pointer.
pub fn first_difference(a: &Value, b: &Value, pointer: &str) -> Option<String> {
    difference(a, b, pointer, false)
}

/// [`first_difference`], or with `a_nulls_absent` the first difference once every `null`
/// mapping entry of `a` counts as absent (as [`strip_nulls`] would leave it), without copying
/// `a`.
fn difference(a: &Value, b: &Value, pointer: &str, a_nulls_absent: bool) -> Option<String> {
    fn diff(a: &Value, b: &Value, path: &mut Vec<String>, skip: bool) -> bool {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (key, u) in x {
                    match y.get(key) {
                        _ if skip && u.is_null() => {}
                        Some(v) => {
                            if diff(u, v, path, skip) {
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
                let absent = |k: &String| x.get(k).is_none_or(|u| skip && u.is_null());
                if let Some(key) = y.keys().find(|k| absent(k)) {
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
                    if diff(u, v, path, skip) {
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
    if !diff(a, b, &mut path, a_nulls_absent) {
        return None;
    }
    let mut out = pointer.to_string();
    for seg in path.iter().rev() {
        out.push('/');
        out.push_str(seg);
    }
    Some(out)
}

/// Reads `value` as a `T` and writes it back: the two trees must agree, nulls aside.
fn round_trip<T: DeserializeOwned + Serialize>(value: &Value) -> Result<(), String> {
    let typed = T::deserialize(value).map_err(|e| format!("does not parse as its Kubernetes type: {e}"))?;
    let mut back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    strip_nulls(&mut back);
    match difference(value, &back, "", true) {
        None => Ok(()),
        Some(at) => Err(format!(
            "has a field its Kubernetes type does not know or reads differently, at {at}"
        )),
    }
}

fn typed_check(kind: ManifestKind, value: &Value) -> Result<(), String> {
    match kind {
        ManifestKind::Deployment => round_trip::<Deployment>(value),
        ManifestKind::DaemonSet => round_trip::<DaemonSet>(value),
        ManifestKind::ConfigMap => round_trip::<ConfigMap>(value),
        ManifestKind::Upstream => match value.get("spec") {
            Some(Value::Object(_)) => Ok(()),
            _ => Err("has no spec".into()),
        },
    }
}

/// Whether a document parses as its Kubernetes type at all (unknown fields tolerated).
pub fn deserializes(kind: ManifestKind, value: &Value) -> Result<(), String> {
    let result = match kind {
        ManifestKind::Deployment => serde_json::from_value::<Deployment>(value.clone()).map(drop),
        ManifestKind::DaemonSet => serde_json::from_value::<DaemonSet>(value.clone()).map(drop),
        ManifestKind::ConfigMap => serde_json::from_value::<ConfigMap>(value.clone()).map(drop),
        ManifestKind::Upstream => Ok(()),
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
