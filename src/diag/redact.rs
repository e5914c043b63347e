//! Secrets in the input never reach the output of a command: values under keys that name a
//! secret (tokens, passwords, keys), env values whose name does, and the data of Kubernetes
//! Secrets are marked in their [`SourceFile`] when it is parsed; the source lines a diagnostic
//! shows have them masked, and every message has their text replaced by [`REDACTED`].

use miette::NamedSource;

use super::SourceFile;
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

    /// `text` with every secret value of this source replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets();
        let mut out = text.to_string();
        // Longest first, so that a secret holding another is cut whole.
        let mut values: Vec<&String> = secrets.values.iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for value in values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), REDACTED);
            }
        }
        out
    }

    /// The text as a diagnostic shows it: every masked byte that is not a line break becomes
    /// `*` (a multi-byte character becomes as many), so offsets stay the same.
    pub(super) fn shown(&self) -> NamedSource<String> {
        let secrets = self.secrets();
        let text = if secrets.ranges.is_empty() {
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
        NamedSource::new(self.name.clone(), text).with_language("yaml")
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
                Err(_) => {}
            }
        }
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
