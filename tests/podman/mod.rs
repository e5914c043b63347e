//! Running the images of `scripts/image.sh` with podman, as the image tests do: no network, a
//! read-only root file system, inputs mounted read-only.
//!
//! The image names come from `GLOO_ISTIO_IMAGE` and `GLOO_ISTIO_CMP_IMAGE`, else from
//! `target/image/images.env`, which `bash scripts/image.sh build` writes. Without podman a test
//! fails in CI or under `GLOO_ISTIO_REQUIRE_PEERS=1` (`common::peers_required`), and is skipped,
//! loudly, elsewhere; without the images it fails in CI (`scripts/test.sh` builds them first)
//! and is skipped, loudly, elsewhere.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common;

const BUILD_HINT: &str = "bash scripts/image.sh build";

/// The plain image's variable and the plugin sidecar's.
pub const PLAIN: &str = "GLOO_ISTIO_IMAGE";
pub const CMP: &str = "GLOO_ISTIO_CMP_IMAGE";

fn loud(message: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** {message} ***");
}

fn ci() -> bool {
    std::env::var("CI")
        .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "false" | "0"))
        .unwrap_or(false)
}

/// The image named by `variable` (`PLAIN` or `CMP`) and podman to run it, or `None` after a
/// loud notice (see the module documentation for when it panics instead).
pub fn image(variable: &str) -> Option<(Podman, String)> {
    let podman = Podman::find()?;
    let from_env = std::env::var(variable).ok().filter(|v| !v.is_empty());
    let name = from_env.or_else(|| {
        let file = common::manifest_dir().join("target/image/images.env");
        let text = std::fs::read_to_string(file).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{variable}=")).map(str::to_string))
    });
    match name {
        Some(name) => {
            let known = podman.command().args(["image", "exists", &name]).status();
            assert!(
                known.is_ok_and(|s| s.success()),
                "the image {name} ({variable}) does not exist; run `{BUILD_HINT}`"
            );
            Some((podman, name))
        }
        None if ci() => panic!("{variable} is not set and target/image/images.env is missing; run `{BUILD_HINT}`"),
        None => {
            loud(&format!("SKIPPED: no {variable} image (run {BUILD_HINT})"));
            None
        }
    }
}

/// podman, with `--runtime runc` when runc is installed (crun refuses hybrid cgroups).
pub struct Podman {
    program: PathBuf,
    runc: bool,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

impl Podman {
    fn find() -> Option<Podman> {
        match on_path("podman") {
            Some(program) => Some(Podman {
                program,
                runc: on_path("runc").is_some(),
            }),
            None if common::peers_required() => panic!(
                "podman is not installed; run `bash .ci/install-peers.sh` (a missing podman fails \
                 the test because CI or GLOO_ISTIO_REQUIRE_PEERS=1 is set)"
            ),
            None => {
                loud("SKIPPED: podman not installed (run bash .ci/install-peers.sh)");
                None
            }
        }
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        if self.runc {
            cmd.args(["--runtime", "runc"]);
        }
        cmd
    }

    /// `podman image inspect --format FORMAT IMAGE`, trimmed.
    pub fn inspect(&self, image: &str, format: &str) -> String {
        let output = common::run(self.command().args(["image", "inspect", "--format", format, image]));
        assert!(output.status.success(), "{}", common::output_text(&output));
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Every path in the image's file system (`podman export` of a container made from it,
    /// listed by tar) as `MODE OWNER PATH`, with `/` after directories and ` -> TARGET` after
    /// links, sorted by path.
    pub fn files(&self, image: &str) -> Vec<String> {
        let created = common::run(self.command().args(["create", image]));
        assert!(created.status.success(), "{}", common::output_text(&created));
        let id = String::from_utf8_lossy(&created.stdout).trim().to_string();
        let dir = tempfile::tempdir().expect("temporary directory");
        let tar = dir.path().join("fs.tar");
        let exported = common::run(self.command().args(["export", "-o", common::path_str(&tar), &id]));
        let _ = common::run(self.command().args(["rm", &id]));
        assert!(exported.status.success(), "{}", common::output_text(&exported));
        let listed = common::run(Command::new("tar").arg("-tvf").arg(&tar));
        assert!(listed.status.success(), "{}", common::output_text(&listed));
        let mut files: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .map(|line| {
                // `drwxrwxrwt 0/0 0 2026-01-01 00:00 tmp/`: mode, owner, size, date, time, path.
                let f: Vec<&str> = line.split_whitespace().collect();
                assert!(f.len() >= 6, "an unexpected tar listing line: {line}");
                format!("{} {} {}", f[0], f[1], f[5..].join(" ").trim_start_matches("./"))
            })
            .collect();
        files.sort_by(|a, b| a.splitn(3, ' ').nth(2).cmp(&b.splitn(3, ' ').nth(2)));
        files
    }

    /// Runs `args` in `image` the way the tests run every container: `--rm`, `--network none`,
    /// `--read-only` with a fresh `/tmp` (as the Kubernetes emptyDir of the sidecar),
    /// standard input from `stdin`, and `opts` (mounts, `-e`, `-w`, `--entrypoint`, ...).
    pub fn run(&self, image: &str, opts: &[String], args: &[&str], stdin: &[u8]) -> Output {
        let mut cmd = self.command();
        cmd.args(["run", "--rm", "-i", "--network", "none", "--read-only"])
            .args(["--read-only-tmpfs=false", "--tmpfs", "/tmp:rw,mode=1777"])
            .args(opts)
            .arg(image)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start podman");
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let output = child.wait_with_output().expect("wait for podman");
        writer.join().expect("the stdin writer");
        output
    }
}

/// `-v HOST:CONTAINER:ro`.
pub fn mount_ro(host: &Path, container: &str) -> Vec<String> {
    vec!["-v".into(), format!("{}:{container}:ro", common::path_str(host))]
}
