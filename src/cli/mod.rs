//! The command line: what the user typed (`clap`), resolved into library calls. The library
//! never sees the parser.

mod gitops;
mod interrupt;
mod lint;
mod output;
mod owned_dir;
mod shell;
mod stream;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diag::{Diagnostic, Level};
use crate::pipeline::{RenderOptions, render_files};
use crate::validate::rules::{IstioVersion, RuleOptions};
use crate::validate::schema::KeyPolicy;
use crate::values::layers::CHART_DEFAULT_VERSION;
use crate::values::set_flags::SetFlags;

/// Renders the Istio integration of the Gloo Edge gateway proxy offline: the gateway-proxy
/// Deployment with its sds and istio-proxy sidecars, its envoy bootstrap ConfigMap, and Gloo
/// Upstreams with Istio mTLS.
#[derive(Debug, Parser)]
#[command(name = "gloo-istio", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to colour diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the gateway-proxy workloads, their envoy ConfigMaps and the Upstreams.
    Render(RenderArgs),
    /// Helm post-renderer: read manifests on stdin, add the Istio integration the values ask for,
    /// pass every other document through unchanged.
    PostRender(stream::PostRenderArgs),
    /// `glooctl istio inject` offline: add the sds and istio-proxy sidecars to the gateway
    /// proxies of a manifest stream.
    Inject(stream::InjectArgs),
    /// `glooctl istio uninject` offline: the exact inverse of `inject`.
    Uninject(stream::UninjectArgs),
    /// `glooctl istio enable-mtls` offline: give an Upstream the Istio sslConfig.
    EnableMtls(stream::MtlsArgs),
    /// `glooctl istio disable-mtls` offline: remove an Upstream's Istio sslConfig.
    DisableMtls(stream::MtlsArgs),
    /// Check values files and report every finding (for pre-commit and CI).
    Lint(LintArgs),
    /// Tell, for each Upstream in the manifests, which transport Gloo will use, and flag the
    /// combinations with Istio peer authentication that fail.
    Analyze(AnalyzeArgs),
    /// Compare the render with committed snapshots (exit 3 on drift); `--update` rewrites them.
    Diff(gitops::DiffArgs),
    /// Print the JSON Schema (draft-07) of the values gloo-istio reads.
    Schema,
    /// Print the completion script of a shell (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of gloo-istio or of one command, or write them all.
    Man(shell::ManArgs),
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Manifest files (multi-document YAML); standard input when none is given or for `-`.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Istio's root namespace, where a PeerAuthentication without selector is mesh-wide
    /// [default: meshConfig.rootNamespace of the input, else istio-system].
    #[arg(long, value_name = "NS")]
    pub istio_root_namespace: Option<String>,
    /// The namespace of the Gloo install (its Settings are `default` there), and of resources
    /// that do not name one.
    #[arg(short, long, default_value = "gloo-system")]
    pub namespace: String,
    /// The revision istiod is installed as, when no IstioOperator or istiod values are in the
    /// input.
    #[arg(long, value_name = "REVISION")]
    pub istio_revision: Option<String>,
    /// The installed Istio version (e.g. 1.22), to check the gateway's proxyv2 image against.
    #[arg(long, value_name = "X.Y")]
    pub istio_version: Option<String>,
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The lowest level that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
}

/// How `lint` and `analyze` print their findings (docs/output-formats.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Each finding with its source line, a caret under the value and the help line, then a
    /// count.
    Human,
    /// One line per finding, `file:line:col: level[code]: message (at path)`, for editors and
    /// CI problem matchers.
    Short,
    /// One JSON array of findings.
    Json,
    /// A SARIF 2.1.0 log, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…,line=…,col=…::`).
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Values files to lint, each on its own (`-` for standard input), and the releases of the
    /// release file that they belong to, merged.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// `-f` files are linted together, merged in order as `render -f` merges them, with `--set`.
    #[command(flatten)]
    pub merged: ValuesArgs,
    /// The Istio version of the cluster's istiod (e.g. 1.22), to check the proxyv2 image against.
    #[arg(long, value_name = "X.Y")]
    pub istio_version: Option<IstioVersion>,
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The lowest level that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Do not report info findings (such as keys that are checked but not rendered).
    #[arg(short, long)]
    pub quiet: bool,
    /// The release file: which values files form one release, linted merged
    /// [default: .gloo-istio.yaml, when the current directory has one].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValuesArgs {
    /// A values file (`-` for standard input; URLs are refused); later files override earlier
    /// ones.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set a value as Helm's --set does (`a.b=c`, `list[0].x=y`, `l={a,b}`; integers, booleans
    /// and null typed). Value flags apply after the files: --set-json, then --set, --set-string,
    /// --set-file, --set-literal, each kind in the order given.
    #[arg(long, value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Set a value to a string, as Helm's --set-string does.
    #[arg(long, value_name = "PATH=VALUE")]
    pub set_string: Vec<String>,
    /// Set a value to the text of a file (`-` for standard input), as Helm's --set-file does.
    #[arg(long, value_name = "PATH=FILE")]
    pub set_file: Vec<String>,
    /// Set a value to JSON (`a.b=[1,2]`, or a whole object `{"a":1}`), as Helm's --set-json does.
    #[arg(long, value_name = "PATH=JSON")]
    pub set_json: Vec<String>,
    /// Set a value to the literal string after the first `=`, as Helm's --set-literal does.
    #[arg(long, value_name = "PATH=VALUE")]
    pub set_literal: Vec<String>,
    /// The release namespace [default: gloo-system; post-render: that of the gateway-proxy
    /// workloads in the stream].
    #[arg(short, long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// The Gloo version used for the default image tags.
    #[arg(long, value_name = "VERSION", default_value = CHART_DEFAULT_VERSION)]
    pub gloo_version: String,
    /// Accept unknown keys at PATH and under it (`a.b`, `*` for any one key), reporting them at
    /// info level: keys of an umbrella chart or read by your own templates. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub allow_unknown: Vec<String>,
}

/// The release namespace when `-n` is not given.
pub const DEFAULT_NAMESPACE: &str = "gloo-system";

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Write one file per resource into DIR (all files or none) instead of printing a stream,
    /// and remove the files it wrote earlier for resources no longer rendered; files it did not
    /// write stay.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Print (or write) only the resource KIND/NAME, e.g. `Deployment/gateway-proxy` (kind in
    /// any case). Repeatable; a selector that matches no rendered resource is an error.
    #[arg(long, value_name = "KIND/NAME")]
    pub show_only: Vec<String>,
    /// The lowest level of finding that makes render fail: exit 1, nothing printed or written
    /// (`warning` rejects contradictory settings such as GI017 and GI018).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Use the templates in DIR instead of the embedded ones.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Do not print info findings (such as keys that are not rendered).
    #[arg(short, long)]
    pub quiet: bool,
    /// Manifests (`-` for standard input) with Kubernetes Gateways, Gateway-level
    /// GatewayParameters and GatewayClasses: also print what the Gloo controller deploys for
    /// each Gateway of class `gloo-gateway`.
    #[arg(value_name = "MANIFEST")]
    pub manifests: Vec<PathBuf>,
    /// Set one of the Gloo controller's settings for the MANIFEST Gateways instead of the one the
    /// values imply: xds-host, xds-port, istio, gloo-mtls, aws-sts-cluster, aws-sts-uri, aws.
    #[arg(long, value_name = "KEY=VALUE")]
    pub controller: Vec<String>,
    /// Print only what the Gloo controller deploys for the MANIFEST Gateways, not the objects
    /// the chart renders (when helm renders those, as in the Argo CD plugin).
    #[arg(long, requires = "manifests")]
    pub deployed_only: bool,
}

impl ValuesArgs {
    /// The value flags.
    pub(crate) fn set_flags(&self) -> SetFlags {
        SetFlags {
            json: self.set_json.clone(),
            set: self.set.clone(),
            string: self.set_string.clone(),
            file: self.set_file.clone(),
            literal: self.set_literal.clone(),
        }
    }

    /// The namespace given with `-n`, else `gloo-system`.
    pub(crate) fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE)
    }

    pub(crate) fn options(&self) -> RenderOptions {
        RenderOptions {
            values_files: self.values.clone(),
            set: self.set_flags(),
            namespace: self.namespace().to_string(),
            gloo_version: self.gloo_version.clone(),
            templates: None,
            rules: RuleOptions {
                keys: self.key_policy(),
                ..Default::default()
            },
            manifests: Vec::new(),
            controller: Vec::new(),
            deployed_only: false,
        }
    }

    /// The unknown keys the user allows.
    pub(crate) fn key_policy(&self) -> KeyPolicy {
        KeyPolicy {
            allow_unknown: self.allow_unknown.clone(),
            strict_unrendered: false,
        }
    }
}

fn use_color(choice: Color) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
            std::io::stderr().is_terminal() && !set("NO_COLOR") && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// Prints findings to standard error: errors and warnings with their source line, infos on one
/// line each.
fn report(diagnostics: &[Diagnostic], color: bool, quiet: bool) {
    let mut text = String::new();
    let shown: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| !(quiet && d.level == Level::Info))
        .collect();
    for diag in shown.iter().take(MAX_SHOWN) {
        if diag.level == Level::Info {
            text.push_str(&diag.short());
        } else {
            text.push_str(&diag.render_human(color));
        }
        text.push('\n');
    }
    if shown.len() > MAX_SHOWN {
        text.push_str(&format!(
            "… and {} more findings (gloo-istio lint --format json lists them all)\n",
            shown.len() - MAX_SHOWN
        ));
    }
    output::write_stderr(&text);
}

/// At most this many findings are printed in the human form.
pub(crate) const MAX_SHOWN: usize = 200;

/// The exit code of a command whose only work is one write to standard output.
fn finish_write(written: Result<(), crate::Failure>, color: bool) -> ExitCode {
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            report(&failure.diagnostics, color, false);
            ExitCode::from(failure.exit_code())
        }
    }
}

impl FailOn {
    /// Whether a finding at `level` reaches this threshold.
    pub(crate) fn reached_by(self, level: Level) -> bool {
        let threshold = match self {
            FailOn::Error => Level::Error,
            FailOn::Warning => Level::Warning,
            FailOn::Info => Level::Info,
        };
        level >= threshold
    }
}

/// `render`: the findings on standard error, then the stream on standard output or the files in
/// `--output-dir`; nothing when a finding reaches `--fail-on`.
fn render(args: &RenderArgs, color: bool) -> ExitCode {
    let result: Result<ExitCode, crate::Failure> = (|| {
        let mut opts = args.values.options();
        opts.templates = args.templates.clone();
        opts.manifests = args.manifests.clone();
        opts.controller = args.controller.clone();
        opts.deployed_only = args.deployed_only;
        let mut rendered = render_files(&opts)?;
        report(&rendered.findings, color, args.quiet);
        let reached = rendered
            .findings
            .iter()
            .filter(|d| args.fail_on.reached_by(d.level))
            .count();
        if reached > 0 {
            output::write_stderr(&format!(
                "gloo-istio render: {reached} finding(s) at or above --fail-on {}: nothing rendered\n",
                args.fail_on
                    .to_possible_value()
                    .map(|v| v.get_name().to_string())
                    .unwrap_or_default()
            ));
            return Ok(ExitCode::from(1));
        }
        rendered.manifests = show_only(std::mem::take(&mut rendered.manifests), &args.show_only)?;
        match &args.output_dir {
            Some(dir) => write_output_dir(dir, &rendered.manifests, args.show_only.is_empty())?,
            None => output::write_stdout(&rendered.to_stream())?,
        }
        Ok(ExitCode::SUCCESS)
    })();
    match result {
        Ok(code) => code,
        Err(failure) => {
            report(&failure.diagnostics, color, false);
            ExitCode::from(failure.exit_code())
        }
    }
}

/// The manifests that `selectors` (`KIND/NAME`) pick, all when there is none. A selector that
/// is malformed or picks nothing is a usage error.
fn show_only(
    manifests: Vec<crate::render::Manifest>,
    selectors: &[String],
) -> Result<Vec<crate::render::Manifest>, crate::Failure> {
    if selectors.is_empty() {
        return Ok(manifests);
    }
    let usage = |message: String, help: &str| crate::Failure {
        kind: crate::FailureKind::Usage,
        diagnostics: vec![Diagnostic::error(crate::diag::code::SHOW_ONLY, message).help(help)],
    };
    let mut parsed = Vec::new();
    for selector in selectors {
        match selector.split_once('/') {
            Some((kind, name)) if !kind.is_empty() && !name.is_empty() && !name.contains('/') => {
                parsed.push((selector, kind, name))
            }
            _ => {
                return Err(usage(
                    format!("--show-only {selector}: write KIND/NAME"),
                    "e.g. --show-only Deployment/gateway-proxy",
                ));
            }
        }
    }
    let picks = |m: &crate::render::Manifest, kind: &str, name: &str| {
        m.kind.as_str().eq_ignore_ascii_case(kind) && m.name == name
    };
    if let Some((selector, _, _)) = parsed
        .iter()
        .find(|(_, kind, name)| !manifests.iter().any(|m| picks(m, kind, name)))
    {
        let rendered: Vec<String> = manifests
            .iter()
            .map(|m| format!("{}/{}", m.kind.as_str(), m.name))
            .collect();
        return Err(usage(
            format!("--show-only {selector}: no rendered resource has this kind and name"),
            &format!("the values render: {}", rendered.join(", ")),
        ));
    }
    Ok(manifests
        .into_iter()
        .filter(|m| parsed.iter().any(|(_, kind, name)| picks(m, kind, name)))
        .collect())
}

/// Writes one file per manifest into `dir`. With `prune`, the files gloo-istio wrote there
/// before for resources no longer rendered go (the ownership rule of [`owned_dir`]).
fn write_output_dir(
    dir: &std::path::Path,
    manifests: &[crate::render::Manifest],
    prune: bool,
) -> Result<(), crate::Failure> {
    let files: Vec<_> = manifests.iter().map(owned_dir::GeneratedFile::of).collect();
    let stale: Vec<String> = if prune {
        let contents = owned_dir::read(dir, &files)?;
        contents
            .owned
            .into_keys()
            .filter(|name| !files.iter().any(|f| f.name == *name))
            .collect()
    } else {
        Vec::new()
    };
    owned_dir::write(dir, &files, &stale)
}

/// Reports a panic as an internal error (GI099) instead of Rust's panic message.
pub fn report_panic(info: &std::panic::PanicHookInfo<'_>) {
    let what = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into());
    let place = info
        .location()
        .map(|l| format!(" ({}:{})", l.file(), l.line()))
        .unwrap_or_default();
    output::write_stderr(&format!(
        "error[{}]: gloo-istio stopped on an internal error: {what}{place}\n  help: this is a bug in gloo-istio; please report it with the input\n",
        crate::diag::code::INTERNAL
    ));
}

/// `analyze`: the manifests of every file (or standard input), checked together.
fn analyze(args: &AnalyzeArgs, color: bool) -> ExitCode {
    let files = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files.clone()
    };
    let mut sources = Vec::new();
    let mut unreadable = Vec::new();
    for path in &files {
        match crate::values::layers::read_source(path) {
            Ok(source) => sources.push(source),
            Err(failure) => unreadable.extend(failure.diagnostics),
        }
    }
    let options = crate::analyze::AnalyzeOptions {
        istio_root_namespace: args.istio_root_namespace.clone(),
        default_namespace: args.namespace.clone(),
        istio_revision: args.istio_revision.clone(),
        istio_version: args.istio_version.clone(),
    };
    let mut report = crate::analyze::report(&sources, &options);
    report.findings.splice(0..0, unreadable.iter().cloned());
    let what = format!("{} file(s)", files.len());
    lint::finish_analyze(&report, args.format, args.fail_on, !unreadable.is_empty(), &what, color)
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let color = use_color(cli.color);
    match cli.command {
        Command::Render(args) => render(&args, color),
        Command::Lint(args) => lint::run(&args, color),
        Command::PostRender(args) => stream::post_render(&args, color),
        Command::Inject(args) => stream::inject(&args, color),
        Command::Uninject(args) => stream::uninject(&args, color),
        Command::EnableMtls(args) => stream::mtls(&args, true, color),
        Command::DisableMtls(args) => stream::mtls(&args, false, color),
        Command::Analyze(args) => analyze(&args, color),
        Command::Diff(args) => gitops::run(&args, color),
        Command::Completions { shell } => finish_write(output::write_stdout(&shell::completions(shell)), color),
        Command::Man(args) => {
            let written = match &args.dir {
                Some(dir) => shell::write_pages(dir),
                None => shell::page_of(args.command.as_deref()).and_then(|page| output::write_stdout(&page)),
            };
            finish_write(written, color)
        }
        Command::Schema => {
            let schema = crate::validate::schema::values_schema(true);
            let text = serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n";
            finish_write(output::write_stdout(&text), color)
        }
    }
}
