//! Choices that weaken what the chart's pods keep by default: a non-root user, a read-only root
//! file system, no privilege escalation, every capability dropped; and Istio sidecar settings
//! that let the mesh's own traffic go unauthenticated (issue: secure defaults).
//!
//! Only what the values choose is reported: the chart's own defaults for the sds and istio-proxy
//! sidecars are what Istio needs and are not findings.

use k8s_openapi::api::core::v1::{Container, SecurityContext};
use serde_json::Value;

use super::Ctx;
use crate::diag::{Diagnostic, code};
use crate::values::Proxy;
use crate::values::security;

pub fn check(ctx: &mut Ctx) {
    floating_user_with_fixed_user(ctx);
    for proxy in ctx.model.proxies.clone() {
        envoy_container(ctx, &proxy);
        pod_context(ctx, &proxy);
    }
    sidecar_contexts(ctx);
    custom_sidecars(ctx);
}

/// `floatingUserId` drops `runAsUser`; a user the values fix next to it is dropped without a word.
fn floating_user_with_fixed_user(ctx: &mut Ctx) {
    let global = security::global_floating_user_id(ctx.model);
    for proxy in ctx.model.proxies.clone() {
        let pod = proxy.values.pod_template.clone().unwrap_or_default();
        let pod_floating = pod.floating_user_id == Some(true);
        if !global && !pod_floating {
            continue;
        }
        let switch = if global {
            "global.securitySettings.floatingUserId".to_string()
        } else {
            ctx.proxy_path(&proxy, "/podTemplate/floatingUserId")
        };
        // With the pod's switch, a runAsUser in a helm-merge or no-merge context survives
        // (gateway-proxy-keys spec §2.4 case 31); only `podTemplate.runAsUser` is dropped.
        let mut fixed = vec!["/podTemplate/runAsUser"];
        if global {
            fixed.extend([
                "/podTemplate/podSecurityContext/runAsUser",
                "/podTemplate/glooContainerSecurityContext/runAsUser",
            ]);
        }
        for field in fixed {
            let pointer = format!("{}{field}", proxy.pointer);
            let default_pointer = format!("/gatewayProxies/gatewayProxy{field}");
            if !ctx.user_set(&pointer) && !ctx.user_set(&default_pointer) {
                continue;
            }
            let d = Diagnostic::warning(
                code::WEAKENED_SECURITY,
                format!("{switch} drops this runAsUser: the pod runs as whatever user the platform assigns, not the one fixed here"),
            )
            .path(ctx.proxy_path(&proxy, field))
            .at(ctx.proxy_at(&proxy, field))
            .help("keep one: floatingUserId (OpenShift's restricted SCC assigns the user) or a fixed runAsUser");
            ctx.push(d);
        }
        if global && pod.pod_security_context.is_some() {
            let field = "/podTemplate/podSecurityContext";
            let d = Diagnostic::warning(
                code::WEAKENED_SECURITY,
                "global.securitySettings.floatingUserId drops the whole gateway-proxy pod securityContext, with every setting given here",
            )
            .path(ctx.proxy_path(&proxy, field))
            .at(ctx.proxy_at(&proxy, field))
            .help("move the settings that matter (seccompProfile, runAsNonRoot) to the container contexts, or drop floatingUserId");
            ctx.push(d);
        }
    }
}

/// What an effective container securityContext has lost of the chart's secure set.
fn weakened(context: Option<&Value>) -> Vec<&'static str> {
    let get = |pointer: &str| context.and_then(|c| c.pointer(pointer));
    let mut lost = Vec::new();
    if get("/privileged") == Some(&Value::Bool(true)) {
        lost.push("privileged: true");
    }
    if get("/allowPrivilegeEscalation") != Some(&Value::Bool(false)) {
        lost.push("privilege escalation allowed");
    }
    if get("/readOnlyRootFilesystem") != Some(&Value::Bool(true)) {
        lost.push("a writable root file system");
    }
    let root_user = get("/runAsUser").and_then(Value::as_i64) == Some(0);
    if root_user {
        lost.push("runAsUser: 0 (root)");
    } else if get("/runAsNonRoot") != Some(&Value::Bool(true)) {
        lost.push("runAsNonRoot not true");
    }
    let drops_all = get("/capabilities/drop")
        .and_then(Value::as_array)
        .is_some_and(|d| d.iter().any(|c| c.as_str() == Some("ALL")));
    if !drops_all {
        lost.push("capabilities not dropped (drop: [ALL])");
    }
    let adds = get("/capabilities/add").and_then(Value::as_array);
    if adds.is_some_and(|a| a.iter().any(|c| c.as_str() != Some("NET_BIND_SERVICE"))) {
        lost.push("capabilities added beyond NET_BIND_SERVICE");
    }
    lost
}

/// The envoy container: the chart's context keeps every protection; values can lose them
/// (`runUnprivileged: false`, a `glooContainerSecurityContext` that replaces the defaults).
fn envoy_container(ctx: &mut Ctx, proxy: &Proxy) {
    let pod = proxy.values.pod_template.clone().unwrap_or_default();
    let effective = security::envoy_container_context(ctx.model, &pod);
    let lost = weakened(effective.as_ref());
    if lost.is_empty() {
        return;
    }
    let field = [
        "/podTemplate/glooContainerSecurityContext",
        "/podTemplate/runUnprivileged",
    ]
    .into_iter()
    .find(|field| {
        ctx.user_set(&format!("{}{field}", proxy.pointer))
            || ctx.user_set(&format!("/gatewayProxies/gatewayProxy{field}"))
    })
    .unwrap_or("/podTemplate/glooContainerSecurityContext");
    let no_merge = pod
        .gloo_container_security_context
        .as_ref()
        .is_some_and(|c| c.merge_policy == crate::values::merge_policy::MergePolicy::NoMerge);
    let help = if no_merge && field.ends_with("glooContainerSecurityContext") {
        "without `mergePolicy: helm-merge` this context replaces the chart's whole secure default; merge it, or add the lost settings back"
    } else {
        "keep runAsNonRoot, readOnlyRootFilesystem, allowPrivilegeEscalation: false and capabilities.drop [ALL]"
    };
    let d = Diagnostic::warning(
        code::WEAKENED_SECURITY,
        format!(
            "the envoy container of gateway proxy {} loses the chart's secure securityContext: {}",
            proxy.key,
            lost.join(", ")
        ),
    )
    .path(ctx.proxy_path(proxy, field))
    .at(ctx.proxy_at(proxy, field))
    .help(help);
    ctx.push(d);
}

/// The pod context: a root user or `runAsNonRoot: false` chosen for the whole pod.
fn pod_context(ctx: &mut Ctx, proxy: &Proxy) {
    let pod = proxy.values.pod_template.clone().unwrap_or_default();
    let Some(context) = security::gateway_proxy_pod_context(ctx.model, &pod) else {
        return;
    };
    let root = context.get("runAsUser").and_then(Value::as_i64) == Some(0);
    let non_root_off = context.get("runAsNonRoot") == Some(&Value::Bool(false));
    if !root && !non_root_off {
        return;
    }
    let field = if root && ctx.user_set(&format!("{}/podTemplate/runAsUser", proxy.pointer)) {
        "/podTemplate/runAsUser"
    } else {
        "/podTemplate/podSecurityContext"
    };
    let what = if root {
        "runs as root (runAsUser: 0)"
    } else {
        "allows root (runAsNonRoot: false)"
    };
    let d = Diagnostic::warning(
        code::WEAKENED_SECURITY,
        format!("the pod of gateway proxy {} {what}", proxy.key),
    )
    .path(ctx.proxy_path(proxy, field))
    .at(ctx.proxy_at(proxy, field))
    .help("envoy needs no root: keep the chart's user 10101, or any non-zero user");
    ctx.push(d);
}

/// What a user-written container context turns on that no sidecar of the integration needs.
fn dangerous(context: &SecurityContext) -> Vec<&'static str> {
    let mut found = Vec::new();
    if context.privileged == Some(true) {
        found.push("privileged: true");
    }
    if context.allow_privilege_escalation == Some(true) {
        found.push("allowPrivilegeEscalation: true");
    }
    if context.run_as_user == Some(0) {
        found.push("runAsUser: 0 (root)");
    }
    if context.run_as_non_root == Some(false) {
        found.push("runAsNonRoot: false");
    }
    found
}

/// The sds and istio-proxy containers' contexts, as the values write them.
fn sidecar_contexts(ctx: &mut Ctx) {
    let mtls = &ctx.model.values.global.gloo_mtls;
    let contexts = [
        (
            "/global/glooMtls/sds/securityContext",
            "sds",
            mtls.sds.security_context.clone(),
        ),
        (
            "/global/glooMtls/istioProxy/securityContext",
            "istio-proxy",
            mtls.istio_proxy.security_context.clone(),
        ),
    ];
    for (pointer, name, context) in contexts {
        let Some(context) = context else { continue };
        let found = dangerous(&context.context);
        if found.is_empty() || !ctx.user_set(pointer) {
            continue;
        }
        let d = Diagnostic::warning(
            code::WEAKENED_SECURITY,
            format!("the {name} sidecar's securityContext sets {}", found.join(", ")),
        )
        .path(crate::values::layers::dotted_path(pointer))
        .at(ctx.at_key(pointer))
        .help("neither sidecar needs root or privileges: remove these settings");
        ctx.push(d);
    }
}

/// Whether `args` set the istio agent's `--controlPlaneAuthPolicy` to `NONE`.
fn control_plane_auth_none(args: &[String]) -> Option<usize> {
    args.iter().enumerate().find_map(|(i, arg)| {
        let value = match arg.strip_prefix("--controlPlaneAuthPolicy") {
            Some("") => args.get(i + 1).map(String::as_str),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        };
        value
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("NONE"))
            .then_some(i)
    })
}

fn custom_sidecars(ctx: &mut Ctx) {
    let Some(sidecars) = ctx.model.custom_sidecars().map(<[Container]>::to_vec) else {
        return;
    };
    for (i, sidecar) in sidecars.iter().enumerate() {
        let pointer = format!("/global/istioSDS/customSidecars/{i}");
        let path = format!("global.istioSDS.customSidecars[{i}]");
        if let Some(context) = &sidecar.security_context {
            let found = dangerous(context);
            if !found.is_empty() {
                let d = Diagnostic::warning(
                    code::WEAKENED_SECURITY,
                    format!("custom sidecar `{}` sets {}", sidecar.name, found.join(", ")),
                )
                .path(format!("{path}.securityContext"))
                .at(ctx.at_key(&format!("{pointer}/securityContext")))
                .help(
                    "the istio agent runs as non-root without privileges (Istio's own injection sets runAsUser 1337)",
                );
                ctx.push(d);
            }
        }
        if let Some(at) = control_plane_auth_none(sidecar.args.as_deref().unwrap_or_default()) {
            let d = Diagnostic::warning(
                code::WEAKENED_SECURITY,
                format!(
                    "custom sidecar `{}` sets --controlPlaneAuthPolicy NONE: it talks to istiod without mutual TLS",
                    sidecar.name
                ),
            )
            .path(format!("{path}.args[{at}]"))
            .at(ctx.at(&format!("{pointer}/args/{at}")))
            .help("use MUTUAL_TLS (istiod authenticates the proxy by its certificate), or drop the flag");
            ctx.push(d);
        }
        let first_party = sidecar.env.iter().flatten().enumerate().find(|(_, env)| {
            env.name == "JWT_POLICY" && env.value.as_deref().is_some_and(|v| v.trim() == "first-party-jwt")
        });
        if let Some((at, _)) = first_party {
            let d = Diagnostic::warning(
                code::WEAKENED_SECURITY,
                format!(
                    "custom sidecar `{}` uses JWT_POLICY first-party-jwt: it hands istiod the pod's own Kubernetes API token, valid for every API server call and not bound to istio-ca",
                    sidecar.name
                ),
            )
            .path(format!("{path}.env[{at}].value"))
            .at(ctx.at(&format!("{pointer}/env/{at}/value")))
            .help("every supported Kubernetes version projects service account tokens: use third-party-jwt with the projected istio-token volume (audience istio-ca), as the default sidecar does");
            ctx.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_plane_auth_policy_in_both_spellings() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            control_plane_auth_none(&args(&["proxy", "--controlPlaneAuthPolicy", "NONE"])),
            Some(1)
        );
        assert_eq!(
            control_plane_auth_none(&args(&["--controlPlaneAuthPolicy=NONE"])),
            Some(0)
        );
        assert_eq!(
            control_plane_auth_none(&args(&["--controlPlaneAuthPolicy", "MUTUAL_TLS"])),
            None
        );
        assert_eq!(control_plane_auth_none(&args(&["--controlPlaneAuthPolicy"])), None);
    }

    #[test]
    fn the_chart_envoy_context_is_not_weakened_and_a_bare_one_is() {
        let chart = serde_json::json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": true, "runAsNonRoot": true, "runAsUser": 10101});
        assert!(weakened(Some(&chart)).is_empty());
        assert_eq!(weakened(None).len(), 4);
        let root = serde_json::json!({"runAsUser": 0});
        assert!(weakened(Some(&root)).contains(&"runAsUser: 0 (root)"));
    }
}
