//! `lint`: every finding of a set of values files, never only the first.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// The stack of each lint thread: what the main thread usually has, as the checks recurse into
/// values up to the loader's depth limit.
const THREAD_STACK_BYTES: usize = 8 * 1024 * 1024;

/// Lints every unit, on the available cores, and returns the outcomes in the order of `units`.
///
/// The units that read standard input (`-`) run first, in order, on this thread. The others are
/// taken one at a time by this thread and helper threads; a panic in any of them is re-raised
/// here once all have stopped.
pub fn lint_all(units: &[LintUnit], namespace: &str, gloo_version: &str, options: &RuleOptions) -> Vec<LintOutcome> {
    let mut outcomes: Vec<Option<LintOutcome>> = vec![None; units.len()];
    for (i, unit) in units.iter().enumerate() {
        if unit.files.iter().any(|f| f.as_os_str() == "-") {
            outcomes[i] = Some(lint(unit, namespace, gloo_version, options));
        }
    }
    let rest: Vec<usize> = (0..units.len()).filter(|&i| outcomes[i].is_none()).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        while let Some(&i) = rest.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push((i, lint(&units[i], namespace, gloo_version, options)));
        }
        done
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(rest.len());
    std::thread::scope(|scope| {
        // Helpers that cannot be started leave their share to the others.
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .stack_size(THREAD_STACK_BYTES)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut finished = vec![Ok(work())];
        finished.extend(helpers.into_iter().map(|helper| helper.join()));
        for result in finished {
            match result {
                Ok(done) => done.into_iter().for_each(|(i, outcome)| outcomes[i] = Some(outcome)),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    outcomes.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lint_all_gives_the_outcomes_of_lint_in_the_order_of_the_units() {
        let dir = tempfile::tempdir().unwrap();
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("values");
        let mut files: Vec<PathBuf> = std::fs::read_dir(examples)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for (i, text) in ["global:\n  istioSds: {}\n", "gatewayProxies: [1]\n", "a: [\n"]
            .iter()
            .enumerate()
        {
            let path = dir.path().join(format!("bad-{i}.yaml"));
            std::fs::write(&path, text).unwrap();
            files.push(path);
        }
        files.push(dir.path().join("missing.yaml"));
        // Enough units for every thread.
        let units: Vec<LintUnit> = files
            .iter()
            .cycle()
            .take(67)
            .map(|f| LintUnit {
                files: vec![f.clone()],
                set: Vec::new(),
            })
            .collect();
        let options = RuleOptions::default();
        let version = crate::values::layers::CHART_DEFAULT_VERSION;
        let describe = |outcome: &LintOutcome| {
            let messages: Vec<String> = outcome
                .findings
                .iter()
                .map(|d| format!("{} {}", d.code, d.message))
                .collect();
            (outcome.unreadable, messages)
        };
        let expected: Vec<_> = units
            .iter()
            .map(|unit| describe(&lint(unit, "gloo-system", version, &options)))
            .collect();
        let parallel: Vec<_> = lint_all(&units, "gloo-system", version, &options)
            .iter()
            .map(describe)
            .collect();
        assert_eq!(parallel, expected);
        assert!(expected.iter().any(|(unreadable, _)| *unreadable));
        assert!(
            expected
                .iter()
                .any(|(_, messages)| messages.iter().any(|m| m.contains("istioSds")))
        );
    }
}
