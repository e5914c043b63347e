//! The walk over one manifest stream: which documents may be ours, which kind each one is, and
//! the checks every edit must pass. The edits themselves live in one module per kind of
//! document ([`super::workload`], [`super::bootstrap`], [`super::settings`], [`super::gloo`],
//! [`super::upstream`]).

use std::borrow::Cow;

use serde_json::Value;

use super::text::{DocText, Edits, internal, verify};
use super::upstream::Upstreams;
use super::workload::Workloads;
use super::{Document, Operation, Summary, error_at, gloo, settings, str_at};
use crate::Failure;
use crate::diag::{Diagnostic, Level, code};
use crate::values::Model;
use crate::values::layers::LoadedValues;

/// Helm 4 names each document's template in this annotation (and rebuilds `# Source:` from it).
pub const HELM4_FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// Walks one manifest stream, document by document, and edits the documents it knows: the
/// gateway-proxy workloads and their bootstrap ConfigMaps, Settings, the `gloo` Deployment and
/// Upstreams. Everything else passes through unread.
pub struct StreamEditor<'a> {
    pub(super) operation: &'a Operation,
    pub(super) model: &'a Model,
    pub(super) loaded: &'a LoadedValues,
    summary: Summary,
    /// Whether the stream comes from Helm 4, which names each document's template in an
    /// annotation and wants it on the documents we add too.
    pub(super) helm4: bool,
    /// What the stream held of the gateway-proxy workloads.
    pub(super) workloads: Workloads,
    /// What the stream held of the Upstreams.
    pub(super) upstreams: Upstreams,
    /// Whether the stream held any document at all (empty input gives empty output).
    saw_content: bool,
    /// Whether the output so far ends with a newline (what we append must start a line).
    ends_with_newline: bool,
}

impl<'a> StreamEditor<'a> {
    pub fn new(
        operation: &'a Operation,
        model: &'a Model,
        loaded: &'a LoadedValues,
    ) -> Result<StreamEditor<'a>, Failure> {
        Ok(StreamEditor {
            operation,
            model,
            loaded,
            summary: Summary::default(),
            helm4: false,
            workloads: Workloads::default(),
            upstreams: Upstreams::default(),
            saw_content: false,
            ends_with_newline: true,
        })
    }

    /// Handles one document: its final text (the document itself when it passes through).
    pub fn document<'d>(&mut self, doc: &'d Document) -> Result<Cow<'d, str>, Failure> {
        // Lines are inserted whole; a last document without its final newline gets one for the
        // edit and loses it again after.
        let out = if !doc.text.is_empty() && !doc.text.ends_with('\n') {
            let padded = Document {
                text: format!("{}\n", doc.text),
                index: doc.index,
                line: doc.line,
            };
            match self.document_lines(&padded)? {
                Cow::Borrowed(_) => Cow::Borrowed(doc.text.as_str()),
                Cow::Owned(out) if out == padded.text => Cow::Borrowed(doc.text.as_str()),
                Cow::Owned(out) => Cow::Owned(out.strip_suffix('\n').map(str::to_string).unwrap_or(out)),
            }
        } else {
            self.document_lines(doc)?
        };
        self.ends_with_newline = out.is_empty() || out.ends_with('\n');
        Ok(out)
    }

    /// What follows the last document (the values' Upstreams that post-render appends), and the
    /// checks that need the whole stream.
    pub fn finish(&mut self) -> Result<String, Failure> {
        match self.operation {
            Operation::PostRender if !self.saw_content => Ok(String::new()),
            Operation::PostRender => {
                let mut out = String::new();
                if !self.ends_with_newline && !self.model.values.upstreams.is_empty() {
                    out.push('\n');
                }
                out.push_str(&self.appended_upstreams()?);
                Ok(out)
            }
            Operation::Inject { .. } | Operation::Uninject { .. } => {
                self.finish_workloads()?;
                Ok(String::new())
            }
            Operation::EnableMtls { .. } | Operation::DisableMtls { .. } => {
                self.finish_upstreams()?;
                Ok(String::new())
            }
        }
    }

    pub fn summary(&self) -> Summary {
        self.summary.clone()
    }

    /// Adds a message for standard error.
    pub(super) fn note(&mut self, level: Level, message: String) {
        self.summary
            .messages
            .push(Diagnostic::new(code::STREAM_NOTE, level, message));
    }

    /// Whether a document is in the namespace the operation works on.
    pub(super) fn in_scope(&self, v: &Value) -> bool {
        let ns = str_at(v, "/metadata/namespace").unwrap_or(&self.model.namespace);
        match self.operation {
            Operation::Inject { namespace } | Operation::Uninject { namespace, .. } => ns == namespace,
            _ => true,
        }
    }

    /// One document with a final newline: parsed when it may be ours, edited, and verified.
    fn document_lines<'d>(&mut self, doc: &'d Document) -> Result<Cow<'d, str>, Failure> {
        if !self.saw_content && crate::yaml::stream::has_content(&doc.text) {
            self.saw_content = true;
        }
        if !self.helm4 && doc.text.contains(HELM4_FILENAME_ANNOTATION) {
            self.helm4 = true;
        }
        // Only documents that may be ours are parsed; everything else passes through unread.
        if !self.may_concern(&doc.text) {
            return Ok(Cow::Borrowed(&doc.text));
        }
        let parsed = DocText::parse(&doc.text).map_err(|err| {
            error_at(
                doc,
                Some(err.span),
                code::YAML_SYNTAX,
                format!("cannot parse this document: {}", err.message),
                "fix the manifest",
            )
        })?;
        let Some(parsed) = parsed else {
            return Ok(Cow::Borrowed(&doc.text));
        };
        let kind = str_at(&parsed.value, "/kind").unwrap_or("");
        // Line edits are made for LF and CRLF line breaks; a document that breaks lines with a
        // lone `\r` passes through when it needs no edit and is refused when it does.
        let edits = match self.edits(doc, &parsed) {
            Ok(None) => None,
            Ok(Some(edits)) if edits.is_empty() => None,
            Err(_) | Ok(Some(_)) if crate::yaml::stream::has_lone_cr(&doc.text) => {
                return Err(error_at(
                    doc,
                    None,
                    code::STREAM_UNSUPPORTED,
                    format!(
                        "document {} (from line {}) breaks lines with a lone carriage return (\\r), which gloo-istio does not edit",
                        doc.index + 1,
                        doc.line
                    ),
                    "convert the manifests' line endings to LF or CRLF (e.g. `tr '\\r' '\\n'`)",
                ));
            }
            Ok(Some(edits)) => Some(edits),
            Err(failure) => return Err(failure),
        };
        let Some(mut edits) = edits else {
            return Ok(Cow::Borrowed(&doc.text));
        };
        let expected = edits.take_expected();
        let out = edits.apply(&doc.text).map_err(|e| internal(doc, e))?;
        verify(doc, kind, &out, &expected)?;
        self.summary.changed_documents += 1;
        Ok(Cow::Owned(out))
    }

    /// The edits one parsed document needs, if it is one of the kinds the operation edits.
    fn edits(&mut self, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
        let v = &parsed.value;
        let kind = str_at(v, "/kind").unwrap_or("");
        let is_gloo = str_at(v, "/apiVersion").unwrap_or("").starts_with("gloo.solo.io/");
        let label = str_at(v, "/metadata/labels/gloo");
        match (kind, self.operation) {
            ("Deployment" | "DaemonSet", _) if label == Some("gateway-proxy") => self.edit_workload(doc, parsed),
            ("Deployment", Operation::PostRender) if label == Some("gloo") => gloo::edit(self.model, doc, parsed),
            ("ConfigMap", _) if label == Some("gateway-proxy") && v.pointer("/data/envoy.yaml").is_some() => {
                self.edit_bootstrap(doc, parsed)
            }
            ("Settings", Operation::PostRender) if is_gloo => settings::edit(self.model, self.loaded, doc, parsed),
            ("Upstream", _) if is_gloo => self.edit_upstream(doc, parsed),
            _ => Ok(None),
        }
    }

    /// A cheap look at a document's text: could it be one we edit? Gateway-proxy workloads and
    /// ConfigMaps carry the `gateway-proxy-id` label; Settings and Upstreams are told by kind.
    /// A document whose kind cannot be seen on a line of its own is parsed to be sure.
    fn may_concern(&self, text: &str) -> bool {
        let kind = text
            .lines()
            .find_map(|line| line.strip_prefix("kind:"))
            .map(|k| k.trim().trim_matches(['"', '\'']));
        match kind {
            None => text.contains("kind"),
            Some("Deployment") => {
                text.contains("gateway-proxy-id")
                    || (matches!(self.operation, Operation::PostRender)
                        && (self.model.values.global.istio_integration.disable_autoinjection == Some(true)
                            || self.model.sidecar_on_gateway()
                            || self.model.gloo_mtls())
                        && text.contains("gloo"))
            }
            Some("DaemonSet" | "ConfigMap") => text.contains("gateway-proxy-id"),
            Some("Settings" | "Upstream") => true,
            Some(_) => false,
        }
    }
}
