//! One YAML document in, a position-carrying tree out.
//!
//! The loader pulls events from saphyr-parser (whose `next_event` is a state machine with an
//! explicit state stack, so it does not recurse) and builds the tree with an explicit stack of
//! open collections, so hostile nesting cannot overflow the thread stack. [`Limits`] bound the
//! input size, the nesting depth, and the nodes and bytes aliases may expand to.
//!
//! Scalars resolve with the YAML 1.2 core schema (so `yes`, `on` and `0x1G` stay strings), and
//! YAML 1.1 merge keys (`<<`) are honoured because Helm's YAML library honours them.
//!
//! Spans: the root of an alias copy carries the span of the alias (`*name`), the nodes inside
//! the copy keep the spans of the anchored original, so diagnostics point at real text.

// `LoadError` is returned by value as the module's contract says; an error ends a load, so its
// size never costs more than once.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use super::{Pos, Span};

/// Bounds that keep hostile input from exhausting time, memory or the stack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes the document may expand to, counting every node an alias copies.
    pub max_nodes: usize,
    /// Largest input in bytes.
    pub max_bytes: usize,
    /// Most bytes of scalar text and keys the document may expand to, counting every copy an
    /// alias makes: one anchored megabyte aliased a thousand times is a gigabyte.
    pub max_expanded_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_nodes: 1_000_000,
            max_bytes: 64 * 1024 * 1024,
            max_expanded_bytes: 64 * 1024 * 1024,
        }
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
    /// A tag outside the core schema (`!foo`, `!!binary`, ...): we would not know what it means.
    UnsupportedTag,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub kind: LoadErrorKind,
    pub message: String,
    pub span: Span,
    /// A second place the message refers to (the first occurrence of a duplicate key).
    pub related: Option<(Span, String)>,
    /// The JSON pointer of the key at fault (a duplicate key), when the error is about one.
    pub pointer: Option<String>,
}

/// Parses exactly one YAML document. `Ok(None)` for input that holds no document
/// (empty, whitespace or comments only); a document whose content is entirely empty (a bare
/// `---`) counts as no document too, so `a: 1\n---\n` is one document, not two.
///
/// The tree's depth never exceeds `limits.max_depth`, which bounds the recursion of
/// [`Node::to_json`], [`Node::index_spans`] and of dropping the tree.
pub fn load_document(src: &[u8], limits: Limits) -> Result<Option<Node>, LoadError> {
    if src.len() > limits.max_bytes {
        let start = Pos {
            line: 1,
            col: 1,
            offset: 0,
        };
        return Err(error(
            LoadErrorKind::TooLarge,
            format!(
                "input is {} bytes, more than the limit of {} bytes",
                src.len(),
                limits.max_bytes
            ),
            Span { start, end: start },
        ));
    }
    let base = if src.starts_with(BOM) { BOM.len() } else { 0 };
    let text = decode(&src[base..], base)?;
    let source = Source::new(text, base);
    Builder::new(&source, limits).run()
}

impl Node {
    /// The JSON value of the tree. NaN and the infinities have no JSON form, so they become
    /// the strings `.nan`, `.inf` and `-.inf` (their YAML spelling).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => serde_json::Number::from_f64(*f).map_or_else(
                || {
                    let text = if f.is_nan() {
                        ".nan"
                    } else if *f > 0.0 {
                        ".inf"
                    } else {
                        "-.inf"
                    };
                    Value::String(text.to_owned())
                },
                Value::Number,
            ),
            NodeKind::String(s) => Value::String(s.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (key, _, value) in entries {
                    map.insert(key.clone(), value.to_json());
                }
                Value::Object(map)
            }
        }
    }

    /// Records, for every node, its JSON pointer (RFC 6901, `""` for the root) with the span
    /// of its key (None for the root and sequence items) and of its value.
    pub fn index_spans(&self, out: &mut BTreeMap<String, (Option<Span>, Span)>) {
        out.insert(String::new(), (None, self.span));
        // One buffer for every pointer: children append a segment and truncate it again.
        let mut pointer = String::new();
        self.index_children(&mut pointer, out);
    }

    fn index_children(&self, pointer: &mut String, out: &mut BTreeMap<String, (Option<Span>, Span)>) {
        let parent_len = pointer.len();
        match &self.kind {
            NodeKind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let _ = write!(pointer, "/{i}");
                    out.insert(pointer.clone(), (None, item.span));
                    item.index_children(pointer, out);
                    pointer.truncate(parent_len);
                }
            }
            NodeKind::Map(entries) => {
                for (key, key_span, value) in entries {
                    pointer.push('/');
                    for c in key.chars() {
                        match c {
                            '~' => pointer.push_str("~0"),
                            '/' => pointer.push_str("~1"),
                            c => pointer.push(c),
                        }
                    }
                    out.insert(pointer.clone(), (Some(*key_span), value.span));
                    value.index_children(pointer, out);
                    pointer.truncate(parent_len);
                }
            }
            _ => {}
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Maps above this size get a hash index for duplicate detection; smaller ones are scanned,
/// which is faster and allocates nothing.
const INDEX_THRESHOLD: usize = 16;

/// Characters between two byte-offset checkpoints of non-ASCII text.
const STRIDE: usize = 64;

fn error(kind: LoadErrorKind, message: impl Into<String>, span: Span) -> LoadError {
    LoadError {
        kind,
        message: message.into(),
        span,
        related: None,
        pointer: None,
    }
}

/// Validates UTF-8, pointing an error at the first bad byte.
fn decode(bytes: &[u8], base: usize) -> Result<&str, LoadError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = e.valid_up_to();
        let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let start = advance(
            Pos {
                line: 1,
                col: 1,
                offset: base,
            },
            prefix,
        );
        let bad = e.error_len().unwrap_or(bytes.len() - valid);
        let end = Pos {
            col: start.col + 1,
            offset: start.offset + bad,
            ..start
        };
        error(
            LoadErrorKind::NotUtf8,
            format!(
                "input is not valid UTF-8: byte 0x{:02X} at line {}, column {}",
                bytes[valid], start.line, start.col
            ),
            Span { start, end },
        )
    })
}

/// The position after `text` when it starts at `pos` (`\r\n`, `\r` and `\n` break lines).
fn advance(mut pos: Pos, text: &str) -> Pos {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        pos.offset += c.len_utf8();
        let line_break = c == '\n' || (c == '\r' && chars.peek() != Some(&'\n'));
        if line_break {
            pos.line += 1;
            pos.col = 1;
        } else if c != '\r' {
            pos.col += 1;
        }
    }
    pos
}

/// The decoded input and the conversion of saphyr markers (character index, 1-based line,
/// 0-based column) into [`Pos`] (byte offset into the original bytes, 1-based column).
struct Source<'a> {
    text: &'a str,
    /// Bytes of the original input before `text` (a skipped BOM).
    base: usize,
    /// Byte offset of every `STRIDE`-th character, so any character index converts in
    /// O(STRIDE) with n/STRIDE memory; `None` for ASCII text, where the two coincide.
    checkpoints: Option<Vec<usize>>,
    /// The last conversion (character index, byte offset): markers arrive almost in order,
    /// so walking on from here makes a whole document's conversions O(n).
    cursor: Cell<(usize, usize)>,
}

impl<'a> Source<'a> {
    fn new(text: &'a str, base: usize) -> Self {
        let checkpoints = (!text.is_ascii()).then(|| text.char_indices().step_by(STRIDE).map(|(b, _)| b).collect());
        Source {
            text,
            base,
            checkpoints,
            cursor: Cell::new((0, 0)),
        }
    }

    /// Byte offset into `text` of the character at `index` (clamped to the end).
    fn byte_of(&self, index: usize) -> usize {
        let Some(checkpoints) = &self.checkpoints else {
            return index.min(self.text.len());
        };
        let Some(&checkpoint) = checkpoints.get(index / STRIDE) else {
            return self.text.len();
        };
        // Walk from the cursor or the checkpoint, whichever is nearer below `index`.
        let (mut char_at, mut at) = (index - index % STRIDE, checkpoint);
        let (cursor_char, cursor_byte) = self.cursor.get();
        if (char_at..=index).contains(&cursor_char) {
            (char_at, at) = (cursor_char, cursor_byte);
        }
        let bytes = self.text.as_bytes();
        while char_at < index && at < bytes.len() {
            at += 1;
            while at < bytes.len() && bytes[at] & 0xC0 == 0x80 {
                at += 1;
            }
            char_at += 1;
        }
        self.cursor.set((index, at));
        at
    }

    fn pos(&self, m: Marker) -> Pos {
        Pos {
            line: m.line().max(1),
            col: m.col() + 1,
            offset: self.base + self.byte_of(m.index()),
        }
    }

    fn span(&self, s: saphyr_parser::Span) -> Span {
        Span {
            start: self.pos(s.start),
            end: self.pos(s.end),
        }
    }

    /// The text from `pos` to the end of the input.
    fn rest(&self, pos: Pos) -> &'a str {
        self.text
            .get(pos.offset.saturating_sub(self.base)..)
            .unwrap_or_default()
    }

    /// The span of the character at `pos` (empty at the end of the input).
    fn char_span(&self, pos: Pos) -> Span {
        let end = self
            .rest(pos)
            .chars()
            .next()
            .map_or(pos, |c| advance(pos, c.encode_utf8(&mut [0; 4])));
        Span { start: pos, end }
    }

    /// The span of a token at `pos` that ends at white space or a flow indicator
    /// (an alias name, a tag).
    fn token_span(&self, pos: Pos) -> Span {
        let rest = self.rest(pos);
        let len = if rest.starts_with("!<") {
            rest.find('>').map_or(rest.len(), |i| i + 1)
        } else {
            rest.find(|c: char| c.is_whitespace() || ",[]{}".contains(c))
                .unwrap_or(rest.len())
        };
        Span {
            start: pos,
            end: advance(pos, &rest[..len]),
        }
    }

    /// The span of the tag among the properties (`&anchor !tag`, in either order) that start
    /// a node at `start`.
    fn tag_span(&self, start: Pos) -> Span {
        let mut pos = start;
        for _ in 0..2 {
            let rest = self.rest(pos);
            if rest.starts_with('!') {
                return self.token_span(pos);
            }
            if !rest.starts_with('&') {
                break;
            }
            let anchor = self.token_span(pos);
            let after = self.rest(anchor.end);
            let blank = after.len() - after.trim_start().len();
            pos = advance(anchor.end, &after[..blank]);
        }
        self.char_span(start)
    }

    /// `span` without trailing white space, which saphyr includes after quoted and block
    /// scalars and closing brackets.
    fn trim_end(&self, span: Span) -> Span {
        let text = self.text(span);
        let trimmed = text.trim_end_matches([' ', '\t', '\r', '\n']);
        let cut = &text[trimmed.len()..];
        if cut.is_empty() {
            span
        } else if !cut.contains(['\r', '\n']) {
            let end = Pos {
                col: span.end.col.saturating_sub(cut.len()).max(1),
                offset: span.end.offset - cut.len(),
                ..span.end
            };
            Span { end, ..span }
        } else {
            Span {
                end: advance(span.start, trimmed),
                ..span
            }
        }
    }

    fn text(&self, span: Span) -> &'a str {
        let start = span.start.offset.saturating_sub(self.base);
        let end = span.end.offset.saturating_sub(self.base);
        self.text.get(start..end).unwrap_or_default()
    }
}

/// The core-schema tags we understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CoreTag {
    /// `!`: resolves a scalar as a string and a collection as itself.
    NonSpecific,
    Str,
    Int,
    Float,
    Bool,
    Null,
    Map,
    Seq,
}

impl CoreTag {
    fn classify(tag: &Tag) -> Option<CoreTag> {
        const CORE: &str = "tag:yaml.org,2002:";
        let name = if tag.handle == CORE {
            tag.suffix.as_str()
        } else if tag.handle.is_empty() {
            if tag.suffix == "!" {
                return Some(CoreTag::NonSpecific);
            }
            // A verbatim tag, `!<tag:yaml.org,2002:str>`.
            tag.suffix.strip_prefix(CORE)?
        } else {
            return None;
        };
        Some(match name {
            "str" => CoreTag::Str,
            "int" => CoreTag::Int,
            "float" => CoreTag::Float,
            "bool" => CoreTag::Bool,
            "null" => CoreTag::Null,
            "map" => CoreTag::Map,
            "seq" => CoreTag::Seq,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            CoreTag::NonSpecific => "!",
            CoreTag::Str => "!!str",
            CoreTag::Int => "!!int",
            CoreTag::Float => "!!float",
            CoreTag::Bool => "!!bool",
            CoreTag::Null => "!!null",
            CoreTag::Map => "!!map",
            CoreTag::Seq => "!!seq",
        }
    }
}

/// A resolved scalar; strings carry no text so the event's text can be moved in afterwards.
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

impl Scalar {
    /// Core-schema resolution of an untagged plain scalar.
    fn plain(text: &str) -> Scalar {
        if is_null(text) {
            Scalar::Null
        } else if let Some(b) = parse_bool(text) {
            Scalar::Bool(b)
        } else if let Some(int) = parse_int(text) {
            int.map_or_else(Scalar::Float, Scalar::Int)
        } else if let Some(f) = parse_float(text) {
            Scalar::Float(f)
        } else {
            Scalar::Str
        }
    }

    /// A scalar explicitly tagged `tag`, or `None` when its text does not fit the tag.
    fn tagged(text: &str, tag: CoreTag) -> Option<Scalar> {
        match tag {
            CoreTag::NonSpecific | CoreTag::Str => Some(Scalar::Str),
            CoreTag::Null => is_null(text).then_some(Scalar::Null),
            CoreTag::Bool => parse_bool(text).map(Scalar::Bool),
            CoreTag::Int => parse_int(text)?.ok().map(Scalar::Int),
            CoreTag::Float => parse_float(text)
                .or_else(|| parse_int(text).map(|int| int.map_or_else(|f| f, |i| i as f64)))
                .map(Scalar::Float),
            CoreTag::Map | CoreTag::Seq => None,
        }
    }

    fn into_kind(self, text: Cow<'_, str>) -> NodeKind {
        match self {
            Scalar::Null => NodeKind::Null,
            Scalar::Bool(b) => NodeKind::Bool(b),
            Scalar::Int(i) => NodeKind::Int(i),
            Scalar::Float(f) => NodeKind::Float(f),
            Scalar::Str => NodeKind::String(text.into_owned()),
        }
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Core-schema integers: `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`. `Err` carries the value
/// as a float when it does not fit an `i64`.
fn parse_int(text: &str) -> Option<Result<i64, f64>> {
    fn radix(digits: &str, radix: u32) -> Option<Result<i64, f64>> {
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        Some(i64::from_str_radix(digits, radix).map_err(|_| {
            digits
                .chars()
                .filter_map(|c| c.to_digit(radix))
                .fold(0.0, |acc, d| acc * f64::from(radix) + f64::from(d))
        }))
    }
    if let Some(digits) = text.strip_prefix("0o") {
        return radix(digits, 8);
    }
    if let Some(digits) = text.strip_prefix("0x") {
        return radix(digits, 16);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<i64>().map_err(|_| text.parse::<f64>().unwrap_or(f64::NAN)))
}

/// Core-schema floats: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?.inf`
/// and `.nan` in their three spellings.
fn parse_float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return Some(if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    let b = unsigned.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int = digits(0);
    let mut i = int;
    if b.get(i) == Some(&b'.') {
        let frac = digits(i + 1);
        if int == 0 && frac == 0 {
            return None;
        }
        i += 1 + frac;
    } else if int == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = digits(i);
        if exp == 0 {
            return None;
        }
        i += exp;
    }
    if i != b.len() {
        return None;
    }
    text.parse().ok()
}

/// An anchored node, kept so aliases can copy it.
struct Anchor {
    node: Node,
    /// Nodes in `node`, so a copy can be refused before it is made.
    count: usize,
    /// Bytes of scalar text and keys in `node`, likewise.
    bytes: usize,
    /// Collection levels in `node` (0 for a scalar), so a copy cannot exceed the depth limit.
    height: usize,
    /// The key text of an anchored scalar, so its alias can be a mapping key.
    key: Option<String>,
}

type Entry = (String, Span, Node);

/// A mapping key waiting for its value.
struct Key {
    name: String,
    span: Span,
    /// A plain `<<`: the value is merged, not stored.
    merge: bool,
}

#[derive(Default)]
struct MapFrame {
    /// The explicitly written entries.
    entries: Vec<Entry>,
    key: Option<Key>,
    /// Entries of `<<` values, each with the number of explicit entries before it.
    merges: Vec<(usize, Vec<Entry>)>,
    /// Key → index into `entries`, once the map is big enough for scanning to cost.
    index: Option<HashMap<String, usize>>,
}

impl MapFrame {
    fn find(&self, name: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(name).copied(),
            None => self.entries.iter().position(|(key, ..)| key == name),
        }
    }

    fn push(&mut self, key: Key, value: Node) -> Result<(), LoadError> {
        if key.merge {
            let entries = merge_entries(value)?;
            self.merges.push((self.entries.len(), entries));
            return Ok(());
        }
        if let Some(index) = &mut self.index {
            index.insert(key.name.clone(), self.entries.len());
        }
        self.entries.push((key.name, key.span, value));
        if self.index.is_none() && self.entries.len() >= INDEX_THRESHOLD {
            self.index = Some(
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, (key, ..))| (key.clone(), i))
                    .collect(),
            );
        }
        Ok(())
    }

    /// The final entries: merged entries go where their `<<` stood, unless a key written in
    /// the mapping or an earlier merged map already provides them.
    fn finish(self) -> Vec<Entry> {
        if self.merges.is_empty() {
            return self.entries;
        }
        let mut seen: HashSet<String> = self.entries.iter().map(|(key, ..)| key.clone()).collect();
        let merged: usize = self.merges.iter().map(|(_, list)| list.len()).sum();
        let mut out = Vec::with_capacity(self.entries.len() + merged);
        let mut explicit = self.entries.into_iter();
        let mut taken = 0;
        for (at, list) in self.merges {
            out.extend(explicit.by_ref().take(at - taken));
            taken = at;
            for entry in list {
                if !seen.contains(&entry.0) {
                    seen.insert(entry.0.clone());
                    out.push(entry);
                }
            }
        }
        out.extend(explicit);
        out
    }
}

/// The entries a `<<` value contributes: a mapping's, or those of a sequence of mappings.
fn merge_entries(value: Node) -> Result<Vec<Entry>, LoadError> {
    let bad = |span| {
        error(
            LoadErrorKind::Syntax,
            "the merge key `<<` needs a mapping, an alias of one, or a sequence of them",
            span,
        )
    };
    match value.kind {
        NodeKind::Map(entries) => Ok(entries),
        NodeKind::Seq(items) => {
            let mut out = Vec::new();
            for item in items {
                match item.kind {
                    NodeKind::Map(entries) => out.extend(entries),
                    _ => return Err(bad(item.span)),
                }
            }
            Ok(out)
        }
        _ => Err(bad(value.span)),
    }
}

enum Body {
    Seq(Vec<Node>),
    Map(MapFrame),
}

/// An open collection.
struct Frame {
    start: Pos,
    /// End of the last thing seen inside; a block collection ends there.
    end: Pos,
    anchor: usize,
    /// Nodes in the collection so far, itself included.
    count: usize,
    /// Bytes of scalar text and keys in the collection so far.
    bytes: usize,
    /// Collection levels in the collection so far, itself included.
    height: usize,
    body: Body,
}

/// Nodes and bytes of text built so far.
#[derive(Default)]
struct Built {
    nodes: usize,
    bytes: usize,
}

struct Builder<'s> {
    src: &'s Source<'s>,
    limits: Limits,
    stack: Vec<Frame>,
    /// Indexed by saphyr's anchor id (ids are handed out in order from 1); `None` until the
    /// anchored node is complete.
    anchors: Vec<Option<Anchor>>,
    /// What has been built so far, alias copies and anchor copies included.
    built: Built,
    root: Option<Node>,
    /// Where the current document started, for the multiple-documents error.
    doc_start: Span,
}

impl<'s> Builder<'s> {
    fn new(src: &'s Source<'s>, limits: Limits) -> Self {
        Builder {
            src,
            limits,
            stack: Vec::new(),
            anchors: Vec::new(),
            built: Built::default(),
            root: None,
            doc_start: Span::default(),
        }
    }

    fn run(mut self) -> Result<Option<Node>, LoadError> {
        let mut parser = Parser::new_from_str(self.src.text);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| self.scan_error(&e))?;
            let span = self.src.span(span);
            match event {
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart(_) => self.doc_start = span,
                Event::Scalar(text, style, anchor, tag) => self.scalar(text, style, anchor, tag.as_deref(), span)?,
                Event::Alias(id) => self.alias(id, span)?,
                Event::SequenceStart(anchor, tag) => self.open(false, anchor, tag.as_deref(), span)?,
                Event::MappingStart(anchor, tag) => self.open(true, anchor, tag.as_deref(), span)?,
                Event::SequenceEnd | Event::MappingEnd => self.close(span)?,
            }
        }
        Ok(self.root)
    }

    fn scan_error(&self, e: &ScanError) -> LoadError {
        let pos = self.src.pos(*e.marker());
        match e.info() {
            "while parsing node, found unknown anchor" => {
                let span = self.src.token_span(pos);
                let alias = self.src.text(span);
                let name = alias.strip_prefix('*').unwrap_or(alias);
                error(
                    LoadErrorKind::UnknownAlias,
                    format!("unknown alias `*{name}`: no anchor `&{name}` is defined before it"),
                    span,
                )
            }
            // saphyr's only depth limit: 255 nested flow collections.
            "recursion limit exceeded" => error(
                LoadErrorKind::TooDeep,
                "nesting too deep: the parser stops at 255 nested flow collections",
                self.src.char_span(pos),
            ),
            info => error(LoadErrorKind::Syntax, info, self.src.char_span(pos)),
        }
    }

    /// Whether the next node is a key of the innermost mapping.
    fn wants_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame { body: Body::Map(map), .. }) if map.key.is_none())
    }

    fn check_single_document(&self) -> Result<(), LoadError> {
        if self.stack.is_empty() && self.root.is_some() {
            return Err(error(
                LoadErrorKind::MultipleDocuments,
                format!(
                    "expected a single YAML document, but a second one starts on line {}",
                    self.doc_start.start.line
                ),
                self.doc_start,
            ));
        }
        Ok(())
    }

    /// Counts `count` new nodes holding `bytes` of text, refusing before anything is built.
    fn charge(built: &mut Built, limits: &Limits, count: usize, bytes: usize, span: Span) -> Result<(), LoadError> {
        built.nodes = built.nodes.saturating_add(count);
        built.bytes = built.bytes.saturating_add(bytes);
        if built.nodes > limits.max_nodes {
            return Err(error(
                LoadErrorKind::TooLarge,
                format!("document expands to more than {} nodes (alias bomb?)", limits.max_nodes),
                span,
            ));
        }
        if built.bytes > limits.max_expanded_bytes {
            return Err(error(
                LoadErrorKind::TooLarge,
                format!(
                    "document expands to more than {} MiB of text (alias bomb?)",
                    limits.max_expanded_bytes / (1024 * 1024)
                ),
                span,
            ));
        }
        Ok(())
    }

    fn too_deep(&self, span: Span) -> LoadError {
        error(
            LoadErrorKind::TooDeep,
            format!("nesting deeper than {} levels", self.limits.max_depth),
            span,
        )
    }

    fn unsupported_key(span: Span, what: &str) -> LoadError {
        error(
            LoadErrorKind::UnsupportedKey,
            format!("mapping keys must be scalars, found {what}"),
            span,
        )
    }

    fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<(), LoadError> {
        let span = self.src.trim_end(span);
        let untagged_plain = style == ScalarStyle::Plain && tag.is_none();
        if self.stack.is_empty() && untagged_plain && anchor == 0 && text.is_empty() {
            // The content of an empty document (`---` alone).
            return Ok(());
        }
        self.check_single_document()?;
        let scalar = match tag {
            None if style == ScalarStyle::Plain => Scalar::plain(&text),
            None => Scalar::Str,
            Some(tag) => self.tagged(&text, tag, false, span)?,
        };
        if self.wants_key() {
            let merge = untagged_plain && text == "<<";
            let name = text.into_owned();
            if anchor != 0 {
                let node = Node {
                    kind: scalar.into_kind(Cow::Borrowed(&name)),
                    span,
                };
                self.store_anchor(anchor, &node, 1, name.len(), 0, Some(name.clone()))?;
            }
            return self.set_key(name, span, merge);
        }
        let bytes = text.len();
        Self::charge(&mut self.built, &self.limits, 1, bytes, span)?;
        let key = (anchor != 0).then(|| text.to_string());
        let node = Node {
            kind: scalar.into_kind(text),
            span,
        };
        self.complete(node, anchor, 1, bytes, 0, key)
    }

    /// Resolves an explicit tag on a scalar (`collection: false`) or checks it on a collection.
    fn tagged(&self, text: &str, tag: &Tag, collection: bool, span: Span) -> Result<Scalar, LoadError> {
        let Some(core) = CoreTag::classify(tag) else {
            let tag_span = self.src.tag_span(span.start);
            return Err(error(
                LoadErrorKind::UnsupportedTag,
                format!(
                    "unsupported tag `{}`: only !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are understood",
                    self.src.text(tag_span)
                ),
                tag_span,
            ));
        };
        let fits = match (collection, core) {
            (true, CoreTag::NonSpecific | CoreTag::Map | CoreTag::Seq) => return Ok(Scalar::Str),
            (true, _) => None,
            (false, _) => Scalar::tagged(text, core),
        };
        fits.ok_or_else(|| {
            let message = match (collection, core) {
                (true, _) => format!("the tag {} cannot be applied to a collection", core.name()),
                (false, CoreTag::Map | CoreTag::Seq) => {
                    format!("the tag {} cannot be applied to a scalar", core.name())
                }
                (false, _) => format!("`{text}` is not a valid {} value", core.name()),
            };
            error(LoadErrorKind::Syntax, message, span)
        })
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<(), LoadError> {
        self.check_single_document()?;
        let wants_key = self.wants_key();
        let Some(anchor) = self.anchors.get(id).and_then(Option::as_ref) else {
            // saphyr reports undefined anchors itself; this one is still being built.
            return Err(error(
                LoadErrorKind::UnknownAlias,
                format!("alias `{}` refers to a node that contains it", self.src.text(span)),
                span,
            ));
        };
        if wants_key {
            let Some(name) = anchor.key.clone() else {
                return Err(Self::unsupported_key(span, "an alias of a collection"));
            };
            return self.set_key(name, span, false);
        }
        if self.stack.len() + anchor.height > self.limits.max_depth {
            return Err(self.too_deep(span));
        }
        let (count, bytes, height) = (anchor.count, anchor.bytes, anchor.height);
        Self::charge(&mut self.built, &self.limits, count, bytes, span)?;
        let mut node = anchor.node.clone();
        node.span = span;
        self.complete(node, 0, count, bytes, height, None)
    }

    fn open(&mut self, is_map: bool, anchor: usize, tag: Option<&Tag>, span: Span) -> Result<(), LoadError> {
        self.check_single_document()?;
        if self.wants_key() {
            return Err(Self::unsupported_key(
                span,
                if is_map { "a mapping" } else { "a sequence" },
            ));
        }
        if let Some(tag) = tag {
            let wrong = if is_map { CoreTag::Seq } else { CoreTag::Map };
            if CoreTag::classify(tag) == Some(wrong) {
                let kind = if is_map { "mapping" } else { "sequence" };
                return Err(error(
                    LoadErrorKind::Syntax,
                    format!("the tag {} cannot be applied to a {kind}", wrong.name()),
                    span,
                ));
            }
            self.tagged("", tag, true, span)?;
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.too_deep(span));
        }
        Self::charge(&mut self.built, &self.limits, 1, 0, span)?;
        let body = if is_map {
            Body::Map(MapFrame::default())
        } else {
            Body::Seq(Vec::new())
        };
        self.stack.push(Frame {
            start: span.start,
            end: span.end,
            anchor,
            count: 1,
            bytes: 0,
            height: 1,
            body,
        });
        Ok(())
    }

    fn close(&mut self, span: Span) -> Result<(), LoadError> {
        let Some(frame) = self.stack.pop() else {
            return Err(error(LoadErrorKind::Syntax, "unexpected end of a collection", span));
        };
        // A flow collection ends with its `]` or `}` (saphyr's span of it runs on over any
        // trailing blanks); a block one where its last entry ends (saphyr puts the end event
        // at the next token, possibly lines later).
        let closed = span.end.offset > span.start.offset && self.src.rest(span.start).starts_with([']', '}']);
        let end = if closed {
            Pos {
                col: span.start.col + 1,
                offset: span.start.offset + 1,
                ..span.start
            }
        } else {
            frame.end
        };
        let kind = match frame.body {
            Body::Seq(items) => NodeKind::Seq(items),
            Body::Map(map) => NodeKind::Map(map.finish()),
        };
        let node = Node {
            kind,
            span: Span {
                start: frame.start,
                end,
            },
        };
        self.complete(node, frame.anchor, frame.count, frame.bytes, frame.height, None)
    }

    /// Stores a copy of an anchored node; the copy counts against the node limit like any other.
    fn store_anchor(
        &mut self,
        id: usize,
        node: &Node,
        count: usize,
        bytes: usize,
        height: usize,
        key: Option<String>,
    ) -> Result<(), LoadError> {
        Self::charge(&mut self.built, &self.limits, count, bytes, node.span)?;
        if self.anchors.len() <= id {
            self.anchors.resize_with(id + 1, || None);
        }
        self.anchors[id] = Some(Anchor {
            node: node.clone(),
            count,
            bytes,
            height,
            key,
        });
        Ok(())
    }

    /// Hands a finished node to its parent (or makes it the root).
    fn complete(
        &mut self,
        node: Node,
        anchor: usize,
        count: usize,
        bytes: usize,
        height: usize,
        key: Option<String>,
    ) -> Result<(), LoadError> {
        if anchor != 0 {
            self.store_anchor(anchor, &node, count, bytes, height, key)?;
        }
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        parent.count = parent.count.saturating_add(count);
        parent.bytes = parent.bytes.saturating_add(bytes);
        parent.height = parent.height.max(height + 1);
        parent.end = node.span.end;
        match &mut parent.body {
            Body::Seq(items) => items.push(node),
            Body::Map(map) => {
                let Some(key) = map.key.take() else {
                    return Err(error(LoadErrorKind::Syntax, "mapping value without a key", node.span));
                };
                map.push(key, node)?;
            }
        }
        Ok(())
    }

    /// The JSON pointer of key `name` of the innermost mapping: the keys and indexes of the
    /// collections being built around it.
    fn pointer_to(&self, name: &str) -> String {
        let escape = |key: &str| key.replace('~', "~0").replace('/', "~1");
        let mut out = String::new();
        for frame in &self.stack[..self.stack.len().saturating_sub(1)] {
            out.push('/');
            match &frame.body {
                Body::Map(map) => out.push_str(&map.key.as_ref().map(|k| escape(&k.name)).unwrap_or_default()),
                Body::Seq(items) => out.push_str(&items.len().to_string()),
            }
        }
        out.push('/');
        out.push_str(&escape(name));
        out
    }

    /// Starts an entry of the innermost mapping, rejecting a key it already has.
    fn set_key(&mut self, name: String, span: Span, merge: bool) -> Result<(), LoadError> {
        Self::charge(&mut self.built, &self.limits, 0, name.len(), span)?;
        let first = match self.stack.last() {
            Some(Frame {
                body: Body::Map(map), ..
            }) if !merge => map.find(&name).map(|i| map.entries[i].1),
            _ => None,
        };
        if let Some(first) = first {
            return Err(LoadError {
                kind: LoadErrorKind::DuplicateKey,
                message: format!(
                    "duplicate key `{name}` on line {}: it is already defined on line {}",
                    span.start.line, first.start.line
                ),
                span,
                related: Some((first, "first defined here".to_owned())),
                pointer: Some(self.pointer_to(&name)),
            });
        }
        let Some(Frame {
            body: Body::Map(map),
            end,
            bytes,
            ..
        }) = self.stack.last_mut()
        else {
            return Err(error(LoadErrorKind::Syntax, "mapping key outside a mapping", span));
        };
        *end = span.end;
        *bytes = bytes.saturating_add(name.len());
        map.key = Some(Key { name, span, merge });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> Result<Option<Node>, LoadError> {
        load_document(src.as_bytes(), Limits::default())
    }

    fn node(src: &str) -> Node {
        load(src).expect("loads").expect("holds a document")
    }

    fn err(src: &str) -> LoadError {
        load(src).expect_err("fails")
    }

    fn json(src: &str) -> serde_json::Value {
        node(src).to_json()
    }

    fn entries(node: &Node) -> &[Entry] {
        match &node.kind {
            NodeKind::Map(entries) => entries,
            other => panic!("not a map: {other:?}"),
        }
    }

    fn get<'a>(node: &'a Node, key: &str) -> &'a Node {
        entries(node)
            .iter()
            .find(|(k, ..)| k == key)
            .map(|(_, _, v)| v)
            .expect("key present")
    }

    fn pos(line: usize, col: usize, offset: usize) -> Pos {
        Pos { line, col, offset }
    }

    /// Drops a tree without recursing, for trees deeper than the default limits allow.
    fn dismantle(node: Node) {
        let mut stack = vec![node];
        while let Some(node) = stack.pop() {
            match node.kind {
                NodeKind::Seq(items) => stack.extend(items),
                NodeKind::Map(entries) => stack.extend(entries.into_iter().map(|(_, _, v)| v)),
                _ => {}
            }
        }
    }

    /// Runs `f` on a thread with the default 2 MiB test stack, whatever RUST_MIN_STACK says.
    fn on_small_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn empty_inputs_hold_no_document() {
        for src in [
            "",
            "  \n\t\n",
            "# a comment\n  # another\n",
            "\u{feff}",
            "---\n",
            "---\n...\n",
            "...\n",
        ] {
            assert_eq!(load(src), Ok(None), "{src:?}");
        }
    }

    #[test]
    fn bom_is_skipped_and_positions_count_original_bytes() {
        let root = node("\u{feff}a: 1\nb: x");
        let (_, key_span, value) = &entries(&root)[0];
        assert_eq!(key_span.start, pos(1, 1, 3));
        assert_eq!(
            value.span,
            Span {
                start: pos(1, 4, 6),
                end: pos(1, 5, 7)
            }
        );
        assert_eq!(get(&root, "b").span.start, pos(2, 4, 11));
    }

    #[test]
    fn non_utf8_points_at_the_first_bad_byte() {
        let e = load_document(b"a: 1\nb: \xC3(x\n", Limits::default()).unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::NotUtf8);
        assert_eq!(e.span.start, pos(2, 4, 8));
        assert_eq!(e.span.end.offset, 9);
        let e = load_document(b"\xEF\xBB\xBF\xE4\xB8\x80 \xFF", Limits::default()).unwrap_err();
        assert_eq!(e.span.start, pos(1, 3, 7));
    }

    #[test]
    fn input_over_max_bytes_is_too_large() {
        let limits = Limits {
            max_bytes: 8,
            ..Limits::default()
        };
        assert_eq!(load_document(b"a: 1234\n", limits).map(|n| n.is_some()), Ok(true));
        let e = load_document(b"a: 12345\n", limits).unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::TooLarge);
    }

    #[test]
    fn second_document_is_rejected_at_its_start() {
        let e = err("a: 1\n---\nb: 2\n");
        assert_eq!(e.kind, LoadErrorKind::MultipleDocuments);
        assert_eq!(
            e.span,
            Span {
                start: pos(2, 1, 5),
                end: pos(2, 4, 8)
            }
        );
        let e = err("a: 1\n...\nb: 2\n");
        assert_eq!(e.kind, LoadErrorKind::MultipleDocuments);
        assert_eq!(e.span.start, pos(3, 1, 9));
        assert_eq!(err("--- 1\n--- 2\n").kind, LoadErrorKind::MultipleDocuments);
    }

    #[test]
    fn document_markers_alone_are_fine() {
        for src in [
            "a: 1\n...\n",
            "a: 1\n---\n",
            "---\na: 1\n...\n# done\n",
            "---\n---\na: 1\n",
        ] {
            assert_eq!(json(src), serde_json::json!({"a": 1}), "{src:?}");
        }
    }

    #[test]
    fn plain_scalars_resolve_with_the_core_schema() {
        use NodeKind::*;
        let cases: &[(&str, NodeKind)] = &[
            ("null", Null),
            ("Null", Null),
            ("NULL", Null),
            ("~", Null),
            ("true", Bool(true)),
            ("True", Bool(true)),
            ("FALSE", Bool(false)),
            ("42", Int(42)),
            ("-17", Int(-17)),
            ("+5", Int(5)),
            ("08", Int(8)),
            ("0o17", Int(15)),
            ("0x1F", Int(31)),
            ("0xff", Int(255)),
            ("9223372036854775807", Int(i64::MAX)),
            ("9223372036854775808", Float(9_223_372_036_854_775_808.0)),
            ("1.5", Float(1.5)),
            ("-.5", Float(-0.5)),
            ("1.", Float(1.0)),
            ("1e3", Float(1000.0)),
            ("2.5E-1", Float(0.25)),
            (".inf", Float(f64::INFINITY)),
            ("-.Inf", Float(f64::NEG_INFINITY)),
            ("+.INF", Float(f64::INFINITY)),
            ("yes", String("yes".into())),
            ("on", String("on".into())),
            ("NO", String("NO".into())),
            ("0x1G", String("0x1G".into())),
            ("0o8", String("0o8".into())),
            ("-0x1", String("-0x1".into())),
            ("1_000", String("1_000".into())),
            ("1e", String("1e".into())),
            (".", String(".".into())),
            ("nULL", String("nULL".into())),
            ("1.2.3", String("1.2.3".into())),
            ("v1 beta", String("v1 beta".into())),
        ];
        for (src, want) in cases {
            let root = node(&format!("x: {src}"));
            assert_eq!(&get(&root, "x").kind, want, "{src}");
        }
        assert!(matches!(get(&node("x: .NaN"), "x").kind, Float(f) if f.is_nan()));
        assert_eq!(get(&node("x:"), "x").kind, Null);
    }

    #[test]
    fn quoted_and_block_scalars_are_strings() {
        let root = node("a: '1'\nb: \"true\"\nc: |\n  null\nd: >\n  12\ne: ''\n");
        assert_eq!(get(&root, "a").kind, NodeKind::String("1".into()));
        assert_eq!(get(&root, "b").kind, NodeKind::String("true".into()));
        assert_eq!(get(&root, "c").kind, NodeKind::String("null\n".into()));
        assert_eq!(get(&root, "d").kind, NodeKind::String("12\n".into()));
        assert_eq!(get(&root, "e").kind, NodeKind::String(String::new()));
    }

    #[test]
    fn core_tags_force_their_type() {
        let root = node(concat!(
            "a: !!str 1\nb: !!int \"42\"\nc: !!float 1\nd: !!bool 'true'\ne: !!null ''\n",
            "f: !!map {x: 1}\ng: !!seq [1]\nh: ! 12\ni: !<tag:yaml.org,2002:int> 0x10\nj: !!str\n",
            "k: &x !!int 7\nl: !!float .nan\n"
        ));
        assert_eq!(get(&root, "a").kind, NodeKind::String("1".into()));
        assert_eq!(get(&root, "b").kind, NodeKind::Int(42));
        assert_eq!(get(&root, "c").kind, NodeKind::Float(1.0));
        assert_eq!(get(&root, "d").kind, NodeKind::Bool(true));
        assert_eq!(get(&root, "e").kind, NodeKind::Null);
        assert_eq!(json("f: !!map {x: 1}\ng: !!seq [1]")["g"], serde_json::json!([1]));
        assert_eq!(get(&root, "h").kind, NodeKind::String("12".into()));
        assert_eq!(get(&root, "i").kind, NodeKind::Int(16));
        assert_eq!(get(&root, "j").kind, NodeKind::String(String::new()));
        assert_eq!(get(&root, "k").kind, NodeKind::Int(7));
        assert!(matches!(get(&root, "l").kind, NodeKind::Float(f) if f.is_nan()));
    }

    #[test]
    fn text_that_does_not_fit_its_tag_is_a_syntax_error() {
        for src in [
            "a: !!int abc",
            "a: !!int 9223372036854775808",
            "a: !!bool yes",
            "a: !!null 0",
            "a: !!float x",
            "a: !!map 1",
            "a: !!str [1]",
            "a: !!seq {b: 1}",
            "a: !!map [1]",
        ] {
            let e = err(src);
            assert_eq!(e.kind, LoadErrorKind::Syntax, "{src}: {e:?}");
            assert_eq!(e.span.start, pos(1, 4, 3), "{src}");
        }
        assert!(err("a: !!int abc").message.contains("`abc` is not a valid !!int"));
    }

    #[test]
    fn unsupported_tags_are_rejected_at_the_tag() {
        let e = err("a: !foo bar");
        assert_eq!(e.kind, LoadErrorKind::UnsupportedTag);
        assert_eq!(
            e.span,
            Span {
                start: pos(1, 4, 3),
                end: pos(1, 8, 7)
            }
        );
        assert!(e.message.contains("`!foo`"), "{}", e.message);
        let e = err("a: &x !!binary aGk=");
        assert_eq!(e.kind, LoadErrorKind::UnsupportedTag);
        assert_eq!(
            e.span,
            Span {
                start: pos(1, 7, 6),
                end: pos(1, 15, 14)
            }
        );
        assert_eq!(err("!!set {a: 1}").kind, LoadErrorKind::UnsupportedTag);
        assert_eq!(err("!custom\n- 1").kind, LoadErrorKind::UnsupportedTag);
        assert_eq!(err("!!timestamp 2001-12-14: x").kind, LoadErrorKind::UnsupportedTag);
    }

    #[test]
    fn scalar_keys_are_stringified_as_written() {
        let root = node("8080: a\ntrue: b\nnull: c\n'q': d\n1.50: e\n\"x\\ty\": f\n~: g\n0x10: h\n");
        let keys: Vec<&str> = entries(&root).iter().map(|(k, ..)| k.as_str()).collect();
        assert_eq!(keys, ["8080", "true", "null", "q", "1.50", "x\ty", "~", "0x10"]);
        let root = node("{? a, : b}");
        assert_eq!(entries(&root)[1].0, "");
    }

    #[test]
    fn collection_keys_are_rejected() {
        for (src, col) in [
            ("? [a]\n: b", 3),
            ("{[a]: b}", 2),
            ("? {a: 1}\n: b", 3),
            ("a: {? [x] : y}", 7),
        ] {
            let e = err(src);
            assert_eq!(e.kind, LoadErrorKind::UnsupportedKey, "{src}");
            assert_eq!(e.span.start.col, col, "{src}");
        }
        let e = err("a: &x [1]\n*x : 2\n");
        assert_eq!(e.kind, LoadErrorKind::UnsupportedKey);
        assert_eq!(e.span.start, pos(2, 1, 10));
    }

    #[test]
    fn duplicate_keys_are_rejected_with_both_places() {
        let e = err("a: 1\nb: 2\na: 3\n");
        assert_eq!(e.kind, LoadErrorKind::DuplicateKey);
        assert_eq!(
            e.span,
            Span {
                start: pos(3, 1, 10),
                end: pos(3, 2, 11)
            }
        );
        let (first, label) = e.related.clone().unwrap();
        assert_eq!(
            first,
            Span {
                start: pos(1, 1, 0),
                end: pos(1, 2, 1)
            }
        );
        assert_eq!(label, "first defined here");
        assert!(
            e.message.contains("`a`") && e.message.contains("line 3") && e.message.contains("line 1"),
            "{}",
            e.message
        );
        // Stringified keys collide: `1` and `'1'` are the same key.
        assert_eq!(err("1: a\n'1': b").kind, LoadErrorKind::DuplicateKey);
        assert_eq!(err("{a: 1, a: 2}").kind, LoadErrorKind::DuplicateKey);
        // Big mappings use the hash index.
        let mut big: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        assert_eq!(entries(&node(&big)).len(), 100);
        big.push_str("k42: again\n");
        let e = err(&big);
        assert_eq!(e.kind, LoadErrorKind::DuplicateKey);
        assert_eq!((e.span.start.line, e.related.unwrap().0.start.line), (101, 43));
        // The same key in different mappings is fine.
        assert_eq!(
            json("a: {x: 1}\nb: {x: 2}"),
            serde_json::json!({"a": {"x": 1}, "b": {"x": 2}})
        );
    }

    #[test]
    fn entries_keep_source_order() {
        let root = node("z: 1\na: 2\nm: 3\n");
        let keys: Vec<&str> = entries(&root).iter().map(|(k, ..)| k.as_str()).collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn aliases_copy_the_anchored_node() {
        let root = node("a: &x {b: 1, c: [2]}\nd: *x\ne: &s hello\nf: *s\n");
        assert_eq!(get(&root, "d").kind, get(&root, "a").kind);
        // The copy's root carries the alias's span, its insides the original's.
        let d = get(&root, "d");
        assert_eq!(
            d.span,
            Span {
                start: pos(2, 4, 24),
                end: pos(2, 6, 26)
            }
        );
        assert_eq!(get(d, "b").span.start, pos(1, 11, 10));
        assert_eq!(get(&root, "f").kind, NodeKind::String("hello".into()));
        // An anchor may be redefined; later aliases see the new node.
        assert_eq!(json("a: &x 1\nb: &x 2\nc: *x")["c"], serde_json::json!(2));
        // Aliases of scalars can be keys.
        assert_eq!(
            json("a: &k name\n*k : v\n"),
            serde_json::json!({"a": "name", "name": "v"})
        );
        assert_eq!(
            json("- &k 80\n- {*k : http}\n"),
            serde_json::json!([80, {"80": "http"}])
        );
    }

    #[test]
    fn unknown_and_recursive_aliases_are_rejected() {
        let e = err("a: 1\nb: *nope\n");
        assert_eq!(e.kind, LoadErrorKind::UnknownAlias);
        assert_eq!(
            e.span,
            Span {
                start: pos(2, 4, 8),
                end: pos(2, 9, 13)
            }
        );
        assert!(e.message.contains("*nope"), "{}", e.message);
        assert_eq!(err("a: [*b, &b 1]").kind, LoadErrorKind::UnknownAlias);
        let e = err("a: &r [1, *r]");
        assert_eq!(e.kind, LoadErrorKind::UnknownAlias);
        assert_eq!(e.span.start.col, 11);
    }

    fn billion_laughs() -> String {
        let mut src = String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let refs = vec![format!("*{prev}"); 9].join(",");
            src.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        src
    }

    #[test]
    fn billion_laughs_fails_fast() {
        let start = std::time::Instant::now();
        let e = err(&billion_laughs());
        assert_eq!(e.kind, LoadErrorKind::TooLarge);
        assert!(
            e.message.contains("more than 1000000 nodes (alias bomb?)"),
            "{}",
            e.message
        );
        // A bound for a hang, not a benchmark: an unbounded expansion would run for hours.
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        // A tighter budget refuses the first big copy before making it.
        let limits = Limits {
            max_nodes: 1000,
            ..Limits::default()
        };
        let e = load_document(billion_laughs().as_bytes(), limits).unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::TooLarge);
        assert_eq!(e.span.start.line, 3);
    }

    #[test]
    fn alias_copies_count_against_max_nodes() {
        // The root mapping (1), `[1, 2]` (3), its anchor copy (3) and the alias copy (3): 10.
        let src = "a: &x [1, 2]\nb: *x\n";
        assert!(
            load_document(
                src.as_bytes(),
                Limits {
                    max_nodes: 10,
                    ..Limits::default()
                }
            )
            .is_ok()
        );
        let e = load_document(
            src.as_bytes(),
            Limits {
                max_nodes: 9,
                ..Limits::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::TooLarge);
        assert_eq!(e.span.start, pos(2, 4, 16));
    }

    #[test]
    fn alias_copies_count_against_max_expanded_bytes() {
        // One anchored string of 1,000 bytes, aliased: the text and the keys count per copy.
        let big = "x".repeat(1000);
        let doc = |aliases: usize| {
            format!(
                "a: &s {big}\nb: [{}]\n",
                std::iter::repeat_n("*s", aliases).collect::<Vec<_>>().join(", ")
            )
        };
        let limits = Limits {
            max_expanded_bytes: 10_000,
            ..Limits::default()
        };
        // Keys `a` and `b` (2), the string (1,000), its anchor copy (1,000) and the aliases.
        assert!(load_document(doc(7).as_bytes(), limits).is_ok());
        let e = load_document(doc(8).as_bytes(), limits).unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::TooLarge);
        assert!(e.message.contains("alias bomb"), "{}", e.message);
        // At the alias that goes over.
        assert_eq!(e.span.start.line, 2);
        assert_eq!(e.span.start.col, 1 + "b: [".len() + 7 * "*s, ".len());
    }

    #[test]
    fn merge_keys_merge_like_helm() {
        let src = "base: &base {a: 1, b: 2, c: 3}\nover: &over {b: 20, d: 40}\n\
                   x:\n  c: 30\n  <<: [*over, *base]\n  e: 5\n";
        let root = node(src);
        let x = get(&root, "x");
        let keys: Vec<&str> = entries(x).iter().map(|(k, ..)| k.as_str()).collect();
        assert_eq!(keys, ["c", "b", "d", "a", "e"]);
        assert_eq!(
            x.to_json(),
            serde_json::json!({"a": 1, "b": 20, "c": 30, "d": 40, "e": 5})
        );
        // Merged entries keep their original key spans.
        assert_eq!(entries(x)[1].1.start, pos(2, 14, 44));
        // Explicit keys win even when written after the merge; inline maps merge too.
        assert_eq!(json("<<: {a: 1, b: 2}\na: 10\n"), serde_json::json!({"a": 10, "b": 2}));
        assert_eq!(
            json("d: &d {a: 1}\ne:\n  <<: *d\n  a: 2\n")["e"],
            serde_json::json!({"a": 2})
        );
        // Two merge keys: the earlier one wins; neither is a duplicate.
        assert_eq!(
            json("<<: {a: 1}\n<<: {a: 2, b: 2}\n"),
            serde_json::json!({"a": 1, "b": 2})
        );
        // Only a plain `<<` merges.
        assert_eq!(json("'<<': {a: 1}"), serde_json::json!({"<<": {"a": 1}}));
        for src in ["<<: 1", "<<: [1]", "<<: [{a: 1}, [2]]", "<<:"] {
            assert_eq!(err(src).kind, LoadErrorKind::Syntax, "{src}");
        }
    }

    #[test]
    fn nesting_deeper_than_max_depth_is_rejected() {
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(load(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        let e = err(&deep);
        assert_eq!(e.kind, LoadErrorKind::TooDeep);
        assert_eq!(e.span.start, pos(1, 129, 128));
        let block: String = (0..200).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert_eq!(err(&block).kind, LoadErrorKind::TooDeep);
        // An alias cannot smuggle in depth.
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        assert!(load_document(b"a: &x [[1]]\n", limits).is_ok());
        let e = load_document(b"a: &x [[1]]\nb: [*x]\n", limits).unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::TooDeep);
        assert_eq!(e.span.start, pos(2, 5, 16));
    }

    #[test]
    fn a_million_brackets_do_not_overflow_the_stack() {
        on_small_stack(|| {
            for open in ["[", "{", "[a, "] {
                let e = load_document(open.repeat(1_000_000).as_bytes(), Limits::default()).unwrap_err();
                assert_eq!(e.kind, LoadErrorKind::TooDeep, "{open}");
            }
            // Past our limit the parser's own limit of 255 flow levels answers.
            let limits = Limits {
                max_depth: usize::MAX,
                ..Limits::default()
            };
            let e = load_document("[".repeat(1_000_000).as_bytes(), limits).unwrap_err();
            assert_eq!((e.kind, e.span.start.col), (LoadErrorKind::TooDeep, 256));
        });
    }

    #[test]
    fn deep_block_nesting_does_not_overflow_the_stack() {
        on_small_stack(|| {
            let seqs = "- ".repeat(100_000) + "x";
            assert_eq!(load(&seqs).unwrap_err().kind, LoadErrorKind::TooDeep);
            // Complex keys nest block mappings compactly; a mapping key is refused first.
            let keys = "? ".repeat(100_000) + "x";
            assert_eq!(load(&keys).unwrap_err().kind, LoadErrorKind::UnsupportedKey);
            // Indentation-nested mappings grow quadratically, so 5,000 levels (12.5 MB).
            let maps: String = (0..5_000).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
            assert_eq!(load(&maps).unwrap_err().kind, LoadErrorKind::TooDeep);
            // saphyr's event parser itself does not recurse: drain every level.
            for src in [&seqs, &keys, &maps] {
                let events = Parser::new_from_str(src).collect::<Result<Vec<_>, _>>();
                assert!(events.unwrap().len() > 10_000);
            }
            // Nor does our builder: 20,000 levels with the limit lifted.
            let limits = Limits {
                max_depth: usize::MAX,
                ..Limits::default()
            };
            let src = "- ".repeat(20_000) + "x";
            let root = load_document(src.as_bytes(), limits).unwrap().unwrap();
            dismantle(root);
        });
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = err("a: [1, 2\nb: 3\n");
        assert_eq!(e.kind, LoadErrorKind::Syntax);
        assert!(e.span.start.line >= 1 && !e.message.is_empty());
        let e = err("a: b: c\n");
        assert_eq!(e.kind, LoadErrorKind::Syntax);
        assert_eq!(e.span.start, pos(1, 5, 4));
        assert!(e.message.contains("mapping values are not allowed"), "{}", e.message);
        let e = err("a: 'ünterminated\n");
        assert_eq!(e.kind, LoadErrorKind::Syntax);
        assert_eq!(
            e.span,
            Span {
                start: pos(1, 4, 3),
                end: pos(1, 5, 4)
            }
        );
    }

    #[test]
    fn tab_indentation_is_a_located_syntax_error() {
        let e = err("a:\n\tb: 1\n");
        assert_eq!(e.kind, LoadErrorKind::Syntax);
        assert_eq!(e.span.start, pos(2, 2, 4));
        assert!(e.message.contains("tab"), "{}", e.message);
    }

    #[test]
    fn positions_count_characters_for_columns_and_bytes_for_offsets() {
        let long = "é".repeat(150);
        let src = format!("ä: ö\nb: '{long}'\nc: 1\n");
        let root = node(&src);
        assert_eq!(
            entries(&root)[0].1,
            Span {
                start: pos(1, 1, 0),
                end: pos(1, 2, 2)
            }
        );
        assert_eq!(
            get(&root, "ä").span,
            Span {
                start: pos(1, 4, 4),
                end: pos(1, 5, 6)
            }
        );
        let b = get(&root, "b");
        assert_eq!(
            b.span,
            Span {
                start: pos(2, 4, 10),
                end: pos(2, 156, 312)
            }
        );
        assert_eq!(&src[b.span.start.offset..b.span.end.offset], format!("'{long}'"));
        assert_eq!(get(&root, "c").span.start, pos(3, 4, 316));
        // Block collections end at their last entry, flow ones at their closing bracket,
        // scalars at their last character, whatever blanks follow.
        let root = node("a:\n  b: 1\n\n# trailing\nc: [1, 2]  \nd: {e: 'x'  }  \nf: |\n  t\n\n");
        assert_eq!(
            get(&root, "a").span,
            Span {
                start: pos(2, 3, 5),
                end: pos(2, 7, 9)
            }
        );
        assert_eq!(
            get(&root, "c").span,
            Span {
                start: pos(5, 4, 25),
                end: pos(5, 10, 31)
            }
        );
        let d = get(&root, "d");
        assert_eq!(
            d.span,
            Span {
                start: pos(6, 4, 37),
                end: pos(6, 14, 47)
            }
        );
        assert_eq!(
            get(d, "e").span,
            Span {
                start: pos(6, 8, 41),
                end: pos(6, 11, 44)
            }
        );
        let f = get(&root, "f");
        assert_eq!(f.kind, NodeKind::String("t\n".into()));
        assert_eq!(f.span.end, pos(8, 4, 58));
    }

    #[test]
    fn to_json_maps_every_kind() {
        let src = "n: ~\nb: true\ni: -3\nf: 2.5\ns: x\nq: [1, {k: v}]\ninf: .inf\nninf: -.inf\nnan: .nan\n";
        assert_eq!(
            json(src),
            serde_json::json!({
                "n": null, "b": true, "i": -3, "f": 2.5, "s": "x", "q": [1, {"k": "v"}],
                "inf": ".inf", "ninf": "-.inf", "nan": ".nan"
            })
        );
        assert_eq!(json("- 1\n- two"), serde_json::json!([1, "two"]));
        assert_eq!(json("'just text'"), serde_json::json!("just text"));
    }

    #[test]
    fn index_spans_uses_json_pointers() {
        let root = node("a:\n  b: [x, y]\n\"t~/s\": 1\n");
        let mut spans = BTreeMap::new();
        root.index_spans(&mut spans);
        let keys: Vec<&str> = spans.keys().map(String::as_str).collect();
        assert_eq!(keys, ["", "/a", "/a/b", "/a/b/0", "/a/b/1", "/t~0~1s"]);
        assert_eq!(spans[""], (None, root.span));
        let (key, value) = spans["/a/b"];
        assert_eq!(key.unwrap().start, pos(2, 3, 5));
        assert_eq!(value.start, pos(2, 6, 8));
        assert_eq!(
            spans["/a/b/1"],
            (
                None,
                Span {
                    start: pos(2, 10, 12),
                    end: pos(2, 11, 13)
                }
            )
        );
        assert_eq!(spans["/t~0~1s"].0.unwrap().start, pos(3, 1, 15));
    }

    const REALISTIC: &str = "\
# Gloo Edge values
global:
  image:
    registry: quay.io/solo-io   # where images come from
    tag: &tag 1.17.0
    pullPolicy: IfNotPresent
  extensions: {}
gateway:
  enabled: true
  replicas: 2
  ports: [8080, 8443]
  proxy: &proxy
    resources:
      limits: {cpu: \"1\", memory: 512Mi}
    annotations:
      'sidecar.istio.io/inject': \"true\"
  istio:
    <<: *proxy
    version: *tag
    script: |
      #!/bin/sh
      echo \"ready\"
    folded: >-
      a long
      line
settings:
  - name: ä-ünïcode
    value: 0x1F
  - name: ~
    value: !!str 12
...
";

    /// Loads `bytes` and checks that every reported span is ordered, within the input and on
    /// character boundaries.
    fn load_and_check_spans(bytes: &[u8]) {
        let text = std::str::from_utf8(bytes).ok();
        let check = |span: Span| {
            let (start, end) = (span.start, span.end);
            assert!(start.offset <= end.offset && end.offset <= bytes.len(), "{span:?}");
            assert!(start.line >= 1 && start.col >= 1 && end.line >= start.line, "{span:?}");
            if let Some(text) = text {
                assert!(text.is_char_boundary(start.offset) && text.is_char_boundary(end.offset));
            }
        };
        match load_document(bytes, Limits::default()) {
            Ok(Some(node)) => {
                let mut spans = BTreeMap::new();
                node.index_spans(&mut spans);
                for (key, value) in spans.into_values() {
                    key.into_iter().for_each(check);
                    check(value);
                }
            }
            Ok(None) => {}
            Err(e) => {
                check(e.span);
                e.related.into_iter().for_each(|(span, _)| check(span));
            }
        }
    }

    /// Random byte strings over a YAML-heavy alphabet, then random mutations of a realistic file.
    fn fuzz(rounds: usize) {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as usize
        };
        const ALPHABET: &[u8] = b" \n\t-?:,[]{}#&*!|>'\"%@`~<\\0x1.eaZ\xC3\xA4\xFF\r\xEF\xBB\xBF";
        for _ in 0..rounds {
            let len = next() % 80;
            let bytes: Vec<u8> = (0..len).map(|_| ALPHABET[next() % ALPHABET.len()]).collect();
            load_and_check_spans(&bytes);
            let mut bytes = REALISTIC.as_bytes().to_vec();
            for _ in 0..1 + next() % 4 {
                let at = next() % bytes.len();
                bytes[at] = ALPHABET[next() % ALPHABET.len()];
            }
            load_and_check_spans(&bytes);
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        assert!(load(REALISTIC).unwrap().is_some());
        for (end, _) in REALISTIC.char_indices() {
            load_and_check_spans(&REALISTIC.as_bytes()[..end]);
        }
        fuzz(400);
    }

    /// The same at length: `cargo test --release --lib yaml::load -- --ignored`.
    #[test]
    #[ignore]
    fn arbitrary_input_never_panics_at_length() {
        fuzz(500_000);
    }
}
