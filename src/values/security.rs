//! securityContext composition (Istio spec §1.6, gateway-proxy-keys spec §2.4).

use serde_json::{Map, Value, json};

use crate::values::merge_policy::{MergePolicy, WithMergePolicy};
use crate::values::{Model, PodTemplate, SeccompProfileType};

type Object = Map<String, Value>;

/// A value mergo counts as empty, which `fill` may replace.
fn empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(_) => false,
    }
}

/// sprig's `merge dst src`: keys of `src` fill keys of `dst` that are missing or empty; maps
/// recurse; lists are never merged. So a `true` in `src` turns a `false` in `dst` into `true`.
pub fn fill(dst: &mut Object, src: &Object) {
    for (key, value) in src {
        match dst.get_mut(key) {
            None => {
                dst.insert(key.clone(), value.clone());
            }
            Some(Value::Object(d)) => {
                if let Value::Object(s) = value {
                    fill(d, s);
                }
            }
            Some(existing) if empty(existing) => *existing = value.clone(),
            Some(_) => {}
        }
    }
}

/// The restricted profile's container defaults, when the values ask for them.
pub fn restricted_defaults(model: &Model) -> Option<Object> {
    let container = model
        .values
        .global
        .pod_security_standards
        .as_ref()?
        .container
        .as_ref()?;
    if container.enable_restricted_container_defaults != Some(true) {
        return None;
    }
    let seccomp = match container.default_seccomp_profile_type {
        Some(SeccompProfileType::Localhost) => "Localhost",
        _ => "RuntimeDefault",
    };
    match json!({
        "runAsNonRoot": true,
        "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": seccomp},
    }) {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Whether `global.securitySettings.floatingUserId` is on.
pub fn global_floating_user_id(model: &Model) -> bool {
    model
        .values
        .global
        .security_settings
        .as_ref()
        .and_then(|s| s.floating_user_id)
        == Some(true)
}

/// Combines the user's context with the defaults by its merge policy.
fn combine<T: serde::Serialize>(user: Option<&WithMergePolicy<T>>, defaults: Object) -> Object {
    let Some(user) = user else {
        return defaults;
    };
    let mut own = user.context_json();
    match user.merge_policy {
        MergePolicy::NoMerge => {
            if own.is_empty() {
                defaults
            } else {
                own
            }
        }
        MergePolicy::HelmMerge => {
            fill(&mut own, &defaults);
            own
        }
    }
}

/// A container's securityContext: `template_defaults` (empty for sds and istio-proxy) with the
/// restricted defaults filled in, combined with the user's context; `None` when empty.
pub fn container_context<T: serde::Serialize>(
    model: &Model,
    user: Option<&WithMergePolicy<T>>,
    mut template_defaults: Object,
) -> Option<Value> {
    if let Some(restricted) = restricted_defaults(model) {
        fill(&mut template_defaults, &restricted);
    }
    let mut result = combine(user, template_defaults);
    if global_floating_user_id(model) {
        result.remove("runAsUser");
    }
    (!result.is_empty()).then_some(Value::Object(result))
}

/// The gateway-proxy pod securityContext, or `None` when it is not rendered.
pub fn pod_context<T: serde::Serialize>(
    model: &Model,
    enabled: bool,
    user: Option<&WithMergePolicy<T>>,
    defaults: Object,
) -> Option<Value> {
    if !enabled || global_floating_user_id(model) {
        return None;
    }
    let result = combine(user, defaults);
    (!result.is_empty()).then_some(Value::Object(result))
}

/// The gateway-proxy pod's securityContext (gateway-proxy-keys spec §2.4): `fsGroup` and, unless
/// `floatingUserId`, `runAsUser` (both 10101 by default), combined with `podSecurityContext`.
pub fn gateway_proxy_pod_context(model: &Model, pod: &PodTemplate) -> Option<Value> {
    let mut defaults = Map::new();
    defaults.insert("fsGroup".into(), json!(pod.fs_group.unwrap_or(10101)));
    if pod.floating_user_id != Some(true) {
        defaults.insert("runAsUser".into(), json!(pod.run_as_user.unwrap_or(10101)));
    }
    pod_context(
        model,
        pod.enable_pod_security_context.unwrap_or(true),
        pod.pod_security_context.as_ref(),
        defaults,
    )
}

/// The chart's secure defaults for the envoy container, before the user's context.
pub fn envoy_container_defaults(pod: &PodTemplate) -> Object {
    let mut capabilities = Map::new();
    if !pod.disable_net_bind.unwrap_or(true) {
        capabilities.insert("add".into(), json!(["NET_BIND_SERVICE"]));
    }
    capabilities.insert("drop".into(), json!(["ALL"]));
    let mut defaults = Map::new();
    defaults.insert("allowPrivilegeEscalation".into(), json!(false));
    defaults.insert("capabilities".into(), Value::Object(capabilities));
    defaults.insert("readOnlyRootFilesystem".into(), json!(true));
    defaults.insert("runAsNonRoot".into(), json!(pod.run_unprivileged.unwrap_or(true)));
    if pod.floating_user_id != Some(true) {
        defaults.insert("runAsUser".into(), json!(pod.run_as_user.unwrap_or(10101)));
    }
    defaults
}

/// The envoy container's securityContext (gateway-proxy-keys spec §2.4): the chart's defaults
/// with the restricted ones filled in, combined with `glooContainerSecurityContext`.
pub fn envoy_container_context(model: &Model, pod: &PodTemplate) -> Option<Value> {
    container_context(
        model,
        pod.gloo_container_security_context.as_ref(),
        envoy_container_defaults(pod),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_merge_cannot_turn_true_into_false_and_replaces_lists() {
        // gateway-proxy-keys spec §2.4, reference case k4.
        let mut user =
            json!({"readOnlyRootFilesystem": false, "runAsNonRoot": false, "capabilities": {"add": ["NET_ADMIN"]}});
        let defaults = json!({"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                              "readOnlyRootFilesystem": true, "runAsNonRoot": true, "runAsUser": 20000});
        fill(user.as_object_mut().unwrap(), defaults.as_object().unwrap());
        assert_eq!(
            user,
            json!({"readOnlyRootFilesystem": true, "runAsNonRoot": true, "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
                   "allowPrivilegeEscalation": false, "runAsUser": 20000})
        );
    }
}
