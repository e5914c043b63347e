//! What every edit of one manifest stream reads: the operation, the values, whether the stream
//! comes from Helm 4; and the messages the edits leave for standard error.

use serde_json::Value;

use super::document::{Operation, str_at};
use crate::Failure;
use crate::diag::{Diagnostic, Level, code};
use crate::values::layers::LoadedValues;
use crate::values::{Model, Proxy};

/// Helm 4 names each document's template in this annotation (and rebuilds `# Source:` from it).
pub const HELM4_FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// The operation and the values one stream is edited with.
pub(super) struct Context<'a> {
    pub operation: &'a Operation,
    pub model: &'a Model,
    pub loaded: &'a LoadedValues,
    /// Whether the stream comes from Helm 4, which names each document's template in an
    /// annotation and wants it on the documents we add too.
    pub helm4: bool,
    /// Messages for standard error.
    pub messages: Vec<Diagnostic>,
}

impl<'a> Context<'a> {
    pub fn new(operation: &'a Operation, model: &'a Model, loaded: &'a LoadedValues) -> Context<'a> {
        Context {
            operation,
            model,
            loaded,
            helm4: false,
            messages: Vec::new(),
        }
    }

    /// Adds a message for standard error.
    pub fn note(&mut self, level: Level, message: String) {
        self.messages.push(Diagnostic::new(code::STREAM_NOTE, level, message));
    }

    /// Whether a document is in the namespace the operation works on.
    pub fn in_scope(&self, v: &Value) -> bool {
        let ns = str_at(v, "/metadata/namespace").unwrap_or(&self.model.namespace);
        match self.operation {
            Operation::Inject { namespace } | Operation::Uninject { namespace, .. } => ns == namespace,
            _ => true,
        }
    }

    /// The proxy of the values with this id, or one that inherits everything from
    /// `gatewayProxy` (as the chart renders a proxy whose entry sets nothing).
    pub fn proxy(&self, id: &str) -> Result<Proxy, Failure> {
        if let Some(p) = self.model.proxies.iter().find(|p| p.id == id) {
            return Ok(p.clone());
        }
        let empty = serde_json::Map::new();
        let raw = self
            .loaded
            .merged
            .get("gatewayProxies")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut effective = crate::values::proxy::effective_proxy(raw, id);
        crate::values::proxy::strip_nulls(&mut effective);
        let values =
            serde_json::from_value(effective).map_err(|e| Failure::usage(format!("gatewayProxy values: {e}")))?;
        Ok(Proxy {
            key: id.to_string(),
            id: id.to_string(),
            values,
            pointer: "/gatewayProxies/gatewayProxy".into(),
        })
    }
}
