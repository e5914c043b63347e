//! Every key of the Gloo chart's values, with the Go type the chart's generator gives it: `chart-keys.tsv`, a verbatim copy of the reference table
//! (`shared/reference/gloo-chart/values-keys.tsv`; `tests/docs.rs` checks that the copy is
//! current). [`chart_schema`] turns the table into a JSON Schema (draft-07) of the whole chart,
//! which the values schema merges under the typed model.
//!
//! Conventions of the table: `NAME` stands for a key the user chooses (a proxy name, a label),
//! `[]` marks a list whose items have the keys that follow, and `interface` is any value.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// The chart's key table: `key<TAB>type<TAB>default`, one key a line, after a header line.
pub const CHART_KEYS_TSV: &str = include_str!("chart-keys.tsv");

/// The JSON Schema of the chart's values, from [`CHART_KEYS_TSV`]. Every object is closed (a key
/// the table does not list is not allowed), every scalar typed, integers bounded by their Go
/// width. Every optional value also accepts `null`, which deletes a chart default in Helm. The
/// table's default column is not used: the defaults of the values schema are the chart's
/// `values.yaml` (`chart-defaults.yaml`), which the table's placeholders and Go zero values only
/// approximate.
pub fn chart_schema() -> Value {
    let mut root = Node::default();
    for line in CHART_KEYS_TSV.lines().skip(1) {
        let mut columns = line.split('\t');
        let (Some(key), Some(go_type)) = (columns.next(), columns.next()) else {
            continue;
        };
        root.insert(key, go_type);
    }
    root.fold_named_entries();
    root.mark_quantities(false);
    root.schema()
}

/// One key of the table and the keys below it.
#[derive(Debug, Default)]
struct Node {
    /// The Go types the table gives the key itself (more than one for Kubernetes types that
    /// the generator flattens, such as `IntOrString`).
    types: Vec<String>,
    /// Keys with a fixed name.
    children: BTreeMap<String, Node>,
    /// The keys under a user-chosen `NAME`.
    any_key: Option<Box<Node>>,
    /// The items of a list (`key[]`).
    items: Option<Box<Node>>,
}

impl Node {
    fn insert(&mut self, key: &str, go_type: &str) {
        let mut node = self;
        for segment in key.split('.') {
            let mut name = segment;
            let mut lists = 0;
            while let Some(stripped) = name.strip_suffix("[]") {
                name = stripped;
                lists += 1;
            }
            node = if name == "NAME" {
                node.any_key.get_or_insert_with(Default::default)
            } else {
                node.children.entry(name.to_string()).or_default()
            };
            for _ in 0..lists {
                node = node.items.get_or_insert_with(Default::default);
            }
        }
        if !node.types.iter().any(|t| t == go_type) {
            node.types.push(go_type.to_string());
        }
    }

    /// The table lists the chart's own entries of a user-chosen map (`gatewayProxies.gatewayProxy`)
    /// beside the `NAME` form; they are entries of the map like any other, so their keys join
    /// the `NAME` form.
    fn fold_named_entries(&mut self) {
        if let Some(any) = self.any_key.as_mut() {
            for (_, named) in std::mem::take(&mut self.children) {
                any.absorb(named);
            }
        }
        self.children.values_mut().for_each(Node::fold_named_entries);
        if let Some(any) = self.any_key.as_mut() {
            any.fold_named_entries();
        }
        if let Some(items) = self.items.as_mut() {
            items.fold_named_entries();
        }
    }

    /// The table types the quantities of `resources.limits` and `resources.requests` as
    /// strings; Kubernetes takes numbers there too (`cpu: 2`), and the chart passes them on
    /// with `toYaml`.
    fn mark_quantities(&mut self, in_resources: bool) {
        for (name, child) in self.children.iter_mut() {
            if in_resources && (name == "limits" || name == "requests") {
                for quantity in child.children.values_mut() {
                    if quantity.types == ["string"] {
                        quantity.types = vec![QUANTITY.to_string()];
                    }
                }
            }
            child.mark_quantities(name.to_ascii_lowercase().ends_with("resources"));
        }
        if let Some(any) = self.any_key.as_mut() {
            any.mark_quantities(false);
        }
        if let Some(items) = self.items.as_mut() {
            items.mark_quantities(false);
        }
    }

    fn absorb(&mut self, other: Node) {
        for t in other.types {
            if !self.types.contains(&t) {
                self.types.push(t);
            }
        }
        for (name, child) in other.children {
            self.children.entry(name).or_default().absorb(child);
        }
        if let Some(any) = other.any_key {
            self.any_key.get_or_insert_with(Default::default).absorb(*any);
        }
        if let Some(items) = other.items {
            self.items.get_or_insert_with(Default::default).absorb(*items);
        }
    }

    fn schema(&self) -> Value {
        if !self.children.is_empty() || self.any_key.is_some() {
            let properties: Map<String, Value> = self
                .children
                .iter()
                .map(|(name, child)| (name.clone(), child.schema()))
                .collect();
            let additional = match &self.any_key {
                Some(any) => any.schema(),
                None => Value::Bool(false),
            };
            let mut object = json!({"type": ["object", "null"]});
            if !properties.is_empty() {
                object["properties"] = Value::Object(properties);
            }
            object["additionalProperties"] = additional;
            object
        } else if let Some(items) = &self.items {
            if self.types.is_empty() {
                json!({"type": ["array", "null"], "items": items.schema()})
            } else {
                // Both a value and a list (a flattened `resource.Quantity`): any value.
                json!({})
            }
        } else {
            scalar_schema(&self.types)
        }
    }
}

/// The type given to Kubernetes quantities: a string or a number.
const QUANTITY: &str = "resource.Quantity";

/// The schema of a key of the given Go types.
fn scalar_schema(types: &[String]) -> Value {
    if types.iter().any(|t| t == "interface") || types.is_empty() {
        return json!({});
    }
    if types == [QUANTITY] {
        return json!({"type": ["string", "number", "null"]});
    }
    if let [single] = types {
        let (json_type, minimum, maximum) = json_type(single);
        let mut schema = json!({"type": [json_type, "null"]});
        if let Some(min) = minimum {
            schema["minimum"] = min.into();
        }
        if let Some(max) = maximum {
            schema["maximum"] = max.into();
        }
        return schema;
    }
    let mut json_types: Vec<&str> = Vec::new();
    for t in types {
        let (json_type, _, _) = json_type(t);
        if !json_types.contains(&json_type) {
            json_types.push(json_type);
        }
    }
    json_types.push("null");
    json!({"type": json_types})
}

/// The JSON type of a Go type, with the bounds of its width.
fn json_type(go_type: &str) -> (&'static str, Option<i64>, Option<i64>) {
    match go_type {
        "bool" => ("boolean", None, None),
        "int8" => ("integer", Some(i8::MIN.into()), Some(i8::MAX.into())),
        "int32" => ("integer", Some(i32::MIN.into()), Some(i32::MAX.into())),
        "int" | "int64" => ("integer", None, None),
        "uint32" => ("integer", Some(0), Some(u32::MAX.into())),
        "uint" | "uint64" => ("integer", Some(0), None),
        "float32" | "float64" => ("number", None, None),
        _ => ("string", None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_becomes_a_closed_typed_tree() {
        let schema = chart_schema();
        let proxy = &schema["properties"]["gatewayProxies"]["additionalProperties"];
        assert_eq!(proxy["additionalProperties"], false);
        assert_eq!(
            proxy["properties"]["healthyPanicThreshold"],
            json!({"type": ["integer", "null"], "minimum": -128, "maximum": 127})
        );
        assert_eq!(
            schema["properties"]["settings"]["properties"]["regexMaxProgramSize"]["minimum"],
            0
        );
        // A label map: any key, string values.
        let labels = &schema["properties"]["gloo"]["properties"]["deployment"]["properties"]["extraGlooLabels"];
        assert_eq!(labels["additionalProperties"], json!({"type": ["string", "null"]}));
        // A quantity: `cpu: 2` or `cpu: 500m`.
        let cpu = &schema["properties"]["gloo"]["properties"]["deployment"]["properties"]["resources"]["properties"]["limits"]
            ["properties"]["cpu"];
        assert_eq!(cpu["type"], json!(["string", "number", "null"]));
        // `interface`: anything.
        let affinity = &schema["properties"]["gloo"]["properties"]["deployment"]["properties"]["affinity"];
        assert_eq!(affinity["additionalProperties"], json!({}));
    }
}
