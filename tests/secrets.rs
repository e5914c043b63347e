//! No token, key or secret value from the input is ever printed in a message: every command,
//! every output format, with the secret on the line a diagnostic points at, next to it, and in
//! the text a message quotes. A control shows the same text under an ordinary key is printed,
//! so the checks can fail.

mod common;

use gloo_istio::diag::{Diagnostic, Location, REDACTED, SourceFile, code, is_secret_key};
use gloo_istio::yaml::{Pos, Span};

const MARKER: &str = "s3cr3t-MARKER-do-not-print";

/// Runs gloo-istio with `args` (and `stdin`) in a scratch directory holding `files`: what it
/// printed as messages (stderr, and stdout when `messages_on_stdout`: lint's reports).
fn run(files: &[(&str, &str)], args: &[&str], stdin: &str, messages_on_stdout: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let out = common::run_bin(args, stdin.as_bytes(), Some(dir.path()));
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    if messages_on_stdout {
        text.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    assert!(!text.contains("panicked at"), "{text}");
    text
}

/// A values file with a secret env value on an invalid line's neighbour, a secret under a
/// misspelt key (the diagnostic points at it) and a token in an annotation.
fn values_with_secrets(secret: &str) -> String {
    format!(
        "global:
  istioIntegration: {{enabled: true}}
  istioSDS:
    customSidecars:
    - name: istio-proxy
      image: docker.io/istio/proxyv2:1.22.6
      env:
      - name: API_TOKEN
        value: {secret}-env
      - name: OUTPUT_CERTS
        value: 12
gatewayProxies:
  gatewayProxy:
    podTemplate:
      password: {secret}-key
      httpPort: nope
"
    )
}

#[test]
fn lint_and_render_never_print_secret_values() {
    let values = values_with_secrets(MARKER);
    let files = [("values.yaml", values.as_str())];
    for args in [
        &["lint", "values.yaml"][..],
        &["lint", "--format", "json", "values.yaml"],
        &["lint", "--format", "github", "values.yaml"],
        &["render", "-f", "values.yaml"],
        &[
            "render",
            "-f",
            "values.yaml",
            "--set",
            "gatewayProxies.gatewayProxy.podTemplate.apiKey=s3cr3t-MARKER-do-not-print-set",
        ],
    ] {
        let out = run(&files, args, "", true);
        assert!(out.contains("GI00"), "{args:?}: no finding at all:\n{out}");
        assert!(!out.contains(MARKER), "{args:?} printed a secret:\n{out}");
    }
}

#[test]
fn the_control_is_printed_so_the_check_can_fail() {
    // The same text under keys that name nothing secret is shown in the source line.
    let values = values_with_secrets(MARKER)
        .replace("API_TOKEN", "GREETING")
        .replace("password", "greeting");
    let out = run(&[("values.yaml", values.as_str())], &["lint", "values.yaml"], "", true);
    assert!(out.contains(MARKER), "the control must show the text:\n{out}");
}

#[test]
fn stream_commands_never_print_secret_values() {
    // A Secret that does not parse (flow style, so post-render has to look at it), a Secret that
    // parses next to a broken document, and a gateway-proxy Deployment with a secret env value
    // beside a container post-render refuses to edit.
    let broken_secret =
        format!("---\n{{kind: Secret, apiVersion: v1, metadata: {{name: s}}, data: {{token: {MARKER}\n");
    let secret = format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: t}}\nstringData:\n  tls.key: {MARKER}\nbroken: [\n"
    );
    let proxy = format!(
        "---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gateway-proxy
  namespace: gloo-system
  labels: {{app: gloo, gloo: gateway-proxy, gateway-proxy-id: gateway-proxy}}
spec:
  template:
    spec:
      containers:
      - name: gateway-proxy
        env:
        - name: DB_PASSWORD
          value: {MARKER}
      - name: sds
        image: other
"
    );
    for (stream, args) in [
        (
            broken_secret.as_str(),
            &["post-render", "--set", "global.istioIntegration.enabled=true"][..],
        ),
        (broken_secret.as_str(), &["analyze", "-"]),
        (secret.as_str(), &["analyze", "-"]),
        (
            proxy.as_str(),
            &["post-render", "--set", "global.istioIntegration.enabled=true"],
        ),
        (proxy.as_str(), &["inject"]),
    ] {
        // post-render's and inject's stdout is the manifest stream itself, analyze's its report.
        let out = run(&[], args, stream, args[0] == "analyze");
        assert!(out.contains("GI0"), "{args:?}: no finding at all:\n{out}");
        assert!(!out.contains(MARKER), "{args:?} printed a secret:\n{out}");
    }
}

#[test]
fn messages_that_quote_a_secret_are_redacted() {
    let text = format!("token: {MARKER}\n");
    let source = SourceFile::new("values.yaml", text.clone());
    let start = text.find(MARKER).unwrap();
    source.mark_secret(start..start + MARKER.len(), MARKER);
    let at = |offset: usize| Pos {
        line: 1,
        col: offset + 1,
        offset,
    };
    let d = Diagnostic::error(code::INVALID_VALUE, format!("`{MARKER}` is not a valid value"))
        .at(Some(Location {
            source,
            span: Span {
                start: at(start),
                end: at(start + MARKER.len()),
            },
        }))
        .help(format!("did you mean {MARKER}?"));
    for shown in [d.short(), d.render_human(false), d.to_json().to_string()] {
        assert!(!shown.contains(MARKER), "{shown}");
        assert!(shown.contains(REDACTED), "{shown}");
    }
}

#[test]
fn references_to_secrets_are_not_secret() {
    // A custom sidecar without OUTPUT_CERTS draws GI020, whose message names istio-certs; the
    // projected token and the secret volume around it hold no secret values, so nothing in the
    // messages is redacted.
    let values = "global:
  istioIntegration: {enabled: true}
  istioSDS:
    customSidecars:
    - name: istio-proxy
      image: docker.io/istio/proxyv2:1.22.6
      env:
      - name: CA_ADDR
        valueFrom: {secretKeyRef: {name: istio-certs, key: istio-certs}}
gatewayProxies:
  gatewayProxy:
    podTemplate:
      extraAnnotations: {sidecar.istio.io/userVolume: '[{\"name\":\"istio-certs\",\"secret\":{\"secretName\":\"istio-certs\"}}]'}
";
    let out = run(&[("values.yaml", values)], &["lint", "values.yaml"], "", true);
    assert!(out.contains("GI020"), "{out}");
    assert!(out.contains("istio-certs"), "{out}");
    assert!(!out.contains(REDACTED), "{out}");
}

#[test]
fn volumes_that_refer_to_secrets_hold_none() {
    let manifest = "apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  volumes:
  - name: certs
    secret: {secretName: istio-certs-secret}
  - name: istio-token
    projected:
      sources:
      - serviceAccountToken: {audience: istio-ca-audience, path: istio-token-path}
  containers:
  - name: app
    env:
    - name: CREDENTIALS
      value: hunter2-credential
    - name: DB
      valueFrom: {secretKeyRef: {name: db-secret-name, key: password-key}}
";
    let source = SourceFile::new("pod.yaml", manifest);
    source.mark_manifest_secrets();
    let shown = source.redact("istio-certs-secret istio-ca-audience istio-token-path db-secret-name password-key");
    assert!(!shown.contains(REDACTED), "{shown}");
    assert_eq!(source.redact("hunter2-credential"), REDACTED);
}

#[test]
fn secret_keys_and_names_of_secrets() {
    for key in [
        "token",
        "API_TOKEN",
        "password",
        "DB_PASSWD",
        "clientSecret",
        "apiKey",
        "AWS_SECRET_ACCESS_KEY",
        "privateKey",
    ] {
        assert!(is_secret_key(key), "{key}");
    }
    for key in [
        "pullSecret",
        "secretName",
        "tokenPath",
        "JWT_POLICY",
        "name",
        "image",
        "serviceAccountName",
        "certificatesSecretName",
    ] {
        assert!(!is_secret_key(key), "{key}");
    }
}

/// Two values files whose findings quote secrets: a number as the value of an `env_name` env
/// var (GI004 quotes it), and a pod label keyed `label_key` with a value Kubernetes rejects
/// (GI022 quotes it).
fn files_quoting_secrets(secret: &str, label_key: &str, env_name: &str) -> [(&'static str, String); 2] {
    let env = format!(
        "global:
  istioIntegration: {{enabled: true}}
  istioSDS:
    customSidecars:
    - name: istio-proxy
      image: docker.io/istio/proxyv2:1.22.6
      env:
      - name: {env_name}
        value: 31415926535
"
    );
    let label = format!(
        "gatewayProxies:
  gatewayProxy:
    podTemplate:
      extraGatewayProxyLabels:
        {label_key}: '{secret} with spaces'
"
    );
    [("env.yaml", env), ("label.yaml", label)]
}

fn lint_files(files: &[(&'static str, String); 2], format: &str) -> String {
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let out = run(
        &files,
        &["lint", "--format", format, "env.yaml", "label.yaml"],
        "",
        true,
    );
    assert!(
        out.contains("GI004") && out.contains("GI022"),
        "{format}: no finding:\n{out}"
    );
    out
}

#[test]
fn every_lint_format_redacts_the_secrets_a_message_quotes() {
    let files = files_quoting_secrets(MARKER, "api-token", "API_TOKEN");
    for format in ["human", "short", "json", "sarif", "github"] {
        let out = lint_files(&files, format);
        assert!(!out.contains(MARKER), "{format} printed a secret:\n{out}");
        assert!(
            !out.contains("31415926535"),
            "{format} printed a secret env value:\n{out}"
        );
    }
    // The control: under names that are not secret, the github form quotes both.
    let out = lint_files(&files_quoting_secrets(MARKER, "api-tier", "API_TIER"), "github");
    assert!(out.contains(MARKER) && out.contains("31415926535"), "{out}");
}

#[test]
fn a_secret_longer_than_a_message_does_not_leak_its_head() {
    // A JWT-sized secret: the message quoting it is clipped at 500 characters, in the middle of
    // the secret.
    let secret = format!("eyJhbGciOiJSUzI1NiJ9{}", "Q".repeat(1500));
    let files = files_quoting_secrets(&secret, "api-token", "API_TOKEN");
    for format in ["human", "short", "json", "sarif", "github"] {
        let out = lint_files(&files, format);
        assert!(
            !out.contains("eyJhbGciOi"),
            "{format} printed the head of a secret:\n{out}"
        );
        assert!(!out.contains("QQQQ"), "{format} printed part of a secret:\n{out}");
    }
    let out = run(
        &[("label.yaml", &files[1].1)],
        &["render", "-f", "label.yaml"],
        "",
        false,
    );
    assert!(out.contains("GI022"), "{out}");
    assert!(!out.contains("QQQQ"), "render printed part of a secret:\n{out}");
}

#[test]
fn excerpts_of_input_that_did_not_parse_mask_secrets_by_key_name() {
    // A syntax error next to a password, a duplicate `value` of a secret env var, a flow-style
    // env entry beside a broken line.
    let syntax = format!("settings:\n  other: 1\n  password: {MARKER}-pw\n  x: : 1\n");
    let duplicate = format!(
        "global:
  istioSDS:
    customSidecars:
    - name: istio-proxy
      env:
      - name: GITHUB_TOKEN
        value: {MARKER}-1
        value: {MARKER}-2
"
    );
    let flow = format!("a:\n  env: [{{name: DB_PASSWORD, value: {MARKER}-flow}}]\n  b: : c\n");
    for text in [&syntax, &duplicate, &flow] {
        for args in [
            &["lint", "values.yaml"][..],
            &["lint", "--format", "github", "values.yaml"],
            &["render", "-f", "values.yaml"],
        ] {
            let out = run(&[("values.yaml", text.as_str())], args, "", true);
            assert!(out.contains("GI00"), "{args:?}: no finding:\n{out}");
            assert!(!out.contains(MARKER), "{args:?} printed a secret of\n{text}\n{out}");
        }
    }
    // A malformed `--set` next to a secret.
    let out = run(
        &[],
        &["render", "--set", &format!("settings.password={MARKER},=")],
        "",
        false,
    );
    assert!(out.contains("GI007"), "{out}");
    assert!(!out.contains(MARKER), "--set printed a secret:\n{out}");
    // A stream document that does not parse, with a secret env value in it.
    let stream = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: x}}\nspec:\n  env:\n  - name: API_TOKEN\n    value: {MARKER}\n  broken: [\n"
    );
    let out = run(&[], &["analyze", "-"], &stream, true);
    assert!(out.contains("GI0"), "{out}");
    assert!(!out.contains(MARKER), "analyze printed a secret:\n{out}");
    // The control: the same broken file under an ordinary key shows the text.
    let control = syntax.replace("password", "greeting");
    let out = run(&[("values.yaml", control.as_str())], &["lint", "values.yaml"], "", true);
    assert!(out.contains(MARKER), "{out}");
}

#[test]
fn names_from_the_input_are_printed_with_control_characters_escaped() {
    let hostile = "x\u{1b}[2J\nerror[GI001]: forged\u{9b}31m\u{202e}";
    let stream = "apiVersion: gloo.solo.io/v1\nkind: Upstream\nmetadata: {name: other, namespace: gloo-system}\n";
    for args in [
        &["enable-mtls", "-u", hostile][..],
        &["disable-mtls", "-u", hostile],
        &["lint", "--format", "github", "-f", hostile],
        &["render", "-f", hostile],
    ] {
        let out = run(&[], args, stream, args[0] == "lint");
        assert!(out.contains("GI0"), "{args:?}: no finding:\n{out}");
        for raw in ['\u{1b}', '\u{9b}', '\u{202e}'] {
            assert!(!out.contains(raw), "{args:?} printed {raw:?}:\n{out}");
        }
        assert!(
            !out.lines().any(|l| l.starts_with("error[GI001]: forged")),
            "{args:?} printed a forged line:\n{out}"
        );
        assert!(
            out.contains("\\u{1b}[2J"),
            "{args:?}: the name is shown escaped:\n{out}"
        );
    }
}

#[test]
fn keys_of_the_input_are_printed_with_control_characters_escaped() {
    // A key written with escapes in double quotes: an unknown key (GI003) whose path and
    // message name it.
    let values = "global:\n  \"bad\\e[2J\\nerror[GI001]: forged\": 1\n";
    for format in ["human", "short", "json", "sarif", "github"] {
        let out = run(
            &[("values.yaml", values)],
            &["lint", "--format", format, "values.yaml"],
            "",
            true,
        );
        assert!(out.contains("GI003"), "{format}: no finding:\n{out}");
        assert!(!out.contains('\u{1b}'), "{format} printed an escape:\n{out}");
        assert!(
            !out.lines().any(|l| l.trim_start().starts_with("error[GI001]: forged")),
            "{format} printed a forged line:\n{out}"
        );
    }
}
