//! The `proxyv2` image of the default istio-proxy sidecar (Istio spec §7.17, §7.20).

use super::{Ctx, IstioVersion};
use crate::diag::{Diagnostic, code};
use crate::values::image;

/// The chart's default proxyv2 tag.
const CHART_DEFAULT_TAG: &str = "1.22.0";

pub fn check(ctx: &mut Ctx) {
    if !ctx.model.default_istio_proxy() {
        return;
    }
    let global = &ctx.model.values.global;
    let merged = image::merged(&global.gloo_mtls.istio_proxy.image, &global.image);
    let reference = image::reference(&merged);
    let tag = merged.tag.clone().unwrap_or_default();
    let pointer = "/global/glooMtls/istioProxy/image/tag";
    let path = "global.glooMtls.istioProxy.image.tag";
    let pinned_by_digest = merged.digest.as_deref().is_some_and(|d| !d.is_empty());
    if (tag.is_empty() || tag == "latest") && !pinned_by_digest {
        let d = Diagnostic::warning(
            code::PROXYV2_IMAGE,
            format!("the istio-proxy image `{reference}` is not pinned to a version"),
        )
        .path(path)
        .at(ctx
            .at(pointer)
            .or_else(|| ctx.at_key("/global/glooMtls/istioProxy/image")))
        .help("set the tag of your istiod's version, e.g. 1.22.6: the agent must match its control plane");
        ctx.push(d);
        return;
    }
    let Ok(version) = tag.parse::<IstioVersion>() else {
        return;
    };
    if let Some(istiod) = ctx.options.istio_version {
        if version != istiod {
            let d = Diagnostic::warning(
                code::PROXYV2_IMAGE,
                format!("the istio-proxy image is Istio {version} but the cluster runs Istio {istiod}"),
            )
            .path(path)
            .at(ctx.at(pointer).or_else(|| ctx.at_key("/global/glooMtls")))
            .help(format!(
                "set global.glooMtls.istioProxy.image.tag to the {istiod}.x release of your istiod"
            ));
            ctx.push(d);
        }
    } else if tag == CHART_DEFAULT_TAG && !ctx.user_set(pointer) {
        let d = Diagnostic::info(
            code::PROXYV2_IMAGE,
            format!("the istio-proxy image is the chart's default `{reference}`, which must match your istiod"),
        )
        .path(path)
        .at(ctx
            .at_key("/global/istioIntegration")
            .or_else(|| ctx.at_key("/global/istioSDS")))
        .help("pin global.glooMtls.istioProxy.image.tag to your istiod's release, or pass --istio-version to check it");
        ctx.push(d);
    }
    if version < (IstioVersion { major: 1, minor: 7 }) {
        let d = Diagnostic::warning(
            code::PROXYV2_IMAGE,
            format!("the default istio-proxy sidecar (agent only, DISABLE_ENVOY, third-party JWT) needs Istio 1.7 or newer, not {version}"),
        )
        .path(path)
        .at(ctx.at(pointer))
        .help("use customSidecars with the sidecar of your Istio version (first-party JWT where tokens are not projected)");
        ctx.push(d);
    }
}
