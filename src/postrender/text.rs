//! Minimal textual edits of one YAML document: whole lines inserted into or removed from block
//! collections, and scalars replaced in place. Everything else in the document keeps its bytes
//! (comments, layout, key order), so an edit is easy to review and exactly reversible.
//!
//! [`DocText`] finds the lines of a node and [`Edits`] applies the changes; the functions after
//! them are the edits the kinds of documents share (a list item, a mapping entry, a map value),
//! each an error naming the document when the node is not in a shape we edit, and [`verify`],
//! the check every edited document passes before it is written.

use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::{Value, json};

use super::document::{Document, error_at};
use crate::Failure;
use crate::diag::code;
use crate::render::ManifestKind;
use crate::yaml::{self, Limits, Span, emit};

/// A parsed document with the positions of its nodes (offsets into `text`).
pub struct DocText<'a> {
    pub text: &'a str,
    pub value: Value,
    pub spans: BTreeMap<String, (Option<Span>, Span)>,
}

impl<'a> DocText<'a> {
    /// Parses `text`, one YAML document.
    pub fn parse(text: &'a str) -> Result<Option<DocText<'a>>, yaml::LoadError> {
        let Some(node) = yaml::load_document(text.as_bytes(), yaml::Limits::default())? else {
            return Ok(None);
        };
        let mut spans = BTreeMap::new();
        node.index_spans(&mut spans);
        Ok(Some(DocText {
            text,
            value: node.to_json(),
            spans,
        }))
    }

    pub fn span(&self, pointer: &str) -> Option<Span> {
        self.spans.get(pointer).map(|(_, v)| *v)
    }

    pub fn key_span(&self, pointer: &str) -> Option<Span> {
        self.spans.get(pointer).and_then(|(k, _)| *k)
    }

    /// Byte offset of the start of the line holding `offset`.
    ///
    /// `offset` may fall inside a multi-byte character (callers pass "the last byte of a node",
    /// one before its end): the search is over bytes, where a newline is never part of another
    /// character, so the answer is a character boundary either way.
    pub fn line_start(&self, offset: usize) -> usize {
        let bytes = self.text.as_bytes();
        bytes[..offset.min(bytes.len())]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
    }

    /// Byte offset just past the end of the line holding `offset` (past its newline). Like
    /// [`DocText::line_start`], `offset` need not be a character boundary.
    pub fn line_end(&self, offset: usize) -> usize {
        let bytes = self.text.as_bytes();
        match bytes
            .get(offset..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            Some(i) => offset + i + 1,
            None => self.text.len(),
        }
    }

    /// The column (0-based) of the `- ` that introduces the sequence item at `item_pointer`, when
    /// the sequence is in block style and the item starts on its dash line.
    pub fn dash_column(&self, item_pointer: &str) -> Option<usize> {
        let span = self.span(item_pointer)?;
        let line_start = self.line_start(span.start.offset);
        let before = &self.text[line_start..span.start.offset];
        let trimmed = before.trim_end();
        if !trimmed.ends_with('-') || !trimmed[..trimmed.len() - 1].chars().all(|c| c == ' ' || c == '-') {
            return None;
        }
        // Nested dashes (`- - x`) are not our shape.
        let first_dash = before.find('-')?;
        (before[first_dash + 1..].trim() == "").then_some(first_dash)
    }

    /// The whole lines of the sequence item at `item_pointer`: from its dash line to the end of
    /// the line where the item ends.
    pub fn item_lines(&self, item_pointer: &str) -> Option<Range<usize>> {
        self.dash_column(item_pointer)?;
        let span = self.span(item_pointer)?;
        Some(
            self.line_start(span.start.offset)..self.line_end(span.end.offset.saturating_sub(1).max(span.start.offset)),
        )
    }

    /// The whole lines of the mapping entry at `pointer` (key line to the end of its value), when
    /// the key starts its line.
    pub fn entry_lines(&self, pointer: &str) -> Option<Range<usize>> {
        let key = self.key_span(pointer)?;
        let value = self.span(pointer)?;
        let start = self.line_start(key.start.offset);
        if !self.text[start..key.start.offset].chars().all(|c| c == ' ') {
            return None;
        }
        Some(start..self.line_end(value.end.offset.saturating_sub(1).max(key.start.offset)))
    }

    /// The column of the keys of the block mapping at `pointer`.
    pub fn key_column(&self, pointer: &str) -> Option<usize> {
        let map = self.value.pointer(pointer)?.as_object()?;
        let first = map.keys().next()?;
        let span = self.key_span(&format!("{pointer}/{}", escape(first)))?;
        let start = self.line_start(span.start.offset);
        let before = &self.text[start..span.start.offset];
        before.chars().all(|c| c == ' ').then_some(before.len())
    }
}

/// RFC 6901 escaping of one pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Block sequence items (`- …` lines) at `column`, ending with a newline.
pub fn render_items(items: &[Value], column: usize) -> String {
    let text = emit::nested(&Value::Array(items.to_vec()), column);
    let mut out = text.strip_prefix('\n').unwrap_or(&text).to_string();
    out.push('\n');
    out
}

/// One mapping entry line(s) `key: value` at `column`, ending with a newline.
pub fn render_entry(key: &str, value: &Value, column: usize) -> String {
    let doc = emit::document(&json!({ key: 0 }));
    let key_text = doc.strip_suffix(": 0\n").unwrap_or(&doc);
    format!("{}{key_text}:{}\n", " ".repeat(column), emit::nested(value, column + 2))
}

/// A set of non-overlapping edits of one text.
#[derive(Debug, Default, Clone)]
pub struct Edits {
    edits: Vec<(Range<usize>, String)>,
    /// What the edited document must hold afterwards: (JSON pointer, value).
    expected: Vec<(String, Value)>,
}

impl Edits {
    /// Records that the edited document must hold `value` at `pointer`; the caller takes these
    /// ([`Edits::take_expected`]) and checks them after [`Edits::apply`], so that an edit that
    /// lands in the wrong place is an error, never output.
    pub fn expect(&mut self, pointer: String, value: Value) {
        self.expected.push((pointer, value));
    }

    /// The values recorded by [`Edits::expect`], moved out.
    pub fn take_expected(&mut self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.expected)
    }

    pub fn insert(&mut self, at: usize, text: String) {
        self.edits.push((at..at, text));
    }

    pub fn replace(&mut self, range: Range<usize>, text: String) {
        self.edits.push((range, text));
    }

    pub fn delete(&mut self, range: Range<usize>) {
        self.edits.push((range, String::new()));
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// Applies the edits. Insertions at one offset (the end of a block where several edits
    /// add lines) go deepest first, and at one depth list items before keys: a line ends the
    /// blocks deeper than itself, so a shallower line inserted first would adopt the deeper
    /// ones (an annotation added after a new `labels:` entry would become a label). Otherwise
    /// the order of addition is kept.
    pub fn apply(mut self, text: &str) -> Result<String, String> {
        self.edits.sort_by_key(|(range, insert)| {
            let nesting = if range.is_empty() {
                insertion_nesting(insert)
            } else {
                (0, false)
            };
            (range.start, range.end, std::cmp::Reverse(nesting))
        });
        let mut out = String::with_capacity(text.len() + self.edits.iter().map(|(_, t)| t.len()).sum::<usize>());
        let mut cursor = 0;
        for (range, insert) in &self.edits {
            if range.start < cursor {
                return Err("overlapping edits".into());
            }
            out.push_str(&text[cursor..range.start]);
            out.push_str(insert);
            cursor = range.end;
        }
        out.push_str(&text[cursor..]);
        Ok(out)
    }
}

/// The nesting of inserted lines: the indentation of the first line with content, and whether
/// it is a list item (at one indentation an item belongs to the list above, a key does not).
fn insertion_nesting(text: &str) -> (usize, bool) {
    text.lines()
        .map(|line| line.trim_end_matches('\r'))
        .find(|line| !line.trim().is_empty())
        .map_or((0, false), |line| {
            let body = line.trim_start_matches(' ');
            (line.len() - body.len(), body == "-" || body.starts_with("- "))
        })
}

/// The lines we insert, with CRLF line breaks when the document has them.
pub(super) fn crlf(doc: &Document, text: String) -> String {
    if doc.text.contains("\r\n") {
        text.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        text
    }
}

/// An edit at `pointer` must stay in the node the pointer names: when the node or one of its
/// parents is an alias (`labels: *selector`), its lines belong to the anchored node elsewhere in
/// the document (a Deployment's selector, say), and editing them would change that too. Such an
/// edit is refused, at the alias.
pub(super) fn no_alias(doc: &Document, parsed: &DocText, pointer: &str) -> Result<(), Failure> {
    let mut prefix = String::new();
    for segment in pointer.split('/').skip(1) {
        prefix.push('/');
        prefix.push_str(segment);
        let Some(span) = parsed.span(&prefix) else {
            break;
        };
        if parsed.text[span.start.offset..].starts_with('*') {
            return Err(error_at(
                doc,
                Some(span),
                code::STREAM_UNSUPPORTED,
                format!(
                    "gloo-istio must edit {prefix}, which is an alias of a node anchored elsewhere in this document; the edit would change that node too"
                ),
                "write the node out in full instead of the alias",
            ));
        }
    }
    Ok(())
}

/// The dash column of a block sequence item and the offset after its last line.
pub(super) fn block_item(doc: &Document, parsed: &DocText, pointer: &str) -> Result<(usize, usize), Failure> {
    no_alias(doc, parsed, pointer)?;
    match (parsed.dash_column(pointer), parsed.item_lines(pointer)) {
        (Some(column), Some(lines)) => Ok((column, lines.end)),
        _ => Err(flow_style(doc, parsed, pointer, "list")),
    }
}

/// The whole lines of the block sequence item at `pointer`.
pub(super) fn block_lines(doc: &Document, parsed: &DocText, pointer: &str) -> Result<Range<usize>, Failure> {
    no_alias(doc, parsed, pointer)?;
    parsed
        .item_lines(pointer)
        .ok_or_else(|| flow_style(doc, parsed, pointer, "list"))
}

/// The whole lines of the block mapping entry at `pointer`.
pub(super) fn entry_lines(doc: &Document, parsed: &DocText, pointer: &str) -> Result<Range<usize>, Failure> {
    no_alias(doc, parsed, pointer)?;
    parsed
        .entry_lines(pointer)
        .ok_or_else(|| flow_style(doc, parsed, pointer, "mapping"))
}

/// Adds `key: value` to the block mapping at `map_pointer`, after its last entry.
pub(super) fn insert_entry(
    doc: &Document,
    parsed: &DocText,
    map_pointer: &str,
    key: &str,
    value: &Value,
    edits: &mut Edits,
) -> Result<(), Failure> {
    let pointer = format!("{map_pointer}/{}", escape(key));
    no_alias(doc, parsed, &pointer)?;
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    };
    if parsed.value.pointer(&pointer).is_some_and(empty) {
        // The key is there without content (`key:`, `key: ~`, `key: []`, `key: {}`): its entry
        // is written again with the value, rather than added a second time.
        let lines = entry_lines(doc, parsed, &pointer)?;
        let key_start = parsed.key_span(&pointer).map_or(lines.start, |k| k.start.offset);
        edits.replace(
            lines.clone(),
            crlf(doc, render_entry(key, value, key_start - lines.start)),
        );
        edits.expect(pointer, value.clone());
        return Ok(());
    }
    let map = parsed.value.pointer(map_pointer).and_then(Value::as_object);
    let last = map
        .and_then(|m| m.keys().next_back())
        .map(|k| format!("{map_pointer}/{}", escape(k)));
    let (Some(column), Some(last)) = (parsed.key_column(map_pointer), last) else {
        return Err(error_at(
            doc,
            parsed.span(map_pointer),
            code::STREAM_UNSUPPORTED,
            "this mapping is empty or in flow style, which gloo-istio does not edit".into(),
            "write the mapping in block style",
        ));
    };
    // The last key in source order is the one whose lines end last.
    let end = map
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(|k| parsed.entry_lines(&format!("{map_pointer}/{}", escape(k))))
        .map(|r| r.end)
        .max()
        .or_else(|| parsed.entry_lines(&last).map(|r| r.end))
        .unwrap_or(doc.text.len());
    edits.insert(end, crlf(doc, render_entry(key, value, column)));
    edits.expect(format!("{map_pointer}/{}", escape(key)), value.clone());
    Ok(())
}

/// Sets `key` of the block mapping at `map_pointer` to a scalar `value`: replaces the value in
/// place when the key exists, else adds the entry. Creates the mapping when it is missing.
pub(super) fn set_map_value(
    doc: &Document,
    parsed: &DocText,
    map_pointer: &str,
    key: &str,
    value: &Value,
    edits: &mut Edits,
) -> Result<(), Failure> {
    let pointer = format!("{map_pointer}/{}", escape(key));
    no_alias(doc, parsed, &pointer)?;
    match parsed.value.pointer(&pointer) {
        Some(existing) if same(existing, value) => Ok(()),
        Some(existing) => {
            let span = parsed
                .span(&pointer)
                .ok_or_else(|| internal(doc, format!("no span for {pointer}")))?;
            let text = emit::nested(value, 0);
            let text = text.trim_start();
            if existing.is_null() && !is_null_literal(&parsed.text[span.start.offset..span.end.offset]) {
                // An empty value (`key:` and nothing after it) has no text to replace: the value
                // goes after the colon.
                let colon = parsed.key_span(&pointer).and_then(|key| {
                    let after_key = &parsed.text[key.end.offset..];
                    let gap = after_key.len() - after_key.trim_start_matches([' ', '\t']).len();
                    after_key[gap..].starts_with(':').then_some(key.end.offset + gap)
                });
                let Some(colon) = colon else {
                    return Err(error_at(
                        doc,
                        parsed.key_span(&pointer).or(Some(span)),
                        code::STREAM_UNSUPPORTED,
                        format!(
                            "`{key}` has an empty value without a colon after its key, which gloo-istio does not edit"
                        ),
                        &format!("write `{key}: null`, or leave the key out"),
                    ));
                };
                edits.insert(colon + 1, format!(" {text}"));
            } else {
                edits.replace(span.start.offset..span.end.offset, text.to_string());
            }
            edits.expect(pointer, value.clone());
            Ok(())
        }
        None if parsed
            .value
            .pointer(map_pointer)
            .is_some_and(|m| m.as_object().is_some_and(|m| !m.is_empty())) =>
        {
            insert_entry(doc, parsed, map_pointer, key, value, edits)
        }
        None => {
            let (parent, name) = map_pointer.rsplit_once('/').unwrap_or(("", map_pointer));
            insert_entry(doc, parsed, parent, name, &json!({ key: value }), edits)
        }
    }
}

/// Every edited document must still parse and hold what its edits expect; workloads and
/// ConfigMaps must still fit their Kubernetes type, and a bootstrap must still be one.
pub(super) fn verify(doc: &Document, kind: &str, text: &str, expected: &[(String, Value)]) -> Result<(), Failure> {
    let value = match yaml::load_document(text.as_bytes(), Limits::default()) {
        Ok(Some(node)) => node.to_json(),
        Ok(None) => return Err(internal(doc, "the edited document is empty".into())),
        Err(e) => {
            return Err(internal(
                doc,
                format!("the edited document does not parse: {}", e.message),
            ));
        }
    };
    for (pointer, want) in expected {
        if !value.pointer(pointer).is_some_and(|found| same(found, want)) {
            return Err(internal(
                doc,
                format!("the edited document does not hold {want} at {pointer}"),
            ));
        }
    }
    if let Some(kind) = manifest_kind(kind) {
        // As strict as the input allows: a document that already carried fields its Kubernetes
        // type does not know (a newer API) is only required to still parse as that type.
        if crate::render::check::finish(kind, &doc.text, None).is_ok() {
            crate::render::check::finish(kind, text, None)
                .map_err(|e| internal(doc, format!("the edited document {e}")))?;
        } else {
            crate::render::check::deserializes(kind, &value)
                .map_err(|e| internal(doc, format!("the edited document does not parse as its type: {e}")))?;
        }
    }
    if let Some(envoy) = value.pointer("/data/envoy.yaml").and_then(Value::as_str) {
        crate::render::check::bootstrap(envoy).map_err(|e| internal(doc, format!("the edited envoy bootstrap {e}")))?;
    }
    Ok(())
}

/// The Kubernetes types [`verify`] holds an edited document to.
pub(super) fn manifest_kind(kind: &str) -> Option<ManifestKind> {
    match kind {
        "Deployment" => Some(ManifestKind::Deployment),
        "DaemonSet" => Some(ManifestKind::DaemonSet),
        "ConfigMap" => Some(ManifestKind::ConfigMap),
        _ => None,
    }
}

/// Semantic equality of two manifests' parts (numbers compared by value). A container's
/// `PROXY_CONFIG` is compared as the YAML it is: the chart writes it unquoted, we as JSON.
pub(super) fn same(a: &Value, b: &Value) -> bool {
    crate::render::check::first_difference(&normalized(a), &normalized(b), "").is_none()
}

/// At most this many differences are named in a message.
const MAX_DIFFERENCES: usize = 3;

/// What differs between `theirs` (in the stream) and `ours` (from the values), field by field,
/// for a message: `` `image`: `…:1.22.0` ≠ `…:1.23.1` ``, the first difference in each
/// top-level field that differs. Values under `env` and under keys that name secrets are not
/// shown, only their path.
pub(super) fn differences(theirs: &Value, ours: &Value) -> String {
    let (theirs, ours) = (normalized(theirs), normalized(ours));
    let empty = serde_json::Map::new();
    let (t, o) = (theirs.as_object().unwrap_or(&empty), ours.as_object().unwrap_or(&empty));
    let keys = o.keys().chain(t.keys().filter(|k| !o.contains_key(*k)));
    let mut found = Vec::new();
    for key in keys {
        let pointer = format!("/{}", key.replace('~', "~0").replace('/', "~1"));
        let (a, b) = (t.get(key).unwrap_or(&Value::Null), o.get(key).unwrap_or(&Value::Null));
        let Some(at) = crate::render::check::first_difference(a, b, &pointer) else {
            continue;
        };
        let path = crate::values::layers::dotted_path(&at);
        let hidden = at.split('/').any(|k| k == "env" || crate::diag::is_secret_key(k));
        let shown = |v: Option<&Value>| match v {
            None => Some("(none)".to_string()),
            Some(Value::String(s)) => Some(format!("`{}`", clip(s))),
            Some(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => Some(format!("`{v}`")),
            Some(_) => None,
        };
        match (hidden, shown(theirs.pointer(&at)), shown(ours.pointer(&at))) {
            (false, Some(a), Some(b)) => found.push(format!("`{path}`: {a} ≠ {b}")),
            _ => found.push(format!("`{path}` differs")),
        }
    }
    let more = found.len().saturating_sub(MAX_DIFFERENCES);
    found.truncate(MAX_DIFFERENCES);
    let mut text = found.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

/// A value cut to a length that fits a message.
fn clip(text: &str) -> String {
    if text.chars().count() <= 80 {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(80).collect::<String>())
    }
}

fn normalized(value: &Value) -> Value {
    let mut value = value.clone();
    if let Some(env) = value.get_mut("env").and_then(Value::as_array_mut) {
        for var in env {
            if var["name"] == "PROXY_CONFIG"
                && let Some(parsed) = var["value"].as_str().and_then(|t| yaml::parse_json(t).ok())
            {
                var["value"] = parsed;
            }
        }
    }
    value
}

/// The error for an edit that went wrong: a bug, never a problem of the input.
pub(super) fn internal(doc: &Document, message: String) -> Failure {
    error_at(
        doc,
        None,
        code::INTERNAL,
        format!("document {}: {message}", doc.index + 1),
        "this is a bug in gloo-istio; please report it with the input",
    )
}

/// The error for a collection gloo-istio must edit but finds in flow style.
fn flow_style(doc: &Document, parsed: &DocText, pointer: &str, what: &str) -> Failure {
    error_at(
        doc,
        parsed.span(pointer),
        code::STREAM_UNSUPPORTED,
        format!("this {what} is written in flow style, which gloo-istio does not edit"),
        &format!("write the {what} in block style (one entry a line)"),
    )
}

/// Whether the source text of a null value writes it (a null word, or a tag such as `!!null`),
/// rather than leaving it empty (the loader's span of an empty value is empty or lies on the
/// text around it).
fn is_null_literal(text: &str) -> bool {
    let text = text.trim();
    matches!(text, "~" | "null" | "Null" | "NULL") || text.starts_with('!')
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "spec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    env:\n    - {name: X, value: y}\n  volumes:\n  - name: v\n    emptyDir: {}\n# trailing comment\n";

    #[test]
    fn item_lines_cover_whole_items() {
        let doc = DocText::parse(DOC).unwrap().unwrap();
        assert_eq!(
            &DOC[doc.item_lines("/spec/containers/1").unwrap()],
            "  - name: b\n    env:\n    - {name: X, value: y}\n"
        );
        assert_eq!(
            &DOC[doc.item_lines("/spec/containers/0").unwrap()],
            "  - name: a\n    image: x\n"
        );
        assert_eq!(doc.dash_column("/spec/volumes/0"), Some(2));
        assert_eq!(doc.dash_column("/spec/containers/1/env/0"), Some(4));
    }

    #[test]
    fn items_and_entries_ending_in_a_multi_byte_character() {
        // The last byte of each node is inside a two-, three- or four-byte character (found by
        // the postrender fuzz target: a bootstrap cluster ending in U+00A0 panicked on a slice
        // that was not at a character boundary).
        let text = "a:\n- x: \u{a0}\n- y: \u{20ac}\n- w: \u{1F600}\nb: \u{e9}\nc: 1\n";
        let doc = DocText::parse(text).unwrap().unwrap();
        assert_eq!(&text[doc.item_lines("/a/0").unwrap()], "- x: \u{a0}\n");
        assert_eq!(&text[doc.item_lines("/a/1").unwrap()], "- y: \u{20ac}\n");
        assert_eq!(&text[doc.item_lines("/a/2").unwrap()], "- w: \u{1F600}\n");
        assert_eq!(&text[doc.entry_lines("/b").unwrap()], "b: \u{e9}\n");
        let last_byte_of_e_acute = text.find('\u{e9}').unwrap() + 1;
        assert!(!text.is_char_boundary(last_byte_of_e_acute));
        assert_eq!(doc.line_start(last_byte_of_e_acute), text.find("b:").unwrap());
        assert_eq!(doc.line_end(last_byte_of_e_acute), text.find("c:").unwrap());
        assert_eq!(doc.line_end(text.len()), text.len());
    }

    #[test]
    fn insert_then_delete_is_the_identity() {
        let doc = DocText::parse(DOC).unwrap().unwrap();
        let at = doc.item_lines("/spec/containers/1").unwrap().end;
        let mut edits = Edits::default();
        let items = render_items(
            &[json!({"name": "sds", "image": "s"})],
            doc.dash_column("/spec/containers/1").unwrap(),
        );
        edits.insert(at, items);
        let injected = edits.apply(DOC).unwrap();
        assert!(
            injected.contains("  - image: \"s\"\n    name: \"sds\"\n  volumes:"),
            "{injected}"
        );
        let again = DocText::parse(&injected).unwrap().unwrap();
        assert_eq!(again.value["spec"]["containers"][2]["name"], "sds");
        let mut undo = Edits::default();
        undo.delete(again.item_lines("/spec/containers/2").unwrap());
        assert_eq!(undo.apply(&injected).unwrap(), DOC);
    }

    #[test]
    fn insertions_at_one_offset_go_deepest_first() {
        // The end of `annotations` is also the end of `metadata`: a new annotation and a new
        // `labels:` entry land at one offset, whatever order they are added in.
        let doc = "metadata:\n  annotations:\n    a: \"1\"\nspec: {}\n";
        let at = doc.find("spec:").unwrap();
        let mut edits = Edits::default();
        edits.insert(at, "  labels:\n    l: \"2\"\n".into());
        edits.insert(at, "    b: \"3\"\n".into());
        let out = edits.apply(doc).unwrap();
        let parsed = DocText::parse(&out).unwrap().unwrap();
        assert_eq!(
            parsed.value["metadata"]["annotations"],
            json!({"a": "1", "b": "3"}),
            "{out}"
        );
        assert_eq!(parsed.value["metadata"]["labels"], json!({"l": "2"}), "{out}");

        // At one indentation, an item of the list above goes before a new key.
        let doc = "spec:\n  containers:\n  - name: a\nstatus: {}\n";
        let at = doc.find("status:").unwrap();
        let mut edits = Edits::default();
        edits.insert(at, "  volumes:\n  - name: v\n".into());
        edits.insert(at, "  - name: b\n".into());
        let out = edits.apply(doc).unwrap();
        let parsed = DocText::parse(&out).unwrap().unwrap();
        assert_eq!(
            parsed.value["spec"]["containers"],
            json!([{"name": "a"}, {"name": "b"}]),
            "{out}"
        );
        assert_eq!(parsed.value["spec"]["volumes"], json!([{"name": "v"}]), "{out}");
    }

    #[test]
    fn entries_and_key_columns() {
        let doc = DocText::parse(DOC).unwrap().unwrap();
        assert_eq!(doc.key_column("/spec"), Some(2));
        assert_eq!(
            &DOC[doc.entry_lines("/spec/volumes").unwrap()],
            "  volumes:\n  - name: v\n    emptyDir: {}\n"
        );
        assert_eq!(
            render_entry("sidecar.istio.io/inject", &json!("false"), 4),
            "    sidecar.istio.io/inject: \"false\"\n"
        );
    }

    #[test]
    fn flow_sequences_have_no_dash_column() {
        let text = "a: [1, 2]\n";
        let doc = DocText::parse(text).unwrap().unwrap();
        assert_eq!(doc.dash_column("/a/0"), None);
    }
}
