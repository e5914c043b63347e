//! One document of a manifest stream, the operation done to the stream, and the helpers every
//! edit uses to read a document and to report a located error.

use std::sync::Arc;

use serde_json::Value;

use crate::diag::{Diagnostic, Location, SourceFile, code};
use crate::{Failure, FailureKind};

/// What to do to the stream.
#[derive(Debug, Clone)]
pub enum Operation {
    /// Add what the chart renders for the values: sidecars, volumes, the sds cluster, Settings
    /// `istioOptions`, pod labels and annotations, and the values' Upstreams.
    PostRender,
    /// `glooctl istio inject`: the sidecars, volumes and sds cluster of every gateway proxy in
    /// `namespace`, nothing else.
    Inject { namespace: String },
    /// `glooctl istio uninject`: the exact inverse of `inject`.
    Uninject { namespace: String, include_upstreams: bool },
    /// `glooctl istio enable-mtls`: the Istio sslConfig on one Upstream.
    EnableMtls {
        upstream: String,
        namespace: String,
        force: bool,
    },
    /// `glooctl istio disable-mtls`: remove an Istio sslConfig from one Upstream.
    DisableMtls {
        upstream: String,
        namespace: String,
        force: bool,
    },
}

/// The outcome of a stream edit: messages for standard error.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub messages: Vec<Diagnostic>,
    pub changed_documents: usize,
}

/// One document of the input, with where it came from (for messages).
pub struct Document {
    pub text: String,
    pub index: usize,
    pub line: usize,
}

impl Document {
    /// A source for diagnostics whose line numbers are those of the whole stream.
    pub fn source(&self) -> Arc<SourceFile> {
        let mut text = "\n".repeat(self.line.saturating_sub(1));
        text.push_str(&self.text);
        let source = SourceFile::new(format!("<stdin> (document {})", self.index + 1), text);
        source.mark_manifest_secrets();
        source
    }

    /// A location in this document from a span of its own text.
    pub fn location(&self, span: crate::yaml::Span) -> Option<Location> {
        let lines = self.line.saturating_sub(1);
        let shift = |p: crate::yaml::Pos| crate::yaml::Pos {
            line: p.line + lines,
            col: p.col,
            offset: p.offset + lines,
        };
        Some(Location {
            source: self.source(),
            span: crate::yaml::Span {
                start: shift(span.start),
                end: shift(span.end),
            },
        })
    }
}

/// A located error in a document.
pub fn error_at(
    doc: &Document,
    span: Option<crate::yaml::Span>,
    code: &'static str,
    message: String,
    help: &str,
) -> Failure {
    let location = span.and_then(|s| doc.location(s));
    Failure {
        // An internal error is a bug, whatever the input: exit 2, as in every command.
        kind: if code == code::INTERNAL {
            FailureKind::Internal
        } else {
            FailureKind::Invalid
        },
        diagnostics: vec![Diagnostic::error(code, message).at(location).help(help)],
    }
}

/// A JSON value's list at `pointer`; empty when there is none.
pub fn items_at<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A JSON value's string at `pointer`.
pub fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_exits_2_and_any_other_1() {
        let doc = Document {
            text: "a: 1\n".into(),
            index: 0,
            line: 1,
        };
        assert_eq!(error_at(&doc, None, code::INTERNAL, "bug".into(), "").exit_code(), 2);
        assert_eq!(
            error_at(&doc, None, code::STREAM_CONFLICT, "no".into(), "").exit_code(),
            1
        );
    }
}
