//! Multi-document YAML streams (manifests from `helm template`, `kubectl`, our own output),
//! split without parsing so that every document can be passed on byte for byte.
//!
//! In YAML a line that starts with `---` (followed by a space, a tab or the end of the line) at
//! column 0 always starts a document, and a line `...` ends one: block scalars are indented, so
//! they cannot hold such a line, and quoted scalars may not. A line scanner is therefore exact.

use super::{LoadError, Pos, Span};

/// One document of a stream, as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDocument<'a> {
    /// Every byte that belongs to this document: its `---` line (if any), comments, content,
    /// and a `...` end line. Concatenating the `text` of all documents gives the input back.
    pub text: &'a str,
    /// Byte offset of `text` in the stream.
    pub offset: usize,
    /// Line (1-based) of the first line of `text`.
    pub line: usize,
}

impl RawDocument<'_> {
    /// Whether the document holds anything but markers, comments and blank lines.
    pub fn has_content(&self) -> bool {
        has_content(self.text)
    }

    /// Parses the document; spans are positions in the whole stream.
    pub fn load(&self, limits: super::Limits) -> Result<Option<super::Node>, LoadError> {
        let mut result = super::load_document(self.text.as_bytes(), limits);
        match &mut result {
            Ok(Some(node)) => shift_node(node, self.offset, self.line - 1),
            Err(err) => {
                err.span = shift(err.span, self.offset, self.line - 1);
                if let Some((span, _)) = &mut err.related {
                    *span = shift(*span, self.offset, self.line - 1);
                }
            }
            Ok(None) => {}
        }
        result
    }
}

fn shift_pos(pos: Pos, offset: usize, lines: usize) -> Pos {
    Pos {
        line: pos.line + lines,
        col: pos.col,
        offset: pos.offset + offset,
    }
}

fn shift(span: Span, offset: usize, lines: usize) -> Span {
    Span {
        start: shift_pos(span.start, offset, lines),
        end: shift_pos(span.end, offset, lines),
    }
}

fn shift_node(node: &mut super::Node, offset: usize, lines: usize) {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        node.span = shift(node.span, offset, lines);
        match &mut node.kind {
            super::NodeKind::Seq(items) => stack.extend(items.iter_mut()),
            super::NodeKind::Map(entries) => {
                for (_, key_span, value) in entries.iter_mut() {
                    *key_span = shift(*key_span, offset, lines);
                    stack.push(value);
                }
            }
            _ => {}
        }
    }
}

/// Whether `text` holds anything but document markers, comments and blank lines.
pub fn has_content(text: &str) -> bool {
    lines(text).any(|line| {
        let line = line.trim_end_matches(['\n', '\r']).as_bytes();
        let trimmed = yaml_trim(line);
        !(trimmed.is_empty() || trimmed[0] == b'#' || is_marker(line, b"---") || is_marker(line, b"..."))
    })
}

/// The length of the first line of `bytes`, with its line break. YAML 1.2 breaks lines at
/// `\n`, `\r\n` and a lone `\r` (§5.4); a last line without a break runs to the end.
pub fn line_len(bytes: &[u8]) -> usize {
    match memchr::memchr2(b'\n', b'\r', bytes) {
        None => bytes.len(),
        Some(i) if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') => i + 2,
        Some(i) => i + 1,
    }
}

/// The lines of `text`, each with its line break (see [`line_len`]); they concatenate to `text`.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        // A line ends after an ASCII byte, so the cut is a char boundary.
        let (line, tail) = rest.split_at(line_len(rest.as_bytes()));
        rest = tail;
        Some(line)
    })
}

/// Whether `text` breaks a line with a lone `\r` (not followed by `\n`).
pub fn has_lone_cr(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'\r', bytes).any(|i| bytes.get(i + 1) != Some(&b'\n'))
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// A line without its leading byte order marks and YAML's white space: spaces, tabs and a line
/// ending's `\r`. (Unicode trimming would also eat `\v`, U+0085 or U+00A0, which YAML counts as
/// content.)
fn yaml_trim(mut line: &[u8]) -> &[u8] {
    while let Some(rest) = line.strip_prefix(BOM) {
        line = rest;
    }
    let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
    let start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
    let end = line.iter().rposition(|b| !blank(b)).map_or(start, |i| i + 1);
    &line[start..end]
}

/// `---` or `...` at column 0, alone or followed by a space or a tab.
fn is_marker(line: &[u8], marker: &[u8]) -> bool {
    // A byte order mark may start any document of a stream (YAML 1.2 §5.2).
    let line = line.strip_prefix(BOM).unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line.strip_prefix(marker) {
        Some(rest) => matches!(rest.first(), None | Some(b' ' | b'\t')),
        None => false,
    }
}

/// Splits a stream into its documents. A `---` line starts a new document unless the current
/// one has nothing but comments and blank lines yet (so `# Source:` comments before a `---`
/// stay with it, as Helm writes them); a `...` line ends the current document.
pub fn split_stream(input: &str) -> Vec<RawDocument<'_>> {
    let mut docs = Vec::new();
    let mut splitter = Splitter::default();
    let (mut offset, mut line_no) = (0usize, 1usize);
    let (mut start, mut start_line) = (0usize, 1usize);
    for line in lines(input) {
        match splitter.line(line) {
            Boundary::Before => {
                docs.push(RawDocument {
                    text: &input[start..offset],
                    offset: start,
                    line: start_line,
                });
                start = offset;
                start_line = line_no;
            }
            Boundary::After => {
                docs.push(RawDocument {
                    text: &input[start..offset + line.len()],
                    offset: start,
                    line: start_line,
                });
                start = offset + line.len();
                start_line = line_no + 1;
            }
            Boundary::None => {}
        }
        offset += line.len();
        line_no += 1;
    }
    if start < input.len() {
        docs.push(RawDocument {
            text: &input[start..],
            offset: start,
            line: start_line,
        });
    }
    docs
}

/// Where a line puts a document boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// The line belongs to the current document.
    None,
    /// The line starts a new document: the current one ends before it.
    Before,
    /// The line (`...`) ends the current document.
    After,
}

/// The splitting rules, one line at a time, for readers that stream.
#[derive(Debug, Default, Clone)]
pub struct Splitter {
    has_content: bool,
    has_marker: bool,
}

impl Splitter {
    /// Feeds one line (with its line ending) and says where a boundary falls.
    pub fn line(&mut self, line: &str) -> Boundary {
        self.line_bytes(line.as_bytes())
    }

    /// [`line`](Self::line) on the bytes of a line, for readers that check UTF-8 apart.
    pub fn line_bytes(&mut self, line: &[u8]) -> Boundary {
        // Most lines: only a line that starts with `-`, `.` or a byte order mark can be a
        // marker, and once the document has content, the rest of its lines need no scan.
        if self.has_content && !matches!(line.first(), Some(b'-' | b'.' | 0xEF)) {
            return Boundary::None;
        }
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        let bare = bare.strip_suffix(b"\r").unwrap_or(bare);
        if is_marker(bare, b"---") {
            let boundary = if self.has_content || self.has_marker {
                Boundary::Before
            } else {
                Boundary::None
            };
            self.has_content = false;
            self.has_marker = true;
            let mut after_bom = bare;
            while let Some(rest) = after_bom.strip_prefix(BOM) {
                after_bom = rest;
            }
            let rest = yaml_trim(&after_bom[3..]);
            if !rest.is_empty() && rest[0] != b'#' {
                self.has_content = true;
            }
            boundary
        } else if is_marker(bare, b"...") {
            self.has_content = false;
            self.has_marker = false;
            Boundary::After
        } else {
            if !self.has_content {
                let trimmed = yaml_trim(bare);
                if !trimmed.is_empty() && trimmed[0] != b'#' {
                    self.has_content = true;
                }
            }
            Boundary::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(input: &str) -> Vec<&str> {
        split_stream(input).iter().map(|d| d.text).collect()
    }

    #[test]
    fn concatenation_gives_the_input_back() {
        for input in [
            "",
            "a: 1\n",
            "---\na: 1\n---\nb: 2\n",
            "# Source: x\n---\na: 1\n...\n---\nb: 2",
            "---\r\na: 1\r\n---\r\nb: 2\r\n",
            "---\n# only a comment\n---\n---\n",
        ] {
            assert_eq!(texts(input).concat(), input);
        }
    }

    #[test]
    fn helm_output_splits_per_document_with_its_source_comment() {
        let input = "---\n# Source: gloo/templates/a.yaml\nkind: A\n---\n# Source: gloo/templates/b.yaml\nkind: B\n";
        assert_eq!(
            texts(input),
            [
                "---\n# Source: gloo/templates/a.yaml\nkind: A\n",
                "---\n# Source: gloo/templates/b.yaml\nkind: B\n"
            ]
        );
        let docs = split_stream(input);
        assert_eq!(
            (docs[1].offset, docs[1].line),
            (input.find("---\n# Source: gloo/templates/b").unwrap(), 4)
        );
    }

    #[test]
    fn markers_inside_block_scalars_are_indented_and_do_not_split() {
        let input = "data:\n  x: |\n    ---\n    --- not a marker\nkind: A\n---\nkind: B\n";
        assert_eq!(texts(input).len(), 2);
    }

    #[test]
    fn marker_like_text_is_not_a_marker() {
        assert_eq!(texts("a: 1\n---x: 2\n").len(), 1);
        assert_eq!(texts("a: 1\n----\n").len(), 1);
    }

    #[test]
    fn document_end_markers_close_documents() {
        let input = "a: 1\n...\nb: 2\n";
        assert_eq!(texts(input), ["a: 1\n...\n", "b: 2\n"]);
    }

    #[test]
    fn loaded_spans_are_stream_positions() {
        let input = "---\nkind: A\n---\nkind: B\nname: x\n";
        let docs = split_stream(input);
        let node = docs[1].load(crate::yaml::Limits::default()).unwrap().unwrap();
        let mut spans = std::collections::BTreeMap::new();
        node.index_spans(&mut spans);
        let (_, span) = spans["/name"];
        assert_eq!((span.start.line, span.start.col), (5, 7));
        assert_eq!(&input[span.start.offset..span.start.offset + 1], "x");
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        assert_eq!(texts("a: 1\r---\rb: 2\r"), ["a: 1\r", "---\rb: 2\r"]);
        assert_eq!(texts("a: 1\r\n---\r\nb: 2"), ["a: 1\r\n", "---\r\nb: 2"]);
        assert_eq!(lines("a\rb\r\nc\nd").collect::<Vec<_>>(), ["a\r", "b\r\n", "c\n", "d"]);
        assert_eq!(split_stream("a: 1\r---\rb: 2\r")[1].line, 2);
        assert!(has_lone_cr("a\rb") && has_lone_cr("a\r") && !has_lone_cr("a\r\nb\n"));
    }

    #[test]
    fn comment_only_documents_are_recognised() {
        let docs = split_stream("---\n# nothing here\n---\nkind: A\n");
        assert!(!docs[0].has_content());
        assert!(docs[1].has_content());
    }
}
