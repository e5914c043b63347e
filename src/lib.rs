//! gloo-istio: the Istio integration of the Gloo Edge gateway proxy, rendered offline.

pub mod render;
pub mod yaml;

/// Why a command could not produce its result. STUB: becomes the structured diagnostics type.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}
