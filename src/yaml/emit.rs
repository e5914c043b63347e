//! YAML-safe output.
//!
//! Every value that reaches a rendered manifest goes through here, so the rules are strict:
//! a value can never add a key, a line or a document, and it must read back as exactly the
//! value that went in under YAML 1.2 parsers, Go's `yaml.v2`/`yaml.v3` (libyaml ports, used by
//! Helm and kubectl) and PyYAML (YAML 1.1). Hence:
//!
//! * every string is double-quoted (or, when that is exact, a literal block scalar), never plain;
//! * map keys are plain only when no YAML 1.1 or 1.2 resolver can read them as anything else;
//! * floats always carry a `.` and a signed exponent, the only shape all those resolvers agree on;
//! * everything is written into one `String`, so output is linear in the size of the value.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

/// Longest key (in bytes of emitted text) written as an implicit `key:`. YAML limits implicit
/// keys to 1024 characters and libyaml, PyYAML and saphyr enforce it ("could not find
/// expected ':'"); longer keys use the explicit `? key` form. Bytes never undercount characters.
const MAX_IMPLICIT_KEY_LEN: usize = 1024;

/// Words that YAML 1.1 (`yes`, `on`, `y`, ...) or 1.2 (`true`, `null`, ...) resolve to a bool or
/// null when plain. Compared case-insensitively, which covers every spelling any resolver knows.
const RESERVED_WORDS: [&str; 10] = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"];

/// A double-quoted YAML scalar holding exactly `s`, on one line.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_quoted(&mut out, s);
    out
}

/// `value` written as the YAML that follows a `key:` on the same line: ` "text"`, ` 42`,
/// ` true`, ` null`, ` {}`, ` []`, or a newline and a block map or sequence whose lines are
/// indented by `indent` spaces. `indent` must be deeper than the column of the `key:`.
/// The result never ends with a newline.
pub fn nested(value: &Value, indent: usize) -> String {
    let mut out = String::new();
    write_nested(&mut out, value, indent);
    out
}

/// A whole document ending with exactly one newline (plus any empty lines a keep-chomped
/// block scalar needs): a block map at column 0, or a non-map value in its scalar or
/// sequence form.
pub fn document(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0, true),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0, true),
        // Block scalar content goes to column 2, so no content line can sit at column 0 and
        // read as `---` or `...`.
        _ => write_nested_scalar(&mut out, value, 2, false),
    }
    out.push('\n');
    out
}

/// The text after `key:`: collections start on a new line, scalars after one space.
fn write_nested(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(out, map, indent, false),
        Value::Array(items) if !items.is_empty() => write_seq(out, items, indent, false),
        _ => write_nested_scalar(out, value, indent, true),
    }
}

/// A scalar or empty collection, optionally after a separating space. Multi-line strings may
/// become block scalars whose content lines are indented by `indent`.
fn write_nested_scalar(out: &mut String, value: &Value, indent: usize, space: bool) {
    if space {
        out.push(' ');
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        // Content at column 0 would end the block scalar (and could read as `---`).
        Value::String(s) if indent > 0 && block_eligible(s) => write_block(out, s, indent),
        Value::String(s) => write_quoted(out, s),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// Block mapping entries at `indent`. With `inline_first` the first entry continues the current
/// line (after `- `, or at the start of a document); every other entry starts a new line.
fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize, inline_first: bool) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline_first {
            new_line(out, indent);
        }
        let key_start = out.len();
        write_key(out, key);
        if out.len() - key_start > MAX_IMPLICIT_KEY_LEN {
            // Only the key follows `key_start`, so this insert is cheap.
            out.insert_str(key_start, "? ");
            new_line(out, indent);
        }
        out.push(':');
        write_nested(out, value, indent + 2);
    }
}

/// Block sequence items at `indent`. An item that is a non-empty collection starts on the
/// `- ` line (compact form), with its further lines aligned under its first.
fn write_seq(out: &mut String, items: &[Value], indent: usize, inline_first: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline_first {
            new_line(out, indent);
        }
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push_str("- ");
                write_map(out, map, indent + 2, true);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push_str("- ");
                write_seq(out, inner, indent + 2, true);
            }
            _ => {
                out.push('-');
                write_nested_scalar(out, item, indent + 2, true);
            }
        }
    }
}

fn new_line(out: &mut String, indent: usize) {
    out.push('\n');
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A key is written plain only if it matches `^[A-Za-z_][A-Za-z0-9_./-]*$` and is not a
/// reserved word: no YAML 1.1 or 1.2 resolver (nor Go's, nor PyYAML's) reads such text as
/// anything but a string, since all their numeric and timestamp forms start with a digit,
/// sign or dot.
fn write_key(out: &mut String, key: &str) {
    if is_plain_key(key) {
        out.push_str(key);
    } else {
        write_quoted(out, key);
    }
}

fn is_plain_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    let starts_well = bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    starts_well
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
        && !RESERVED_WORDS.iter().any(|w| w.eq_ignore_ascii_case(key))
}

/// Integers as serde_json writes them (any YAML reads those back as the same integer).
fn write_number(out: &mut String, n: &Number) {
    match n.as_f64() {
        Some(f) if n.is_f64() => write_float(out, f),
        // Writing into a String cannot fail.
        _ => _ = write!(out, "{n}"),
    }
}

/// Rust's shortest round-trip formatting, normalised so that an exponent has a mantissa with
/// a `.` and a signed exponent (`1.0e+21`): YAML 1.1 (PyYAML) reads `1e21` and even `1e+21`
/// as strings, and an integral float without `.0` would come back as an int everywhere.
fn write_float(out: &mut String, f: f64) {
    debug_assert!(f.is_finite(), "serde_json numbers are finite");
    let start = out.len();
    // `{:?}` always keeps a `.0` or an exponent on integral values, unlike `{}`.
    let _ = write!(out, "{f:?}");
    if let Some(e) = out[start..].find('e').map(|e| start + e) {
        let exp_sign = if out[e + 1..].starts_with('-') { "" } else { "+" };
        out.insert_str(e + 1, exp_sign);
        if !out[start..e].contains('.') {
            out.insert_str(e, ".0");
        }
    }
}

/// Whether `c` cannot stand for itself inside double quotes: the quote and backslash, every
/// C0 control, DEL, the C1 block (incl. NEL, a line break in YAML 1.1), the Unicode line and
/// paragraph separators (line breaks in YAML 1.1 and libyaml), the BOM (stripped by some
/// readers), and the two non-characters outside YAML's printable set. Everything else in a
/// Rust `str` is YAML-printable.
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '"' | '\\'
            | '\0'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{fffe}'
            | '\u{ffff}'
    )
}

/// Appends the escape for `c`, using only escapes that YAML 1.1 and 1.2 both define.
fn write_escape(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\0' => out.push_str("\\0"),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        // Every escaped char is in the BMP, so four digits suffice.
        _ => _ = write!(out, "\\u{:04X}", u32::from(c)),
    }
}

/// Appends `s` as a one-line double-quoted scalar, copying runs of literal text in one go.
fn write_quoted(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut literal_from = 0;
    for (i, c) in s.char_indices().filter(|&(_, c)| needs_escape(c)) {
        out.push_str(&s[literal_from..i]);
        write_escape(out, c);
        literal_from = i + c.len_utf8();
    }
    out.push_str(&s[literal_from..]);
    out.push('"');
}

/// Whether `s` reads back exactly as a literal block scalar with auto-detected indentation:
/// it has a line break; its first line is non-empty and does not start with white space (that
/// would need an indentation indicator, or be taken as indentation); and apart from `\n` and
/// `\t` it has nothing `quote` would escape for safety (no `\r`, which parsers normalise to
/// `\n`, no YAML 1.1 line breaks like NEL or U+2028, no controls, which block scalars cannot
/// escape). `"` and `\` are only special inside quotes and stay literal in a block.
fn block_eligible(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with(['\n', ' ', '\t'])
        && !s
            .chars()
            .any(|c| !matches!(c, '\n' | '\t' | '"' | '\\') && needs_escape(c))
}

/// Appends ` |`-style header (without the leading space) and content lines indented by
/// `indent`. The chomping indicator encodes the trailing newlines: `|-` none, `|` one, `|+`
/// more. The final line break is left to the caller, so the keep case writes one empty line
/// fewer than it has trailing newlines. Empty lines carry no indentation (no trailing spaces).
fn write_block(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.reserve(s.len() + indent + 2);
    for line in body.split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            new_line(out, indent);
            out.push_str(line);
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use saphyr::{LoadableYamlNode, Scalar, Yaml};
    use serde_json::json;
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    // ---------- oracles ----------

    /// saphyr (YAML 1.2 core schema) as the independent parser, into serde_json terms.
    fn from_saphyr(node: &Yaml) -> Result<Value, String> {
        Ok(match node {
            Yaml::Value(Scalar::Null) => Value::Null,
            Yaml::Value(Scalar::Boolean(b)) => Value::Bool(*b),
            Yaml::Value(Scalar::Integer(i)) => Value::from(*i),
            Yaml::Value(Scalar::FloatingPoint(f)) => {
                Value::Number(Number::from_f64(f.0).ok_or_else(|| format!("non-finite float {f}"))?)
            }
            Yaml::Value(Scalar::String(s)) => Value::String(s.to_string()),
            Yaml::Sequence(items) => Value::Array(items.iter().map(from_saphyr).collect::<Result<_, _>>()?),
            Yaml::Mapping(entries) => {
                let mut map = Map::new();
                for (k, v) in entries {
                    let Yaml::Value(Scalar::String(k)) = k else {
                        return Err(format!("non-string key {k:?}"));
                    };
                    if map.insert(k.to_string(), from_saphyr(v)?).is_some() {
                        return Err(format!("duplicate key {k:?}"));
                    }
                }
                Value::Object(map)
            }
            other => return Err(format!("unexpected node {other:?}")),
        })
    }

    /// All documents of `text`, as parsed by saphyr.
    fn saphyr_docs(text: &str) -> Result<Vec<Value>, String> {
        Yaml::load_from_str(text)
            .map_err(|e| format!("saphyr: {e}"))?
            .iter()
            .map(from_saphyr)
            .collect()
    }

    /// The single document of `text`, as parsed by saphyr.
    fn saphyr_one(text: &str) -> Result<Value, String> {
        let mut docs = saphyr_docs(text)?;
        match docs.len() {
            1 => Ok(docs.remove(0)),
            n => Err(format!("{n} documents")),
        }
    }

    fn assert_saphyr_round_trip(text: &str, expected: &Value) {
        match saphyr_one(text) {
            Ok(got) => assert_eq!(&got, expected, "saphyr read back something else from:\n{text}"),
            Err(e) => panic!("saphyr failed ({e}) on:\n{text}"),
        }
    }

    /// Reads each YAML text with PyYAML's pure-Python `SafeLoader` (YAML 1.1) and, if built,
    /// its libyaml-backed `CSafeLoader` (the C library Go's yaml.v2/v3 were ported from).
    /// Results come back as JSON: `{"py": value, "c": value}` or `..._error` entries. Keys that
    /// are not strings and non-JSON types (dates, bytes) are reported as errors, not coerced.
    /// `None` when python3 or PyYAML is not available.
    fn pyyaml_load_all(texts: &[String]) -> Option<Vec<Map<String, Value>>> {
        const SCRIPT: &str = r#"
import json, sys, yaml
def check(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if not isinstance(k, str):
                raise TypeError("non-string key %r" % (k,))
            check(x)
    elif isinstance(v, list):
        for x in v:
            check(x)
    elif v is not None and not isinstance(v, (bool, int, float, str)):
        raise TypeError("unexpected %s" % type(v).__name__)
loaders = [("py", yaml.SafeLoader)]
if getattr(yaml, "__with_libyaml__", False):
    loaders.append(("c", yaml.CSafeLoader))
out = []
for text in json.load(sys.stdin):
    r = {}
    for name, loader in loaders:
        try:
            v = yaml.load(text, Loader=loader)
            check(v)
            r[name] = v
        except Exception as e:
            r[name + "_error"] = repr(e)
    out.append(r)
json.dump(out, sys.stdout)
"#;
        let available = Command::new("python3")
            .args(["-c", "import yaml"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            return None;
        }
        let mut child = Command::new("python3")
            .args(["-c", SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn python3");
        let input = serde_json::to_vec(texts).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let output = child.wait_with_output().expect("python3 output");
        writer.join().unwrap().expect("write to python3");
        assert!(output.status.success(), "python3 script failed");
        let results: Vec<Map<String, Value>> = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(results.len(), texts.len());
        Some(results)
    }

    /// Checks that PyYAML (both loaders, when present) reads each text as its expected value.
    fn assert_pyyaml_round_trips(cases: &[(String, Value)]) {
        let texts: Vec<String> = cases.iter().map(|(t, _)| t.clone()).collect();
        let Some(results) = pyyaml_load_all(&texts) else {
            return;
        };
        for ((text, expected), result) in cases.iter().zip(results) {
            for (loader, got) in result {
                assert_eq!(&got, expected, "PyYAML {loader} read back something else from:\n{text}");
            }
        }
    }

    // ---------- quote ----------

    #[test]
    fn quote_plain_text() {
        assert_eq!(quote("hello world"), r#""hello world""#);
        assert_eq!(quote(""), r#""""#);
    }

    #[test]
    fn quote_escapes_quote_and_backslash() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote(r"\n"), r#""\\n""#);
    }

    #[test]
    fn quote_escapes_c0_controls_and_del() {
        assert_eq!(
            quote("a\nb\tc\rd\0e\u{1}\u{7}\u{8}\u{b}\u{c}\u{1b}\u{1f}\u{7f}"),
            r#""a\nb\tc\rd\0e\u0001\u0007\u0008\u000B\u000C\u001B\u001F\u007F""#
        );
    }

    #[test]
    fn quote_escapes_c1_line_separators_and_non_characters() {
        assert_eq!(
            quote("\u{80}\u{85}\u{9f}\u{2028}\u{2029}\u{feff}\u{fffe}\u{ffff}"),
            r#""\u0080\u0085\u009F\u2028\u2029\uFEFF\uFFFE\uFFFF""#
        );
    }

    #[test]
    fn quote_keeps_other_unicode_literal() {
        let s = "é 日本 🎉 \u{a0}\u{fffd}\u{e000}\u{10ffff}\u{1fffe}";
        assert_eq!(quote(s), format!("\"{s}\""));
    }

    #[test]
    fn quote_keeps_yaml_indicators_literal() {
        assert_eq!(quote("a: b # c"), r#""a: b # c""#);
        assert_eq!(quote("{{ x }}"), r#""{{ x }}""#);
        assert_eq!(quote("'single'"), r#""'single'""#);
        assert_eq!(quote("  padded  "), r#""  padded  ""#);
    }

    #[test]
    fn quote_is_one_line() {
        let q = quote("a\nb\rc\u{85}d\u{2028}e\u{2029}f\u{b}\u{c}");
        assert!(!q.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}', '\u{b}', '\u{c}']));
    }

    // ---------- nested: scalars and numbers ----------

    #[test]
    fn nested_scalars() {
        assert_eq!(nested(&json!("text"), 2), r#" "text""#);
        assert_eq!(nested(&json!(42), 2), " 42");
        assert_eq!(nested(&json!(-7), 2), " -7");
        assert_eq!(nested(&json!(u64::MAX), 2), " 18446744073709551615");
        assert_eq!(nested(&json!(-1.5), 2), " -1.5");
        assert_eq!(nested(&json!(true), 2), " true");
        assert_eq!(nested(&json!(false), 2), " false");
        assert_eq!(nested(&Value::Null, 2), " null");
        assert_eq!(nested(&json!({}), 2), " {}");
        assert_eq!(nested(&json!([]), 2), " []");
        assert_eq!(nested(&json!(""), 2), r#" """#);
    }

    #[test]
    fn floats_keep_a_dot_and_a_signed_exponent() {
        let cases = [
            (1.0, "1.0"),
            (0.95, "0.95"),
            (-0.0, "-0.0"),
            (100.0, "100.0"),
            (1e21, "1.0e+21"),
            (1e16, "1.0e+16"),
            (1.5e300, "1.5e+300"),
            (1e-7, "1.0e-7"),
            (-2.5e-8, "-2.5e-8"),
            (5e-324, "5.0e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for (f, text) in cases {
            assert_eq!(nested(&json!(f), 2), format!(" {text}"), "{f:e}");
            assert_saphyr_round_trip(&format!("{text}\n"), &json!(f));
        }
        assert_pyyaml_round_trips(&cases.map(|(f, text)| (format!("{text}\n"), json!(f))));
    }

    // ---------- nested: collections ----------

    #[test]
    fn nested_map() {
        let v = json!({"a": 1, "b": {"c": "x", "d": []}});
        assert_eq!(nested(&v, 2), "\n  a: 1\n  b:\n    c: \"x\"\n    d: []");
        assert_eq!(nested(&v, 4), "\n    a: 1\n    b:\n      c: \"x\"\n      d: []");
    }

    #[test]
    fn nested_array() {
        let v = json!(["a", 1, null, {}, []]);
        assert_eq!(nested(&v, 2), "\n  - \"a\"\n  - 1\n  - null\n  - {}\n  - []");
    }

    #[test]
    fn array_item_maps_start_on_the_dash_line() {
        // `n` is a YAML 1.1 bool, so that key is quoted.
        let v = json!([{"k": 1, "l": [1, 2], "m": {"n": "o"}}, {"p": true}]);
        let expected = "\n  - k: 1\n    l:\n      - 1\n      - 2\n    m:\n      \"n\": \"o\"\n  - p: true";
        assert_eq!(nested(&v, 2), expected);
    }

    #[test]
    fn arrays_nest_in_arrays() {
        let v = json!([[1, [2, 3]], [], [{"a": 1, "b": 2}]]);
        let expected = "\n  - - 1\n    - - 2\n      - 3\n  - []\n  - - a: 1\n      b: 2";
        assert_eq!(nested(&v, 2), expected);
        assert_saphyr_round_trip(&format!("root:{}\n", nested(&v, 2)), &json!({"root": v}));
    }

    #[test]
    fn map_keys_keep_map_order() {
        let mut map = Map::new();
        for k in ["zeta", "alpha", "mid"] {
            map.insert(k.to_owned(), json!(1));
        }
        let order: Vec<&String> = map.keys().collect();
        let text = document(&Value::Object(map.clone()));
        let expected: String = order.iter().map(|k| format!("{k}: 1\n")).collect();
        assert_eq!(text, expected);
    }

    // ---------- keys ----------

    #[test]
    fn plain_keys() {
        for key in [
            "a",
            "_x",
            "apiVersion",
            "app.kubernetes.io/name",
            "a-b_c.d/e",
            "yess",
            "nil",
            "Y2",
        ] {
            assert_eq!(document(&json!({ key: 1 })), format!("{key}: 1\n"));
        }
    }

    #[test]
    fn quoted_keys() {
        let keys = [
            "@type", "8080", "a b", "", "-a", ".a", "a:b", "a#b", "1e3", "0x10", "~", "é", "a\nb", "true", "False",
            "TRUE", "yes", "No", "ON", "oFf", "y", "N", "null", "NuLl", "<<", "=",
        ];
        for key in keys {
            assert_eq!(document(&json!({ key: 1 })), format!("{}: 1\n", quote(key)), "{key:?}");
        }
    }

    #[test]
    fn long_keys_use_the_explicit_form() {
        let at_limit = "k".repeat(MAX_IMPLICIT_KEY_LEN);
        let over = "k".repeat(MAX_IMPLICIT_KEY_LEN + 1);
        let quoted_over = "a b".repeat(400);
        assert_eq!(document(&json!({ &at_limit: 1 })), format!("{at_limit}: 1\n"));
        assert_eq!(document(&json!({ &over: 1 })), format!("? {over}\n: 1\n"));
        assert_eq!(
            document(&json!({ &quoted_over: {"x": 1} })),
            format!("? \"{quoted_over}\"\n:\n  x: 1\n")
        );
        assert_eq!(
            nested(&json!([{ &over: "v", "z": 2 }]), 2),
            format!("\n  - ? {over}\n    : \"v\"\n    z: 2")
        );
        // Keys just under the limit once escaped (and just over it) parse everywhere.
        let escaped = "\u{1}".repeat(170);
        let mut cases = Vec::new();
        for key in [at_limit, over, quoted_over, escaped, "é".repeat(600), "k".repeat(5000)] {
            for v in [json!({ &key: 1, "z": [1] }), json!([{ &key: {"a": [2]}, "z": 3 }])] {
                let text = document(&v);
                assert_saphyr_round_trip(&text, &v);
                cases.push((text, v));
            }
        }
        assert_pyyaml_round_trips(&cases);
    }

    // ---------- block scalars ----------

    #[test]
    fn multi_line_strings_become_literal_blocks() {
        assert_eq!(nested(&json!("a\nb"), 2), " |-\n  a\n  b");
        assert_eq!(nested(&json!("a\nb\n"), 2), " |\n  a\n  b");
        assert_eq!(nested(&json!("a\n\n"), 2), " |+\n  a\n");
        assert_eq!(nested(&json!("a\n\n\n"), 4), " |+\n    a\n\n");
        assert_eq!(nested(&json!("a\n\nb\n"), 2), " |\n  a\n\n  b");
        assert_eq!(nested(&json!("a\n  b\n\tc\n"), 2), " |\n  a\n    b\n  \tc");
        assert_eq!(
            nested(&json!("#!/bin/sh\necho \"$X\" \\\n"), 2),
            " |\n  #!/bin/sh\n  echo \"$X\" \\"
        );
        assert_eq!(nested(&json!(["x\ny"]), 2), "\n  - |-\n    x\n    y");
        assert_eq!(document(&json!({"k": "---\n...\n"})), "k: |\n  ---\n  ...\n");
    }

    #[test]
    fn unsafe_multi_line_strings_are_quoted() {
        let cases = [
            "\na",          // first line empty
            " a\nb",        // first line starts with a space
            "\ta\nb",       // ... or a tab
            "a\r\nb",       // CR is normalised by parsers
            "a\nb\r",       // ... anywhere
            "a\n\u{85}b",   // NEL is a line break in YAML 1.1
            "a\n\u{2028}b", // so is U+2028
            "a\n\u{7}b",    // controls cannot be written in a block
            "a\n\u{feff}b", // BOM
            "\n",           // only newlines
            "\n\n\n",
        ];
        for s in cases {
            assert_eq!(nested(&json!(s), 2), format!(" {}", quote(s)), "{s:?}");
        }
        // Content at column 0 would leave the block, so indent 0 quotes too.
        assert_eq!(nested(&json!("a\nb"), 0), r#" "a\nb""#);
    }

    // ---------- document ----------

    #[test]
    fn documents() {
        // Keys in sorted order, so the text is the same with or without serde_json's
        // `preserve_order`.
        let v = json!({"apiVersion": "v1", "data": {"a.conf": "x\ny\n", "no": 3}, "kind": "Pod"});
        assert_eq!(
            document(&v),
            "apiVersion: \"v1\"\ndata:\n  a.conf: |\n    x\n    y\n  \"no\": 3\nkind: \"Pod\"\n"
        );
        assert_eq!(document(&json!([1, {"a": 2, "b": 3}])), "- 1\n- a: 2\n  b: 3\n");
        assert_eq!(document(&json!({})), "{}\n");
        assert_eq!(document(&json!([])), "[]\n");
        assert_eq!(document(&json!(42)), "42\n");
        assert_eq!(document(&Value::Null), "null\n");
        assert_eq!(document(&json!("x")), "\"x\"\n");
        assert_eq!(document(&json!("x\n---\n")), "|\n  x\n  ---\n");
        assert_eq!(document(&json!("x\n\n")), "|+\n  x\n\n");
    }

    // ---------- hostile strings ----------

    /// Fragments that mean something to YAML, YAML 1.1 resolvers, or templates.
    const HOSTILE: &[&str] = &[
        "\n",
        "\n\n",
        "\r",
        "\r\n",
        "\t",
        " ",
        "  ",
        ": ",
        ":",
        "#",
        " #",
        "---",
        "...",
        "{",
        "}",
        "[",
        "]",
        ",",
        "\"",
        "'",
        "\\",
        "*",
        "&",
        "!",
        "%",
        "@",
        "|",
        ">",
        "-",
        "- ",
        "?",
        "? ",
        "`",
        "\0",
        "\u{1}",
        "\u{7}",
        "\u{8}",
        "\u{b}",
        "\u{c}",
        "\u{1b}",
        "\u{1f}",
        "\u{7f}",
        "\u{80}",
        "\u{85}",
        "\u{9f}",
        "\u{a0}",
        "\u{2028}",
        "\u{2029}",
        "\u{feff}",
        "\u{fffe}",
        "\u{ffff}",
        "\u{fffd}",
        "\u{e000}",
        "\u{10ffff}",
        "é",
        "日本",
        "🎉",
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Y",
        "N",
        "true",
        "False",
        "null",
        "NULL",
        "~",
        "1e3",
        "0x10",
        "0o17",
        "012",
        "1_000",
        "1:20",
        ".inf",
        "-.inf",
        ".nan",
        "+1",
        "-0",
        "0.5",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "<<",
        "=",
        "{{ x }}",
        "{% if %}",
        "{# c #}",
        "&anchor",
        "*alias",
        "!!str",
        "!tag",
        "%YAML 1.2",
        "@type",
        "\\n",
        "\\u0041",
        "\\x41",
    ];

    fn hostile_strings() -> Vec<String> {
        let mut all: Vec<String> = HOSTILE.iter().map(|s| (*s).to_owned()).collect();
        for lead in [
            "*", "&", "!", "%", "@", "|", ">", "-", "?", "#", "`", "'", "\"", "{", "[",
        ] {
            all.push(format!("{lead}x"));
            all.push(format!("{lead} x\ny"));
        }
        all.extend(
            [
                "a: b\nc: d",
                "key: value\n---\nother: doc\n",
                "x\n...\n",
                "- a\n- b\n",
                "a\n#comment\n",
                "a \nb\t\n",
                "a\n  \n",
                "a\n \t\nb",
                "a\n\n\n\n",
                "{{ .Values.x }}\n",
                "a\\\"b\n'c'",
                "trailing\n\n\n",
                "x\n- y",
                "x\n  - y",
                "\u{a0}lead\nnbsp",
                "é\n日本\n",
                "ends with space \n",
                "a\n ",
                "a\n\t",
                "k:\n  v",
                "|\n  x",
                ">-\n y",
                "a\u{2029}\nb",
            ]
            .map(str::to_owned),
        );
        all
    }

    #[test]
    fn hostile_strings_round_trip() {
        let mut cases = Vec::new();
        for s in hostile_strings() {
            let values = [
                json!({ "v": &s }),
                json!({ &s: &s, "after": 1 }),
                json!([&s, { "k": &s, "l": [&s] }, "after"]),
                json!(&s),
            ];
            for v in values {
                let text = document(&v);
                assert_saphyr_round_trip(&text, &v);
                cases.push((text, v.clone()));
                let root = format!("root:{}\nafter: 1\n", nested(&v, 2));
                let wrapped = json!({ "root": v, "after": 1 });
                assert_saphyr_round_trip(&root, &wrapped);
                cases.push((root, wrapped));
            }
        }
        assert_pyyaml_round_trips(&cases);
    }

    #[test]
    fn one_megabyte_strings() {
        let line = "0123456789 abcdef: #{{ x }} \"q\" \\ é\t";
        let long_line = line.repeat((1 << 20) / line.len() + 1);
        let long_lines = format!("{line}\n").repeat((1 << 20) / line.len() + 1);
        let hostile = "\u{2028}\n\0\"".repeat(1 << 18);
        let mut cases = Vec::new();
        for s in [long_line, long_lines, hostile] {
            let v = json!({ "big": &s, "after": [&s] });
            let text = document(&v);
            assert!(text.len() >= 2 * s.len());
            assert_saphyr_round_trip(&text, &v);
            cases.push((text, v));
        }
        assert_pyyaml_round_trips(&cases);
    }

    // ---------- properties ----------

    fn yaml_string() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => prop::sample::select(HOSTILE).prop_map(str::to_owned),
            3 => "[a-zA-Z0-9 ]{0,6}",
            2 => "[a-z]{1,4}\n",
            1 => any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
    }

    fn yaml_key() -> impl Strategy<Value = String> {
        prop_oneof!["[A-Za-z_][A-Za-z0-9_./-]{0,10}", yaml_string()]
    }

    fn finite_f64() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>().prop_filter("finite", |f| f.is_finite()),
            (-100_000i32..100_000).prop_map(f64::from),
            (-30i32..30).prop_map(|e| 10f64.powi(e)),
            prop::sample::select(&[0.0, -0.0, 1e21, 1e16, 1e15, 0.1, 5e-324, f64::MAX][..]),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            1 => Just(Value::Null),
            1 => any::<bool>().prop_map(Value::Bool),
            1 => any::<i64>().prop_map(Value::from),
            1 => finite_f64().prop_map(Value::from),
            3 => yaml_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((yaml_key(), inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn document_round_trips(v in json_value()) {
            let text = document(&v);
            // Only a keep-chomped block scalar may end in an empty line.
            prop_assert!(text.ends_with('\n'));
            prop_assert!(!text.ends_with("\n\n") || text.contains("|+"), "text:\n{}", text);
            prop_assert_eq!(saphyr_one(&text), Ok(v), "text:\n{}", text);
        }

        #[test]
        fn nested_round_trips(v in json_value(), indent in 1usize..6) {
            let text = format!("root:{}\nafter: 1\n", nested(&v, 2));
            prop_assert_eq!(saphyr_one(&text), Ok(json!({ "root": &v, "after": 1 })), "text:\n{}", text);
            let deeper = format!("outer:\n  - root:{}\n    after: 1\n", nested(&v, 4 + indent));
            prop_assert_eq!(
                saphyr_one(&deeper),
                Ok(json!({ "outer": [{ "root": &v, "after": 1 }] })),
                "text:\n{}",
                deeper
            );
        }

        #[test]
        fn documents_stay_separate_in_a_stream(a in json_value(), b in json_value()) {
            let stream = format!("---\n{}---\n{}", document(&a), document(&b));
            prop_assert_eq!(saphyr_docs(&stream), Ok(vec![a, b]), "stream:\n{}", stream);
        }

        #[test]
        fn quote_round_trips(s in yaml_string()) {
            let q = quote(&s);
            let line_breaks = ['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'];
            prop_assert!(!q.contains(line_breaks), "{}", q);
            prop_assert_eq!(saphyr_one(&format!("{q}\n")), Ok(Value::String(s)));
        }
    }

    /// The same generated values, read back by PyYAML in one python3 process.
    #[test]
    fn pyyaml_round_trips_generated_values() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let strategy = json_value();
        let mut cases = Vec::new();
        for _ in 0..1500 {
            let v = strategy.new_tree(&mut runner).unwrap().current();
            cases.push((
                format!("root:{}\nafter: 1\n", nested(&v, 2)),
                json!({ "root": &v, "after": 1 }),
            ));
            cases.push((document(&v), v));
        }
        assert_pyyaml_round_trips(&cases);
    }
}
