//! Rendering: the validated model through the Tera templates into manifests.
//!
//! STUB: the public API below is the contract other parts are written against.

use std::path::PathBuf;

/// What the user asked to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Values files, later ones override earlier ones.
    pub values_files: Vec<PathBuf>,
    /// `--set path=value` overrides, applied after the files, in order.
    pub set: Vec<String>,
    /// The release namespace (`gloo-system` by default).
    pub namespace: String,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { values_files: Vec::new(), set: Vec::new(), namespace: "gloo-system".into() }
    }
}

/// Kinds of resource we emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ManifestKind {
    Deployment,
    DaemonSet,
    ConfigMap,
    Upstream,
}

impl ManifestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ManifestKind::Deployment => "Deployment",
            ManifestKind::DaemonSet => "DaemonSet",
            ManifestKind::ConfigMap => "ConfigMap",
            ManifestKind::Upstream => "Upstream",
        }
    }
}

/// One rendered resource.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub kind: ManifestKind,
    pub name: String,
    pub namespace: String,
    /// The YAML document, without a leading `---`, ending with a newline.
    pub text: String,
    /// For the gateway-proxy ConfigMaps: the `envoy.yaml` bootstrap they carry.
    pub envoy_bootstrap: Option<String>,
}

impl Manifest {
    /// The file name used by `render -o DIR`: `<kind>-<namespace>-<name>.yaml`, kind in lower case.
    pub fn file_name(&self) -> String {
        format!("{}-{}-{}.yaml", self.kind.as_str().to_ascii_lowercase(), self.namespace, self.name)
    }
}

/// A successful render.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub manifests: Vec<Manifest>,
}

/// Renders the values files of `opts`.
pub fn render_files(_opts: &RenderOptions) -> Result<Rendered, crate::Failure> {
    todo!("render")
}
