//! A JSON tree held in static data: the check schema, written out by `build.rs`, so that reading
//! it costs neither a parse nor the heap.

use serde_json::Value;

/// One JSON value. Numbers keep serde_json's three kinds, so [`Node::same`] compares as
/// `serde_json::Value` does (`1` is not `1.0`); object entries are sorted by key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    PosInt(u64),
    NegInt(i64),
    Float(f64),
    Str(&'static str),
    Array(&'static [Node]),
    Object(&'static [(&'static str, Node)]),
}

impl Node {
    /// The entry `key` of an object.
    pub fn get(&self, key: &str) -> Option<&'static Node> {
        let entries = self.as_object()?;
        let at = entries.binary_search_by(|(k, _)| (*k).cmp(key)).ok()?;
        Some(&entries[at].1)
    }

    pub fn as_str(&self) -> Option<&'static str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&'static [Node]> {
        match self {
            Node::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&'static [(&'static str, Node)]> {
        match self {
            Node::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// Whether `value` is this value, by serde_json's equality.
    pub fn same(&self, value: &Value) -> bool {
        match (self, value) {
            (Node::Null, Value::Null) => true,
            (Node::Bool(a), Value::Bool(b)) => a == b,
            (Node::PosInt(a), Value::Number(n)) => n.is_u64() && n.as_u64() == Some(*a),
            (Node::NegInt(a), Value::Number(n)) => !n.is_u64() && n.as_i64() == Some(*a),
            (Node::Float(a), Value::Number(n)) => n.is_f64() && n.as_f64() == Some(*a),
            (Node::Str(a), Value::String(b)) => a == b,
            (Node::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y)),
            (Node::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, x)| b.get(*k).is_some_and(|y| x.same(y)))
            }
            _ => false,
        }
    }

    /// The value as `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::PosInt(u) => Value::from(*u),
            Node::NegInt(i) => Value::from(*i),
            Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Node::Str(s) => Value::String((*s).to_string()),
            Node::Array(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Node::Object(entries) => {
                Value::Object(entries.iter().map(|(k, v)| ((*k).to_string(), v.to_value())).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static SAMPLE: Node = Node::Object(&[
        ("a", Node::Array(&[Node::PosInt(1), Node::NegInt(-2), Node::Float(1.5)])),
        ("b", Node::Null),
        ("c", Node::Object(&[("d", Node::Bool(true)), ("e", Node::Str("x"))])),
    ]);

    #[test]
    fn same_compares_as_serde_json_does() {
        let value = json!({"c": {"e": "x", "d": true}, "a": [1, -2, 1.5], "b": null});
        assert!(SAMPLE.same(&value));
        assert_eq!(SAMPLE.to_value(), value);
        assert!(!Node::PosInt(1).same(&json!(1.0)), "1 is not 1.0 for serde_json");
        assert!(!Node::Float(1.0).same(&json!(1)));
        assert!(!Node::NegInt(-1).same(&json!(1)));
        assert!(
            !SAMPLE.same(&json!({"a": [1, -2, 1.5], "b": null})),
            "an entry is missing"
        );
        assert!(!SAMPLE.same(&json!({"c": {"e": "x", "d": true}, "a": [1, -2, 1.5], "b": null, "f": 0})));
    }

    #[test]
    fn get_finds_every_sorted_key_and_nothing_else() {
        assert_eq!(SAMPLE.get("b"), Some(&Node::Null));
        assert_eq!(
            SAMPLE.get("c").and_then(|c| c.get("e")).and_then(Node::as_str),
            Some("x")
        );
        assert_eq!(SAMPLE.get("z"), None);
        assert_eq!(Node::Str("a").get("a"), None);
    }
}
