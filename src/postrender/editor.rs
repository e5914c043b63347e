//! The walk over one manifest stream: which documents may be ours, which kind each one is, and
//! the checks every edit must pass. The edits themselves live in one module per kind of
//! document ([`super::workload`], [`super::bootstrap`], [`super::settings`], [`super::gloo`],
//! [`super::upstream`]).

use std::borrow::Cow;

use super::context::{Context, HELM4_FILENAME_ANNOTATION};
use super::document::{Document, Operation, Summary, error_at, str_at};
use super::text::{DocText, Edits, internal, verify};
use super::upstream::Upstreams;
use super::workload::Workloads;
use super::{bootstrap, gloo, settings};
use crate::Failure;
use crate::diag::{Location, code};
use crate::values::Model;
use crate::values::layers::LoadedValues;

/// Walks one manifest stream, document by document, and edits the documents it knows: the
/// gateway-proxy workloads and their bootstrap ConfigMaps, Settings, the `gloo` Deployment and
/// Upstreams. Everything else passes through unread.
pub struct StreamEditor<'a> {
    cx: Context<'a>,
    /// How many documents were changed.
    changed_documents: usize,
    /// What the stream held of the gateway-proxy workloads.
    workloads: Workloads,
    /// What the stream held of the Upstreams.
    upstreams: Upstreams,
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
            cx: Context::new(operation, model, loaded),
            changed_documents: 0,
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
        match self.cx.operation {
            Operation::PostRender if !self.saw_content => Ok(String::new()),
            Operation::PostRender => {
                let mut out = String::new();
                if !self.ends_with_newline && !self.cx.model.values.upstreams.is_empty() {
                    out.push('\n');
                }
                out.push_str(&self.upstreams.appended(&self.cx)?);
                Ok(out)
            }
            Operation::Inject { .. } | Operation::Uninject { .. } => {
                self.workloads.finish(&mut self.cx)?;
                Ok(String::new())
            }
            Operation::EnableMtls { .. } | Operation::DisableMtls { .. } => {
                self.upstreams.finish(&self.cx)?;
                Ok(String::new())
            }
        }
    }

    pub fn summary(&self) -> Summary {
        Summary {
            messages: self.cx.messages.clone(),
            changed_documents: self.changed_documents,
        }
    }

    /// One document with a final newline: parsed when it may be ours, edited, and verified.
    fn document_lines<'d>(&mut self, doc: &'d Document) -> Result<Cow<'d, str>, Failure> {
        if !self.saw_content && crate::yaml::stream::has_content(&doc.text) {
            self.saw_content = true;
        }
        if !self.cx.helm4 && doc.text.contains(HELM4_FILENAME_ANNOTATION) {
            self.cx.helm4 = true;
        }
        // Every document is read as YAML reads it (comments, quotes, flow style), without
        // expanding aliases: one that is not YAML is refused, since what we print must be.
        // Only the kinds we edit are loaded in full; everything else passes through as it is.
        let concerns = match kind_and_gloo_label(&doc.text) {
            Ok((TopKind::Absent, _)) => false,
            Ok((TopKind::Scalar(kind), label)) => self.edits_kind(&kind, &label),
            Ok((TopKind::Other, _)) | Err(()) => true,
        };
        if !concerns {
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
        self.changed_documents += 1;
        Ok(Cow::Owned(out))
    }

    /// The edits one parsed document needs, if it is one of the kinds the operation edits.
    fn edits(&mut self, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
        let v = &parsed.value;
        let kind = str_at(v, "/kind").unwrap_or("");
        let is_gloo = str_at(v, "/apiVersion").unwrap_or("").starts_with("gloo.solo.io/");
        let label = str_at(v, "/metadata/labels/gloo");
        let cx = &mut self.cx;
        match (kind, cx.operation) {
            ("Deployment" | "DaemonSet", _) if label == Some("gateway-proxy") => self.workloads.edit(cx, doc, parsed),
            ("Deployment", Operation::PostRender) if label == Some("gloo") => gloo::edit(cx.model, doc, parsed),
            ("ConfigMap", _) if label == Some("gateway-proxy") && v.pointer("/data/envoy.yaml").is_some() => {
                bootstrap::edit(cx, doc, parsed)
            }
            ("Settings", Operation::PostRender) if is_gloo => settings::edit(cx.model, cx.loaded, doc, parsed),
            ("Upstream", _) if is_gloo => self.upstreams.edit(cx, doc, parsed),
            _ => Ok(None),
        }
    }

    /// Whether the operation edits documents of this kind with this `gloo` label.
    fn edits_kind(&self, kind: &str, gloo_label: &TopKind) -> bool {
        let labelled = |labels: &[&str]| match gloo_label {
            TopKind::Scalar(label) => labels.contains(&label.as_str()),
            TopKind::Other => true,
            TopKind::Absent => false,
        };
        match kind {
            "Deployment" => labelled(&["gateway-proxy", "gloo"]),
            "DaemonSet" | "ConfigMap" => labelled(&["gateway-proxy"]),
            "Upstream" => true,
            "Settings" => matches!(self.cx.operation, Operation::PostRender),
            _ => false,
        }
    }
}

/// What YAML reads at one place of a document.
#[derive(Debug, PartialEq)]
enum TopKind {
    /// Nothing there.
    Absent,
    /// A scalar, as the parser reads it (quotes and escapes resolved, comments dropped).
    Scalar(String),
    /// An alias or a collection, there or on the way there: known only after a full load.
    Other,
}

/// The namespace of `doc` when it is a gateway-proxy Deployment or DaemonSet that names one,
/// with where it is written: where `post-render` works when `-n` is not given. A document that
/// does not parse gives none (the edit pass reports it).
pub fn proxy_namespace(doc: &Document) -> Option<(String, Option<Location>)> {
    // The label value as text, quoted or not: what is not there cannot be a gateway proxy, and
    // a text search is far cheaper than reading the YAML of every document. (A label written
    // with escapes only is missed: post-render then works in the default namespace.)
    if !doc.text.contains("gateway-proxy") {
        return None;
    }
    let maybe = match kind_and_gloo_label(&doc.text) {
        Ok((TopKind::Scalar(kind), TopKind::Scalar(label))) => {
            matches!(kind.as_str(), "Deployment" | "DaemonSet") && label == "gateway-proxy"
        }
        Ok((TopKind::Absent, _) | (_, TopKind::Absent)) => false,
        Ok(_) | Err(()) => true,
    };
    if !maybe {
        return None;
    }
    let parsed = DocText::parse(&doc.text).ok()??;
    let v = &parsed.value;
    let is_proxy = matches!(str_at(v, "/kind"), Some("Deployment" | "DaemonSet"))
        && str_at(v, "/metadata/labels/gloo") == Some("gateway-proxy");
    let namespace = str_at(v, "/metadata/namespace").filter(|_| is_proxy)?;
    let location = parsed.span("/metadata/namespace").and_then(|span| doc.location(span));
    Some((namespace.to_string(), location))
}

/// What a document holds at `kind` and at `metadata.labels.gloo`, from the parser's events
/// alone (no alias is expanded, so an alias bomb in a document we do not edit costs nothing).
/// `Err` when the document is not YAML; the full load then says where. Every event is read, so
/// that a document we pass through is known to be YAML; only the keys of the first three levels
/// are kept, since the two places lie no deeper.
fn kind_and_gloo_label(text: &str) -> Result<(TopKind, TopKind), ()> {
    use saphyr_parser::{Event, Parser};
    const KIND: &[&str] = &["kind"];
    const LABEL: &[&str] = &["metadata", "labels", "gloo"];
    const DEPTH: usize = 3;
    /// The key under which the value being read sits.
    #[derive(Clone, Copy, PartialEq)]
    enum Key {
        /// None yet, a sequence item or a complex key: no path runs through it.
        Unknown,
        /// One of the keys on the way to the two places.
        Named(&'static str),
        /// Any other key.
        Other,
    }
    // One frame per open collection: whether it is a mapping whose next node is a key, and
    // the key of the value being read.
    struct Frame {
        map: bool,
        at_key: bool,
        key: Key,
    }
    let mut stack: Vec<Frame> = Vec::new();
    let (mut kind, mut label) = (TopKind::Absent, TopKind::Absent);
    // Whether the value being read lies on the way to `want` (`Some(true)` at it).
    let on_the_way = |stack: &[Frame], want: &[&'static str]| -> Option<bool> {
        if stack.len() > want.len() {
            return None;
        }
        let on = stack.iter().zip(want).all(|(f, w)| f.map && f.key == Key::Named(w));
        on.then_some(stack.len() == want.len())
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, _) = next.map_err(|_| ())?;
        let is_key = stack.last().is_some_and(|f| f.map && f.at_key);
        // What a value here means for the two places we look at.
        let mut record = |found: &dyn Fn() -> TopKind, stack: &[Frame]| {
            if is_key || stack.len() > DEPTH {
                return;
            }
            for (want, slot) in [(KIND, &mut kind), (LABEL, &mut label)] {
                if *slot != TopKind::Absent {
                    continue;
                }
                match (on_the_way(stack, want), found()) {
                    (Some(true), found @ TopKind::Scalar(_)) | (Some(_), found @ TopKind::Other) => *slot = found,
                    _ => {}
                }
            }
        };
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if is_key {
                    // A complex key: whatever it reads, the value after it is not ours to guess.
                    if let Some(f) = stack.last_mut() {
                        f.key = Key::Unknown;
                        f.at_key = false;
                    }
                } else {
                    let at_leaf = on_the_way(&stack, KIND) == Some(true) || on_the_way(&stack, LABEL) == Some(true);
                    if at_leaf {
                        record(&|| TopKind::Other, &stack);
                    }
                    if let Some(f) = stack.last_mut().filter(|f| f.map) {
                        f.at_key = true;
                    }
                }
                stack.push(Frame {
                    map: matches!(event, Event::MappingStart(..)),
                    at_key: true,
                    key: Key::Unknown,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                if let Some(f) = stack.last_mut().filter(|f| f.map) {
                    f.key = Key::Unknown;
                }
            }
            Event::Scalar(value, ..) => {
                if is_key {
                    let depth = stack.len();
                    if let Some(f) = stack.last_mut() {
                        f.key = match LABEL.iter().chain(KIND).find(|k| **k == value) {
                            Some(named) if depth <= DEPTH => Key::Named(named),
                            _ => Key::Other,
                        };
                        f.at_key = false;
                    }
                } else {
                    record(&|| TopKind::Scalar(value.to_string()), &stack);
                    if let Some(f) = stack.last_mut().filter(|f| f.map) {
                        f.key = Key::Unknown;
                        f.at_key = true;
                    }
                }
            }
            Event::Alias(_) => {
                if is_key {
                    // An alias key may read `kind` or `metadata`: a full load decides.
                    (kind, label) = (TopKind::Other, TopKind::Other);
                    if let Some(f) = stack.last_mut() {
                        f.key = Key::Unknown;
                        f.at_key = false;
                    }
                } else {
                    record(&|| TopKind::Other, &stack);
                    if let Some(f) = stack.last_mut().filter(|f| f.map) {
                        f.key = Key::Unknown;
                        f.at_key = true;
                    }
                }
            }
            _ => {}
        }
    }
    Ok((kind, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_is_read_as_yaml_reads_it() {
        for text in [
            "kind: Deployment # a comment\n",
            "kind: \"Deployment\"\n",
            "'kind': 'Deployment'\n",
            "{apiVersion: apps/v1, kind: Deployment}\n",
            "kind: \"Deplo\\u0079ment\"\n",
            "metadata: {kind: Secret}\nkind: !!str Deployment\n",
            "? kind\n: Deployment\n",
        ] {
            assert_eq!(
                kind_and_gloo_label(text).map(|k| k.0),
                Ok(TopKind::Scalar("Deployment".into())),
                "{text:?}"
            );
        }
        let kind = |text: &str| kind_and_gloo_label(text).map(|k| k.0);
        assert_eq!(kind("metadata: {kind: Deployment}\n"), Ok(TopKind::Absent));
        assert_eq!(kind("- kind: Deployment\n"), Ok(TopKind::Absent));
        assert_eq!(kind("k: &k Deployment\nkind: *k\n"), Ok(TopKind::Other));
        assert_eq!(kind("kind: [Deployment]\n"), Ok(TopKind::Other));
        assert_eq!(kind("metadata: {name: [\n"), Err(()));
        let label = |text: &str| kind_and_gloo_label(text).map(|k| k.1);
        assert_eq!(
            label("kind: ConfigMap\nmetadata:\n  name: x\n  labels: {app: gloo, \"gloo\": gateway-proxy} # c\n"),
            Ok(TopKind::Scalar("gateway-proxy".into()))
        );
        assert_eq!(
            label("metadata:\n  labels:\n    app: gloo\ndata: {gloo: x}\n"),
            Ok(TopKind::Absent)
        );
        assert_eq!(label("metadata:\n  labels: *l\n"), Err(()));
        assert_eq!(label("x: &l {gloo: g}\nmetadata:\n  labels: *l\n"), Ok(TopKind::Other));
    }
}
