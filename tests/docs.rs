//! Generated files stay current: `docs/values.md` and `docs/values.schema.json` are written from
//! the model and the chart's key table (`UPDATE_SNAPSHOTS=1 cargo test --test docs` rewrites
//! them), `src/values/chart-keys.tsv` is the reference table as it is, and every diagnostic code
//! in the source has its section in `docs/diagnostics.md` and vice versa.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn check_generated(relative: &str, generated: &str) {
    let path = root().join(relative);
    if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let diff = similar::TextDiff::from_lines(&committed, generated)
            .unified_diff()
            .header(relative, "generated")
            .to_string();
        panic!("{relative} is stale; run UPDATE_SNAPSHOTS=1 cargo test --test docs\n{diff}");
    }
}

#[test]
fn values_reference_is_current() {
    check_generated("docs/values.md", &gloo_istio::docs::values_reference());
}

#[test]
fn published_schema_is_current() {
    let schema = gloo_istio::validate::schema::values_schema(true);
    check_generated(
        "docs/values.schema.json",
        &(serde_json::to_string_pretty(&schema).unwrap() + "\n"),
    );
}

/// The binary's copy of the chart's key table is the reference table, byte for byte
/// (`UPDATE_SNAPSHOTS=1` copies it).
#[test]
fn chart_key_table_is_current() {
    let Some(reference) = common::reference_dir() else {
        return;
    };
    let table = std::fs::read_to_string(reference.join("values-keys.tsv")).expect("read values-keys.tsv");
    check_generated("src/values/chart-keys.tsv", &table);
    assert_eq!(gloo_istio::values::chart_keys::CHART_KEYS_TSV, table);
}

fn codes_in(text: &str) -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    let bytes = text.as_bytes();
    for i in 0..bytes.len().saturating_sub(4) {
        if &bytes[i..i + 2] == b"GI" && bytes[i + 2..i + 5].iter().all(u8::is_ascii_digit) {
            codes.insert(text[i..i + 5].to_string());
        }
    }
    codes
}

#[test]
fn every_code_is_documented_and_every_documented_code_exists() {
    let source = std::fs::read_to_string(root().join("src/diag/code.rs")).unwrap();
    let in_source = codes_in(&source);
    let docs = std::fs::read_to_string(root().join("docs/diagnostics.md")).unwrap();
    let sections: BTreeSet<String> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(|h| h.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    assert!(in_source.len() >= 10, "codes found in src/diag/code.rs: {in_source:?}");
    assert_eq!(
        in_source, sections,
        "codes in src/diag/code.rs vs sections of docs/diagnostics.md"
    );
}
