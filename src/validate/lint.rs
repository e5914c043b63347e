//! `lint`: every finding of a set of values files, never only the first.

use std::path::PathBuf;

use crate::FailureKind;
use crate::diag::Diagnostic;
use crate::validate::rules::RuleOptions;
use crate::values::check_values;
use crate::values::layers::{LoadedValues, parse_set_args, read_layer};

/// One set of values linted together: files merged in order, then `--set`.
#[derive(Debug, Clone, Default)]
pub struct LintUnit {
    pub files: Vec<PathBuf>,
    pub set: Vec<String>,
}

/// The findings of one unit, and whether a file could not be read at all.
#[derive(Debug, Clone, Default)]
pub struct LintOutcome {
    pub findings: Vec<Diagnostic>,
    pub unreadable: bool,
}

/// Lints one unit: YAML errors of every file, then (when every file parsed) the schema and
/// every rule on the merged values.
pub fn lint(unit: &LintUnit, namespace: &str, gloo_version: &str, options: &RuleOptions) -> LintOutcome {
    let mut outcome = LintOutcome::default();
    let mut layers = Vec::new();
    for path in &unit.files {
        match read_layer(path) {
            Ok(layer) => layers.push(layer),
            Err(failure) => {
                outcome.unreadable |= failure.kind == FailureKind::Io;
                outcome.findings.extend(failure.diagnostics);
            }
        }
    }
    match parse_set_args(&unit.set) {
        Ok(Some(layer)) => layers.push(layer),
        Ok(None) => {}
        Err(diag) => outcome.findings.push(diag),
    }
    if !outcome.findings.is_empty() {
        return outcome;
    }
    let loaded = LoadedValues::new(layers, gloo_version);
    outcome.findings = check_values(&loaded, namespace, options).findings;
    outcome
}
