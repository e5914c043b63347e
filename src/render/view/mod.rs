//! What the templates see: for each resource, the decisions of the chart already taken (which
//! containers, which labels, which image string), so that the templates only lay them out. One
//! module per template: the chart's fixed text (annotations, probes, hooks, arguments) lives in
//! the templates, and the Istio shapes come from `crate::istio`.

mod bootstrap;
mod config_map;
mod upstream;
mod workload;

use crate::values::on;
use serde::Serialize;
use serde_json::Value;

use crate::values::{Model, Proxy, Stats};

pub use bootstrap::{BootstrapView, OverloadManagerView, PrometheusView, bootstrap};
pub use config_map::{ConfigMapView, config_map};
pub use upstream::{UpstreamSslConfig, UpstreamView, istio_files_mode, upstream};
pub use workload::{AffinityView, EnvoyView, IstioProxyView, PodAnnotationsView, SdsView, WorkloadView, workload};

/// A label or annotation, kept in the chart's order.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub key: String,
    pub value: String,
}

fn entry(key: impl Into<String>, value: impl Into<String>) -> Entry {
    Entry {
        key: key.into(),
        value: value.into(),
    }
}

/// A value of the model as the templates print it, without the keys it leaves unset.
fn to_value<T: Serialize>(value: &T) -> Value {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    crate::values::proxy::strip_nulls(&mut v);
    v
}

/// `None` for what the chart's `{{- if }}` skips: null, an empty mapping, an empty list.
fn non_empty(value: Value) -> Option<Value> {
    match &value {
        Value::Object(m) if m.is_empty() => None,
        Value::Array(a) if a.is_empty() => None,
        Value::Null => None,
        _ => Some(value),
    }
}

/// The effective stats of a proxy (Istio spec §1.2 `STATS(P)`): its own `stats` when that is
/// set at all, else `global.glooStats`, as a whole.
pub fn effective_stats<'a>(model: &'a Model, proxy: &'a Proxy) -> &'a Stats {
    match &proxy.values.stats {
        Some(own) if *own != Stats::default() => own,
        _ => &model.values.global.gloo_stats,
    }
}

/// `metadata.labels` of the workload and the ConfigMap.
fn resource_labels(model: &Model, proxy: &Proxy) -> Vec<Entry> {
    let mut labels = vec![entry("app", "gloo")];
    for (k, v) in model.values.global.additional_labels.iter().flatten() {
        labels.push(entry(k, v));
    }
    labels.push(entry("gloo", "gateway-proxy"));
    labels.push(entry("gateway-proxy-id", &proxy.id));
    labels
}

/// The namespace of a proxy's resources: its own `namespace`, else the release's.
fn namespace(model: &Model, proxy: &Proxy) -> String {
    proxy
        .values
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| model.namespace.clone())
}

/// The address of envoy's admin interface (port 19000), which the probes, the preStop hook and
/// the bootstrap's admin cluster use.
fn loop_back_address(proxy: &Proxy) -> String {
    proxy
        .values
        .loop_back_address
        .clone()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "127.0.0.1".into())
}

/// The name of a proxy's ConfigMap, which the workload mounts.
fn config_map_name(proxy: &Proxy) -> String {
    format!("{}-envoy-config", proxy.id)
}

#[cfg(test)]
pub(super) mod tests {
    use crate::render::engine;
    use crate::validate::build_model;
    use crate::values::Model;
    use crate::values::layers::{CHART_DEFAULT_VERSION, LoadedValues};
    use crate::values::set_flags::parse_set_args;

    /// The model of the chart defaults with `set` applied.
    pub fn model(set: &[&str]) -> Model {
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        let layers = parse_set_args(&set).unwrap().into_iter().collect();
        let loaded = LoadedValues::new(layers, CHART_DEFAULT_VERSION);
        build_model(&loaded, "gloo-system", &Default::default()).unwrap().0
    }

    /// `template` of the embedded engine rendered with `view` as `name`, read back as JSON.
    pub fn rendered(template: &str, name: &'static str, view: &impl serde::Serialize) -> serde_json::Value {
        let text = engine::render(engine::embedded(), template, name, view).unwrap();
        crate::yaml::parse_json(&text).unwrap()
    }
}
