//! `customSidecars`: ignored without a switch, and easy to get wrong (Istio spec §2.6, §7.9).

use std::collections::BTreeMap;

use super::Ctx;
use crate::diag::{Diagnostic, code};

pub fn check(ctx: &mut Ctx) {
    let Some(sidecars) = ctx
        .model
        .values
        .global
        .istio_sds
        .custom_sidecars
        .as_deref()
        .filter(|s| !s.is_empty())
    else {
        return;
    };
    if !ctx.model.istio_on() {
        let d = Diagnostic::warning(
            code::IGNORED_SETTING,
            "`customSidecars` is ignored: neither istioIntegration.enabled nor istioSDS.enabled is on",
        )
        .path("global.istioSDS.customSidecars")
        .at(ctx.at_key("/global/istioSDS/customSidecars"))
        .help("set global.istioIntegration.enabled: true, or remove the sidecars");
        ctx.push(d);
        return;
    }
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut has_istio_proxy = false;
    for (i, sidecar) in sidecars.iter().enumerate() {
        let pointer = format!("/global/istioSDS/customSidecars/{i}");
        let name = sidecar.name.as_str();
        if name == "sds" {
            let d = Diagnostic::error(
                code::CUSTOM_SIDECARS,
                "a custom sidecar is named `sds`, like the sds container the integration adds",
            )
            .path(format!("global.istioSDS.customSidecars[{i}].name"))
            .at(ctx.at(&format!("{pointer}/name")))
            .help("rename it; Kubernetes rejects two containers with one name");
            ctx.push(d);
        }
        if let Some(first) = names.insert(name, i) {
            let d = Diagnostic::error(
                code::CUSTOM_SIDECARS,
                format!("customSidecars[{first}] and customSidecars[{i}] are both named `{name}`"),
            )
            .path(format!("global.istioSDS.customSidecars[{i}].name"))
            .at(ctx.at(&format!("{pointer}/name")))
            .help("rename one; Kubernetes rejects two containers with one name");
            ctx.push(d);
        }
        if name != "istio-proxy" {
            continue;
        }
        has_istio_proxy = true;
        let writes_certs = sidecar.env.iter().flatten().any(|e| {
            e.name == "OUTPUT_CERTS"
                && e.value
                    .as_deref()
                    .is_some_and(|v| v.trim_end_matches('/') == "/etc/istio-certs")
        });
        if !writes_certs {
            let d = Diagnostic::warning(code::CUSTOM_SIDECARS, "the custom istio-proxy does not set OUTPUT_CERTS=/etc/istio-certs, so the sds sidecar never gets certificates")
                .path(format!("global.istioSDS.customSidecars[{i}].env"))
                .at(ctx.at_key(&format!("{pointer}/env")).or_else(|| ctx.at_key(&pointer)))
                .help("add env OUTPUT_CERTS with value /etc/istio-certs");
            ctx.push(d);
        }
        let mounts_certs = sidecar
            .volume_mounts
            .iter()
            .flatten()
            .any(|m| m.name == "istio-certs" && m.mount_path.trim_end_matches('/') == "/etc/istio-certs");
        if !mounts_certs {
            let d = Diagnostic::warning(code::CUSTOM_SIDECARS, "the custom istio-proxy does not mount the istio-certs volume at /etc/istio-certs/, which the sds sidecar reads")
                .path(format!("global.istioSDS.customSidecars[{i}].volumeMounts"))
                .at(ctx.at_key(&format!("{pointer}/volumeMounts")).or_else(|| ctx.at_key(&pointer)))
                .help("add the volumeMount {name: istio-certs, mountPath: /etc/istio-certs/}");
            ctx.push(d);
        }
    }
    if !has_istio_proxy {
        let d = Diagnostic::warning(code::CUSTOM_SIDECARS, "no custom sidecar is named istio-proxy: nothing writes the Istio certificates, and the sds sidecar keeps failing")
            .path("global.istioSDS.customSidecars")
            .at(ctx.at_key("/global/istioSDS/customSidecars"))
            .help("include an istio agent container named istio-proxy, or remove customSidecars to get the default one");
        ctx.push(d);
    }
}
