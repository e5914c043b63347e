//! Output: one write on success, nothing on failure, no half-written files.

use std::io::{ErrorKind, Write};

use crate::Failure;

/// Writes `text` to standard output in one go. A closed pipe (`| head`) is not an error.
pub fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(Failure::io(format!("cannot write to standard output: {err}"))),
    }
}

/// Writes to standard error, ignoring failures (there is nowhere left to report them).
pub fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
