//! The mesh traps of the Kubernetes Gateway API proxies (k8s-gateway spec §2.5, §9.A): settings
//! that the chart or the controller's deployer ignores, or renders into proxies the cluster
//! rejects or Istio takes over. [`check`] looks at the chart values (`lint` and `render`);
//! [`check_gateway`] at one Gateway and its GatewayParameters (`render -f VALUES MANIFEST`).

use serde_json::Value;

use super::Ctx;
use crate::diag::{Diagnostic, Location, code};
use crate::values::gateway_api::ApiObject;

/// `GG` of the spec: the chart values of the class default GatewayParameters.
const GG: &str = "/kubeGateway/gatewayParameters/glooGateway";

/// The label that keeps Istio's injector off a pod (spec §9.A4).
const INJECT_LABEL: &str = "sidecar.istio.io/inject";

/// The istio-proxy fields that make the mesh identity (spec §9.A3).
const MESH_FIELDS: [&str; 3] = ["istioDiscoveryAddress", "istioMetaMeshId", "istioMetaClusterId"];

pub fn check(ctx: &mut Ctx) {
    if !ctx.model.values.kube_gateway.is_enabled() {
        return;
    }
    null_images(ctx);
    class_custom_sidecars(ctx);
    istio_settings_without_the_switch(ctx);
    no_inject_label_at_class_level(ctx);
    class_mesh_values(ctx);
    yaml_1_1_booleans(ctx);
}

/// What one Gateway's render needs to know to judge its GatewayParameters.
pub struct GatewayFacts<'a> {
    pub gateway: &'a ApiObject,
    /// The Gateway-level GatewayParameters (named by the Gateway's annotation), if any.
    pub gateway_level: Option<&'a ApiObject>,
    /// `spec` of the class default.
    pub class_default: &'a Value,
    /// `spec.kube` after the merge.
    pub kube: &'a Value,
    /// The controller's Istio switch.
    pub istio: bool,
    /// The controller's gloo mTLS switch.
    pub gloo_mtls: bool,
}

/// The findings of one Gateway that gets objects.
pub fn check_gateway(facts: &GatewayFacts) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let who = format!("Gateway {}/{}", facts.gateway.namespace(), facts.gateway.name());
    if let Some(parameters) = facts.gateway_level {
        let name = format!("GatewayParameters {}/{}", parameters.namespace(), parameters.name());
        let kube = parameters.value.pointer("/spec/kube");
        if kube.and_then(|k| k.pointer("/istio/customSidecars")).is_some() {
            out.push(
                Diagnostic::warning(
                    code::K8S_GATEWAY_CUSTOM_SIDECARS,
                    format!("{name}: istio.customSidecars is never used by the deployer: {who} gets the default istio-proxy container, and no custom sidecar"),
                )
                .at(parameters.at_key("/spec/kube/istio/customSidecars"))
                .help("configure the istio-proxy container with istio.istioProxyContainer instead"),
            );
        }
        if !facts.istio && kube.and_then(|k| k.get("istio")).is_some() {
            out.push(
                Diagnostic::warning(
                    code::K8S_GATEWAY_ISTIO_OFF,
                    format!("{name}: the istio settings do nothing, as the controller's Istio integration is off: {who} gets no sds or istio-proxy container"),
                )
                .at(parameters.at_key("/spec/kube/istio"))
                .help("the sidecars come only from global.istioIntegration.enabled of the Gloo chart (read when the controller starts)"),
            );
        }
        for field in MESH_FIELDS {
            let pointer = format!("/spec/kube/istio/istioProxyContainer/{field}");
            let (Some(ours), Some(class)) = (
                parameters.value.pointer(&pointer).filter(|v| !v.is_null()),
                facts
                    .class_default
                    .pointer(&format!("/kube/istio/istioProxyContainer/{field}"))
                    .filter(|v| !v.is_null()),
            ) else {
                continue;
            };
            if ours != class {
                out.push(
                    Diagnostic::warning(
                        code::K8S_GATEWAY_MESH_IDENTITY,
                        format!("{name}: {field} is ignored: the class default sets it ({}), and the deployer keeps the class default's mesh identity for {who}", text(class)),
                    )
                    .at(parameters.at_key(&pointer))
                    .help("the mesh identity (discovery address, mesh id, cluster id) is a class-level setting: change it in the Gloo chart values (kubeGateway.gatewayParameters.glooGateway.istio.istioProxyContainer), or use another GatewayClass"),
                );
            }
        }
    }
    if facts.istio {
        let labels = facts.kube.pointer("/podTemplate/extraLabels");
        if labels.and_then(|l| l.get(INJECT_LABEL)).is_none() {
            out.push(
                Diagnostic::warning(
                    code::K8S_GATEWAY_INJECT_LABEL,
                    format!("{who}: its proxy pods carry an istio-proxy container but no `{INJECT_LABEL}` label: in a namespace with Istio injection on, Istio's injector adds its own sidecar and merges it with the deployer's"),
                )
                .at(facts.gateway.location.clone())
                .help(format!("give the Gateway a GatewayParameters with podTemplate.extraLabels {{{INJECT_LABEL}: \"false\"}}")),
            );
        }
        for field in MESH_FIELDS {
            let pointer = format!("/istio/istioProxyContainer/{field}");
            if let Some(value) = facts.kube.pointer(&pointer).and_then(Value::as_str)
                && !reads_as_text(value)
            {
                // Only what the Gateway level brought in: the class default's own values are
                // reported on the chart values.
                let from_class = facts.class_default.pointer(&format!("/kube{pointer}")).is_some();
                if let (false, Some(parameters)) = (from_class, facts.gateway_level) {
                    out.push(unquoted_mesh_value(
                        field,
                        value,
                        parameters.at_key(&format!("/spec/kube{pointer}")),
                    ));
                }
            }
        }
    }
    for (container, pointer) in [
        ("gloo-gateway", "/envoyContainer/image"),
        ("sds", "/sdsContainer/image"),
        ("istio-proxy", "/istio/istioProxyContainer/image"),
    ] {
        let renders = match container {
            "gloo-gateway" => true,
            "sds" => (facts.istio || facts.gloo_mtls) && facts.kube.get("sdsContainer").is_some(),
            _ => facts.istio && facts.kube.pointer("/istio/istioProxyContainer").is_some(),
        };
        let image = facts.kube.pointer(pointer);
        let missing: Vec<&str> = ["registry", "repository", "tag"]
            .into_iter()
            .filter(|part| image.and_then(|i| i.get(*part)).and_then(Value::as_str).is_none())
            .collect();
        if renders && !missing.is_empty() {
            out.push(
                Diagnostic::warning(
                    code::K8S_GATEWAY_IMAGE,
                    format!("{who}: the {container} image has no {}: the deployer writes `%!s(<nil>)` in its place, an image no registry serves", missing.join(", ")),
                )
                .at(facts.gateway.location.clone())
                .help(format!("set spec.kube{pointer} in the class default or the Gateway's GatewayParameters")),
            );
        }
    }
    out
}

/// `image: null` for the sds, istio-proxy or AI extension image: the chart merges these three
/// with no fallback map and fails (spec §2.5, case C20).
fn null_images(ctx: &mut Ctx) {
    for section in ["sdsContainer", "istio/istioProxyContainer", "aiExtension"] {
        let pointer = format!("{GG}/{section}/image");
        if ctx.loaded.user.pointer(&pointer) == Some(&Value::Null) {
            let path = crate::values::layers::dotted_path(&pointer);
            let d = Diagnostic::error(
                code::INVALID_VALUE,
                format!("`{path}: null`: the Gloo chart fails on it (\"wrong type for value; expected map\") and installs nothing"),
            )
            .path(path)
            .at(ctx.at(&pointer))
            .help("null single keys instead (`repository: null`), or leave the image out for the chart's default");
            ctx.push(d);
        }
    }
}

/// A class-level `customSidecars` removes `istioProxyContainer` and `stats` from the class
/// default (spec §2.5, §9.A2, cases C03, R07, R08).
fn class_custom_sidecars(ctx: &mut Ctx) {
    let pointer = format!("{GG}/istio/customSidecars");
    let Some(sidecars) = ctx.loaded.merged.pointer(&pointer) else {
        return;
    };
    if sidecars.as_array().is_none_or(Vec::is_empty) {
        return;
    }
    let consequence = if istio_switch(ctx) {
        " With the Istio integration on, every Gateway of the class fails to render unless its own GatewayParameters gives an istio.istioProxyContainer."
    } else {
        ""
    };
    let d = Diagnostic::warning(
        code::K8S_GATEWAY_CUSTOM_SIDECARS,
        format!("the deployer never uses customSidecars; here it takes istioProxyContainer and stats out of the class default GatewayParameters (no Prometheus listener, port or annotations).{consequence}"),
    )
    .path(crate::values::layers::dotted_path(&pointer))
    .at(ctx.at_key(&pointer))
    .help("remove customSidecars and set istio.istioProxyContainer instead");
    ctx.push(d);
}

/// `glooGateway.istio` set while the Istio integration is off (spec §9.A1).
fn istio_settings_without_the_switch(ctx: &mut Ctx) {
    let pointer = format!("{GG}/istio");
    if istio_switch(ctx) || !ctx.user_set(&pointer) {
        return;
    }
    let d = Diagnostic::warning(
        code::K8S_GATEWAY_ISTIO_OFF,
        "the istio settings of the class default GatewayParameters do nothing while global.istioIntegration.enabled is off: the Gateway proxies get no sds or istio-proxy container (global.istioSDS does not turn them on)",
    )
    .path(crate::values::layers::dotted_path(&pointer))
    .at(ctx.at_key(&pointer))
    .help("set global.istioIntegration.enabled: true, or remove the istio settings");
    ctx.push(d);
}

/// The chart gives the class default no way to add pod labels: with the Istio integration on,
/// only each Gateway's GatewayParameters can keep Istio's injector off (spec §9.A4).
fn no_inject_label_at_class_level(ctx: &mut Ctx) {
    if !istio_switch(ctx) {
        return;
    }
    let d = Diagnostic::info(
        code::K8S_GATEWAY_INJECT_LABEL,
        format!("the Gateway proxies of class gloo-gateway get an istio-proxy container and no `{INJECT_LABEL}` label, and the class default cannot add one: in a namespace with Istio injection on, Istio's injector adds its own sidecar"),
    )
    .path("global.istioIntegration.enabled")
    .at(ctx.at_key("/global/istioIntegration/enabled"))
    .help(format!("give each Gateway a GatewayParameters with podTemplate.extraLabels {{{INJECT_LABEL}: \"false\"}}"));
    ctx.push(d);
}

/// Mesh values the deployer inserts unquoted (spec §9.A5).
fn class_mesh_values(ctx: &mut Ctx) {
    for field in MESH_FIELDS {
        let pointer = format!("{GG}/istio/istioProxyContainer/{field}");
        if let Some(value) = ctx.loaded.merged.pointer(&pointer).and_then(Value::as_str)
            && !reads_as_text(value)
        {
            let d =
                unquoted_mesh_value(field, value, ctx.at(&pointer)).path(crate::values::layers::dotted_path(&pointer));
            ctx.push(d);
        }
    }
}

fn unquoted_mesh_value(field: &str, value: &str, at: Option<Location>) -> Diagnostic {
    Diagnostic::warning(
        code::K8S_GATEWAY_UNQUOTED,
        format!("{field} `{value}` is not text once unquoted, and the deployer writes it unquoted into the istio-proxy env: the API server rejects the Deployment (gloo-istio's output quotes it)"),
    )
    .at(at)
    .help("use a value that reads as text without quotes (letters first)")
}

/// Whether `value`, written unquoted after `key: `, reads back as the same text.
fn reads_as_text(value: &str) -> bool {
    !value.is_empty()
        && !is_yaml_1_1_bool(value)
        && crate::yaml::parse_json(&format!("v: {value}")).ok() == Some(serde_json::json!({ "v": value }))
}

/// Words Helm's YAML library (YAML 1.1) reads as booleans when plain.
fn is_yaml_1_1_bool(text: &str) -> bool {
    matches!(
        text,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// Unquoted `y`, `yes`, `on` … in the string maps of the class default: Helm reads them as
/// booleans, the chart writes `true`/`false`, and the API server rejects the GatewayParameters
/// (spec §2.5, case C19). gloo-istio reads them as text.
fn yaml_1_1_booleans(ctx: &mut Ctx) {
    for map in [
        "service/extraLabels",
        "service/extraAnnotations",
        "serviceAccount/extraLabels",
        "serviceAccount/extraAnnotations",
    ] {
        let pointer = format!("{GG}/{map}");
        let Some(Value::Object(entries)) = ctx.loaded.user.pointer(&pointer) else {
            continue;
        };
        for (key, value) in entries {
            let Some(text) = value.as_str().filter(|t| is_yaml_1_1_bool(t)) else {
                continue;
            };
            let entry = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
            let Some(location) = ctx.loaded.locate_exact(&entry) else {
                continue;
            };
            let written = location.source.text.get(location.span.start.offset..).unwrap_or("");
            if location.source.name == "--set" || written.starts_with(['"', '\'']) {
                continue;
            }
            let d = Diagnostic::warning(
                code::K8S_GATEWAY_YAML_1_1_BOOLEAN,
                format!("`{text}` unquoted is a boolean for Helm (YAML 1.1): the chart writes `{}` into the GatewayParameters, and the API server rejects it (a string map); gloo-istio reads it as the text \"{text}\"", !matches!(text.to_ascii_lowercase().as_str(), "n" | "no" | "false" | "off")),
            )
            .path(crate::values::layers::dotted_path(&entry))
            .at(Some(location))
            .help(format!("quote it: \"{text}\""));
            ctx.push(d);
        }
    }
}

/// The controller's Istio switch as the chart sets it (spec §2.6): `global.istioSDS` is not it.
fn istio_switch(ctx: &Ctx) -> bool {
    crate::values::on(ctx.model.values.global.istio_integration.enabled)
}

fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), |s| format!("`{s}`"))
}
