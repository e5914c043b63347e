//! Shell completions and manual pages, generated from the command line's own definition
//! ([`super::Cli`]), so that they name every option the parser accepts.

use std::path::PathBuf;

use clap::{Args, CommandFactory};
use clap_mangen::roff::{Roff, bold, roman};

use super::Cli;
use crate::Failure;

/// The name users type, and of the pages (`gloo-istio-render(1)` …).
pub const BIN: &str = "gloo-istio";

/// `gloo-istio man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (`render`, `lint` …); the page of gloo-istio itself when
    /// none is given.
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub command: Option<String>,
    /// Write every page (`gloo-istio.1`, `gloo-istio-render.1` …) into DIR instead of printing
    /// one; DIR is created if needed.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The completion script for `shell`.
///
/// `clap_complete`'s bash script names each subcommand's state `gloo__istio__subcmd__render`
/// where it sets it but `gloo__subcmd__istio__subcmd__render` in the `case` that reads it (the
/// `-` of the binary's name is treated like the one of a subcommand's), so no option value is
/// ever completed. The labels are renamed to the state names.
pub fn completions(shell: clap_complete::Shell) -> String {
    let mut command = Cli::command();
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut text);
    let text = String::from_utf8_lossy(&text).into_owned();
    match shell {
        clap_complete::Shell::Bash => {
            let wrong = BIN.replace('-', "__subcmd__");
            let right = BIN.replace('-', "__");
            text.replace(&format!("{wrong}__subcmd__"), &format!("{right}__subcmd__"))
                .replace(&format!("        {wrong})"), &format!("        {right})"))
        }
        _ => text,
    }
}

/// The command line as the pages describe it: built (so subcommands know their full names), and
/// without the `help` subcommand, which has no page.
fn built_command() -> clap::Command {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    command
}

/// The names of the commands that have a page of their own.
pub fn command_names() -> Vec<String> {
    built_command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .collect()
}

/// Every page as (file name, roff text): gloo-istio's, then one per command.
pub fn pages() -> Result<Vec<(String, String)>, Failure> {
    let root = built_command();
    let mut out = vec![(format!("{BIN}.1"), page(&root, None)?)];
    for sub in root.get_subcommands().filter(|c| !c.is_hide_set()) {
        out.push((format!("{BIN}-{}.1", sub.get_name()), page(sub, Some(sub.get_name()))?));
    }
    Ok(out)
}

/// The page of `command` (`None`: gloo-istio's own page).
pub fn page_of(command: Option<&str>) -> Result<String, Failure> {
    let root = built_command();
    match command {
        None => page(&root, None),
        Some(name) => match root.find_subcommand(name) {
            Some(sub) => page(sub, Some(name)),
            None => Err(Failure::usage(format!(
                "`{name}` is not a gloo-istio command; pages exist for: {}",
                command_names().join(", ")
            ))),
        },
    }
}

/// Writes every page into `dir`, each file atomically.
pub fn write_pages(dir: &std::path::Path) -> Result<(), Failure> {
    let pages = pages()?;
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::io(format!("cannot create the directory {}: {e}", dir.display())))?;
    for (name, text) in pages {
        let path = dir.join(&name);
        let mut file = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .tempfile_in(dir)
            .map_err(|e| Failure::io(format!("cannot write in {}: {e}", dir.display())))?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .map_err(|e| Failure::io(format!("cannot write {}: {e}", path.display())))?;
        file.persist(&path)
            .map_err(|e| Failure::io(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

/// One page: clap_mangen's sections, then EXIT STATUS, ENVIRONMENT, EXAMPLES and SEE ALSO.
fn page(command: &clap::Command, sub: Option<&str>) -> Result<String, Failure> {
    let man = clap_mangen::Man::new(command.clone()).source(format!("{BIN} {}", env!("CARGO_PKG_VERSION")));
    let mut out = Vec::new();
    let rendered = (|| -> std::io::Result<()> {
        man.render_title(&mut out)?;
        man.render_name_section(&mut out)?;
        man.render_synopsis_section(&mut out)?;
        man.render_description_section(&mut out)?;
        if command.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut out)?;
        }
        if command.get_subcommands().any(|c| !c.is_hide_set()) {
            man.render_subcommands_section(&mut out)?;
        }
        extra_sections(sub).to_writer(&mut out)?;
        if sub.is_none() {
            man.render_version_section(&mut out)?;
        }
        Ok(())
    })();
    rendered.map_err(|e| Failure::io(format!("cannot render the manual page: {e}")))?;
    Ok(ascii_roff(&String::from_utf8_lossy(&out)))
}

/// roff with every character outside ASCII written as a groff escape (`…` as `\[u2026]`): troff
/// reads its input as Latin-1 unless a preprocessor converts it.
fn ascii_roff(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out
}

/// What the exit codes of a command mean.
fn exit_status(sub: Option<&str>) -> Vec<(&'static str, &'static str)> {
    let io = (
        "2",
        "A file cannot be read or written, the command line is wrong, or an internal error (GI099).",
    );
    match sub {
        Some("lint" | "analyze") => vec![
            ("0", "No finding reaches --fail-on."),
            ("1", "A finding reaches --fail-on (default: error)."),
            io,
        ],
        Some("diff") => vec![
            ("0", "The snapshots match the render (or --update rewrote them)."),
            ("1", "The values are invalid; nothing is compared or written."),
            io,
            ("3", "The snapshots drift from the render (--update was not given)."),
        ],
        Some("schema" | "completions" | "man") => vec![("0", "Success."), io],
        Some(_) => vec![
            ("0", "Success; everything was written."),
            (
                "1",
                "Invalid values or input (the message locates it: file, line, column); nothing is written.",
            ),
            io,
        ],
        None => vec![
            ("0", "Success."),
            (
                "1",
                "Invalid values, or a finding that fails the command (see each command's page).",
            ),
            io,
            ("3", "diff: the snapshots drift from the render."),
        ],
    }
}

/// Environment variables a command reads.
fn environment(sub: Option<&str>) -> Vec<(&'static str, &'static str)> {
    let mut vars = vec![
        (
            "NO_COLOR",
            "When set to a non-empty value, diagnostics are not coloured (unless --color always).",
        ),
        (
            "TERM",
            "When dumb, diagnostics are not coloured (unless --color always). Colour is used only when standard error is a terminal.",
        ),
    ];
    if sub == Some("post-render") {
        vars.push((
            "TMPDIR",
            "Where the output is spooled until the whole stream has been edited.",
        ));
        vars.push((
            "GLOO_ISTIO_BIN, GLOO_ISTIO_LOG",
            "Read by the Helm 4 plugin (plugins/helm4/gloo-istio), not by gloo-istio: the binary to run, and a file that receives its messages (Helm 4 discards a plugin's standard error).",
        ));
    }
    vars
}

/// Examples of a command, as (what it does, command line).
fn examples(sub: Option<&str>) -> Vec<(&'static str, &'static str)> {
    match sub {
        None => vec![
            (
                "Render the Istio integration for a values file:",
                "gloo-istio render -f values.yaml",
            ),
            (
                "Use it as Helm 3's post-renderer:",
                "helm template gloo gloo/gloo -f values.yaml --post-renderer gloo-istio --post-renderer-args post-render --post-renderer-args -f=values.yaml",
            ),
            (
                "Install the manual pages:",
                "gloo-istio man --dir /usr/local/share/man/man1",
            ),
        ],
        Some("render") => vec![
            (
                "Print the manifests for two layered values files:",
                "gloo-istio render -f values.yaml -f values-prod.yaml",
            ),
            (
                "One file per resource:",
                "gloo-istio render -f values.yaml --output-dir manifests/",
            ),
            (
                "Switch the integration on without a file:",
                "gloo-istio render --set global.istioIntegration.enabled=true",
            ),
        ],
        Some("post-render") => vec![
            (
                "Helm 3:",
                "helm template gloo gloo/gloo -f values.yaml --post-renderer gloo-istio --post-renderer-args post-render --post-renderer-args -f=values.yaml",
            ),
            (
                "On a stream rendered before:",
                "gloo-istio post-render -f values.yaml < gloo.yaml > gloo-istio.yaml",
            ),
        ],
        Some("inject") => vec![(
            "Add the sidecars to a rendered stream:",
            "gloo-istio inject -f gloo.yaml > injected.yaml",
        )],
        Some("uninject") => vec![(
            "Remove them again, Upstreams included:",
            "gloo-istio uninject -f injected.yaml --include-upstreams",
        )],
        Some("enable-mtls") => vec![(
            "Give one Upstream Istio mTLS:",
            "gloo-istio enable-mtls -u bookinfo-productpage-9080 -f upstreams.yaml",
        )],
        Some("disable-mtls") => vec![(
            "Remove it:",
            "gloo-istio disable-mtls -u bookinfo-productpage-9080 -f upstreams.yaml",
        )],
        Some("lint") => vec![
            (
                "Each file on its own, for pre-commit:",
                "gloo-istio lint values.yaml values-prod.yaml",
            ),
            (
                "The two files merged as one release, findings as JSON:",
                "gloo-istio lint -f values.yaml -f values-prod.yaml --format json",
            ),
            (
                "Fail on warnings too, against the cluster's Istio:",
                "gloo-istio lint --fail-on warning --istio-version 1.22 values.yaml",
            ),
        ],
        Some("analyze") => vec![(
            "The transport of every Upstream of a release and its mesh:",
            "helm template gloo gloo/gloo -f values.yaml | cat - mesh.yaml | gloo-istio analyze",
        )],
        Some("diff") => vec![
            (
                "Check committed snapshots in CI:",
                "gloo-istio diff --snapshots manifests/ -f values.yaml",
            ),
            (
                "Rewrite them:",
                "gloo-istio diff --snapshots manifests/ -f values.yaml --update",
            ),
        ],
        Some("schema") => vec![(
            "The schema of a chart's values:",
            "gloo-istio schema > values.schema.json",
        )],
        Some("completions") => vec![
            (
                "Bash:",
                "gloo-istio completions bash > /etc/bash_completion.d/gloo-istio",
            ),
            ("Zsh:", "gloo-istio completions zsh > \"${fpath[1]}/_gloo-istio\""),
            (
                "Fish:",
                "gloo-istio completions fish > ~/.config/fish/completions/gloo-istio.fish",
            ),
        ],
        Some("man") => vec![
            ("The page of one command:", "gloo-istio man render | man -l -"),
            ("Every page:", "gloo-istio man --dir /usr/local/share/man/man1"),
        ],
        Some(_) => Vec::new(),
    }
}

/// The sections clap_mangen does not write.
fn extra_sections(sub: Option<&str>) -> Roff {
    let mut roff = Roff::default();
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in exit_status(sub) {
        roff.control("TP", []).text([bold(code)]).text([roman(meaning)]);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in environment(sub) {
        roff.control("TP", []).text([bold(name)]).text([roman(meaning)]);
    }
    let examples = examples(sub);
    if !examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        for (what, line) in examples {
            roff.control("PP", []).text([roman(what)]);
            roff.control("RS", ["4"])
                .control("nf", [])
                .text([roman(line)])
                .control("fi", [])
                .control("RE", []);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    let others: Vec<String> = match sub {
        None => command_names().iter().map(|n| format!("{BIN}-{n}(1)")).collect(),
        Some(_) => vec![format!("{BIN}(1)")],
    };
    roff.text([roman(format!("{}, helm(1)", others.join(", ")))]);
    roff
}
