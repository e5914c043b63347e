//! Manifest streams in, manifest streams out: `post-render` (the Helm post-renderer) and the
//! four `glooctl istio` commands done offline (`inject`, `uninject`, `enable-mtls`,
//! `disable-mtls`).
//!
//! The stream is read one document at a time and the result spooled to a temporary file, so
//! memory grows with the largest document, and nothing reaches standard output unless every
//! document was handled. Documents we do not change pass through byte for byte; the ones we
//! change get minimal line edits ([`text`]), so the rest of their bytes stay as they were.

pub mod edit;
pub mod text;

use std::io::{BufRead, Read, Seek, Write};
use std::sync::Arc;

use serde_json::Value;

use crate::diag::{Diagnostic, Location, SourceFile, code};
use crate::values::Model;
use crate::yaml::stream::{Boundary, Splitter, line_len};
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
        SourceFile::new(format!("<stdin> (document {})", self.index + 1), text)
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

/// The largest document the stream commands read (the loader's limit).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// Reads documents from `input` one at a time.
pub struct DocumentReader<R> {
    input: R,
    splitter: Splitter,
    pending: String,
    pending_line: usize,
    line_no: usize,
    index: usize,
    /// The last chunk read (up to a `\n`): one line, or several when lone `\r`s break it.
    chunk: String,
    /// Where the next line of `chunk` starts.
    pos: usize,
    /// Whether the line at `pos` was already given to the splitter: it starts the next document.
    carry: bool,
    done: bool,
}

impl<R: BufRead> DocumentReader<R> {
    pub fn new(input: R) -> Self {
        DocumentReader {
            input,
            splitter: Splitter::default(),
            pending: String::new(),
            pending_line: 1,
            line_no: 1,
            index: 0,
            chunk: String::with_capacity(256),
            pos: 0,
            carry: false,
            done: false,
        }
    }

    fn emit(&mut self, next_line: usize) -> Document {
        let doc = Document {
            text: std::mem::take(&mut self.pending),
            index: self.index,
            line: self.pending_line,
        };
        self.index += 1;
        self.pending_line = next_line;
        doc
    }

    /// Reads the next chunk of the input into `chunk`; false at the end of the input.
    fn read_chunk(&mut self) -> Result<bool, Failure> {
        let mut buf = std::mem::take(&mut self.chunk).into_bytes();
        buf.clear();
        self.pos = 0;
        // A document (and so a line) larger than what the loader accepts is refused before it
        // fills memory.
        let room = (MAX_DOCUMENT_BYTES + 1).saturating_sub(self.pending.len()) as u64;
        let read = std::io::Read::take(&mut self.input, room)
            .read_until(b'\n', &mut buf)
            .map_err(|e| Failure::io(format!("cannot read standard input: {e}")))?;
        if self.pending.len() + buf.len() > MAX_DOCUMENT_BYTES {
            return Err(Failure::invalid(vec![
                Diagnostic::error(
                    code::YAML_SYNTAX,
                    format!(
                        "document {} (from line {}) is larger than {} MiB",
                        self.index + 1,
                        self.pending_line,
                        MAX_DOCUMENT_BYTES / (1024 * 1024)
                    ),
                )
                .help("Kubernetes objects are far smaller (etcd stores at most 1.5 MiB); is this a manifest stream?"),
            ]));
        }
        self.chunk = String::from_utf8(buf).map_err(|_| {
            Failure::invalid(vec![
                Diagnostic::error(
                    code::YAML_SYNTAX,
                    format!("line {} of the input is not valid UTF-8", self.line_no),
                )
                .help("Kubernetes manifests are UTF-8"),
            ])
        })?;
        Ok(read > 0)
    }

    /// The next document, or `None` at the end of the input.
    pub fn next_document(&mut self) -> Result<Option<Document>, Failure> {
        loop {
            if self.pos >= self.chunk.len() && (self.done || !self.read_chunk()?) {
                self.done = true;
                return Ok((!self.pending.is_empty()).then(|| self.emit(self.line_no)));
            }
            let rest = &self.chunk[self.pos..];
            let line = &rest[..line_len(rest.as_bytes())];
            let boundary = if std::mem::take(&mut self.carry) {
                Boundary::None
            } else {
                self.splitter.line(line)
            };
            if boundary == Boundary::Before {
                self.carry = true;
                return Ok(Some(self.emit(self.line_no)));
            }
            self.pending.push_str(line);
            self.pos += line.len();
            self.line_no += 1;
            if boundary == Boundary::After {
                return Ok(Some(self.emit(self.line_no)));
            }
        }
    }
}

/// A temporary file the output is written to until it is complete.
pub struct Spool {
    file: std::fs::File,
}

impl Spool {
    pub fn new() -> Result<Spool, Failure> {
        let file = tempfile::tempfile().map_err(|e| Failure::io(format!("cannot create a temporary file: {e}")))?;
        Ok(Spool { file })
    }

    pub fn write(&mut self, text: &str) -> Result<(), Failure> {
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| Failure::io(format!("cannot write a temporary file: {e}")))
    }

    /// Copies everything written to `out`. A closed pipe is not an error.
    pub fn copy_to(mut self, out: &mut impl Write) -> Result<(), Failure> {
        let io = |e: std::io::Error| Failure::io(format!("cannot write the output: {e}"));
        self.file.rewind().map_err(io)?;
        let mut reader = std::io::BufReader::new(&mut self.file);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            match out.write_all(&buf[..n]) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                other => other.map_err(io)?,
            }
        }
        match out.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.map_err(io),
        }
    }
}

/// Runs `operation` over the documents of `input`, writing the result to `spool`.
pub fn run(
    input: impl BufRead,
    spool: &mut Spool,
    operation: &Operation,
    model: &Model,
    loaded: &crate::values::layers::LoadedValues,
) -> Result<Summary, Failure> {
    let mut reader = DocumentReader::new(input);
    let mut state = edit::State::new(operation, model, loaded)?;
    while let Some(doc) = reader.next_document()? {
        let out = state.document(&doc)?;
        spool.write(&out)?;
    }
    let tail = state.finish()?;
    spool.write(&tail)?;
    Ok(state.summary())
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
        kind: FailureKind::Invalid,
        diagnostics: vec![Diagnostic::error(code, message).at(location).help(help)],
    }
}

/// A JSON value's string at `pointer`.
pub fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}
