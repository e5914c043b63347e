//! The Istio facts that render and post-render must agree on: the volumes of the gateway-proxy
//! pod, the `gateway_proxy_sds` bootstrap cluster and the Upstream sslConfig shapes. Each is
//! defined here once; the templates and the stream edits both take it from here.

use serde_json::{Value, json};

/// The bootstrap cluster through which envoy reaches the sds sidecar (Istio spec §3.1).
pub const SDS_CLUSTER: &str = "gateway_proxy_sds";

/// The port the sds sidecar serves on, on the pod's loopback address.
pub const SDS_PORT: u16 = 8234;

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// The Istio volumes of a gateway-proxy pod, in the chart's order (Istio spec §2.7).
pub const ISTIO_VOLUMES: [&str; 7] = [
    "istio-certs",
    "istiod-ca-cert",
    "istio-envoy",
    "istio-token",
    "credential-socket",
    "workload-socket",
    "workload-certs",
];

/// The sidecar that serves the Istio certificates to envoy over SDS (Istio spec §2.4).
pub const SDS_CONTAINER: &str = "sds";

/// The chart's default Istio sidecar (Istio spec §2.5).
pub const ISTIO_PROXY_CONTAINER: &str = "istio-proxy";

/// The volume of the certificates Istio's sidecar writes to files, mounted on envoy for
/// Upstreams in istio-files mode (Istio spec §4.2).
pub const ISTIO_FILES_VOLUME: &str = "istio-default-certs";

/// The sslConfig of Istio spec §4.1.
pub fn istio_ssl_config() -> Value {
    json!({
        "alpnProtocols": ["istio"],
        "sds": {
            "certificatesSecretName": "istio_server_cert",
            "clusterName": SDS_CLUSTER,
            "targetUri": format!("127.0.0.1:{SDS_PORT}"),
            "validationContextName": "istio_validation_context",
        },
    })
}

/// The sslConfig of Istio spec §4.2: the certificates Istio's sidecar writes to files.
pub fn istio_files_ssl_config() -> Value {
    json!({
        "sslFiles": {
            "tlsCert": "/etc/certs/cert-chain.pem",
            "tlsKey": "/etc/certs/key.pem",
            "rootCa": "/etc/certs/root-cert.pem",
        },
    })
}

/// Whether an sslConfig is one of the Istio shapes of Istio spec §4.1 and §4.2.
pub fn is_istio_ssl_config(ssl: &Value) -> bool {
    if let Some(sds) = ssl.get("sds") {
        let cluster = str_at(sds, "/clusterName");
        let target = str_at(sds, "/targetUri").unwrap_or("");
        let cert = str_at(sds, "/certificatesSecretName").unwrap_or("");
        return cluster == Some(SDS_CLUSTER)
            || (cert == "istio_server_cert" && target.starts_with(&format!("127.0.0.1:{SDS_PORT}")))
            || target.starts_with("unix:/var/run/sds");
    }
    if let Some(files) = ssl.get("sslFiles") {
        return str_at(files, "/rootCa").is_some_and(|p| p.starts_with("/etc/certs/"));
    }
    false
}

/// The `gateway_proxy_sds` cluster (Istio spec §3.1).
pub fn sds_cluster() -> Value {
    json!({
        "name": SDS_CLUSTER,
        "connect_timeout": "0.25s",
        "http2_protocol_options": {},
        "load_assignment": {
            "cluster_name": SDS_CLUSTER,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": SDS_PORT}}}}]}],
        },
    })
}
