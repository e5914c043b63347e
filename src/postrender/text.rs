//! Minimal textual edits of one YAML document: whole lines inserted into or removed from block
//! collections, and scalars replaced in place. Everything else in the document keeps its bytes
//! (comments, layout, key order), so an edit is easy to review and exactly reversible.

use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::Value;

use crate::yaml::{self, Span, emit};

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
    let doc = emit::document(&serde_json::json!({ key: 0 }));
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
