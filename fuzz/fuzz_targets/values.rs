//! The `values` fuzz target: the oracle of `fuzz/oracles/values.rs`, which
//! `tests/fuzz_regressions.rs` also runs on every regression input.
#![no_main]

#[path = "../oracles/values.rs"]
mod oracle;

libfuzzer_sys::fuzz_target!(|data: &[u8]| oracle::check(data));
