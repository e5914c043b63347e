//! gloo-istio: the Istio integration of the Gloo Edge gateway proxy, rendered offline.
//!
//! The flow runs one way: [`values`] loads the values files with positions and merges them as
//! Helm does, [`validate`] checks them, [`render`] turns the typed model into manifests through
//! the templates, and the CLI writes the result only when all of that succeeded.

// Diagnostics are the error type of loading and validation on purpose: they carry the source
// location the user needs. They are large, and errors are rare, so they are not boxed.
#![allow(clippy::result_large_err)]

pub mod analyze;
pub mod cli;
pub mod diag;
pub mod docs;
pub mod istio;
pub mod pipeline;
pub mod postrender;
pub mod render;
pub mod validate;
pub mod values;
pub mod yaml;

use diag::{Diagnostic, code};

/// What kind of failure stopped a command; it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The values are invalid (exit 1).
    Invalid,
    /// A file cannot be read or written (exit 2).
    Io,
    /// The command line is wrong (exit 2).
    Usage,
    /// gloo-istio produced something it cannot vouch for: a bug (exit 2).
    Internal,
}

/// Why a command could not produce its result, with every diagnostic found.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: FailureKind,
    pub diagnostics: Vec<Diagnostic>,
}

impl Failure {
    pub fn invalid(diagnostics: Vec<Diagnostic>) -> Failure {
        Failure {
            kind: FailureKind::Invalid,
            diagnostics,
        }
    }

    pub fn io(message: impl Into<String>) -> Failure {
        Failure {
            kind: FailureKind::Io,
            diagnostics: vec![Diagnostic::error(code::UNREADABLE, message)],
        }
    }

    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            kind: FailureKind::Usage,
            diagnostics: vec![Diagnostic::error(code::UNREADABLE, message)],
        }
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            FailureKind::Invalid => 1,
            FailureKind::Io | FailureKind::Usage | FailureKind::Internal => 2,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self.diagnostics.iter().map(Diagnostic::short).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for Failure {}
