//! The values path on arbitrary bytes: the YAML loader (`yaml::load_document`), a values layer
//! (`Layer::parse`), the schema and every lint rule (`check_values`, what `lint` runs on each
//! file), the human, short and JSON forms of every finding, and, for values that validate, the
//! render.
//!
//! Oracles besides "no panic, no hang, no unbounded memory":
//! - values that validate must render: the embedded templates never give an internal error
//!   (docs/diagnostics.md, GI099: "cannot be produced by values alone");
//! - every rendered manifest is one YAML document that parses back.

use gloo_istio::diag::SourceFile;
use gloo_istio::pipeline::check_values;
use gloo_istio::render::{engine, render_model};
use gloo_istio::validate::rules::RuleOptions;
use gloo_istio::values::layers::{CHART_DEFAULT_VERSION, Layer, LoadedValues};
use gloo_istio::yaml::{Limits, load_document};
use gloo_istio::{FailureKind, yaml};

/// Runs the target on one input; panics when an oracle fails.
pub fn check(data: &[u8]) {
    // The loader on raw bytes: BOMs, invalid UTF-8, NULs, anything.
    let _ = load_document(data, Limits::default());
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let layer = match Layer::parse(SourceFile::new("fuzz.yaml", text)) {
        Ok(layer) => layer,
        Err(diag) => {
            let _ = diag.render_human(false);
            return;
        }
    };
    let loaded = LoadedValues::new(vec![layer], CHART_DEFAULT_VERSION);
    let checked = check_values(&loaded, "gloo-system", &RuleOptions::default());
    for diag in &checked.findings {
        let _ = diag.render_human(false);
        let _ = diag.short();
        let _ = diag.to_json();
    }
    if checked.has_errors() {
        return;
    }
    let Some(model) = checked.model else {
        return;
    };
    match render_model(&model, engine::embedded()) {
        Ok(manifests) => {
            for manifest in manifests {
                match yaml::load_document(manifest.text.as_bytes(), Limits::default()) {
                    Ok(Some(_)) => {}
                    other => panic!(
                        "rendered {} {} does not parse back: {other:?}\n{}",
                        manifest.kind.as_str(),
                        manifest.name,
                        manifest.text
                    ),
                }
            }
        }
        Err(failure) => {
            assert!(
                failure.kind != FailureKind::Internal,
                "values that validate gave an internal error:\n{failure}\nvalues:\n{text}"
            );
        }
    }
}
