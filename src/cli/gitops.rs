//! `diff`: the render against committed snapshots, for GitOps pipelines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use similar::TextDiff;

use super::{ValuesArgs, output, report};
use crate::Failure;
use crate::pipeline::render_files;
use crate::render::Manifest;

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// The directory of committed snapshots (one file per resource, as `render -o` writes them).
    #[arg(long, value_name = "DIR")]
    pub snapshots: PathBuf,
    /// Rewrite the snapshots to the current render (the whole directory at once).
    #[arg(long)]
    pub update: bool,
    /// Do not print info findings.
    #[arg(short, long)]
    pub quiet: bool,
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

/// The snapshot files in `dir`: name → text.
fn read_snapshots(dir: &Path) -> Result<BTreeMap<String, String>, Failure> {
    let mut files = BTreeMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(Failure::io(format!("cannot read {}: {e}", dir.display()))),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Failure::io(format!("cannot read {}: {e}", dir.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".yaml") || name.starts_with('.') {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())
            .map_err(|e| Failure::io(format!("cannot read {}: {e}", entry.path().display())))?;
        files.insert(name, text);
    }
    Ok(files)
}

/// Replaces `dir` with exactly `manifests`: written into a new directory beside it, which then
/// takes its place; on any failure the old directory is left as it was.
fn replace_dir(dir: &Path, manifests: &[Manifest]) -> Result<(), Failure> {
    let io = |what: &str, e: std::io::Error| Failure::io(format!("{what} {}: {e}", dir.display()));
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| io("cannot create the parent of", e))?;
    let staging = tempfile::Builder::new()
        .prefix(".gloo-istio-snapshots-")
        .tempdir_in(parent)
        .map_err(|e| io("cannot write beside", e))?;
    output::write_dir(staging.path(), manifests)?;
    let old = parent.join(format!(".gloo-istio-old-{}", std::process::id()));
    let had_old = dir.exists();
    if had_old {
        std::fs::rename(dir, &old).map_err(|e| io("cannot move aside", e))?;
    }
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, dir) {
        if had_old {
            let _ = std::fs::rename(&old, dir);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(io("cannot replace", e));
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}

pub fn run(args: &DiffArgs, color: bool) -> ExitCode {
    let result: Result<ExitCode, Failure> = (|| {
        let rendered = render_files(&args.values.options())?;
        report(&rendered.findings, color, args.quiet);
        let committed = read_snapshots(&args.snapshots)?;
        let mut drift = String::new();
        let mut rendered_names = Vec::new();
        for manifest in &rendered.manifests {
            let name = manifest.file_name();
            let old = committed.get(&name).map(String::as_str).unwrap_or("");
            if old != manifest.text {
                let diff = TextDiff::from_lines(old, manifest.text.as_str())
                    .unified_diff()
                    .header(
                        &format!("{}/{name}", args.snapshots.display()),
                        &format!("rendered/{name}"),
                    )
                    .to_string();
                drift.push_str(&diff);
            }
            rendered_names.push(name);
        }
        for (name, old) in &committed {
            if !rendered_names.contains(name) {
                let diff = TextDiff::from_lines(old.as_str(), "")
                    .unified_diff()
                    .header(&format!("{}/{name}", args.snapshots.display()), "/dev/null")
                    .to_string();
                drift.push_str(&diff);
            }
        }
        if args.update {
            if !drift.is_empty() {
                replace_dir(&args.snapshots, &rendered.manifests)?;
                output::write_stderr(&format!("updated {}\n", args.snapshots.display()));
            }
            return Ok(ExitCode::SUCCESS);
        }
        if drift.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        output::write_stdout(&colorize(&drift, color))?;
        Ok(ExitCode::from(1))
    })();
    match result {
        Ok(code) => code,
        Err(failure) => {
            report(&failure.diagnostics, color, false);
            ExitCode::from(failure.exit_code())
        }
    }
}
