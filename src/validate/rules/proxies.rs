//! The names the proxy keys give: the chart names a proxy's Deployment (or DaemonSet), its
//! ConfigMap and its `gateway-proxy-id` label after the kebab-cased key (keys spec §1.2), so the
//! kebab-cased key must be a DNS-1123 label, and no two proxies may share it.

use std::collections::BTreeMap;

use super::Ctx;
use crate::diag::{Diagnostic, code};
use crate::values::Proxy;
use crate::values::layers::dotted_path;
use crate::values::names::is_dns_label;

const NAME_HELP: &str = "name the proxy with ASCII letters and digits (camelCase, kebab-case or snake_case), at most 63 characters once kebab-cased, such as publicGateway";

pub fn check(ctx: &mut Ctx) {
    let proxies = ctx.model.proxies.clone();
    let mut first_of: BTreeMap<&str, &Proxy> = BTreeMap::new();
    for proxy in &proxies {
        if !is_dns_label(&proxy.id) {
            let what = if proxy.id.is_empty() {
                "an empty resource name".to_string()
            } else {
                format!("the resource name `{}`, which is not a valid Kubernetes name", proxy.id)
            };
            let d = Diagnostic::error(code::PROXY_NAME, format!("the proxy key `{}` gives {what}", proxy.key))
                .path(dotted_path(&proxy.pointer))
                .at(ctx.at_key(&proxy.pointer))
                .help(NAME_HELP);
            ctx.push(d);
            continue;
        }
        let Some(first) = first_of.get(proxy.id.as_str()).copied() else {
            first_of.insert(&proxy.id, proxy);
            continue;
        };
        // Point at a key the user wrote: the later one, unless only the earlier one is theirs
        // (the other being the chart's own `gatewayProxy`).
        let (here, there) = if !ctx.user_set(&proxy.pointer) && ctx.user_set(&first.pointer) {
            (first, proxy)
        } else {
            (proxy, first)
        };
        let mut d = Diagnostic::error(
            code::PROXY_NAME,
            format!(
                "the proxy keys `{}` and `{}` both give the name `{}`, so their Deployments and ConfigMaps would replace each other",
                first.key, proxy.key, proxy.id
            ),
        )
        .path(dotted_path(&here.pointer))
        .at(ctx.at_key(&here.pointer))
        .help("give each proxy a key of its own name; keys that differ only in case, '-' or '_' give the same name");
        if let Some(location) = ctx
            .user_set(&there.pointer)
            .then(|| ctx.at_key(&there.pointer))
            .flatten()
        {
            d = d.related(location, format!("`{}` is here", there.key));
        }
        ctx.push(d);
    }
}
