//! Rendering: the validated model through the Tera templates into manifests, each checked
//! against its Kubernetes type before anything is printed.

pub mod check;
pub mod engine;
pub mod k8s_gateway;
pub mod view;

use sha2::{Digest, Sha256};

use crate::diag::{Diagnostic, code};
use crate::values::Model;
use crate::{Failure, FailureKind};

/// Kinds of resource we emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ManifestKind {
    Deployment,
    DaemonSet,
    ConfigMap,
    Upstream,
    ServiceAccount,
    Secret,
    Service,
    GatewayClass,
    GatewayParameters,
}

impl ManifestKind {
    /// Every kind gloo-istio renders.
    pub const ALL: [ManifestKind; 9] = [
        ManifestKind::Deployment,
        ManifestKind::DaemonSet,
        ManifestKind::ConfigMap,
        ManifestKind::Upstream,
        ManifestKind::ServiceAccount,
        ManifestKind::Secret,
        ManifestKind::Service,
        ManifestKind::GatewayClass,
        ManifestKind::GatewayParameters,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ManifestKind::Deployment => "Deployment",
            ManifestKind::DaemonSet => "DaemonSet",
            ManifestKind::ConfigMap => "ConfigMap",
            ManifestKind::Upstream => "Upstream",
            ManifestKind::ServiceAccount => "ServiceAccount",
            ManifestKind::Secret => "Secret",
            ManifestKind::Service => "Service",
            ManifestKind::GatewayClass => "GatewayClass",
            ManifestKind::GatewayParameters => "GatewayParameters",
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
    /// The template it came from.
    pub template: &'static str,
}

impl Manifest {
    /// The file name used by `render --output-dir DIR`: `<kind>-<namespace>-<name>.yaml`, kind in lower case.
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}-{}.yaml",
            self.kind.as_str().to_ascii_lowercase(),
            self.namespace,
            self.name
        )
    }
}

/// A successful render, with the findings that did not stop it.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub manifests: Vec<Manifest>,
    pub findings: Vec<Diagnostic>,
}

impl Rendered {
    /// The multi-document YAML stream `render` prints.
    pub fn to_stream(&self) -> String {
        let mut out = String::new();
        for manifest in &self.manifests {
            out.push_str("---\n");
            out.push_str(&format!("# Source: gloo-istio/templates/{}\n", manifest.template));
            out.push_str(&manifest.text);
        }
        out
    }
}

fn internal(message: String) -> Failure {
    Failure {
        kind: FailureKind::Internal,
        diagnostics: vec![
            Diagnostic::error(code::INTERNAL, message).help(
                "this is a bug in gloo-istio (or in the --templates given); please report it with the values used",
            ),
        ],
    }
}

/// A failed check of a proxy's resource: the user's error when their `kubeResourceOverride`
/// (at `field` of the proxy) broke it, else ours.
fn finish_failure(
    error: check::FinishError,
    proxy: &crate::values::Proxy,
    field: &str,
    kind: &str,
    name: &str,
) -> Failure {
    match error {
        check::FinishError::Override(message) => Failure::invalid(vec![
            Diagnostic::error(
                code::INVALID_VALUE,
                format!(
                    "the {} of gateway proxy {} makes {kind} {name} invalid: it {message}",
                    field.trim_start_matches('/').replace('/', "."),
                    proxy.key
                ),
            )
            .path(crate::values::layers::dotted_path(&format!("{}{field}", proxy.pointer)))
            .help("the override is merged into the rendered resource: use the field names and types of the Kubernetes object"),
        ]),
        rendered => internal(format!("{kind} {name}: {rendered}")),
    }
}

/// Flux's post-build substitution replaces `${var}` in every manifest it applies. A rendered
/// document that carries `${` from the values is marked so that Flux leaves it alone.
fn protect_from_flux(kind: ManifestKind, text: String) -> Result<String, String> {
    if !text.contains("${") {
        return Ok(text);
    }
    let mark = serde_json::json!({"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}}});
    check::finish(kind, &text, mark.as_object()).map_err(|e| e.to_string())
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Renders every resource of the model: per proxy (in key order) the workload and its
/// ConfigMap, then the Upstreams. Pure: no I/O.
pub fn render_model(model: &Model, templates: &engine::Engine) -> Result<Vec<Manifest>, Failure> {
    let mut manifests = Vec::new();
    let istio_files = view::istio_files_mode(model);
    for proxy in &model.proxies {
        let custom_bootstrap = proxy
            .values
            .config_map
            .as_ref()
            .and_then(|c| c.data.as_ref())
            .is_some_and(|d| !d.is_empty());
        let bootstrap_text = if custom_bootstrap {
            None
        } else {
            let bootstrap = view::bootstrap(model, proxy);
            let text = engine::render(templates, "envoy-bootstrap.yaml", "b", &bootstrap).map_err(internal)?;
            check::bootstrap(&text)
                .map_err(|e| internal(format!("proxy {}: the rendered envoy bootstrap {e}", proxy.key)))?;
            Some(text)
        };
        let cm_view = view::config_map(model, proxy, bootstrap_text.as_deref());
        let cm_text = engine::render(templates, "configmap.yaml", "c", &cm_view).map_err(internal)?;
        let cm_override = proxy
            .values
            .config_map
            .as_ref()
            .and_then(|c| c.kube_resource_override.as_ref());
        let cm_text = check::finish(ManifestKind::ConfigMap, &cm_text, cm_override)
            .map_err(|e| finish_failure(e, proxy, "/configMap/kubeResourceOverride", "ConfigMap", &cm_view.name))
            .and_then(|t| {
                protect_from_flux(ManifestKind::ConfigMap, t)
                    .map_err(|e| internal(format!("ConfigMap {}: {e}", cm_view.name)))
            })?;
        // The checksum changes exactly when the ConfigMap text changes (Istio spec §3.4).
        let checksum = sha256_hex(&cm_text);

        let workload = view::workload(model, proxy, &checksum, istio_files);
        let kind = if workload.kind == "Deployment" {
            ManifestKind::Deployment
        } else {
            ManifestKind::DaemonSet
        };
        let text = engine::render(templates, "workload.yaml", "w", &workload).map_err(internal)?;
        let text = check::finish(kind, &text, proxy.values.kube_resource_override.as_ref())
            .map_err(|e| finish_failure(e, proxy, "/kubeResourceOverride", kind.as_str(), &workload.name))
            .and_then(|t| {
                protect_from_flux(kind, t).map_err(|e| internal(format!("{} {}: {e}", kind.as_str(), workload.name)))
            })?;
        manifests.push(Manifest {
            kind,
            name: workload.name.clone(),
            namespace: workload.namespace.clone(),
            text,
            envoy_bootstrap: None,
            template: "workload.yaml",
        });
        // The bootstrap rendered above is the ConfigMap's, unless an override replaced it.
        let envoy_bootstrap = match (bootstrap_text, cm_override.filter(|o| !o.is_empty())) {
            (Some(text), None) => Some(text),
            _ => check::config_map_bootstrap(&cm_text),
        };
        manifests.push(Manifest {
            kind: ManifestKind::ConfigMap,
            name: cm_view.name.clone(),
            namespace: cm_view.namespace.clone(),
            envoy_bootstrap,
            text: cm_text,
            template: "configmap.yaml",
        });
    }
    for upstream in &model.values.upstreams {
        let upstream_view = view::upstream(model, upstream);
        let text = engine::render(templates, "upstream.yaml", "u", &upstream_view).map_err(internal)?;
        let text = check::finish(ManifestKind::Upstream, &text, None)
            .map_err(|e| internal(format!("Upstream {}: {e}", upstream_view.name)))?;
        manifests.push(Manifest {
            kind: ManifestKind::Upstream,
            name: upstream_view.name,
            namespace: upstream_view.namespace,
            text,
            envoy_bootstrap: None,
            template: "upstream.yaml",
        });
    }
    Ok(manifests)
}

#[cfg(test)]
mod tests {
    use super::*;

    use view::tests::model;

    /// A template's name and an edit of its text.
    type Edit<'a> = (&'a str, fn(&str) -> String);

    /// The embedded templates with some replaced by their edits.
    fn engine_with(edits: &[Edit]) -> engine::Engine {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in engine::TEMPLATES {
            let text = edits
                .iter()
                .find(|(edited, _)| *edited == name)
                .map_or_else(|| text.to_string(), |(_, edit)| edit(text));
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        engine::from_dir(dir.path()).unwrap()
    }

    fn message(failure: Failure) -> String {
        assert_eq!(failure.kind, FailureKind::Internal);
        failure.to_string()
    }

    const UPSTREAMS: [&str; 2] = [
        "upstreams[0].name=first,upstreams[0].service=a,upstreams[0].namespace=b,upstreams[0].port=80",
        "upstreams[1].name=second,upstreams[1].service=c,upstreams[1].namespace=d,upstreams[1].port=81",
    ];

    /// A `kubeResourceOverride` is merged into the rendered workload.
    #[test]
    fn an_override_is_merged_into_its_resource() {
        let overridden = model(&["gatewayProxies.gatewayProxy.kubeResourceOverride.metadata.labels.x=y"]);
        let rendered = render_model(&overridden, engine::embedded()).unwrap();
        assert!(rendered[0].text.contains("x: \"y\""), "{}", rendered[0].text);
    }

    #[test]
    fn checks_run_on_every_document() {
        let model = model(&UPSTREAMS);
        let manifests = render_model(&model, engine::embedded()).unwrap();
        let kinds: Vec<_> = manifests.iter().map(|m| (m.kind, m.name.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (ManifestKind::Deployment, "gateway-proxy"),
                (ManifestKind::ConfigMap, "gateway-proxy-envoy-config"),
                (ManifestKind::Upstream, "first"),
                (ManifestKind::Upstream, "second"),
            ]
        );
        assert!(manifests.iter().all(|m| m.text.starts_with("apiVersion:")));
        for (name, edit) in [
            (
                "workload.yaml",
                (|t: &str| format!("{t}notAField: 1\n")) as fn(&str) -> String,
            ),
            ("configmap.yaml", |t| format!("{t}notAField: 1\n")),
            ("envoy-bootstrap.yaml", |_| "static_resources: [\n".to_string()),
            ("upstream.yaml", |t| t.replace("spec:", "notSpec:")),
        ] {
            let failure = render_model(&model, &engine_with(&[(name, edit)])).unwrap_err();
            assert!(!message(failure).is_empty(), "{name}");
        }
    }

    #[test]
    fn the_first_failing_document_is_the_one_reported() {
        let model = model(&UPSTREAMS);
        let broken_workload = (|t: &str| format!("{t}notAField: 1\n")) as fn(&str) -> String;
        let broken_bootstrap = (|_: &str| "static_resources: [\n".to_string()) as fn(&str) -> String;
        let broken_upstream = (|t: &str| t.replace("spec:", "notSpec:")) as fn(&str) -> String;
        let both = engine_with(&[
            ("workload.yaml", broken_workload),
            ("envoy-bootstrap.yaml", broken_bootstrap),
        ]);
        let text = message(render_model(&model, &both).unwrap_err());
        assert!(text.contains("the rendered envoy bootstrap"), "{text}");
        let workload = engine_with(&[("workload.yaml", broken_workload), ("upstream.yaml", broken_upstream)]);
        let text = message(render_model(&model, &workload).unwrap_err());
        assert!(
            text.contains("Deployment gateway-proxy") && text.contains("/notAField"),
            "{text}"
        );
        let upstreams = engine_with(&[("upstream.yaml", broken_upstream)]);
        let text = message(render_model(&model, &upstreams).unwrap_err());
        assert!(text.contains("Upstream first"), "{text}");
        // A failure while rendering comes after the failed checks of what was rendered before.
        let unrenderable = (|t: &str| format!("{t}{{{{ u.no_such_field }}}}\n")) as fn(&str) -> String;
        let late = engine_with(&[
            ("envoy-bootstrap.yaml", broken_bootstrap),
            ("upstream.yaml", unrenderable),
        ]);
        let text = message(render_model(&model, &late).unwrap_err());
        assert!(text.contains("the rendered envoy bootstrap"), "{text}");
        let only_late = engine_with(&[("upstream.yaml", unrenderable)]);
        let text = message(render_model(&model, &only_late).unwrap_err());
        assert!(text.contains("upstream.yaml"), "{text}");
    }
}
