//! The gateway proxies of the input: whether they run the sds sidecar, which clusters their
//! envoy bootstrap defines, and what their Istio agent (`istio-proxy`) is told.

use std::collections::BTreeMap;

use serde_json::Value;

use super::input::{Doc, string_map};
use crate::istio::SDS_CLUSTER;

pub(super) struct GatewayProxy<'a> {
    pub doc: &'a Doc,
    pub namespace: String,
    pub name: String,
    pub has_sds: bool,
    /// The cluster names of the bootstrap, when its ConfigMap is in the input and parses.
    pub clusters: Option<Vec<String>>,
    /// The index of the integration's `istio-proxy` container.
    pub istio_proxy: Option<usize>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl GatewayProxy<'_> {
    pub fn display(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The value of env var `name` of the `istio-proxy` container, with its JSON pointer.
    pub fn istio_env(&self, name: &str) -> Option<(&str, String)> {
        let i = self.istio_proxy?;
        let env = self
            .doc
            .value
            .pointer(&format!("/spec/template/spec/containers/{i}/env"))?
            .as_array()?;
        env.iter().enumerate().find_map(|(j, e)| {
            (e.get("name").and_then(Value::as_str) == Some(name))
                .then(|| e.get("value").and_then(Value::as_str))
                .flatten()
                .map(|v| (v, format!("/spec/template/spec/containers/{i}/env/{j}/value")))
        })
    }

    /// The `istio-proxy` image, with its JSON pointer.
    pub fn istio_image(&self) -> Option<(&str, String)> {
        let pointer = format!("/spec/template/spec/containers/{}/image", self.istio_proxy?);
        self.doc.str(&pointer).map(|image| (image, pointer))
    }

    /// Why this proxy cannot serve an sds source, if it cannot: `needs_cluster` when envoy
    /// reaches the sidecar through the `gateway_proxy_sds` bootstrap cluster.
    pub fn sds_missing(&self, needs_cluster: bool) -> Option<&'static str> {
        if !self.has_sds {
            Some("no sds sidecar")
        } else if needs_cluster
            && self
                .clusters
                .as_ref()
                .is_some_and(|c| !c.iter().any(|n| n == SDS_CLUSTER))
        {
            Some("no gateway_proxy_sds cluster in its bootstrap")
        } else {
            None
        }
    }
}

pub(super) fn gateway_proxies<'a>(docs: &'a [Doc], default_namespace: &str) -> Vec<GatewayProxy<'a>> {
    let ns = |d: &Doc| d.namespace().unwrap_or(default_namespace).to_string();
    let config_maps: BTreeMap<(String, String), &Doc> = docs
        .iter()
        .filter(|d| d.is("", "ConfigMap"))
        .map(|d| ((ns(d), d.name().to_string()), d))
        .collect();
    docs.iter()
        .filter(|d| {
            (d.is("apps", "Deployment") || d.is("apps", "DaemonSet"))
                && d.str("/metadata/labels/gloo") == Some("gateway-proxy")
        })
        .map(|doc| {
            let containers = doc
                .value
                .pointer("/spec/template/spec/containers")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let named = |name: &str| containers.iter().position(|c| c["name"] == name);
            let clusters = doc
                .value
                .pointer("/spec/template/spec/volumes")
                .and_then(Value::as_array)
                .and_then(|v| v.iter().find(|v| v["name"] == "envoy-config"))
                .and_then(|v| v.pointer("/configMap/name"))
                .and_then(Value::as_str)
                .and_then(|name| config_maps.get(&(ns(doc), name.to_string())))
                .and_then(|cm| cm.str("/data/envoy.yaml"))
                .and_then(|text| crate::yaml::parse_json(text).ok())
                .map(|bootstrap| {
                    bootstrap
                        .pointer("/static_resources/clusters")
                        .and_then(Value::as_array)
                        .map(|c| {
                            c.iter()
                                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default()
                });
            GatewayProxy {
                doc,
                namespace: ns(doc),
                name: doc.name().to_string(),
                has_sds: named("sds").is_some(),
                clusters,
                istio_proxy: named("istio-proxy"),
                labels: string_map(doc.value.pointer("/spec/template/metadata/labels")),
                annotations: string_map(doc.value.pointer("/spec/template/metadata/annotations")),
            }
        })
        .collect()
}
