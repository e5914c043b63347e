//! Switches that contradict each other, are deprecated, or do nothing (Istio spec §7.6, §7.16).

use super::Ctx;
use crate::diag::{Diagnostic, code};

pub fn check(ctx: &mut Ctx) {
    let integration = &ctx.model.values.global.istio_integration;
    let sds_switch = ctx.model.values.global.istio_sds.enabled == Some(true);
    let integration_on = integration.enabled == Some(true);

    if ctx.model.values.gateway.update_values == Some(true) {
        let d = Diagnostic::error(
            code::UNSUPPORTED,
            "`gateway.updateValues` needs the Helm template `gloo.updatevalues`, which the open-source chart does not define",
        )
        .path("gateway.updateValues")
        .at(ctx.at("/gateway/updateValues"))
        .help("remove the key; the chart itself fails to render with it");
        ctx.push(d);
    }

    // Istio spec §7.6: istioSDS.enabled gives the pods, not Settings enableIntegration.
    if sds_switch {
        let help = if integration_on {
            "remove it: istioIntegration.enabled already adds the same sidecars"
        } else {
            "use global.istioIntegration.enabled: true, which also turns on Settings enableIntegration (needed by auto-mTLS)"
        };
        let d = Diagnostic::warning(code::DEPRECATED, "`global.istioSDS.enabled` is deprecated")
            .path("global.istioSDS.enabled")
            .at(ctx.at("/global/istioSDS/enabled"))
            .help(help);
        ctx.push(d);
    }

    if integration.enable_auto_mtls == Some(true) && !integration_on {
        let d = Diagnostic::warning(
            code::AUTOMTLS_INERT,
            "`enableAutoMtls` is on but `global.istioIntegration.enabled` is not, so Gloo's auto-mTLS does nothing",
        )
        .path("global.istioIntegration.enableAutoMtls")
        .at(ctx.at("/global/istioIntegration/enableAutoMtls"))
        .help(
            "set global.istioIntegration.enabled: true (istioSDS.enabled does not turn on Settings enableIntegration)",
        );
        ctx.push(d);
    }

    let sidecar_on_gw = integration.enable_istio_sidecar_on_gateway == Some(true);
    if sidecar_on_gw && integration.disable_autoinjection == Some(true) {
        let d = Diagnostic::warning(
            code::CONFLICTING_FLAGS,
            "`enableIstioSidecarOnGateway` asks Istio to inject its sidecar, `disableAutoinjection` forbids it; the pods get `sidecar.istio.io/inject: \"false\"`",
        )
        .path("global.istioIntegration.enableIstioSidecarOnGateway")
        .at(ctx.at("/global/istioIntegration/enableIstioSidecarOnGateway"))
        .help("remove enableIstioSidecarOnGateway (deprecated); gloo still routes as if a sidecar were there");
        ctx.push(d);
    } else if sidecar_on_gw && ctx.model.istio_on() {
        let d = Diagnostic::warning(
            code::CONFLICTING_FLAGS,
            "`enableIstioSidecarOnGateway` injects Istio's own sidecar next to the istio-proxy that the integration adds: two Istio agents in one pod",
        )
        .path("global.istioIntegration.enableIstioSidecarOnGateway")
        .at(ctx.at("/global/istioIntegration/enableIstioSidecarOnGateway"))
        .help("remove enableIstioSidecarOnGateway (deprecated); the sds and istio-proxy sidecars already give the gateway mTLS");
        ctx.push(d);
    }

    if let Some(tag) = integration.istio_sidecar_rev_tag.as_deref().filter(|t| !t.is_empty())
        && !sidecar_on_gw
        && integration.label_install_namespace.0 != Some(true)
        && integration.whitelist_discovery.0 != Some(true)
    {
        let d = Diagnostic::warning(
            code::IGNORED_SETTING,
            format!("`istioSidecarRevTag: {tag}` has no effect without enableIstioSidecarOnGateway, labelInstallNamespace or whitelistDiscovery"),
        )
        .path("global.istioIntegration.istioSidecarRevTag")
        .at(ctx.at("/global/istioIntegration/istioSidecarRevTag"))
        .help("remove it; the Istio revision of the gateway's agent is chosen by istioDiscoveryAddress");
        ctx.push(d);
    }

    // Istio spec §7.16: these three keys only matter for the Kubernetes Gateway API proxy.
    for key in ["istioMetaMeshId", "istioMetaClusterId", "istioDiscoveryAddress"] {
        let pointer = format!("/global/glooMtls/istioProxy/{key}");
        if ctx.user_set(&pointer) {
            let d = Diagnostic::warning(
                code::IGNORED_SETTING,
                format!("`global.glooMtls.istioProxy.{key}` is ignored by Gloo Edge gateway proxies"),
            )
            .path(format!("global.glooMtls.istioProxy.{key}"))
            .at(ctx.at(&pointer))
            .help(format!("set gatewayProxies.<name>.{key} instead"));
            ctx.push(d);
        }
    }
    if ctx.user_set("/global/glooMtls/sds/sdsResources") {
        let d = Diagnostic::warning(
            code::IGNORED_SETTING,
            "`global.glooMtls.sds.sdsResources` is documented by the chart but never used",
        )
        .path("global.glooMtls.sds.sdsResources")
        .at(ctx.at("/global/glooMtls/sds/sdsResources"))
        .help("set global.glooMtls.sdsResources instead");
        ctx.push(d);
    }
}
