//! Generated documentation: the values reference, written from the same schema the values are
//! checked against, so it cannot drift from the model.

use serde_json::Value;

use crate::validate::schema::{NOT_RENDERED_MARK, values_schema};

/// Follows `$ref`, single-element `allOf`, and the `anyOf: [X, null]` that optional keys get.
fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        if let Some(Value::Array(any)) = schema.get("anyOf") {
            let non_null: Vec<&Value> = any
                .iter()
                .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if let [single] = non_null.as_slice() {
                schema = single;
                continue;
            }
        }
        if let Some(Value::Array(all)) = schema.get("allOf")
            && let [single] = all.as_slice()
        {
            schema = single;
            continue;
        }
        match schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| root.pointer(p))
        {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

/// The `$ref` a (possibly optional) property points at.
fn reference_of(schema: &Value) -> Option<&str> {
    let direct = schema.get("$ref").or_else(|| schema.pointer("/allOf/0/$ref"));
    let optional = schema.get("anyOf").and_then(Value::as_array).and_then(|any| {
        any.iter()
            .find_map(|a| a.get("$ref").or_else(|| a.pointer("/allOf/0/$ref")))
    });
    direct.or(optional).and_then(Value::as_str)
}

fn type_name(root: &Value, schema: &Value) -> String {
    let resolved = resolve(root, schema);
    if let Some(Value::Array(values)) = resolved.get("enum") {
        let names: Vec<String> = values
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| match v.as_str() {
                Some("") => "`\"\"`".to_string(),
                Some(text) => format!("`{text}`"),
                None => format!("`{v}`"),
            })
            .collect();
        return names.join(" \\| ");
    }
    if let Some(reference) = reference_of(schema)
        && let Some(name) = reference.rsplit('/').next()
        && name.starts_with("io.k8s.")
    {
        return format!("Kubernetes `{}`", name.rsplit('.').next().unwrap_or(name));
    }
    let types: Vec<String> = match resolved.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    };
    match types.first().map(String::as_str) {
        Some("array") => {
            let items = schema.get("items").or_else(|| resolved.get("items"));
            match items {
                Some(items) => format!("list of {}", type_name(root, items)),
                None => "list".into(),
            }
        }
        Some("object") if resolved.get("properties").is_none() => match resolved.get("additionalProperties") {
            Some(Value::Object(_)) => format!("map of {}", type_name(root, &resolved["additionalProperties"])),
            _ => "map".into(),
        },
        Some(t) => t.to_string(),
        None => "any".into(),
    }
}

/// One row of the reference: key, type, default, meaning.
type Row = (String, String, String, String);

fn walk(root: &Value, schema: &Value, path: &str, depth: usize, out: &mut Vec<Row>) {
    let resolved = resolve(root, schema);
    let Some(Value::Object(props)) = resolved.get("properties") else {
        return;
    };
    for (key, child) in props {
        let child_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let child_resolved = resolve(root, child);
        let description = child
            .get("description")
            .or_else(|| child.pointer("/anyOf/0/description"))
            .or_else(|| child_resolved.get("description"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .replace('\n', " ")
            .replace('|', "\\|");
        let description = if child_resolved.get(NOT_RENDERED_MARK).is_some() || child.get(NOT_RENDERED_MARK).is_some() {
            format!("{description} *(checked, not rendered)*")
                .trim_start()
                .to_string()
        } else {
            description
        };
        let is_kubernetes =
            type_name(root, child).starts_with("Kubernetes") || type_name(root, child).contains("Kubernetes");
        let default = child
            .get("default")
            .or_else(|| child_resolved.get("default"))
            .filter(|d| !d.is_null())
            .map(|d| format!("`{}`", d.to_string().replace('|', "\\|")))
            .unwrap_or_default();
        out.push((child_path.clone(), type_name(root, child), default, description));
        if !is_kubernetes && depth < 16 {
            walk(root, child, &child_path, depth + 1, out);
            if let Some(additional) = child_resolved.get("additionalProperties").filter(|a| a.is_object())
                && resolve(root, additional).get("properties").is_some()
            {
                walk(root, additional, &format!("{child_path}.<name>"), depth + 1, out);
            }
            if let Some(items) = child_resolved.get("items")
                && resolve(root, items).get("properties").is_some()
            {
                walk(root, items, &format!("{child_path}[]"), depth + 1, out);
            }
        }
    }
}

/// The values reference as Markdown (`docs/values.md`).
pub fn values_reference() -> String {
    // The form without null alternatives and omit markers reads more simply.
    let schema = values_schema(false);
    let mut rows = Vec::new();
    walk(&schema, &schema, "", 0, &mut rows);
    let mut out = String::from(
        "# Values reference\n\n\
         Generated from the values model by `cargo test --test docs` (`UPDATE_SNAPSHOTS=1` rewrites it);\n\
         do not edit by hand. Defaults are the Gloo chart's (`src/values/chart-defaults.yaml`).\n\
         Kubernetes types are checked with their full schema, unknown fields rejected.\n\
         Keys marked *checked, not rendered* come from the Gloo chart's key table\n\
         (`src/values/chart-keys.tsv`): gloo-istio checks their names and types and renders nothing\n\
         from them; a key set there is reported once at info level (GI006). `<name>` is a key you\n\
         choose, `[]` an item of a list. A key without a default is one the chart's `values.yaml`\n\
         leaves out (or the placeholder image tag that `--gloo-version` replaces).\n\n\
         | key | type | default | meaning |\n|---|---|---|---|\n",
    );
    for (path, ty, default, description) in rows {
        out.push_str(&format!("| `{path}` | {ty} | {default} | {description} |\n"));
    }
    out
}
