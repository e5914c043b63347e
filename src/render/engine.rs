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

impl Filter<&str, Value> for KeyFilter {
    fn call(&self, key: &str, _: Kwargs, _: &State) -> Value {
        let text = emit::document(&serde_json::json!({ key: 0 }));
        let key_text = text.strip_suffix(": 0\n").unwrap_or(&text);
        Value::safe_string(key_text)
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// A Tera instance with our filters and escaping, and no templates yet.
fn empty_tera() -> Tera {
    let mut tera = Tera::default();
    tera.set_escape_fn(escape_yaml);
    tera.register_filter("yaml", YamlFilter);
    tera.register_filter("yaml_item", YamlItemFilter);
    tera.register_filter("key", KeyFilter);
    tera
}

/// A Tera instance with the embedded templates.
fn compile_embedded() -> Result<Tera, String> {
    let mut tera = empty_tera();
    tera.add_raw_templates(TEMPLATES)
        .map_err(|e| format!("embedded templates: {e}"))?;
    // Every template escapes: the suffix list decides, and all our templates end in `.yaml`.
    tera.autoescape_on([".yaml"]);
    Ok(tera)
}

/// Parsed templates: the embedded ones, or those of `--templates DIR`.
pub struct Engine(Tera);

/// The engine with the templates read from `dir` (`--templates`): each of the four names must
/// exist there.
pub fn from_dir(dir: &Path) -> Result<Engine, String> {
    let mut tera = empty_tera();
    for (name, _) in TEMPLATES {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
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
}
