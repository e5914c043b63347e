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
        let file = crate::diag::escape_controls(&loc.source.name);
        properties.insert(0, format!("file={}", github_escape(&file, true)));
        properties.insert(1, format!("line={}", loc.span.start.line));
        properties.insert(2, format!("col={}", loc.span.start.col));
    }
    // The same redacted, escaped texts as the human and JSON forms.
    let mut message = d.shown(&d.message);
    if !d.path.is_empty() {
        message.push_str(&format!(" (at {})", d.shown(&d.path)));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {}", d.shown(help)));
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
            set: Default::default(),
        })
        .collect();
    if !args.merged.values.is_empty() || !args.merged.set_flags().is_empty() {
        units.push(LintUnit {
            files: args.merged.values.clone(),
            set: args.merged.set_flags(),
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
    for outcome in lint_all(&units, args.merged.namespace(), &args.merged.gloo_version, &options) {
        unreadable |= outcome.unreadable;
        findings.extend(outcome.findings);
    }
    if args.quiet {
        findings.retain(|d| d.level != Level::Info);
    }

    let sets = format!("{} values set(s)", units.len());
    finish(&findings, args.format, args.fail_on, unreadable, &sets, color)
}

/// `analyze`'s output: in the human format one line per Upstream, then the findings (without
/// the per-Upstream GI030 lines the table already shows); in JSON the Upstream lines and the
/// findings; in the GitHub format the findings. The exit code is [`finish`]'s.
pub fn finish_analyze(
    report: &crate::analyze::Report,
    format: Format,
    fail_on: FailOn,
    unreadable: bool,
    what: &str,
    color: bool,
) -> ExitCode {
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&report.to_json()).unwrap_or_default() + "\n",
        Format::Github => report.findings.iter().map(github_line).collect(),
        Format::Human => {
            let mut text = String::new();
            if !report.upstreams.is_empty() {
                text.push_str("Upstreams:\n");
                for upstream in &report.upstreams {
                    text.push_str(&format!("  {}\n", upstream.line()));
                }
                text.push('\n');
            }
            let shown: Vec<Diagnostic> = report
                .findings
                .iter()
                .filter(|d| d.code != crate::diag::code::ANALYZE_TRANSPORT)
                .cloned()
                .collect();
            text.push_str(&human(&shown, &report.findings, what, color));
            text
        }
    };
    exit(&report.findings, &text, fail_on, unreadable)
}

/// The human form of `shown`, counted over `all`.
fn human(shown: &[Diagnostic], all: &[Diagnostic], what: &str, color: bool) -> String {
    let mut text: String = shown
        .iter()
        .take(super::MAX_SHOWN)
        .map(|d| d.render_human(color) + "\n")
        .collect();
    if shown.len() > super::MAX_SHOWN {
        text.push_str(&format!(
            "… and {} more findings (--format json lists them all)\n",
            shown.len() - super::MAX_SHOWN
        ));
    }
    let count = |level| all.iter().filter(|d| d.level == level).count();
    text.push_str(&format!(
        "{} error(s), {} warning(s), {} info(s) in {what}\n",
        count(Level::Error),
        count(Level::Warning),
        count(Level::Info),
    ));
    text
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
        Format::Human => human(findings, findings, what, color),
    };
    exit(findings, &text, fail_on, unreadable)
}

/// Writes `text` and returns the exit code for `findings`.
fn exit(findings: &[Diagnostic], text: &str, fail_on: FailOn, unreadable: bool) -> ExitCode {
    if let Err(failure) = output::write_stdout(text) {
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
