//! Temporary files that an interrupt must not leave behind. While files are staged, SIGINT and
//! SIGTERM are taken by a thread that removes every pending file and then ends the process as
//! the signal's default action would (so the shell still sees "killed by SIGINT").
//!
//! Whoever creates a temporary file registers it under the [`pending`] lock in the same breath,
//! and renames files into place under it, so the signal thread never sees a file half
//! registered, and never removes one that already has its final name.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The temporary files to remove on an interrupt. Hold the guard while creating and
/// registering a file, and while renaming files into place.
pub fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// From now on, SIGINT and SIGTERM remove the pending files before they end the process.
/// Idempotent. Where the signals cannot be taken over, they keep their default action.
#[cfg(unix)]
pub fn watch() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    static WATCH: std::sync::Once = std::sync::Once::new();
    WATCH.call_once(|| {
        // The thread takes the signals over itself, so that they keep their default action
        // unless it runs; the caller waits until it has.
        let (ready, is_ready) = std::sync::mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new().name("interrupt".into()).spawn(move || {
            let signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]);
            let _ = ready.send(());
            let Some(signal) = signals.ok().and_then(|mut s| s.forever().next()) else {
                return;
            };
            let files = pending();
            for file in files.iter() {
                let _ = std::fs::remove_file(file);
            }
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            // Not reached: the default action of SIGINT and SIGTERM ends the process.
            std::process::exit(128 + signal);
        });
        if spawned.is_ok() {
            let _ = is_ready.recv();
        }
    });
}

#[cfg(not(unix))]
pub fn watch() {}
