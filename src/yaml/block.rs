//! The JSON value of a document in the block style gloo-istio writes, read line by line.
//!
//! Every manifest we render is checked by reading it back ([`crate::render`]), and that read
//! was the largest part of a render: the event parser looks at each character through a
//! general state machine and allocates a token for every scalar. Our templates and our emitter
//! ([`super::emit`]) write a small, regular part of YAML: block mappings and sequences indented
//! with spaces, plain keys, double-quoted scalars with the emitter's escapes, short plain
//! scalars, `{}` and `[]`, and literal block scalars (`|`, `|-`). [`parse`] reads exactly that
//! part, about ten times faster, and returns `None` for anything else: a tab, a non-ASCII
//! character, a flow collection, a single-quoted, folded or multi-line scalar, an anchor, a
//! tag, a comment after a value, a duplicate key, a second document, a limit reached, any
//! doubt. The caller then takes the event parser's path ([`super::load::plain_json`], then the
//! full loader), so what a document means never depends on which path read it. Two tests hold
//! the paths to one answer: a property test over generated text and emitted values, and a
//! test over every document of the snapshots, the chart's reference renders and the hostile
//! corpus.

use std::borrow::Cow;

// The byte searches here are memchr's portable ones (a machine word at a time): on the lines
// and single documents this reader sees they keep pace with the vector ones, and unlike those
// they need no CPU feature detection at first use, which a virtual machine answers with a trap
// per `cpuid` instruction (nine of them, about 8 µs each on the machine we measure on, though a
// render gained less than that; docs/performance.md, "Render, fifth round").
use memchr::arch::all::memchr::{One, Three, Two};
use serde_json::{Map, Value};

use super::load::{Limits, plain_scalar};

/// The value of `text` if it lies in the block subset (see the module documentation).
pub fn parse(text: &str) -> Option<Value> {
    let limits = Limits::default();
    if text.len() > limits.max_bytes || !text.ends_with('\n') || !ordinary_characters(text) {
        return None;
    }
    let mut reader = Reader {
        src: text,
        pos: 0,
        virtual_line: None,
        depth: 0,
        nodes: 0,
        limits,
        markers_seen: false,
    };
    reader.document().ok()
}

/// Why the subset reader gave up; the event parser's path decides instead.
struct Outside;

type Read<T> = Result<T, Outside>;

/// A line without its indentation (and never a blank or comment line).
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

struct Reader<'a> {
    src: &'a str,
    /// Start of the next physical line.
    pos: usize,
    /// The rest of a `- ` line that holds a nested collection (`- key: value`, `- - item`),
    /// read as a line of its own at the column where it starts.
    virtual_line: Option<Line<'a>>,
    depth: usize,
    nodes: usize,
    limits: Limits,
    /// Whether the document's one optional `---` has been passed.
    markers_seen: bool,
}

impl<'a> Reader<'a> {
    fn document(&mut self) -> Read<Value> {
        if let Some(line) = self.peek()?
            && line.indent == 0
            && line.text.trim_end_matches(' ') == "---"
        {
            self.consume();
        }
        self.markers_seen = true;
        let Some(first) = self.peek()? else {
            return Err(Outside);
        };
        let root = self.collection(first)?;
        match self.peek()? {
            None => Ok(root),
            Some(_) => Err(Outside),
        }
    }

    /// The next line that is neither blank nor a comment, without consuming it.
    fn peek(&mut self) -> Read<Option<Line<'a>>> {
        if let Some(line) = self.virtual_line {
            return Ok(Some(line));
        }
        while self.pos < self.src.len() {
            let rest = &self.src[self.pos..];
            let end = One::new(b'\n').find(rest.as_bytes()).ok_or(Outside)?;
            let line = &rest[..end];
            let text = line.trim_start_matches(' ');
            if text.is_empty() || text.starts_with('#') {
                self.pos += end + 1;
                continue;
            }
            let indent = line.len() - text.len();
            if indent == 0 && self.markers_seen && is_document_marker(text) {
                return Err(Outside);
            }
            return Ok(Some(Line { indent, text }));
        }
        Ok(None)
    }

    fn consume(&mut self) {
        if self.virtual_line.take().is_none() {
            let rest = &self.src.as_bytes()[self.pos..];
            self.pos += One::new(b'\n').find(rest).map_or(rest.len(), |end| end + 1);
        }
    }

    fn count_node(&mut self) -> Read<()> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(Outside);
        }
        Ok(())
    }

    /// The mapping or sequence that starts at `first`.
    fn collection(&mut self, first: Line<'a>) -> Read<Value> {
        if self.depth >= self.limits.max_depth {
            return Err(Outside);
        }
        self.depth += 1;
        self.count_node()?;
        let value = if is_sequence_item(first.text) {
            self.sequence(first.indent, false)
        } else {
            self.mapping(first.indent)
        };
        self.depth -= 1;
        value
    }

    fn mapping(&mut self, indent: usize) -> Read<Value> {
        let mut map = Map::new();
        while let Some(line) = self.peek()? {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_sequence_item(line.text) {
                return Err(Outside);
            }
            let (key, rest) = split_key(line.text).ok_or(Outside)?;
            self.consume();
            let value = self.value_after_key(indent, rest)?;
            if map.insert(key.into_owned(), value).is_some() {
                return Err(Outside);
            }
        }
        Ok(Value::Object(map))
    }

    /// The items of a sequence whose dashes stand at `indent`. An `indentless` one is a
    /// mapping value at the mapping's own column, and ends at the mapping's next key.
    fn sequence(&mut self, indent: usize, indentless: bool) -> Read<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.peek()? {
            if line.indent < indent {
                break;
            }
            if line.indent > indent {
                return Err(Outside);
            }
            if !is_sequence_item(line.text) {
                if indentless {
                    break;
                }
                return Err(Outside);
            }
            self.consume();
            let rest = line.text[1..].trim_start_matches(' ');
            let value = if rest.is_empty() {
                self.nested_or_null(indent, false)?
            } else if rest.starts_with('#') {
                return Err(Outside);
            } else {
                let column = indent + (line.text.len() - rest.len());
                if is_sequence_item(rest) || split_key(rest).is_some() {
                    let nested = Line {
                        indent: column,
                        text: rest,
                    };
                    self.virtual_line = Some(nested);
                    self.collection(nested)?
                } else {
                    self.inline(rest, indent)?
                }
            };
            items.push(value);
        }
        Ok(Value::Array(items))
    }

    /// The value after `key:` at column `indent`; `rest` is what follows the colon.
    fn value_after_key(&mut self, indent: usize, rest: &'a str) -> Read<Value> {
        let rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            self.nested_or_null(indent, true)
        } else if rest.starts_with('#') {
            Err(Outside)
        } else {
            self.inline(rest, indent)
        }
    }

    /// A collection on the following lines (deeper than `indent`, or an indentless sequence
    /// where a mapping allows one), else `null`.
    fn nested_or_null(&mut self, indent: usize, in_mapping: bool) -> Read<Value> {
        match self.peek()? {
            Some(line) if line.indent > indent => self.collection(line),
            Some(line) if in_mapping && line.indent == indent && is_sequence_item(line.text) => {
                if self.depth >= self.limits.max_depth {
                    return Err(Outside);
                }
                self.depth += 1;
                self.count_node()?;
                let value = self.sequence(indent, true);
                self.depth -= 1;
                value
            }
            _ => {
                self.count_node()?;
                Ok(Value::Null)
            }
        }
    }

    /// A scalar, `{}` or `[]` written on the line of its key or dash, whose parent collection
    /// stands at `indent`. Nothing may continue it on deeper lines.
    fn inline(&mut self, text: &'a str, indent: usize) -> Read<Value> {
        self.count_node()?;
        let text = text.trim_end_matches(' ');
        let value = match text.as_bytes()[0] {
            b'"' => match double_quoted(text) {
                Some((value, "")) => Value::String(value),
                _ => return Err(Outside),
            },
            b'|' => {
                let strip = match text {
                    "|" => false,
                    "|-" => true,
                    _ => return Err(Outside),
                };
                self.literal(indent, strip)?
            }
            b'{' if text == "{}" => Value::Object(Map::new()),
            b'[' if text == "[]" => Value::Array(Vec::new()),
            _ if is_short_plain(text) => plain_scalar(text).ok_or(Outside)?,
            _ => return Err(Outside),
        };
        match self.peek()? {
            Some(next) if next.indent > indent => Err(Outside),
            _ => Ok(value),
        }
    }

    /// The content of a literal block scalar whose header ended the line just consumed; its
    /// lines must be deeper than `indent`. Clip (`|`) keeps one final line break, strip (`|-`)
    /// none.
    fn literal(&mut self, indent: usize, strip: bool) -> Read<Value> {
        let mut out = String::new();
        let mut content_indent = None;
        let mut empty_lines = 0usize;
        while self.pos < self.src.len() {
            let rest = &self.src[self.pos..];
            let end = One::new(b'\n').find(rest.as_bytes()).ok_or(Outside)?;
            let line = &rest[..end];
            let spaces = line.len() - line.trim_start_matches(' ').len();
            let Some(width) = content_indent else {
                // The first line fixes the indentation; a leading empty line would need the
                // YAML rules for its spaces, so it is left to the parser.
                if spaces == line.len() || spaces <= indent {
                    return Err(Outside);
                }
                content_indent = Some(spaces);
                out.push_str(&line[spaces..]);
                self.pos += end + 1;
                continue;
            };
            if spaces == line.len() && line.len() <= width {
                empty_lines += 1;
            } else if spaces < width {
                break;
            } else {
                out.push('\n');
                for _ in 0..empty_lines {
                    out.push('\n');
                }
                empty_lines = 0;
                out.push_str(&line[width..]);
            }
            self.pos += end + 1;
        }
        if content_indent.is_none() {
            return Err(Outside);
        }
        if !strip {
            out.push('\n');
        }
        Ok(Value::String(out))
    }
}

/// No tab, carriage return or other control character, and none of the characters some YAML
/// reader takes for a line break or a byte order mark (NEL, U+2028, U+2029, U+FEFF), nor the
/// non-characters U+FFFE and U+FFFF: the characters every reader reads alike.
fn ordinary_characters(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Branch-free, so that it runs over whole vectors of bytes.
    let controls = bytes
        .iter()
        .fold(0u8, |bad, &b| bad | u8::from((b < b' ' && b != b'\n') || b == 0x7f));
    if controls != 0 {
        return false;
    }
    // In UTF-8 the characters refused start with these bytes, which only ever lead a character:
    // U+0080-U+009F are C2 80-9F, U+2028 and U+2029 E2 80 A8-A9, U+FEFF EF BB BF, U+FFFE and
    // U+FFFF EF BF BE-BF.
    Three::new(0xc2, 0xe2, 0xef).iter(bytes).all(|at| {
        let (second, third) = (bytes.get(at + 1).copied(), bytes.get(at + 2).copied());
        match bytes[at] {
            0xc2 => !matches!(second, Some(0x80..=0x9f)),
            0xe2 => !(second == Some(0x80) && matches!(third, Some(0xa8 | 0xa9))),
            _ => !matches!(
                (second, third),
                (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe | 0xbf))
            ),
        }
    })
}

fn is_sequence_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

fn is_document_marker(text: &str) -> bool {
    (text.starts_with("---") || text.starts_with("...")) && matches!(text.as_bytes().get(3), None | Some(b' '))
}

/// `key:` or `key: rest` with a plain or double-quoted key: the key and what follows the
/// colon (empty, or starting with a space). `None` when the line is not a key of the subset.
/// A plain key is borrowed, so that asking whether a line is a key costs no copy.
fn split_key(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let (key, after) = if text.starts_with('"') {
        let (key, after) = double_quoted(text)?;
        (Cow::Owned(key), after)
    } else {
        let bytes = text.as_bytes();
        if !(bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_') {
            return None;
        }
        let end = bytes
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/')))?;
        (Cow::Borrowed(&text[..end]), &text[end..])
    };
    let rest = after.strip_prefix(':')?;
    (rest.is_empty() || rest.starts_with(' ')).then_some((key, rest))
}

/// A plain scalar that reads the same in every context it can stand in here: one line, no
/// indicator at its start, no `: ` or `#`, none of the characters that could open a flow
/// collection, a quote, an anchor, an alias or a tag.
fn is_short_plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    let first_ok = bytes[0].is_ascii_alphanumeric()
        || matches!(bytes[0], b'_' | b'.' | b'/' | b'$' | b'(' | b'~' | b'+')
        || (bytes[0] == b'-' && bytes.len() > 1 && bytes[1] != b' ');
    first_ok
        && !text.ends_with(':')
        && !text.contains(": ")
        && bytes.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b' ' | b'-' | b'_' | b'.' | b'/' | b':' | b'+' | b'@' | b'~' | b'(' | b')' | b'$' | b'=' | b';'
                )
        })
}

/// A double-quoted scalar at the start of `text` with the escapes our emitter writes (`\"`,
/// `\\`, `\0`, `\t`, `\n`, `\r`, `\uXXXX`): its value and the text after the closing quote.
/// `None` for any other escape, or a scalar that does not close on this line.
fn double_quoted(text: &str) -> Option<(String, &str)> {
    let body = &text[1..];
    let mut out = String::with_capacity(body.len());
    let mut at = 0;
    loop {
        let next = at + Two::new(b'"', b'\\').find(&body.as_bytes()[at..])?;
        out.push_str(&body[at..next]);
        if body.as_bytes()[next] == b'"' {
            return Some((out, &body[next + 1..]));
        }
        let escape = *body.as_bytes().get(next + 1)?;
        at = next + 2;
        out.push(match escape {
            b'"' => '"',
            b'\\' => '\\',
            b'0' => '\0',
            b't' => '\t',
            b'n' => '\n',
            b'r' => '\r',
            b'u' => {
                let hex = body.get(at..at + 4)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                at += 4;
                char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
            }
            _ => return None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn loader(text: &str) -> Value {
        super::super::parse_json_with_loader(text).expect("the loader reads it")
    }

    /// Each case is in the subset, and reads as the loader reads it.
    #[test]
    fn reads_the_subset_as_the_loader_does() {
        let cases = [
            "---\n# Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"a\"\n",
            "a:\n- 1\n- two\n-\n- \"th\\\"ree\\u00e9\"\nb: null\nc:\n",
            "list:\n  - name: a\n    value: \"1\"\n  -   name: b\n  - - x\n    - y\n  -\n    k: v\n",
            "data:\n  envoy.yaml: |\n    a: 1\n\n      b: 2\n    c\n\n\n  other: |-\n    x\n    y\n",
            "seq:\n- key: |\n    text\n  next: 1\n",
            "\"@type\": type.googleapis.com/x.y\nport: 8081\nf: 1.5\nn: -3\nt: true\nm: {}\ns: []\nz: ~\n",
            "  indented: root\n  second: 2\n",
            "a:\n  # a comment inside\n  b: 1\n# and at the end\n",
            "img: quay.io/solo-io/gloo-envoy-wrapper:1.0.0-ci\nurl: http://x:8080/y\ncmd: a b  c\n",
            "# §3.1 in a comment\nkey: \"é ü\"\nblock: |\n  ∀ x\n",
        ];
        for text in cases {
            let fast = parse(text).unwrap_or_else(|| panic!("in the subset: {text:?}"));
            assert_eq!(fast, loader(text), "{text:?}");
        }
        assert_eq!(parse("a: |\n  x\nb: 1\n").unwrap(), json!({"a": "x\n", "b": 1}));
    }

    /// The byte scan refuses exactly the characters it names.
    #[test]
    fn ordinary_characters_are_those_named() {
        let refused = |c: char| {
            matches!(c, '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
                && c != '\n'
        };
        let samples = (0u32..0x3000).chain(0xfe00..0x10100).filter_map(char::from_u32);
        for c in samples {
            let text = format!("a{c}b\n");
            assert_eq!(ordinary_characters(&text), !refused(c), "{:?}", c);
        }
    }

    /// Each case is outside the subset (some are not YAML at all, some mean something the
    /// subset does not read), so the event parser's path decides.
    #[test]
    fn leaves_everything_else_to_the_parser() {
        let deep = (0..200).fold(String::new(), |mut s, d| {
            s.push_str(&" ".repeat(d));
            s.push_str("k:\n");
            s
        });
        let cases = [
            "a: 1",             // no final line break
            "a:\t1\n",          // a tab
            "a: é\n",           // non-ASCII in a plain scalar
            "a: \"\u{85}\"\n",  // a YAML 1.1 line break
            "a: 'single'\n",    // single-quoted
            "a: >\n  folded\n", // folded
            "a: |2\n  x\n",     // indentation indicator
            "a: |+\n  x\n\n",   // keep chomping
            "a: |\n\n  x\n",    // a leading empty line
            "a: |\nb: 1\n",     // an empty block scalar
            "a: [1, 2]\n",      // flow
            "a: {b: 1}\n",
            "a: &x 1\nb: *x\n", // anchors and aliases
            "a: !!str 1\n",     // tags
            "a: 1 # comment\n", // a comment after a value
            "a: # comment\n  b: 1\n",
            "a: 1\na: 2\n",      // a duplicate key
            "a: 1\n---\nb: 2\n", // a second document
            "a: 1\n...\n",
            "--- a: 1\n",
            "a: one\n  two\n",     // a multi-line plain scalar
            "a: \"one\n  two\"\n", // a multi-line quoted scalar
            "a: \"\\x41\"\n",      // an escape the emitter does not write
            "a: \"\\ud800\"\n",    // a lone surrogate
            "a: \"x\" y\n",        // text after a quoted scalar
            "a: b: c\n",           // `: ` inside a plain scalar
            "a:b\n",               // a scalar where a key belongs
            "just a scalar\n",
            "- a\nb: 1\n",            // a key after a sequence at its column
            "a: 1\n- b\n",            // an item after a mapping at its column
            "a:\n    b: 1\n  c: 2\n", // a key between two indentations
            "<<: {}\n",               // a merge key
            "a: .nan\n",              // no JSON number
            "? a\n: 1\n",             // an explicit key
            "%YAML 1.2\n---\na: 1\n",
            "",
            "# only a comment\n",
            "---\n",
            deep.as_str(),
        ];
        for text in cases {
            assert_eq!(parse(text), None, "outside the subset: {text:?}");
        }
    }
}
