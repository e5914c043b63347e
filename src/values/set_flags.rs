//! Helm's value flags: `--set`, `--set-string`, `--set-json`, `--set-file` and `--set-literal`.
//!
//! Helm applies them after the values files, kind by kind, whatever their order on the command
//! line: every `--set-json`, then every `--set`, `--set-string`, `--set-file` and
//! `--set-literal`, each kind in the order given ([`SetKind::HELM_ORDER`]). Each assignment
//! changes the values in place: `list[1].key=v` keeps the other items of a list that a values
//! file gave, and a path through a value that is not a map (or, before an index, not a list) is
//! an error, as it is in Helm.
//!
//! Each kind becomes one [`Layer`] whose source lists its arguments one a line, so that a finding
//! about a value set by a flag points at the flag (`--set-json:2:5`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::layers::{Layer, read_source, refuse_url};
use crate::Failure;
#[cfg(test)]
use crate::FailureKind;
use crate::diag::{Diagnostic, Location, SourceFile, code};
use crate::yaml::{Pos, Span};

/// The largest list index a flag may name (Helm's limit).
pub const MAX_INDEX: usize = 65536;

/// The kinds of value flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `--set-json path=JSON` (or a whole JSON object, as Helm 4 takes it).
    Json,
    /// `--set path=value`: integers, booleans and `null` typed, the rest strings.
    Typed,
    /// `--set-string path=value`: every value a string.
    String,
    /// `--set-file path=FILE`: the file's text as a string.
    File,
    /// `--set-literal path=value`: everything after the first `=` as one string, no escapes.
    Literal,
}

impl SetKind {
    /// The order in which Helm applies the kinds.
    pub const HELM_ORDER: [SetKind; 5] = [
        SetKind::Json,
        SetKind::Typed,
        SetKind::String,
        SetKind::File,
        SetKind::Literal,
    ];

    /// The flag as typed on the command line.
    pub fn flag(self) -> &'static str {
        match self {
            SetKind::Json => "--set-json",
            SetKind::Typed => "--set",
            SetKind::String => "--set-string",
            SetKind::File => "--set-file",
            SetKind::Literal => "--set-literal",
        }
    }
}

/// The value flags of one command line, each kind in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetFlags {
    pub json: Vec<String>,
    pub set: Vec<String>,
    pub string: Vec<String>,
    pub file: Vec<String>,
    pub literal: Vec<String>,
}

impl SetFlags {
    /// Only `--set` flags.
    pub fn typed(set: Vec<String>) -> SetFlags {
        SetFlags {
            set,
            ..SetFlags::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        SetKind::HELM_ORDER.iter().all(|kind| self.of(*kind).is_empty())
    }

    /// The arguments of one kind.
    pub fn of(&self, kind: SetKind) -> &[String] {
        match kind {
            SetKind::Json => &self.json,
            SetKind::Typed => &self.set,
            SetKind::String => &self.string,
            SetKind::File => &self.file,
            SetKind::Literal => &self.literal,
        }
    }
}

/// One step of a flag's path.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// One assignment: the value at the path, and where the path and the value were written.
#[derive(Debug, Clone)]
struct Assignment {
    /// Empty for a whole JSON object, merged into the values as a values file is.
    path: Vec<Segment>,
    value: Value,
    key: Span,
    value_span: Span,
    /// The argument piece, for messages.
    piece: String,
}

/// Applies `flags` onto `user` (the values files merged) in Helm's order, and returns one layer
/// per kind given. A flag that does not parse, or goes through a value of another type, is an
/// error at the flag; a `--set-file` that cannot be read fails as a values file does.
pub fn apply(flags: &SetFlags, user: &mut Value) -> Result<Vec<Layer>, Failure> {
    let mut layers = Vec::new();
    for kind in SetKind::HELM_ORDER {
        let Some(Parsed { layer, assignments }) = parse_kind(kind, flags.of(kind))? else {
            continue;
        };
        for assignment in &assignments {
            assign(user, assignment)
                .map_err(|message| Failure::invalid(vec![conflict(kind, &layer.source, assignment, message)]))?;
        }
        layers.push(layer);
    }
    Ok(layers)
}

/// `--set` arguments as one layer (for tests and callers with only `--set`).
pub fn parse_set_args(args: &[String]) -> Result<Option<Layer>, Diagnostic> {
    match parse_kind(SetKind::Typed, args) {
        Ok(parsed) => Ok(parsed.map(|p| p.layer)),
        Err(failure) => Err(failure
            .diagnostics
            .into_iter()
            .next()
            .expect("a failure has a diagnostic")),
    }
}

struct Parsed {
    layer: Layer,
    assignments: Vec<Assignment>,
}

/// The layer of one kind's arguments: their assignments applied onto empty values.
fn parse_kind(kind: SetKind, args: &[String]) -> Result<Option<Parsed>, Failure> {
    if args.is_empty() {
        return Ok(None);
    }
    let text: String = args.iter().map(|a| format!("{a}\n")).collect();
    let source = SourceFile::new(kind.flag(), text);
    let mut assignments = Vec::new();
    let mut line_start = 0;
    for (line, arg) in args.iter().enumerate() {
        let at = Line {
            kind,
            source: &source,
            line: line + 1,
            start: line_start,
        };
        let parsed = match kind {
            SetKind::Json => parse_json_arg(arg, &at),
            SetKind::Literal => parse_literal_arg(arg, &at),
            SetKind::Typed | SetKind::String | SetKind::File => parse_strvals_arg(arg, &at),
        };
        match parsed {
            Ok(found) => assignments.extend(found),
            Err(failure) => {
                // The excerpt shows arguments that did not parse: find their secrets by key name.
                source.mask_set_secrets_by_key_names();
                return Err(failure);
            }
        }
        line_start += arg.len() + 1;
    }
    let mut root = Value::Object(Map::new());
    let mut spans = BTreeMap::new();
    for assignment in &assignments {
        assign(&mut root, assignment).map_err(|message| {
            source.mask_set_secrets_by_key_names();
            Failure::invalid(vec![conflict(kind, &source, assignment, message)])
        })?;
        if assignment.path.is_empty() {
            if let Value::Object(map) = &assignment.value {
                for key in map.keys() {
                    spans.insert(pointer_of(&[Segment::Key(key.clone())]), (None, assignment.value_span));
                }
            }
        } else {
            spans.insert(
                pointer_of(&assignment.path),
                (Some(assignment.key), assignment.value_span),
            );
        }
    }
    source.mark_secrets(&root, &spans);
    Ok(Some(Parsed {
        layer: Layer {
            source,
            value: root,
            spans,
        },
        assignments,
    }))
}

/// One argument's line in its kind's source.
struct Line<'a> {
    kind: SetKind,
    source: &'a Arc<SourceFile>,
    line: usize,
    start: usize,
}

impl Line<'_> {
    /// The span of bytes `from..to` of the argument.
    fn span(&self, from: usize, to: usize) -> Span {
        let pos = |at: usize| Pos {
            line: self.line,
            col: at + 1,
            offset: self.start + at,
        };
        Span {
            start: pos(from),
            end: pos(to),
        }
    }

    /// An error at bytes `from..to` of the argument.
    fn error(&self, from: usize, to: usize, message: String, help: &str) -> Failure {
        Failure::invalid(vec![
            Diagnostic::error(code::BAD_SET, message)
                .at(Some(Location {
                    source: self.source.clone(),
                    span: self.span(from, to),
                }))
                .help(help),
        ])
    }

    fn path_help(&self) -> &'static str {
        match self.kind {
            SetKind::Literal => {
                "keys are separated by `.`, list indexes written as `name[0]` (no escapes in --set-literal)"
            }
            _ => "keys are separated by `.`, list indexes written as `name[0]`, a literal dot as `\\.`",
        }
    }
}

/// `--set`, `--set-string` and `--set-file`: `path=value` pieces separated by commas.
fn parse_strvals_arg(arg: &str, at: &Line) -> Result<Vec<Assignment>, Failure> {
    let flag = at.kind.flag();
    let pieces = split_unescaped(arg, ',');
    let count = pieces.len();
    let mut out = Vec::new();
    for (n, (start, piece)) in pieces.into_iter().enumerate() {
        // Helm takes a trailing comma (`a=1,`).
        if piece.is_empty() && n + 1 == count && n > 0 {
            break;
        }
        let Some(eq) = find_unescaped(piece, '=') else {
            return Err(at.error(
                start,
                start + piece.len(),
                format!("`{flag} {piece}` has no `=`"),
                &format!("write {flag} path.to.key=value"),
            ));
        };
        let (path_text, raw) = (&piece[..eq], &piece[eq + 1..]);
        let path = parse_path(path_text, true).map_err(|msg| at.error(start, start + eq, msg, at.path_help()))?;
        let value_span = at.span(start + eq + 1, start + piece.len());
        let value = match at.kind {
            SetKind::Typed => parse_list_or(raw, typed_scalar),
            SetKind::String => parse_list_or(raw, |s| Value::String(unescape(s))),
            _ => Ok(Value::String(read_set_file(&unescape(raw), flag, at, value_span)?)),
        }
        .map_err(|msg| {
            at.error(
                start + eq + 1,
                start + piece.len(),
                msg,
                "write a list as {a,b} at the end of a value",
            )
        })?;
        out.push(Assignment {
            path,
            value,
            key: at.span(start, start + eq),
            value_span,
            piece: piece.to_string(),
        });
    }
    Ok(out)
}

/// The text of a `--set-file` file (`-` for standard input).
fn read_set_file(name: &str, flag: &str, at: &Line, span: Span) -> Result<String, Failure> {
    let located = |mut failure: Failure| {
        for diag in &mut failure.diagnostics {
            diag.message = format!("{flag}: {}", diag.message);
            if diag.location.is_none() {
                diag.location = Some(Location {
                    source: at.source.clone(),
                    span,
                });
            }
        }
        failure
    };
    refuse_url(name, flag).map_err(located)?;
    let source = read_source(std::path::Path::new(name)).map_err(located)?;
    Ok(source.text.clone())
}

/// `--set-json`: `path=JSON` pieces separated by commas, or one whole JSON object.
fn parse_json_arg(arg: &str, at: &Line) -> Result<Vec<Assignment>, Failure> {
    let help = "write --set-json 'path.to.key=<JSON>' (e.g. 'a.b=[1,2]' or 'a={\"x\":true}')";
    let trimmed = arg.trim_start();
    if trimmed.starts_with('{') {
        let lead = arg.len() - trimmed.len();
        let value: Value = serde_json::from_str(trimmed).map_err(|e| {
            at.error(
                lead,
                arg.len(),
                format!("`--set-json {arg}` is not a JSON object: {e}"),
                help,
            )
        })?;
        return Ok(vec![Assignment {
            path: Vec::new(),
            value,
            key: at.span(lead, lead),
            value_span: at.span(lead, arg.len()),
            piece: arg.to_string(),
        }]);
    }
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let rest = &arg[start..];
        let key_end = find_unescaped(rest, '=').filter(|eq| find_unescaped(&rest[..*eq], ',').is_none());
        let Some(eq) = key_end else {
            let end = find_unescaped(rest, ',').unwrap_or(rest.len());
            return Err(at.error(
                start,
                start + end,
                format!("`--set-json {}` has no `=`", &rest[..end]),
                help,
            ));
        };
        let path = parse_path(&rest[..eq], true).map_err(|msg| at.error(start, start + eq, msg, at.path_help()))?;
        let value_text = &rest[eq + 1..];
        let mut values = serde_json::Deserializer::from_str(value_text).into_iter::<Value>();
        let value = match values.next() {
            Some(Ok(value)) => value,
            Some(Err(e)) => {
                return Err(at.error(
                    start + eq + 1,
                    arg.len(),
                    format!("the value of `--set-json {}` is not JSON: {e}", &rest[..eq]),
                    help,
                ));
            }
            None => {
                return Err(at.error(
                    start + eq + 1,
                    arg.len(),
                    format!("`--set-json {}=` has no value", &rest[..eq]),
                    help,
                ));
            }
        };
        let value_end = eq + 1 + values.byte_offset();
        let after = rest[value_end..].trim_start();
        let after_at = rest.len() - after.len();
        out.push(Assignment {
            path,
            value,
            key: at.span(start, start + eq),
            value_span: at.span(start + eq + 1, start + value_end),
            piece: rest[..value_end].to_string(),
        });
        if after.is_empty() {
            return Ok(out);
        }
        if !after.starts_with(',') {
            return Err(at.error(
                start + after_at,
                arg.len(),
                format!("`--set-json {}` has more after its JSON value", &rest[..value_end]),
                "separate assignments with `,`",
            ));
        }
        start += after_at + 1;
    }
}

/// `--set-literal`: the path up to the first `=`, the rest of the argument as the string.
fn parse_literal_arg(arg: &str, at: &Line) -> Result<Vec<Assignment>, Failure> {
    let Some(eq) = arg.find('=') else {
        return Err(at.error(
            0,
            arg.len(),
            format!("`--set-literal {arg}` has no `=`"),
            "write --set-literal path.to.key=value",
        ));
    };
    let path = parse_path(&arg[..eq], false).map_err(|msg| at.error(0, eq, msg, at.path_help()))?;
    Ok(vec![Assignment {
        path,
        value: Value::String(arg[eq + 1..].to_string()),
        key: at.span(0, eq),
        value_span: at.span(eq + 1, arg.len()),
        piece: arg.to_string(),
    }])
}

/// `text` split at the unescaped `sep`s outside `{}`: (start, piece).
fn split_unescaped(s: &str, sep: char) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if c == sep && depth == 0 => {
                out.push((start, &s[start..i]));
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push((start, &s[start..]));
    out
}

fn find_unescaped(s: &str, needle: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == needle => return Some(i),
            _ => {}
        }
    }
    None
}

fn unescape(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A flag's path: keys separated by `.`, indexes as `[n]`; with `escapes`, `\` takes the next
/// character as it is.
fn parse_path(path: &str, escapes: bool) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars().peekable();
    let mut after_index = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if escapes => match chars.next() {
                Some(next) => current.push(next),
                None => return Err(format!("`{path}` ends with a lone `\\`")),
            },
            '.' => {
                if current.is_empty() && !after_index {
                    return Err(format!("`{path}` has an empty key"));
                }
                if !current.is_empty() {
                    segments.push(Segment::Key(std::mem::take(&mut current)));
                }
                after_index = false;
            }
            '[' => {
                if !current.is_empty() {
                    segments.push(Segment::Key(std::mem::take(&mut current)));
                }
                let mut digits = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(d) if d.is_ascii_digit() => digits.push(d),
                        _ => return Err(format!("`{path}` has a malformed list index")),
                    }
                }
                let index: usize = digits
                    .parse()
                    .map_err(|_| format!("`{path}` has a malformed list index"))?;
                if index > MAX_INDEX {
                    return Err(format!(
                        "`{path}`: list index {index} is larger than {MAX_INDEX}, the largest Helm takes"
                    ));
                }
                segments.push(Segment::Index(index));
                after_index = true;
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        segments.push(Segment::Key(current));
    } else if !after_index && !segments.is_empty() {
        return Err(format!("`{path}` ends with `.`: its last key is empty"));
    }
    if segments.is_empty() {
        return Err("a value flag needs a key before `=`".into());
    }
    if matches!(segments[0], Segment::Index(_)) {
        return Err(format!("`{path}` starts with a list index; it must start with a key"));
    }
    // The same bound as for values files: deeper paths are hostile, and the merges recurse.
    let max_depth = crate::yaml::Limits::default().max_depth;
    if segments.len() > max_depth {
        return Err(format!("`{path}` has {} levels, more than {max_depth}", segments.len()));
    }
    Ok(segments)
}

/// `{a,b}` as a list of `item`s (Helm's lists do not nest), anything else as one `item`.
fn parse_list_or(raw: &str, item: impl Fn(&str) -> Value) -> Result<Value, String> {
    let Some(rest) = raw.strip_prefix('{') else {
        return Ok(item(raw));
    };
    let Some(inner) = rest.strip_suffix('}') else {
        return Err(format!(
            "the list `{raw}` does not end with `}}` at the end of the value"
        ));
    };
    Ok(Value::Array(
        split_unescaped(inner, ',').into_iter().map(|(_, p)| item(p)).collect(),
    ))
}

/// Helm's typing of `--set` values: `true`, `false` and `null` in any case, and integers that
/// do not start with `0` (other than `0` itself) and fit 64 bits, are typed; the rest are
/// strings.
fn typed_scalar(raw: &str) -> Value {
    let text = unescape(raw);
    if text.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if text.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if text.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if text == "0" {
        return Value::from(0);
    }
    if !text.starts_with('0')
        && let Ok(n) = text.parse::<i64>()
    {
        return Value::from(n);
    }
    Value::String(text)
}

/// The JSON pointer of a path.
fn pointer_of(path: &[Segment]) -> String {
    let mut pointer = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Index(index) => pointer.push_str(&format!("/{index}")),
        }
    }
    pointer
}

/// The dotted form of a path, for messages.
fn dotted(path: &[Segment]) -> String {
    super::layers::dotted_path(&pointer_of(path))
}

/// Applies one assignment onto `root`, as Helm does; `Err` names the value in the way.
fn assign(root: &mut Value, assignment: &Assignment) -> Result<(), String> {
    if !root.is_object() {
        *root = Value::Object(Map::new());
    }
    let map = root.as_object_mut().expect("just made a map");
    if assignment.path.is_empty() {
        super::layers::merge_user(root, &assignment.value);
        return Ok(());
    }
    assign_in_map(map, &assignment.path, 0, assignment.value.clone())
}

fn assign_in_map(map: &mut Map<String, Value>, path: &[Segment], at: usize, value: Value) -> Result<(), String> {
    let Segment::Key(key) = &path[at] else {
        return Err(format!("`{}` is a map, not a list", dotted(&path[..at])));
    };
    match path.get(at + 1) {
        None => {
            map.insert(key.clone(), value);
            Ok(())
        }
        Some(Segment::Key(_)) => match map.entry(key.clone()).or_insert_with(|| Value::Object(Map::new())) {
            Value::Object(inner) => assign_in_map(inner, path, at + 1, value),
            other => Err(in_the_way(&path[..=at], other, "a map")),
        },
        Some(Segment::Index(index)) => match map.entry(key.clone()).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(list) => assign_in_list(list, path, at + 1, *index, value),
            other => Err(in_the_way(&path[..=at], other, "a list")),
        },
    }
}

fn assign_in_list(
    list: &mut Vec<Value>,
    path: &[Segment],
    at: usize,
    index: usize,
    value: Value,
) -> Result<(), String> {
    while list.len() <= index {
        list.push(Value::Null);
    }
    let item = &mut list[index];
    match path.get(at + 1) {
        None => {
            *item = value;
            Ok(())
        }
        Some(Segment::Key(_)) => {
            if !item.is_object() {
                *item = Value::Object(Map::new());
            }
            assign_in_map(item.as_object_mut().expect("just made a map"), path, at + 1, value)
        }
        Some(Segment::Index(inner)) => {
            if item.is_null() {
                *item = Value::Array(Vec::new());
            }
            match item {
                Value::Array(items) => assign_in_list(items, path, at + 1, *inner, value),
                other => Err(in_the_way(&path[..=at], other, "a list")),
            }
        }
    }
}

fn in_the_way(path: &[Segment], found: &Value, wanted: &str) -> String {
    let what = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    };
    format!("`{}` is {what} here, not {wanted}", dotted(path))
}

/// An assignment that goes through a value of another type: an error at its path.
fn conflict(kind: SetKind, source: &Arc<SourceFile>, assignment: &Assignment, message: String) -> Diagnostic {
    Diagnostic::error(
        code::BAD_SET,
        format!("`{} {}`: {message}, so Helm refuses it", kind.flag(), assignment.piece),
    )
    .at(Some(Location {
        source: source.clone(),
        span: assignment.key,
    }))
    .help("set the whole value at once (e.g. --set-json 'a={\"b\":1}'), or change it in the values file")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn applied(base: Value, flags: SetFlags) -> Result<Value, Failure> {
        let mut user = base;
        apply(&flags, &mut user)?;
        Ok(user)
    }

    #[test]
    fn set_args_follow_helm_typing() {
        let layer = parse_set_args(&[
            "global.istioIntegration.enabled=true,a.b=007".into(),
            "x[1].name=foo\\.bar,y={1,two}".into(),
            "gatewayProxies.gatewayProxy.podTemplate.nodeSelector.kubernetes\\.io/os=linux".into(),
            "c=TRUE,d=Null,e=+5,f={},g=1,".into(),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            layer.value,
            json!({
                "global": {"istioIntegration": {"enabled": true}},
                "a": {"b": "007"},
                "x": [null, {"name": "foo.bar"}],
                "y": [1, "two"],
                "gatewayProxies": {"gatewayProxy": {"podTemplate": {"nodeSelector": {"kubernetes.io/os": "linux"}}}},
                "c": true, "d": null, "e": 5, "f": [""], "g": 1,
            })
        );
        let (_, span) = layer.spans["/global/istioIntegration/enabled"];
        assert_eq!((span.start.line, span.start.col), (1, 33));
    }

    #[test]
    fn set_without_equals_is_located() {
        let err = parse_set_args(&["a=1,bad".into()]).unwrap_err();
        assert_eq!(err.code, code::BAD_SET);
        let loc = err.location.unwrap();
        assert_eq!((loc.span.start.line, loc.span.start.col), (1, 5));
    }

    #[test]
    fn kinds_apply_in_helm_order_onto_the_files() {
        let flags = SetFlags {
            json: vec![r#"l[0]={"z":1},j={"k":[1,2]}"#.into()],
            set: vec!["l[1].c=x,a=1".into()],
            string: vec!["a=2".into()],
            file: Vec::new(),
            literal: vec!["s=x,y=z\\,w".into()],
        };
        let user = applied(json!({"l": [{"a": 1}, {"b": 2}, 3]}), flags).unwrap();
        assert_eq!(
            user,
            json!({"l": [{"z": 1}, {"b": 2, "c": "x"}, 3], "j": {"k": [1, 2]}, "a": "2", "s": "x,y=z\\,w"})
        );
    }

    #[test]
    fn a_path_through_another_type_is_refused_at_the_flag() {
        for (base, set) in [
            (json!({"a": "s"}), "a.b=1"),
            (json!({"a": null}), "a.b=1"),
            (json!({"m": {}}), "m[0]=1"),
            (json!({"l": [[1], 3]}), "l[1][0]=1"),
        ] {
            let failure = applied(base, SetFlags::typed(vec![set.into()])).unwrap_err();
            assert_eq!(failure.kind, FailureKind::Invalid, "{set}");
            let diag = &failure.diagnostics[0];
            assert_eq!(diag.code, code::BAD_SET);
            assert_eq!(diag.location.as_ref().unwrap().source.name, "--set");
        }
        // Inside a list, an item of another type is replaced, as in Helm.
        let user = applied(
            json!({"l": ["s", null]}),
            SetFlags::typed(vec!["l[0].b=1,l[1][0]=x".into()]),
        )
        .unwrap();
        assert_eq!(user, json!({"l": [{"b": 1}, ["x"]]}));
    }

    #[test]
    fn json_flags() {
        let flags = SetFlags {
            json: vec!["a= 1 , b={\"c\":[true]}".into(), r#"{"m":{"x":5}}"#.into()],
            ..SetFlags::default()
        };
        let user = applied(json!({"m": {"y": 1}}), flags).unwrap();
        assert_eq!(user, json!({"a": 1, " b": {"c": [true]}, "m": {"x": 5, "y": 1}}));
        for bad in ["a=1x", "a=nul", "a", "a=", "{\"a\":"] {
            let flags = SetFlags {
                json: vec![bad.into()],
                ..SetFlags::default()
            };
            assert!(applied(json!({}), flags).is_err(), "{bad}");
        }
    }

    #[test]
    fn literal_flags_take_the_rest_as_it_is() {
        let flags = SetFlags {
            literal: vec!["a\\.b=x,{y}\\".into(), "l[1]=".into()],
            ..SetFlags::default()
        };
        let user = applied(json!({}), flags).unwrap();
        assert_eq!(user, json!({"a\\": {"b": "x,{y}\\"}, "l": [null, ""]}));
    }

    #[test]
    fn bad_lists_and_indexes() {
        for bad in ["a={x}y", "a={x", "a[65537]=1", "[0]=1", "a..b=1", "a.=1", "a=1,,b=2"] {
            assert!(parse_set_args(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(parse_set_args(&["a[65536]=1".into()]).is_ok());
    }
}
