//! What Gloo itself runs with: the Settings of the install and the `gloo` Deployment's switch
//! for the deprecated sidecar on the gateway.
//!
//! Gloo reads one Settings resource: the one named `default` in its own namespace (the chart
//! writes it there, and the `gloo` pod looks it up by that name in `POD_NAMESPACE`). Settings of
//! other installs in the same stream are not this install's, whatever their order.

use serde_json::Value;

use super::input::Doc;
use crate::diag::{Diagnostic, code};

/// The name of the Settings resource Gloo reads in its namespace.
const SETTINGS_NAME: &str = "default";
/// The `gloo` container env var of `global.istioIntegration.enableIstioSidecarOnGateway`.
pub(super) const SIDECAR_ON_GATEWAY_ENV: &str = "ENABLE_ISTIO_SIDECAR_ON_GATEWAY";

pub(super) struct GlooSettings<'a> {
    pub doc: Option<&'a Doc>,
    pub auto_mtls: bool,
    pub integration: bool,
    /// Upstream discovery runs: Gloo writes an Upstream for every Service port.
    pub discovery: bool,
    /// The `gloo` Deployment sets ENABLE_ISTIO_SIDECAR_ON_GATEWAY: where, if so.
    pub sidecar_on_gateway: Option<(&'a Doc, String)>,
}

/// The Settings of the install in `namespace`, and the `gloo` Deployment's switches.
pub(super) fn read<'a>(docs: &'a [Doc], namespace: &str, out: &mut Vec<Diagnostic>) -> GlooSettings<'a> {
    let all: Vec<&Doc> = docs.iter().filter(|d| d.is("gloo.solo.io", "Settings")).collect();
    let chosen = all
        .iter()
        .copied()
        .find(|d| d.name() == SETTINGS_NAME && d.namespace().unwrap_or(namespace) == namespace);
    let ignored: Vec<String> = all
        .iter()
        .filter(|d| !chosen.is_some_and(|c| std::ptr::eq(**d, c)))
        .map(|d| format!("{}/{}", d.namespace().unwrap_or(namespace), d.name()))
        .collect();
    if !ignored.is_empty() {
        let what = match chosen {
            Some(_) => format!("Gloo reads Settings {namespace}/{SETTINGS_NAME}"),
            None => {
                format!("no Settings {namespace}/{SETTINGS_NAME} in the input: auto-mTLS and discovery assumed off")
            }
        };
        let first = all.iter().find(|d| !chosen.is_some_and(|c| std::ptr::eq(**d, c)));
        out.push(
            Diagnostic::info(
                code::ANALYZE_SETTINGS,
                format!("{what}; ignored as another install's: {}", ignored.join(", ")),
            )
            .at(first.and_then(|d| d.at_key("/metadata/name")))
            .help(format!(
                "Gloo reads the Settings named `{SETTINGS_NAME}` in its own namespace; pass -n NAMESPACE for another install"
            )),
        );
    }
    let flag = |pointer: &str| chosen.and_then(|s| s.bool(pointer)).unwrap_or(false);
    let discovery_deployment = docs.iter().any(|d| {
        d.is("apps", "Deployment")
            && d.str("/metadata/labels/gloo") == Some("discovery")
            && d.namespace().unwrap_or(namespace) == namespace
    });
    let discovery = chosen.is_some_and(|s| {
        let enabled = s.bool("/spec/discovery/enabled");
        let uds = s.bool("/spec/discovery/udsOptions/enabled");
        enabled != Some(false) && uds != Some(false) && (enabled == Some(true) || discovery_deployment)
    });
    GlooSettings {
        doc: chosen,
        auto_mtls: flag("/spec/gloo/istioOptions/enableAutoMtls"),
        integration: flag("/spec/gloo/istioOptions/enableIntegration"),
        discovery,
        sidecar_on_gateway: sidecar_on_gateway(docs, namespace),
    }
}

/// The `gloo` Deployment's ENABLE_ISTIO_SIDECAR_ON_GATEWAY=true, with its JSON pointer.
fn sidecar_on_gateway<'a>(docs: &'a [Doc], namespace: &str) -> Option<(&'a Doc, String)> {
    docs.iter()
        .filter(|d| {
            d.is("apps", "Deployment")
                && d.str("/metadata/labels/gloo") == Some("gloo")
                && d.namespace().unwrap_or(namespace) == namespace
        })
        .find_map(|d| {
            let containers = d.value.pointer("/spec/template/spec/containers")?.as_array()?;
            containers.iter().enumerate().find_map(|(i, c)| {
                let env = c.get("env")?.as_array()?;
                env.iter().enumerate().find_map(|(j, e)| {
                    (e.get("name").and_then(Value::as_str) == Some(SIDECAR_ON_GATEWAY_ENV)
                        && e.get("value").and_then(Value::as_str) == Some("true"))
                    .then(|| (d, format!("/spec/template/spec/containers/{i}/env/{j}/value")))
                })
            })
        })
}
