//! The values: loaded with positions, merged as Helm merges them, checked against the schema and
//! parsed into the typed [`Model`] the renderer reads.

pub mod image;
pub mod layers;
pub mod merge_policy;
pub mod model;
pub mod names;
pub mod proxy;
pub mod security;

use serde_json::Value;

pub use model::*;

use crate::diag::{Diagnostic, code};
use layers::{LoadedValues, dotted_path};

/// One gateway proxy to render, with its effective (inherited) values.
#[derive(Debug, Clone)]
pub struct Proxy {
    /// The key under `gatewayProxies`.
    pub key: String,
    /// The key in kebab case: the resource names and the `gateway-proxy-id` label.
    pub id: String,
    /// The effective values.
    pub values: GatewayProxy,
    /// JSON pointer of the proxy's own entry, for locating findings.
    pub pointer: String,
}

/// Everything the renderer needs, typed and validated.
#[derive(Debug, Clone)]
pub struct Model {
    pub values: Values,
    /// The enabled proxies, in sorted key order (as the chart renders them).
    pub proxies: Vec<Proxy>,
    /// The release namespace.
    pub namespace: String,
    /// The manifests of the embedded templates, when checking the values already rendered them
    /// (to see whether a `kubeResourceOverride` breaks its resource), so that `render` does not
    /// render them twice. Only `render_files` takes it, right after building the model.
    pub(crate) rendered: std::sync::OnceLock<Vec<crate::render::Manifest>>,
}

fn on(flag: Option<bool>) -> bool {
    flag.unwrap_or(false)
}

impl Model {
    /// Istio spec §1.2 `ISTIO_ON`.
    pub fn istio_on(&self) -> bool {
        on(self.values.global.istio_integration.enabled) || on(self.values.global.istio_sds.enabled)
    }

    /// Istio spec §1.2 `GLOO_MTLS`.
    pub fn gloo_mtls(&self) -> bool {
        on(self.values.global.gloo_mtls.enabled)
    }

    /// Istio spec §1.2 `SDS_ON`.
    pub fn sds_on(&self) -> bool {
        self.istio_on() || self.gloo_mtls()
    }

    /// The custom sidecars, when they replace the default istio-proxy (Istio spec §1.2
    /// `CUSTOM_SIDECARS`; an empty list counts as unset).
    pub fn custom_sidecars(&self) -> Option<&[k8s_openapi::api::core::v1::Container]> {
        if !self.istio_on() {
            return None;
        }
        self.values
            .global
            .istio_sds
            .custom_sidecars
            .as_deref()
            .filter(|s| !s.is_empty())
    }

    /// Istio spec §1.2 `DEFAULT_ISTIO_PROXY`.
    pub fn default_istio_proxy(&self) -> bool {
        self.istio_on() && self.custom_sidecars().is_none()
    }

    /// Istio spec §1.2 `SETTINGS_INTEGRATION`: what Settings `enableIntegration` becomes.
    pub fn settings_integration(&self) -> bool {
        on(self.values.global.istio_integration.enabled)
    }

    /// Istio spec §1.2 `SIDECAR_ON_GW`.
    pub fn sidecar_on_gateway(&self) -> bool {
        on(self.values.global.istio_integration.enable_istio_sidecar_on_gateway)
    }

    /// Whether Gloo's automatic mTLS is active (it needs Settings `enableIntegration`).
    pub fn auto_mtls_active(&self) -> bool {
        on(self.values.global.istio_integration.enable_auto_mtls) && self.settings_integration()
    }

    /// The mode an Upstream is rendered in: `auto` resolved against the values.
    pub fn upstream_mode(&self, upstream: &UpstreamValues) -> UpstreamMtlsMode {
        match upstream.mtls {
            UpstreamMtlsMode::Auto if self.auto_mtls_active() => UpstreamMtlsMode::None,
            UpstreamMtlsMode::Auto if self.istio_on() => UpstreamMtlsMode::IstioSds,
            UpstreamMtlsMode::Auto => UpstreamMtlsMode::None,
            mode => mode,
        }
    }
}

/// Kubernetes quantities may be written as numbers (`cpu: 2`); the API turns them into strings,
/// and so do we, before the values meet the `k8s-openapi` types.
fn normalize_quantities(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key.len() >= 9 && key.as_bytes()[key.len() - 9..].eq_ignore_ascii_case(b"resources") {
                    for section in ["limits", "requests"] {
                        if let Some(Value::Object(quantities)) = child.get_mut(section) {
                            for q in quantities.values_mut() {
                                if let Value::Number(n) = q {
                                    *q = Value::String(n.to_string());
                                }
                            }
                        }
                    }
                }
                normalize_quantities(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_quantities),
        _ => {}
    }
}

/// What the schema checks: the merged values without nulls and `gloo.omitOverwrite` markers,
/// quantities as strings.
pub fn schema_instance(loaded: &LoadedValues) -> Value {
    let mut instance = loaded.merged.clone();
    proxy::strip_omit_markers(&mut instance);
    proxy::strip_nulls(&mut instance);
    normalize_quantities(&mut instance);
    instance
}

/// The outcome of checking values: the model when the values fit it, and every finding.
#[derive(Debug, Clone)]
pub struct Checked {
    pub model: Option<Model>,
    pub findings: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|d| d.level == crate::diag::Level::Error)
    }
}

fn sort_findings(findings: &mut [Diagnostic]) {
    findings.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.location
                .as_ref()
                .map(|l| (l.source.name.clone(), l.span.start.offset))
        };
        key(a).cmp(&key(b)).then(b.level.cmp(&a.level))
    });
}

/// Checks the loaded values: the schema, then (when the values fit the model) every rule.
/// Reports every finding; never stops at the first.
pub fn check_values(loaded: &LoadedValues, namespace: &str, options: &crate::validate::rules::RuleOptions) -> Checked {
    // The namespace names resources and the files of `render -o`: it must be a DNS label.
    if !names::is_dns_label(namespace) {
        return Checked {
            model: None,
            findings: vec![
                Diagnostic::error(
                    code::INVALID_VALUE,
                    format!("`{namespace}` is not a valid Kubernetes namespace"),
                )
                .help("use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit"),
            ],
        };
    }
    let instance = schema_instance(loaded);
    let mut findings = crate::validate::schema::not_rendered(loaded);
    let schema_errors = crate::validate::schema::check(&instance, loaded);
    if !schema_errors.is_empty() {
        findings.extend(schema_errors);
        sort_findings(&mut findings);
        return Checked { model: None, findings };
    }
    match model_from(instance, loaded, namespace) {
        Ok(model) => {
            findings.extend(crate::validate::rules::check(&model, loaded, options));
            findings.extend(override_errors(&model, loaded));
            sort_findings(&mut findings);
            Checked {
                model: Some(model),
                findings,
            }
        }
        Err(errors) => {
            findings.extend(errors);
            sort_findings(&mut findings);
            Checked { model: None, findings }
        }
    }
}

/// A `kubeResourceOverride` is merged into the rendered resource, so only a render can tell
/// whether it leaves a valid object: the proxies that have one are rendered, and an override
/// that breaks its resource is reported at its key.
fn override_errors(model: &Model, loaded: &LoadedValues) -> Vec<Diagnostic> {
    let fields = ["/kubeResourceOverride", "/configMap/kubeResourceOverride"];
    let has_override = model.proxies.iter().any(|proxy| {
        proxy
            .values
            .kube_resource_override
            .as_ref()
            .is_some_and(|o| !o.is_empty())
            || proxy
                .values
                .config_map
                .as_ref()
                .and_then(|c| c.kube_resource_override.as_ref())
                .is_some_and(|o| !o.is_empty())
    });
    if !has_override {
        return Vec::new();
    }
    let failure = match crate::render::render_model(model, crate::render::engine::embedded()) {
        Ok(manifests) => {
            let _ = model.rendered.set(manifests);
            return Vec::new();
        }
        Err(failure) => failure,
    };
    if failure.kind != crate::FailureKind::Invalid {
        // Ours, not the values': `render` reports it as an internal error.
        return Vec::new();
    }
    failure
        .diagnostics
        .into_iter()
        .map(|d| {
            let pointer = model
                .proxies
                .iter()
                .flat_map(|p| fields.iter().map(move |f| format!("{}{f}", p.pointer)))
                .find(|pointer| dotted_path(pointer) == d.path);
            match pointer {
                Some(pointer) => {
                    let location = loaded.locate_key(&pointer);
                    d.at(location)
                }
                None => d,
            }
        })
        .collect()
}

fn model_from(instance: Value, loaded: &LoadedValues, namespace: &str) -> Result<Model, Vec<Diagnostic>> {
    let values: Values = serde_json::from_value(instance).map_err(|err| {
        vec![Diagnostic::error(
            code::INVALID_VALUE,
            format!("the values do not fit the model: {err}"),
        )]
    })?;
    let gateway_enabled = values.gateway.enabled.unwrap_or(true);
    let mut proxies = Vec::new();
    if let Some(Value::Object(raw_proxies)) = loaded.merged.get("gatewayProxies") {
        // serde_json maps iterate in sorted key order, which is the chart's order.
        for key in raw_proxies.keys() {
            let mut effective = proxy::effective_proxy(raw_proxies, key);
            proxy::strip_nulls(&mut effective);
            normalize_quantities(&mut effective);
            let pointer = format!("/gatewayProxies/{}", key.replace('~', "~0").replace('/', "~1"));
            let proxy_values: GatewayProxy = serde_json::from_value(effective).map_err(|err| {
                vec![
                    Diagnostic::error(
                        code::INVALID_VALUE,
                        format!(
                            "`{}` with the keys it inherits from `gatewayProxy` is invalid: {err}",
                            dotted_path(&pointer)
                        ),
                    )
                    .path(dotted_path(&pointer))
                    .at(loaded.locate_key(&pointer)),
                ]
            })?;
            if !gateway_enabled || on(proxy_values.disabled) {
                continue;
            }
            proxies.push(Proxy {
                key: key.clone(),
                id: proxy::kebab_case(key),
                values: proxy_values,
                pointer,
            });
        }
    }
    Ok(Model {
        values,
        proxies,
        namespace: namespace.to_string(),
        rendered: std::sync::OnceLock::new(),
    })
}

/// Checks the loaded values and builds the model for rendering. On success, also returns the
/// findings that do not stop a render (infos and warnings); on failure, every error.
pub fn build_model(
    loaded: &LoadedValues,
    namespace: &str,
    options: &crate::validate::rules::RuleOptions,
) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    let checked = check_values(loaded, namespace, options);
    let has_errors = checked.has_errors();
    match checked.model {
        Some(model) if !has_errors => Ok((model, checked.findings)),
        _ => Err(checked
            .findings
            .into_iter()
            .filter(|d| d.level == crate::diag::Level::Error)
            .collect()),
    }
}
