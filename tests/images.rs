//! The `gloo-istio` container image (`Containerfile`, built by `bash scripts/image.sh build`),
//! run with podman as a CI job or a pipeline would run it, with no network and a read-only root
//! file system: it renders every example byte for byte as its snapshot, post-renders a helm 3
//! stream read from standard input exactly as the host's gloo-istio does, and fails with nothing
//! on standard output. The image holds the static binary and nothing else, and runs as 65532.
//!
//! The Argo CD plugin image (`gloo-istio-cmp`) is tested in tests/argocd.rs.

mod common;
mod podman;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use podman::{PLAIN, Podman, mount_ro};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn values_dir() -> PathBuf {
    common::manifest_dir().join("values")
}

/// `gloo-istio ARGS` in the image, with `values/` at /values and `extra` mounted read-only.
fn run_image(podman: &Podman, image: &str, args: &[&str], stdin: &[u8], extra: &[(&Path, &str)]) -> Output {
    let mut opts = mount_ro(&values_dir(), "/values");
    opts.extend(["-e".to_string(), "NO_COLOR=1".to_string()]);
    for (host, container) in extra {
        opts.extend(mount_ro(host, container));
    }
    podman.run(image, &opts, args, stdin)
}

#[test]
fn image_holds_the_static_binary_alone_and_runs_as_65532() {
    let Some((podman, image)) = podman::image(PLAIN) else {
        return;
    };
    assert_eq!(podman.inspect(&image, "{{.Config.User}}"), "65532:65532");
    assert_eq!(
        podman.inspect(&image, "{{json .Config.Entrypoint}}"),
        r#"["/usr/local/bin/gloo-istio"]"#
    );
    let paths: Vec<String> = podman
        .files(&image)
        .iter()
        .map(|line| line.rsplit(' ').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        paths,
        ["usr/", "usr/local/", "usr/local/bin/", "usr/local/bin/gloo-istio"],
        "FROM scratch with one COPY"
    );

    // The same gloo-istio as the one the tests build.
    let output = run_image(&podman, &image, &["--version"], b"", &[]);
    assert!(output.status.success(), "{}", common::output_text(&output));
    let host = common::run_bin(&["--version"], b"", None);
    assert_eq!(text(&output.stdout), text(&host.stdout));
}

#[test]
fn image_renders_every_example_exactly_as_its_snapshot() {
    let Some((podman, image)) = podman::image(PLAIN) else {
        return;
    };
    let examples = common::example_values();
    assert!(examples.len() >= 8, "expected the example values files");
    let mut failures = Vec::new();
    for values in &examples {
        let name = values.file_name().and_then(|n| n.to_str()).expect("a file name");
        let snapshot = common::manifest_dir().join("snapshots").join(name);
        let expected = std::fs::read(&snapshot).unwrap_or_else(|e| panic!("{}: {e}", snapshot.display()));
        // An example's Gateway manifests, if any, are in the directory of its name (as
        // tests/snapshots.rs renders them).
        let mut args = vec!["render".to_string(), "-f".to_string(), format!("/values/{name}")];
        let manifests = values.with_extension("");
        if manifests.is_dir() {
            let stem = manifests
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a directory name");
            let mut files: Vec<String> = std::fs::read_dir(&manifests)
                .expect("the example's manifests")
                .map(|e| e.expect("a directory entry").file_name().to_string_lossy().into_owned())
                .filter(|f| f.ends_with(".yaml"))
                .collect();
            files.sort();
            args.extend(files.iter().map(|f| format!("/values/{stem}/{f}")));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run_image(&podman, &image, &args, b"", &[]);
        if !output.status.success() {
            failures.push(format!("{name}: {}", common::output_text(&output)));
        } else if output.stdout != expected {
            failures.push(format!(
                "{name}: the image's render differs from {}",
                snapshot.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// helm 3 renders the Gloo-shaped test chart without Istio; the image post-renders that stream
/// from standard input with the Istio values, byte for byte as the host's gloo-istio does.
#[test]
fn image_post_renders_a_helm_stream_from_stdin() {
    let Some((podman, image)) = podman::image(PLAIN) else {
        return;
    };
    let Some(helm) = common::peer("helm") else { return };
    let chart = common::manifest_dir().join("tests/data/gloo-shaped-chart");
    let home = tempfile::tempdir().expect("temporary directory");
    let rendered = common::run(
        Command::new(&helm)
            .args([
                "template",
                "gloo",
                common::path_str(&chart),
                "--namespace",
                "gloo-system",
            ])
            .env("HOME", home.path())
            .env("HELM_CONFIG_HOME", home.path().join("config"))
            .env("HELM_CACHE_HOME", home.path().join("cache"))
            .env("HELM_DATA_HOME", home.path().join("data")),
    );
    assert!(rendered.status.success(), "{}", common::output_text(&rendered));
    assert!(
        !text(&rendered.stdout).contains("istio-proxy"),
        "the chart already has Istio"
    );

    let args = [
        "post-render",
        "-f",
        "/values/istio-integration.yaml",
        "--gloo-version",
        "1.19.0",
    ];
    let output = run_image(&podman, &image, &args, &rendered.stdout, &[]);
    assert!(output.status.success(), "{}", common::output_text(&output));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("name: \"istio-proxy\""),
        "no istio-proxy sidecar:\n{stdout}"
    );
    assert!(
        stdout.contains("image: \"quay.io/solo-io/sds:1.19.0\""),
        "no sds sidecar:\n{stdout}"
    );
    assert!(!stdout.contains("GI0"), "a finding on stdout");

    let host_values = values_dir().join("istio-integration.yaml");
    let host_args = [
        "post-render",
        "-f",
        common::path_str(&host_values),
        "--gloo-version",
        "1.19.0",
    ];
    let host = common::run_bin(&host_args, &rendered.stdout, None);
    assert!(host.status.success(), "{}", common::output_text(&host));
    assert_eq!(stdout, text(&host.stdout), "the image and the host differ");
}

/// Bad values, a missing file, bad YAML on standard input: a non-zero exit, nothing on
/// standard output, a located message on standard error.
#[test]
fn image_fails_with_nothing_on_stdout() {
    let Some((podman, image)) = podman::image(PLAIN) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("bad.yaml"), common::MISSPELT_VALUES).expect("write values");
    let cases: [(&[&str], &[u8], &str); 4] = [
        (&["render", "-f", "/in/bad.yaml"], b"", "bad.yaml:2:3"),
        (&["render", "-f", "/in/missing.yaml"], b"", "missing.yaml"),
        (
            &["post-render", "-f", "/in/bad.yaml"],
            b"kind: ConfigMap\n",
            "bad.yaml:2:3",
        ),
        (&["render", "-f", "-"], b"global: [\n", "<stdin>"),
    ];
    for (args, stdin, message) in cases {
        let output = run_image(&podman, &image, args, stdin, &[(dir.path(), "/in")]);
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(output.stdout.is_empty(), "{args:?}: stdout:\n{}", text(&output.stdout));
        assert!(stderr.contains(message), "{args:?}: no `{message}` in:\n{stderr}");
    }
}
