//! The `upstreams:` entries (a gloo-istio extension) and their mTLS modes.

use std::collections::BTreeMap;

use super::Ctx;
use crate::diag::{Diagnostic, code};
use crate::values::UpstreamMtlsMode;
use crate::values::layers::dotted_path;
use crate::values::names;

pub fn check(ctx: &mut Ctx) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let upstreams = ctx.model.values.upstreams.clone();
    for (i, upstream) in upstreams.iter().enumerate() {
        let pointer = format!("/upstreams/{i}");
        let name = names::upstream_name(upstream);
        if !names::is_dns_subdomain(&name) {
            let field = if upstream.name.is_some() { "/name" } else { "" };
            let d = Diagnostic::error(
                code::UPSTREAM,
                format!("`{name}` is not a valid Kubernetes resource name"),
            )
            .path(dotted_path(&format!("{pointer}{field}")))
            .at(ctx.at(&format!("{pointer}{field}")))
            .help("use lower-case letters, digits, '-' and '.', at most 253 characters");
            ctx.push(d);
        }
        for (field, value) in [("service", &upstream.service), ("namespace", &upstream.namespace)] {
            if !names::is_dns_label(value) {
                let d = Diagnostic::error(
                    code::UPSTREAM,
                    format!("`{value}` is not a valid Kubernetes {field} name"),
                )
                .path(dotted_path(&format!("{pointer}/{field}")))
                .at(ctx.at(&format!("{pointer}/{field}")))
                .help("use at most 63 lower-case letters, digits and '-'");
                ctx.push(d);
            }
        }
        if upstream.port == 0 {
            let d = Diagnostic::error(code::UPSTREAM, "the Upstream port must be between 1 and 65535")
                .path(dotted_path(&format!("{pointer}/port")))
                .at(ctx.at(&format!("{pointer}/port")));
            ctx.push(d);
        }
        if let Some(first) = seen.insert(name.clone(), i) {
            let d = Diagnostic::error(
                code::UPSTREAM,
                format!("upstreams[{first}] and upstreams[{i}] are both named `{name}`"),
            )
            .path(dotted_path(&pointer))
            .at(ctx.at_key(&pointer))
            .help("give one of them a `name:`");
            ctx.push(d);
        }
        mode(ctx, i, ctx.model.upstream_mode(upstream));
    }
}

fn mode(ctx: &mut Ctx, i: usize, mode: UpstreamMtlsMode) {
    let pointer = format!("/upstreams/{i}/mtls");
    let path = format!("upstreams[{i}].mtls");
    match mode {
        UpstreamMtlsMode::IstioSds if !ctx.model.sds_on() => {
            let d = Diagnostic::error(
                code::UPSTREAM_MODE,
                "the Upstream uses the sds sslConfig, but no gateway proxy runs the sds sidecar or has the gateway_proxy_sds cluster",
            )
            .path(path)
            .at(ctx.at(&pointer))
            .help("set global.istioIntegration.enabled: true");
            ctx.push(d);
        }
        UpstreamMtlsMode::IstioFiles if ctx.model.auto_mtls_active() || ctx.model.istio_on() => {
            let d = Diagnostic::warning(
                code::UPSTREAM_MODE,
                "istio-files reads certificates from the istio.default secret, which Istio 1.1 and newer no longer create, while the values run a newer Istio integration",
            )
            .path(path)
            .at(ctx.at(&pointer))
            .help("use mtls: istio-sds (or auto) with the Istio integration");
            ctx.push(d);
        }
        _ => {}
    }
}
