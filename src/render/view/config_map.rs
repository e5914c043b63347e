//! The view of `configmap.yaml`: the ConfigMap that carries a proxy's envoy bootstrap
//! (gateway-proxy-keys spec §4.1).

use serde::Serialize;
use serde_json::{Value, json};

use super::{Entry, config_map_name, namespace, resource_labels, to_value};
use crate::values::{Model, Proxy};

#[derive(Debug, Serialize)]
pub struct ConfigMapView {
    pub name: String,
    pub namespace: String,
    pub labels: Vec<Entry>,
    pub data: Value,
}

/// The ConfigMap: the user's `configMap.data` if set, else the rendered bootstrap.
pub fn config_map(model: &Model, proxy: &Proxy, bootstrap_text: Option<&str>) -> ConfigMapView {
    let data = match proxy
        .values
        .config_map
        .as_ref()
        .and_then(|c| c.data.as_ref())
        .filter(|d| !d.is_empty())
    {
        Some(user) => to_value(user),
        None => json!({"envoy.yaml": bootstrap_text.unwrap_or_default()}),
    };
    ConfigMapView {
        name: config_map_name(proxy),
        namespace: namespace(model, proxy),
        labels: resource_labels(model, proxy),
        data,
    }
}
