//! `diff`: the render against committed snapshots, for GitOps pipelines.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use similar::TextDiff;

use super::owned_dir::{self, GeneratedFile};
use super::{ValuesArgs, output, report};
use crate::Failure;
use crate::pipeline::render_files;

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// The directory of committed snapshots (one file per resource, as `render --output-dir`
    /// writes them); it must exist unless `--update` is given. Only the files gloo-istio writes
    /// count; README.md, kustomization.yaml and the like stay.
    #[arg(long, value_name = "DIR")]
    pub snapshots: PathBuf,
    /// Rewrite the snapshots that drift, and remove those of resources no longer rendered
    /// (creating the directory if it is missing); exit 0.
    #[arg(long)]
    pub update: bool,
    /// Do not print info findings.
    #[arg(short, long)]
    pub quiet: bool,
    /// Manifests with Kubernetes Gateways, as for `render`: their proxies are compared too.
    #[arg(value_name = "MANIFEST")]
    pub manifests: Vec<PathBuf>,
    /// A Gloo controller setting for the MANIFEST Gateways, as for `render`.
    #[arg(long, value_name = "KEY=VALUE")]
    pub controller: Vec<String>,
}

fn colorize(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_string();
    }
    diff.lines()
        .map(|line| {
            let code = match line.as_bytes().first() {
                Some(b'+') if !line.starts_with("+++") => "32",
                Some(b'-') if !line.starts_with("---") => "31",
                Some(b'@') => "36",
                _ => return format!("{line}\n"),
            };
            format!("\x1b[{code}m{line}\x1b[0m\n")
        })
        .collect()
}

/// The exit code of `diff` when the snapshots drift from the render (helm-diff's and
/// terraform's `--detailed-exitcode` idea; 1 and 2 keep their meaning of invalid values and
/// I/O or usage errors).
pub const DRIFT_EXIT: u8 = 3;

pub fn run(args: &DiffArgs, color: bool) -> ExitCode {
    let result: Result<ExitCode, Failure> = (|| {
        if !args.update && !args.snapshots.is_dir() {
            let why = match args.snapshots.metadata() {
                Ok(_) => "it is not a directory",
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => "it does not exist",
                Err(_) => "it cannot be read",
            };
            let mut failure = Failure::io(format!("--snapshots {}: {why}", args.snapshots.display()));
            failure.diagnostics[0].help = Some(
                "create the snapshots with `gloo-istio diff --update --snapshots DIR …` (or render --output-dir DIR) and commit them".into(),
            );
            return Err(failure);
        }
        let mut opts = args.values.options();
        opts.manifests = args.manifests.clone();
        opts.controller = args.controller.clone();
        let rendered = render_files(&opts)?;
        report(&rendered.findings, color, args.quiet);
        let files: Vec<GeneratedFile> = rendered.manifests.iter().map(GeneratedFile::of).collect();
        let committed = owned_dir::read(&args.snapshots, &files)?;
        let snapshot = |name: &str| format!("{}/{name}", args.snapshots.display());
        let mut drift = String::new();
        let mut changed = Vec::new();
        for file in &files {
            let old = committed.owned.get(&file.name).map(String::as_str).unwrap_or("");
            if old != file.text {
                let diff = TextDiff::from_lines(old, file.text.as_str())
                    .unified_diff()
                    .header(&snapshot(&file.name), &format!("rendered/{}", file.name))
                    .to_string();
                drift.push_str(&diff);
                changed.push(file.clone());
            }
        }
        let mut stale = Vec::new();
        for (name, old) in &committed.owned {
            if !files.iter().any(|f| f.name == *name) {
                let diff = TextDiff::from_lines(old.as_str(), "")
                    .unified_diff()
                    .header(&snapshot(name), "/dev/null")
                    .to_string();
                drift.push_str(&diff);
                stale.push(name.clone());
            }
        }
        if !args.quiet {
            for name in &committed.foreign {
                output::write_stderr(&format!(
                    "note: {} has the name of a snapshot but not gloo-istio's header, so it is not one: left alone\n",
                    snapshot(name)
                ));
            }
        }
        if args.update {
            if !drift.is_empty() {
                owned_dir::write(&args.snapshots, &changed, &stale)?;
                output::write_stderr(&format!("updated {}\n", args.snapshots.display()));
            }
            return Ok(ExitCode::SUCCESS);
        }
        if drift.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        output::write_stdout(&colorize(&drift, color))?;
        Ok(ExitCode::from(DRIFT_EXIT))
    })();
    match result {
        Ok(code) => code,
        Err(failure) => {
            report(&failure.diagnostics, color, false);
            ExitCode::from(failure.exit_code())
        }
    }
}
