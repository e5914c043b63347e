//! The values: loaded with positions, merged as Helm merges them, checked against the schema and
//! parsed into the typed [`Model`] the renderer reads.

pub mod layers;
pub mod merge_policy;
pub mod model;
pub mod proxy;

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
}

/// Kubernetes quantities may be written as numbers (`cpu: 2`); the API turns them into strings,
/// and so do we, before the values meet the `k8s-openapi` types.
fn normalize_quantities(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key.to_ascii_lowercase().ends_with("resources") {
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

/// Checks the loaded values and builds the model. On success, also returns the non-fatal
/// findings (info and warnings); on failure, every error found.
pub fn build_model(loaded: &LoadedValues, namespace: &str) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut instance = loaded.merged.clone();
    proxy::strip_omit_markers(&mut instance);
    proxy::strip_nulls(&mut instance);
    normalize_quantities(&mut instance);

    let mut findings = crate::validate::schema::not_rendered(loaded);
    let errors = crate::validate::schema::check(&instance, loaded);
    if !errors.is_empty() {
        return Err(errors);
    }
    let values: Values = serde_json::from_value(instance).map_err(|err| {
        vec![Diagnostic::error(
            code::INVALID_VALUE,
            format!("the values do not fit the model: {err}"),
        )]
    })?;

    let gateway_enabled = values.gateway.enabled.unwrap_or(true);
    let mut proxies = Vec::new();
    if let Some(Value::Object(raw_proxies)) = loaded.merged.get("gatewayProxies") {
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
    // serde_json maps iterate in sorted key order, which is the chart's order.
    let model = Model {
        values,
        proxies,
        namespace: namespace.to_string(),
    };
    let mut rule_findings = crate::validate::rules::check(&model, loaded);
    let has_errors = rule_findings.iter().any(|d| d.level == crate::diag::Level::Error);
    if has_errors {
        rule_findings.retain(|d| d.level == crate::diag::Level::Error);
        return Err(rule_findings);
    }
    findings.extend(rule_findings);
    Ok((model, findings))
}
