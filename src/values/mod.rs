//! The values: loaded with positions, merged as Helm merges them, checked against the schema and
//! parsed into the typed [`Model`] the renderer reads.

pub mod chart_keys;
pub mod gateway_api;
pub mod image;
pub mod kube_gateway;
pub mod label_selector;
pub mod layers;
pub mod merge_policy;
pub mod model;
pub mod names;
pub mod proxy;
pub mod security;
pub mod set_flags;
pub mod unrendered;

use serde_json::Value;

pub use image::{Image, ImageVariant, PullPolicy};
pub use model::*;
pub use unrendered::{NOT_RENDERED_MARK, Unrendered};

use layers::LoadedValues;

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
    /// Images given whole on the command line, resolved: they replace the references the
    /// values compose.
    pub whole_images: WholeImages,
}

/// The sidecar images `inject --sds-image` and `--istio-proxy-image` give whole.
#[derive(Debug, Clone, Default)]
pub struct WholeImages {
    pub sds: Option<String>,
    pub istio_proxy: Option<String>,
}

/// An optional switch of the values: unset is off, as in the chart's templates.
pub fn on(flag: Option<bool>) -> bool {
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
pub fn normalize_quantities(value: &mut Value) {
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
