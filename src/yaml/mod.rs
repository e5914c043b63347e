//! YAML with source positions in, YAML-safe text out.
//!
//! `load` turns one YAML document into a [`Node`] tree that remembers where every key and
//! value stood (for located diagnostics), and into `serde_json::Value` for the typed model.
//! `emit` writes values back as YAML that cannot smuggle in a key, a line or a document.

pub mod emit;
pub mod load;
pub mod stream;

pub use load::{Limits, LoadError, LoadErrorKind, Node, NodeKind, load_document};

/// A position in a source text. `line` and `col` are 1-based (col counts characters),
/// `offset` is the byte offset into the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
    pub offset: usize,
}

/// A half-open range `[start, end)` of a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    /// Byte length of the span (at least 1, so a caret always has something to point at).
    pub fn len(&self) -> usize {
        self.end.offset.saturating_sub(self.start.offset).max(1)
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Parses one YAML document into JSON; `Err` with a one-line message (position included).
pub fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    match load_document(text.as_bytes(), Limits::default()) {
        Ok(Some(node)) => Ok(node.to_json()),
        Ok(None) => Err("is empty".into()),
        Err(err) => Err(format!(
            "is not valid YAML ({} at line {}, column {})",
            err.message, err.span.start.line, err.span.start.col
        )),
    }
}
