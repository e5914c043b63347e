//! The Tera engine: the templates (embedded, or from `--templates DIR`), strict about undefined
//! variables, and escaping every value it prints into a YAML scalar.

use std::path::Path;

use tera::{Filter, Kwargs, State, Tera, TeraResult, Value};

use crate::yaml::emit;

/// The templates, one per resource kind, compiled into the binary.
pub const TEMPLATES: [(&str, &str); 4] = [
    ("workload.yaml", include_str!("../../templates/workload.yaml")),
    ("configmap.yaml", include_str!("../../templates/configmap.yaml")),
    (
        "envoy-bootstrap.yaml",
        include_str!("../../templates/envoy-bootstrap.yaml"),
    ),
    ("upstream.yaml", include_str!("../../templates/upstream.yaml")),
];

/// The templates of the Kubernetes Gateway API objects (k8s-gateway spec §2, §6), compiled into
/// the binary; `--templates DIR` may replace them with `DIR/k8s-gateway/<name>`.
pub const K8S_GATEWAY_TEMPLATES: [(&str, &str); 8] = [
    (
        "k8s-gateway/gatewayclass.yaml",
        include_str!("../../templates/k8s-gateway/gatewayclass.yaml"),
    ),
    (
        "k8s-gateway/gatewayparameters.yaml",
        include_str!("../../templates/k8s-gateway/gatewayparameters.yaml"),
    ),
    (
        "k8s-gateway/serviceaccount.yaml",
        include_str!("../../templates/k8s-gateway/serviceaccount.yaml"),
    ),
    (
        "k8s-gateway/secret.yaml",
        include_str!("../../templates/k8s-gateway/secret.yaml"),
    ),
    (
        "k8s-gateway/configmap.yaml",
        include_str!("../../templates/k8s-gateway/configmap.yaml"),
    ),
    (
        "k8s-gateway/envoy-bootstrap.yaml",
        include_str!("../../templates/k8s-gateway/envoy-bootstrap.yaml"),
    ),
    (
        "k8s-gateway/service.yaml",
        include_str!("../../templates/k8s-gateway/service.yaml"),
    ),
    (
        "k8s-gateway/deployment.yaml",
        include_str!("../../templates/k8s-gateway/deployment.yaml"),
    ),
];

/// Writes every printed string as a double-quoted YAML scalar: no value can end its line, add a
/// key or start a document. Non-strings reach it only as text of composite values, which are
/// quoted the same way; numbers and structures go through `| yaml` instead.
fn escape_yaml(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(emit::quote(input).as_bytes())
}

fn to_json(value: &Value) -> TeraResult<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| tera::Error::message(format!("value is not serialisable: {e}")))
}

/// `key:{{ v | yaml(indent=N) }}` (no space after the colon): the value as the YAML that
/// follows `key:`, a scalar with its leading space or a block on the next lines (see
/// [`emit::nested`]).
struct YamlFilter;

impl Filter<&Value, TeraResult<Value>> for YamlFilter {
    fn call(&self, value: &Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
        let indent = kwargs.get::<usize>("indent")?.unwrap_or(0);
        Ok(Value::safe_string(&emit::nested(&to_json(value)?, indent)))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// `- {{ item | yaml_item(indent=N) }}`: a list item; a mapping's first key goes on the `- `
/// line and the others are indented by N.
struct YamlItemFilter;

impl Filter<&Value, TeraResult<Value>> for YamlItemFilter {
    fn call(&self, value: &Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
        let indent = kwargs.get::<usize>("indent")?.unwrap_or(0);
        let json = to_json(value)?;
        let text = emit::nested(&json, indent);
        let prefix = format!("\n{}", " ".repeat(indent));
        let text = match json {
            serde_json::Value::Object(ref map) if !map.is_empty() => {
                text.strip_prefix(&prefix).map(str::to_string).unwrap_or(text)
            }
            _ => text.trim_start_matches(' ').to_string(),
        };
        Ok(Value::safe_string(&text))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// `{{ k | key }}`: a mapping key, plain when that is unambiguous, quoted otherwise.
struct KeyFilter;

/// A mapping key as [`emit`] writes it: plain when that is unambiguous, quoted otherwise.
fn key_text(key: &str) -> String {
    let text = emit::document(&serde_json::json!({ key: 0 }));
    match text.strip_suffix(": 0\n") {
        Some(key_text) => key_text.to_string(),
        None => text,
    }
}

impl Filter<&str, Value> for KeyFilter {
    fn call(&self, key: &str, _: Kwargs, _: &State) -> Value {
        Value::safe_string(&key_text(key))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// `key:{{ v | fixed(indent=N) }}`: one of the crate's fixed structures (the Istio shapes of
/// `crate::istio`), laid out as the chart writes it: keys in the order the value gives them
/// (struct field order; `| yaml` would sort them), a sequence flush with its key, and strings
/// plain where [`is_plain_string`] allows, double-quoted (or a block) otherwise. As with `| yaml`,
/// `N` is the column of a nested mapping's keys; no value can add a key, a line or a document.
struct FixedFilter;

impl Filter<&Value, TeraResult<Value>> for FixedFilter {
    fn call(&self, value: &Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
        let indent = kwargs.get::<usize>("indent")?.unwrap_or(0);
        let mut out = String::new();
        write_fixed(&mut out, value, indent)?;
        Ok(Value::safe_string(&out))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// `- {{ item | fixed_item(indent=N) }}`: [`FixedFilter`]'s layout for a list item whose `- `
/// ends at column `N`.
struct FixedItemFilter;

impl Filter<&Value, TeraResult<Value>> for FixedItemFilter {
    fn call(&self, value: &Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
        let indent = kwargs.get::<usize>("indent")?.unwrap_or(0);
        let mut out = String::new();
        write_fixed_item(&mut out, value, indent)?;
        Ok(Value::safe_string(&out))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// The text after `key:`: a non-empty mapping on the next lines at `indent`, a non-empty
/// sequence on the next lines with its `- ` at the key's column (`indent - 2`), a scalar or an
/// empty collection after one space.
fn write_fixed(out: &mut String, value: &Value, indent: usize) -> TeraResult<()> {
    if let Some(map) = value.as_map().filter(|m| !m.is_empty()) {
        for (key, value) in map {
            new_line(out, indent);
            write_fixed_entry(out, &key.to_string(), value, indent)?;
        }
    } else if let Some(items) = value.as_array().filter(|a| !a.is_empty()) {
        for item in items {
            new_line(out, indent.saturating_sub(2));
            out.push_str("- ");
            write_fixed_item(out, item, indent)?;
        }
    } else {
        out.push(' ');
        write_fixed_scalar(out, value, indent)?;
    }
    Ok(())
}

/// A list item after its `- `, the item's own lines at `indent`.
fn write_fixed_item(out: &mut String, value: &Value, indent: usize) -> TeraResult<()> {
    if let Some(map) = value.as_map().filter(|m| !m.is_empty()) {
        for (i, (key, value)) in map.iter().enumerate() {
            if i > 0 {
                new_line(out, indent);
            }
            write_fixed_entry(out, &key.to_string(), value, indent)?;
        }
    } else if let Some(items) = value.as_array().filter(|a| !a.is_empty()) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                new_line(out, indent);
            }
            out.push_str("- ");
            write_fixed_item(out, item, indent + 2)?;
        }
    } else {
        write_fixed_scalar(out, value, indent)?;
    }
    Ok(())
}

fn write_fixed_entry(out: &mut String, key: &str, value: &Value, indent: usize) -> TeraResult<()> {
    let key = key_text(key);
    if key.contains('\n') {
        return Err(tera::Error::message(format!(
            "`fixed` takes short keys only, not {key}"
        )));
    }
    out.push_str(&key);
    out.push(':');
    write_fixed(out, value, indent + 2)
}

/// A scalar or an empty collection: a string plain when [`is_plain_string`] allows, anything
/// else as [`emit`] writes it.
fn write_fixed_scalar(out: &mut String, value: &Value, indent: usize) -> TeraResult<()> {
    match value.as_str() {
        Some(s) if is_plain_string(s) => out.push_str(s),
        _ => out.push_str(emit::nested(&to_json(value)?, indent).trim_start_matches(' ')),
    }
    Ok(())
}

fn new_line(out: &mut String, indent: usize) {
    out.push('\n');
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Whether `s` may be written as a plain scalar. Its characters are letters, digits and
/// `_./-:`, and it does not end with `:`: no space, `#`, quote, bracket or other indicator, so
/// it can neither end its line nor start a key, a comment, a flow collection or a document.
/// And every YAML 1.1 and 1.2 resolver (Go's yaml.v2/v3, PyYAML, saphyr) reads it back as this
/// string: one starting with `/` is never anything else; one starting with a letter or `_` is
/// plain exactly when it may be a plain key (no `:`, not a reserved word like `on` or `null`);
/// one starting with a digit has two dots or more (numbers and timestamps have at most one) or
/// ends with a letter that no number or timestamp ends with (not a hex digit, not `z`).
fn is_plain_string(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-' | b':');
    if !bytes.iter().all(allowed) || last == b':' {
        return false;
    }
    match first {
        b'/' => true,
        b'0'..=b'9' => {
            bytes.iter().filter(|b| **b == b'.').count() >= 2 || matches!(last.to_ascii_lowercase(), b'g'..=b'y')
        }
        _ => key_text(s) == s,
    }
}

/// A Tera instance with our filters and escaping, and no templates yet.
fn empty_tera() -> Tera {
    let mut tera = Tera::default();
    tera.set_escape_fn(escape_yaml);
    tera.register_filter("yaml", YamlFilter);
    tera.register_filter("yaml_item", YamlItemFilter);
    tera.register_filter("key", KeyFilter);
    tera.register_filter("fixed", FixedFilter);
    tera.register_filter("fixed_item", FixedItemFilter);
    tera
}

/// A Tera instance with the embedded templates.
fn compile_embedded() -> Result<Tera, String> {
    let mut tera = empty_tera();
    tera.add_raw_templates(TEMPLATES.into_iter().chain(K8S_GATEWAY_TEMPLATES))
        .map_err(|e| format!("embedded templates: {e}"))?;
    // Every template escapes: the suffix list decides, and all our templates end in `.yaml`.
    tera.autoescape_on([".yaml"]);
    Ok(tera)
}

/// Parsed templates: the embedded ones, or those of `--templates DIR`.
pub struct Engine(Tera);

/// The engine with the templates read from `dir` (`--templates`): each of the four names must
/// exist there; a Gateway API template missing from `dir/k8s-gateway/` is the embedded one.
pub fn from_dir(dir: &Path) -> Result<Engine, String> {
    let mut tera = empty_tera();
    for (name, _) in TEMPLATES {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        tera.add_raw_template(name, &text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    for (name, embedded) in K8S_GATEWAY_TEMPLATES {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| embedded.to_string());
        tera.add_raw_template(name, &text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    tera.autoescape_on([".yaml"]);
    Ok(Engine(tera))
}

/// The engine with the embedded templates, parsed once per process when first used.
pub fn embedded() -> &'static Engine {
    static EMBEDDED: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    EMBEDDED.get_or_init(|| Engine(compile_embedded().expect("the embedded templates parse (a unit test checks)")))
}

/// Renders `template` with one variable `name` bound to `data`.
pub fn render(
    engine: &Engine,
    template: &str,
    name: &'static str,
    data: &impl serde::Serialize,
) -> Result<String, String> {
    let tera = &engine.0;
    let mut context = tera::Context::new();
    context.insert(name, data);
    tera.render(template, &context)
        .map_err(|e| format!("template {template}: {}", error_chain(&e)))
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_engine_holds_every_template() {
        let tera = &embedded().0;
        for (name, _) in TEMPLATES {
            assert!(tera.contains_template(name), "{name}");
        }
        let missing = render(embedded(), "nothing.yaml", "x", &0).unwrap_err();
        assert!(missing.contains("nothing.yaml"), "{missing}");
    }

    /// `template` rendered with `v` bound to `value`.
    fn render_one(template: &str, value: &impl serde::Serialize) -> String {
        let mut tera = empty_tera();
        tera.add_raw_template("t.yaml", template).unwrap();
        tera.autoescape_on([".yaml"]);
        let mut context = tera::Context::new();
        context.insert("v", value);
        tera.render("t.yaml", &context).unwrap()
    }

    #[test]
    fn fixed_writes_safe_strings_plain_and_every_other_one_quoted() {
        let plain = [
            "istio",
            "gateway_proxy_sds",
            "127.0.0.1",
            "127.0.0.1:8234",
            "0.25s",
            "10s",
            "/etc/certs/cert-chain.pem",
            "/a:b",
            "type.googleapis.com/envoy.config",
            "misc",
        ];
        let quoted = [
            "",
            "true",
            "On",
            "no",
            "Y",
            "null",
            "~",
            "8234",
            "1.5",
            "1.",
            "1e3",
            "0x1f",
            "0o17",
            "0b101",
            "1_000",
            "1:20",
            "1:20.5",
            "2001-12-14",
            "2001-12-14t21:59:43.10Z",
            "12:30:00Z",
            ".inf",
            ".5",
            "-a",
            "+1",
            "a:",
            "a:b",
            "a b",
            "a: b",
            "a #b",
            "#a",
            "x\ny",
            "---",
            "- a",
            "[a]",
            "{a: b}",
            "*a",
            "&a",
            "!a",
            "|",
            ">",
            "'a'",
            "\"a\"",
            "%a",
            "@a",
            "`a",
            "?a",
            "é",
            "a\u{2028}b",
            "=",
            "<<",
        ];
        for s in plain.iter().chain(&quoted) {
            let text = render_one("k:{{ v | fixed(indent=2) }}\n", s);
            let expected = if plain.contains(s) {
                format!("k: {s}\n")
            } else {
                format!("k:{}\n", emit::nested(&serde_json::json!(s), 2))
            };
            assert_eq!(text, expected, "{s:?}");
            let back = crate::yaml::parse_json(&text).unwrap();
            assert_eq!(back, serde_json::json!({ "k": s }), "{s:?} reads back as {back}");
        }
    }

    #[test]
    fn fixed_keeps_the_field_order_and_lays_lists_flush_with_their_key() {
        #[derive(serde::Serialize)]
        struct Shape {
            zeta: &'static str,
            alpha: Vec<Inner>,
            empty: std::collections::BTreeMap<String, u8>,
            list: [&'static str; 2],
        }
        #[derive(serde::Serialize)]
        struct Inner {
            second: u16,
            first: [u16; 1],
        }
        let shape = Shape {
            zeta: "z",
            alpha: vec![Inner { second: 2, first: [1] }],
            empty: Default::default(),
            list: ["a", "true"],
        };
        let text = render_one(
            "top:{{ v | fixed(indent=2) }}\nitems:\n- {{ v | fixed_item(indent=2) }}\n",
            &shape,
        );
        assert_eq!(
            text,
            "top:\n  zeta: z\n  alpha:\n  - second: 2\n    first:\n    - 1\n  empty: {}\n  list:\n  - a\n  - \"true\"\n\
             items:\n- zeta: z\n  alpha:\n  - second: 2\n    first:\n    - 1\n  empty: {}\n  list:\n  - a\n  - \"true\"\n"
        );
        crate::yaml::parse_json(&text).unwrap();
    }
}
