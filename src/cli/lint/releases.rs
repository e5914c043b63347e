//! The release file (`.gloo-istio.yaml`): which values files form one release, so that `lint`
//! checks them merged as `helm install -f a -f b` merges them.
//!
//! ```yaml
//! releases:
//!   - name: prod
//!     files: [values.yaml, values-prod.yaml]
//! ```

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::diag::{Diagnostic, Location, code};
use crate::values::layers::{Layer, read_source};

/// The release file `lint` reads from the current directory when `--config` is not given.
pub const DEFAULT_CONFIG: &str = ".gloo-istio.yaml";

/// One declared release: its values files in merge order, relative to the release file's
/// directory.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    pub files: Vec<PathBuf>,
    /// The files as absolute, normalized paths, to recognise them however they are named.
    absolute: Vec<PathBuf>,
}

impl Release {
    /// Whether `file` (as named on the command line) is one of the release's files.
    pub fn contains(&self, file: &Path) -> bool {
        file.as_os_str() != "-" && self.absolute.contains(&absolute(file))
    }
}

/// Whether `file` is the release file (`explicit`, or [`DEFAULT_CONFIG`]).
pub fn is_config(file: &Path, explicit: Option<&Path>) -> bool {
    let config = explicit.unwrap_or(Path::new(DEFAULT_CONFIG));
    file.as_os_str() != "-" && absolute(file) == absolute(config)
}

/// The releases of `explicit`, or of [`DEFAULT_CONFIG`] when it exists; none without either.
/// `Err` holds located findings: the file cannot be read or is not a release file.
pub fn load(explicit: Option<&Path>) -> Result<Vec<Release>, Vec<Diagnostic>> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => {
            let path = PathBuf::from(DEFAULT_CONFIG);
            if !path.exists() {
                return Ok(Vec::new());
            }
            path
        }
    };
    let source = read_source(&path).map_err(|failure| failure.diagnostics)?;
    let layer = Layer::parse(source).map_err(|diag| vec![diag])?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&layer, &base)
}

/// The finding for the value (or key) at `pointer` of the release file.
fn invalid(layer: &Layer, pointer: &str, key: bool, message: String, help: &str) -> Diagnostic {
    let span = layer
        .spans
        .get(pointer)
        .map(|(key_span, value)| if key { key_span.unwrap_or(*value) } else { *value });
    Diagnostic::error(code::RELEASE_FILE, message)
        .at(span.map(|span| Location {
            source: layer.source.clone(),
            span,
        }))
        .in_file(layer.source.name.clone())
        .help(help.to_string())
}

const SHAPE: &str = "write `releases:` as a list of `{name: NAME, files: [values.yaml, values-prod.yaml]}`";

fn parse(layer: &Layer, base: &Path) -> Result<Vec<Release>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut releases: Vec<Release> = Vec::new();
    let Value::Object(root) = &layer.value else {
        return Err(vec![invalid(
            layer,
            "",
            false,
            "the release file is not a mapping".into(),
            SHAPE,
        )]);
    };
    for key in root.keys().filter(|k| *k != "releases") {
        errors.push(invalid(
            layer,
            &format!("/{}", key.replace('~', "~0").replace('/', "~1")),
            true,
            format!(
                "unknown key `{}` in the release file",
                crate::diag::escape_controls(key)
            ),
            "the release file has one key, `releases`",
        ));
    }
    let items = match root.get("releases") {
        None | Some(Value::Null) => &Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.push(invalid(
                layer,
                "/releases",
                false,
                "`releases` must be a list".into(),
                SHAPE,
            ));
            &Vec::new()
        }
    };
    for (i, item) in items.iter().enumerate() {
        let at = format!("/releases/{i}");
        let Value::Object(fields) = item else {
            errors.push(invalid(
                layer,
                &at,
                false,
                format!("`releases[{i}]` must be a mapping"),
                SHAPE,
            ));
            continue;
        };
        for key in fields.keys().filter(|k| *k != "name" && *k != "files") {
            errors.push(invalid(
                layer,
                &format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                true,
                format!("unknown key `{}` in `releases[{i}]`", crate::diag::escape_controls(key)),
                "a release has the keys `name` and `files`",
            ));
        }
        let name = match fields.get("name") {
            Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
            _ => {
                errors.push(invalid(
                    layer,
                    &at,
                    true,
                    format!("`releases[{i}]` needs a `name` (a non-empty string)"),
                    SHAPE,
                ));
                continue;
            }
        };
        if releases.iter().any(|r| r.name == name) {
            errors.push(invalid(
                layer,
                &format!("{at}/name"),
                false,
                format!("two releases are named `{}`", crate::diag::escape_controls(&name)),
                "give each release its own name",
            ));
        }
        let files: Vec<PathBuf> = match fields.get("files") {
            Some(Value::Array(files)) if !files.is_empty() => {
                let mut out = Vec::new();
                for (j, file) in files.iter().enumerate() {
                    match file {
                        Value::String(file) if !file.is_empty() && file != "-" => out.push(base.join(file)),
                        _ => errors.push(invalid(
                            layer,
                            &format!("{at}/files/{j}"),
                            false,
                            format!("`releases[{i}].files[{j}]` must be the path of a values file"),
                            "name the file relative to the release file's directory",
                        )),
                    }
                }
                out
            }
            _ => {
                errors.push(invalid(
                    layer,
                    &at,
                    true,
                    format!("`releases[{i}]` needs `files`, a non-empty list of values files"),
                    SHAPE,
                ));
                continue;
            }
        };
        let absolute: Vec<PathBuf> = files.iter().map(|f| absolute(f)).collect();
        releases.push(Release { name, files, absolute });
    }
    if errors.is_empty() { Ok(releases) } else { Err(errors) }
}

/// `path` made absolute against the current directory, `.` and `..` resolved by name.
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_compared_by_what_they_name() {
        assert_eq!(
            absolute(Path::new("./a/../values.yaml")),
            absolute(Path::new("values.yaml"))
        );
        assert_ne!(
            absolute(Path::new("values.yaml")),
            absolute(Path::new("values/values.yaml"))
        );
    }
}
