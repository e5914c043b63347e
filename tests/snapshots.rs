//! Every example in `values/` renders to exactly its snapshot in `snapshots/`.
//! `UPDATE_SNAPSHOTS=1 cargo test --test snapshots` rewrites them; review the diff before
//! committing. A snapshot without its values file fails the test. The manifests in
//! `values/<example>/` (Kubernetes Gateways and their GatewayParameters) are rendered with it.

use std::path::{Path, PathBuf};

use gloo_istio::pipeline::{RenderOptions, render_files};
use gloo_istio::render::ManifestKind;
use similar::TextDiff;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn render(values: &Path) -> String {
    let manifests = values.with_extension("");
    let opts = RenderOptions {
        values_files: vec![values.to_path_buf()],
        manifests: if manifests.is_dir() {
            yaml_files(&manifests)
        } else {
            Vec::new()
        },
        ..RenderOptions::default()
    };
    match render_files(&opts) {
        Ok(rendered) => rendered.to_stream(),
        Err(failure) => panic!("{} does not render:\n{failure}", values.display()),
    }
}

#[test]
fn examples_match_their_snapshots() {
    let update = std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1");
    let examples = yaml_files(&root().join("values"));
    assert!(examples.len() >= 8, "expected the example values files");
    let mut failures = Vec::new();
    for values in &examples {
        let snapshot = root().join("snapshots").join(values.file_name().unwrap());
        let actual = render(values);
        if update {
            std::fs::write(&snapshot, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
        if expected != actual {
            let diff = TextDiff::from_lines(&expected, &actual)
                .unified_diff()
                .header(&snapshot.display().to_string(), "rendered")
                .to_string();
            failures.push(format!("{} differs from its snapshot:\n{diff}", values.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(run UPDATE_SNAPSHOTS=1 cargo test --test snapshots to accept)",
        failures.join("\n")
    );
}

#[test]
fn every_snapshot_has_its_values_file() {
    let orphans: Vec<String> = yaml_files(&root().join("snapshots"))
        .into_iter()
        .filter(|s| !root().join("values").join(s.file_name().unwrap()).exists())
        .map(|s| s.display().to_string())
        .collect();
    assert!(orphans.is_empty(), "snapshots without a values file: {orphans:?}");
}

/// The bootstrap a render reports beside each ConfigMap (what `envoy --mode validate` and the
/// bootstrap snapshots use) is the one in the ConfigMap's `data` as printed.
#[test]
fn reported_bootstraps_are_the_config_maps_own() {
    for values in yaml_files(&root().join("values")) {
        let opts = RenderOptions {
            values_files: vec![values.clone()],
            ..RenderOptions::default()
        };
        let rendered = render_files(&opts).unwrap_or_else(|f| panic!("{}: {f}", values.display()));
        let mut config_maps = 0;
        for manifest in rendered.manifests.iter().filter(|m| m.kind == ManifestKind::ConfigMap) {
            config_maps += 1;
            assert_eq!(
                manifest.envoy_bootstrap,
                gloo_istio::render::check::config_map_bootstrap(&manifest.text),
                "{}: ConfigMap {}",
                values.display(),
                manifest.name
            );
        }
        assert!(config_maps > 0, "{}: no ConfigMap rendered", values.display());
    }
}
