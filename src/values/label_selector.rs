//! Kubernetes label selectors (`matchLabels`, `matchExpressions`): read with the checks the API
//! server makes of one, and matched against an object's labels.

use std::collections::BTreeMap;

use serde_json::Value;

/// A Kubernetes label selector, with the checks the API server makes of one.
pub struct LabelSelector(k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector);

impl LabelSelector {
    /// Reads a selector; the error says what the API server would refuse.
    pub fn parse(value: &Value) -> Result<LabelSelector, String> {
        let Some(fields) = value.as_object() else {
            return Err("is not a label selector (a map of matchLabels and matchExpressions)".into());
        };
        if let Some(unknown) = fields
            .keys()
            .find(|k| !["matchLabels", "matchExpressions"].contains(&k.as_str()))
        {
            return Err(format!("has the unknown field `{unknown}`"));
        }
        let selector: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector =
            serde_json::from_value(value.clone()).map_err(|e| format!("is not a label selector: {e}"))?;
        for requirement in selector.match_expressions.iter().flatten() {
            let values = requirement.values.as_deref().unwrap_or_default();
            match requirement.operator.as_str() {
                "In" | "NotIn" if values.is_empty() => {
                    return Err(format!(
                        "has a matchExpression on `{}` with operator {} and no values",
                        requirement.key, requirement.operator
                    ));
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    return Err(format!(
                        "has a matchExpression on `{}` with operator {} and values",
                        requirement.key, requirement.operator
                    ));
                }
                "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
                other => {
                    return Err(format!(
                        "has a matchExpression on `{}` with operator `{other}` (In, NotIn, Exists or DoesNotExist)",
                        requirement.key
                    ));
                }
            }
        }
        Ok(LabelSelector(selector))
    }

    /// Whether the selector selects `labels`: every `matchLabels` entry and every
    /// `matchExpressions` requirement holds (an empty selector selects everything).
    pub fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        let match_labels = self
            .0
            .match_labels
            .iter()
            .flatten()
            .all(|(key, want)| labels.get(key) == Some(want));
        let expressions = self.0.match_expressions.iter().flatten().all(|requirement| {
            let values = requirement.values.as_deref().unwrap_or_default();
            let value = labels.get(&requirement.key);
            match requirement.operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                _ => value.is_none(),
            }
        });
        match_labels && expressions
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_operator_selects_as_kubernetes_does() {
        let team = labels(&[("team", "a"), ("tier", "web")]);
        for (selector, selected) in [
            (json!({}), true),
            (json!({"matchLabels": {"team": "a"}}), true),
            (json!({"matchLabels": {"team": "b"}}), false),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["api"]}]}),
                false,
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]}),
                false,
            ),
            (
                json!({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["x"]}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": "team", "operator": "Exists"}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]}),
                false,
            ),
            (
                json!({"matchLabels": {"team": "a"}, "matchExpressions": [{"key": "zone", "operator": "Exists"}]}),
                false,
            ),
        ] {
            let parsed = LabelSelector::parse(&selector).unwrap();
            assert_eq!(parsed.selects(&team), selected, "{selector}");
        }
    }

    #[test]
    fn what_the_api_server_refuses_is_an_error() {
        for (selector, problem) in [
            (json!("team=a"), "is not a label selector"),
            (json!({"matchLabels": ["team"]}), "is not a label selector"),
            (json!({"matchLabel": {"team": "a"}}), "unknown field `matchLabel`"),
            (
                json!({"matchExpressions": [{"key": "team", "operator": "In"}]}),
                "operator In and no values",
            ),
            (
                json!({"matchExpressions": [{"key": "team", "operator": "Exists", "values": ["a"]}]}),
                "operator Exists and values",
            ),
            (
                json!({"matchExpressions": [{"key": "team", "operator": "Gt", "values": ["1"]}]}),
                "operator `Gt`",
            ),
        ] {
            let error = LabelSelector::parse(&selector).err().unwrap();
            assert!(error.contains(problem), "{selector}: {error}");
        }
    }
}
