//! Micro-benchmarks of `gloo-istio render` and `gloo-istio lint` through the library, one per
//! example values file (`values/*.yaml`) plus the chart defaults.
//!
//! ```sh
//! cargo bench --bench render                 # all of them
//! cargo bench --bench render -- stages       # only the load / validate / templates split
//! ```
//!
//! `render_files` is the whole job minus process start-up and printing: read and parse the
//! file, merge it over the chart defaults, validate (schema and rules), build the model and run
//! the templates (each output checked against its Kubernetes type). The `stages` group times
//! the three steps apart, to see which one a regression is in. No timing is asserted anywhere:
//! compare against a saved run (docs/performance.md has the numbers of the last one).
//! Under `cargo test --benches` every benchmark runs once, as a smoke test.

use std::path::{Path, PathBuf};

use divan::Bencher;
use gloo_istio::render::{RenderOptions, engine, render_files, render_model};
use gloo_istio::validate::lint::{LintUnit, lint};
use gloo_istio::validate::rules::RuleOptions;
use gloo_istio::values::build_model;
use gloo_istio::values::layers::{CHART_DEFAULT_VERSION, LoadedValues, read_layer};

fn main() {
    divan::main();
}

/// The example values files by stem (`istio-integration`, ...), sorted; `defaults` is no file.
fn examples() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = std::fs::read_dir(values_dir())
        .expect("values/ is readable")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let stem = path.file_stem()?.to_str()?.to_owned();
            (path.extension()? == "yaml").then(|| &*Box::leak(stem.into_boxed_str()))
        })
        .collect();
    names.sort_unstable();
    names.insert(0, "defaults");
    names
}

fn values_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("values")
}

fn files(name: &str) -> Vec<PathBuf> {
    match name {
        "defaults" => Vec::new(),
        _ => vec![values_dir().join(format!("{name}.yaml"))],
    }
}

fn options(name: &str) -> RenderOptions {
    RenderOptions {
        values_files: files(name),
        ..RenderOptions::default()
    }
}

fn loaded(name: &str) -> LoadedValues {
    let layers = files(name)
        .iter()
        .map(|path| read_layer(path).expect("the example parses"))
        .collect();
    LoadedValues::new(layers, CHART_DEFAULT_VERSION)
}

/// The whole render of one example (the embedded templates are compiled once per process, as
/// in the CLI; the first call pays for it outside the timed samples).
#[divan::bench(args = examples())]
fn render(bencher: Bencher, name: &str) {
    let opts = options(name);
    render_files(&opts).expect("the example renders");
    bencher.bench(|| render_files(divan::black_box(&opts)).expect("the example renders"));
}

/// `render` split into its steps.
#[divan::bench_group]
mod stages {
    use super::*;

    /// Read and parse the file, merge it over the chart defaults.
    #[divan::bench(args = examples())]
    fn load(bencher: Bencher, name: &str) {
        bencher.bench(|| loaded(divan::black_box(name)));
    }

    /// Schema check, rules and the typed model, from loaded values.
    #[divan::bench(args = examples())]
    fn validate(bencher: Bencher, name: &str) {
        let values = loaded(name);
        bencher.bench(|| {
            build_model(divan::black_box(&values), "gloo-system", &RuleOptions::default())
                .expect("the example is valid")
        });
    }

    /// The templates and the Kubernetes type check of each manifest, from the model.
    #[divan::bench(args = examples())]
    fn templates(bencher: Bencher, name: &str) {
        let values = loaded(name);
        let (model, _) = build_model(&values, "gloo-system", &RuleOptions::default()).expect("the example is valid");
        let tera = engine::embedded();
        bencher.bench(|| render_model(divan::black_box(&model), tera).expect("the example renders"));
    }

    /// Compiling the embedded templates (once per process in the CLI: part of every cold start).
    #[divan::bench]
    fn compile_templates() -> engine::Engine {
        engine::engine(None).expect("the embedded templates compile")
    }
}

/// `gloo-istio lint FILE`: what the lint of many files costs per file.
#[divan::bench(args = examples())]
fn lint_file(bencher: Bencher, name: &str) {
    let unit = LintUnit {
        files: files(name),
        set: Vec::new(),
    };
    let options = RuleOptions::default();
    bencher.bench(|| lint(divan::black_box(&unit), "gloo-system", CHART_DEFAULT_VERSION, &options));
}
