//! Values as Helm combines them: the chart defaults, then every `-f` file, then the value flags
//! ([`super::set_flags`]).
//!
//! Each user layer keeps the span of every key and value, so that a finding about the merged
//! values can point at the file, line and column where the value was written.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::Failure;
use crate::diag::{Diagnostic, Location, SourceFile, code};
use crate::yaml::{self, LoadErrorKind, Span};

/// The chart's default values (generated chart, see the header of the file).
pub const CHART_DEFAULTS: &str = include_str!("chart-defaults.yaml");

/// The Gloo version stamped into the chart defaults' image tags.
pub const CHART_DEFAULT_VERSION: &str = "1.0.0-ci";

/// One user-supplied layer of values with the positions of its keys and values.
#[derive(Debug, Clone)]
pub struct Layer {
    pub source: Arc<SourceFile>,
    pub value: Value,
    /// JSON pointer → (key span, value span).
    pub spans: BTreeMap<String, (Option<Span>, Span)>,
}

impl Layer {
    /// A layer parsed from the text of a values file. `Err` carries located diagnostics.
    pub fn parse(source: Arc<SourceFile>) -> Result<Layer, Diagnostic> {
        if let Some(diag) = yaml_1_1_line_break(&source) {
            return Err(diag);
        }
        let node = yaml::load_document(source.text.as_bytes(), yaml::Limits::default())
            .map_err(|err| load_error(&source, err))?;
        let Some(node) = node else {
            // An empty file or one holding only comments sets nothing, as in Helm.
            return Ok(Layer {
                source,
                value: Value::Object(Map::new()),
                spans: BTreeMap::new(),
            });
        };
        let value = node.to_json();
        match value {
            Value::Object(_) => {}
            Value::Null => {
                return Ok(Layer {
                    source,
                    value: Value::Object(Map::new()),
                    spans: BTreeMap::new(),
                });
            }
            _ => {
                let loc = Location {
                    source: source.clone(),
                    span: node.span,
                };
                return Err(Diagnostic::error(
                    code::INVALID_VALUE,
                    "a values file must be a mapping of keys to values",
                )
                .at(Some(loc))
                .help("start the file with a top-level key such as `global:`"));
            }
        }
        let mut spans = BTreeMap::new();
        node.index_spans(&mut spans);
        source.mark_secrets(&value, &spans);
        Ok(Layer { source, value, spans })
    }
}

/// The first U+0085, U+2028 or U+2029 in a values file, refused. Helm's YAML library (YAML 1.1)
/// reads them as line breaks, our loader (YAML 1.2) as text, so the same file would give
/// different values (a comment that ends early, a string with a line folded into it): rather
/// than guess, the file must say what it means with an escape in a double-quoted string.
fn yaml_1_1_line_break(source: &Arc<SourceFile>) -> Option<Diagnostic> {
    let (at, c) = source
        .text
        .char_indices()
        .find(|(_, c)| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))?;
    let before = &source.text[..at];
    let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let start = crate::yaml::Pos {
        line: before.matches('\n').count() + before.matches('\r').count() - before.matches("\r\n").count() + 1,
        col: before[line_start..].chars().count() + 1,
        offset: at,
    };
    let end = crate::yaml::Pos {
        col: start.col + 1,
        offset: at + c.len_utf8(),
        ..start
    };
    source.mask_secrets_by_key_names(0..source.text.len());
    Some(
        Diagnostic::error(
            code::YAML_1_1_LINE_BREAK,
            format!(
                "U+{:04X} is a line break for Helm (YAML 1.1) but not for gloo-istio (YAML 1.2): the values would differ",
                c as u32
            ),
        )
        .at(Some(Location {
            source: source.clone(),
            span: Span { start, end },
        }))
        .help(format!(
            "write it as the escape \"\\u{:04X}\" in a double-quoted string, or use a line break",
            c as u32
        )),
    )
}

fn load_error(source: &Arc<SourceFile>, err: yaml::LoadError) -> Diagnostic {
    // The excerpt shows lines of a file that did not parse: find its secrets by key name.
    source.mask_secrets_by_key_names(0..source.text.len());
    let code = match err.kind {
        LoadErrorKind::DuplicateKey => code::DUPLICATE_KEY,
        _ => code::YAML_SYNTAX,
    };
    let help = match err.kind {
        LoadErrorKind::DuplicateKey => "remove one of the two keys; YAML does not allow a key twice in one mapping",
        LoadErrorKind::NotUtf8 => "save the file as UTF-8",
        LoadErrorKind::TooDeep | LoadErrorKind::TooLarge => {
            "values files are small; this one looks generated or hostile"
        }
        LoadErrorKind::MultipleDocuments => "a values file holds one document: remove the second `---`",
        _ => "fix the YAML syntax at the marked position",
    };
    let mut diag = Diagnostic::error(code, err.message.clone())
        .path(err.pointer.as_deref().map(dotted_path).unwrap_or_default())
        .at(Some(Location {
            source: source.clone(),
            span: err.span,
        }))
        .help(help);
    if let Some((span, label)) = err.related {
        diag = diag.related(
            Location {
                source: source.clone(),
                span,
            },
            label,
        );
    }
    diag
}

/// The values of `layers` merged in order.
pub fn merge_layers(layers: &[Layer]) -> Value {
    let mut user = Value::Object(Map::new());
    for layer in layers {
        merge_user(&mut user, &layer.value);
    }
    user
}

/// Helm's merge of two user layers: maps merge key by key, everything else (lists, scalars,
/// null) in `over` replaces what `base` had.
pub fn merge_user(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => merge_user(existing, value),
                    _ => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

/// Helm's coalescing of user values over chart defaults: a user `null` deletes a default, maps
/// merge, anything else the user set wins. Keys only the user has are kept, nulls included.
pub fn coalesce(user: &Value, defaults: &Value) -> Value {
    match (user, defaults) {
        (Value::Object(user), Value::Object(defaults)) => {
            let mut out = Map::new();
            for (key, default) in defaults {
                match user.get(key) {
                    None => {
                        out.insert(key.clone(), default.clone());
                    }
                    Some(Value::Null) => {}
                    Some(value) => {
                        out.insert(key.clone(), coalesce(value, default));
                    }
                }
            }
            for (key, value) in user {
                if !defaults.contains_key(key) {
                    out.insert(key.clone(), value.clone());
                }
            }
            Value::Object(out)
        }
        (user, _) => user.clone(),
    }
}

/// The chart defaults with the Gloo image tags set to `version` (parsed once per process, and
/// copied only for another version).
pub fn chart_defaults(version: &str) -> std::borrow::Cow<'static, Value> {
    static PARSED: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        yaml::load_document(CHART_DEFAULTS.as_bytes(), yaml::Limits::default())
            .expect("the embedded chart defaults are valid YAML")
            .expect("the embedded chart defaults are not empty")
            .to_json()
    });
    if version == CHART_DEFAULT_VERSION {
        return std::borrow::Cow::Borrowed(parsed);
    }
    let mut value = parsed.clone();
    retag(&mut value, version);
    std::borrow::Cow::Owned(value)
}

fn retag(value: &mut Value, version: &str) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if (key == "tag" || key == "ossImageTag") && child.as_str() == Some(CHART_DEFAULT_VERSION) {
                    *child = Value::String(version.to_string());
                } else {
                    retag(child, version);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| retag(v, version)),
        _ => {}
    }
}

/// Reads a file (`-` for standard input) as UTF-8 text. Unreadable: an I/O failure; not UTF-8:
/// an invalid-input failure pointing at the first bad byte.
pub fn read_source(path: &std::path::Path) -> Result<Arc<SourceFile>, Failure> {
    // Read at most one byte past the limit: /dev/zero and friends must not fill memory.
    let limit = crate::yaml::Limits::default().max_bytes as u64;
    // The finding names the file (`<stdin>` as the findings in standard input do), which has no
    // place to point at.
    let unreadable = |name: &str, e: std::io::Error| {
        let file = if name == "standard input" { "<stdin>" } else { name };
        Failure {
            kind: crate::FailureKind::Io,
            diagnostics: vec![Diagnostic::error(code::UNREADABLE, format!("cannot read {name}: {e}")).in_file(file)],
        }
    };
    let read_capped = |reader: &mut dyn std::io::Read, name: &str| -> Result<Vec<u8>, Failure> {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(reader, limit + 1), &mut buf)
            .map_err(|e| unreadable(name, e))?;
        Ok(buf)
    };
    let (name, bytes) = if path.as_os_str() == "-" {
        (
            "<stdin>".to_string(),
            read_capped(&mut std::io::stdin(), "standard input")?,
        )
    } else {
        let name = path.display().to_string();
        let mut file = std::fs::File::open(path).map_err(|e| unreadable(&name, e))?;
        let bytes = read_capped(&mut file, &name)?;
        (name, bytes)
    };
    if bytes.len() as u64 > limit {
        let at = crate::yaml::Pos {
            line: 1,
            col: 1,
            offset: 0,
        };
        let diag = Diagnostic::error(
            code::YAML_SYNTAX,
            format!("the file is larger than {} MiB", limit / (1024 * 1024)),
        )
        .at(Some(Location {
            source: SourceFile::new(name, ""),
            span: Span { start: at, end: at },
        }))
        .help("values files and manifests are small; is this the right file?");
        return Err(Failure::invalid(vec![diag]));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(err) => {
            // Keep the valid prefix, so that the error can point at the first bad byte.
            let valid = err.utf8_error().valid_up_to();
            let bytes = err.into_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let line = prefix.matches('\n').count() + 1;
            let col = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let at = crate::yaml::Pos {
                line,
                col,
                offset: valid,
            };
            let source = SourceFile::new(name, prefix);
            source.mask_secrets_by_key_names(0..source.text.len());
            let diag = Diagnostic::error(code::YAML_SYNTAX, "the file is not valid UTF-8")
                .at(Some(Location {
                    source,
                    span: Span { start: at, end: at },
                }))
                .help("save the file as UTF-8");
            Err(Failure::invalid(vec![diag]))
        }
    }
}

/// Refuses layers whose values together come to more than the input limit (64 MiB of keys
/// and text): each file may be within it, or expand to it through aliases, and the merge and
/// the render of several would not be. The error points at the file that goes over.
pub fn check_total_size(layers: &[Layer]) -> Result<(), Diagnostic> {
    let limit = crate::yaml::Limits::default().max_expanded_bytes;
    let mut total = 0usize;
    for layer in layers {
        total = total.saturating_add(value_bytes(&layer.value));
        if total > limit {
            let mib = |bytes: usize| bytes.div_ceil(1024 * 1024);
            let span = layer.spans.get("").map(|(_, span)| *span).unwrap_or_default();
            return Err(Diagnostic::error(
                code::YAML_SYNTAX,
                format!(
                    "the values given up to here come to {} MiB of keys and text, more than the limit of {} MiB",
                    mib(total),
                    mib(limit)
                ),
            )
            .at(Some(Location {
                source: layer.source.clone(),
                span,
            }))
            .help("values files are small; these look generated or hostile"));
        }
    }
    Ok(())
}

/// Bytes of keys and strings in `value` (other scalars count one each).
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::String(s) => s.len(),
        Value::Array(items) => items.iter().map(value_bytes).fold(0, usize::saturating_add),
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| key.len().saturating_add(value_bytes(value)))
            .fold(0, usize::saturating_add),
        _ => 1,
    }
}

/// Reads one values file (`-` for standard input) into a layer. A URL is refused: gloo-istio
/// reads no network.
pub fn read_layer(path: &std::path::Path) -> Result<Layer, Failure> {
    refuse_url(&path.to_string_lossy(), "-f")?;
    let source = read_source(path)?;
    Layer::parse(source).map_err(|d| Failure::invalid(vec![d]))
}

/// A usage error for a `flag` argument that is a URL (`https://…`, `oci://…`), which Helm
/// would download and gloo-istio does not.
pub fn refuse_url(name: &str, flag: &str) -> Result<(), Failure> {
    let Some((scheme, _)) = name.split_once("://") else {
        return Ok(());
    };
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !is_scheme {
        return Ok(());
    }
    Err(Failure {
        kind: crate::FailureKind::Usage,
        diagnostics: vec![
            Diagnostic::error(
                code::UNREADABLE,
                format!("{flag} {name}: gloo-istio reads values from files and standard input only, not from URLs"),
            )
            .help("download it first, e.g. `curl -fsSL URL | gloo-istio render -f -`"),
        ],
    })
}

/// All user layers plus the values Helm would hand the templates.
#[derive(Debug, Clone)]
pub struct LoadedValues {
    pub layers: Vec<Layer>,
    /// The user layers merged (without defaults).
    pub user: Value,
    /// The user values coalesced over the chart defaults.
    pub merged: Value,
}

impl LoadedValues {
    /// The values of `layers` merged in order, as values files merge.
    pub fn new(layers: Vec<Layer>, gloo_version: &str) -> LoadedValues {
        let user = merge_layers(&layers);
        LoadedValues::with_user(layers, user, gloo_version)
    }

    /// `user`, the values the layers give together (value flags go onto the files in place,
    /// see [`super::set_flags::apply`]), over the chart defaults.
    pub fn with_user(layers: Vec<Layer>, user: Value, gloo_version: &str) -> LoadedValues {
        let merged = coalesce(&user, &chart_defaults(gloo_version));
        LoadedValues { layers, user, merged }
    }

    /// Where the value at `pointer` was written: the last layer that set it (or, failing that,
    /// the closest enclosing key some layer set).
    pub fn locate(&self, pointer: &str) -> Option<Location> {
        self.locate_with(pointer, |(_, value)| value)
    }

    /// Like [`locate`](Self::locate) but points at the key rather than the value.
    pub fn locate_key(&self, pointer: &str) -> Option<Location> {
        self.locate_with(pointer, |(key, value)| key.unwrap_or(value))
    }

    /// Where exactly the value at `pointer` was written, if a user layer wrote it.
    pub fn locate_exact(&self, pointer: &str) -> Option<Location> {
        self.layers.iter().rev().find_map(|layer| {
            layer.spans.get(pointer).map(|(_, value)| Location {
                source: layer.source.clone(),
                span: *value,
            })
        })
    }

    fn locate_with(&self, pointer: &str, pick: impl Fn((Option<Span>, Span)) -> Span) -> Option<Location> {
        let mut current = pointer;
        loop {
            for layer in self.layers.iter().rev() {
                if let Some(spans) = layer.spans.get(current) {
                    return Some(Location {
                        source: layer.source.clone(),
                        span: pick(*spans),
                    });
                }
            }
            if current.is_empty() {
                return None;
            }
            current = match current.rfind('/') {
                Some(i) => &current[..i],
                None => "",
            };
        }
    }
}

/// A JSON pointer as a dotted key path: `/global/istioSDS/enabled` → `global.istioSDS.enabled`,
/// list indexes as `[0]`.
pub fn dotted_path(pointer: &str) -> String {
    let mut out = String::new();
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coalesce_null_deletes_default_but_keeps_user_only_nulls() {
        let defaults = json!({"a": {"x": 1, "y": 2}, "b": 3});
        let user = json!({"a": {"x": null}, "c": null});
        assert_eq!(coalesce(&user, &defaults), json!({"a": {"y": 2}, "b": 3, "c": null}));
    }

    #[test]
    fn user_layers_merge_maps_and_replace_lists() {
        let mut base = json!({"a": {"x": 1, "l": [1, 2]}, "s": "k"});
        merge_user(&mut base, &json!({"a": {"y": 2, "l": [3]}, "s": null}));
        assert_eq!(base, json!({"a": {"x": 1, "y": 2, "l": [3]}, "s": null}));
    }

    #[test]
    fn dotted_paths() {
        assert_eq!(
            dotted_path("/global/istioSDS/customSidecars/0/name"),
            "global.istioSDS.customSidecars[0].name"
        );
        assert_eq!(dotted_path("/a~1b/c~0d"), "a/b.c~d");
    }

    #[test]
    fn defaults_can_be_retagged() {
        let v = chart_defaults("1.19.4");
        assert_eq!(v["global"]["glooMtls"]["sds"]["image"]["tag"], "1.19.4");
        assert_eq!(v["global"]["glooMtls"]["istioProxy"]["image"]["tag"], "1.22.0");
    }
}
