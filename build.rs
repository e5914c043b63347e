//! Build script: links the `gloo-istio` executable as a position-dependent (non-PIE) binary.
//!
//! A PIE makes the dynamic loader patch about 11,500 relocations into 225 KB of read-only data
//! at every start, one written page at a time; a non-PIE executable has them resolved at link
//! time. That is about a tenth of a `render` here (docs/performance.md, "What was changed").
//! The shared libraries, the heap and the stack keep their address randomisation. Set
//! `GLOO_ISTIO_PIE=1` at build time to link a PIE.
fn main() {
    println!("cargo:rerun-if-env-changed=GLOO_ISTIO_PIE");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux") && std::env::var_os("GLOO_ISTIO_PIE").is_none() {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
