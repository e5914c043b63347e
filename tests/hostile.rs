//! Hostile input and failure: nothing injected, nothing lost, nothing half-written.
//!
//! - [`corpus`]: every case of `tests/hostile/` (a `NAME.expect` beside its input `NAME.*`; the
//!   format is in `tests/hostile/README.md`), run against the real binary with a time bound and
//!   a memory cap. Adding a file adds a case.
//! - [`values_cannot_inject_through_any_string_field`]: a table of string fields × hostile
//!   payloads; each either fails with a located error, or renders to a tree that holds exactly
//!   the payload where a harmless value stood, and nothing else changed. Also through
//!   `post-render`.
//! - I/O faults that need more than a command line: read-only and full filesystems, a target
//!   that is a directory, a file-size limit.
//! - Negative controls: the judge and the tree comparison catch what they must.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gloo_istio::FailureKind;
use gloo_istio::diag::{Level, SourceFile};
use gloo_istio::pipeline::build_model;
use gloo_istio::pipeline::{RenderOptions, render_files};
use gloo_istio::postrender::{Operation, Spool};
use gloo_istio::validate::rules::RuleOptions;
use gloo_istio::values::layers::{CHART_DEFAULT_VERSION, Layer, LoadedValues};
use gloo_istio::yaml::{self, stream::split_stream};
use serde_json::Value;

use common::{to_yaml, yaml_quote};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_gloo-istio")
}

fn corpus_dir() -> PathBuf {
    common::manifest_dir().join("tests/hostile")
}

/// Virtual memory cap (KiB) of every corpus command, so that a command reading without bound
/// fails in a second instead of taking the machine's memory.
const MEMORY_CAP_KIB: u64 = 2 * 1024 * 1024;

/// Default time bound of one corpus step.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// The corpus: parsing `.expect` files
// ---------------------------------------------------------------------------------------------

/// What a step's standard output must be.
#[derive(Debug, Clone, PartialEq)]
enum StdoutRule {
    /// Not checked (still empty when the step is expected to fail, unless `any`).
    Unchecked,
    Empty,
    NonEmpty,
    /// Byte for byte the step's standard input.
    SameAsStdin,
    /// Byte for byte this file.
    File(String),
    /// Anything, even on failure.
    Any,
    /// The read end of the pipe is closed before the command starts.
    Closed,
}

/// What the command of a step is.
#[derive(Debug, Clone, PartialEq)]
enum Program {
    /// gloo-istio with these arguments.
    GlooIstio(Vec<String>),
    /// `sh -c SCRIPT`, with `$GLOO_ISTIO`, `$INPUT`, `$TMP`, `$REPO`, `$CASE` set.
    Script(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Step {
    program: Program,
    stdin: Option<String>,
    exit: Vec<i32>,
    stderr: Vec<String>,
    stderr_not: Vec<String>,
    stdout: StdoutRule,
    stdout_contains: Vec<String>,
    documents: Option<usize>,
    timeout: Duration,
}

impl Step {
    fn new(program: Program) -> Step {
        Step {
            program,
            stdin: None,
            exit: vec![0],
            stderr: Vec::new(),
            stderr_not: Vec::new(),
            stdout: StdoutRule::Unchecked,
            stdout_contains: Vec::new(),
            documents: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Case {
    name: String,
    dir: PathBuf,
    /// The input beside the `.expect` file, if any.
    input: Option<PathBuf>,
    /// `input: generate NAME ARG`: an input made at run time (too large or too deep to commit).
    generate: Option<(String, usize)>,
    steps: Vec<Step>,
}

/// Splits a command line on spaces; `'…'` and `"…"` group words (no escapes inside).
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unclosed quote in `{line}`"));
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

fn parse_expect(name: &str, dir: &Path, input: Option<PathBuf>, text: &str) -> Result<Case, String> {
    let mut case = Case {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        input,
        generate: None,
        steps: Vec::new(),
    };
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{name}.expect:{}", number + 1);
        let (key, value) = line
            .split_once(':')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| format!("{}: expected `key: value`, found `{line}`", at()))?;
        if key == "input" {
            let words = split_words(value)?;
            match words.as_slice() {
                [g, gen_name, arg] if g == "generate" => {
                    let arg = arg.parse().map_err(|_| format!("{}: `{arg}` is not a number", at()))?;
                    case.generate = Some((gen_name.clone(), arg));
                }
                _ => return Err(format!("{}: `input: generate NAME NUMBER` expected", at())),
            }
            continue;
        }
        if key == "run" || key == "script" {
            let program = if key == "run" {
                Program::GlooIstio(split_words(value)?)
            } else {
                Program::Script(value.to_string())
            };
            case.steps.push(Step::new(program));
            continue;
        }
        let step = case
            .steps
            .last_mut()
            .ok_or_else(|| format!("{}: `{key}` before any `run:` or `script:`", at()))?;
        match key {
            "stdin" => step.stdin = Some(value.to_string()),
            "exit" => {
                step.exit = value
                    .split(['|', ','])
                    .map(|c| c.trim().parse::<i32>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("{}: exit codes are numbers separated by `|`", at()))?;
            }
            "stderr" => step.stderr.push(value.to_string()),
            "stderr-not" => step.stderr_not.push(value.to_string()),
            "stdout-contains" => step.stdout_contains.push(value.to_string()),
            "stdout" => {
                step.stdout = match value {
                    "empty" => StdoutRule::Empty,
                    "nonempty" => StdoutRule::NonEmpty,
                    "stdin" => StdoutRule::SameAsStdin,
                    "any" => StdoutRule::Any,
                    "closed" => StdoutRule::Closed,
                    v if v.starts_with("file ") => StdoutRule::File(v["file ".len()..].trim().to_string()),
                    v => return Err(format!("{}: unknown stdout rule `{v}`", at())),
                }
            }
            "documents" => {
                step.documents = Some(value.parse().map_err(|_| format!("{}: documents: a number", at()))?);
            }
            "timeout" => {
                let secs: f64 = value.parse().map_err(|_| format!("{}: timeout: seconds", at()))?;
                step.timeout = Duration::from_secs_f64(secs);
            }
            other => return Err(format!("{}: unknown key `{other}`", at())),
        }
    }
    if case.steps.is_empty() {
        return Err(format!("{name}.expect: no `run:` or `script:` step"));
    }
    Ok(case)
}

/// Every case under `root`, sorted by name: each `NAME.expect` with its input `NAME.*` (or the
/// directory `NAME/`) beside it.
fn discover(root: &Path) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in &entries {
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if path.is_dir() {
                if !entries
                    .iter()
                    .any(|p| p.file_name().and_then(|n| n.to_str()) == Some(&format!("{file_name}.expect")))
                {
                    dirs.push(path.clone());
                }
                continue;
            }
            let Some(stem) = file_name.strip_suffix(".expect") else {
                continue;
            };
            let inputs: Vec<&PathBuf> = entries
                .iter()
                .filter(|p| {
                    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    n != file_name
                        && (n == stem
                            || n.strip_prefix(stem)
                                .is_some_and(|rest| rest.starts_with('.') && !rest[1..].contains('.')))
                })
                .collect();
            if inputs.len() > 1 {
                return Err(format!("{}: more than one input for {stem}: {inputs:?}", dir.display()));
            }
            let relative = path
                .strip_prefix(root)
                .unwrap_or(path)
                .with_extension("")
                .display()
                .to_string();
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            cases.push(parse_expect(
                &relative,
                &dir,
                inputs.first().map(|p| (*p).clone()),
                &text,
            )?);
        }
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

// ---------------------------------------------------------------------------------------------
// Generated inputs
// ---------------------------------------------------------------------------------------------

/// Writes the generated input `name` with argument `n` into `dir`; returns its path.
fn generate(dir: &Path, name: &str, n: usize) -> Result<PathBuf, String> {
    let text: String = match name {
        // `a: [[[ … ]]]`, n deep.
        "deep-flow-sequences" => format!("a: {}{}\n", "[".repeat(n), "]".repeat(n)),
        // `a: {a: {a: … 1}}`, n deep.
        "deep-flow-mappings" => format!("{}1{}\n", "{a: ".repeat(n), "}".repeat(n)),
        // `a:\n- - - … x`, n deep block sequences on one line.
        "deep-block-sequences" => format!("a:\n{}x\n", "- ".repeat(n)),
        // n nested block mappings, one a line, each indented one more space.
        "deep-block-mappings" => (0..n).map(|i| format!("{}k:\n", " ".repeat(i))).collect(),
        // A ConfigMap (not a gateway proxy's) with a block scalar of about n MiB.
        "big-document" => {
            let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  big: |\n");
            let line = format!("    {}\n", "x".repeat(75));
            text.push_str(&line.repeat(n * 1024 * 1024 / line.len()));
            text
        }
        // A gateway proxy's ConfigMap (so post-render parses it) with about n MiB of data.
        "big-gateway-configmap" => {
            let mut text = String::from(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gateway-proxy-envoy-config\n  \
                 namespace: gloo-system\n  labels:\n    gloo: gateway-proxy\n    gateway-proxy-id: gateway-proxy\n\
                 data:\n  big: |\n",
            );
            let line = format!("    {}\n", "y".repeat(75));
            text.push_str(&line.repeat(n * 1024 * 1024 / line.len()));
            text
        }
        // About n MiB of ConfigMaps (about 8 KiB each) that post-render passes through.
        "many-documents-mib" => {
            let data = format!("    {}\n", "z".repeat(75)).repeat(100);
            let count = n * 1024 * 1024 / (data.len() + 70) + 1;
            (0..count)
                .map(|i| {
                    format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: data-{i}\ndata:\n  z: |\n{data}")
                })
                .collect()
        }
        // n tiny documents.
        "tiny-documents" => (0..n).map(|i| format!("---\nkind: K{i}\n")).collect(),
        // An unknown key of n bytes in `global`.
        "long-key" => format!("global:\n  {}: 1\n", "k".repeat(n)),
        // n keys in `settings.kubeResourceOverride`, a map of any values that gloo-istio checks
        // but does not render.
        "many-settings-keys" => std::iter::once("settings:\n  kubeResourceOverride:\n".to_string())
            .chain((0..n).map(|i| format!("    k{i}: {i}\n")))
            .collect(),
        // n unknown keys in `global`, a section gloo-istio owns.
        "many-global-keys" => std::iter::once("global:\n".to_string())
            .chain((0..n).map(|i| format!("  k{i}: {i}\n")))
            .collect(),
        // A `--set` argument: a path n keys deep.
        "set-deep-path" => format!("a{}=1", ".a".repeat(n)),
        // A `--set` argument: a path n list indexes deep.
        "set-deep-index" => format!("a{}=1", "[0]".repeat(n)),
        // A `--set` argument: a value of n nested lists (`{{{…}}}`).
        "set-nested-lists" => format!("a={}{}", "{".repeat(n), "}".repeat(n)),
        // A values file whose mesh id is n KiB of hostile text.
        "long-mesh-id" => {
            let value = "a: b\n- c # d\t\"'\\{}[]".repeat(n * 1024 / 20 + 1);
            format!(
                "global:\n  istioIntegration:\n    enabled: true\ngatewayProxies:\n  gatewayProxy:\n    istioMetaMeshId: {}\n",
                yaml_quote(&value)
            )
        }
        // A values file: one anchored 1 MiB string in `extraEnvoyArgs`, aliased n times.
        "alias-byte-bomb" => format!(
            "gatewayProxies:\n  gatewayProxy:\n    extraEnvoyArgs: [&big {}{}]\n",
            "x".repeat(1024 * 1024),
            ", *big".repeat(n)
        ),
        // An Upstream (a document the stream commands parse) with the same bomb in its spec.
        "upstream-alias-byte-bomb" => format!(
            "apiVersion: gloo.solo.io/v1\nkind: Upstream\nmetadata: {{name: x, namespace: gloo-system}}\n\
             spec:\n  big: &big {}\n  copies: [{}]\n",
            "x".repeat(1024 * 1024),
            vec!["*big"; n].join(", ")
        ),
        other => return Err(format!("unknown generator `{other}`")),
    };
    let path = dir.join(format!("{name}-{n}.yaml"));
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

// ---------------------------------------------------------------------------------------------
// Running and judging
// ---------------------------------------------------------------------------------------------

/// What a step did.
#[derive(Debug, Clone, Default)]
struct Outcome {
    /// `None` when killed by a signal or by the time bound.
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    elapsed: Duration,
    timed_out: bool,
}

/// Judges one step's outcome; every problem found, empty when the step passed.
fn judge(step: &Step, outcome: &Outcome, stdin: Option<&[u8]>, expected_file: Option<&[u8]>) -> Vec<String> {
    let mut problems = Vec::new();
    let stderr = &outcome.stderr;
    for needle in [
        "panicked at",
        "RUST_BACKTRACE",
        "stack backtrace",
        "memory allocation of",
    ] {
        if stderr.contains(needle) {
            problems.push(format!("stderr has `{needle}` (a panic or an abort reached the user)"));
        }
    }
    // main() reports a panic as GI099 "stopped on an internal error"; no hostile input may cause
    // an internal error, unless a step names GI099 as expected.
    if stderr.contains("stopped on an internal error") {
        problems.push("a panic, reported as an internal error".into());
    } else if stderr.contains("GI099") && !step.stderr.iter().any(|n| n.contains("GI099")) {
        problems.push("an internal error (GI099)".into());
    }
    if outcome.timed_out {
        problems.push(format!("still running after {:?}: killed", step.timeout));
    } else if outcome.elapsed > step.timeout {
        problems.push(format!("took {:?}, more than {:?}", outcome.elapsed, step.timeout));
    }
    match outcome.code {
        None if !outcome.timed_out => problems.push("killed by a signal".into()),
        None => {}
        Some(code) if !step.exit.contains(&code) => {
            problems.push(format!("exit code {code}, expected {:?}", step.exit));
        }
        Some(_) => {}
    }
    for needle in &step.stderr {
        if !stderr.contains(needle.as_str()) {
            problems.push(format!("stderr does not contain `{needle}`"));
        }
    }
    for needle in &step.stderr_not {
        if stderr.contains(needle.as_str()) {
            problems.push(format!("stderr contains `{needle}`"));
        }
    }
    let out = &outcome.stdout;
    let failing = !step.exit.contains(&0);
    if failing && !out.is_empty() && !matches!(step.stdout, StdoutRule::Any | StdoutRule::Closed) {
        problems.push(format!("{} bytes on stdout although the step must fail", out.len()));
    }
    match &step.stdout {
        StdoutRule::Empty if !out.is_empty() => problems.push(format!("stdout is not empty ({} bytes)", out.len())),
        StdoutRule::NonEmpty if out.is_empty() => problems.push("stdout is empty".into()),
        StdoutRule::SameAsStdin => match stdin {
            Some(input) if input == out.as_slice() => {}
            Some(input) => problems.push(format!(
                "stdout differs from stdin ({} vs {} bytes), first at byte {}",
                out.len(),
                input.len(),
                input.iter().zip(out.iter()).take_while(|(a, b)| a == b).count()
            )),
            None => problems.push("`stdout: stdin` without a `stdin:`".into()),
        },
        StdoutRule::File(name) => match expected_file {
            Some(expected) if expected == out.as_slice() => {}
            Some(_) => problems.push(format!("stdout differs from {name}")),
            None => problems.push(format!("cannot read {name}")),
        },
        _ => {}
    }
    let text = String::from_utf8_lossy(out);
    for needle in &step.stdout_contains {
        if !text.contains(needle.as_str()) {
            problems.push(format!("stdout does not contain `{needle}`"));
        }
    }
    if let Some(expected) = step.documents {
        match std::str::from_utf8(out) {
            Ok(text) => {
                let docs: Vec<_> = split_stream(text).into_iter().filter(|d| d.has_content()).collect();
                if docs.len() != expected {
                    problems.push(format!("stdout has {} documents, expected {expected}", docs.len()));
                }
                for doc in docs {
                    if let Err(e) = doc.load(yaml::Limits::default()) {
                        problems.push(format!(
                            "stdout document at line {} does not parse: {}",
                            doc.line, e.message
                        ));
                        break;
                    }
                }
            }
            Err(_) => problems.push("stdout is not UTF-8".into()),
        }
    }
    problems
}

/// Replaces the placeholders of a case in `text`.
fn expand(text: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut out = text.to_string();
    for (key, value) in vars {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

/// Runs `cmd` with a time bound, collecting its output.
fn run_bounded(mut cmd: Command, stdout_closed: bool, timeout: Duration) -> Result<Outcome, String> {
    cmd.stderr(Stdio::piped());
    if stdout_closed {
        let (reader, writer) = std::io::pipe().map_err(|e| format!("pipe: {e}"))?;
        drop(reader);
        cmd.stdout(writer);
    } else {
        cmd.stdout(Stdio::piped());
    }
    // Its own process group, so that a timeout kills a script's children too (they hold the
    // pipes open).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    // Dropping the Command closes our copy of the pipe's write end.
    drop(cmd);
    let mut stdout_pipe = child.stdout.take();
    let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
    let stdout_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(pipe) = stdout_pipe.as_mut() {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut buf);
        buf
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("wait: {e}"))? {
            break status;
        }
        if start.elapsed() > timeout {
            timed_out = true;
            #[cfg(unix)]
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            break child.wait().map_err(|e| format!("wait: {e}"))?;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stdout = stdout_reader.join().expect("stdout reader");
    let stderr = String::from_utf8_lossy(&stderr_reader.join().expect("stderr reader")).into_owned();
    Ok(Outcome {
        code: if timed_out { None } else { status.code() },
        stdout,
        stderr,
        elapsed,
        timed_out,
    })
}

/// Runs every step of a case; the problems found, each prefixed with its step.
fn run_case(case: &Case, reference: Option<&Path>) -> Vec<String> {
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => return vec![format!("tempdir: {e}")],
    };
    let input = match (&case.generate, &case.input) {
        (Some((name, n)), _) => match generate(tmp.path(), name, *n) {
            Ok(path) => Some(path),
            Err(e) => return vec![e],
        },
        (None, input) => input.clone(),
    };
    let mut vars = BTreeMap::new();
    vars.insert("repo", common::manifest_dir().display().to_string());
    vars.insert("values", common::manifest_dir().join("values").display().to_string());
    vars.insert("case", case.dir.display().to_string());
    vars.insert("tmp", tmp.path().display().to_string());
    if let Some(input) = &input {
        vars.insert("input", input.display().to_string());
    }
    if let Some(reference) = reference {
        vars.insert("ref", reference.display().to_string());
    }
    let mut problems = Vec::new();
    for (index, step) in case.steps.iter().enumerate() {
        let label = match &step.program {
            Program::GlooIstio(args) => format!("step {} `gloo-istio {}`", index + 1, args.join(" ")),
            Program::Script(script) => format!("step {} `{script}`", index + 1),
        };
        let unresolved = |text: &str| {
            let expanded = expand(text, &vars);
            expanded.contains("{input}") || expanded.contains("{ref}")
        };
        let mut cmd = Command::new("sh");
        cmd.env("NO_COLOR", "1")
            .env_remove("RUST_BACKTRACE")
            .current_dir(tmp.path());
        let cap = format!("ulimit -v {MEMORY_CAP_KIB} 2>/dev/null; ");
        match &step.program {
            Program::GlooIstio(args) => {
                if args.iter().any(|a| unresolved(a)) {
                    problems.push(format!(
                        "{label}: uses {{input}} or {{ref}}, which this case does not have"
                    ));
                    continue;
                }
                cmd.arg("-c").arg(format!("{cap}exec \"$0\" \"$@\"")).arg(bin());
                cmd.args(args.iter().map(|a| expand(a, &vars)));
            }
            Program::Script(script) => {
                cmd.arg("-c").arg(format!("{cap}{script}"));
                cmd.env("GLOO_ISTIO", bin());
                for (key, value) in &vars {
                    cmd.env(key.to_ascii_uppercase(), value);
                }
            }
        }
        let stdin_bytes = match &step.stdin {
            Some(path) => {
                let path = expand(path, &vars);
                if unresolved(&path) {
                    problems.push(format!(
                        "{label}: stdin uses {{input}} or {{ref}}, which this case does not have"
                    ));
                    continue;
                }
                match std::fs::File::open(&path) {
                    Ok(file) => {
                        cmd.stdin(file);
                        // Endless devices are read by the command, not by the judge.
                        if path.starts_with("/dev/") {
                            None
                        } else {
                            std::fs::read(&path).ok()
                        }
                    }
                    Err(e) => {
                        problems.push(format!("{label}: cannot open stdin {path}: {e}"));
                        continue;
                    }
                }
            }
            None => {
                cmd.stdin(Stdio::null());
                None
            }
        };
        let expected_file = match &step.stdout {
            StdoutRule::File(name) => std::fs::read(expand(name, &vars)).ok(),
            _ => None,
        };
        let step = Step {
            stderr: step.stderr.iter().map(|n| expand(n, &vars)).collect(),
            stderr_not: step.stderr_not.iter().map(|n| expand(n, &vars)).collect(),
            stdout_contains: step.stdout_contains.iter().map(|n| expand(n, &vars)).collect(),
            ..step.clone()
        };
        match run_bounded(cmd, step.stdout == StdoutRule::Closed, step.timeout) {
            Ok(outcome) => {
                for problem in judge(&step, &outcome, stdin_bytes.as_deref(), expected_file.as_deref()) {
                    let tail: String = outcome
                        .stderr
                        .chars()
                        .rev()
                        .take(1500)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    problems.push(format!(
                        "{label}: {problem}\n      stderr (end): {}",
                        tail.trim_end().replace('\n', "\n      ")
                    ));
                }
            }
            Err(e) => problems.push(format!("{label}: {e}")),
        }
    }
    problems
}

fn needs_reference(case: &Case) -> bool {
    case.steps.iter().any(|s| {
        let in_program = match &s.program {
            Program::GlooIstio(args) => args.iter().any(|a| a.contains("{ref}")),
            Program::Script(script) => script.contains("$REF"),
        };
        in_program || s.stdin.as_deref().is_some_and(|p| p.contains("{ref}"))
    })
}

#[test]
fn corpus() {
    let cases = discover(&corpus_dir()).unwrap_or_else(|e| panic!("the corpus is malformed: {e}"));
    assert!(cases.len() >= 40, "only {} corpus cases found", cases.len());
    let reference = common::reference_dir();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let timings = Mutex::new(Vec::new());
    // Two workers: CI has two cores.
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    if reference.is_none() && needs_reference(case) {
                        continue;
                    }
                    let start = Instant::now();
                    let problems = run_case(case, reference.as_deref());
                    timings.lock().unwrap().push((start.elapsed(), case.name.clone()));
                    if !problems.is_empty() {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}:\n  - {}", case.name, problems.join("\n  - ")));
                    }
                }
            });
        }
    });
    let mut timings = timings.into_inner().unwrap();
    timings.sort();
    let slowest: Vec<String> = timings
        .iter()
        .rev()
        .take(5)
        .map(|(d, n)| format!("{n} {d:.1?}"))
        .collect();
    eprintln!("{} corpus cases; slowest: {}", timings.len(), slowest.join(", "));
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Negative controls of the corpus runner
// ---------------------------------------------------------------------------------------------

fn ok_outcome(stdout: &[u8]) -> Outcome {
    Outcome {
        code: Some(0),
        stdout: stdout.to_vec(),
        stderr: String::new(),
        elapsed: Duration::from_millis(5),
        timed_out: false,
    }
}

#[test]
fn the_judge_catches_every_kind_of_failure() {
    let mut step = Step::new(Program::GlooIstio(vec!["render".into()]));
    assert!(judge(&step, &ok_outcome(b"a: 1\n"), None, None).is_empty());

    let panicked = Outcome {
        stderr: "thread 'main' panicked at src/x.rs:1:1:\nboom".into(),
        ..ok_outcome(b"")
    };
    assert!(!judge(&step, &panicked, None, None).is_empty(), "a panic");
    let hooked = Outcome {
        code: Some(2),
        stderr: "error[GI099]: gloo-istio stopped on an internal error: boom (src/x.rs:1)".into(),
        ..ok_outcome(b"")
    };
    let mut may_fail = step.clone();
    may_fail.exit = vec![1, 2];
    assert!(
        !judge(&may_fail, &hooked, None, None).is_empty(),
        "a panic caught by the hook"
    );
    let internal_error = Outcome {
        code: Some(2),
        stderr: "error[GI099]: document 1: the edited document does not parse".into(),
        ..ok_outcome(b"")
    };
    assert!(
        !judge(&may_fail, &internal_error, None, None).is_empty(),
        "an internal error"
    );
    let aborted = Outcome {
        code: None,
        stderr: "memory allocation of 4294967296 bytes failed".into(),
        ..ok_outcome(b"")
    };
    assert_eq!(
        judge(&step, &aborted, None, None).len(),
        2,
        "an abort: the message and the signal"
    );
    let slow = Outcome {
        code: None,
        timed_out: true,
        elapsed: DEFAULT_TIMEOUT + Duration::from_secs(1),
        ..ok_outcome(b"")
    };
    assert!(!judge(&step, &slow, None, None).is_empty(), "a timeout");
    let late = Outcome {
        elapsed: DEFAULT_TIMEOUT + Duration::from_secs(1),
        ..ok_outcome(b"")
    };
    assert!(!judge(&step, &late, None, None).is_empty(), "over the bound");

    step.exit = vec![1];
    step.stderr = vec!["GI001".into()];
    let wrong_code = ok_outcome(b"");
    let problems = judge(&step, &wrong_code, None, None);
    assert_eq!(problems.len(), 2, "exit code and missing stderr text: {problems:?}");
    let half_output = Outcome {
        code: Some(1),
        stderr: "error[GI001]".into(),
        ..ok_outcome(b"apiVersion: v1\n")
    };
    assert_eq!(judge(&step, &half_output, None, None).len(), 1, "stdout on failure");
    step.stderr_not = vec!["GI040".into()];
    let forbidden = Outcome {
        code: Some(1),
        stderr: "error[GI001] error[GI040]".into(),
        ..ok_outcome(b"")
    };
    assert_eq!(judge(&step, &forbidden, None, None).len(), 1, "forbidden stderr text");

    let mut pass = Step::new(Program::GlooIstio(vec!["post-render".into()]));
    pass.stdout = StdoutRule::SameAsStdin;
    assert!(judge(&pass, &ok_outcome(b"a: 1\n"), Some(b"a: 1\n"), None).is_empty());
    assert!(
        !judge(&pass, &ok_outcome(b"a: 1"), Some(b"a: 1\n"), None).is_empty(),
        "one byte lost"
    );
    pass.stdout = StdoutRule::Unchecked;
    pass.documents = Some(2);
    assert!(judge(&pass, &ok_outcome(b"a: 1\n---\nb: 2\n"), None, None).is_empty());
    assert!(
        !judge(&pass, &ok_outcome(b"a: 1\n---\nb: [\n"), None, None).is_empty(),
        "a broken document"
    );
    assert!(
        !judge(&pass, &ok_outcome(b"a: 1\n"), None, None).is_empty(),
        "a lost document"
    );
}

#[test]
fn a_wrong_expectation_fails_for_real() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "global: {istioIntegration: {enabled: true}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.expect"),
        "run: render -f {input}\nexit: 0\nstdout: nonempty\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ok.expect"),
        "run: render -f {input}\nexit: 1\nstderr: GI001\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ok.yaml"),
        "global: {istioIntegration: {enabled: true}\n",
    )
    .unwrap();
    let cases = discover(dir.path()).unwrap();
    assert_eq!(cases.len(), 2);
    let bad = run_case(&cases[0], None);
    assert_eq!(bad.len(), 2, "exit code and empty stdout: {bad:?}");
    assert!(run_case(&cases[1], None).is_empty());
    // A step that outlives its bound is killed and reported.
    let mut slow = cases[1].clone();
    slow.steps = vec![Step {
        timeout: Duration::from_millis(300),
        ..Step::new(Program::Script("sleep 5".into()))
    }];
    let start = Instant::now();
    let problems = run_case(&slow, None);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "the runner did not kill the step"
    );
    assert!(problems.iter().any(|p| p.contains("killed")), "{problems:?}");
}

#[test]
fn the_expect_format_is_strict() {
    let dir = Path::new("/nonexistent");
    assert!(parse_expect("x", dir, None, "exit: 1\n").is_err(), "a key before run");
    assert!(
        parse_expect("x", dir, None, "run: render\nexpect: 1\n").is_err(),
        "an unknown key"
    );
    assert!(parse_expect("x", dir, None, "# nothing\n").is_err(), "no step");
    let case = parse_expect(
        "x",
        dir,
        None,
        "input: generate tiny-documents 3\nrun: render -n 'a b' --set \"x=1 2\"\nexit: 1|2\nstdout: stdin\n",
    )
    .unwrap();
    assert_eq!(case.generate, Some(("tiny-documents".into(), 3)));
    assert_eq!(
        case.steps[0].program,
        Program::GlooIstio(vec![
            "render".into(),
            "-n".into(),
            "a b".into(),
            "--set".into(),
            "x=1 2".into()
        ])
    );
    assert_eq!(case.steps[0].exit, [1, 2]);
}

// ---------------------------------------------------------------------------------------------
// Injection through values: fields × payloads
// ---------------------------------------------------------------------------------------------

/// A string field of the values that reaches the output.
struct Field {
    /// Its dotted path; `[n]` indexes a list.
    path: &'static str,
    /// How a payload becomes the value (addresses need a port to be valid).
    wrap: fn(&str) -> String,
    /// Fields of one group are set together, in one values file over the group's base.
    group: Group,
    /// Whether gloo-istio validates the field (and may reject a payload with a located error);
    /// the others are free text and must take every payload.
    validated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    /// The free-text fields of the default integration, set all at once.
    Proxy,
    /// A custom sidecar of `istioSDS.customSidecars`.
    CustomSidecar,
    /// Each validated field on its own.
    Alone,
}

fn as_is(p: &str) -> String {
    p.to_string()
}

fn with_port(p: &str) -> String {
    format!("{p}:15012")
}

fn fields() -> Vec<Field> {
    let field = |path, group, validated, wrap: fn(&str) -> String| Field {
        path,
        wrap,
        group,
        validated,
    };
    use Group::*;
    vec![
        field("gatewayProxies.gatewayProxy.istioMetaMeshId", Proxy, false, as_is),
        field("gatewayProxies.gatewayProxy.istioMetaClusterId", Proxy, false, as_is),
        field("global.glooMtls.istioProxy.logLevel", Proxy, false, as_is),
        field("global.glooMtls.sds.logLevel", Proxy, false, as_is),
        field("gatewayProxies.gatewayProxy.envoyLogLevel", Proxy, false, as_is),
        field("global.image.registry", Proxy, false, as_is),
        field(
            "gatewayProxies.gatewayProxy.podTemplate.image.repository",
            Proxy,
            false,
            as_is,
        ),
        field("global.glooMtls.istioProxy.image.tag", Proxy, false, as_is),
        field(
            "gatewayProxies.gatewayProxy.podTemplate.extraAnnotations.example\\.com/note",
            Proxy,
            false,
            as_is,
        ),
        field("gatewayProxies.gatewayProxy.extraEnvoyArgs[1]", Proxy, false, as_is),
        field("settings.writeNamespace", Proxy, false, as_is),
        field("k8s.clusterName", Proxy, false, as_is),
        field(
            "global.istioSDS.customSidecars[0].env[1].value",
            CustomSidecar,
            false,
            as_is,
        ),
        field(
            "gatewayProxies.gatewayProxy.istioDiscoveryAddress",
            Alone,
            true,
            with_port,
        ),
        field(
            "gatewayProxies.gatewayProxy.istioSpiffeCertProviderAddress",
            Alone,
            true,
            with_port,
        ),
        field("global.istioIntegration.istioSidecarRevTag", Alone, true, as_is),
        field("upstreams[0].name", Alone, true, as_is),
    ]
}

/// The values a field is set over.
fn base_values(field: &Field) -> Value {
    let mut base = serde_json::json!({"global": {"istioIntegration": {"enabled": true}}});
    match field.group {
        Group::Proxy => {
            base["gatewayProxies"] = serde_json::json!({"gatewayProxy": {"extraEnvoyArgs": ["--concurrency=2", "x"]}});
        }
        Group::CustomSidecar => {
            base = serde_json::json!({"global": {"istioSDS": {"enabled": true, "customSidecars": [{
                "name": "istio-proxy",
                "image": "docker.io/istio/proxyv2:1.22.6",
                "env": [{"name": "OUTPUT_CERTS", "value": "/etc/istio-certs"}, {"name": "CUSTOM", "value": "x"}],
                "volumeMounts": [{"name": "istio-certs", "mountPath": "/etc/istio-certs/"}],
            }]}}});
        }
        Group::Alone if field.path.contains("RevTag") => {
            base = serde_json::json!({"global": {"istioIntegration": {"enableIstioSidecarOnGateway": true}}});
        }
        Group::Alone if field.path.starts_with("upstreams") => {
            base["upstreams"] = serde_json::json!([{"service": "reviews", "namespace": "bookinfo", "port": 9080}]);
        }
        Group::Alone => {}
    }
    base
}

/// Sets `value` at the dotted `path` (`\.` is a literal dot, `[n]` a list index).
fn set_path(root: &mut Value, path: &str, value: Value) {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            '.' => segments.push(std::mem::take(&mut current)),
            '[' => {
                segments.push(std::mem::take(&mut current));
                let index: String = chars.by_ref().take_while(|c| *c != ']').collect();
                segments.push(format!("[{index}]"));
                if chars.peek() == Some(&'.') {
                    chars.next();
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    let mut node = root;
    for segment in segments.iter().filter(|s| !s.is_empty()) {
        node = match segment.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            Some(index) => {
                let index: usize = index.parse().unwrap();
                let items = node.as_array_mut().expect("a list in the base values");
                while items.len() <= index {
                    items.push(Value::Null);
                }
                &mut items[index]
            }
            None => {
                if !node.is_object() {
                    *node = Value::Object(Default::default());
                }
                node.as_object_mut()
                    .unwrap()
                    .entry(segment.clone())
                    .or_insert(Value::Null)
            }
        };
    }
    *node = value;
}

/// The values text with `payload` in every field of `fields`.
fn values_with(fields: &[&Field], payload: &str) -> String {
    let mut values = base_values(fields[0]);
    for field in fields {
        set_path(&mut values, field.path, Value::String((field.wrap)(payload)));
    }
    to_yaml(&values) + "\n"
}

/// The hostile strings: YAML syntax, control characters, line separators, look-alikes of other
/// types, template syntax, and one very long string.
fn payloads() -> Vec<String> {
    let mut p: Vec<String> = [
        "a\nb: c",
        "x: y\n---\nkind: Secret\nmetadata:\n  name: s\n",
        "\n",
        "a: b",
        ": ",
        "key: value # comment",
        "# not a comment",
        "a #b",
        "---",
        "...",
        "--- !!str",
        "{",
        "}",
        "{a: b, c: [d]}",
        "[",
        "]",
        "\"",
        "'",
        "''",
        "\\",
        "\\n",
        "\\\"",
        "*alias",
        "&anchor x",
        "!tag",
        "!!binary aGk=",
        "%YAML 1.2",
        "@at",
        "`cmd`",
        "|",
        ">-",
        "- item",
        "? key",
        ",",
        "\ttab",
        "a\tb",
        "\0",
        "nul\0byte",
        "\u{1}\u{2}\u{1b}[31mred\u{7f}",
        "\r",
        "a\r\nb: c",
        "\u{85}next line",
        "\u{a0}",
        "a\u{2028}b: c",
        "\u{2029}",
        "\u{feff}bom",
        "😀 \u{10ffff}",
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "1e3",
        "0x10",
        "0o17",
        "017",
        "1_000",
        "+1",
        ".inf",
        "-.nan",
        "12:30:00",
        "2001-12-14",
        "{{ .Values.global }}",
        "{{",
        "{% if true %}x{% endif %}",
        "{# comment #}",
        "{% raw %}",
        "${HOME}",
        "$(POD_NAME)",
        " leading space",
        "trailing space ",
        "  ",
        "=",
        "a=b,c=d",
        "<<",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // 64 KiB and 1 MiB of mixed syntax.
    let chunk = "a: b\n- c # d\t\"'\\{}[]&*!|>%@`";
    p.push(chunk.repeat(64 * 1024 / chunk.len()));
    p.push(chunk.repeat(1024 * 1024 / chunk.len()));
    p
}

const MARKER: &str = "harmless-marker";

/// The parsed documents of a stream, with the parts we normalise: the envoy bootstrap and
/// PROXY_CONFIG parsed into trees, `checksum/…` annotations dropped (they change with the
/// ConfigMap, by design).
fn tree(stream: &str) -> Result<Vec<Value>, String> {
    let mut docs = Vec::new();
    for doc in split_stream(stream) {
        if !doc.has_content() {
            continue;
        }
        let node = doc
            .load(yaml::Limits::default())
            .map_err(|e| format!("document at line {} does not parse: {}", doc.line, e.message))?
            .ok_or("an empty document")?;
        let mut value = node.to_json();
        normalise(&mut value)?;
        docs.push(value);
    }
    Ok(docs)
}

fn normalise(value: &mut Value) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with("checksum/"));
            let is_proxy_config = map.get("name").and_then(Value::as_str) == Some("PROXY_CONFIG");
            for (key, child) in map.iter_mut() {
                if let (Some(text), true) = (
                    child.as_str(),
                    key == "envoy.yaml" || (is_proxy_config && key == "value"),
                ) {
                    let parsed = yaml::parse_json(text).map_err(|e| format!("{key} {e}"))?;
                    *child = serde_json::json!({ "<parsed>": parsed });
                }
                normalise(child)?;
            }
        }
        Value::Array(items) => {
            for item in items {
                normalise(item)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `value` with the marker replaced by `payload` in every string.
fn substitute(value: &Value, payload: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace(MARKER, payload)),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, payload)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), substitute(v, payload))).collect()),
        other => other.clone(),
    }
}

/// Removes the annotation that keeps Flux from substituting `${…}` (added, by design, to every
/// document that carries `${` from the values); how many documents had it.
fn strip_flux_mark(docs: &mut [Value]) -> usize {
    let mut count = 0;
    for doc in docs {
        let Some(Value::Object(annotations)) = doc.pointer_mut("/metadata/annotations") else {
            continue;
        };
        if annotations.remove("kustomize.toolkit.fluxcd.io/substitute") == Some(Value::String("disabled".into())) {
            count += 1;
            if annotations.is_empty()
                && let Some(Value::Object(metadata)) = doc.pointer_mut("/metadata")
            {
                metadata.remove("annotations");
            }
        }
    }
    count
}

/// The largest character boundary of `s` at or before `at`.
fn char_floor(s: &str, at: usize) -> usize {
    (0..=at.min(s.len()))
        .rev()
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(0)
}

/// The first difference between two trees, as a JSON pointer and both values.
fn first_difference(expected: &Value, actual: &Value, at: &str) -> Option<String> {
    let show = |v: &Value| {
        let s = v.to_string();
        if s.len() > 200 {
            format!("{}… ({} bytes)", &s[..char_floor(&s, 200)], s.len())
        } else {
            s
        }
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let (ek, ak): (Vec<_>, Vec<_>) = (e.keys().collect(), a.keys().collect());
            if ek != ak {
                return Some(format!("{at}: keys {ek:?} became {ak:?}"));
            }
            e.iter()
                .find_map(|(k, v)| first_difference(v, &a[k], &format!("{at}/{k}")))
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Some(format!("{at}: {} items became {}", e.len(), a.len()));
            }
            e.iter()
                .zip(a)
                .enumerate()
                .find_map(|(i, (e, a))| first_difference(e, a, &format!("{at}/{i}")))
        }
        (e, a) if e == a => None,
        (e, a) => Some(format!("{at}: expected {}, found {}", show(e), show(a))),
    }
}

/// Compares a render with the payload against the harmless render with the marker replaced.
/// `Err` describes what was injected, lost or changed.
/// `render` marks the documents that carry `${` for Flux (`flux_mark`); post-render need not.
fn compare(harmless: &[Value], actual_stream: &str, payload: &str, flux_mark: bool) -> Result<(), String> {
    let mut actual = tree(actual_stream)?;
    if payload.contains("${") && strip_flux_mark(&mut actual) == 0 && flux_mark {
        return Err("`${` in the values, but no document is marked for Flux".into());
    }
    let expected: Vec<Value> = harmless.iter().map(|d| substitute(d, payload)).collect();
    if expected.len() != actual.len() {
        return Err(format!("{} documents became {}", expected.len(), actual.len()));
    }
    for (i, (e, a)) in expected.iter().zip(&actual).enumerate() {
        if let Some(diff) = first_difference(e, a, &format!("document {}", i + 1)) {
            return Err(diff);
        }
    }
    Ok(())
}

/// What one values text does: `Ok(stream)` or `Err` when it is rejected (after checking the
/// rejection is a located invalid-values error).
fn render_text(dir: &Path, name: &str, text: &str) -> Result<Result<String, String>, String> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    let opts = RenderOptions {
        values_files: vec![path.clone()],
        ..RenderOptions::default()
    };
    match render_files(&opts) {
        Ok(rendered) => Ok(Ok(rendered.to_stream())),
        Err(failure) => {
            if failure.kind != FailureKind::Invalid {
                return Err(format!(
                    "rejected with a {:?} failure, not invalid values: {failure}",
                    failure.kind
                ));
            }
            let errors: Vec<_> = failure.diagnostics.iter().filter(|d| d.level == Level::Error).collect();
            if errors.is_empty() {
                return Err(format!("rejected without an error: {failure}"));
            }
            for diag in errors {
                match &diag.location {
                    Some(loc) if loc.source.name == path.display().to_string() => {}
                    _ => return Err(format!("an error not located in the values file: {}", diag.short())),
                }
            }
            Ok(Err(failure
                .diagnostics
                .iter()
                .map(|d| d.code)
                .collect::<Vec<_>>()
                .join(",")))
        }
    }
}

/// The post-render of `input` with one values text, through the library: `Ok(stream)`, or
/// `Err(codes)` when it is rejected.
fn post_render_text(input: &str, text: &str) -> Result<String, String> {
    let layer = Layer::parse(SourceFile::new("values.yaml", text)).map_err(|d| d.code.to_string())?;
    let loaded = LoadedValues::new(vec![layer], CHART_DEFAULT_VERSION);
    let (model, _) = build_model(&loaded, "gloo-system", &RuleOptions::default())
        .map_err(|d| d.iter().map(|d| d.code).collect::<Vec<_>>().join(","))?;
    let mut spool = Spool::new().map_err(|f| f.to_string())?;
    gloo_istio::postrender::run(input.as_bytes(), &mut spool, &Operation::PostRender, &model, &loaded)
        .map_err(|f| format!("{:?}: {f}", f.kind))?;
    let mut out = Vec::new();
    spool.copy_to(&mut out).map_err(|f| f.to_string())?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// One try of a values text: `Ok(Ok(stream))` rendered, `Ok(Err(codes))` rejected as it may be,
/// `Err` a problem.
type Attempt<'a> = dyn Fn(&str, &str) -> Result<Result<String, String>, String> + Sync + 'a;

/// Runs the table: for each group of fields, every payload in all of them at once; when the
/// group rejects a payload, each field alone (so that every field meets every payload). Returns
/// the problems and, per field, (payloads accepted, payloads tried).
fn run_table(
    payloads: &[String],
    attempt: &Attempt,
    flux_mark: bool,
) -> (Vec<String>, BTreeMap<&'static str, (usize, usize)>) {
    let fields = fields();
    let mut groups: BTreeMap<(Group, usize), Vec<&Field>> = BTreeMap::new();
    for (i, field) in fields.iter().enumerate() {
        let key = if field.group == Group::Alone {
            (field.group, i)
        } else {
            (field.group, 0)
        };
        groups.entry(key).or_default().push(field);
    }
    let groups: Vec<Vec<&Field>> = groups.into_values().collect();
    let problems = Mutex::new(Vec::new());
    let accepted = Mutex::new(BTreeMap::new());
    let next = AtomicUsize::new(0);
    let shown = |p: &str| format!("{p:?}").chars().take(60).collect::<String>();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(group) = groups.get(i) else { break };
                    let names: Vec<&str> = group.iter().map(|f| f.path).collect();
                    let harmless = |fields: &[&Field]| match attempt(&format!("h{i}"), &values_with(fields, MARKER)) {
                        Ok(Ok(stream)) => tree(&stream).map_err(|e| format!("{names:?}: the harmless render: {e}")),
                        other => Err(format!("{names:?}: the harmless value fails: {other:?}")),
                    };
                    let group_harmless = match harmless(group) {
                        Ok(h) => h,
                        Err(e) => {
                            problems.lock().unwrap().push(e);
                            continue;
                        }
                    };
                    let mut counts: BTreeMap<&'static str, usize> = group.iter().map(|f| (f.path, 0)).collect();
                    for payload in payloads {
                        let outcome = attempt(&format!("p{i}"), &values_with(group, payload));
                        match outcome {
                            Err(problem) => problems
                                .lock()
                                .unwrap()
                                .push(format!("{names:?} = {}: {problem}", shown(payload))),
                            Ok(Ok(stream)) => {
                                group.iter().for_each(|f| *counts.get_mut(f.path).unwrap() += 1);
                                if let Err(problem) = compare(&group_harmless, &stream, payload, flux_mark) {
                                    problems
                                        .lock()
                                        .unwrap()
                                        .push(format!("{names:?} = {}: {problem}", shown(payload)));
                                }
                            }
                            Ok(Err(_)) if group.len() == 1 => {}
                            Ok(Err(_)) => {
                                // Which field refused it? Each alone, against its own harmless render.
                                for field in group {
                                    let alone = [*field];
                                    let result = harmless(&alone).and_then(|h| {
                                        match attempt(&format!("a{i}"), &values_with(&alone, payload))? {
                                            Ok(stream) => compare(&h, &stream, payload, flux_mark).map(|()| true),
                                            Err(_) => Ok(false),
                                        }
                                    });
                                    match result {
                                        Ok(true) => *counts.get_mut(field.path).unwrap() += 1,
                                        Ok(false) => {}
                                        Err(problem) => problems.lock().unwrap().push(format!(
                                            "{} = {}: {problem}",
                                            field.path,
                                            shown(payload)
                                        )),
                                    }
                                }
                            }
                        }
                    }
                    let mut accepted = accepted.lock().unwrap();
                    for (path, n) in counts {
                        accepted.insert(path, (n, payloads.len()));
                    }
                }
            });
        }
    });
    (problems.into_inner().unwrap(), accepted.into_inner().unwrap())
}

/// Free-text fields must take every payload; validated ones (addresses, the rev tag label, the
/// Upstream name) may reject them with a located error, but must take some, or the test is
/// vacuous.
fn check_acceptance(accepted: &BTreeMap<&'static str, (usize, usize)>, minimum_validated: usize) {
    for field in fields() {
        let (n, of) = accepted[field.path];
        if field.validated {
            assert!(
                n >= minimum_validated,
                "{}: only {n} of {of} payloads accepted; the test is vacuous",
                field.path
            );
        } else {
            assert_eq!(n, of, "{}: {n} of {of} payloads accepted", field.path);
        }
    }
}

#[test]
fn values_cannot_inject_through_any_string_field() {
    let dir = tempfile::tempdir().unwrap();
    let payloads = payloads();
    let attempt = |name: &str, text: &str| render_text(dir.path(), &format!("{name}.yaml"), text);
    let (problems, accepted) = run_table(&payloads, &attempt, true);
    assert!(
        problems.is_empty(),
        "{} injections:\n{}",
        problems.len(),
        problems.join("\n")
    );
    check_acceptance(&accepted, 4);
}

#[test]
fn values_cannot_inject_through_post_render() {
    let Some(reference) = common::reference_dir() else {
        return;
    };
    let full = std::fs::read_to_string(reference.join("a-defaults.rendered.yaml")).unwrap();
    // The documents post-render edits (the others pass through unparsed, whatever the values).
    let input: String = split_stream(&full)
        .into_iter()
        .filter(|d| {
            d.text.contains("gateway-proxy-id") || d.text.contains("kind: Settings") || d.text.contains("gloo: gloo")
        })
        .map(|d| d.text)
        .collect();
    // The most dangerous payloads for a line-based editor.
    let payloads: Vec<String> = [
        "a\nb: c",
        "x: y\n---\nkind: Secret\n",
        "# c",
        "'\"\\",
        "*a &b !c %d @e",
        "\t\0\u{1b}\u{85}\u{2028}",
        "~",
        "${X}",
        " - item",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let attempt = |_: &str, text: &str| {
        Ok(post_render_text(&input, text).map_err(|codes| {
            assert!(
                codes.starts_with("GI"),
                "post-render failed without a diagnostic code: {codes}"
            );
            codes
        }))
    };
    let (problems, accepted) = run_table(&payloads, &attempt, false);
    assert!(
        problems.is_empty(),
        "{} injections through post-render:\n{}",
        problems.len(),
        problems.join("\n")
    );
    check_acceptance(&accepted, 0);
}

#[test]
fn the_tree_comparison_catches_injection() {
    let harmless = tree("kind: A\nenv:\n- name: X\n  value: harmless-marker\n").unwrap();
    // The exact payload in place: fine.
    assert!(
        compare(
            &harmless,
            "kind: A\nenv:\n- name: X\n  value: \"a\\nb: c\"\n",
            "a\nb: c",
            true
        )
        .is_ok()
    );
    // The payload read as structure: a key added.
    assert!(
        compare(
            &harmless,
            "kind: A\nenv:\n- name: X\n  value: a\n  b: c\n",
            "a\nb: c",
            true
        )
        .is_err()
    );
    // A document added.
    assert!(
        compare(
            &harmless,
            "kind: A\nenv:\n- name: X\n  value: x\n---\nkind: Secret\n",
            "x",
            true
        )
        .is_err()
    );
    // A look-alike that lost its type.
    assert!(
        compare(&harmless, "kind: A\nenv:\n- name: X\n  value: yes\n", "yes", true).is_ok(),
        "YAML 1.2: a string"
    );
    assert!(compare(&harmless, "kind: A\nenv:\n- name: X\n  value: ~\n", "~", true).is_err());
    assert!(compare(&harmless, "kind: A\nenv:\n- name: X\n  value: 1e3\n", "1e3", true).is_err());
    // Something else changed.
    assert!(compare(&harmless, "kind: B\nenv:\n- name: X\n  value: x\n", "x", true).is_err());
    // Nested documents are compared as trees.
    let nested = tree("data:\n  envoy.yaml: |\n    role: harmless-marker\n").unwrap();
    assert!(
        compare(
            &nested,
            "data:\n  envoy.yaml: \"role: \\\"a: b\\\"\\n\"\n",
            "a: b",
            true
        )
        .is_ok()
    );
    assert!(compare(&nested, "data:\n  envoy.yaml: \"role: a\\nb: c\\n\"\n", "a\nb: c", true).is_err());
    // The quoting helper writes exactly the string.
    for payload in payloads().iter().take(80) {
        let doc = yaml::parse_json(&format!("v: {}\n", yaml_quote(payload))).unwrap();
        assert_eq!(doc["v"], Value::String(payload.clone()), "{payload:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// I/O faults that need more than a command line
// ---------------------------------------------------------------------------------------------

/// The names and contents of the files in `dir`.
fn listing(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let content = std::fs::read(&path).unwrap_or_default();
            (path.file_name().unwrap().to_string_lossy().into_owned(), content)
        })
        .collect()
}

fn gloo_istio(args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args).env("NO_COLOR", "1").stdin(Stdio::null());
    cmd
}

fn assert_clean_failure(outcome: &Outcome, code: i32, what: &str) {
    let step = Step {
        exit: vec![code],
        stderr: vec!["GI005".into()],
        stdout: StdoutRule::Empty,
        ..Step::new(Program::GlooIstio(Vec::new()))
    };
    let problems = judge(&step, outcome, None, None);
    assert!(problems.is_empty(), "{what}: {problems:?}\n{}", outcome.stderr);
}

/// `render --output-dir DIR` is all or nothing: when one target cannot be replaced (here a directory
/// stands where the ConfigMap's file goes), no file of the render may be in place and the old
/// files must be untouched.
#[test]
fn output_dir_is_all_or_nothing_when_one_target_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("configmap-gloo-system-gateway-proxy-envoy-config.yaml")).unwrap();
    std::fs::write(out.join("deployment-gloo-system-gateway-proxy.yaml"), "old\n").unwrap();
    std::fs::write(out.join("unrelated.txt"), "keep\n").unwrap();
    let before = listing(&out);
    let outcome = run_bounded(
        gloo_istio(&["render", "-q", "--output-dir", out.to_str().unwrap()]),
        false,
        DEFAULT_TIMEOUT,
    )
    .unwrap();
    assert_clean_failure(&outcome, 2, "a target that is a directory");
    assert_eq!(
        listing(&out),
        before,
        "render --output-dir left the directory changed (half-written)"
    );
}

/// Files that `render --output-dir` writes are readable like any other file the user writes (the umask
/// decides), not private temporary files.
#[cfg(unix)]
#[test]
fn output_dir_files_get_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let outcome = run_bounded(
        {
            let mut c = Command::new("sh");
            c.args([
                "-c",
                "umask 022; exec \"$0\" render -q --output-dir \"$1\"",
                bin(),
                out.to_str().unwrap(),
            ]);
            c
        },
        false,
        DEFAULT_TIMEOUT,
    )
    .unwrap();
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let mode = path.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{} has mode {mode:o} under umask 022", path.display());
    }
}

/// A file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so writes fail with EFBIG) stands in
/// for a full disk without any mount: `render --output-dir` fails with exit 2 and leaves nothing; a
/// post-render whose spool (beyond what it keeps in memory) cannot grow prints nothing.
#[test]
fn a_write_that_fails_midway_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("deployment-gloo-system-gateway-proxy.yaml"), "old\n").unwrap();
    let before = listing(&out);
    let values = common::manifest_dir().join("values/two-gateway-proxies.yaml");
    let script = "trap '' XFSZ; ulimit -f 8; exec \"$0\" \"$@\"";
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        script,
        bin(),
        "render",
        "-q",
        "-f",
        values.to_str().unwrap(),
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    cmd.stdin(Stdio::null());
    let outcome = run_bounded(cmd, false, DEFAULT_TIMEOUT).unwrap();
    assert_clean_failure(&outcome, 2, "render --output-dir with a file-size limit");
    assert_eq!(listing(&out), before, "render --output-dir left files behind");

    // Post-render keeps its output in memory up to 64 MiB: a stream beyond that goes to the
    // temporary file, which cannot grow.
    let stream = generate(dir.path(), "many-documents-mib", 70).unwrap();
    let mut cmd = Command::new("sh");
    let values = common::manifest_dir().join("values/istio-integration.yaml");
    cmd.args(["-c", script, bin(), "post-render", "-q", "-f", values.to_str().unwrap()]);
    cmd.stdin(std::fs::File::open(stream).unwrap());
    let outcome = run_bounded(cmd, false, Duration::from_secs(60)).unwrap();
    assert_clean_failure(&outcome, 2, "post-render with a file-size limit");
}

/// Runs `script` in a private mount namespace (root only); `None` when mount namespaces or
/// tmpfs mounts are not available here.
fn in_mount_namespace(script: &str, args: &[&str]) -> Option<Outcome> {
    let probe = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" && umount \"$d\"; s=$?; rmdir \"$d\"; exit $s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"\n*** SKIPPED: no mount namespace with tmpfs here (needs root and unshare -m) ***\n",
        );
        return None;
    }
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c", script, "sh"])
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    Some(run_bounded(cmd, false, Duration::from_secs(20)).unwrap())
}

/// `render --output-dir` into a read-only filesystem (a read-only bind mount of a temporary directory, in
/// a private mount namespace: chmod does not stop root), and into a full one (a 64 KiB tmpfs
/// with old files in it): exit 2, old files untouched, nothing left behind.
#[test]
fn output_dir_on_read_only_and_full_filesystems() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("deployment-gloo-system-gateway-proxy.yaml"), "old\n").unwrap();
    // A file an earlier render wrote, for a resource no longer rendered: it would be removed.
    std::fs::write(
        out.join("upstream-gloo-system-stale.yaml"),
        "# Code generated by gloo-istio. DO NOT EDIT.\nkind: Upstream\n",
    )
    .unwrap();
    let before = listing(&out);
    let read_only = "mount --bind \"$2\" \"$2\" && mount -o remount,bind,ro \"$2\" || exit 99; exec \"$1\" render -q --output-dir \"$2\"";
    let Some(outcome) = in_mount_namespace(read_only, &[bin(), out.to_str().unwrap()]) else {
        return;
    };
    assert_clean_failure(&outcome, 2, "render --output-dir on a read-only filesystem");
    assert_eq!(
        listing(&out),
        before,
        "render --output-dir changed a read-only directory"
    );

    // The tmpfs lives in the namespace only, so the script lists it after the run.
    let full = "mount -t tmpfs -o size=64k tmpfs \"$2\" || exit 99; printf 'old\\n' > \"$2/deployment-gloo-system-gateway-proxy.yaml\"; \
                head -c 40000 /dev/zero > \"$2/filler\" 2>/dev/null; \
                \"$1\" render -q -f \"$3\" --output-dir \"$2\"; code=$?; \
                ls -A \"$2\" >&2; cat \"$2/deployment-gloo-system-gateway-proxy.yaml\" >&2; exit $code";
    let values = common::manifest_dir().join("values/two-gateway-proxies.yaml");
    let Some(outcome) = in_mount_namespace(full, &[bin(), out.to_str().unwrap(), values.to_str().unwrap()]) else {
        return;
    };
    assert_clean_failure(&outcome, 2, "render --output-dir on a full filesystem");
    let listed: Vec<&str> = outcome
        .stderr
        .lines()
        .filter(|l| !l.contains("GI005") && !l.starts_with(' '))
        .collect();
    assert_eq!(
        listed,
        ["deployment-gloo-system-gateway-proxy.yaml", "filler", "old"],
        "files left on the full filesystem, or the old file changed:\n{}",
        outcome.stderr
    );
}

/// Values read from a FIFO (written once, then closed) and from a file deleted after it was
/// opened (`/dev/fd/N`) render as the file itself does.
#[cfg(unix)]
#[test]
fn values_from_a_fifo_and_from_a_deleted_path() {
    let dir = tempfile::tempdir().unwrap();
    let values = common::manifest_dir().join("values/two-gateway-proxies.yaml");
    let expected = run_bounded(
        gloo_istio(&["render", "-q", "-f", values.to_str().unwrap()]),
        false,
        DEFAULT_TIMEOUT,
    )
    .unwrap();
    assert_eq!(expected.code, Some(0), "{}", expected.stderr);

    let fifo = dir.path().join("values.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let writer = {
        let (fifo, values) = (fifo.clone(), values.clone());
        std::thread::spawn(move || {
            let text = std::fs::read(values).unwrap();
            std::fs::write(fifo, text).unwrap();
        })
    };
    let outcome = run_bounded(
        gloo_istio(&["render", "-q", "-f", fifo.to_str().unwrap()]),
        false,
        DEFAULT_TIMEOUT,
    )
    .unwrap();
    writer.join().unwrap();
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    assert_eq!(outcome.stdout, expected.stdout, "a FIFO gave another render");

    let copy = dir.path().join("deleted.yaml");
    std::fs::copy(&values, &copy).unwrap();
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "exec 3<\"$1\" && rm \"$1\" && exec \"$0\" render -q -f /dev/fd/3",
        bin(),
        copy.to_str().unwrap(),
    ]);
    cmd.env("NO_COLOR", "1").stdin(Stdio::null());
    let outcome = run_bounded(cmd, false, DEFAULT_TIMEOUT).unwrap();
    assert!(!copy.exists());
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    assert_eq!(outcome.stdout, expected.stdout, "a deleted path gave another render");
}
