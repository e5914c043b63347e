//! What a shell user meets: completions run by a real bash (and checked by zsh and fish), the
//! manual pages rendered by groff, the README's synopses against the parser, and colour only
//! where a terminal wants it. The expected options and values come from the parser itself
//! (`gloo_istio::cli::Cli`), so a new option is checked without changing these tests.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;
use common::BIN;

/// The parser, built (subcommands know their global options), without `help`.
fn parser() -> clap::Command {
    let mut command = gloo_istio::cli::Cli::command().disable_help_subcommand(true);
    command.build();
    command
}

/// The subcommands users type.
fn subcommands() -> Vec<clap::Command> {
    parser()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .cloned()
        .collect()
}

/// The options (not positionals, not help/version) of a command.
fn options(command: &clap::Command) -> Vec<clap::Arg> {
    command
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
        .cloned()
        .collect()
}

/// The values an option takes from a fixed list.
fn possible_values(arg: &clap::Arg) -> Vec<String> {
    arg.get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect()
}

/// A program of the system (not a pinned peer): its path, or a failure when peers are
/// required, or `None` after a loud notice.
fn system_tool(name: &str) -> Option<PathBuf> {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file());
    if found.is_none() {
        return common::peer(name);
    }
    found
}

fn gloo_istio(args: &[&str]) -> std::process::Output {
    common::run(Command::new(BIN).args(args))
}

fn stdout(args: &[&str]) -> String {
    let output = gloo_istio(args);
    assert!(
        output.status.success(),
        "gloo-istio {args:?}:\n{}",
        common::output_text(&output)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

// ---------------------------------------------------------------------------------------------
// Completions
// ---------------------------------------------------------------------------------------------

/// What bash completes for `words` (the last one is the word under the cursor), by the function
/// the script registers for gloo-istio, as bash calls it on TAB.
fn bash_complete(bash: &Path, script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        r#"source '{script}'
function_name=$(complete -p gloo-istio | sed -E 's/.*-F ([^ ]+).*/\1/')
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
prev=""
(( COMP_CWORD > 0 )) && prev=${{COMP_WORDS[COMP_CWORD-1]}}
"$function_name" gloo-istio "${{COMP_WORDS[COMP_CWORD]}}" "$prev"
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        script = script.display(),
        words = quoted.join(" ")
    );
    let output = common::run(Command::new(bash).args(["--norc", "--noprofile", "-c", &program]));
    assert!(
        output.status.success(),
        "bash failed on {words:?}:\n{}",
        common::output_text(&output)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn write_script(dir: &Path, shell: &str) -> PathBuf {
    let path = dir.join(format!("gloo-istio.{shell}"));
    std::fs::write(&path, stdout(&["completions", shell])).expect("write the script");
    path
}

/// In a real bash: the subcommands, every long option of every subcommand, and the values of
/// every option that takes a value from a list (`lint --format <TAB>`), in every subcommand.
#[test]
fn bash_completes_commands_options_and_their_values() {
    let Some(bash) = system_tool("bash") else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let script = write_script(dir.path(), "bash");
    let mut failures = Vec::new();

    let offered: BTreeSet<String> = bash_complete(&bash, &script, &["gloo-istio", ""]).into_iter().collect();
    for sub in subcommands() {
        if !offered.contains(sub.get_name()) {
            failures.push(format!("`gloo-istio <TAB>` does not offer {}", sub.get_name()));
        }
    }
    let mut value_lists = 0;
    for sub in subcommands() {
        let name = sub.get_name().to_string();
        let offered: BTreeSet<String> = bash_complete(&bash, &script, &["gloo-istio", &name, "--"])
            .into_iter()
            .collect();
        for arg in options(&sub) {
            if let Some(long) = arg.get_long()
                && !offered.contains(&format!("--{long}"))
            {
                failures.push(format!("`gloo-istio {name} --<TAB>` does not offer --{long}"));
            }
            let values = possible_values(&arg);
            if values.is_empty() {
                continue;
            }
            value_lists += 1;
            let flag = format!("--{}", arg.get_long().expect("a long option"));
            let got = bash_complete(&bash, &script, &["gloo-istio", &name, &flag, ""]);
            if got != values {
                failures.push(format!(
                    "`gloo-istio {name} {flag} <TAB>` offers {got:?}, not {values:?}"
                ));
            }
            // A prefix narrows the list.
            let first = &values[0][..1];
            let narrowed = bash_complete(&bash, &script, &["gloo-istio", &name, &flag, first]);
            let want: Vec<&String> = values.iter().filter(|v| v.starts_with(first)).collect();
            if narrowed.iter().collect::<Vec<_>>() != want {
                failures.push(format!("`gloo-istio {name} {flag} {first}<TAB>` offers {narrowed:?}"));
            }
        }
    }
    // --format, --fail-on and --color, in several commands.
    assert!(value_lists >= 10, "only {value_lists} options with listed values");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The state names the bash script sets are the ones its `case` reads: the shape of the bug
/// that made every option value complete nothing.
#[test]
fn bash_script_reads_every_state_it_sets() {
    let script = stdout(&["completions", "bash"]);
    let set: BTreeSet<&str> = script
        .lines()
        .filter_map(|l| l.trim().strip_prefix("cmd=\""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|state| !state.is_empty())
        .collect();
    let labels: BTreeSet<&str> = script
        .lines()
        .filter(|l| l.starts_with("        ") && !l.starts_with("         "))
        .filter_map(|l| l.trim().strip_suffix(')'))
        .collect();
    let unread: Vec<&&str> = set.iter().filter(|s| !labels.contains(**s)).collect();
    assert!(set.len() > 10, "{set:?}");
    assert!(unread.is_empty(), "states set but never read: {unread:?}");
}

/// zsh and fish parse their scripts (`zsh -n`, `fish --no-execute`), and the scripts name every
/// subcommand.
#[test]
fn zsh_and_fish_scripts_parse() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (shell, args) in [("zsh", &["-n"][..]), ("fish", &["--no-execute"][..])] {
        let Some(program) = system_tool(shell) else { continue };
        let script = write_script(dir.path(), shell);
        let output = common::run(Command::new(&program).args(args).arg(&script));
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{shell} rejects its completion script:\n{}",
            common::output_text(&output)
        );
        // Negative control: a broken script is rejected.
        let broken = dir.path().join(format!("broken.{shell}"));
        let text = std::fs::read_to_string(&script).expect("script");
        std::fs::write(&broken, format!("{text}\nif then fi end (\n")).expect("write");
        let output = common::run(Command::new(&program).args(args).arg(&broken));
        assert!(!output.status.success(), "{shell} accepts a broken script");
        let text = std::fs::read_to_string(&script).expect("script");
        for sub in subcommands() {
            assert!(text.contains(sub.get_name()), "{shell}: no {}", sub.get_name());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Manual pages
// ---------------------------------------------------------------------------------------------

/// `man --dir` writes one page per command and gloo-istio's own; each has the sections of a
/// manual page, every option of its command, and every page it refers to exists; `man COMMAND`
/// prints the same page.
#[test]
fn man_pages_exist_for_every_command_with_their_sections() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let pages = dir.path().join("man1");
    let output = gloo_istio(&["man", "--dir", pages.to_str().expect("UTF-8")]);
    assert!(output.status.success(), "{}", common::output_text(&output));
    assert!(output.stdout.is_empty());
    let mut expected: BTreeSet<String> = subcommands()
        .iter()
        .map(|c| format!("gloo-istio-{}.1", c.get_name()))
        .collect();
    expected.insert("gloo-istio.1".into());
    let written: BTreeSet<String> = std::fs::read_dir(&pages)
        .expect("the pages")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, expected);

    let mut failures = Vec::new();
    let mut commands: Vec<(Option<String>, clap::Command)> = vec![(None, parser())];
    commands.extend(subcommands().into_iter().map(|c| (Some(c.get_name().to_string()), c)));
    for (name, command) in commands {
        let file = match &name {
            Some(name) => format!("gloo-istio-{name}.1"),
            None => "gloo-istio.1".into(),
        };
        let text = std::fs::read_to_string(pages.join(&file)).expect("a page");
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "EXIT STATUS",
            "ENVIRONMENT",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            let header = if section.contains(' ') {
                format!(".SH \"{section}\"")
            } else {
                format!(".SH {section}")
            };
            if !text.contains(&header) {
                failures.push(format!("{file}: no {section} section"));
            }
        }
        for arg in options(&command) {
            if let Some(long) = arg.get_long() {
                // roff writes `-` as `\-`.
                if !text.contains(&format!("\\-\\-{}", long.replace('-', "\\-"))) {
                    failures.push(format!("{file}: no --{long}"));
                }
            }
        }
        // Every page it names exists.
        for reference in text.split(|c: char| c.is_whitespace() || c == ',') {
            let reference = reference.replace("\\-", "-");
            if let Some(page) = reference.strip_suffix("(1)")
                && page.starts_with("gloo-istio")
                && !written.contains(&format!("{page}.1"))
            {
                failures.push(format!("{file} refers to {page}(1), which does not exist"));
            }
        }
        let mut args = vec!["man"];
        if let Some(name) = &name {
            args.push(name);
        }
        if stdout(&args) != text {
            failures.push(format!("`gloo-istio {}` differs from {file}", args.join(" ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// groff renders every page without a warning (`-ww` turns on every warning), with the sections.
#[test]
fn groff_renders_every_page_without_warnings() {
    let Some(groff) = system_tool("groff") else { return };
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = gloo_istio(&["man", "--dir", dir.path().to_str().expect("UTF-8")]);
    assert!(output.status.success(), "{}", common::output_text(&output));
    let mut count = 0;
    for entry in std::fs::read_dir(dir.path()).expect("pages") {
        let path = entry.expect("entry").path();
        count += 1;
        let output = common::run(
            Command::new(&groff)
                .args(["-man", "-Tutf8", "-ww"])
                .arg(&path)
                .env("LC_ALL", "C.UTF-8"),
        );
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "groff warns on {}:\n{}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        for section in ["EXIT STATUS", "ENVIRONMENT", "EXAMPLES"] {
            // groff -Tutf8 emboldens headings by overstriking: compare the plain letters.
            let plain: String = text
                .split('\u{8}')
                .enumerate()
                .map(|(i, part)| if i == 0 { part } else { part.get(1..).unwrap_or("") })
                .collect();
            assert!(plain.contains(section), "{}: no {section} in\n{plain}", path.display());
        }
    }
    assert!(count > 10);
    // Negative control: groff does warn on a broken page.
    let broken = dir.path().join("broken.1");
    std::fs::write(&broken, ".TH X 1\n.SH NAME\n\\f(XX\n.nosuchmacro\n").expect("write");
    let output = common::run(Command::new(&groff).args(["-man", "-Tutf8", "-ww"]).arg(&broken));
    assert!(!output.stderr.is_empty(), "groff does not warn on a broken page");
}

#[test]
fn man_of_an_unknown_command_is_a_usage_error() {
    let output = gloo_istio(&["man", "rendr"]);
    assert_eq!(output.status.code(), Some(2), "{}", common::output_text(&output));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("rendr") && stderr.contains("render"), "{stderr}");
}

/// `man --dir` under a regular file fails with the path in the message, and prints nothing.
#[test]
fn man_dir_that_cannot_be_made_is_an_io_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").expect("write");
    let target = file.join("man1");
    let output = gloo_istio(&["man", "--dir", target.to_str().expect("UTF-8")]);
    assert_eq!(output.status.code(), Some(2), "{}", common::output_text(&output));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("a-file"));
    assert_eq!(std::fs::read_to_string(&file).expect("the file"), "x");
}

// ---------------------------------------------------------------------------------------------
// The README's synopses
// ---------------------------------------------------------------------------------------------

/// The README's `## Commands` block: each synopsis (a `gloo-istio …` line and the indented
/// lines under it) by the command names it starts with (`enable-mtls|disable-mtls`); the line
/// without a command name (`gloo-istio [--color …] COMMAND …`) under "".
fn readme_synopses() -> Vec<(Vec<String>, String)> {
    let readme = std::fs::read_to_string(common::manifest_dir().join("README.md")).expect("README.md");
    let section = readme.split("\n## Commands\n").nth(1).expect("a `## Commands` section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    let mut out: Vec<(Vec<String>, String)> = Vec::new();
    // `VALUES, as in Helm: …` defines the value options that `[VALUES]...` stands for.
    let mut values = String::new();
    let mut in_values = false;
    for line in block.lines() {
        if let Some(rest) = line.strip_prefix("VALUES") {
            in_values = true;
            values.push_str(rest);
            continue;
        }
        if in_values && line.starts_with(' ') {
            values.push(' ');
            values.push_str(line.trim());
            continue;
        }
        in_values = false;
        if let Some(rest) = line.strip_prefix("gloo-istio ") {
            let first = rest.split_whitespace().next().unwrap_or("");
            let names = if first.starts_with(['-', '[']) || first.chars().all(|c| c.is_ascii_uppercase()) {
                vec![String::new()]
            } else {
                first.split('|').map(String::from).collect()
            };
            out.push((names, rest.to_string()));
        } else if line.starts_with(' ')
            && let Some(last) = out.last_mut()
        {
            last.1.push(' ');
            last.1.push_str(line.trim());
        }
    }
    for (_, text) in &mut out {
        *text = text.replace("[VALUES]...", &values);
    }
    out
}

/// Whether `text` holds `flag` as a whole word (`--set` is not in `--set-string`).
fn has_flag(text: &str, flag: &str) -> bool {
    text.match_indices(flag).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + flag.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '-')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
    })
}

/// Every option of every command is in that command's synopsis in the README (by its long or
/// its short name), every positional by its value name, the global options in the general
/// synopsis, and where a synopsis lists an option's values (`--format a|b|c`) they are the
/// parser's.
#[test]
fn readme_synopses_match_the_parser() {
    let synopses = readme_synopses();
    let mut failures = Vec::new();
    let root = parser();
    let global: Vec<clap::Arg> = options(&root).into_iter().filter(|a| a.is_global_set()).collect();
    let mut commands: Vec<(String, clap::Command)> = vec![(String::new(), root.clone())];
    commands.extend(subcommands().into_iter().map(|c| (c.get_name().to_string(), c)));
    for (name, command) in commands {
        let text: Vec<&str> = synopses
            .iter()
            .filter(|(names, _)| names.contains(&name))
            .map(|(_, text)| text.as_str())
            .collect();
        let shown = if name.is_empty() { "gloo-istio" } else { name.as_str() };
        if text.is_empty() {
            failures.push(format!("no synopsis of `{shown}`"));
            continue;
        }
        let text = text.join(" ");
        for arg in options(&command) {
            let is_global = global.iter().any(|g| g.get_id() == arg.get_id());
            if is_global != name.is_empty() {
                continue;
            }
            let long = arg.get_long().map(|l| format!("--{l}"));
            let short = arg.get_short().map(|s| format!("-{s}"));
            let found: Vec<&String> = [&long, &short]
                .into_iter()
                .flatten()
                .filter(|flag| has_flag(&text, flag))
                .collect();
            let Some(flag) = found.first() else {
                failures.push(format!(
                    "`{shown}` synopsis lacks {}",
                    long.or(short).unwrap_or_default()
                ));
                continue;
            };
            // A written list of values must be the parser's.
            let values = possible_values(&arg);
            let after = text.split(flag.as_str()).nth(1).unwrap_or("");
            let written = after.split_whitespace().next().unwrap_or("").trim_end_matches(']');
            if !values.is_empty() && written.contains('|') && written.split('|').collect::<Vec<_>>() != values {
                failures.push(format!(
                    "`{shown}` synopsis: {flag} {written}, the parser takes {}",
                    values.join("|")
                ));
            }
        }
        for arg in command.get_arguments().filter(|a| a.is_positional()) {
            let value = arg
                .get_value_names()
                .and_then(|v| v.first())
                .map(|v| v.to_string())
                .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
            if !text.contains(&value) {
                failures.push(format!("`{shown}` synopsis lacks {value}"));
            }
        }
    }
    assert!(failures.is_empty(), "README.md `## Commands`:\n{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Colour
// ---------------------------------------------------------------------------------------------

/// `gloo-istio lint` of a bad file with standard error on a terminal (util-linux `script`
/// gives it one), in the environment `env`; what the terminal showed.
fn lint_on_a_terminal(env: &[(&str, &str)], extra: &[&str]) -> String {
    let Some(script) = system_tool("script") else {
        return String::new();
    };
    let bad = common::manifest_dir().join("tests/data/bad-values/bool-as-string.yaml");
    let mut line = format!("'{BIN}' lint");
    for arg in extra {
        line.push_str(&format!(" {arg}"));
    }
    line.push_str(&format!(" '{}'", bad.display()));
    let mut cmd = Command::new(script);
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let output = common::run(&mut cmd);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("istioIntegration"), "{text}");
    text
}

/// On a terminal, diagnostics are coloured, but not with `TERM=dumb` or a non-empty `NO_COLOR`;
/// `--color always` wins over both, `--color never` over the terminal.
#[test]
fn colour_follows_the_terminal_term_and_no_color() {
    if system_tool("script").is_none() {
        return;
    }
    const ESC: &str = "\u{1b}[";
    assert!(lint_on_a_terminal(&[], &[]).contains(ESC), "no colour on a terminal");
    assert!(
        !lint_on_a_terminal(&[("TERM", "dumb")], &[]).contains(ESC),
        "colour with TERM=dumb"
    );
    assert!(
        !lint_on_a_terminal(&[("NO_COLOR", "1")], &[]).contains(ESC),
        "colour with NO_COLOR"
    );
    assert!(
        lint_on_a_terminal(&[("NO_COLOR", "")], &[]).contains(ESC),
        "an empty NO_COLOR is unset"
    );
    assert!(lint_on_a_terminal(&[("TERM", "dumb")], &["--color", "always"]).contains(ESC));
    assert!(!lint_on_a_terminal(&[], &["--color", "never"]).contains(ESC));
}
