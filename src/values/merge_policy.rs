//! A Kubernetes securityContext plus the chart's `mergePolicy` key (Istio spec §1.6).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, de::DeserializeOwned, de::Error as _};

/// How a user securityContext combines with the chart's defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MergePolicy {
    /// `""` or `no-merge`: the user's context replaces the defaults (when it is not empty).
    #[default]
    NoMerge,
    /// `helm-merge`: the user's context is merged over the defaults; a default `true` cannot
    /// become `false`, and lists are not merged.
    HelmMerge,
}

/// `T` with an optional `mergePolicy` beside its own fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WithMergePolicy<T> {
    pub merge_policy: MergePolicy,
    pub context: T,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for WithMergePolicy<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let merge_policy = match map.remove("mergePolicy") {
            None | Some(serde_json::Value::Null) => MergePolicy::NoMerge,
            Some(serde_json::Value::String(s)) => match s.as_str() {
                "" | "no-merge" => MergePolicy::NoMerge,
                "helm-merge" => MergePolicy::HelmMerge,
                other => {
                    return Err(D::Error::custom(format!(
                        "value '{other}' is not an allowed value for mergePolicy. Allowed values are 'no-merge', 'helm-merge', or an empty string"
                    )));
                }
            },
            Some(other) => {
                return Err(D::Error::custom(format!("mergePolicy must be a string, got {other}")));
            }
        };
        let context = serde_json::from_value(serde_json::Value::Object(map)).map_err(D::Error::custom)?;
        Ok(WithMergePolicy { merge_policy, context })
    }
}

impl<T: Serialize> WithMergePolicy<T> {
    /// The context as a JSON object, without `mergePolicy`.
    pub fn context_json(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(&self.context) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        }
    }
}

impl<T: JsonSchema> JsonSchema for WithMergePolicy<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("{}WithMergePolicy", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        // The Kubernetes schema inlined, plus `mergePolicy`, closed to other keys.
        let mut schema = T::json_schema(generator);
        if let Some(obj) = schema.as_object_mut() {
            let props = obj
                .entry("properties")
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if let Some(props) = props.as_object_mut() {
                props.insert(
                    "mergePolicy".into(),
                    json_schema!({
                        "description": "How to combine this context with the chart's defaults: \"\" or \"no-merge\" replace them, \"helm-merge\" merges over them.",
                        "type": ["string", "null"],
                        "enum": ["", "no-merge", "helm-merge", null]
                    })
                    .into(),
                );
            }
            obj.insert("additionalProperties".into(), false.into());
        }
        schema
    }
}
