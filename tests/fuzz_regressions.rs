//! The fuzz targets' regression inputs (`tests/hostile/fuzz/<target>/`: each the raw input of a
//! crash found by fuzzing), replayed through the targets' own oracles on every test run.
//! `scripts/fuzz.sh` runs the same oracles under libFuzzer for longer.

use std::path::{Path, PathBuf};

#[path = "../fuzz/oracles/postrender.rs"]
mod postrender;
#[path = "../fuzz/oracles/stream.rs"]
mod stream;
#[path = "../fuzz/oracles/values.rs"]
mod values;

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hostile/fuzz")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no regression inputs in {}", dir.display());
    files
}

/// Runs `check` on every input of `target`; a failing oracle names its input.
fn replay(target: &str, check: fn(&[u8])) {
    for path in inputs(target) {
        let data = std::fs::read(&path).unwrap();
        if let Err(panic) = std::panic::catch_unwind(|| check(&data)) {
            eprintln!("the {target} oracle failed on {}", path.display());
            std::panic::resume_unwind(panic);
        }
    }
}

#[test]
fn values_regressions() {
    replay("values", values::check);
}

#[test]
fn stream_regressions() {
    replay("stream", stream::check);
}

#[test]
fn postrender_regressions() {
    replay("postrender", postrender::check);
}
