//! `gloo-istio lint`: all files, all findings, then the exit code.

use std::process::ExitCode;

use super::{FailOn, Format, LintArgs, output};
use crate::diag::{Diagnostic, Level};
use crate::pipeline::{LintUnit, lint_all};
use crate::validate::rules::RuleOptions;

/// GitHub Actions escapes for workflow command data and properties.
fn github_escape(text: &str, property: bool) -> String {
    let mut out = text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

fn github_line(d: &Diagnostic) -> String {
    let command = match d.level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "notice",
    };
    let mut properties = vec![format!("title={}", github_escape(d.code, true))];
    if let Some(loc) = &d.location {
        properties.insert(0, format!("file={}", github_escape(&loc.source.name, true)));
        properties.insert(1, format!("line={}", loc.span.start.line));
        properties.insert(2, format!("col={}", loc.span.start.col));
    }
    let mut message = d.message.clone();
    if !d.path.is_empty() {
        message.push_str(&format!(" (at {})", d.path));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    format!(
        "::{command} {}::{}\n",
        properties.join(","),
        github_escape(&message, false)
    )
}

pub fn run(args: &LintArgs, color: bool) -> ExitCode {
    let mut units: Vec<LintUnit> = args
        .files
        .iter()
        .map(|f| LintUnit {
            files: vec![f.clone()],
            set: Vec::new(),
        })
        .collect();
    if !args.merged.values.is_empty() || !args.merged.set.is_empty() {
        units.push(LintUnit {
            files: args.merged.values.clone(),
            set: args.merged.set.clone(),
        });
    }
    if units.is_empty() {
        output::write_stderr(
            "gloo-istio lint: name at least one values file (FILE, -f FILE or - for standard input)\n",
        );
        return ExitCode::from(2);
    }
    let options = RuleOptions {
        istio_version: args.istio_version,
        keys: args.merged.key_policy(),
    };
    let mut findings = Vec::new();
    let mut unreadable = false;
    for outcome in lint_all(&units, &args.merged.namespace, &args.merged.gloo_version, &options) {
        unreadable |= outcome.unreadable;
        findings.extend(outcome.findings);
    }
    if args.quiet {
        findings.retain(|d| d.level != Level::Info);
    }

    let sets = format!("{} values set(s)", units.len());
    finish(&findings, args.format, args.fail_on, unreadable, &sets, color)
}

/// Prints findings in `format` on stdout and returns the exit code: 2 when an input could not be
/// read, 1 when a finding reaches `fail_on`, 0 otherwise.
pub fn finish(
    findings: &[Diagnostic],
    format: Format,
    fail_on: FailOn,
    unreadable: bool,
    what: &str,
    color: bool,
) -> ExitCode {
    let text = match format {
        Format::Json => {
            let array: Vec<serde_json::Value> = findings.iter().map(Diagnostic::to_json).collect();
            serde_json::to_string_pretty(&array).unwrap_or_default() + "\n"
        }
        Format::Github => findings.iter().map(github_line).collect(),
        Format::Human => {
            let mut text: String = findings
                .iter()
                .take(super::MAX_SHOWN)
                .map(|d| d.render_human(color) + "\n")
                .collect();
            if findings.len() > super::MAX_SHOWN {
                text.push_str(&format!(
                    "… and {} more findings (--format json lists them all)\n",
                    findings.len() - super::MAX_SHOWN
                ));
            }
            let count = |level| findings.iter().filter(|d| d.level == level).count();
            text.push_str(&format!(
                "{} error(s), {} warning(s), {} info(s) in {what}\n",
                count(Level::Error),
                count(Level::Warning),
                count(Level::Info),
            ));
            text
        }
    };
    if let Err(failure) = output::write_stdout(&text) {
        output::write_stderr(&format!("{failure}\n"));
        return ExitCode::from(2);
    }
    let threshold = match fail_on {
        FailOn::Error => Level::Error,
        FailOn::Warning => Level::Warning,
        FailOn::Info => Level::Info,
    };
    if unreadable {
        ExitCode::from(2)
    } else if findings.iter().any(|d| d.level >= threshold) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
