//! What a diagnostic shows of its input, in every output format: secrets cut out, control
//! characters escaped.
//!
//! Values under keys that name a secret (tokens, passwords, keys), env values whose name does,
//! and the data of Kubernetes Secrets are marked in their [`SourceFile`] when it is parsed (or,
//! for input that does not parse, found line by line by their key names); the source lines a
//! diagnostic shows have them masked, and every text it prints goes through
//! [`Diagnostic::shown`], which replaces them by [`REDACTED`] (also the head of one that a
//! clipped message cut short) and escapes control characters, so that a name from the input
//! cannot clear the terminal or forge a line of output.

use std::borrow::Cow;

use miette::NamedSource;

use super::{Diagnostic, SourceFile};
use crate::yaml::Span;

/// The secret parts of a source: byte ranges to mask, and the values to cut out of messages.
#[derive(Debug, Default)]
pub(super) struct Secrets {
    ranges: Vec<std::ops::Range<usize>>,
    values: Vec<String>,
}

/// What replaces a secret value in a message.
pub const REDACTED: &str = "‹redacted›";

/// Secrets shorter than this are masked in source lines but not searched for in messages,
/// where they would cut ordinary words apart.
const MIN_REDACTED_LEN: usize = 4;

impl SourceFile {
    fn secrets(&self) -> std::sync::MutexGuard<'_, Secrets> {
        self.secrets.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks the bytes `range` of the text secret: they are masked wherever the text is shown.
    pub fn mask(&self, range: std::ops::Range<usize>) {
        let range = range.start.min(self.text.len())..range.end.min(self.text.len());
        if !range.is_empty() {
            self.secrets().ranges.push(range);
        }
    }

    /// Marks a secret value written at `range`: masked in the text, and cut out of messages.
    pub fn mark_secret(&self, range: std::ops::Range<usize>, value: &str) {
        self.mask(range);
        if value.chars().count() >= MIN_REDACTED_LEN {
            let mut secrets = self.secrets();
            if !secrets.values.iter().any(|v| v == value) {
                secrets.values.push(value.to_string());
            }
        }
    }

    /// `text` with every secret value of this source replaced by [`REDACTED`], and so is the
    /// head of one that a clipped message cut short (the text before a `…`).
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets();
        let mut out = text.to_string();
        // Longest first, so that a secret holding another is cut whole.
        let mut values: Vec<&String> = secrets.values.iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for value in &values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), REDACTED);
            }
        }
        if out.contains(super::CLIPPED) {
            out = redact_heads(&out, &values);
        }
        out
    }

    /// The text as a diagnostic shows it: every masked byte that is not a line break becomes
    /// `*` (a multi-byte character becomes as many), so offsets stay the same.
    /// Control characters (but tabs and line breaks) and the characters that reorder or break
    /// text on screen become as many `?` as they have bytes.
    pub(super) fn shown(&self) -> NamedSource<String> {
        let secrets = self.secrets();
        let mut text = if secrets.ranges.is_empty() {
            self.text.clone()
        } else {
            let mut bytes = self.text.clone().into_bytes();
            for range in &secrets.ranges {
                // Whole characters only: widen the range to character boundaries.
                let start = (0..=range.start)
                    .rev()
                    .find(|i| self.text.is_char_boundary(*i))
                    .unwrap_or(0);
                let end = (range.end..=self.text.len())
                    .find(|i| self.text.is_char_boundary(*i))
                    .unwrap_or(self.text.len());
                for byte in &mut bytes[start..end] {
                    if *byte != b'\n' && *byte != b'\r' {
                        *byte = b'*';
                    }
                }
            }
            String::from_utf8(bytes).unwrap_or_default()
        };
        let has_controls = *self.has_controls.get_or_init(|| {
            self.text
                .contains(|c: char| needs_escape(c) && !matches!(c, '\t' | '\n' | '\r'))
        });
        if has_controls {
            text = text
                .chars()
                .map(|c| match c {
                    '\t' | '\n' | '\r' => c.to_string(),
                    c if needs_escape(c) => "?".repeat(c.len_utf8()),
                    c => c.to_string(),
                })
                .collect();
        }
        NamedSource::new(&*escape_controls(&self.name), text).with_language("yaml")
    }

    /// Marks the secret values of a parsed values file or manifest: every string or number under
    /// a key that names a secret, and the `value` of an `env` entry whose `name` does. `spans`
    /// are those of [`crate::yaml::Node::index_spans`], offsets into this text.
    pub fn mark_secrets(
        &self,
        value: &serde_json::Value,
        spans: &std::collections::BTreeMap<String, (Option<Span>, Span)>,
    ) {
        // One walk of the tree, carrying whether a key above names a secret; only the secret
        // scalars build anything. They are marked in the order of their pointers.
        struct Walk<'a> {
            spans: &'a std::collections::BTreeMap<String, (Option<Span>, Span)>,
            secret_manifest: bool,
            pointer: String,
            found: Vec<(String, Span, String)>,
        }
        impl Walk<'_> {
            fn node(
                &mut self,
                node: &serde_json::Value,
                parent: Option<&serde_json::Map<String, serde_json::Value>>,
                key: &str,
                under_secret: bool,
            ) {
                use serde_json::Value;
                match node {
                    Value::Object(map) => {
                        for (child_key, child) in map {
                            let len = self.pointer.len();
                            self.pointer.push('/');
                            if child_key.contains(['~', '/']) {
                                self.pointer.push_str(&child_key.replace('~', "~0").replace('/', "~1"));
                            } else {
                                self.pointer.push_str(child_key);
                            }
                            // Under a key that names a secret (`credentials: {user: …}`), but
                            // not under the Kubernetes fields that only refer to one (`secret:`
                            // volumes, `secretKeyRef`, projected `serviceAccountToken` settings).
                            let under = under_secret || (is_secret_key(child_key) && !refers_to_secret(child_key));
                            self.node(child, Some(map), child_key, under);
                            self.pointer.truncate(len);
                        }
                    }
                    Value::Array(items) => {
                        for (index, item) in items.iter().enumerate() {
                            let len = self.pointer.len();
                            self.pointer.push('/');
                            self.pointer.push_str(&index.to_string());
                            self.node(item, None, "", under_secret);
                            self.pointer.truncate(len);
                        }
                    }
                    Value::String(_) | Value::Number(_) => {
                        let env_secret = key == "value"
                            && parent
                                .and_then(|p| p.get("name"))
                                .and_then(Value::as_str)
                                .is_some_and(is_secret_key);
                        let secret_data = self.secret_manifest
                            && (self.pointer.starts_with("/data/") || self.pointer.starts_with("/stringData/"));
                        if (env_secret || under_secret || secret_data)
                            && let Some((_, span)) = self.spans.get(&self.pointer)
                        {
                            let text = match node {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            self.found.push((self.pointer.clone(), *span, text));
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut walk = Walk {
            spans,
            secret_manifest: value.get("kind").and_then(serde_json::Value::as_str) == Some("Secret"),
            pointer: String::new(),
            found: Vec::new(),
        };
        walk.node(value, None, "", false);
        walk.found.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, span, text) in walk.found {
            self.mark_secret(span.start.offset..span.end.offset, &text);
        }
    }
}

impl SourceFile {
    /// Marks the secrets of a manifest stream: each document is parsed and marked as
    /// [`SourceFile::mark_secrets`] does; a document that does not parse but looks like a
    /// Kubernetes Secret is masked whole.
    pub fn mark_manifest_secrets(&self) {
        for raw in crate::yaml::stream::split_stream(&self.text) {
            match raw.load(crate::yaml::Limits::default()) {
                Ok(Some(node)) => {
                    let mut spans = std::collections::BTreeMap::new();
                    node.index_spans(&mut spans);
                    self.mark_secrets(&node.to_json(), &spans);
                }
                Ok(None) => {}
                Err(_) if looks_like_secret_manifest(raw.text) => self.mask(raw.offset..raw.offset + raw.text.len()),
                Err(_) => self.mask_secrets_by_key_names(raw.offset..raw.offset + raw.text.len()),
            }
        }
    }
}

impl SourceFile {
    /// Marks, line by line, the secrets of YAML text that does not parse, at the bytes `range`:
    /// the value of a key that names a secret and every line indented under it, and the `value`
    /// of an entry (block or flow style) whose `name` names one. Comments and quoting are not
    /// understood, so this masks more rather than less.
    pub fn mask_secrets_by_key_names(&self, range: std::ops::Range<usize>) {
        let end = range.end.min(self.text.len());
        let Some(text) = self.text.get(range.start..end) else {
            return;
        };
        let lines = yaml_lines(text, range.start);
        // The items (from their `- `) whose `name` names a secret, by the column of their keys.
        let mut secret_items: Vec<(usize, usize)> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.key == "name" && is_secret_key(unquote(&self.text[line.value.clone()])) {
                secret_items.push((i, line.key_col));
            }
        }
        let mut secret_lines = vec![false; lines.len()];
        for &(at, col) in &secret_items {
            // The item runs from its `- ` (before a key at `col`) to the next item at that level
            // or the first line indented less than `col`.
            let mut first = at;
            while first > 0 && !(lines[first].item && lines[first].key_col == col) {
                let previous = &lines[first - 1];
                if !previous.blank && previous.key_col < col {
                    break;
                }
                first -= 1;
            }
            for (i, line) in lines.iter().enumerate().skip(first) {
                let next_item = line.item && line.key_col <= col;
                if i > first && (next_item || (!line.blank && line.key_col < col)) {
                    break;
                }
                if line.key_col == col && line.key == "value" {
                    secret_lines[i] = true;
                }
            }
        }
        let mut under: Option<usize> = None;
        for (i, line) in lines.iter().enumerate() {
            if let Some(col) = under {
                if line.blank || line.indent > col {
                    self.mask_text(line.content.clone());
                    continue;
                }
                under = None;
            }
            if secret_lines[i] || (!line.key.is_empty() && is_secret_key(&line.key) && !refers_to_secret(&line.key)) {
                self.mask_text(line.value.clone());
                under = Some(line.key_col);
            }
            self.mask_flow_secrets(line.content.clone());
        }
    }

    /// Masks the secret values of the flow mappings (`{name: API_TOKEN, value: x}`,
    /// `{password: x}`) on the line at `range`.
    fn mask_flow_secrets(&self, range: std::ops::Range<usize>) {
        let line = &self.text[range.clone()];
        if !line.contains('{') {
            return;
        }
        // Each run between braces, cut into `key: value` entries at commas.
        let mut start = 0;
        for (at, c) in line.char_indices().chain(std::iter::once((line.len(), '}'))) {
            if !matches!(c, '{' | '}') {
                continue;
            }
            let run = start..at;
            start = at + c.len_utf8();
            let mut entries = Vec::new();
            let mut from = run.start;
            for (i, c) in line[run.clone()]
                .char_indices()
                .chain(std::iter::once((run.len(), ',')))
            {
                if c == ',' {
                    let entry = &line[from..run.start + i];
                    if let Some(colon) = entry.find(": ").or_else(|| entry.strip_suffix(':').map(str::len)) {
                        let key = unquote(&entry[..colon]).to_string();
                        let value = from + colon + 1..run.start + i;
                        entries.push((key, value));
                    }
                    from = run.start + i + 1;
                }
            }
            let secret_name = entries
                .iter()
                .any(|(key, value)| key == "name" && is_secret_key(unquote(&line[value.clone()])));
            for (key, value) in entries {
                if (secret_name && key == "value") || (is_secret_key(&key) && !refers_to_secret(&key)) {
                    self.mask_text(range.start + value.start..range.start + value.end);
                }
            }
        }
    }

    /// Masks the bytes `range`, and marks their text (trimmed, unquoted) as a secret value.
    fn mask_text(&self, range: std::ops::Range<usize>) {
        let value = unquote(&self.text[range.clone()]).to_string();
        if value.is_empty() {
            return;
        }
        self.mark_secret(range, &value);
    }

    /// Marks the secrets of `--set` arguments that do not parse (one argument a line): after a
    /// path with a key that names a secret (`settings.password=…`), the rest of its line, which
    /// may hold commas of the secret itself.
    pub fn mask_set_secrets_by_key_names(&self) {
        let mut line_start = 0;
        for line in self.text.split_inclusive('\n') {
            let body = line.trim_end_matches(['\n', '\r']);
            let mut piece_start = 0;
            for (at, c) in body.char_indices() {
                match c {
                    ',' => piece_start = at + 1,
                    '=' => {
                        let secret = body[piece_start..at]
                            .split(['.', '['])
                            .any(|key| is_secret_key(key.trim_end_matches(']')) && !refers_to_secret(key));
                        if secret {
                            let range = line_start + at + 1..line_start + body.len();
                            self.mask(range.clone());
                            for piece in self.text[range].split(',') {
                                self.mark_secret(0..0, piece);
                            }
                            break;
                        }
                    }
                    _ => {}
                }
            }
            line_start += line.len();
        }
    }
}

/// One line of YAML text as [`SourceFile::mask_secrets_by_key_names`] reads it; ranges are byte
/// offsets into the source.
struct YamlLine {
    /// The line without its line break.
    content: std::ops::Range<usize>,
    /// Leading spaces.
    indent: usize,
    /// Whether a `- ` comes before the key.
    item: bool,
    /// Column (0-based) where the key starts, after any `- `.
    key_col: usize,
    /// The key, unquoted; empty when the line has none.
    key: String,
    /// What follows the key's colon, trimmed.
    value: std::ops::Range<usize>,
    blank: bool,
}

fn yaml_lines(text: &str, offset: usize) -> Vec<YamlLine> {
    let mut out = Vec::new();
    let mut at = offset;
    for raw in text.split_inclusive('\n') {
        let body = raw.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start_matches(' ').len();
        let mut key_col = indent;
        let mut rest = &body[indent..];
        let mut item = false;
        while let Some(after) = rest
            .strip_prefix('-')
            .filter(|a| a.is_empty() || a.starts_with([' ', '\t']))
        {
            item = true;
            let trimmed = after.trim_start_matches([' ', '\t']);
            key_col += rest.len() - trimmed.len();
            rest = trimmed;
        }
        let (key, value) = match split_key(rest) {
            Some((key, value_at)) => {
                let value_text = &rest[value_at..];
                let lead = value_text.len() - value_text.trim_start().len();
                let start = at + key_col + value_at + lead;
                (key, start..at + body.len())
            }
            None => (String::new(), at + body.len()..at + body.len()),
        };
        out.push(YamlLine {
            content: at + indent..at + body.len(),
            indent,
            item,
            key_col,
            key,
            value,
            blank: body.trim().is_empty() || body.trim_start().starts_with('#'),
        });
        at += raw.len();
    }
    out
}

/// The key of a block mapping entry at the start of `rest` (`key: value`, `"key": value`,
/// `key:`) and where its value starts.
fn split_key(rest: &str) -> Option<(String, usize)> {
    let colon = if let Some(quote) = rest.chars().next().filter(|c| matches!(c, '"' | '\'')) {
        let close = rest[1..].find(quote)? + 1;
        close + rest[close..].find(':')?
    } else {
        rest.find(": ").or_else(|| rest.strip_suffix(':').map(str::len))?
    };
    let after = &rest[colon + 1..];
    if !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    Some((unquote(&rest[..colon]).to_string(), colon + 1))
}

/// `text` trimmed and without the quotes around it.
fn unquote(text: &str) -> &str {
    let text = text.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            return inner;
        }
    }
    text
}

/// `text` with the head of a secret that ends right before a `…` (where a message was clipped)
/// replaced by [`REDACTED`]. A head of fewer than [`MIN_REDACTED_LEN`] characters is replaced
/// when it starts a word, so that a clip cannot leave even the first characters of a secret.
fn redact_heads(text: &str, secrets: &[&String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(super::CLIPPED) {
        let before = &rest[..at];
        let cut = secrets
            .iter()
            .filter_map(|secret| {
                let longest = before.len().min(secret.len());
                (1..=longest).rev().find(|&k| {
                    let start = before.len() - k;
                    before.is_char_boundary(start)
                        && secret.is_char_boundary(k)
                        && before.ends_with(&secret[..k])
                        && (secret[..k].chars().count() >= MIN_REDACTED_LEN
                            || !before[..start].ends_with(char::is_alphanumeric))
                })
            })
            .max()
            .unwrap_or(0);
        out.push_str(&before[..before.len() - cut]);
        if cut > 0 {
            out.push_str(REDACTED);
        }
        out.push_str(super::CLIPPED);
        rest = &rest[at + super::CLIPPED.len()..];
    }
    out.push_str(rest);
    out
}

/// Characters a message must not print as they are: controls (C0, DEL, C1: `\e[2J`, a line
/// break that would start a forged `error[…]` line), and those that break or reorder text on
/// screen (U+2028, U+2029, the bidirectional overrides and isolates).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character of [`needs_escape`] written as an escape (`\n`, `\t`,
/// `\u{1b}`).
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.contains(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

impl Diagnostic {
    /// `text` (this finding's message, help, path or a label) as every output format prints
    /// it: the secret values of every source the finding points into cut out, control
    /// characters escaped.
    pub fn shown(&self, text: &str) -> String {
        let mut out = match &self.location {
            Some(loc) => loc.source.redact(text),
            None => text.to_string(),
        };
        for (related, _) in &self.related {
            out = related.source.redact(&out);
        }
        escape_controls(&out).into_owned()
    }
}

/// Whether a document's text says `kind: Secret` (block or flow style, quoted or not).
fn looks_like_secret_manifest(text: &str) -> bool {
    text.match_indices("kind").any(|(at, _)| {
        let rest = text[at + 4..]
            .trim_start_matches(['"', '\''])
            .trim_start_matches([' ', '\t']);
        let Some(rest) = rest.strip_prefix(':') else {
            return false;
        };
        let rest = rest.trim_start_matches([' ', '\t']).trim_start_matches(['"', '\'']);
        rest.strip_prefix("Secret")
            .is_some_and(|after| !after.starts_with(|c: char| c.is_alphanumeric()))
    })
}

/// Whether a key (or an env var's name) names a secret value: a token, password, credential or
/// key. Names of secrets (`pullSecret`, `secretName`, `…Ref`), paths and policies are not.
pub fn is_secret_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let not_a_value = [
        "name",
        "names",
        "ref",
        "path",
        "file",
        "policy",
        "audience",
        "pullsecret",
        "pullsecrets",
        "mode",
        "seconds",
        "enabled",
        "uri",
        "url",
    ];
    if not_a_value.iter().any(|s| lower.ends_with(s)) {
        return false;
    }
    [
        "token",
        "secret",
        "password",
        "passwd",
        "credential",
        "apikey",
        "api_key",
        "api-key",
        "privatekey",
        "private_key",
        "private-key",
        "bearer",
        "access_key",
        "accesskey",
    ]
    .iter()
    .any(|s| lower.contains(s))
}

/// Kubernetes fields whose contents say which secret or token to use, not what it holds.
fn refers_to_secret(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "secret"
            | "secrets"
            | "secretref"
            | "secretkeyref"
            | "serviceaccounttoken"
            | "imagepullsecrets"
            | "tokenrequests"
    )
}
