//! The effective values of each gateway proxy (gateway-proxy-keys spec §1.1, Istio spec §1.3).

use serde_json::{Map, Value};

/// The chart's marker that un-inherits a top-level key of a proxy.
pub const OMIT_OVERWRITE: &str = "gloo.omitOverwrite";

/// The proxy every other proxy inherits from.
pub const DEFAULT_PROXY: &str = "gatewayProxy";

/// The chart's `mergeOverwrite`: `entry` over a copy of `base`. Maps merge key by key; a scalar,
/// a list, `null`, `false`, `0` or `""` in `entry` replaces what `base` had; an empty map in
/// `entry` clears nothing.
pub fn merge_overwrite(base: &mut Value, entry: &Value) {
    match (base, entry) {
        (Value::Object(base), Value::Object(entry)) => {
            for (key, value) in entry {
                match base.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => merge_overwrite(existing, value),
                    _ => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, entry) => *base = entry.clone(),
    }
}

/// The effective values of proxy `key`: the entry merged over `gatewayProxy`, with the chart's
/// side rules applied (top-level `gloo.omitOverwrite`, the whole-map `nodeSelector`, and the
/// per-proxy `kubeResourceOverride`s, which are never inherited).
pub fn effective_proxy(proxies: &Map<String, Value>, key: &str) -> Value {
    let entry = proxies.get(key).cloned().unwrap_or(Value::Object(Map::new()));
    let mut effective = proxies.get(DEFAULT_PROXY).cloned().unwrap_or(Value::Object(Map::new()));
    merge_overwrite(&mut effective, &entry);
    let Value::Object(map) = &mut effective else {
        return effective;
    };
    map.retain(|_, v| v.as_str() != Some(OMIT_OVERWRITE));

    let own_node_selector = entry
        .pointer("/podTemplate/nodeSelector")
        .filter(|v| truthy(v))
        .cloned();
    if let (Some(own), Some(Value::Object(pod))) = (own_node_selector, map.get_mut("podTemplate")) {
        pod.insert("nodeSelector".into(), own);
    }

    match entry.get("kubeResourceOverride") {
        Some(own) => map.insert("kubeResourceOverride".into(), own.clone()),
        None => map.remove("kubeResourceOverride"),
    };
    if let Some(Value::Object(config_map)) = map.get_mut("configMap") {
        match entry.pointer("/configMap/kubeResourceOverride") {
            Some(own) => config_map.insert("kubeResourceOverride".into(), own.clone()),
            None => config_map.remove("kubeResourceOverride"),
        };
    }
    effective
}

/// Go template truthiness: `false`, `0`, `""`, null, empty lists and maps are false.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Removes `null` members of every map (they have done their work in the merges: after them a
/// null key means the same as an absent one).
pub fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Removes top-level `gloo.omitOverwrite` markers from every raw proxy entry, so that the
/// entries can be checked against the schema.
pub fn strip_omit_markers(values: &mut Value) {
    if let Some(Value::Object(proxies)) = values.get_mut("gatewayProxies") {
        for entry in proxies.values_mut() {
            if let Value::Object(map) = entry {
                map.retain(|_, v| v.as_str() != Some(OMIT_OVERWRITE));
            }
        }
    }
}

/// Kebab case as the chart's `kebabcase` computes it (gateway-proxy-keys spec §1.2):
/// `gatewayProxy` → `gateway-proxy`, `HTTPProxy` → `http-proxy`, `gw2Internal` →
/// `gw2-internal`, `gatewayProxy123abc` → `gateway-proxy-123abc`.
pub fn kebab_case(name: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for chunk in name.split(|c: char| !c.is_alphanumeric()).filter(|c| !c.is_empty()) {
        let chars: Vec<char> = chunk.chars().collect();
        let mut word = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let prev = if i > 0 { Some(chars[i - 1]) } else { None };
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None => false,
                Some(p) if c.is_uppercase() => {
                    p.is_lowercase() || p.is_ascii_digit() || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
                }
                Some(p) if c.is_ascii_digit() && !p.is_ascii_digit() => {
                    // A digit run starts a word only when lower-case letters follow it.
                    let mut j = i;
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    chars.get(j).is_some_and(|c| c.is_lowercase())
                }
                _ => false,
            };
            if boundary && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            word.extend(c.to_lowercase());
            i += 1;
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kebab_case_matches_the_chart() {
        // gateway-proxy-keys spec §1.2, rendered examples.
        for (key, id) in [
            ("gatewayProxy", "gateway-proxy"),
            ("gatewayProxyV2", "gateway-proxy-v2"),
            ("HTTPProxy", "http-proxy"),
            ("gw_internal", "gw-internal"),
            ("gw-internal", "gw-internal"),
            ("gw2Internal", "gw2-internal"),
            ("publicGw2", "public-gw2"),
            ("gatewayProxy123abc", "gateway-proxy-123abc"),
            ("internalGW", "internal-gw"),
            ("Gateway Proxy", "gateway-proxy"),
            ("secondGatewayProxy", "second-gateway-proxy"),
            ("customBootstrapGatewayProxy", "custom-bootstrap-gateway-proxy"),
        ] {
            assert_eq!(kebab_case(key), id, "{key}");
        }
    }

    #[test]
    fn inheritance_follows_merge_overwrite() {
        // gateway-proxy-keys spec §10 case 98.
        let proxies = json!({
            "gatewayProxy": {"antiAffinity": true, "envoyLogLevel": "debug",
                             "podTemplate": {"extraAnnotations": {"a": "1"}, "nodeSelector": {"default": "default"}},
                             "kubeResourceOverride": {"spec": {"replicas": 9}}},
            "second": {"antiAffinity": OMIT_OVERWRITE, "envoyLogLevel": null,
                       "podTemplate": {"extraAnnotations": null, "nodeSelector": {"custom": "custom"}}},
            "third": {"antiAffinity": false, "envoyLogLevel": "", "podTemplate": {"extraAnnotations": {}}},
        });
        let proxies = proxies.as_object().unwrap();
        let second = effective_proxy(proxies, "second");
        assert_eq!(second.get("antiAffinity"), None);
        assert_eq!(second["envoyLogLevel"], Value::Null);
        assert_eq!(second["podTemplate"]["extraAnnotations"], Value::Null);
        assert_eq!(second["podTemplate"]["nodeSelector"], json!({"custom": "custom"}));
        assert_eq!(second.get("kubeResourceOverride"), None);
        let third = effective_proxy(proxies, "third");
        assert_eq!(third["antiAffinity"], json!(false));
        assert_eq!(third["envoyLogLevel"], json!(""));
        assert_eq!(third["podTemplate"]["extraAnnotations"], json!({"a": "1"}));
        assert_eq!(third["podTemplate"]["nodeSelector"], json!({"default": "default"}));
        let first = effective_proxy(proxies, "gatewayProxy");
        assert_eq!(first["kubeResourceOverride"], json!({"spec": {"replicas": 9}}));
    }
}
