//! The SARIF 2.1.0 log of a set of findings (`--format sarif`, for GitHub code scanning and
//! other SARIF viewers). The rules are the codes of `docs/diagnostics.md` ([`super::rules`]).

use serde_json::{Value, json};

use super::{Diagnostic, Level, Location};

/// The SARIF schema a log names.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// One SARIF log with one run of gloo-istio holding every finding.
pub fn log(findings: &[Diagnostic]) -> Value {
    let rules = super::rules::rules();
    let descriptors: Vec<Value> = rules
        .iter()
        .map(|rule| {
            json!({
                "id": rule.code,
                "name": camel_case(rule.title),
                "shortDescription": {"text": format!("{} {}", rule.code, rule.title)},
                "fullDescription": {"text": rule.summary},
                "help": {"text": rule.body, "markdown": rule.body},
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|d| {
            let mut result = json!({
                "ruleId": d.code,
                "level": match d.level {
                    Level::Error => "error",
                    Level::Warning => "warning",
                    Level::Info => "note",
                },
                "message": {"text": message(d)},
                "locations": physical(d).into_iter().collect::<Vec<_>>(),
            });
            if let Some(index) = rules.iter().position(|r| r.code == d.code) {
                result["ruleIndex"] = json!(index);
            }
            let related: Vec<Value> = d
                .related
                .iter()
                .enumerate()
                .filter_map(|(id, (loc, label))| {
                    let mut location = location(loc)?;
                    location["id"] = json!(id);
                    location["message"] = json!({"text": d.shown(label)});
                    Some(location)
                })
                .collect();
            if !related.is_empty() {
                result["relatedLocations"] = Value::Array(related);
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gloo-istio",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// The message, the key path and the help line, redacted as in every other format.
fn message(d: &Diagnostic) -> String {
    let mut text = d.shown(&d.message);
    if !d.path.is_empty() {
        text.push_str(&format!(" (at {})", d.shown(&d.path)));
    }
    if let Some(help) = &d.help {
        text.push_str(&format!("\nhelp: {}", d.shown(help)));
    }
    text
}

/// The finding's place: a region of a file, or the file alone. `None` for findings in no file
/// (`--set` arguments, standard input, the command line).
fn physical(d: &Diagnostic) -> Option<Value> {
    match &d.location {
        Some(loc) => location(loc),
        None => d
            .file
            .as_deref()
            .and_then(uri)
            .map(|uri| json!({"physicalLocation": {"artifactLocation": {"uri": uri}}})),
    }
}

fn location(loc: &Location) -> Option<Value> {
    let uri = uri(&loc.source.name)?;
    let start = loc.span.start;
    let end = if loc.span.end.offset < start.offset {
        start
    } else {
        loc.span.end
    };
    Some(json!({"physicalLocation": {
        "artifactLocation": {"uri": uri},
        "region": {
            "startLine": start.line,
            "startColumn": start.col,
            "endLine": end.line,
            "endColumn": end.col,
        },
    }}))
}

/// The URI reference of a file name: relative names stay relative (to the directory gloo-istio
/// ran in, normally the repository's root), absolute ones become `file://` URIs. `None` for the
/// names of sources that are not files (`<stdin>`, `--set`).
fn uri(name: &str) -> Option<String> {
    if name.is_empty() || name.starts_with('<') || name.starts_with("--") {
        return None;
    }
    let name = name.strip_prefix("./").unwrap_or(name);
    let mut out = String::new();
    if name.starts_with('/') {
        out.push_str("file://");
    }
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Some(out)
}

/// `conflicting flags` → `ConflictingFlags`, SARIF's rule name form.
fn camel_case(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_uri_references() {
        assert_eq!(uri("values/prod.yaml").as_deref(), Some("values/prod.yaml"));
        assert_eq!(uri("./a b.yaml").as_deref(), Some("a%20b.yaml"));
        assert_eq!(uri("/tmp/v.yaml").as_deref(), Some("file:///tmp/v.yaml"));
        assert_eq!(uri("<stdin>"), None);
        assert_eq!(uri("--set"), None);
        assert_eq!(camel_case("sds targetUri"), "SdsTargetUri");
    }
}
