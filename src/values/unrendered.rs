//! Chart keys that gloo-istio accepts and does not render.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema keyword that marks a chart key gloo-istio accepts but does not render: the
/// "not rendered" report and the values reference find such keys by it.
pub const NOT_RENDERED_MARK: &str = "x-gloo-istio-not-rendered";

/// A chart key that gloo-istio accepts and does not render. Its schema is marked with
/// [`NOT_RENDERED_MARK`], and the values schema gives it the chart's type. A value of another
/// type reads as unset: the schema check has reported it (a warning outside `lint`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Unrendered<T = serde_json::Value>(pub Option<T>);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Unrendered<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(Unrendered(serde_json::from_value(value).ok()))
    }
}

impl<T> Unrendered<T> {
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

impl<T: JsonSchema> JsonSchema for Unrendered<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Unrendered_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = generator.subschema_for::<Option<T>>();
        schema.insert(NOT_RENDERED_MARK.into(), true.into());
        schema
    }
}
