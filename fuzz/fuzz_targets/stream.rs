//! The `stream` fuzz target: the oracle of `fuzz/oracles/stream.rs`, which
//! `tests/fuzz_regressions.rs` also runs on every regression input.
#![no_main]

#[path = "../oracles/stream.rs"]
mod oracle;

libfuzzer_sys::fuzz_target!(|data: &[u8]| oracle::check(data));
