//! The output of a stream command, held until the whole input was handled.

use std::io::{Read, Seek, Write};

use super::reader::READ_BYTES;
use crate::Failure;

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

#[cfg(test)]
mod tests {
    use super::*;

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
