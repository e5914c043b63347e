//! Manifest streams in, manifest streams out: `post-render` (the Helm post-renderer) and the
//! four `glooctl istio` commands done offline (`inject`, `uninject`, `enable-mtls`,
//! `disable-mtls`).
//!
//! The stream is read one document at a time and the result spooled (in memory up to
//! [`SPOOL_MEMORY_BYTES`], then in a temporary file), so memory grows with the largest document
//! and that bound, and nothing reaches standard output unless every document was handled.
//! Documents we do not change pass through byte for byte; the ones we change get minimal line
//! edits ([`text`]), so the rest of their bytes stay as they were.
//!
//! [`StreamEditor`] walks the stream and hands each document it knows to the module of its kind:
//! `workload` (the gateway-proxy Deployment or DaemonSet), `bootstrap` (its envoy ConfigMap),
//! `settings`, `gloo` (the gloo Deployment) and `upstream`. Each of them reads the operation and
//! the values from the stream's `context`, and none of them calls another.

mod bootstrap;
mod context;
mod document;
mod editor;
mod gloo;
mod reader;
mod settings;
mod spool;
pub mod text;
mod upstream;
mod workload;

pub use context::HELM4_FILENAME_ANNOTATION;
pub use document::{Document, Operation, Summary, error_at, items_at, str_at};
pub use editor::{StreamEditor, proxy_namespace};
pub use reader::{DocumentReader, MAX_DOCUMENT_BYTES};
pub use spool::{SPOOL_MEMORY_BYTES, Spool};

use std::io::BufRead;

use crate::Failure;
use crate::values::Model;

/// Runs `operation` over the documents of `input`, writing the result to `spool`.
pub fn run(
    input: impl BufRead,
    spool: &mut Spool,
    operation: &Operation,
    model: &Model,
    loaded: &crate::values::layers::LoadedValues,
) -> Result<Summary, Failure> {
    let mut reader = DocumentReader::new(input);
    run_documents(
        std::iter::from_fn(|| reader.next_document().transpose()),
        spool,
        operation,
        model,
        loaded,
    )
}

/// Runs `operation` over `documents` (as [`DocumentReader`] gives them), writing the result to
/// `spool`.
pub fn run_documents(
    documents: impl Iterator<Item = Result<Document, Failure>>,
    spool: &mut Spool,
    operation: &Operation,
    model: &Model,
    loaded: &crate::values::layers::LoadedValues,
) -> Result<Summary, Failure> {
    let mut editor = StreamEditor::new(operation, model, loaded)?;
    for doc in documents {
        let doc = doc?;
        let out = editor.document(&doc)?;
        spool.write(&out)?;
    }
    let tail = editor.finish()?;
    spool.write(&tail)?;
    Ok(editor.summary())
}
