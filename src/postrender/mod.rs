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
//! `settings`, `gloo` (the gloo Deployment) and `upstream`.

mod bootstrap;
mod editor;
mod gloo;
mod settings;
pub mod text;
mod upstream;
mod workload;

pub use editor::{HELM4_FILENAME_ANNOTATION, StreamEditor, proxy_namespace};

use std::io::{BufRead, Read, Seek, Write};
use std::sync::Arc;

use serde_json::Value;

use crate::diag::{Diagnostic, Location, SourceFile, code};
use crate::values::Model;
use crate::yaml::stream::{Boundary, Splitter};
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

/// The largest document the stream commands read (the loader's limit).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// How many bytes [`DocumentReader`] asks its input for at a time.
const READ_BYTES: usize = 64 * 1024;

/// Reads documents from `input` one at a time.
///
/// The input is read in blocks and split into lines in place. The checks are those of reading
/// it one "chunk" at a time (the input up to a `\n`: one line, or several when lone `\r`s break
/// it): before the first line of a chunk is used, the document with the chunk must fit in
/// [`MAX_DOCUMENT_BYTES`] and the chunk must be UTF-8, else the error names that chunk's line.
pub struct DocumentReader<R> {
    input: R,
    splitter: Splitter,
    /// The bytes read and not given out yet: the current document from `start` to `scan`, the
    /// lines not scanned yet from `scan` to `end`; beyond `end`, room for the next read.
    buf: Vec<u8>,
    start: usize,
    scan: usize,
    end: usize,
    /// Where the last chunk read in full ends: after the last `\n`, or at `end` after the input.
    complete: usize,
    /// The bytes before this offset are known to be UTF-8.
    valid: usize,
    /// Whether the line at `scan` starts a chunk that was not checked yet.
    chunk_start: bool,
    pending_line: usize,
    line_no: usize,
    index: usize,
    /// Whether the line at `scan` was already given to the splitter: it starts the next document.
    carry: bool,
    eof: bool,
}

impl<R: BufRead> DocumentReader<R> {
    pub fn new(input: R) -> Self {
        DocumentReader {
            input,
            splitter: Splitter::default(),
            buf: Vec::new(),
            start: 0,
            scan: 0,
            end: 0,
            complete: 0,
            valid: 0,
            chunk_start: true,
            pending_line: 1,
            line_no: 1,
            index: 0,
            carry: false,
            eof: false,
        }
    }

    fn emit(&mut self, next_line: usize) -> Result<Document, Failure> {
        // Every line given out is in a chunk that was checked, so this cannot fail.
        let text = String::from_utf8(self.buf[self.start..self.scan].to_vec()).map_err(|_| self.not_utf8())?;
        let doc = Document {
            text,
            index: self.index,
            line: self.pending_line,
        };
        self.start = self.scan;
        self.index += 1;
        self.pending_line = next_line;
        Ok(doc)
    }

    fn not_utf8(&self) -> Failure {
        Failure::invalid(vec![
            Diagnostic::error(
                code::YAML_SYNTAX,
                format!("line {} of the input is not valid UTF-8", self.line_no),
            )
            .help("Kubernetes manifests are UTF-8"),
        ])
    }

    fn too_large(&self) -> Failure {
        Failure::invalid(vec![
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
        ])
    }

    /// Reads the next block of the input after `end`, first moving the current document to the
    /// front of the buffer.
    fn read(&mut self) -> Result<(), Failure> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.scan -= self.start;
            self.end -= self.start;
            self.complete = self.complete.saturating_sub(self.start);
            self.valid = self.valid.saturating_sub(self.start);
            self.start = 0;
        }
        if self.buf.len() < self.end + READ_BYTES {
            self.buf.resize(self.end + READ_BYTES, 0);
        }
        let read = loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other.map_err(|e| Failure::io(format!("cannot read standard input: {e}")))?,
            }
        };
        if read == 0 {
            self.eof = true;
            self.complete = self.end;
        } else {
            if let Some(i) = memchr::memrchr(b'\n', &self.buf[self.end..self.end + read]) {
                self.complete = self.end + i + 1;
            }
            self.end += read;
        }
        Ok(())
    }

    /// The checks of the chunk at `scan` (read in full): its size, then its encoding.
    fn check_chunk(&mut self) -> Result<(), Failure> {
        let c = self.scan;
        // A document (and so a line) larger than what the loader accepts is refused before it
        // fills memory. Only a buffer that holds more than that can hold such a chunk.
        if self.end - self.start > MAX_DOCUMENT_BYTES {
            let chunk = memchr::memchr(b'\n', &self.buf[c..self.end]).map_or(self.end - c, |i| i + 1);
            if c - self.start + chunk > MAX_DOCUMENT_BYTES {
                return Err(self.too_large());
            }
        }
        if c >= self.valid {
            // Every chunk read in full at once; an error stops at the chunk it is in.
            match std::str::from_utf8(&self.buf[c..self.complete]) {
                Ok(_) => self.valid = self.complete,
                Err(err) => {
                    let bad = c + err.valid_up_to();
                    match memchr::memrchr(b'\n', &self.buf[c..bad]) {
                        Some(i) => self.valid = c + i + 1,
                        None => return Err(self.not_utf8()),
                    }
                }
            }
        }
        Ok(())
    }

    /// The next document, or `None` at the end of the input.
    pub fn next_document(&mut self) -> Result<Option<Document>, Failure> {
        loop {
            if self.chunk_start || self.scan >= self.end {
                if !self.eof && (self.scan >= self.complete || self.scan >= self.end) {
                    if self.end - self.start > MAX_DOCUMENT_BYTES {
                        return Err(self.too_large());
                    }
                    self.read()?;
                    continue;
                }
                if self.scan >= self.end {
                    return if self.start < self.scan {
                        self.emit(self.line_no).map(Some)
                    } else {
                        Ok(None)
                    };
                }
                if self.chunk_start {
                    self.check_chunk()?;
                    self.chunk_start = false;
                }
            }
            // The lines of the chunks read in full, found with one search over them. Each line
            // that starts a chunk not checked yet goes back to the checks above.
            let limit = if self.eof { self.end } else { self.complete };
            let buf = &self.buf[..limit];
            let offset = self.scan;
            let mut breaks = memchr::memchr2_iter(b'\n', b'\r', &buf[offset..]);
            let boundary = loop {
                let line_end = loop {
                    match breaks.next() {
                        // The `\n` of a `\r\n`, which ended the line already.
                        Some(i) if offset + i < self.scan => continue,
                        Some(i) if buf[offset + i] == b'\r' && buf.get(offset + i + 1) == Some(&b'\n') => {
                            break offset + i + 2;
                        }
                        Some(i) => break offset + i + 1,
                        None => break limit,
                    }
                };
                let line = &buf[self.scan..line_end];
                let boundary = if std::mem::take(&mut self.carry) {
                    Boundary::None
                } else {
                    self.splitter.line_bytes(line)
                };
                if boundary == Boundary::Before {
                    self.carry = true;
                    break boundary;
                }
                self.chunk_start = line.last() == Some(&b'\n');
                self.scan = line_end;
                self.line_no += 1;
                if boundary == Boundary::After || self.scan >= limit {
                    break boundary;
                }
                if self.chunk_start {
                    if self.scan >= self.valid || self.end - self.start > MAX_DOCUMENT_BYTES {
                        break boundary;
                    }
                    // `check_chunk` would find nothing: the chunk is in the part known to be UTF-8
                    // and the buffer is too small to hold a chunk too large.
                    self.chunk_start = false;
                }
            };
            if boundary != Boundary::None {
                return self.emit(self.line_no).map(Some);
            }
        }
    }
}

/// How much output [`Spool`] keeps in memory before it moves it to a temporary file.
pub const SPOOL_MEMORY_BYTES: usize = 64 * 1024 * 1024;

/// The output, held until it is complete: in memory up to a bound, then in a temporary file.
pub struct Spool {
    memory: Vec<u8>,
    file: Option<std::io::BufWriter<std::fs::File>>,
    limit: usize,
}

impl Spool {
    /// A spool that keeps up to [`SPOOL_MEMORY_BYTES`] in memory.
    pub fn new() -> Result<Spool, Failure> {
        Ok(Spool::with_memory_limit(SPOOL_MEMORY_BYTES))
    }

    /// A spool that moves its content to a temporary file once it exceeds `limit` bytes.
    pub fn with_memory_limit(limit: usize) -> Spool {
        Spool {
            memory: Vec::new(),
            file: None,
            limit,
        }
    }

    pub fn write(&mut self, text: &str) -> Result<(), Failure> {
        let io = |e: std::io::Error| Failure::io(format!("cannot write a temporary file: {e}"));
        if self.file.is_none() && self.memory.len() + text.len() > self.limit {
            let file = tempfile::tempfile().map_err(|e| Failure::io(format!("cannot create a temporary file: {e}")))?;
            let mut file = std::io::BufWriter::with_capacity(READ_BYTES, file);
            file.write_all(&self.memory).map_err(io)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        match &mut self.file {
            Some(file) => file.write_all(text.as_bytes()).map_err(io),
            None => {
                self.memory.extend_from_slice(text.as_bytes());
                Ok(())
            }
        }
    }

    /// Copies everything written to `out`. A closed pipe is not an error.
    pub fn copy_to(self, out: &mut impl Write) -> Result<(), Failure> {
        let io = |e: std::io::Error| Failure::io(format!("cannot write the output: {e}"));
        let written = match self.file {
            None => out.write_all(&self.memory),
            Some(file) => {
                let mut file = file
                    .into_inner()
                    .map_err(|e| Failure::io(format!("cannot write a temporary file: {}", e.error())))?;
                file.rewind().map_err(io)?;
                let mut buf = vec![0u8; READ_BYTES];
                loop {
                    let n = match file.read(&mut buf) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        other => other.map_err(io)?,
                    };
                    if n == 0 {
                        break Ok(());
                    }
                    if let Err(e) = out.write_all(&buf[..n]) {
                        break Err(e);
                    }
                }
            }
        };
        match written.and_then(|()| out.flush()) {
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

    /// An input that gives at most `step` bytes per read.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// The documents (text and first line) of `input` read `step` bytes at a time, or the
    /// messages of the error that stopped the reader.
    fn read_all(input: &[u8], step: usize) -> Vec<Result<(String, usize), Vec<String>>> {
        let mut reader = DocumentReader::new(std::io::BufReader::with_capacity(1, Trickle(input, step)));
        let mut out = Vec::new();
        loop {
            match reader.next_document() {
                Ok(Some(doc)) => out.push(Ok((doc.text, doc.line))),
                Ok(None) => return out,
                Err(failure) => {
                    out.push(Err(failure.diagnostics.into_iter().map(|d| d.message).collect()));
                    return out;
                }
            }
        }
    }

    #[test]
    fn the_documents_do_not_depend_on_how_the_input_is_read() {
        for text in [
            "",
            "a: 1\n",
            "# Source: x\n---\na: 1\n...\n---\nb: 2",
            "---\r\na: 1\r\n---\r\nb: 2\r\n",
            "a: 1\r---\rb: 2\r",
            "\u{feff}---\na: é\n---\n# only a comment\n---\n",
        ] {
            let split: Vec<_> = crate::yaml::stream::split_stream(text)
                .iter()
                .map(|d| Ok((d.text.to_string(), d.line)))
                .collect();
            for step in [1, 2, 3, 7, READ_BYTES] {
                assert_eq!(
                    read_all(text.as_bytes(), step),
                    split,
                    "{text:?} read {step} bytes at a time"
                );
            }
        }
    }

    #[test]
    fn invalid_utf8_stops_the_reader_at_its_line() {
        let input = b"a: 1\n---\nb: 2\nc: \xff\n---\nd: 4\n";
        for step in [1, 5, READ_BYTES] {
            assert_eq!(
                read_all(input, step),
                [
                    Ok(("a: 1\n".to_string(), 1)),
                    Err(vec!["line 4 of the input is not valid UTF-8".to_string()])
                ]
            );
        }
        // A line broken by a lone `\r` is checked with the rest up to the `\n`, as one read; the
        // `---` that would end the first document is never seen.
        assert_eq!(
            read_all(b"a: 1\n---\rb: \xff\n", 3),
            [Err(vec!["line 2 of the input is not valid UTF-8".to_string()])]
        );
    }

    #[test]
    fn a_document_larger_than_the_limit_is_refused_before_it_is_read_whole() {
        let mut input = b"a: 1\n---\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_DOCUMENT_BYTES + 10));
        let mut reader = DocumentReader::new(&input[..]);
        assert_eq!(reader.next_document().unwrap().unwrap().text, "a: 1\n");
        let failure = reader.next_document().err().unwrap();
        assert_eq!(
            failure.diagnostics[0].message,
            "document 2 (from line 2) is larger than 64 MiB"
        );
        assert!(reader.buf.len() <= MAX_DOCUMENT_BYTES + 2 * READ_BYTES);
    }

    #[test]
    fn the_spool_moves_to_a_file_beyond_its_memory_bound() {
        let mut spool = Spool::with_memory_limit(16);
        let pieces = ["0123456789", "abcdefghij", "klmnopqrst", ""];
        for piece in pieces {
            spool.write(piece).unwrap();
        }
        assert!(spool.file.is_some() && spool.memory.is_empty());
        let mut out = Vec::new();
        spool.copy_to(&mut out).unwrap();
        assert_eq!(out, pieces.concat().as_bytes());
    }

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

    #[test]
    fn a_closed_pipe_is_not_an_error() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        for limit in [SPOOL_MEMORY_BYTES, 4] {
            let mut spool = Spool::with_memory_limit(limit);
            spool.write("kind: A\n").unwrap();
            assert!(spool.copy_to(&mut Closed).is_ok());
        }
    }
}
