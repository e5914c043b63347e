//! One YAML document in, a position-carrying tree out.
//!
//! STUB: the API below is the contract; the implementation is being written.

use std::collections::BTreeMap;

use super::Span;

/// Bounds that keep hostile input from exhausting time, memory or the stack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes the document may expand to, counting every node an alias copies.
    pub max_nodes: usize,
    /// Largest input in bytes.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 128, max_nodes: 1_000_000, max_bytes: 64 * 1024 * 1024 }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    /// Entries in source order; keys are already strings (scalar keys are stringified).
    Map(Vec<(String, Span, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadErrorKind {
    Syntax,
    DuplicateKey,
    NotUtf8,
    TooDeep,
    TooLarge,
    MultipleDocuments,
    UnsupportedKey,
    UnknownAlias,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub kind: LoadErrorKind,
    pub message: String,
    pub span: Span,
    /// A second place the message refers to (the first occurrence of a duplicate key).
    pub related: Option<(Span, String)>,
}

/// Parses exactly one YAML document. `Ok(None)` for input that holds no document
/// (empty, whitespace or comments only).
pub fn load_document(_src: &[u8], _limits: Limits) -> Result<Option<Node>, LoadError> {
    todo!("yaml loader")
}

impl Node {
    pub fn to_json(&self) -> serde_json::Value {
        todo!("yaml loader")
    }

    /// Records, for every node, its JSON pointer (RFC 6901, `""` for the root) with the span
    /// of its key (None for the root and sequence items) and of its value.
    pub fn index_spans(&self, _out: &mut BTreeMap<String, (Option<Span>, Span)>) {
        todo!("yaml loader")
    }
}
