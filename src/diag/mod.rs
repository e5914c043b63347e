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
    secrets: std::sync::Mutex<redact::Secrets>,
    /// Whether the text holds characters a source line must not show as they are (computed once:
    /// every finding in the file shows it).
    has_controls: std::sync::OnceLock<bool>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(SourceFile {
            name: name.into(),
            text: text.into(),
            secrets: Default::default(),
            has_controls: Default::default(),
        })
    }
}

/// What ends a text that [`clip`] cut short.
const CLIPPED: &str = "…";

/// `text` cut to `max` characters: a message must not echo a megabyte of hostile input. (A
/// secret cut short here is still redacted: see [`SourceFile::redact`].)
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max || text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}{CLIPPED}", text.chars().take(max).collect::<String>())
    }
}

/// Where a finding is: a span of one source.
#[derive(Debug, Clone)]
pub struct Location {
    pub source: Arc<SourceFile>,
    pub span: Span,
}

impl Location {
    /// `file:line:col`, 1-based, with control characters in the file name escaped.
    pub fn display(&self) -> String {
        format!(
            "{}:{}:{}",
            redact::escape_controls(&self.source.name),
            self.span.start.line,
            self.span.start.col
        )
    }
}

pub mod code;
pub mod redact;
pub mod rules;
pub mod sarif;

pub use redact::{REDACTED, escape_controls, is_secret_key};

/// One finding.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: &'static str,
    pub level: Level,
    /// Dotted key path of the value (`global.istioIntegration.enabled`), empty for the file.
    pub path: String,
    pub location: Option<Location>,
    /// The file the finding is about when no place in it is known (a file that cannot be read).
    pub file: Option<String>,
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
            file: None,
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

    /// Names the file the finding is about, for a finding without a place in it.
    pub fn in_file(mut self, name: impl Into<String>) -> Self {
        self.file = Some(name.into());
        self
    }

    /// The name of the file the finding is in: its location's source, or the file it names.
    pub fn file_name(&self) -> Option<&str> {
        self.location
            .as_ref()
            .map(|l| l.source.name.as_str())
            .or(self.file.as_deref())
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

    /// One line: `file:line:col: level[code]: message (at path)` (`file: …` when no place in
    /// the file is known, `level[code]: …` without a file).
    pub fn short(&self) -> String {
        let mut out = String::new();
        if let Some(loc) = &self.location {
            out.push_str(&loc.display());
            out.push_str(": ");
        } else if let Some(file) = &self.file {
            out.push_str(&redact::escape_controls(file));
            out.push_str(": ");
        }
        out.push_str(&format!(
            "{}[{}]: {}",
            self.level.as_str(),
            self.code,
            self.shown(&self.message)
        ));
        if !self.path.is_empty() {
            out.push_str(&format!(" (at {})", self.shown(&self.path)));
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
                out.push_str(&format!("\n  help: {}", self.shown(help)));
            }
            return out;
        }
        let view = MietteView {
            diagnostic: self,
            message: self.shown(&self.message),
            help: self.help.as_deref().map(|h| self.shown(h)),
            source: self.location.as_ref().map(|loc| loc.source.shown()),
        };
        let mut out = String::new();
        if handler.render_report(&mut out, &view).is_err() {
            return self.short();
        }
        out.trim_end_matches('\n').to_string()
    }

    /// The JSON form used by `--format json` (documented field by field in
    /// `docs/output-formats.md`).
    pub fn to_json(&self) -> serde_json::Value {
        let loc = self.location.as_ref();
        serde_json::json!({
            "code": self.code,
            "level": self.level,
            "path": self.shown(&self.path),
            "file": self.file_name(),
            "line": loc.map(|l| l.span.start.line),
            "column": loc.map(|l| l.span.start.col),
            "message": self.shown(&self.message),
            "help": self.help.as_deref().map(|h| self.shown(h)),
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
        fmt::Display::fmt(self, f)
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
            self.diagnostic.shown(&self.diagnostic.path)
        };
        let mut labels = vec![LabeledSpan::new_primary_with_span(Some(label_text(label, lines)), span)];
        for (related, label) in &self.diagnostic.related {
            // miette draws labels of one source only; others are named in the message.
            if Arc::ptr_eq(&related.source, &loc.source) {
                let (span, lines) = underlined(text, related.span);
                labels.push(LabeledSpan::new_with_span(
                    Some(label_text(self.diagnostic.shown(label), lines)),
                    span,
                ));
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
