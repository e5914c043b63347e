//! Reading a manifest stream one document at a time, within bounds.

use std::io::BufRead;

use super::document::Document;
use crate::Failure;
use crate::diag::{Diagnostic, code};
use crate::yaml::stream::{Boundary, Splitter};

/// The largest document the stream commands read (the loader's limit).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// How many bytes [`DocumentReader`] asks its input for at a time.
pub(super) const READ_BYTES: usize = 64 * 1024;

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

#[cfg(test)]
mod tests {
    use std::io::Read;

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
}
