//! `gloo-istio lint`: all files, all findings, then the exit code.

use std::process::ExitCode;

mod releases;

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
    if let (None, Some(file)) = (&d.location, &d.file) {
        let file = crate::diag::escape_controls(file);
        properties.insert(0, format!("file={}", github_escape(&file, true)));
    }
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
    let releases = match releases::load(args.config.as_deref()) {
        Ok(releases) => releases,
        Err(findings) => return finish(&findings, args.format, args.fail_on, true, "the configuration", color),
    };
    // Each file alone; a file of a declared release only against the schema, as its rules run
    // on the release merged.
    // The release file named as a FILE (pre-commit passes it when it changes) stands for every
    // release it declares.
    let every_release = args.files.is_empty()
        || args
            .files
            .iter()
            .any(|f| releases::is_config(f, args.config.as_deref()));
    let mut alone = Vec::new();
    let mut in_release = Vec::new();
    for file in args
        .files
        .iter()
        .filter(|f| !releases::is_config(f, args.config.as_deref()))
    {
        let unit = LintUnit {
            files: vec![file.clone()],
            set: Default::default(),
        };
        if releases.iter().any(|r| r.contains(file)) {
            in_release.push(unit);
        } else {
            alone.push(unit);
        }
    }
    // The releases a named file belongs to; every release when no file is named.
    let mut merged: Vec<LintUnit> = releases
        .iter()
        .filter(|r| every_release || args.files.iter().any(|f| r.contains(f)))
        .map(|r| LintUnit {
            files: r.files.clone(),
            set: Default::default(),
        })
        .collect();
    if !args.merged.values.is_empty() || !args.merged.set_flags().is_empty() {
        merged.push(LintUnit {
            files: args.merged.values.clone(),
            set: args.merged.set_flags(),
        });
    }
    let units = alone.len() + in_release.len() + merged.len();
    if units == 0 {
        output::write_stderr(
            "gloo-istio lint: name at least one values file (FILE, -f FILE or - for standard input), or declare releases in .gloo-istio.yaml\n",
        );
        return ExitCode::from(2);
    }
    let options = RuleOptions {
        istio_version: args.istio_version,
        keys: args.merged.key_policy(),
        schema_only: false,
    };
    let schema_only = RuleOptions {
        schema_only: true,
        ..options.clone()
    };
    let (namespace, version) = (args.merged.namespace(), &args.merged.gloo_version);
    let mut outcomes = lint_all(&alone, namespace, version, &options);
    outcomes.extend(lint_all(&in_release, namespace, version, &schema_only));
    outcomes.extend(lint_all(&merged, namespace, version, &options));
    let mut findings: Vec<Diagnostic> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut unreadable = false;
    for outcome in outcomes {
        unreadable |= outcome.unreadable;
        for finding in outcome.findings {
            // A file linted alone and in its release reports its own findings once.
            if seen.insert(identity(&finding)) {
                findings.push(finding);
            }
        }
    }
    if args.quiet {
        findings.retain(|d| d.level != Level::Info);
    }

    let sets = format!("{units} values set(s)");
    finish(&findings, args.format, args.fail_on, unreadable, &sets, color)
}

/// What makes two findings the same: code, level, message and place.
fn identity(d: &Diagnostic) -> (&'static str, Level, String, Option<String>, Option<usize>) {
    (
        d.code,
        d.level,
        d.message.clone(),
        d.file_name().map(str::to_string),
        d.location.as_ref().map(|l| l.span.start.offset),
    )
}

/// `analyze`'s output: in the human format one line per Upstream, then the findings (without
/// the per-Upstream GI030 lines the table already shows); in JSON the Upstream lines and the
/// findings; in the other formats the findings. The exit code is [`finish`]'s.
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
        Format::Github | Format::Short | Format::Sarif => findings_text(&report.findings, format),
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
        Format::Human => human(findings, findings, what, color),
        _ => findings_text(findings, format),
    };
    exit(findings, &text, fail_on, unreadable)
}

/// The findings in a machine-read format: JSON, SARIF, short lines or GitHub commands.
fn findings_text(findings: &[Diagnostic], format: Format) -> String {
    match format {
        Format::Json => {
            let array: Vec<serde_json::Value> = findings.iter().map(Diagnostic::to_json).collect();
            serde_json::to_string_pretty(&array).unwrap_or_default() + "\n"
        }
        Format::Sarif => serde_json::to_string_pretty(&crate::diag::sarif::log(findings)).unwrap_or_default() + "\n",
        Format::Github => findings.iter().map(github_line).collect(),
        Format::Short | Format::Human => findings.iter().map(|d| d.short() + "\n").collect(),
    }
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
