//! Located diagnostics: a stable code, a level, the key path, `file:line:col`, a message and
//! a help line. Rendered with `miette` (source line and caret) for people, as JSON for tools.

use std::fmt;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::yaml::Span;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// A source text that diagnostics point into: a values file, `--set` arguments, or stdin.
///
/// Secret values in it (tokens, passwords, keys: see [`is_secret_key`]) are marked after it is
/// parsed; the source line a diagnostic shows has them masked, and messages have their text
/// replaced, so no secret from the input is ever printed.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    secrets: std::sync::Mutex<Secrets>,
}

/// The secret parts of a source: byte ranges to mask, and the values to cut out of messages.
#[derive(Debug, Default)]
struct Secrets {
    ranges: Vec<std::ops::Range<usize>>,
    values: Vec<String>,
}

/// What replaces a secret value in a message.
pub const REDACTED: &str = "‹redacted›";

/// Secrets shorter than this are masked in source lines but not searched for in messages,
/// where they would cut ordinary words apart.
const MIN_REDACTED_LEN: usize = 4;

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(SourceFile {
            name: name.into(),
            text: text.into(),
            secrets: Default::default(),
        })
    }

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
    fn shown(&self) -> NamedSource<String> {
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

/// `text` cut to `max` characters: a message must not echo a megabyte of hostile input.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max || text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

/// Where a finding is: a span of one source.
#[derive(Debug, Clone)]
pub struct Location {
    pub source: Arc<SourceFile>,
    pub span: Span,
}

impl Location {
    /// `file:line:col`, 1-based.
    pub fn display(&self) -> String {
        format!("{}:{}:{}", self.source.name, self.span.start.line, self.span.start.col)
    }
}

/// The stable codes. Each has a section in `docs/diagnostics.md`.
pub mod code {
    /// The file is not valid YAML.
    pub const YAML_SYNTAX: &str = "GI001";
    /// A mapping repeats a key.
    pub const DUPLICATE_KEY: &str = "GI002";
    /// A key we own is unknown (usually misspelt).
    pub const UNKNOWN_KEY: &str = "GI003";
    /// A value has the wrong type or is not one of the allowed values.
    pub const INVALID_VALUE: &str = "GI004";
    /// A file cannot be read.
    pub const UNREADABLE: &str = "GI005";
    /// A chart key that gloo-istio accepts but does not render.
    pub const NOT_RENDERED: &str = "GI006";
    /// A `--set` argument cannot be parsed.
    pub const BAD_SET: &str = "GI007";
    /// An Istio address is empty or not `host:port`.
    pub const ISTIO_ADDRESS: &str = "GI010";
    /// A STATIC envoy cluster uses a name where envoy needs an IP address.
    pub const STATIC_CLUSTER_NOT_IP: &str = "GI011";
    /// An extra envoy cluster reuses the name of a cluster the bootstrap already defines.
    pub const DUPLICATE_CLUSTER: &str = "GI012";
    /// A `*Helper` key names a Helm template that does not exist.
    pub const UNKNOWN_HELPER: &str = "GI013";
    /// A chart feature that needs Helm itself (`gateway.updateValues`).
    pub const UNSUPPORTED: &str = "GI014";
    /// An Upstream entry is invalid (name, port, duplicate).
    pub const UPSTREAM: &str = "GI015";
    /// `enableAutoMtls` is on, but Settings `enableIntegration` stays off.
    pub const AUTOMTLS_INERT: &str = "GI016";
    /// `global.istioSDS.enabled` is deprecated.
    pub const DEPRECATED: &str = "GI017";
    /// Two settings cancel each other or fight over the pod.
    pub const CONFLICTING_FLAGS: &str = "GI018";
    /// A setting that has no effect where it is.
    pub const IGNORED_SETTING: &str = "GI019";
    /// `customSidecars` that leave the sds sidecar without certificates, or clash by name.
    pub const CUSTOM_SIDECARS: &str = "GI020";
    /// An Istio address that does not look like istiod, or names another revision.
    pub const ISTIOD_ADDRESS: &str = "GI021";
    /// A label value Kubernetes rejects, or one that only survives because we quote it.
    pub const LABEL_VALUE: &str = "GI022";
    /// A custom bootstrap without the `gateway_proxy_sds` cluster while the sds sidecar runs.
    pub const CUSTOM_BOOTSTRAP: &str = "GI023";
    /// The `proxyv2` image: unpinned, or not matching the Istio version.
    pub const PROXYV2_IMAGE: &str = "GI024";
    /// An Upstream mTLS mode that cannot work with the rest of the values.
    pub const UPSTREAM_MODE: &str = "GI025";
    /// A choice that weakens the pods' secure defaults or the sidecar's trust in istiod.
    pub const WEAKENED_SECURITY: &str = "GI026";
    /// `analyze`: the transport Gloo uses for an Upstream.
    pub const ANALYZE_TRANSPORT: &str = "GI030";
    /// `analyze`: plain text to pods whose peer authentication is STRICT.
    pub const ANALYZE_STRICT_PLAINTEXT: &str = "GI031";
    /// `analyze`: an Istio sslConfig to pods whose peer authentication is DISABLE.
    pub const ANALYZE_DISABLE_MTLS: &str = "GI032";
    /// `analyze`: Settings with auto-mTLS but without the integration.
    pub const ANALYZE_AUTOMTLS: &str = "GI033";
    /// `analyze`: an sds sslConfig while a gateway proxy has no sds sidecar or cluster.
    pub const ANALYZE_NO_SDS: &str = "GI034";
    /// `analyze`: an sds `targetUri` that is not an IP address and port.
    pub const ANALYZE_TARGET_URI: &str = "GI035";
    /// A stream edit would overwrite something that differs, or is not possible as asked.
    pub const STREAM_CONFLICT: &str = "GI040";
    /// A stream shape gloo-istio does not edit (flow-style lists, glooMtls added afterwards).
    pub const STREAM_UNSUPPORTED: &str = "GI041";
    /// What a stream command was asked to change is not in the stream.
    pub const STREAM_NOT_FOUND: &str = "GI042";
    /// A stream command's report (`Istio injection was successful!` …).
    pub const STREAM_NOTE: &str = "GI043";
    /// A rendered resource failed its own typed check: a bug in gloo-istio.
    pub const INTERNAL: &str = "GI099";
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: &'static str,
    pub level: Level,
    /// Dotted key path of the value (`global.istioIntegration.enabled`), empty for the file.
    pub path: String,
    pub location: Option<Location>,
    pub message: String,
    pub help: Option<String>,
    /// Further places the message refers to (the first of two duplicate keys).
    pub related: Vec<(Location, String)>,
}

impl Diagnostic {
    pub fn new(code: &'static str, level: Level, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            level,
            path: String::new(),
            location: None,
            message: clip(&message.into(), 500),
            help: None,
            related: Vec::new(),
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Level::Error, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Level::Warning, message)
    }

    pub fn info(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Level::Info, message)
    }

    pub fn at(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = clip(&path.into(), 200);
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn related(mut self, location: Location, label: impl Into<String>) -> Self {
        self.related.push((location, label.into()));
        self
    }

    /// One line: `file:line:col: level[code]: message (at path)`.
    pub fn short(&self) -> String {
        let mut out = String::new();
        if let Some(loc) = &self.location {
            out.push_str(&loc.display());
            out.push_str(": ");
        }
        out.push_str(&format!("{}[{}]: {}", self.level.as_str(), self.code, self.message));
        if !self.path.is_empty() {
            out.push_str(&format!(" (at {})", self.path));
        }
        self.redact(&out)
    }

    /// `text` with the secret values of every source this finding points into cut out.
    fn redact(&self, text: &str) -> String {
        let mut out = match &self.location {
            Some(loc) => loc.source.redact(text),
            None => text.to_string(),
        };
        for (related, _) in &self.related {
            out = related.source.redact(&out);
        }
        out
    }

    /// The human form: level, code and message, then `file:line:col` with the source line and a
    /// caret under the value, then the help line (rendered by miette).
    pub fn render_human(&self, color: bool) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        // No wrapping: a message stays on one line, for grep and CI logs.
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_wrap_lines(false);
        // Long lines (minified or generated input) make snippets useless and slow: the short
        // form names the place just as well.
        let too_long = self.location.as_ref().is_some_and(|loc| {
            let text = &loc.source.text;
            let at = loc.span.start.offset.min(text.len());
            if !text.is_char_boundary(at) {
                return true;
            }
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            let clipped = span_lines(loc.span) > MAX_UNDERLINED_LINES;
            line_end - line_start > 400 || (loc.span.len() > 4000 && !clipped)
        });
        if self.location.is_none() || too_long {
            let mut out = self.short();
            if let Some(help) = &self.help {
                out.push_str(&format!("\n  help: {}", self.redact(help)));
            }
            return out;
        }
        let view = MietteView {
            diagnostic: self,
            message: self.redact(&self.message),
            help: self.help.as_deref().map(|h| self.redact(h)),
            source: self.location.as_ref().map(|loc| loc.source.shown()),
        };
        let mut out = String::new();
        if handler.render_report(&mut out, &view).is_err() {
            return self.short();
        }
        out.trim_end_matches('\n').to_string()
    }

    /// The JSON form used by `--format json`.
    pub fn to_json(&self) -> serde_json::Value {
        let loc = self.location.as_ref();
        serde_json::json!({
            "code": self.code,
            "level": self.level,
            "path": self.path,
            "file": loc.map(|l| l.source.name.clone()),
            "line": loc.map(|l| l.span.start.line),
            "column": loc.map(|l| l.span.start.col),
            "message": self.redact(&self.message),
            "help": self.help.as_deref().map(|h| self.redact(h)),
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

/// Adapts a [`Diagnostic`] to miette's report interface, with its texts redacted and its
/// source masked.
struct MietteView<'a> {
    diagnostic: &'a Diagnostic,
    message: String,
    help: Option<String>,
    source: Option<NamedSource<String>>,
}

impl fmt::Debug for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}",
            self.diagnostic.level.as_str(),
            self.diagnostic.code,
            self.message
        )
    }
}

impl fmt::Display for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}",
            self.diagnostic.level.as_str(),
            self.diagnostic.code,
            self.message
        )
    }
}

impl std::error::Error for MietteView<'_> {}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new(span.start.offset.into(), span.len())
}

/// A value that runs over more lines than this (a whole envoy bootstrap in a block scalar) is
/// underlined on its first line only, so that the excerpt stays a few lines long; its location
/// (`file:line:col`) is the same either way.
const MAX_UNDERLINED_LINES: usize = 6;

/// The span a label underlines in `text`, and how many lines the value has when that is only its
/// first line.
fn underlined(text: &str, span: Span) -> (SourceSpan, Option<usize>) {
    let lines = span_lines(span);
    if lines <= MAX_UNDERLINED_LINES {
        return (source_span(span), None);
    }
    let start = span.start.offset.min(text.len());
    let first_line = text.as_bytes()[start..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(text.len() - start);
    (SourceSpan::new(start.into(), first_line.max(1)), Some(lines))
}

/// How many lines `span` touches (an end at the start of a line does not touch that line).
fn span_lines(span: Span) -> usize {
    let ends_at_line_start = span.end.col <= 1 && span.end.line > span.start.line;
    span.end.line.saturating_sub(span.start.line) + 1 - usize::from(ends_at_line_start)
}

/// A label's text, naming the lines of a value underlined on its first line only.
fn label_text(label: String, lines: Option<usize>) -> String {
    match lines {
        Some(lines) => format!("{label} (first of {lines} lines)"),
        None => label,
    }
}

impl miette::Diagnostic for MietteView<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
            Level::Info => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|source| source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let loc = self.diagnostic.location.as_ref()?;
        let text = &loc.source.text;
        let (span, lines) = underlined(text, loc.span);
        let label = if self.diagnostic.path.is_empty() {
            "here".to_string()
        } else {
            self.diagnostic.path.clone()
        };
        let mut labels = vec![LabeledSpan::new_primary_with_span(Some(label_text(label, lines)), span)];
        for (related, label) in &self.diagnostic.related {
            // miette draws labels of one source only; others are named in the message.
            if Arc::ptr_eq(&related.source, &loc.source) {
                let (span, lines) = underlined(text, related.span);
                labels.push(LabeledSpan::new_with_span(Some(label_text(label.clone(), lines)), span));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Pos, Span};

    fn pos(text: &str, offset: usize) -> Pos {
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Pos {
            line: before.matches('\n').count() + 1,
            col: offset - line_start + 1,
            offset,
        }
    }

    fn warning_over(text: &str, value: &str) -> Diagnostic {
        let start = text.find(value).unwrap();
        let source = SourceFile::new("values.yaml", text);
        let span = Span {
            start: pos(text, start),
            end: pos(text, start + value.len()),
        };
        Diagnostic::warning(code::CUSTOM_BOOTSTRAP, "a warning")
            .path("a.b")
            .at(Some(Location { source, span }))
    }

    #[test]
    fn a_long_value_is_underlined_on_its_first_line() {
        let body: String = (1..=40).map(|i| format!("    line{i}: {i}\n")).collect();
        let text = format!("a:\n  b: |\n{body}c: 1\n");
        let shown = warning_over(&text, &body).render_human(false);
        assert!(shown.contains("values.yaml:3:1"), "{shown}");
        assert!(shown.contains("a.b (first of 40 lines)"), "{shown}");
        assert!(shown.contains("line1: 1"), "{shown}");
        assert!(
            !shown.contains("line3: 3"),
            "only the first line and its context: {shown}"
        );
        assert!(shown.lines().count() < 12, "{shown}");
    }

    #[test]
    fn a_short_value_is_underlined_whole() {
        let body = "    x: 1\n    y: 2\n";
        let text = format!("a:\n  b: |\n{body}c: 1\n");
        let shown = warning_over(&text, body).render_human(false);
        assert!(shown.contains("y: 2"), "{shown}");
        assert!(!shown.contains("first of"), "{shown}");
    }
}
