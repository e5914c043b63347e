//! Output: one write on success, nothing on failure, no half-written files.

use std::io::{ErrorKind, Write};
use std::path::Path;

use crate::Failure;
use crate::render::Manifest;

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

/// Writes every manifest into `dir` as its own file. All files are first written beside their
/// final names; only when every one of them is complete are they renamed into place, so a
/// failure leaves the directory as it was.
pub fn write_dir(dir: &Path, manifests: &[Manifest]) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| Failure::io(format!("cannot create {}: {e}", dir.display())))?;
    let mut staged = Vec::new();
    let result = (|| {
        for manifest in manifests {
            let mut builder = tempfile::Builder::new();
            builder.prefix(".gloo-istio-").suffix(".tmp");
            // Ordinary files (0666 less the umask), not private temporary ones.
            #[cfg(unix)]
            builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
            let mut file = builder
                .tempfile_in(dir)
                .map_err(|e| Failure::io(format!("cannot write in {}: {e}", dir.display())))?;
            file.write_all(manifest.text.as_bytes())
                .and_then(|()| file.as_file().sync_all())
                .map_err(|e| Failure::io(format!("cannot write in {}: {e}", dir.display())))?;
            staged.push((file, dir.join(manifest.file_name())));
        }
        Ok(())
    })();
    // On error the staged temporary files are removed when `staged` is dropped.
    result?;
    // Every target must be replaceable before the first one is: all files or none.
    for (_, target) in &staged {
        if target.symlink_metadata().is_ok_and(|m| !m.is_file()) {
            return Err(Failure::io(format!(
                "cannot write {}: something other than a file is in the way",
                target.display()
            )));
        }
    }
    for (file, target) in staged {
        file.persist(&target)
            .map_err(|e| Failure::io(format!("cannot write {}: {}", target.display(), e.error)))?;
    }
    Ok(())
}
