//! The manifests `analyze` reads: every document of every source, with the positions of its
//! values so that a finding points at the line that causes it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::diag::{Diagnostic, Location, SourceFile, code};
use crate::yaml::{Limits, Span, stream};

/// One parsed document with the positions of its values.
pub(super) struct Doc {
    pub source: Arc<SourceFile>,
    pub value: Value,
    spans: BTreeMap<String, (Option<Span>, Span)>,
}

impl Doc {
    pub fn str(&self, pointer: &str) -> Option<&str> {
        self.value.pointer(pointer).and_then(Value::as_str)
    }

    pub fn bool(&self, pointer: &str) -> Option<bool> {
        self.value.pointer(pointer).and_then(as_bool)
    }

    pub fn kind(&self) -> &str {
        self.str("/kind").unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.str("/metadata/name").unwrap_or("")
    }

    pub fn namespace(&self) -> Option<&str> {
        self.str("/metadata/namespace")
    }

    /// The API group of the document (`gloo.solo.io` for `gloo.solo.io/v1`, empty for `v1`).
    pub fn group(&self) -> &str {
        match self.str("/apiVersion") {
            Some(api) => api.rsplit_once('/').map_or("", |(group, _)| group),
            None => "",
        }
    }

    /// Whether the document is `kind` of the API group `group`.
    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.kind() == kind && self.group() == group
    }

    /// The value at `pointer`, or the closest enclosing one that was written.
    pub fn at(&self, pointer: &str) -> Option<Location> {
        let mut current = pointer;
        loop {
            if let Some((_, value)) = self.spans.get(current) {
                return Some(Location {
                    source: self.source.clone(),
                    span: *value,
                });
            }
            current = &current[..current.rfind('/')?];
        }
    }

    /// The key at `pointer` (its value when it has no key), or the closest enclosing one.
    pub fn at_key(&self, pointer: &str) -> Option<Location> {
        match self.spans.get(pointer) {
            Some((Some(key), _)) => Some(Location {
                source: self.source.clone(),
                span: *key,
            }),
            _ => self.at(pointer),
        }
    }
}

/// A boolean as Kubernetes and Helm write it: `true`, or the string `"true"`.
pub(super) fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// A port number, written as a number or a quoted number.
pub(super) fn as_port(value: &Value) -> Option<u16> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A map of strings (labels, annotations, selectors); values that are not strings are written
/// as their JSON text, as Kubernetes would refuse them anyway.
pub(super) fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether every label of `selector` is in `labels` (an empty selector selects everything).
pub(super) fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Reads the documents of every source. YAML errors are findings; such documents are skipped.
pub(super) fn documents(sources: &[Arc<SourceFile>], out: &mut Vec<Diagnostic>) -> Vec<Doc> {
    let mut docs = Vec::new();
    for source in sources {
        source.mark_manifest_secrets();
        for raw in stream::split_stream(&source.text) {
            if !raw.has_content() {
                continue;
            }
            match raw.load(Limits::default()) {
                Ok(Some(node)) => {
                    let mut spans = BTreeMap::new();
                    node.index_spans(&mut spans);
                    docs.push(Doc {
                        source: source.clone(),
                        value: node.to_json(),
                        spans,
                    });
                }
                Ok(None) => {}
                Err(err) => {
                    let mut d = Diagnostic::error(code::YAML_SYNTAX, err.message.clone())
                        .at(Some(Location {
                            source: source.clone(),
                            span: err.span,
                        }))
                        .help("fix the YAML of this document");
                    if let Some((span, label)) = err.related {
                        d = d.related(
                            Location {
                                source: source.clone(),
                                span,
                            },
                            label,
                        );
                    }
                    out.push(d);
                }
            }
        }
    }
    docs
}
