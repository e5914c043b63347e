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
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    named: NamedSource<String>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        let name = name.into();
        let text = text.into();
        let named = NamedSource::new(name.clone(), text.clone()).with_language("yaml");
        Arc::new(SourceFile { name, text, named })
    }
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
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            line_end - line_start > 400 || loc.span.len() > 4000 || !text.is_char_boundary(at)
        });
        if self.location.is_none() || too_long {
            let mut out = self.short();
            if let Some(help) = &self.help {
                out.push_str(&format!("\n  help: {help}"));
            }
            return out;
        }
        let mut out = String::new();
        if handler.render_report(&mut out, &MietteView(self)).is_err() {
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
            "message": self.message,
            "help": self.help,
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

/// Adapts a [`Diagnostic`] to miette's report interface.
struct MietteView<'a>(&'a Diagnostic);

impl fmt::Debug for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.0.level.as_str(), self.0.code, self.0.message)
    }
}

impl std::error::Error for MietteView<'_> {}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new(span.start.offset.into(), span.len())
}

impl miette::Diagnostic for MietteView<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.0.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
            Level::Info => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0
            .help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0
            .location
            .as_ref()
            .map(|loc| &loc.source.named as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let loc = self.0.location.as_ref()?;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(if self.0.path.is_empty() {
                "here".to_string()
            } else {
                self.0.path.clone()
            }),
            source_span(loc.span),
        )];
        for (related, label) in &self.0.related {
            // miette draws labels of one source only; others are named in the message.
            if Arc::ptr_eq(&related.source, &loc.source) {
                labels.push(LabeledSpan::new_with_span(
                    Some(label.clone()),
                    source_span(related.span),
                ));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}
